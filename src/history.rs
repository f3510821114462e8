//! Earlier scans for the trend chart (`--history DIR`): reads the `assessment.json` of every
//! bundle in a directory (and any `*.json` assessment beside them) and keeps what a trend plots.
//!
//! Only scans of the same host are kept, oldest first, one per snapshot (a snapshot reported
//! twice counts once), at most [`MAX_POINTS`]. A file that cannot be read or is not an
//! assessment is an error naming it: a damaged earlier bundle is evidence gone missing and must
//! not be skipped in silence. Directories without an `assessment.json` are ignored. A fleet
//! bundle (one with `hosts/`) contributes the host bundles under it, so a host scanned alone and
//! as part of a fleet has one trend; a fleet run reads each host's own earlier bundles by its
//! directory under `hosts/` ([`load_fleet_host`]), which tells cloned hosts of one name apart.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::assessment::TrendPoint;

/// Most earlier scans plotted.
pub const MAX_POINTS: usize = 60;

/// The history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot read the history directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// The message names the file and what is wrong with it (a newer schema is refused).
    #[error("{0}")]
    Parse(crate::diff::LoadError),
}

/// What was found in a history directory.
#[derive(Debug, Default)]
pub struct History {
    /// Scans of the host, oldest first.
    pub points: Vec<TrendPoint>,
    /// Assessments of other hosts that were left out.
    pub other_hosts: usize,
}

/// Reads every assessment under `dir` (bundle directories and `*.json` files, one level deep)
/// and keeps the scans of `host`, excluding the snapshot `current_sha256`.
pub fn load(dir: &Path, host: Option<&str>, current_sha256: &str) -> Result<History, HistoryError> {
    let entries = std::fs::read_dir(dir).map_err(|source| HistoryError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| HistoryError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        if path.is_dir() && path.join(crate::fleet::HOSTS_DIR).is_dir() {
            files.extend(fleet_hosts(&path)?);
        } else if path.is_dir() {
            // Anything named assessment.json is read, and a FIFO or device under that name is
            // an error naming it, never a silent skip or a hang.
            let file = path.join("assessment.json");
            if file.symlink_metadata().is_ok() {
                files.push(file);
            }
        } else if path.extension().is_some_and(|e| e == "json") && is_assessment_name(&path) {
            files.push(path);
        }
    }
    points(dir, files, |h| h == host, current_sha256)
}

/// The earlier scans of the fleet host whose bundles are `hosts/<host_dir>/` in the fleet
/// bundles under `dir`, excluding the snapshot `current_sha256`.
pub fn load_fleet_host(
    dir: &Path,
    host_dir: &str,
    current_sha256: &str,
) -> Result<History, HistoryError> {
    let dir_err = |source| HistoryError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_err)? {
        let file = entry
            .map_err(dir_err)?
            .path()
            .join(crate::fleet::HOSTS_DIR)
            .join(host_dir)
            .join("assessment.json");
        if file.symlink_metadata().is_ok() {
            files.push(file);
        }
    }
    points(dir, files, |_| true, current_sha256)
}

/// The `assessment.json` of every host bundle of the fleet bundle `fleet`.
fn fleet_hosts(fleet: &Path) -> Result<Vec<PathBuf>, HistoryError> {
    let hosts = fleet.join(crate::fleet::HOSTS_DIR);
    let dir_err = |source| HistoryError::Dir {
        path: hosts.clone(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&hosts).map_err(dir_err)? {
        let file = entry.map_err(dir_err)?.path().join("assessment.json");
        if file.symlink_metadata().is_ok() {
            files.push(file);
        }
    }
    Ok(files)
}

/// Reads `files` and keeps the trend points of the scans whose hostname `keep` accepts.
fn points(
    dir: &Path,
    files: Vec<PathBuf>,
    keep: impl Fn(Option<&str>) -> bool,
    current_sha256: &str,
) -> Result<History, HistoryError> {
    let mut history = History::default();
    let mut seen = HashSet::from([current_sha256.to_string()]);
    for file in files {
        let bytes = crate::input::read(&file, "history assessment", crate::input::MAX_ASSESSMENT)?;
        // Read through the one assessment loader, so schema 1 bundles are migrated, newer ones
        // refused, and figures computed the way this version computes them.
        let earlier = crate::diff::load::from_slice(&bytes, &file.display().to_string())
            .map_err(HistoryError::Parse)?;
        if !keep(earlier.snapshot.target.hostname.as_deref()) {
            history.other_hosts += 1;
            continue;
        }
        if !seen.insert(earlier.snapshot.sha256.clone()) {
            continue;
        }
        let source = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .display()
            .to_string();
        history.points.push(earlier.trend_point(&source));
    }
    history.points.sort_by_key(|p| p.collected_at);
    let excess = history.points.len().saturating_sub(MAX_POINTS);
    history.points.drain(..excess);
    Ok(history)
}

/// `assessment.json`, or a name that says it is one (`scan-…-assessment.json`); snapshots and
/// other JSON files kept beside bundles are not assessments.
fn is_assessment_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("assessment.json"))
}
