//! `collect --every`: rounds on an interval into a directory, distinct files, a clean exit on
//! SIGTERM, and rounds without an engine that are recorded instead of ending the collector.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn start(args: &[&str]) -> Child {
    Command::new(common::bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the dockproof binary starts")
}

fn snapshots(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".snapshot.json"))
        .collect();
    found.sort();
    found
}

fn status(dir: &Path, node: &str) -> Option<Value> {
    let bytes = std::fs::read(dir.join(format!("{node}.status"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Waits for `done` (checked every 100 ms); panics with the collector's stderr after `limit`.
fn wait_for(child: &mut Child, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        if let Some(code) = child.try_wait().unwrap() {
            let out = std::mem::replace(child, start_dummy())
                .wait_with_output()
                .unwrap();
            panic!("collector exited early ({code}): {}", common::stderr(&out));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = std::mem::replace(child, start_dummy())
                .wait_with_output()
                .unwrap();
            panic!("timed out; collector stderr: {}", common::stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn start_dummy() -> Child {
    Command::new("true").spawn().unwrap()
}

/// Sends SIGTERM and returns the exit status and stderr.
fn terminate(child: Child) -> (Option<i32>, String) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    (out.status.code(), common::stderr(&out))
}

#[test]
fn two_rounds_write_distinct_snapshots_and_sigterm_exits_zero() {
    if !common::engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut child = start(&[
        "collect",
        "--every",
        "1s",
        "--images",
        "none",
        "-o",
        out,
        "--node-name",
        "node/a",
    ]);
    wait_for(&mut child, Duration::from_secs(180), || {
        snapshots(dir.path()).len() >= 2
            && status(dir.path(), "node_a").is_some_and(|s| s["round"].as_u64() >= Some(2))
    });
    let (code, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("stopped between rounds"), "{stderr}");

    let files = snapshots(dir.path());
    assert!(files.len() >= 2);
    let name_ok = regex::Regex::new(r"^node_a-\d{8}T\d{6}Z(-\d+)?\.snapshot\.json$").unwrap();
    let mut bodies = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name_ok.is_match(&name), "{name}");
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        assert!(v["schema_version"].as_u64().is_some(), "{name}");
        assert!(v["engine"]["version"].is_object(), "{name}: no engine data");
        bodies.push(v["collection"].to_string());
    }
    bodies.dedup();
    assert_eq!(
        bodies.len(),
        files.len(),
        "each round is its own collection"
    );
    // Nothing half-written is left: only snapshots and the status file.
    let others: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".snapshot.json"))
        .collect();
    assert_eq!(others, vec!["node_a.status".to_string()]);
    let last = status(dir.path(), "node_a").unwrap();
    assert_eq!(last["outcome"], "collected");
    assert!(dir.path().join(last["file"].as_str().unwrap()).is_file());
    // A snapshot from the directory reports like any other.
    let bundle = dir.path().join("bundle");
    let out = common::dockproof(&[
        "report",
        files[0].to_str().unwrap(),
        "--format",
        "json",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&out)
    );
    assert!(bundle.join("assessment.json").is_file());
}

#[test]
fn rounds_without_an_engine_are_recorded_and_the_collector_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let mut child = start(&[
        "collect",
        "--every",
        "1s",
        "-H",
        "unix:///nonexistent/docker.sock",
        "-o",
        out,
        "--node-name",
        "bare",
        "--keep",
        "3",
    ]);
    wait_for(&mut child, Duration::from_secs(60), || {
        status(dir.path(), "bare").is_some_and(|s| s["round"].as_u64() >= Some(3))
    });
    assert!(child.try_wait().unwrap().is_none(), "the collector ended");
    let (code, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("round 1: no engine: cannot reach the Docker engine"),
        "{stderr}"
    );
    let last = status(dir.path(), "bare").unwrap();
    assert_eq!(last["outcome"], "no_engine");
    assert_eq!(last["node"], "bare");
    assert!(last["reason"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/docker.sock"));
    assert!(snapshots(dir.path()).is_empty());
}

#[test]
fn retention_keeps_the_newest_of_this_node_only() {
    if !common::engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Another node's snapshot and an unrelated file in the shared directory stay untouched.
    let foreign = dir.path().join("other-20200101T000000Z.snapshot.json");
    std::fs::write(&foreign, "{}").unwrap();
    let old = dir.path().join("keeper-20200101T000000Z.snapshot.json");
    std::fs::write(&old, "{}").unwrap();
    let out = dir.path().to_str().unwrap();
    let mut child = start(&[
        "collect",
        "--every",
        "1s",
        "--images",
        "none",
        "-o",
        out,
        "--node-name",
        "keeper",
        "--keep",
        "1",
    ]);
    wait_for(&mut child, Duration::from_secs(180), || {
        status(dir.path(), "keeper").is_some_and(|s| s["round"].as_u64() >= Some(2))
    });
    let (code, stderr) = terminate(child);
    assert_eq!(code, Some(0), "{stderr}");
    let mine: Vec<PathBuf> = snapshots(dir.path())
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("keeper-")
        })
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(!old.exists(), "the oldest snapshot of this node is removed");
    assert!(foreign.exists(), "another node's snapshot is kept");
    let last = status(dir.path(), "keeper").unwrap();
    assert_eq!(dir.path().join(last["file"].as_str().unwrap()), mine[0]);
}

#[test]
fn bad_schedules_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--every", "0s", "-o", "x"], "the shortest is 1s"),
        (&["--every", "soon", "-o", "x"], "invalid interval `soon`"),
        (&["--keep", "2", "-o", "x"], "--every"),
        (
            &["--every", "1m", "-o", file.to_str().unwrap()],
            "not a directory",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["collect"];
        all.extend_from_slice(args);
        let out = common::dockproof(&all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            common::stderr(&out)
        );
        assert!(
            common::stderr(&out).contains(message),
            "{args:?}: {}",
            common::stderr(&out)
        );
    }
}
