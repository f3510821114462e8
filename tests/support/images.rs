//! Offline test images with package databases (see tests/data/images/README.md), shared by
//! the inventory and vulnerability tests. Built once per run with `docker import` and a classic
//! `docker build` layer; kept between local runs like the busybox image.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::common::{docker_ok, LABEL};

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
pub const VULNERABLE: &str = "dockproof-test/wheezy-vulnerable:1";
pub const FIXED: &str = "dockproof-test/wheezy-fixed:1";
pub const ALPINE: &str = "dockproof-test/alpine-packages:1";

fn data(name: &str) -> PathBuf {
    Path::new(DATA).join("images").join(name)
}

/// `docker import`s a root made of busybox and `files` (path in image, fixture file).
fn import(tag: &str, files: &[(&str, &str)], links: &[(&str, &str)]) {
    let root = tempfile::tempdir().expect("temp dir");
    let r = root.path();
    std::fs::create_dir_all(r.join("bin")).unwrap();
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed (apt-get install busybox-static)");
    std::fs::copy(busybox, r.join("bin/busybox")).unwrap();
    for (inside, fixture) in files {
        let dest = r.join(inside);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(data(fixture), dest).unwrap();
    }
    for (inside, target) in links {
        let dest = r.join(inside);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, dest).unwrap();
    }
    let tar = root.path().with_extension("tar");
    let ok = Command::new("tar")
        .args([
            "-C",
            &r.display().to_string(),
            "-cf",
            &tar.display().to_string(),
            ".",
        ])
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar failed");
    docker_ok(&[
        "import",
        "--change",
        "LABEL dockproof.test=1",
        &tar.display().to_string(),
        tag,
    ]);
    let _ = std::fs::remove_file(tar);
}

/// Builds the three test images once (kept between local runs, like the busybox image).
pub fn ensure_images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let exists = |t: &str| {
            Command::new("docker")
                .args(["image", "inspect", t])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
        };
        if !exists(VULNERABLE) {
            import(
                VULNERABLE,
                &[
                    ("usr/lib/os-release", "wheezy.os-release"),
                    ("var/lib/dpkg/status", "wheezy-vulnerable.status"),
                ],
                &[("etc/os-release", "../usr/lib/os-release")],
            );
        }
        if !exists(FIXED) {
            // A second layer on top, as an upgrade in a Dockerfile makes it.
            let ctx = tempfile::tempdir().unwrap();
            std::fs::copy(data("wheezy-fixed.status"), ctx.path().join("status")).unwrap();
            std::fs::write(
                ctx.path().join("Dockerfile"),
                format!("FROM {VULNERABLE}\nCOPY status /var/lib/dpkg/status\n"),
            )
            .unwrap();
            let out = Command::new("docker")
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "--label", LABEL, "-t", FIXED])
                .arg(ctx.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "docker build failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if !exists(ALPINE) {
            import(
                ALPINE,
                &[
                    ("etc/os-release", "alpine.os-release"),
                    ("lib/apk/db/installed", "alpine.installed"),
                ],
                &[],
            );
        }
    });
}

/// Runs one labelled container per image; removed on drop.
pub struct Running(Vec<String>);

impl Running {
    pub fn start(test: &str, images: &[&str]) -> Running {
        let mut names = Vec::new();
        for (i, image) in images.iter().enumerate() {
            let name = format!("dpt-{}-{test}-{i}", std::process::id());
            docker_ok(&[
                "run",
                "-d",
                "--label",
                LABEL,
                "--name",
                &name,
                image,
                "/bin/busybox",
                "sleep",
                "600",
            ]);
            names.push(name);
        }
        Running(names)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut args = vec!["rm".to_string(), "-f".to_string()];
        args.extend(self.0.iter().cloned());
        let _ = Command::new("docker").args(&args).output();
    }
}

/// Id of a local image.
pub fn image_id(tag: &str) -> String {
    docker_ok(&["image", "inspect", "--format", "{{.Id}}", tag])
}
