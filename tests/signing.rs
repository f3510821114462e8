//! End-to-end tests of signed evidence: `--sign` with a key made by the real `ssh-keygen`, the
//! signature checked by `ssh-keygen -Y verify` and by `dockproof verify`, and every kind of
//! tampering named by `dockproof verify`. No engine is needed: bundles come from the sample.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);
const IDENTITY: &str = "auditor@example.com";

/// A temporary directory with an ed25519 key pair made by `ssh-keygen`.
struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = Keys { dir };
        keys.generate("key", "");
        keys
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `ssh-keygen -t ed25519` for a key named `name` with passphrase `passphrase`.
    fn generate(&self, name: &str, passphrase: &str) -> PathBuf {
        let path = self.path(name);
        let out = Command::new("ssh-keygen")
            .args([
                "-q", "-t", "ed25519", "-C", IDENTITY, "-N", passphrase, "-f",
            ])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("ssh-keygen runs (install openssh-client)");
        assert!(out.status.success(), "ssh-keygen failed: {}", stderr(&out));
        path
    }

    /// An allowed_signers file trusting the public key `name.pub` for IDENTITY.
    fn allowed_signers(&self, name: &str) -> PathBuf {
        let public = std::fs::read_to_string(self.path(&format!("{name}.pub"))).expect("pub key");
        let path = self.path("allowed_signers");
        std::fs::write(&path, format!("{IDENTITY} {public}")).expect("write allowed_signers");
        path
    }
}

/// Writes a bundle of the hardened sample at `<dir>/b`, signed with `key` when given.
fn bundle(dir: &Path, key: Option<&Path>) -> (PathBuf, Output) {
    let out = dir.join("b");
    let mut args = vec![
        "report".to_string(),
        HARDENED.to_string(),
        "--format".to_string(),
        "html,json,csv".to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ];
    if let Some(key) = key {
        args.extend(["--sign".to_string(), key.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = dockproof(&args);
    (out, output)
}

fn signed_bundle(keys: &Keys) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, out) = bundle(dir.path(), Some(&keys.path("key")));
    assert!(
        out.status.success(),
        "report --sign failed: {}",
        stderr(&out)
    );
    (dir, b)
}

fn verify(bundle: &Path, key: Option<&Path>) -> (Option<i32>, String) {
    let mut args = vec!["verify".to_string(), bundle.display().to_string()];
    if let Some(key) = key {
        args.extend(["--key".to_string(), key.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = dockproof(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `ssh-keygen -Y verify` of the bundle's signature; returns success and its output.
fn ssh_keygen_verify(bundle: &Path, allowed: &Path) -> (bool, String) {
    let manifest = std::fs::File::open(bundle.join("SHA256SUMS")).expect("manifest");
    let out = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(allowed)
        .args(["-I", IDENTITY, "-n", "file", "-s"])
        .arg(bundle.join("SHA256SUMS.sig"))
        .stdin(manifest)
        .output()
        .expect("ssh-keygen runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn a_signed_bundle_verifies_with_ssh_keygen_sha256sum_and_dockproof() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    assert!(b.join("SHA256SUMS.sig").is_file());
    let sig = std::fs::read_to_string(b.join("SHA256SUMS.sig")).expect("signature");
    assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----\n"), "{sig}");

    let allowed = keys.allowed_signers("key");
    let (ok, text) = ssh_keygen_verify(&b, &allowed);
    assert!(ok, "ssh-keygen -Y verify rejected the signature: {text}");
    assert!(
        text.contains(&format!("Good \"file\" signature for {IDENTITY}")),
        "{text}"
    );

    let out = Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&b)
        .output()
        .expect("sha256sum runs");
    assert!(out.status.success(), "sha256sum -c: {}", stderr(&out));

    for key in [keys.path("key.pub"), allowed] {
        let (code, stdout) = verify(&b, Some(&key));
        assert_eq!(code, Some(0), "{stdout}");
        assert!(
            stdout.contains("signature: good, made by SHA256:"),
            "{stdout}"
        );
        assert!(
            stdout
                .trim_end()
                .ends_with("files match SHA256SUMS; signature good"),
            "{stdout}"
        );
        assert!(stdout.contains("VERIFIED: "), "{stdout}");
    }
}

#[test]
fn without_a_key_the_signature_is_reported_but_not_checked() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    let (code, stdout) = verify(&b, None);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("signature: present, not checked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4 files match SHA256SUMS; signature present, not checked"),
        "{stdout}"
    );
}

#[test]
fn a_changed_byte_in_the_report_is_named() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    let path = b.join("report.html");
    let mut bytes = std::fs::read(&path).expect("report.html");
    bytes[10] ^= 1;
    std::fs::write(&path, bytes).expect("tamper");
    let (code, stdout) = verify(&b, Some(&keys.path("key.pub")));
    assert_eq!(code, Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "changed: report.html (its SHA-256 differs from SHA256SUMS)"
    );
    // The manifest itself is intact, so its signature still holds.
    assert!(stdout.contains("signature: good"), "{stdout}");
    assert!(lines[lines.len() - 1].starts_with("FAILED: "), "{stdout}");
}

#[test]
fn a_deleted_file_is_named_removed_and_an_extra_one_added() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    std::fs::remove_file(b.join("findings.csv")).expect("delete");
    std::fs::write(b.join("notes.txt"), "slipped in").expect("add");
    let (code, stdout) = verify(&b, None);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("removed: findings.csv (in SHA256SUMS, not in the bundle)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("added: notes.txt (in the bundle, not in SHA256SUMS)\n"),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.ends_with(": 2 problem(s) with the files")),
        "{stdout}"
    );
}

#[test]
fn an_edited_manifest_breaks_the_signature() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    // A file added and listed: the hashes agree, only the signature can tell.
    std::fs::write(b.join("notes.txt"), "slipped in").expect("add");
    let hash = dockproof::bundle::sha256_bytes(b"slipped in");
    let manifest = b.join("SHA256SUMS");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    text.push_str(&format!("{hash}  notes.txt\n"));
    std::fs::write(&manifest, text).expect("edit manifest");

    let (code, stdout) = verify(&b, None);
    assert_eq!(
        code,
        Some(0),
        "without a key the edit goes unseen: {stdout}"
    );

    let (code, stdout) = verify(&b, Some(&keys.path("key.pub")));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("signature: BAD: SHA256SUMS.sig does not match the manifest"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with(": signature not valid"),
        "{stdout}"
    );

    let (ok, text) = ssh_keygen_verify(&b, &keys.allowed_signers("key"));
    assert!(!ok, "ssh-keygen accepted an edited manifest: {text}");
}

#[test]
fn another_public_key_does_not_verify() {
    let keys = Keys::new();
    let (_dir, b) = signed_bundle(&keys);
    keys.generate("other", "");
    let (code, stdout) = verify(&b, Some(&keys.path("other.pub")));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("which is not among the given keys"),
        "{stdout}"
    );
}

#[test]
fn a_key_with_no_signature_fails() {
    let keys = Keys::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, out) = bundle(dir.path(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!b.join("SHA256SUMS.sig").exists());
    let (code, stdout) = verify(&b, None);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("signature: none"), "{stdout}");
    let (code, stdout) = verify(&b, Some(&keys.path("key.pub")));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("signature: MISSING"), "{stdout}");
}

#[test]
fn an_encrypted_key_is_refused_before_anything_is_written() {
    let keys = Keys::new();
    let encrypted = keys.generate("encrypted", "correct horse");
    let dir = tempfile::tempdir().expect("temp dir");
    let (b, out) = bundle(dir.path(), Some(&encrypted));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{} is encrypted with a passphrase",
            encrypted.display()
        )),
        "{err}"
    );
    assert!(!b.exists(), "a bundle was left behind");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read temp dir")
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

#[test]
fn malformed_and_escaping_manifest_lines_are_named_by_line() {
    let keys = Keys::new();
    let (dir, b) = signed_bundle(&keys);
    // A file outside the bundle that a hostile manifest points at.
    std::fs::write(dir.path().join("secret"), "outside").expect("outside file");
    let hash = dockproof::bundle::sha256_bytes(b"outside");
    let manifest = b.join("SHA256SUMS");
    let mut text = std::fs::read_to_string(&manifest).expect("manifest");
    let lines = text.lines().count();
    text.push_str("not a manifest line\n");
    text.push_str(&format!("{hash}  ../secret\n"));
    std::fs::write(&manifest, text).expect("edit manifest");

    let (code, stdout) = verify(&b, None);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "malformed: SHA256SUMS line {}: expected `<64 hex digits>  <file name>`\n",
            lines + 1
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "rejected: SHA256SUMS line {}: `../secret` points outside the bundle; not opened\n",
            lines + 2
        )),
        "{stdout}"
    );
}

#[test]
fn verify_of_a_missing_directory_is_an_input_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dockproof(&["verify", &dir.path().join("nope").display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a bundle directory"),
        "{}",
        stderr(&out)
    );
}
