//! Re-checking a bundle: every file the manifest lists is hashed again, every file it does not
//! list is named, and the manifest's signature is checked against keys the auditor trusts.
//!
//! Manifest paths are data from a file that may have been tampered with, so a path that is
//! absolute or climbs out of the bundle (`..`) is rejected before anything is opened, and a
//! listed path that is, or passes through, a symbolic link is reported, never followed.
//! The manifest is read as `sha256sum -c` reads it: CRLF line ends, blank lines, `./` prefixes
//! and `\`-escaped names are accepted with their GNU meaning. A manifest that does not list the
//! mandatory files of its bundle kind ([`super::kinds`]) fails, so an emptied `SHA256SUMS`
//! cannot verify, signed or not.
//! This module reports what it finds; it never prints and never changes the bundle.

use std::fmt;
use std::path::Path;

use super::kinds::{BundleKind, ASSESSMENT_FILE};
use super::manifest::{parse_manifest, ManifestEntry};
use super::{hash_file, BundleError, MANIFEST, SIGNATURE};
use crate::input::{MAX_ASSESSMENT, MAX_MANIFEST, MAX_SIGNATURE};
use crate::sign::TrustedKeys;

/// One way a bundle differs from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file's SHA-256 is not the one listed.
    Changed { file: String },
    /// In the bundle but not in the manifest.
    Added { file: String },
    /// In the manifest but not in the bundle.
    Removed { file: String },
    /// Listed, but a directory, a symbolic link or under one; not followed.
    NotRegular { file: String },
    /// Listed, but could not be read.
    Unreadable { file: String, error: String },
    /// A manifest line that is not `<sha256>  <file>`.
    Malformed { line: usize, reason: String },
    /// A manifest path that would leave the bundle; never opened.
    Escapes { line: usize, path: String },
    /// The bundle has no manifest at all.
    NoManifest,
    /// A file every bundle of this kind holds is not listed in the manifest.
    Mandatory { file: String, kind: &'static str },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // File names come from the bundle and the manifest: shown, never obeyed.
        use crate::text::terminal as t;
        match self {
            Problem::Changed { file } => write!(
                f,
                "changed: {} (its SHA-256 differs from {MANIFEST})",
                t(file)
            ),
            Problem::Added { file } => {
                write!(f, "added: {} (in the bundle, not in {MANIFEST})", t(file))
            }
            Problem::Removed { file } => {
                write!(f, "removed: {} (in {MANIFEST}, not in the bundle)", t(file))
            }
            Problem::NotRegular { file } => write!(
                f,
                "not a regular file: {} (a directory, symbolic link, FIFO or device; not followed)",
                t(file)
            ),
            Problem::Unreadable { file, error } => {
                write!(f, "unreadable: {}: {}", t(file), t(error))
            }
            Problem::Malformed { line, reason } => {
                write!(f, "malformed: {MANIFEST} line {line}: {}", t(reason))
            }
            Problem::Escapes { line, path } => write!(
                f,
                "rejected: {MANIFEST} line {line}: `{}` points outside the bundle; not opened",
                t(path)
            ),
            Problem::NoManifest => write!(f, "missing: {MANIFEST} (nothing to verify against)"),
            Problem::Mandatory { file, kind } => write!(
                f,
                "missing: {} is not listed in {MANIFEST}; every {kind} holds it",
                t(file)
            ),
        }
    }
}

/// What is known about the manifest's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// No signature, and no key was given.
    Absent,
    /// A signature is present; no key was given to check it.
    NotChecked,
    /// Made over the manifest by the trusted key with this fingerprint.
    Good { fingerprint: String },
    /// Keys were given and the signature does not verify.
    Bad { reason: String },
    /// Keys were given but the bundle has no signature.
    Missing,
}

impl SignatureStatus {
    /// Whether this status fails verification.
    pub fn is_failure(&self) -> bool {
        matches!(self, SignatureStatus::Bad { .. } | SignatureStatus::Missing)
    }
}

impl fmt::Display for SignatureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureStatus::Absent => write!(f, "signature: none ({SIGNATURE} is absent)"),
            SignatureStatus::NotChecked => write!(
                f,
                "signature: present, not checked ({SIGNATURE}; give --key to check it)"
            ),
            SignatureStatus::Good { fingerprint } => {
                write!(f, "signature: good, made by {fingerprint}")
            }
            SignatureStatus::Bad { reason } => write!(f, "signature: BAD: {SIGNATURE} {reason}"),
            SignatureStatus::Missing => write!(
                f,
                "signature: MISSING: a key was given but the bundle has no {SIGNATURE}"
            ),
        }
    }
}

/// The outcome of verifying a bundle.
#[derive(Debug, Clone)]
pub struct Verification {
    /// Listed files whose hash matched.
    pub matched: usize,
    /// Every difference found, manifest problems first, then listed files, then added ones.
    pub problems: Vec<Problem>,
    pub signature: SignatureStatus,
}

impl Verification {
    /// True when every file matches and the signature, if asked for, is good.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && !self.signature.is_failure()
    }
}

/// Verifies the bundle in `dir`: hashes, unlisted files and, when `keys` are given, the
/// signature. Errors only when `dir` itself cannot be read; everything else is a [`Problem`].
pub fn verify(dir: &Path, keys: Option<&TrustedKeys>) -> Result<Verification, BundleError> {
    if !dir.is_dir() {
        return Err(BundleError::NotADirectory(dir.to_path_buf()));
    }
    let manifest_path = dir.join(MANIFEST);
    let mut problems = Vec::new();
    let manifest = match regular_file(dir, MANIFEST) {
        Ok(true) => Some(crate::input::read(
            &manifest_path,
            "manifest",
            MAX_MANIFEST,
        )?),
        Ok(false) => None,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            problems.push(Problem::NotRegular {
                file: MANIFEST.to_string(),
            });
            None
        }
        Err(e) => return Err(read_err(&manifest_path)(e)),
    };

    let mut matched = 0;
    let mut listed = std::collections::BTreeSet::new();
    match &manifest {
        None if problems.is_empty() => problems.push(Problem::NoManifest),
        None => {}
        Some(bytes) => {
            let (entries, bad) = parse_manifest(&String::from_utf8_lossy(bytes));
            problems.extend(bad);
            let mut assessment_matched = false;
            for entry in entries {
                listed.insert(entry.path.clone());
                match check_entry(dir, &entry) {
                    None => {
                        matched += 1;
                        assessment_matched |= entry.path == ASSESSMENT_FILE;
                    }
                    Some(p) => problems.push(p),
                }
            }
            let mut kind = BundleKind::of_listing(&listed);
            if kind == BundleKind::Host
                && assessment_matched
                && !listed.contains(super::SNAPSHOT_FILE)
                && is_fleet_without_hosts(&dir.join(ASSESSMENT_FILE))
            {
                kind = BundleKind::Fleet;
            }
            for file in kind.missing(&listed) {
                problems.push(Problem::Mandatory {
                    file,
                    kind: kind.label(),
                });
            }
        }
    }

    for entry in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let file = e
                    .path()
                    .and_then(|p| p.strip_prefix(dir).ok())
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| dir.display().to_string());
                problems.push(Problem::Unreadable {
                    file,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let Some(name) = super::manifest_name(dir, entry.path()) else {
            continue;
        };
        if name != MANIFEST && name != SIGNATURE && !listed.contains(&name) {
            problems.push(Problem::Added { file: name });
        }
    }

    let signature = signature_status(dir, manifest.as_deref(), keys);
    Ok(Verification {
        matched,
        problems,
        signature,
    })
}

/// Whether the assessment at `path` (its hash already matched the manifest) is a fleet's none
/// of whose targets was assessed. Such a fleet lists no host bundle, so its listing alone reads
/// as a host bundle without a snapshot. Every host must say `"assessed": false`: a fleet
/// assessment naming an assessed host whose bundle the manifest left out stays a host bundle
/// missing its snapshot, and fails.
fn is_fleet_without_hosts(path: &Path) -> bool {
    #[derive(serde::Deserialize)]
    struct Shape {
        kind: Option<String>,
        hosts: Vec<HostShape>,
    }
    #[derive(serde::Deserialize)]
    struct HostShape {
        assessed: Option<bool>,
    }
    let Ok(bytes) = crate::input::read(path, "fleet assessment", MAX_ASSESSMENT) else {
        return false;
    };
    serde_json::from_slice::<Shape>(&bytes).is_ok_and(|a| {
        a.kind.as_deref() == Some("fleet") && a.hosts.iter().all(|h| h.assessed == Some(false))
    })
}

fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `dir/name` exists as a regular file, with every part of the path checked without
/// following symbolic links. `Ok(false)` when it does not exist.
fn regular_file(dir: &Path, name: &str) -> std::io::Result<bool> {
    let mut path = dir.to_path_buf();
    let parts: Vec<&str> = name.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let last = i + 1 == parts.len();
        let fine = if last {
            meta.file_type().is_file()
        } else {
            meta.file_type().is_dir()
        };
        if !fine {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
    }
    Ok(true)
}

fn check_entry(dir: &Path, entry: &ManifestEntry) -> Option<Problem> {
    let file = entry.path.clone();
    match regular_file(dir, &entry.path) {
        Ok(true) => {}
        Ok(false) => return Some(Problem::Removed { file }),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Some(Problem::NotRegular { file })
        }
        Err(e) => {
            return Some(Problem::Unreadable {
                file,
                error: e.to_string(),
            })
        }
    }
    match hash_file(&dir.join(&entry.path)) {
        Ok(sha) if sha == entry.sha256 => None,
        Ok(_) => Some(Problem::Changed { file }),
        Err(e) => Some(Problem::Unreadable {
            file,
            error: e.to_string(),
        }),
    }
}

fn signature_status(
    dir: &Path,
    manifest: Option<&[u8]>,
    keys: Option<&TrustedKeys>,
) -> SignatureStatus {
    let present = regular_file(dir, SIGNATURE);
    let Some(keys) = keys else {
        return match present {
            Ok(false) => SignatureStatus::Absent,
            _ => SignatureStatus::NotChecked,
        };
    };
    let bad = |reason: String| SignatureStatus::Bad { reason };
    match present {
        Ok(true) => {}
        Ok(false) => return SignatureStatus::Missing,
        Err(e) => return bad(format!("cannot be read ({e})")),
    }
    let Some(manifest) = manifest else {
        return bad(format!("has no {MANIFEST} to be checked against"));
    };
    let text = match crate::input::read_to_string(&dir.join(SIGNATURE), "signature", MAX_SIGNATURE)
    {
        Ok(t) => t,
        Err(e) => return bad(format!("cannot be read ({e})")),
    };
    match keys.verify(manifest, &text) {
        Ok(fingerprint) => SignatureStatus::Good { fingerprint },
        Err(reason) => bad(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn verify_names_changed_added_removed_and_symlinked_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("same"), "").unwrap();
        std::fs::write(d.join("edited"), "x").unwrap();
        std::fs::write(d.join("extra"), "").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", d.join("link")).unwrap();
        std::fs::write(
            d.join(MANIFEST),
            format!("{H}  same\n{H}  edited\n{H}  gone\n{H}  link\n"),
        )
        .unwrap();
        let v = verify(d, None).unwrap();
        assert_eq!(v.matched, 1);
        assert_eq!(
            v.problems,
            vec![
                Problem::Changed {
                    file: "edited".into()
                },
                Problem::Removed {
                    file: "gone".into()
                },
                Problem::NotRegular {
                    file: "link".into()
                },
                Problem::Mandatory {
                    file: "snapshot.json".into(),
                    kind: "host bundle"
                },
                Problem::Mandatory {
                    file: "assessment.json".into(),
                    kind: "host bundle"
                },
                Problem::Added {
                    file: "extra".into()
                },
            ]
        );
        assert_eq!(v.signature, SignatureStatus::Absent);
        assert!(!v.ok());
    }

    #[test]
    fn a_listed_path_through_a_symlinked_directory_is_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("f"), "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join(MANIFEST), format!("{H}  d/f\n")).unwrap();
        let v = verify(dir.path(), None).unwrap();
        assert_eq!(v.matched, 0);
        assert_eq!(
            v.problems,
            vec![
                Problem::NotRegular { file: "d/f".into() },
                Problem::Mandatory {
                    file: "snapshot.json".into(),
                    kind: "host bundle"
                },
                Problem::Mandatory {
                    file: "assessment.json".into(),
                    kind: "host bundle"
                },
                // The link itself is not listed either.
                Problem::Added { file: "d".into() },
            ]
        );
    }
}
