//! Every Rust source under `src/` is seen by `cargo fmt`: rustfmt only follows plain `mod`
//! lines, so a module declared any other way (by a macro, through `include!`) would escape the
//! format check in CI while `cargo fmt --check` still passed. The test lists the files
//! `cargo fmt` formats (its verbose output) and compares them with a walk of `src/`; it also
//! fails when any of them is not formatted.
//!
//! It needs rustfmt (`rustup component add rustfmt`); without it the test is skipped with a
//! message, except under `CI=true`, where it fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn sources(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.insert(path);
        }
    }
}

#[test]
fn cargo_fmt_sees_and_accepts_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["fmt", "--all", "--check", "--", "-v"])
        .current_dir(root)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stdout.lines().all(|l| !l.starts_with("Formatting ")) {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but `cargo fmt` cannot run (rustup component add rustfmt): {stderr}");
        }
        eprintln!(
            "SKIPPED: `cargo fmt` cannot run ({}); install rustfmt",
            stderr.trim()
        );
        return;
    }
    let seen: BTreeSet<PathBuf> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Formatting "))
        .map(|p| PathBuf::from(p.trim()))
        .collect();
    let mut all = BTreeSet::new();
    sources(&root.join("src"), &mut all);
    assert!(all.len() > 50, "walked {} files", all.len());
    let unseen: Vec<&PathBuf> = all.difference(&seen).collect();
    assert!(
        unseen.is_empty(),
        "cargo fmt never looks at these files (declare them with plain `mod` lines): {unseen:#?}"
    );
    let diff: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("Formatting ") && !l.starts_with("Spent "))
        .collect();
    assert!(
        out.status.success(),
        "files are not formatted (run `cargo fmt`):\n{}\n{stderr}",
        diff.join("\n")
    );
}
