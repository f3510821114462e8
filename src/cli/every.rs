//! `collect --every`: the flags, and the rounds wired from the collect stage and
//! [`dockproof::schedule`]. A round that finds no engine is logged and recorded, never fatal:
//! a DaemonSet on a node without Docker must not crash-loop.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;

use dockproof::schedule::{self, Outcome, RoundStatus, SnapshotDir};
use dockproof::scope::HostProfile;
use dockproof::text::terminal;

use super::commands::{collect_snapshot, snapshot_bytes, CliError, EXIT_COLLECT, EXIT_INPUT};
use super::terminal::note;
use super::TargetArgs;

/// Collecting on an interval.
#[derive(Debug, Args)]
pub struct EveryArgs {
    /// Collect every DURATION (`30s`, `15m`, `1h30m`, `1d`) until SIGTERM or SIGINT, writing a
    /// new `<node>-<UTC time>.snapshot.json` into the directory given with -o (never replacing
    /// a file) and `<node>.status` with the last round's outcome. A round without a reachable
    /// engine is logged as "no engine" and the collector keeps running.
    #[arg(long, value_name = "DURATION", value_parser = schedule::parse_interval)]
    pub every: Option<Duration>,
    /// Name of this node in the file names; default: NODE_NAME (the Kubernetes downward API),
    /// else the host name. Made safe for a file name.
    #[arg(long, value_name = "NAME", env = "NODE_NAME", requires = "every")]
    pub node_name: Option<String>,
    /// Keep only this node's newest N snapshots in the directory (default: keep all).
    #[arg(long, value_name = "N", requires = "every", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: Option<u32>,
}

/// Runs rounds every `interval` (start to start; a round longer than the interval is followed
/// at once by the next) until a stop is requested. Exit 0 on SIGTERM/SIGINT; 2 when the
/// directory cannot be written or the target selection is wrong, which no later round fixes.
pub fn run(
    target: &TargetArgs,
    dir: &Path,
    every: &EveryArgs,
    interval: Duration,
    profile: &Option<HostProfile>,
    verbose: u8,
) -> Result<ExitCode, CliError> {
    let node = schedule::node_name(every.node_name.as_deref());
    let snapshots = SnapshotDir::open(dir, &node).map_err(|e| CliError {
        code: EXIT_INPUT,
        error: e.into(),
    })?;
    schedule::install_stop_handler()
        .context("cannot install the SIGTERM handler")
        .map_err(|error| CliError {
            code: EXIT_INPUT,
            error,
        })?;
    let fail = |e: schedule::ScheduleError| CliError {
        code: EXIT_INPUT,
        error: e.into(),
    };
    note!(
        "collecting every {} s into {} as node {}",
        interval.as_secs(),
        terminal(&dir.display().to_string()),
        terminal(snapshots.node())
    );
    for round in 1u64.. {
        let started = Instant::now();
        let started_at = chrono::Utc::now();
        let outcome = match collect_snapshot(target, verbose) {
            Ok(mut snapshot) => {
                snapshot.profile.clone_from(profile);
                let bytes = snapshot_bytes(&snapshot)?;
                let path = snapshots.write_new(started_at, &bytes).map_err(fail)?;
                let _ = writeln!(super::terminal::stdout(), "{}", path.display());
                let file = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                Outcome::Collected { file }
            }
            Err(e) if e.code == EXIT_COLLECT => {
                let reason = super::describe(&e.error);
                note!("warning: round {round}: no engine: {}", terminal(&reason));
                Outcome::NoEngine { reason }
            }
            Err(e) => return Err(e),
        };
        if let Some(keep) = every.keep {
            for old in snapshots.prune(keep as usize).map_err(fail)? {
                note!(
                    "removed {} (--keep {keep})",
                    terminal(&old.display().to_string())
                );
            }
        }
        let status = RoundStatus {
            node: snapshots.node().to_string(),
            round,
            started_at,
            outcome,
        };
        snapshots.write_status(&status).map_err(fail)?;
        if schedule::wait_until(started + interval) {
            break;
        }
    }
    note!("stopped between rounds");
    Ok(ExitCode::SUCCESS)
}
