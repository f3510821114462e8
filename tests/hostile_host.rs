//! Host files that are not what they should be, read through `--host-root` on a temp tree: a
//! daemon.json that is not JSON, a FIFO where /etc/group and mountinfo should be (it would block
//! a naive read forever; the tests run as root, so a chmod 000 file would still be readable),
//! a file that is not UTF-8 and a directory where a file is expected. Each becomes a gap naming
//! the file, and the checks that need it end in `error` naming it, never in `pass`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn mkfifo(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
}

#[test]
fn unreadable_host_files_are_named_gaps_and_errors_never_passes() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    write(
        &root,
        "etc/docker/daemon.json",
        b"{\n  \"icc\": false,\n  \"live-restore\": tru\n",
    );
    mkfifo(&root, "etc/group");
    mkfifo(&root, "proc/1/mountinfo");
    write(&root, "etc/passwd", b"root:x:0:0::/root:/bin/sh\n");
    write(&root, "etc/environment", b"DOCKER_CONTENT_TRUST=\xff\xfe\n");
    // Stands in for the system dockerd, which serves the engine (pid from its default pidfile).
    let pid = std::fs::read_to_string("/var/run/docker.pid").unwrap();
    write(
        &root,
        &format!("proc/{}/cmdline", pid.trim()),
        b"/usr/bin/dockerd\0--iptables=false\0",
    );
    std::fs::create_dir_all(root.join("etc/audit/rules.d/docker.rules")).unwrap();

    // `timeout` turns a hang on a FIFO into a failure instead of a stuck test run.
    let bundle = dir.path().join("b");
    let out = Command::new("timeout")
        .arg("120")
        .arg(bin())
        .args(["scan", "--format", "json,csv", "--host-root"])
        .arg(&root)
        .arg("--out")
        .arg(&bundle)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for line in [
        "gap: host:/etc/docker/daemon.json: invalid JSON: line 4 column 0: expected ident",
        "gap: host:/etc/group: not a regular file but a FIFO (named pipe); refusing to read it",
        "gap: host:/proc/1/mountinfo: not a regular file but a FIFO (named pipe); refusing to read it",
        "gap: host:/etc/environment: not UTF-8 text (invalid byte at offset 21)",
    ] {
        assert!(err.contains(line), "missing `{line}` in:\n{err}");
    }

    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("assessment.json")).unwrap())
            .unwrap();
    let results = doc["results"].as_array().unwrap();
    let result = |check: &str| {
        results
            .iter()
            .find(|r| r["check_id"] == check)
            .unwrap_or_else(|| panic!("no result for {check}"))
    };
    // dockerd's own flag says iptables=false, but without daemon.json the merged settings are
    // unknown: an error naming the file, not a verdict on half the configuration.
    for check in [
        "daemon.iptables",
        "daemon.cgroup-parent",
        "daemon.log-level",
    ] {
        let r = result(check);
        assert_eq!(r["status"], "error", "{r}");
        let message = r["message"].as_str().unwrap();
        assert!(
            message.contains("host:/etc/docker/daemon.json: invalid JSON: line 4 column 0"),
            "{check}: {message}"
        );
    }
    let r = result("host.docker-group-members");
    assert_eq!(r["status"], "error", "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("host:/etc/group: not a regular file but a FIFO (named pipe)"),
        "{r}"
    );
    assert_eq!(result("host.data-root-partition")["status"], "error");
    // No daemon or host check passed on what could not be read.
    for r in results {
        let kind = r["resource"]["kind"].as_str().unwrap();
        let reads_missing = doc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == r["check_id"])
            .and_then(|c| c["rule"].as_str())
            .is_some_and(|rule| {
                rule.contains("resource.settings")
                    || rule.contains("resource.config")
                    || rule.contains("docker_group")
                    || rule.contains("resource.mounts")
            });
        if (kind == "daemon" || kind == "host") && reads_missing {
            assert_ne!(r["status"], "pass", "{r}");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".dockproof-partial-")
        })
        .collect();
    assert!(leftovers.is_empty());
}
