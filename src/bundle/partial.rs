//! Temporary bundle directories and what is left of them after a killed run.
//!
//! A bundle is written into `.dockproof-partial-<pid>-<start>-XXXXXX` beside its destination,
//! where `<pid>` and `<start>` (the process's start time in clock ticks since boot, from
//! `/proc/<pid>/stat`) name the run that owns it. A SIGKILL leaves that directory behind; the
//! next run into the same parent removes it only when its owner is gone (no process with that
//! pid, or one that started at another time), and reports it otherwise. A directory whose owner
//! cannot be told (another naming, another user's) is reported and left alone.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Name prefix of every temporary bundle directory.
pub const PREFIX: &str = ".dockproof-partial-";

/// The prefix of this process's temporary directories.
pub(super) fn own_prefix() -> String {
    let pid = std::process::id();
    format!("{PREFIX}{pid}-{}-", start_time(pid).unwrap_or(0))
}

/// Start time of a process in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces or `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// What was found of one partial directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// Its run is gone; the directory was removed.
    Removed(PathBuf),
    /// Its run is still going (pid given); left in place.
    InUse(PathBuf, u32),
    /// Its owner cannot be told, or it could not be removed; left in place, with why.
    Kept(PathBuf, String),
}

/// Removes the partial directories under `parent` whose owning run is gone, and reports each
/// one found. Never follows a symbolic link and never touches another user's directory.
pub fn sweep(parent: &Path) -> Vec<Leftover> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Vec::new();
    };
    let me = own_prefix();
    let uid = current_uid();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(PREFIX) || name.starts_with(&me) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_dir() || Some(meta.uid()) != uid {
            found.push(Leftover::Kept(
                path,
                "not a directory of this user; left alone".into(),
            ));
            continue;
        }
        let Some((pid, start)) = owner(&name[PREFIX.len()..]) else {
            found.push(Leftover::Kept(
                path,
                "its owning process is not recorded in the name; remove it by hand once no \
                 dockproof run is writing here"
                    .into(),
            ));
            continue;
        };
        if start_time(pid) == Some(start) {
            found.push(Leftover::InUse(path, pid));
            continue;
        }
        match fs::remove_dir_all(&path) {
            Ok(()) => found.push(Leftover::Removed(path)),
            Err(e) => found.push(Leftover::Kept(path, format!("cannot remove it: {e}"))),
        }
    }
    found.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    found
}

/// `<pid>-<start>-<random>` → (pid, start).
fn owner(rest: &str) -> Option<(u32, u64)> {
    let mut parts = rest.splitn(3, '-');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((pid, start))
}

/// This process's uid: the owner of its own `/proc/self` directory.
fn current_uid() -> Option<u32> {
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_read_from_names() {
        assert_eq!(owner("123-456-abcd"), Some((123, 456)));
        assert_eq!(owner("abcdef"), None);
        assert_eq!(owner("12-x-abc"), None);
        assert!(own_prefix().starts_with(&format!("{PREFIX}{}-", std::process::id())));
    }

    #[test]
    fn only_directories_of_finished_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join(format!("{PREFIX}999999999-1-abc"));
        fs::create_dir(&gone).unwrap();
        fs::write(gone.join("snapshot.json"), "{}").unwrap();
        // A run that is still going keeps its directory.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let alive = dir
            .path()
            .join(format!("{PREFIX}{pid}-{}-abc", start_time(pid).unwrap()));
        fs::create_dir(&alive).unwrap();
        let old = dir.path().join(format!("{PREFIX}Xy12Ab"));
        fs::create_dir(&old).unwrap();
        let report = sweep(dir.path());
        let _ = child.kill();
        let _ = child.wait();
        assert!(!gone.exists());
        assert!(alive.exists() && old.exists());
        assert!(report.contains(&Leftover::Removed(gone)));
        assert!(report.contains(&Leftover::InUse(alive, pid)));
        assert_eq!(report.len(), 3, "{report:?}");
        assert!(report.iter().any(
            |l| matches!(l, Leftover::Kept(p, why) if *p == old && why.contains("not recorded"))
        ));
    }
}
