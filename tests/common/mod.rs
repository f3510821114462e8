//! Shared helpers for the end-to-end tests: the real `dockproof` binary against the real engine.
//!
//! Everything created here carries the label `dockproof.test=1` and a per-test name prefix, and
//! is removed when the guard is dropped. Under `CI=true` an unreachable engine fails the test
//! loudly; elsewhere engine tests are skipped with a visible message.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The locally built test image (Debian's busybox-static in an otherwise empty filesystem).
pub const IMAGE: &str = "dockproof-test/busybox:1";
/// Label on everything the tests create.
pub const LABEL: &str = "dockproof.test=1";

/// Path of the built binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_dockproof"))
}

/// A command's stderr as text, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the binary with arguments.
pub fn dockproof(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("the dockproof binary runs")
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI is installed")
}

/// Runs a docker command that must succeed.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the engine answers; panics under CI when it does not.
pub fn engine_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let ok = Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                panic!("CI=true but the Docker engine is unreachable: engine tests must run in CI");
            }
            eprintln!("SKIPPED: no reachable Docker engine; engine tests did not run");
        }
        ok
    })
}

/// Builds the test image once, from the host's busybox-static binary.
pub fn ensure_image() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        if docker(&["image", "inspect", IMAGE]).status.success() {
            return;
        }
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("busybox-static is installed (apt-get install busybox-static)");
        let root = tempfile::tempdir().expect("temp dir");
        let r = root.path();
        for d in ["bin", "etc", "tmp"] {
            std::fs::create_dir_all(r.join(d)).expect("mkdir");
        }
        std::fs::copy(busybox, r.join("bin/busybox")).expect("copy busybox");
        for applet in ["sh", "sleep", "true", "id"] {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(applet)).expect("symlink");
        }
        std::fs::write(
            r.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/tmp:/bin/sh\n",
        )
        .expect("passwd");
        let tar = root.path().with_extension("tar");
        let status = Command::new("tar")
            .args([
                "-C",
                &r.display().to_string(),
                "-cf",
                &tar.display().to_string(),
                ".",
            ])
            .status()
            .expect("tar runs");
        assert!(status.success(), "tar failed");
        docker_ok(&[
            "import",
            "--change",
            "CMD [\"/bin/sleep\",\"3600\"]",
            "--change",
            "LABEL dockproof.test=1",
            &tar.display().to_string(),
            IMAGE,
        ]);
        let _ = std::fs::remove_file(tar);
    });
}

/// Containers created by one test, removed on drop.
pub struct Containers {
    pub prefix: String,
    names: Vec<String>,
}

impl Containers {
    pub fn new(test: &str) -> Self {
        Containers {
            prefix: format!("dpt-{}-{test}", std::process::id()),
            names: Vec::new(),
        }
    }

    /// Full name of a container of this test.
    pub fn name(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    /// `docker run -d` (or `docker create` when `start` is false) with the test label.
    pub fn run(&mut self, short: &str, flags: &[&str], start: bool) -> String {
        let name = self.name(short);
        let mut args = vec![if start { "run" } else { "create" }];
        if start {
            args.push("-d");
        }
        args.extend(["--label", LABEL, "--name", &name]);
        args.extend(flags);
        args.push(IMAGE);
        docker_ok(&args);
        self.names.push(name.clone());
        name
    }
}

impl Drop for Containers {
    fn drop(&mut self) {
        if !self.names.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.names.iter().map(String::as_str));
            let _ = docker(&args);
        }
    }
}

/// A scanned bundle's assessment.
pub struct Scan {
    pub dir: tempfile::TempDir,
    pub bundle: PathBuf,
    pub assessment: Value,
    pub output: Output,
}

impl Scan {
    /// Verdict of `check` on the resource named `name`.
    pub fn verdict(&self, check: &str, name: &str) -> Option<String> {
        self.results()
            .find(|r| r["check_id"] == check && r["resource"]["name"] == name)
            .map(|r| r["status"].as_str().unwrap_or_default().to_string())
    }

    /// All verdicts on one resource, by check id.
    pub fn verdicts_for(&self, name: &str) -> BTreeMap<String, String> {
        self.results()
            .filter(|r| r["resource"]["name"] == name)
            .map(|r| {
                (
                    r["check_id"].as_str().unwrap_or_default().to_string(),
                    r["status"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub fn results(&self) -> impl Iterator<Item = &Value> {
        self.assessment["results"].as_array().into_iter().flatten()
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.bundle.join(name)).expect("bundle file is readable")
    }
}

/// Runs `dockproof <args> --out <tmp>/bundle` and loads the assessment.
pub fn run_to_bundle(args: &[&str]) -> Scan {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle");
    let mut full: Vec<&str> = args.to_vec();
    let b = bundle.display().to_string();
    full.extend(["--out", &b]);
    let output = dockproof(&full);
    let text = std::fs::read_to_string(bundle.join("assessment.json")).unwrap_or_else(|e| {
        panic!(
            "no assessment.json ({e}); exit {:?}\nstderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let assessment = serde_json::from_str(&text).expect("assessment.json is JSON");
    Scan {
        dir,
        bundle,
        assessment,
        output,
    }
}

impl Scan {
    /// Ids of the checks that implement a CIS Docker Benchmark recommendation.
    pub fn checks_for_cis(&self, cis: &str) -> Vec<String> {
        self.assessment["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                c["references"]["cis_docker"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|i| i == cis))
            })
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect()
    }

    /// Verdicts of every check implementing `cis` on the resource `name`, sorted.
    pub fn cis_verdicts(&self, cis: &str, name: &str) -> Vec<String> {
        let checks = self.checks_for_cis(cis);
        assert!(!checks.is_empty(), "no check implements CIS {cis}");
        let mut v: Vec<String> = checks
            .iter()
            .filter_map(|c| self.verdict(c, name))
            .collect();
        v.sort();
        v
    }
}

/// Writes `text` as the only check file of a catalog directory for `--controls`.
pub fn write_checks(controls: &Path, text: &str) {
    std::fs::create_dir_all(controls.join("checks")).expect("catalog dir");
    std::fs::write(controls.join("checks/site.yaml"), text).expect("check file");
}
