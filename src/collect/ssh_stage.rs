//! The staged copy of an ssh engine's host: what the remote commands of [`super::ssh_host`]
//! returned, laid out in a private directory like the remote root so the local readers can
//! interpret it, and the remote `stat` results put back over the facts they produce.
//!
//! The staged copies' own types, modes and owners mean nothing (a socket is staged as an empty
//! file, an unreadable file as a directory so reading it fails); only [`overlay_stats`] decides
//! what a file fact says. This module writes only inside the directory it is given.

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
}

/// Lays the remote answers out under `tree`: directories, file contents, and empty stand-ins for
/// the rest (sockets, binaries), whose real type and mode come from [`overlay_stats`]. A file that
/// exists but could not be read becomes a directory, so reading it fails and its gap is kept.
pub(crate) fn stage(tree: &Path, remote: &Remote) -> std::io::Result<()> {
    let local = |p: &str| tree.join(p.trim_start_matches('/'));
    let mut dirs: Vec<&String> = remote
        .stats
        .iter()
        .filter(|(_, s)| is_dir(s.mode))
        .map(|(p, _)| p)
        .collect();
    dirs.sort();
    for d in dirs {
        std::fs::create_dir_all(local(d))?;
    }
    for (path, stat) in &remote.stats {
        if is_dir(stat.mode) || path.starts_with("/proc/") && !remote.texts.contains_key(path) {
            continue;
        }
        let target = local(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if !target.exists() {
            std::fs::write(
                &target,
                remote
                    .texts
                    .get(path)
                    .map(String::as_bytes)
                    .unwrap_or_default(),
            )?;
        }
    }
    for (path, text) in &remote.texts {
        let target = local(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(target, text)?;
    }
    for path in remote.errors.keys() {
        std::fs::create_dir_all(local(path))?;
    }
    Ok(())
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
        stage(tree.path(), &remote).unwrap();
        assert!(tree.path().join("etc/docker").is_dir());
        assert!(tree.path().join("run/docker.sock").is_file());
        assert!(tree.path().join("etc/docker/daemon.json").is_dir());
        assert_eq!(
            std::fs::read_to_string(tree.path().join("etc/passwd")).unwrap(),
            "root:x:0:0:root:/root:/bin/sh\n"
        );
    }
}
