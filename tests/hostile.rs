//! Hostile and failing engines, through the test proxy in tests/support: an engine that drops
//! one listing, one that answers nothing, one that stops answering in the middle of a scan, a
//! container removed between the listing and its inspect; hostile names in container
//! configuration; a read-only host root; and proof that a scan only ever reads from the engine.
//! More hostile input: `hostile_names.rs` (every output format), `hostile_host.rs` (host files),
//! `hostile_inputs.rs` (snapshots and catalogs, no engine).

mod common;
#[path = "support/proxy.rs"]
mod proxy;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use proxy::Proxy;

#[test]
fn a_scan_only_reads_from_the_engine() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("readonly");
    c.run("web", &["-p", "127.0.0.1:18080:80"], true);
    let proxy = Proxy::start(&[]);
    let scan = run_to_bundle(&[
        "scan",
        "--docker-host",
        &proxy.url(),
        "--include-stopped",
        "--format",
        "html,json",
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let requests = proxy.requests();
    assert!(
        requests.iter().any(|r| r.contains("/containers/json")),
        "{requests:?}"
    );
    let refused: Vec<_> = requests
        .iter()
        .filter(|r| !r.starts_with("forwarded GET "))
        .collect();
    assert!(refused.is_empty(), "non-read requests: {refused:?}");
    assert!(scan
        .verdict("container.privileged", &c.name("web"))
        .is_some());
}

#[test]
fn an_engine_that_drops_a_listing_mid_scan_yields_errors_not_passes() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("vanish");
    c.run("app", &[], true);
    let proxy = Proxy::start(&["--drop", "/containers/json"]);
    let scan = run_to_bundle(&["scan", "--docker-host", &proxy.url(), "--format", "json"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    assert!(
        stderr(&scan.output).contains("gap: engine:/containers/json"),
        "{}",
        stderr(&scan.output)
    );
    let container_results: Vec<_> = scan
        .results()
        .filter(|r| r["resource"]["kind"] == "container")
        .collect();
    assert!(!container_results.is_empty());
    for r in &container_results {
        assert_eq!(r["status"], "error", "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("engine:/containers/json could not be listed"),
            "{r}"
        );
    }
    // The other kinds were still evaluated.
    assert!(scan
        .results()
        .any(|r| r["resource"]["kind"] == "image" && r["status"] != "error"));
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&scan.bundle)
        .output()
        .unwrap();
    assert!(check.status.success());
}

#[test]
fn an_engine_that_answers_nothing_is_unreachable() {
    if !engine_available() {
        return;
    }
    let proxy = Proxy::start(&["--drop", "/"]);
    let dir = tempfile::tempdir().unwrap();
    let out = dockproof(&[
        "scan",
        "--docker-host",
        &proxy.url(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&proxy.url()), "{}", stderr(&out));
    assert!(!dir.path().join("b").exists());
}

#[test]
fn hostile_names_in_container_configuration_are_inert_in_every_output() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("hostile");
    let script = "<script>alert(1)</script>";
    let name = c.run(
        "labels",
        &[
            "--label",
            &format!("x={script}"),
            "--label",
            "formula==HYPERLINK(\"http://x\")",
            "--label",
            "rtl=\u{202e}gnp.exe",
            "-e",
            &format!("{script}_TOKEN=v4lue-never-stored"),
            "-e",
            "CTRL=\u{1b}[31mred",
        ],
        true,
    );
    let scan = run_to_bundle(&["scan", "--format", "html,json"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    // The credential-looking variable is a finding, named in the evidence...
    assert_eq!(
        scan.verdict("container.env-credentials", &name).as_deref(),
        Some("fail")
    );
    let html = scan.file("report.html");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;_TOKEN")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;_TOKEN")
    );
    // ...but never as markup, and its value never reaches any file.
    assert!(!html.contains(script), "raw script tag in report.html");
    for f in ["report.html", "assessment.json", "snapshot.json"] {
        assert!(
            !scan.file(f).contains("v4lue-never-stored"),
            "env value in {f}"
        );
    }
}

/// A read-only bind mount of a directory onto itself, undone on drop.
struct ReadOnlyBind(PathBuf);

impl ReadOnlyBind {
    fn new(dir: &Path) -> Option<ReadOnlyBind> {
        let d = dir.to_str().unwrap();
        let ok = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        if !ok(&["--bind", d, d]) {
            return None;
        }
        let guard = ReadOnlyBind(dir.to_path_buf());
        ok(&["-o", "remount,ro,bind", d]).then_some(guard)
    }
}

impl Drop for ReadOnlyBind {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn host_facts_are_read_from_a_read_only_host_root() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "etc/docker/daemon.json",
        r#"{"icc": false, "live-restore": true}"#,
    );
    write("etc/group", "root:x:0:\ndocker:x:999:alice,bob\n");
    write(
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    );
    // The daemon serving the engine is identified by its pid under the host root: the tree
    // stands in for the system dockerd (pid from its default pidfile).
    let pid = std::fs::read_to_string("/var/run/docker.pid").unwrap();
    write(
        &format!("proc/{}/cmdline", pid.trim()),
        "/usr/bin/dockerd\0--userland-proxy=false\0",
    );
    let Some(_bind) = ReadOnlyBind::new(&root) else {
        eprintln!("SKIPPED: cannot make a read-only bind mount here (needs root)");
        return;
    };
    assert!(
        std::fs::write(root.join("probe"), "x").is_err(),
        "the bind is not read-only"
    );

    let snap = dir.path().join("s.json");
    let out = dockproof(&[
        "collect",
        "--host-root",
        root.to_str().unwrap(),
        "-o",
        snap.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    let host = &doc["host"];
    assert_eq!(host["daemon_json"]["content"]["icc"], false);
    assert_eq!(host["dockerd"]["args"][1], "--userland-proxy=false");
    assert_eq!(
        host["docker_group"]["members"],
        serde_json::json!(["alice", "bob"])
    );
    let daemon_json = host["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "daemon.json")
        .unwrap();
    assert_eq!(daemon_json["exists"], true);
    assert_eq!(daemon_json["path"], "/etc/docker/daemon.json");
    // Nothing failed to read because of the read-only mount.
    let gaps = doc["gaps"].as_array().unwrap();
    assert!(
        gaps.iter()
            .all(|g| !g["error"].as_str().unwrap_or("").contains("Read-only")),
        "{gaps:?}"
    );
}

/// Names of anything in `dir` that a failed or finished bundle write left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dockproof-partial-"))
        .collect()
}

#[test]
fn a_container_removed_between_list_and_inspect_is_a_named_gap() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("removed");
    let kept = c.run("kept", &[], true);
    let gone = c.run("gone", &[], true);
    // Inspects wait for this file, created once the container is gone.
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("release-inspects");
    let proxy = Proxy::start(&["--hold-inspect", gate.to_str().unwrap()]);
    let bundle = dir.path().join("b");
    let child = Command::new(bin())
        .args([
            "scan",
            "--docker-host",
            &proxy.url(),
            "--format",
            "html,json",
        ])
        .arg("--out")
        .arg(&bundle)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        proxy.wait_for("held GET", Duration::from_secs(30)),
        "the scan never inspected a container: {:?}",
        proxy.requests()
    );
    // Listed, not yet inspected: remove it for real, then let the inspects through.
    docker_ok(&["rm", "-f", "-v", &gone]);
    std::fs::write(&gate, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("gap: container:{gone}: HTTP 404")),
        "{err}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("assessment.json")).unwrap())
            .unwrap();
    let gaps = doc["snapshot"]["gaps"].as_array().unwrap();
    let gap = gaps
        .iter()
        .find(|g| g["source"] == format!("container:{gone}"))
        .unwrap_or_else(|| panic!("no gap for {gone}: {gaps:?}"));
    assert!(
        gap["error"].as_str().unwrap().contains("No such container"),
        "{gap}"
    );
    let results = doc["results"].as_array().unwrap();
    // Nothing is claimed about the removed container, and the one still there is judged.
    assert!(!results
        .iter()
        .any(|r| r["resource"]["name"] == gone.as_str()));
    assert!(results
        .iter()
        .any(|r| r["resource"]["name"] == kept.as_str()
            && r["check_id"] == "container.privileged"
            && r["status"] == "pass"));
    assert!(leftovers(dir.path()).is_empty());
    // The gap is in the report a person reads too.
    let html = std::fs::read_to_string(bundle.join("report.html")).unwrap();
    assert!(html.contains(&format!("container:{gone}")));
}

#[test]
fn an_engine_that_stops_mid_scan_exits_3_and_writes_nothing() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("stops");
    c.run("app", &[], true);
    // Answers /version and /info, then accepts and closes every connection from the container
    // listing on: the daemon went away and left its socket behind.
    let proxy = Proxy::start(&["--die-at", "/containers/json"]);
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b");
    let out = dockproof(&[
        "scan",
        "--docker-host",
        &proxy.url(),
        "--format",
        "html,json,csv",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "error: the Docker engine at {} stopped answering during the scan",
            proxy.url()
        )),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(
        !bundle.exists(),
        "a bundle was written for an interrupted scan"
    );
    assert!(leftovers(dir.path()).is_empty());
    let requests = proxy.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("closed GET") && r.contains("/_ping")),
        "the engine was not asked again: {requests:?}"
    );
}
