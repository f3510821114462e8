//! Reading the user's input files: snapshots, assessments (`--history`, `diff`), catalogs,
//! waivers, attestations, keys and every later input file go through this one helper.
//!
//! An input file is hostile until checked. It must be a regular file once symbolic links are
//! followed (a Kubernetes ConfigMap mount is all links, and that is fine); a FIFO would block the
//! read forever and a device such as `/dev/zero` never ends, so both are refused before a byte is
//! read, naming the path and what it is. The check is made again on the opened descriptor (the
//! open itself does not block on a FIFO swapped in meanwhile), and reading stops one byte past
//! the size bound of the kind of input, so a file that grows while being read is refused too.
//!
//! This module never writes and never prints; errors say which file, what it is and what to do.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Largest snapshot read (`report`, `--fallback-snapshot`): a container takes about 4 KB of
/// snapshot, so this is some 30,000 containers, several times the busiest real host. Parsing
/// costs about 18 times the file size in memory (100,000 containers took 7.3 GB).
pub const MAX_SNAPSHOT: u64 = 128 << 20;
/// Largest assessment read (`diff`, `--history`).
pub const MAX_ASSESSMENT: u64 = 512 << 20;
/// Largest waiver or attestation file: about 22,000 waivers. A 16 MiB file (90,000 waivers)
/// took 13 s and 570 MB to read in a debug build; real files hold hundreds.
pub const MAX_DECISIONS: u64 = 4 << 20;
/// Largest catalog file (one YAML file of checks or one framework).
pub const MAX_CATALOG: u64 = 8 << 20;
/// Largest key or allowed_signers file.
pub const MAX_KEY: u64 = 1 << 20;
/// Largest manifest (`SHA256SUMS`): about 200,000 lines.
pub const MAX_MANIFEST: u64 = 32 << 20;
/// Largest detached signature (`SHA256SUMS.sig`); real ones are under 2 KB.
pub const MAX_SIGNATURE: u64 = 64 << 10;

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read the {what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the {what} {path} is {kind}, not a regular file; dockproof reads input only from \
         regular files (symbolic links to them are fine): copy it to a file first"
    )]
    NotRegular {
        what: &'static str,
        path: PathBuf,
        kind: &'static str,
    },
    #[error(
        "the {what} {path} is larger than {limit} bytes, more than any real one; refusing to read it"
    )]
    TooLarge {
        what: &'static str,
        path: PathBuf,
        limit: u64,
    },
    #[error("the {what} {path} is not UTF-8 text (byte {offset})")]
    NotText {
        what: &'static str,
        path: PathBuf,
        offset: usize,
    },
}

/// What a non-regular file is, in words.
pub fn kind_of(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Checks that `path`, symbolic links followed, is a regular file; returns its metadata.
pub fn check_regular(path: &Path, what: &'static str) -> Result<Metadata, InputError> {
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
        what,
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            what,
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    Ok(meta)
}

/// Opens a regular file for reading, never blocking on a FIFO and never accepting a device,
/// and refuses it when it is larger than `limit`. The file is checked twice: by path before
/// opening and on the descriptor after.
pub fn open(path: &Path, what: &'static str, limit: u64) -> Result<(File, Metadata), InputError> {
    check_regular(path, what)?;
    let io = |source| InputError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    // O_NONBLOCK: if a FIFO is swapped in after the check, the open returns at once instead of
    // waiting for a writer; on a regular file the flag changes nothing.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            what,
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            what,
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok((file, meta))
}

/// Reads a whole regular file of at most `limit` bytes.
pub fn read(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, InputError> {
    let (file, meta) = open(path, what, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // One byte past the limit: a file that grew since it was measured is refused, not cut.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| InputError::Io {
            what,
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            what,
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// Reads a whole regular file of at most `limit` bytes as UTF-8 text.
pub fn read_to_string(path: &Path, what: &'static str, limit: u64) -> Result<String, InputError> {
    let bytes = read(path, what, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::NotText {
        what,
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_and_links_to_them_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.yaml");
        std::fs::write(&file, "waivers: []\n").unwrap();
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(
            read_to_string(&link, "waiver file", 100).unwrap(),
            "waivers: []\n"
        );
    }

    #[test]
    fn devices_directories_and_fifos_are_refused_by_name() {
        let err = read(Path::new("/dev/zero"), "snapshot", MAX_SNAPSHOT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the snapshot /dev/zero is a character device, not a regular file; dockproof reads \
             input only from regular files (symbolic links to them are fine): copy it to a file \
             first"
        );
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read(dir.path(), "waiver file", 10),
            Err(InputError::NotRegular {
                kind: "a directory",
                ..
            })
        ));
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let link = dir.path().join("assessment.json");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(matches!(
            read(&link, "assessment", 10),
            Err(InputError::NotRegular {
                kind: "a FIFO (named pipe)",
                ..
            })
        ));
    }

    #[test]
    fn sizes_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big");
        std::fs::write(&file, vec![b'x'; 11]).unwrap();
        assert_eq!(read(&file, "manifest", 11).unwrap().len(), 11);
        let err = read(&file, "manifest", 10).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("is larger than 10 bytes, more than any real one; refusing to read it"));
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_to_string(&file, "key", 10),
            Err(InputError::NotText { offset: 0, .. })
        ));
    }
}
