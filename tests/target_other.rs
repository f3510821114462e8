//! The target in the cases where the host cannot be read or the engine is not live: a host root
//! that is missing or empty, a forwarded socket, a Podman service, a fallback sample.

mod common;
#[allow(dead_code)]
#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/target_env.rs"]
mod target_env;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{engine_available, stderr};
use target_env::{collect, dockproof_env};

#[test]
fn a_host_root_that_is_missing_or_empty_stops_the_run() {
    let empty = tempfile::tempdir().unwrap();
    for root in [empty.path().to_path_buf(), empty.path().join("typo")] {
        let run = dockproof_env(
            &["collect", "-o", "-", "--host-root", root.to_str().unwrap()],
            &[],
        );
        assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
        assert!(stderr(&run).contains(&format!("--host-root {}", root.display())));
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn a_forwarded_socket_gets_no_host_facts_of_this_machine() {
    if !engine_available() {
        return;
    }
    let proxy = proxy::Proxy::start(&[]);
    let snap = collect(&["--docker-host", &proxy.url()], &[]);
    assert_eq!(snap["host"]["dockerd"], Value::Null);
    assert_eq!(snap["host"]["daemon_json"], Value::Null);
    assert_eq!(snap["host"]["files"], serde_json::json!([]));
    let gap = snap["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["source"] == "host")
        .expect("a host gap");
    assert!(
        gap["error"]
            .as_str()
            .unwrap()
            .contains("was not identified on this machine"),
        "{gap}"
    );
}

#[test]
fn a_fallback_bundle_says_it_holds_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let sample = dir.path().join("sample.json");
    let snap = sample_snapshot();
    std::fs::write(&sample, snap).unwrap();
    let out = dir.path().join("b");
    let run = dockproof_env(
        &[
            "scan",
            "--docker-host",
            &format!("unix://{}", dir.path().join("none.sock").display()),
            "--fallback-snapshot",
            sample.to_str().unwrap(),
            "--format",
            "html,json,csv,requirements-csv,sarif,junit,oscal,pdf",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("assessment.json")).unwrap())
            .unwrap();
    let said = a["snapshot"]["target"]["fallback"].as_str().unwrap();
    assert!(
        said.starts_with("not a live scan: the saved sample"),
        "{said}"
    );
    for file in std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()) {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        // SHA256SUMS lists files; the PDF's text is read back with pdftotext; each CSV row
        // carries it in its `evidence_of` column.
        if name == "SHA256SUMS" {
            continue;
        }
        let text = if name.ends_with(".pdf") {
            let out = std::process::Command::new("pdftotext")
                .arg(&file)
                .arg("-")
                .output()
                .expect("pdftotext runs");
            String::from_utf8_lossy(&out.stdout).into_owned()
        } else {
            std::fs::read_to_string(&file).unwrap()
        };
        assert!(
            text.contains("not a live scan"),
            "{name} does not say it holds the sample"
        );
    }
}

/// A minimal valid snapshot to use as the sample.
fn sample_snapshot() -> String {
    let snap = serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "dockproof", "version": "0.1.0"},
        "collection": {"started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
                       "include_stopped": false, "host_root": "/"},
        "target": {"docker_host": "unix:///var/run/docker.sock", "hostname": "sample-host",
                   "engine_version": null, "api_version": null, "os": null, "kernel": null,
                   "architecture": null, "engine_id": null},
        "engine": {"info": null, "version": null, "containers": [], "images": [], "networks": [],
                   "volumes": [], "plugins": [], "swarm": null},
        "host": {"daemon_json": null, "dockerd": null, "files": [], "audit_rules": null,
                 "docker_group": null, "mounts": null, "client_env": null},
        "gaps": []
    });
    snap.to_string()
}

/// `podman system service` on its own socket, storage and run root; killed on drop.
struct Podman {
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_podman() -> Option<Podman> {
    if !Path::new("/usr/bin/podman").exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but podman is not installed (apt-get install podman)");
        }
        eprintln!("SKIPPED: podman is not installed");
        return None;
    }
    let dir = tempfile::Builder::new()
        .prefix("dpP")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path().display().to_string();
    let child = Command::new("/usr/bin/podman")
        .args([
            "--root",
            &format!("{d}/root"),
            "--runroot",
            &format!("{d}/run"),
        ])
        .args(["--storage-driver", "vfs", "system", "service", "--time=0"])
        .arg(format!("unix://{d}/podman.sock"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("podman starts");
    let podman = Podman { dir, child };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !podman.dir.path().join("podman.sock").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "podman did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(podman)
}

#[test]
fn a_podman_engine_is_named_as_such_and_gets_no_dockerd_facts() {
    let Some(podman) = start_podman() else {
        return;
    };
    let url = format!("unix://{}/podman.sock", podman.dir.path().display());
    let snap = collect(&["--docker-host", &url], &[]);
    assert_eq!(snap["target"]["engine_product"], "Podman Engine");
    assert_eq!(snap["host"]["dockerd"], Value::Null);
    let gap = snap["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["source"] == "host")
        .expect("a host gap");
    let said = gap["error"].as_str().unwrap();
    assert!(
        said.contains("podman) is not dockerd, and no dockerd holds the socket"),
        "{said}"
    );
}
