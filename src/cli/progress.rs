//! Word on stderr while the engine is slow to answer: a collection that has not finished after
//! two seconds says what it is waiting for, and says it again every ten seconds, so a hung
//! engine is told apart from a hung tool. Shown on a terminal or with `-v`, never with
//! `--quiet`; the caller decides.

use std::future::Future;
use std::time::{Duration, Instant};

use super::terminal::note;

/// First word after this long without a result.
const FIRST: Duration = Duration::from_secs(2);
/// Then again this often.
const AGAIN: Duration = Duration::from_secs(10);

/// Runs `work` to completion; while it runs and `show` is set, notes that it is still waiting
/// for `endpoint`.
pub async fn while_waiting<T>(work: impl Future<Output = T>, endpoint: &str, show: bool) -> T {
    if !show {
        return work.await;
    }
    let started = Instant::now();
    let endpoint = dockproof::text::terminal(endpoint).into_owned();
    tokio::pin!(work);
    let mut wait = FIRST;
    loop {
        tokio::select! {
            result = &mut work => return result,
            () = tokio::time::sleep(wait) => {
                note!(
                    "still waiting for {endpoint} to answer ({} s)…",
                    started.elapsed().as_secs()
                );
                wait = AGAIN;
            }
        }
    }
}
