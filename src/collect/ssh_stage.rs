//! The staged copy of an ssh engine's host: what the remote commands of [`super::ssh_host`]
//! returned, laid out in a private directory like the remote root so the local readers can
//! interpret it, and the remote `stat` results put back over the facts they produce.
//!
//! The staged copies' own types, modes and owners mean nothing (a socket is staged as an empty
//! file, an unreadable file as a link to itself so reading it fails); only [`overlay_stats`]
//! decides what a file fact says. This module writes only inside the directory it is given.

use std::collections::BTreeMap;
use std::path::Path;

use crate::snapshot::{Gap, HostFacts};

use super::{accounts, gap, host};

/// Whether a raw `st_mode` is a directory.
pub(crate) fn is_dir(mode: u32) -> bool {
    mode & 0o170000 == 0o040000
}

/// `stat` of one remote path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RemoteStat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// What the remote host said about the paths asked for.
#[derive(Default)]
pub(crate) struct Remote {
    pub stats: BTreeMap<String, RemoteStat>,
    /// Paths that exist but could not be examined or read, with the remote error.
    pub errors: BTreeMap<String, String>,
    /// Contents read with `cat`.
    pub texts: BTreeMap<String, String>,
    /// Every path asked for, found or not.
    pub asked: std::collections::BTreeSet<String>,
}

/// Lays the remote answers out under `tree`: directories, file contents, and empty stand-ins for
/// the rest (sockets, binaries), whose real type and mode come from [`overlay_stats`]. A path that
/// exists but could not be read becomes a link to itself, so every reader fails on it and its gap
/// is kept. A path that cannot be placed (a hostile answer) is a gap.
pub(crate) fn stage(tree: &Path, remote: &Remote, gaps: &mut Vec<Gap>) {
    let local = |p: &str| tree.join(p.trim_start_matches('/'));
    let mut failed = |path: &str, e: std::io::Error| {
        gaps.push(gap(
            format!("host:{path}"),
            format!("the remote answer could not be staged: {e}"),
        ))
    };
    let in_parent = |target: &Path| match target.parent() {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    };
    // What could not be read first, as a link to itself: every reader fails on it with an error
    // that is not "missing" (a directory would be skipped by listings, an empty file read as
    // empty), and its gap then carries the remote error. Then directories, parents first.
    for path in remote.errors.keys() {
        let target = local(path);
        let name = target.file_name().map(std::ffi::OsStr::to_os_string);
        let placed = in_parent(&target).and_then(|()| match name {
            Some(name) => std::os::unix::fs::symlink(name, &target),
            None => Ok(()),
        });
        if let Err(e) = placed {
            failed(path, e);
        }
    }
    let mut dirs: Vec<&String> = remote
        .stats
        .iter()
        .filter(|(p, s)| is_dir(s.mode) && !remote.errors.contains_key(*p))
        .map(|(p, _)| p)
        .collect();
    dirs.sort();
    for d in dirs {
        if let Err(e) = std::fs::create_dir_all(local(d)) {
            failed(d, e);
        }
    }
    let files = remote
        .stats
        .iter()
        .filter(|(path, stat)| !is_dir(stat.mode) && !path.starts_with("/proc/"))
        .map(|(path, _)| path)
        .chain(remote.texts.keys());
    for path in files {
        let target = local(path);
        if remote.errors.contains_key(path) || std::fs::symlink_metadata(&target).is_ok() {
            continue;
        }
        let content = remote
            .texts
            .get(path)
            .map(String::as_bytes)
            .unwrap_or_default();
        if let Err(e) = in_parent(&target).and_then(|()| std::fs::write(&target, content)) {
            failed(path, e);
        }
    }
}

/// Replaces what the staged copies say about each file with what the remote `stat` said.
pub(crate) fn overlay_stats(
    tree: &Path,
    remote: &Remote,
    facts: &mut HostFacts,
    gaps: &mut Vec<Gap>,
) {
    let mut scratch = Vec::new();
    let accounts = accounts::Accounts::load(&host::HostRoot::new(tree), &mut scratch);
    for fact in &mut facts.files {
        if let Some(stat) = remote.stats.get(&fact.path) {
            let mode = stat.mode & 0o7777;
            fact.exists = true;
            fact.error = None;
            fact.file_type = Some(
                match stat.mode & 0o170000 {
                    0o040000 => "dir",
                    0o100000 => "file",
                    0o140000 => "socket",
                    _ => "other",
                }
                .to_string(),
            );
            fact.mode = Some(mode);
            fact.mode_octal = Some(format!("{mode:04o}"));
            fact.uid = Some(stat.uid);
            fact.gid = Some(stat.gid);
            fact.owner = accounts.user_name(stat.uid);
            fact.group = accounts.group_name(stat.gid);
        } else if let Some(error) = remote.errors.get(&fact.path) {
            fact.exists = false;
            fact.file_type = None;
            fact.mode = None;
            fact.mode_octal = None;
            fact.error = Some(error.clone());
            let source = format!("host:{}", fact.path);
            if !gaps.iter().any(|g| g.source == source) {
                gaps.push(gap(source, error));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_tree_holds_contents_and_stand_ins() {
        let tree = tempfile::tempdir().unwrap();
        let mut remote = Remote::default();
        remote.stats.insert(
            "/etc/docker".into(),
            RemoteStat {
                mode: 0o040755,
                uid: 0,
                gid: 0,
            },
        );
        remote.stats.insert(
            "/run/docker.sock".into(),
            RemoteStat {
                mode: 0o140660,
                uid: 0,
                gid: 999,
            },
        );
        remote.texts.insert(
            "/etc/passwd".into(),
            "root:x:0:0:root:/root:/bin/sh\n".into(),
        );
        remote.errors.insert(
            "/etc/docker/daemon.json".into(),
            "remote: Permission denied".into(),
        );
        // Known to exist (stat) but unreadable (cat): staged once, as a link to itself.
        remote.stats.insert(
            "/etc/docker/daemon.json".into(),
            RemoteStat {
                mode: 0o100600,
                uid: 0,
                gid: 0,
            },
        );
        let mut gaps = Vec::new();
        stage(tree.path(), &remote, &mut gaps);
        assert!(gaps.is_empty(), "{gaps:?}");
        assert!(tree.path().join("etc/docker").is_dir());
        assert!(tree.path().join("run/docker.sock").is_file());
        let root = host::HostRoot::new(tree.path());
        let err = root.read_to_string("/etc/docker/daemon.json").unwrap_err();
        assert!(!host::is_missing(&err), "{err}");
        assert!(err.to_string().contains("too many levels"), "{err}");
        assert_eq!(
            std::fs::read_to_string(tree.path().join("etc/passwd")).unwrap(),
            "root:x:0:0:root:/root:/bin/sh\n"
        );
    }
}
