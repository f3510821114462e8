//! Collecting a fleet: every target through [`crate::collect::collect`], a bounded number at a
//! time, each within its own timeout.
//!
//! Outcomes are handed over one by one through a bounded channel as they finish, so the caller
//! evaluates and writes each host while others are still being collected, and at most
//! `limit + 1` snapshots are held at once whatever the size of the fleet. A target that fails or
//! times out becomes an outcome with the reason: it is never dropped.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::collect::{self, CollectOptions};
use crate::snapshot::Snapshot;

/// One target's outcome.
#[derive(Debug)]
pub struct Collected {
    /// Index of the target in the list given to [`collect_all`].
    pub index: usize,
    /// The snapshot, or why there is none.
    pub result: Result<Snapshot, String>,
}

/// Collects `targets` (at most `limit` at a time, each within `timeout`) and sends every
/// outcome to `tx`. Returns when every target has been sent, or early when `tx` is closed.
pub async fn collect_all(
    targets: Vec<CollectOptions>,
    limit: usize,
    timeout: Duration,
    tx: mpsc::Sender<Collected>,
) {
    futures::stream::iter(targets.into_iter().enumerate())
        .for_each_concurrent(limit.max(1), |(index, opts)| {
            let tx = tx.clone();
            async move {
                let result = match tokio::time::timeout(timeout, collect::collect(&opts)).await {
                    Ok(Ok(snapshot)) => Ok(snapshot),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!(
                        "collection did not finish within the target timeout of {} s",
                        timeout.as_secs()
                    )),
                };
                // A closed channel means the consumer gave up (an error writing the bundle);
                // the remaining outcomes have nowhere to go.
                let _ = tx.send(Collected { index, result }).await;
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreachable_and_hung_targets_come_back_with_their_reason() {
        let dir = tempfile::tempdir().unwrap();
        // A socket that accepts and never answers: the timeout must fire.
        let hung = dir.path().join("hung.sock");
        let _listener = tokio::net::UnixListener::bind(&hung).unwrap();
        let target = |host: String| CollectOptions {
            docker_host: Some(host),
            concurrency: 1,
            images: collect::ImageSelection::None,
            ..CollectOptions::default()
        };
        let targets = vec![
            target(format!(
                "unix://{}",
                dir.path().join("missing.sock").display()
            )),
            target(format!("unix://{}", hung.display())),
        ];
        let (tx, mut rx) = mpsc::channel(1);
        let run = tokio::spawn(collect_all(targets, 2, Duration::from_secs(1), tx));
        let mut outcomes = Vec::new();
        while let Some(c) = rx.recv().await {
            outcomes.push(c);
        }
        run.await.unwrap();
        outcomes.sort_by_key(|c| c.index);
        assert_eq!(outcomes.len(), 2);
        let missing = outcomes[0].result.as_ref().unwrap_err();
        assert!(missing.contains("no such socket"), "{missing}");
        let hung = outcomes[1].result.as_ref().unwrap_err();
        assert!(hung.contains("target timeout of 1 s"), "{hung}");
    }
}
