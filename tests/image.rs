//! The container image: built offline from the top-level Dockerfile around the static binary,
//! then run against the local engine with the exact `docker run` command of the README's
//! "Container image" section. Its bundle verifies and its daemon and host verdicts are the same
//! as a scan by the binary on the host.
//!
//! The static release build takes minutes on two cores, so it has its own target directory
//! (`target/image`, kept between runs) and runs under `CI=true` or when that binary already
//! exists; otherwise the test is skipped with the command that enables it.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const TAG: &str = "dockproof-test/dockproof:1";
const TARGET: &str = "x86_64-unknown-linux-gnu";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Builds (or brings up to date) the static binary; None when the test should not build it.
fn static_binary() -> Option<PathBuf> {
    let target_dir = root().join("target/image");
    let binary = target_dir.join(TARGET).join("release/dockproof");
    if !in_ci() && !binary.exists() {
        eprintln!(
            "SKIPPED: no static binary at {}; build it once with CARGO_TARGET_DIR=target/image \
             RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target \
             {TARGET} (CI=true builds it)",
            binary.display()
        );
        return None;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .current_dir(root())
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "static build failed: {}",
        common::stderr(&out)
    );
    Some(binary)
}

/// The README's commands in the fenced block that follows `marker`, continuation lines joined.
fn readme_command(marker: &str, starts: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = &readme[readme.find(marker).expect("README section")..];
    let block = section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.trim_start().starts_with(starts))
        .unwrap_or_else(|| panic!("no `{starts}` block after {marker} in README.md"));
    block.replace("\\\n", " ")
}

/// Removes the test image when the test ends, whatever the outcome.
struct ImageGuard;

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "-f", TAG])
            .output();
    }
}

fn statuses(bundle: &Path) -> BTreeMap<String, String> {
    let a: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap()).unwrap();
    a["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| matches!(r["resource"]["kind"].as_str(), Some("daemon" | "host")))
        .map(|r| {
            (
                r["check_id"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn only_bundle(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn the_image_scans_the_local_engine_as_the_readme_shows() {
    if !common::engine_available() {
        return;
    }
    let Some(binary) = static_binary() else {
        return;
    };
    let _guard = ImageGuard;

    // The README's build, from a context laid out as the repository's (the Dockerfile and
    // .dockerignore as they are, the binary where the build puts it).
    let build = readme_command("## Container image", "RUSTFLAGS=");
    let lines: Vec<&str> = build.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target \
             x86_64-unknown-linux-gnu",
            "strip target/x86_64-unknown-linux-gnu/release/dockproof",
            "docker build -t dockproof:0.1.0 ."
        ],
        "the README's build differs from what this test does"
    );
    let context = tempfile::tempdir().unwrap();
    for file in ["Dockerfile", ".dockerignore"] {
        std::fs::copy(root().join(file), context.path().join(file)).unwrap();
    }
    let placed = context.path().join("target").join(TARGET).join("release");
    std::fs::create_dir_all(&placed).unwrap();
    std::fs::copy(&binary, placed.join("dockproof")).unwrap();
    // The README's strip, on the copy in the context.
    let out = Command::new("sh")
        .args(["-c", lines[1]])
        .current_dir(context.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        lines[1],
        common::stderr(&out)
    );
    // Something .dockerignore keeps out of the context.
    std::fs::write(context.path().join("secret.txt"), "not for the image").unwrap();
    common::docker_ok(&[
        "build",
        "--label",
        common::LABEL,
        "-t",
        TAG,
        context.path().to_str().unwrap(),
    ]);
    let size: u64 = common::docker_ok(&["image", "inspect", "--format", "{{.Size}}", TAG])
        .parse()
        .unwrap();
    eprintln!("image size: {:.1} MB", size as f64 / 1e6);
    assert!(size < 40_000_000, "image is {size} bytes");

    // The README's run command, with the test's image tag, output directory and label.
    let run = readme_command("## Container image", "docker run");
    let evidence = tempfile::tempdir().unwrap();
    let words: Vec<String> = run
        .split_whitespace()
        .map(|w| match w {
            "dockproof:0.1.0" => TAG.to_string(),
            w if w.starts_with("\"$PWD/evidence\"") => {
                w.replace("\"$PWD/evidence\"", evidence.path().to_str().unwrap())
            }
            w => w.to_string(),
        })
        .collect();
    assert_eq!(words[..2], ["docker", "run"], "{run}");
    assert!(words.iter().any(|w| w == TAG), "{run}");
    let mut args: Vec<String> = vec!["run".into(), "--label".into(), common::LABEL.into()];
    args.extend(words[2..].iter().cloned());
    let out = Command::new("docker").args(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "docker {args:?}: {}",
        common::stderr(&out)
    );

    let bundle = only_bundle(evidence.path());
    for file in [
        "assessment.json",
        "snapshot.json",
        "report.html",
        "SHA256SUMS",
    ] {
        assert!(
            bundle.join(file).is_file(),
            "{file} missing in {}",
            bundle.display()
        );
    }
    let verified = common::dockproof(&["verify", bundle.to_str().unwrap()]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        common::stderr(&verified)
    );
    let snapshot: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("snapshot.json")).unwrap()).unwrap();
    assert_eq!(
        snapshot["target"]["docker_host"].as_str(),
        Some("unix:///var/run/docker.sock")
    );

    // The same verdicts as the host binary's own scan of the same engine and host.
    let native_dir = tempfile::tempdir().unwrap();
    let native = native_dir.path().join("b");
    let out = common::dockproof(&[
        "scan",
        "--format",
        "json",
        "--out",
        native.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let (image, host) = (statuses(&bundle), statuses(&native));
    assert_eq!(
        image.get("daemon.userns-remap"),
        host.get("daemon.userns-remap")
    );
    assert!(
        matches!(
            image.get("daemon.userns-remap").map(String::as_str),
            Some("pass" | "fail")
        ),
        "{image:?}"
    );
    // Without capabilities root cannot enter a directory without an x bit for its owner (here
    // /run/containerd is 0600): the image records that as a gap and its checks end in `error`,
    // never in another verdict.
    let gaps = snapshot["gaps"].to_string();
    let differing: Vec<(&String, &String)> = image
        .iter()
        .filter(|(id, status)| host.get(*id) != Some(*status))
        .collect();
    for (id, status) in &differing {
        assert_eq!(
            status.as_str(),
            "error",
            "{id}: image {status}, host {:?}",
            host.get(*id)
        );
    }
    assert!(
        differing.is_empty() || gaps.contains("Permission denied"),
        "{differing:?} without a permission gap: {gaps}"
    );
    assert!(differing.len() <= 3, "{differing:?}");
    assert_eq!(image.len(), host.len());
}
