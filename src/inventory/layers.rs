//! Layers: scanning one layer tar as it streams past, and stacking the scanned layers into the
//! image's filesystem for the few paths the inventory reads.
//!
//! A layer is identified by the SHA-256 of its uncompressed bytes (its "diff id"), computed while
//! it is read, gzip or not. Only changes that can affect the inventory's paths are kept: the
//! package database and os-release files (spooled to the private directory), symlinks and
//! directories on the way to them, whiteouts (`.wh.NAME`, and `.wh..wh..opq` for an opaque
//! directory) that remove them, and hard links to them. Everything else streams through.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::MAX_CAPTURED_FILE;

/// Files the inventory reads, relative to the image root.
pub(super) const FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
    "usr/lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages.db",
];
/// Directories whose every file the inventory reads.
pub(super) const DIRS: &[&str] = &["var/lib/dpkg/status.d"];

/// One change a layer makes to a path the inventory may read.
#[derive(Debug, Clone)]
pub(super) enum Change {
    /// `.wh.NAME`: the path and everything under it are removed from the layers below.
    Whiteout(String),
    /// `.wh..wh..opq`: everything under the directory is removed from the layers below.
    Opaque(String),
    /// A regular file (or a hard link to one), spooled at the given local path.
    File(String, PathBuf),
    Symlink(String, String),
    Dir(String),
    /// A file at a path the inventory reads whose content could not be kept, with the reason.
    Unreadable(String, String),
}

/// What one layer holds for the inventory.
#[derive(Debug)]
pub(super) struct LayerScan {
    /// `sha256:` digest of the uncompressed layer tar.
    pub diff_id: String,
    pub changes: Vec<Change>,
    /// What could not be kept from this layer (becomes a gap if the image uses the layer).
    pub problems: Vec<String>,
}

/// Most symlinks kept per layer. Every symlink is kept (a chain may pass through any directory),
/// up to this bound, so a layer of millions of links cannot exhaust memory.
const MAX_SYMLINKS_KEPT: usize = 200_000;

/// Normalises a path from a tar: no leading `/` or `./`, no `.`, `..` resolved lexically and
/// never above the root.
pub(super) fn normalize(raw: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn wanted_file(path: &str) -> bool {
    FILES.contains(&path)
        || path
            .rsplit_once('/')
            .is_some_and(|(dir, _)| DIRS.contains(&dir))
}

/// Whether `path` is one of the inventory's paths or a directory on the way to one.
pub(super) fn relevant(path: &str) -> bool {
    wanted_file(path)
        || FILES.iter().chain(DIRS).any(|f| {
            f == &path || (f.starts_with(path) && f.as_bytes().get(path.len()) == Some(&b'/'))
        })
}

/// A reader that hashes everything read through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads one layer (plain or gzip tar) to its end, spooling the inventory's files under
/// `spool` with names starting with `tag`. An error means the layer's bytes could not be read
/// or are not a tar.
pub(super) fn scan_layer(reader: impl Read, spool: &Path, tag: &str) -> io::Result<LayerScan> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let inner: Box<dyn Read + '_> = if gzip {
        Box::new(MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    let mut hashing = Hashing {
        inner,
        hasher: Sha256::new(),
    };
    let mut changes = Vec::new();
    let mut problems = Vec::new();
    let mut symlinks = 0usize;
    {
        let mut archive = tar::Archive::new(&mut hashing);
        let mut kept: HashMap<String, PathBuf> = HashMap::new();
        for (n, entry) in archive.entries()?.enumerate() {
            let mut entry = entry?;
            let path = normalize(&String::from_utf8_lossy(&entry.path_bytes()));
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (d.to_string(), n.to_string()),
                None => (String::new(), path.clone()),
            };
            if name == ".wh..wh..opq" {
                if relevant(&dir) || DIRS.iter().any(|d| d.starts_with(&dir)) {
                    changes.push(Change::Opaque(dir));
                }
                continue;
            }
            if let Some(gone) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    gone.to_string()
                } else {
                    format!("{dir}/{gone}")
                };
                if relevant(&target) {
                    changes.push(Change::Whiteout(target));
                }
                continue;
            }
            let kind = entry.header().entry_type();
            if kind.is_symlink() {
                symlinks += 1;
                if symlinks > MAX_SYMLINKS_KEPT {
                    if symlinks == MAX_SYMLINKS_KEPT + 1 {
                        problems.push(format!(
                            "a layer holds more than {MAX_SYMLINKS_KEPT} symlinks; later ones \
                             were not followed"
                        ));
                    }
                    continue;
                }
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                changes.push(Change::Symlink(path, target));
                continue;
            }
            if !relevant(&path) {
                continue;
            }
            if kind.is_dir() {
                changes.push(Change::Dir(path));
            } else if kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| normalize(&String::from_utf8_lossy(&b)))
                    .unwrap_or_default();
                match kept.get(&target) {
                    Some(local) => changes.push(Change::File(path, local.clone())),
                    None => changes.push(Change::Unreadable(
                        path,
                        format!("hard link to /{target}, a file the inventory did not keep"),
                    )),
                }
            } else if kind.is_file() && wanted_file(&path) {
                let size = entry.size();
                if size > MAX_CAPTURED_FILE {
                    changes.push(Change::Unreadable(
                        path,
                        format!("{size} bytes, over the {MAX_CAPTURED_FILE}-byte limit"),
                    ));
                    continue;
                }
                let local = spool.join(format!("{tag}-{n}"));
                let mut out = File::create(&local)?;
                io::copy(&mut (&mut entry).take(MAX_CAPTURED_FILE), &mut out)?;
                kept.insert(path.clone(), local.clone());
                changes.push(Change::File(path, local));
            }
        }
    }
    // The tar ends with zero blocks the archive reader leaves unread; they are part of the
    // layer's bytes and of its digest.
    io::copy(&mut hashing, &mut io::sink())?;
    Ok(LayerScan {
        diff_id: format!("sha256:{}", hex::encode(hashing.hasher.finalize())),
        changes,
        problems,
    })
}

/// A path's state in the stacked layers.
#[derive(Debug, Clone)]
pub(super) enum Node {
    File(PathBuf),
    Symlink(String),
    Dir,
    Unreadable(String),
}

/// The image filesystem, restricted to the inventory's paths, as the layers stack up.
#[derive(Debug, Default)]
pub(super) struct Tree {
    nodes: BTreeMap<String, Node>,
}

/// Longest chain of symlinks followed, as in Linux (`ELOOP`).
const MAX_SYMLINKS: usize = 40;

impl Tree {
    /// Applies one layer above the ones applied before: its whiteouts remove from the layers
    /// below, then its own entries are added.
    pub(super) fn apply(&mut self, layer: &LayerScan) {
        for change in &layer.changes {
            match change {
                Change::Whiteout(p) => {
                    self.nodes.remove(p);
                    self.remove_under(p);
                }
                Change::Opaque(d) => self.remove_under(d),
                _ => {}
            }
        }
        for change in &layer.changes {
            let (path, node) = match change {
                Change::File(p, local) => (p, Node::File(local.clone())),
                Change::Symlink(p, t) => (p, Node::Symlink(t.clone())),
                Change::Dir(p) => (p, Node::Dir),
                Change::Unreadable(p, why) => (p, Node::Unreadable(why.clone())),
                Change::Whiteout(_) | Change::Opaque(_) => continue,
            };
            if !matches!(node, Node::Dir) {
                self.remove_under(path);
            }
            self.nodes.insert(path.clone(), node);
        }
    }

    fn remove_under(&mut self, dir: &str) {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// Follows symlinks along `path` and returns the real path and its node, if any.
    pub(super) fn resolve(&self, path: &str) -> Result<(String, Option<&Node>), String> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(str::to_string)
            .collect();
        let mut current: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    current.pop();
                    continue;
                }
                _ => {}
            }
            current.push(component);
            if let Some(Node::Symlink(target)) = self.nodes.get(&current.join("/")) {
                hops += 1;
                if hops > MAX_SYMLINKS {
                    return Err(format!("/{path}: too many levels of symbolic links"));
                }
                current.pop();
                if target.starts_with('/') {
                    current.clear();
                }
                pending.extend(
                    target
                        .split('/')
                        .filter(|c| !c.is_empty())
                        .rev()
                        .map(str::to_string),
                );
            }
        }
        let real = current.join("/");
        let node = self.nodes.get(&real);
        Ok((real, node))
    }

    /// Names of the entries directly under the real directory `dir`.
    pub(super) fn list(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| {
                let rest = &k[prefix.len()..];
                (!rest.contains('/')).then(|| rest.to_string())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(changes: Vec<Change>) -> LayerScan {
        LayerScan {
            diff_id: String::new(),
            changes,
            problems: Vec::new(),
        }
    }

    #[test]
    fn paths_are_normalised_and_kept_under_the_root() {
        assert_eq!(normalize("./etc/os-release"), "etc/os-release");
        assert_eq!(normalize("/../../etc//./x"), "etc/x");
        assert!(relevant("var/lib"));
        assert!(relevant("var/lib/dpkg/status.d/libc6"));
        assert!(!relevant("var/lib/apt"));
        assert!(!relevant("usr/bin/bash"));
    }

    #[test]
    fn symlinks_whiteouts_and_opaque_directories() {
        let mut tree = Tree::default();
        let f = PathBuf::from("/spool/a");
        tree.apply(&scan(vec![
            Change::File("usr/lib/os-release".into(), f.clone()),
            Change::Symlink("etc/os-release".into(), "../usr/lib/os-release".into()),
            Change::File("var/lib/dpkg/status.d/a".into(), f.clone()),
            Change::File("var/lib/dpkg/status.d/b".into(), f.clone()),
        ]));
        let (real, node) = tree.resolve("etc/os-release").unwrap();
        assert_eq!(real, "usr/lib/os-release");
        assert!(matches!(node, Some(Node::File(_))));
        assert_eq!(tree.list("var/lib/dpkg/status.d"), ["a", "b"]);

        tree.apply(&scan(vec![
            Change::Whiteout("var/lib/dpkg/status.d/a".into()),
            Change::Opaque("usr/lib".into()),
        ]));
        assert_eq!(tree.list("var/lib/dpkg/status.d"), ["b"]);
        assert!(tree.resolve("etc/os-release").unwrap().1.is_none());

        // A whiteout and a new file in the same layer: the whiteout removes the lower one only.
        tree.apply(&scan(vec![
            Change::File("var/lib/dpkg/status.d/c".into(), f.clone()),
            Change::Whiteout("var/lib/dpkg/status.d".into()),
        ]));
        assert_eq!(tree.list("var/lib/dpkg/status.d"), ["c"]);

        tree.apply(&scan(vec![
            Change::Symlink("lib".into(), "usr/lib".into()),
            Change::Symlink("usr/lib/loop".into(), "/usr/lib/loop".into()),
        ]));
        assert!(tree
            .resolve("usr/lib/loop/x")
            .unwrap_err()
            .contains("too many levels"));
    }
}
