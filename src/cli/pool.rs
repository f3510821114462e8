//! A small pool of worker threads fed by the calling thread, for the fleet commands: the
//! caller collects or reads one host after another and hands each to a worker, which evaluates
//! and writes it; what the workers finish is taken back on the calling thread, which keeps the
//! books.
//!
//! A submission waits until a worker takes it, so besides the jobs being worked on at most one
//! waits in the caller's hands. After a job fails no further job is run: the workers keep
//! receiving (and dropping) what is still submitted, so the caller never waits for ever, and
//! the first error is returned once every worker has stopped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

use anyhow::anyhow;

use super::commands::{CliError, ExitCodeExt, EXIT_INPUT};

/// The calling thread's side of a running pool: `state` is the caller's, updated with `record`
/// for every job a worker finished.
pub struct Feeder<'s, J, D, S> {
    pub state: &'s mut S,
    record: fn(&mut S, D),
    jobs: mpsc::SyncSender<J>,
    done: mpsc::Receiver<Result<D, CliError>>,
}

impl<J, D, S> Feeder<'_, J, D, S> {
    /// Hands `job` to a worker, after recording what the workers finished; fails with the
    /// first worker's error, after which nothing more should be submitted.
    pub fn submit(&mut self, job: J) -> Result<(), CliError> {
        self.take_finished()?;
        self.jobs
            .send(job)
            .map_err(|_| anyhow!("the worker threads stopped"))
            .code(EXIT_INPUT)
    }

    fn take_finished(&mut self) -> Result<(), CliError> {
        while let Ok(done) = self.done.try_recv() {
            (self.record)(self.state, done?);
        }
        Ok(())
    }

    /// Waits for the workers to finish every job handed out and records them.
    fn finish(self) -> Result<(), CliError> {
        drop(self.jobs);
        let mut first = Ok(());
        for done in self.done {
            match done {
                Ok(done) => (self.record)(self.state, done),
                Err(e) if first.is_ok() => first = Err(e),
                Err(_) => {}
            }
        }
        first
    }
}

/// Runs `feed` on this thread while `workers` threads apply `work` to the jobs it submits;
/// each result is recorded into `state` with `record`, on this thread. Returns `feed`'s error,
/// else the first error of `work`.
pub fn run<J: Send, D: Send, S>(
    workers: usize,
    state: &mut S,
    record: fn(&mut S, D),
    work: &(dyn Fn(J) -> Result<D, CliError> + Sync),
    feed: impl FnOnce(&mut Feeder<'_, J, D, S>) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let (jobs, queue) = mpsc::sync_channel::<J>(0);
    let (done_tx, done) = mpsc::channel();
    let queue = Mutex::new(queue);
    let failed = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for n in 0..workers.max(1) {
            let worker_tx = done_tx.clone();
            let (queue, failed) = (&queue, &failed);
            let spawned = std::thread::Builder::new()
                .name(format!("worker-{n}"))
                .spawn_scoped(scope, move || loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    if failed.load(Ordering::Relaxed) {
                        continue;
                    }
                    let result = work(job);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    let _ = worker_tx.send(result);
                });
            if let Err(e) = spawned {
                failed.store(true, Ordering::Relaxed);
                let _ = done_tx.send(Err(CliError {
                    code: EXIT_INPUT,
                    error: anyhow!(e).context("cannot start a worker thread"),
                }));
                break;
            }
        }
        drop(done_tx);
        let mut feeder = Feeder {
            state,
            record,
            jobs,
            done,
        };
        let fed = feed(&mut feeder);
        let finished = feeder.finish();
        fed.and(finished)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(message: &str) -> CliError {
        CliError {
            code: EXIT_INPUT,
            error: anyhow!(message.to_string()),
        }
    }

    fn record(seen: &mut Vec<u32>, n: u32) {
        seen.push(n);
    }

    #[test]
    fn every_job_is_recorded_once_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let work = |n: u32| Ok(n * 2);
        let mut seen = Vec::new();
        run(3, &mut seen, record, &work, |f| {
            for n in 0..200 {
                f.submit(n)?;
                assert_eq!(std::thread::current().id(), caller);
            }
            Ok(())
        })
        .map_err(|e| e.error)
        .unwrap();
        seen.sort();
        assert_eq!(seen, (0..200).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_job_stops_the_run_without_blocking_the_feeder() {
        // Job 5 fails; the feeder goes on submitting until it learns of it, and must never
        // block on workers that stopped working.
        let work = |n: u32| {
            if n == 5 {
                Err(fail("job 5 failed"))
            } else {
                std::thread::sleep(std::time::Duration::from_millis(2));
                Ok(n)
            }
        };
        let mut seen = Vec::new();
        let mut submitted = 0;
        let result = run(2, &mut seen, record, &work, |f| {
            for n in 0..1000 {
                f.submit(n)?;
                submitted += 1;
            }
            Ok(())
        });
        let e = result.unwrap_err();
        assert!(e.error.to_string().contains("job 5 failed"), "{}", e.error);
        assert!(submitted < 1000, "the feeder was not stopped");
        assert!(!seen.contains(&5));
        // Nothing runs once the failure is known: only jobs already taken may finish.
        assert!(seen.len() < 20, "{} jobs ran after the failure", seen.len());
    }

    #[test]
    fn the_feeders_error_is_returned_after_the_workers_finish() {
        let work = |n: u32| Ok(n);
        let mut seen = Vec::new();
        let result = run(2, &mut seen, record, &work, |f| {
            f.submit(1)?;
            f.submit(2)?;
            Err(fail("cannot read the next snapshot"))
        });
        assert!(result
            .unwrap_err()
            .error
            .to_string()
            .contains("next snapshot"));
        seen.sort();
        assert_eq!(seen, [1, 2]);
    }
}
