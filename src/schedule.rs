//! Collection on an interval (`collect --every`): the pieces a long-running collector needs
//! where no shell or scheduler loops for it (a `FROM scratch` image in a DaemonSet).
//!
//! This module owns the interval syntax, the node name that prefixes every file, the snapshot
//! directory (new files only, created atomically, never overwriting; optional retention), the
//! per-node status file, and the stop request raised by SIGTERM or SIGINT. It never talks to the
//! engine and never prints: the command layer runs the rounds and reports them.
//!
//! Files in the directory, for a node `web-1`:
//! - `web-1-20261201T030000Z.snapshot.json`: one per collected round, named by the round's
//!   start in UTC; a second round within the same second gets `-1`, `-2`, ... before the
//!   extension. Created under a temporary name and linked into place without replacing.
//! - `web-1.status`: JSON, replaced atomically after every round: the round number, its start,
//!   its outcome (`collected` with the file name, or `no_engine` with the reason). It is not a
//!   snapshot and does not end in `.snapshot.json`, so readers of the snapshots skip it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The file name suffix of every snapshot written here.
pub const SNAPSHOT_SUFFIX: &str = ".snapshot.json";

/// Shortest interval accepted: a collection round of a busy engine takes seconds.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Failures of the snapshot directory. The engine's absence is not one of them: it is a round
/// outcome ([`Outcome::NoEngine`]).
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("{path}: not a directory: the output of `collect --every` is a directory that exists")]
    NotADirectory { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ScheduleError + '_ {
    move |source| ScheduleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Parses an interval: a whole number followed by `s`, `m`, `h` or `d`, or several of them in
/// decreasing order (`1h30m`). At least [`MIN_INTERVAL`].
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!("invalid interval `{text}`: expected a number and a unit s, m, h or d (30s, 15m, 1h30m, 1d)")
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut last_unit = u64::MAX;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        if digits.is_empty() || unit >= last_unit {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
        digits.clear();
        last_unit = unit;
    }
    if !digits.is_empty() || last_unit == u64::MAX {
        return Err(bad());
    }
    let interval = Duration::from_secs(total);
    if interval < MIN_INTERVAL {
        return Err(format!("invalid interval `{text}`: the shortest is 1s"));
    }
    Ok(interval)
}

/// The node name that prefixes the files: the given name (`--node-name`, or `NODE_NAME` from
/// the Kubernetes downward API), else the machine's host name, made safe for a file name.
pub fn node_name(given: Option<&str>) -> String {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => sanitise_node(name),
        None => sanitise_node(&hostname()),
    }
}

/// Keeps ASCII letters, digits, `.`, `_` and `-`; anything else becomes `_`. No leading `.` or
/// `-` (no hidden file, no option-looking name), at most 63 characters, never empty.
pub fn sanitise_node(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = out.trim_start_matches(['.', '-']).len();
    out.drain(..out.len() - trimmed);
    out.truncate(63);
    if out.is_empty() {
        "node".to_string()
    } else {
        out
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// What one round ended with.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A snapshot was written to `file` (a name inside the directory).
    Collected { file: String },
    /// The engine could not be reached or stopped answering; nothing was written.
    NoEngine { reason: String },
}

/// The content of `<node>.status`.
#[derive(Debug, Clone, Serialize)]
pub struct RoundStatus {
    pub node: String,
    /// 1 for the first round since the collector started.
    pub round: u64,
    /// When the round started (UTC).
    pub started_at: DateTime<Utc>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The snapshot directory of one node.
#[derive(Debug)]
pub struct SnapshotDir {
    dir: PathBuf,
    node: String,
}

impl SnapshotDir {
    /// Opens an existing directory for `node` (already sanitised, see [`node_name`]).
    pub fn open(dir: &Path, node: &str) -> Result<Self, ScheduleError> {
        let meta = std::fs::metadata(dir).map_err(io(dir))?;
        if !meta.is_dir() {
            return Err(ScheduleError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            node: sanitise_node(node),
        })
    }

    /// The node name used in the file names.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Writes `bytes` as a new snapshot named after `at`, never replacing a file: the content
    /// goes to a temporary file in the directory, which is then linked under the first free
    /// name. Returns the path written.
    pub fn write_new(&self, at: DateTime<Utc>, bytes: &[u8]) -> Result<PathBuf, ScheduleError> {
        let stamp = at.format("%Y%m%dT%H%M%SZ").to_string();
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.node))
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(io(&self.dir))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io(tmp.path()))?;
        for n in 0u32.. {
            let name = match n {
                0 => format!("{}-{stamp}{SNAPSHOT_SUFFIX}", self.node),
                _ => format!("{}-{stamp}-{n}{SNAPSHOT_SUFFIX}", self.node),
            };
            let path = self.dir.join(&name);
            match tmp.persist_noclobber(&path) {
                Ok(_) => return Ok(path),
                Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => tmp = e.file,
                Err(e) => return Err(io(&path)(e.error)),
            }
        }
        unreachable!("u32 names run out before a directory does")
    }

    /// This node's snapshots in the directory, oldest first (by the time in the name, then the
    /// collision number).
    pub fn snapshots(&self) -> Result<Vec<PathBuf>, ScheduleError> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let entry = entry.map_err(io(&self.dir))?;
            let name = entry.file_name();
            if let Some(key) = name.to_str().and_then(|n| self.order_key(n)) {
                found.push((key, entry.path()));
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, p)| p).collect())
    }

    /// `(time stamp, collision number)` of a file name this node wrote, or None.
    fn order_key(&self, name: &str) -> Option<(String, u32)> {
        let rest = name
            .strip_prefix(self.node.as_str())?
            .strip_prefix('-')?
            .strip_suffix(SNAPSHOT_SUFFIX)?;
        let (stamp, n) = match rest.split_once('-') {
            Some((stamp, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (stamp, n.parse().ok()?)
            }
            Some(_) => return None,
            None => (rest, 0),
        };
        let is_stamp = stamp.len() == 16
            && stamp.bytes().enumerate().all(|(i, b)| match i {
                8 => b == b'T',
                15 => b == b'Z',
                _ => b.is_ascii_digit(),
            });
        is_stamp.then(|| (stamp.to_string(), n))
    }

    /// Removes this node's oldest snapshots beyond the newest `keep`; other nodes' files and
    /// anything else in the directory are left alone. Returns the paths removed.
    pub fn prune(&self, keep: usize) -> Result<Vec<PathBuf>, ScheduleError> {
        let all = self.snapshots()?;
        let excess = all.len().saturating_sub(keep);
        let mut removed = Vec::new();
        for path in all.into_iter().take(excess) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(removed)
    }

    /// Replaces `<node>.status` atomically with this round's status.
    pub fn write_status(&self, status: &RoundStatus) -> Result<PathBuf, ScheduleError> {
        let path = self.dir.join(format!("{}.status", self.node));
        let mut bytes = serde_json::to_vec_pretty(status).map_err(|e| io(&path)(e.into()))?;
        bytes.push(b'\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.node))
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(io(&self.dir))?;
        tmp.write_all(&bytes).map_err(io(tmp.path()))?;
        tmp.persist(&path).map_err(|e| io(&path)(e.error))?;
        Ok(path)
    }
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Makes SIGTERM and SIGINT request a stop instead of ending the process, so the collector
/// finishes the round under way (a snapshot is written whole or not at all) and exits cleanly.
pub fn install_stop_handler() -> std::io::Result<()> {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the
        // sigaction struct is zero-initialised and then filled in.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = request_stop as extern "C" fn(libc::c_int) as usize;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether a stop was requested.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Waits until `deadline` or a stop request, whichever comes first; true when stopped.
pub fn wait_until(deadline: Instant) -> bool {
    loop {
        if stop_requested() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_interval("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        for bad in ["", "10", "s", "1x", "30m1h", "1h1h", "-5s", "1.5h", "0s"] {
            assert!(parse_interval(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_interval("99999999999999999999d").is_err());
    }

    #[test]
    fn node_names_are_safe_file_names() {
        assert_eq!(
            sanitise_node("ip-10-0-1-7.ec2.internal"),
            "ip-10-0-1-7.ec2.internal"
        );
        assert_eq!(sanitise_node("../etc/passwd"), "_etc_passwd");
        assert_eq!(sanitise_node("-rf"), "rf");
        assert_eq!(sanitise_node("web 1\u{202e}"), "web_1_");
        assert_eq!(sanitise_node("..."), "node");
        assert_eq!(sanitise_node(&"a".repeat(300)).len(), 63);
        assert_eq!(node_name(Some("  ")), sanitise_node(&hostname()));
    }

    #[test]
    fn new_files_never_replace_and_prune_keeps_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::open(tmp.path(), "web").unwrap();
        let other = SnapshotDir::open(tmp.path(), "web-1").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
        let a = dir.write_new(t, b"a").unwrap();
        let b = dir.write_new(t, b"b").unwrap();
        let c = dir
            .write_new(t + chrono::Duration::seconds(1), b"c")
            .unwrap();
        let o = other.write_new(t, b"o").unwrap();
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(&a), "web-20261201T030000Z.snapshot.json");
        assert_eq!(name(&b), "web-20261201T030000Z-1.snapshot.json");
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        assert_eq!(
            dir.snapshots().unwrap(),
            vec![a.clone(), b.clone(), c.clone()]
        );
        assert_eq!(other.snapshots().unwrap(), vec![o.clone()]);
        assert_eq!(dir.prune(2).unwrap(), vec![a.clone()]);
        assert!(!a.exists() && b.exists() && c.exists() && o.exists());
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn status_is_replaced_each_round() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SnapshotDir::open(tmp.path(), "n1").unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
        let mut status = RoundStatus {
            node: "n1".into(),
            round: 1,
            started_at: at,
            outcome: Outcome::NoEngine {
                reason: "no socket".into(),
            },
        };
        let path = dir.write_status(&status).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(v["outcome"], "no_engine");
        assert_eq!(v["reason"], "no socket");
        status.round = 2;
        status.outcome = Outcome::Collected { file: "x".into() };
        dir.write_status(&status).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            (v["round"].as_u64(), v["file"].as_str()),
            (Some(2), Some("x"))
        );
    }

    #[test]
    fn open_refuses_a_file() {
        let f = tempfile::NamedTempFile::new().unwrap();
        assert!(matches!(
            SnapshotDir::open(f.path(), "n"),
            Err(ScheduleError::NotADirectory { .. })
        ));
    }
}
