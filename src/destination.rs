//! Where a single output file goes (`collect -o`, `diff --out`): the user's path, as they meant
//! it.
//!
//! * `-` is standard output.
//! * A path that exists and is not a regular file once links are followed (a character device
//!   such as `/dev/null`, a FIFO, a socket, `/dev/stdout` and every link to one) is written as a
//!   stream, opened for appending without creating or truncating anything. It is never renamed
//!   over: run as root, a rename would turn `/dev/null` into a regular file for the whole machine.
//! * A regular file, or a path that does not exist yet, is replaced atomically: a temporary file
//!   beside it (created 0600, whatever the umask), synced, then renamed into place. A symbolic
//!   link to a regular file is followed and its target replaced; the link stays a link.
//!
//! This module writes only where it is told and never prints.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is a directory; give a file name")]
    Directory { path: PathBuf },
}

/// How a destination is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`.
    Stdout,
    /// An existing non-regular file (device, FIFO, socket, `/dev/stdout`): written in place.
    Stream(PathBuf),
    /// A regular file or a new path, replaced atomically; the path is the link target when the
    /// user named a link.
    File(PathBuf),
}

impl Destination {
    /// Decides how `path` is written, following symbolic links.
    pub fn of(path: &Path) -> Result<Destination, DestinationError> {
        if path.as_os_str() == "-" {
            return Ok(Destination::Stdout);
        }
        let io = |source| DestinationError::Io {
            path: path.to_path_buf(),
            source,
        };
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Err(DestinationError::Directory {
                path: path.to_path_buf(),
            }),
            Ok(meta) if !meta.is_file() => Ok(Destination::Stream(path.to_path_buf())),
            Ok(_) => {
                // A link into /proc (`/dev/stdout` -> /proc/self/fd/1) names an open file of
                // this process, possibly the shell's redirection: write into it, never swap it.
                if through_proc_or_dev(path) {
                    return Ok(Destination::Stream(path.to_path_buf()));
                }
                Ok(Destination::File(fs::canonicalize(path).map_err(io)?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A dangling link is not followed into creating its target somewhere else.
                if fs::symlink_metadata(path).is_ok() {
                    return Err(io(e));
                }
                Ok(Destination::File(path.to_path_buf()))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// Whether `path` or any link on the way to its target lies under `/dev` or `/proc`, where a
/// "regular file" is an open descriptor (`/dev/stdout`, `/proc/self/fd/1`), not a file to swap.
fn through_proc_or_dev(path: &Path) -> bool {
    let special = |p: &Path| p.starts_with("/dev") || p.starts_with("/proc");
    let mut current = match std::path::absolute(path) {
        Ok(p) => p,
        Err(_) => return false,
    };
    for _ in 0..40 {
        if special(&current) {
            return true;
        }
        let Ok(next) = fs::read_link(&current) else {
            break;
        };
        current = match current.parent() {
            Some(parent) => parent.join(next),
            None => next,
        };
    }
    fs::canonicalize(path).is_ok_and(|p| special(&p))
}

/// Writes `bytes` to `path` as [`Destination::of`] decides.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), DestinationError> {
    match Destination::of(path)? {
        Destination::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .map_err(|source| DestinationError::Io {
                    path: path.to_path_buf(),
                    source,
                })
        }
        Destination::Stream(p) => {
            let io = |source| DestinationError::Io {
                path: p.clone(),
                source,
            };
            let mut f = OpenOptions::new().append(true).open(&p).map_err(io)?;
            f.write_all(bytes).map_err(io)?;
            f.flush().map_err(io)
        }
        Destination::File(p) => replace(&p, bytes),
    }
}

fn replace(path: &Path, bytes: &[u8]) -> Result<(), DestinationError> {
    let io = |source| DestinationError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".dockproof-")
        .tempfile_in(&dir)
        .map_err(io)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, FileTypeExt};

    #[test]
    fn devices_and_stdout_links_are_streams_files_are_replaced() {
        assert_eq!(
            Destination::of(Path::new("-")).unwrap(),
            Destination::Stdout
        );
        assert_eq!(
            Destination::of(Path::new("/dev/null")).unwrap(),
            Destination::Stream("/dev/null".into())
        );
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("null-link");
        symlink("/dev/null", &link).unwrap();
        assert_eq!(
            Destination::of(&link).unwrap(),
            Destination::Stream(link.clone())
        );
        write(&link, b"x").unwrap();
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());

        let target = dir.path().join("real.json");
        fs::write(&target, "old").unwrap();
        let to_file = dir.path().join("file-link");
        symlink(&target, &to_file).unwrap();
        write(&to_file, b"new").unwrap();
        assert!(fs::symlink_metadata(&to_file)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(
            fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(
            Destination::of(dir.path()),
            Err(DestinationError::Directory { .. })
        ));
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere/x"), &dangling).unwrap();
        assert!(write(&dangling, b"x").is_err());
    }
}
