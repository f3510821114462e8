//! Host configuration read as systemd, dockerd and auditd read it, through `--host-root` on a
//! temp tree and the real binary: docker.socket drop-ins (an empty `ListenStream=` resets the
//! list, a TCP port is a TCP listener of `-H fd://`), the socket's group from `SocketGroup=`,
//! audit rules in the order auditd applies them, and whether auditd runs (from the tree's /proc).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn scan(root: &Path, out: &Path) -> Scan {
    let o = Command::new("timeout")
        .arg("120")
        .arg(bin())
        .args(["scan", "--format", "json", "--host-root"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(out.join("assessment.json"))
        .unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    Scan {
        dir: tempfile::tempdir().unwrap(),
        bundle: out.to_path_buf(),
        assessment: serde_json::from_str(&text).unwrap(),
        output: o,
    }
}

fn host(root: &Path, auditd: bool, rules: &str) {
    write(
        root,
        "etc/passwd",
        "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    );
    write(
        root,
        "etc/group",
        "root:x:0:\ndocker:x:998:alice\ndockerops:x:997:\n",
    );
    write(
        root,
        "proc/1/mountinfo",
        "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
    );
    // Stands in for the system dockerd, which serves the engine and is identified by its pid
    // (from its default pidfile), as a socket-activated daemon.
    let pid = std::fs::read_to_string("/var/run/docker.pid").expect("the system dockerd's pidfile");
    let pid = pid.trim();
    write(
        root,
        &format!("proc/{pid}/cmdline"),
        "/usr/bin/dockerd\0-H\0fd://\0",
    );
    write(root, &format!("proc/{pid}/comm"), "dockerd\n");
    if auditd {
        write(root, "proc/777/comm", "auditd\n");
    }
    write(root, "usr/bin/dockerd", "");
    write(root, "etc/docker/daemon.json", "{}");
    write(
        root,
        "lib/systemd/system/docker.socket",
        "[Socket]\nListenStream=/run/docker.sock\nSocketGroup=docker\n",
    );
    write(
        root,
        "etc/systemd/system/docker.socket.d/10-tcp.conf",
        "[Socket]\nListenStream=\nListenStream=2375\nSocketGroup=dockerops\n",
    );
    write(root, "etc/audit/rules.d/audit.rules", rules);
}

#[test]
fn systemd_dropins_and_audit_order_decide_as_the_host_does() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("host");
    host(
        &root,
        true,
        "-D\n-a never,exit -F dir=/usr/bin\n-w /usr/bin/dockerd -k docker\n-w /etc/docker -p x -k docker\n",
    );
    let s = scan(&root, &dir.path().join("b"));
    let snapshot: serde_json::Value =
        serde_json::from_str(&s.file("snapshot.json")).expect("snapshot");
    // The drop-in emptied the list and added a TCP port; dockerd -H fd:// listens there.
    assert_eq!(
        snapshot["host"]["socket_activation"],
        serde_json::json!(["2375"])
    );
    assert_eq!(snapshot["host"]["docker_group"]["name"], "dockerops");
    assert_eq!(snapshot["host"]["audit_rules"]["auditd_running"], true);
    let daemon = s
        .results()
        .find(|r| r["check_id"] == "daemon.tcp-tls")
        .expect("daemon.tcp-tls result");
    assert_eq!(daemon["status"], "fail", "{daemon}");
    // The exclusion comes first, so the watch on dockerd records nothing; -p x is no change audit.
    let status = |check: &str| {
        s.results()
            .find(|r| r["check_id"] == check)
            .map(|r| r["status"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(status("host.audit-dockerd").as_deref(), Some("fail"));
    assert_eq!(status("host.audit-etc-docker").as_deref(), Some("fail"));

    // The same watches without the exclusion, and with auditd not running.
    let dir2 = tempfile::tempdir().unwrap();
    let root2 = dir2.path().join("host");
    host(&root2, false, "-w /usr/bin/dockerd -k docker\n");
    let s2 = scan(&root2, &dir2.path().join("b"));
    let r = s2
        .results()
        .find(|r| r["check_id"] == "host.audit-dockerd")
        .expect("result");
    assert_eq!(r["status"], "fail", "{r}");
    assert!(r["evidence"].to_string().contains("watched by"), "{r}");

    let dir3 = tempfile::tempdir().unwrap();
    let root3 = dir3.path().join("host");
    host(&root3, true, "-w /usr/bin/dockerd -k docker\n");
    let s3 = scan(&root3, &dir3.path().join("b"));
    let r = s3
        .results()
        .find(|r| r["check_id"] == "host.audit-dockerd")
        .expect("result");
    assert_eq!(r["status"], "pass", "{r}");
}
