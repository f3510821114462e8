//! The evidence bundle: one directory holding the snapshot, the assessment, the requested
//! reports and a `SHA256SUMS` manifest that `sha256sum -c` accepts.
//!
//! A bundle is written into a hidden temporary directory beside its destination and renamed into
//! place only when every file is complete and synced, so a crash, a full disk or a renderer error
//! never leaves a half bundle under the final name. An existing bundle is never overwritten.
//! `snapshot.json` and `assessment.json` are always part of a bundle: they are the evidence an
//! auditor re-performs and what `diff` compares.
//!
//! With a signing key the manifest is also signed ([`SIGNATURE`], SSHSIG, see [`crate::sign`])
//! inside the temporary directory, so a bundle is either complete with its signature or absent.
//! [`verify`] re-checks a bundle against its manifest and, given keys, its signature.

mod kinds;
mod manifest;
mod partial;
mod verify;

pub use kinds::{BundleKind, ASSESSMENT_FILE};
pub use partial::{sweep as sweep_partials, Leftover};

pub use manifest::{parse_manifest, ManifestEntry};
pub use verify::{verify, Problem, SignatureStatus, Verification};

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::assessment::Assessment;
use crate::render::{Format, RenderError};
use crate::sign::{SignError, Signer};

/// Name of the manifest file.
pub const MANIFEST: &str = "SHA256SUMS";
/// Name of the manifest's detached SSHSIG signature.
pub const SIGNATURE: &str = "SHA256SUMS.sig";
/// Name of the snapshot copy in a bundle.
pub const SNAPSHOT_FILE: &str = "snapshot.json";

/// Why a bundle could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{0} is not a bundle directory")]
    NotADirectory(PathBuf),
    #[error("{0} already exists; dockproof never overwrites a bundle: choose another --out")]
    Exists(PathBuf),
    #[error("cannot write bundle file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render {file}: {source}")]
    Render { file: String, source: RenderError },
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a bundle at `target`, signing its manifest when a signer is given, and returns the
/// list of files written (manifest, then signature, last).
pub fn write_signed(
    target: &Path,
    snapshot_json: &[u8],
    assessment: &Assessment,
    formats: &[Format],
    signer: Option<&Signer>,
) -> Result<Vec<String>, BundleError> {
    write_with_files(target, snapshot_json, &[], assessment, formats, signer)
}

/// A data file that goes into a bundle beside the reports, e.g. `sbom/<image>.cdx.json`.
#[derive(Debug, Clone)]
pub struct ExtraFile {
    /// Relative `/`-separated path inside the bundle; plain components only.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// How the files of a bundle reach the disk before it is renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each file is synced as it is closed: a bundle of its own.
    Synced,
    /// Nothing is synced here: the bundle is part of a larger one (a host of a fleet) whose
    /// writer syncs everything once, with [`sync_tree`], before its own rename.
    Deferred,
}

/// [`write_signed`] with extra data files, written and hashed right after the snapshot so the
/// reports can list them.
pub fn write_with_files(
    target: &Path,
    snapshot_json: &[u8],
    extra: &[ExtraFile],
    assessment: &Assessment,
    formats: &[Format],
    signer: Option<&Signer>,
) -> Result<Vec<String>, BundleError> {
    let files = write_hashed(
        target,
        snapshot_json,
        extra,
        assessment,
        formats,
        signer,
        Durability::Synced,
    )?;
    Ok(files.into_iter().map(|(name, _)| name).collect())
}

/// [`write_with_files`] returning every file written with its SHA-256 (the manifest and its
/// signature last), so that an enclosing fleet manifest need not read them back.
pub fn write_hashed(
    target: &Path,
    snapshot_json: &[u8],
    extra: &[ExtraFile],
    assessment: &Assessment,
    formats: &[Format],
    signer: Option<&Signer>,
    durability: Durability,
) -> Result<Vec<(String, String)>, BundleError> {
    let tmp = staging_dir(target)?;

    // Each file is hashed as it is written. The data files come first and the human reports
    // last, so a report can list the hashes of everything it summarises.
    let mut written: Vec<(String, String)> = Vec::new();
    let sha = write_file(&tmp.path().join(SNAPSHOT_FILE), durability, |w| {
        w.write_all(snapshot_json).map_err(RenderError::Io)
    })?;
    written.push((SNAPSHOT_FILE.to_string(), sha));
    for file in extra {
        let path = extra_path(tmp.path(), &file.path)?;
        let sha = write_file(&path, durability, |w| {
            w.write_all(&file.bytes).map_err(RenderError::Io)
        })?;
        written.push((file.path.clone(), sha));
    }

    let mut formats: Vec<Format> = formats.to_vec();
    if !formats.contains(&Format::Json) {
        formats.insert(0, Format::Json);
    }
    formats.sort_by_key(|f| matches!(f, Format::Html | Format::Pdf));
    formats.dedup();
    for format in formats {
        let name = format.file_name();
        let renderer = format.renderer();
        let path = tmp.path().join(name);
        let sha = write_file(&path, durability, |w| {
            renderer.render_in_bundle(assessment, &written, w)
        })
        .map_err(|e| match e {
            BundleError::Render { source, .. } => BundleError::Render {
                file: name.to_string(),
                source,
            },
            other => other,
        })?;
        written.push((name.to_string(), sha));
    }

    written.sort();
    let listed: std::collections::BTreeSet<String> =
        written.iter().map(|(name, _)| name.clone()).collect();
    if let Some(file) = BundleKind::Host.missing(&listed).first() {
        return Err(BundleError::Io {
            path: tmp.path().join(file),
            source: std::io::Error::other("a mandatory bundle file was not written"),
        });
    }
    let mut manifest = String::new();
    for (name, sha) in &written {
        manifest.push_str(&format!("{sha}  {name}\n"));
    }
    let sha = write_file(&tmp.path().join(MANIFEST), durability, |w| {
        w.write_all(manifest.as_bytes()).map_err(RenderError::Io)
    })?;
    written.push((MANIFEST.to_string(), sha));

    if let Some(signer) = signer {
        let signature = signer.sign(manifest.as_bytes())?;
        let sha = write_file(&tmp.path().join(SIGNATURE), durability, |w| {
            w.write_all(signature.as_bytes()).map_err(RenderError::Io)
        })?;
        written.push((SIGNATURE.to_string(), sha));
    }

    commit(tmp, target)?;
    Ok(written)
}

/// Creates the hidden directory a bundle is assembled in, beside `target` (mode 0700, named so
/// that [`sweep_partials`] recognises it if the run is killed). Fails when `target` exists.
pub fn staging_dir(target: &Path) -> Result<tempfile::TempDir, BundleError> {
    if target.exists() {
        return Err(BundleError::Exists(target.to_path_buf()));
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(&partial::own_prefix())
        .tempdir_in(&parent)
        .map_err(io_err(&parent))?;
    // Evidence is confidential: the directory is 0700 and every file 0600, whatever the umask.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700))
        .map_err(io_err(tmp.path()))?;
    Ok(tmp)
}

/// Renames a complete staging directory to `target`; never replaces an existing bundle.
pub fn commit(staging: tempfile::TempDir, target: &Path) -> Result<(), BundleError> {
    // Checked again right before the rename: another process may have taken the name meanwhile.
    if target.exists() {
        return Err(BundleError::Exists(target.to_path_buf()));
    }
    fs::rename(staging.path(), target).map_err(io_err(target))?;
    let _ = staging.keep();
    Ok(())
}

/// Writes a new file (mode 0600) holding `bytes`, synced unless `durability` defers it; never
/// replaces one. Returns the SHA-256 of what was written.
pub fn write_new_file(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<String, BundleError> {
    write_file(path, durability, |w| {
        w.write_all(bytes).map_err(RenderError::Io)
    })
}

/// Flushes to disk everything written under `root` (one `syncfs` of its filesystem), for a
/// bundle whose files were written with [`Durability::Deferred`].
pub fn sync_tree(root: &Path) -> Result<(), BundleError> {
    use std::os::fd::AsRawFd;
    let dir = File::open(root).map_err(io_err(root))?;
    // SAFETY: syncfs only reads the descriptor, which `dir` keeps open for the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
        return Err(io_err(root)(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Where an extra file goes under the temporary bundle directory; creates its directories.
fn extra_path(root: &Path, relative: &str) -> Result<PathBuf, BundleError> {
    let plain = !relative.is_empty()
        && relative
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
    if !plain {
        return Err(BundleError::Io {
            path: PathBuf::from(relative),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a plain relative path inside the bundle",
            ),
        });
    }
    let path = root.join(relative);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        // Like the bundle directory itself, whatever the umask.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(path)
}

/// A writer that hashes what passes through it, so a file is never read back to be hashed.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Creates `path` (mode 0600, never replacing a file), writes it with `body` and returns the
/// SHA-256 of the bytes written; syncs it unless `durability` defers that.
fn write_file(
    path: &Path,
    durability: Durability,
    body: impl FnOnce(&mut dyn Write) -> Result<(), RenderError>,
) -> Result<String, BundleError> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io_err(path))?;
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io_err(path))?;
    // The buffer sits outside the hasher, so the hasher sees large blocks.
    let mut w = BufWriter::with_capacity(
        64 * 1024,
        Hashing {
            inner: file,
            hasher: Sha256::new(),
        },
    );
    body(&mut w).map_err(|source| BundleError::Render {
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        source,
    })?;
    let Hashing {
        inner: file,
        hasher,
    } = w.into_inner().map_err(|e| BundleError::Io {
        path: path.to_path_buf(),
        source: e.into_error(),
    })?;
    match durability {
        Durability::Synced => file.sync_all().map_err(io_err(path))?,
        Durability::Deferred => start_writeback(&file),
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Asks the kernel to start writing `file` to disk now, without waiting for it. A fleet writes
/// gigabytes before its one [`sync_tree`]; left to the kernel's dirty-page thresholds, nearly all
/// of it was still in memory then, and that sync took a second of an otherwise idle run. Only a
/// hint: durability still comes from [`sync_tree`], so a failure here is ignored.
fn start_writeback(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: sync_file_range only reads the descriptor, which `file` keeps open for the call.
    let _ = unsafe { libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
}

/// The name a file under `root` has in a manifest: its path relative to `root` with `/`
/// separators; `None` when it is not under `root`.
pub fn manifest_name(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, BundleError> {
    hash_file(path).map_err(|source| BundleError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// SHA-256 of bytes, hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
