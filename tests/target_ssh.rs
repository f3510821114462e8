//! ssh:// engines against a real sshd (Debian's openssh-server) on a local port, with its own
//! host key, a test client key and its own known_hosts.
//!
//! The sshd's `ForceCommand` is a wrapper that logs every command and serves a prepared host
//! tree: `docker system dial-stdio` reaches the system engine, while `stat`, `cat` and `find`
//! see the prepared tree's files and `pgrep -x dockerd` its `/proc`. The report must therefore
//! show the tree's values (a daemon.json with log-level debug and iptables off, a group-writable
//! docker.service, a docker group with alice and bob), never this machine's.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{bin, engine_available, stderr};

struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Sshd {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn commands(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("commands.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn available() -> bool {
    let ok = Path::new("/usr/sbin/sshd").exists() && Path::new("/usr/bin/ssh").exists();
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but openssh-server/openssh-client are not installed");
        }
        eprintln!("SKIPPED: no sshd here (apt-get install openssh-server)");
    }
    ok && engine_available()
}

fn sh(script: &str) {
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(root: &Path, path: &str, content: &[u8], mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The remote host's files, as the wrapper serves them.
fn prepare_tree(tree: &Path) {
    write(
        tree,
        "/etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        0o644,
    );
    write(
        tree,
        "/etc/group",
        b"root:x:0:\ndocker:x:998:alice,bob\n",
        0o644,
    );
    write(tree, "/etc/environment", b"DOCKER_CONTENT_TRUST=1\n", 0o644);
    write(
        tree,
        "/etc/docker/remote.json",
        br#"{"log-level": "debug", "iptables": false}"#,
        0o644,
    );
    // The daemon serving the engine (data root /var/lib/docker, the system engine's) ...
    write(
        tree,
        "/proc/4242/cmdline",
        b"/usr/bin/dockerd\0--config-file\0/etc/docker/remote.json\0",
        0o444,
    );
    // ... and a decoy with another data root, which must not be chosen.
    write(
        tree,
        "/proc/777/cmdline",
        b"/usr/bin/dockerd\0--data-root\0/srv/other\0",
        0o444,
    );
    write(
        tree,
        "/proc/1/mountinfo",
        b"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n",
        0o444,
    );
    write(
        tree,
        "/lib/systemd/system/docker.service",
        b"[Service]\nExecStart=/usr/bin/dockerd\n",
        0o664,
    );
    write(
        tree,
        "/etc/audit/rules.d/docker.rules",
        b"-w /usr/bin/dockerd -k docker\n",
        0o640,
    );
    write(tree, "/usr/bin/dockerd", b"", 0o755);
}

const WRAPPER: &str = r#"#!/bin/bash
TREE=__TREE__
printf '%s\n' "$SSH_ORIGINAL_COMMAND" >> __LOG__
eval "set -- $SSH_ORIGINAL_COMMAND"
case "$1" in
  docker)
    if [ -e __DIR__/no-docker ]; then echo "bash: line 1: docker: command not found" >&2; exit 127; fi
    exec /usr/bin/docker -H unix:///var/run/docker.sock "${@:2}" ;;
  /usr/bin/id) exec "$@" ;;
  /usr/bin/pgrep)
    for f in "$TREE"/proc/[0-9]*/cmdline; do
      a0=$(tr '\0' '\n' < "$f" | head -n 1)
      if [ "${a0##*/}" = dockerd ]; then d=${f%/cmdline}; echo "${d##*/}"; fi
    done
    exit 0 ;;
esac
prog=$1; shift
# Paths listed in __DIR__/denied behave as files the login user may not read.
if [ "$prog" = /bin/cat ] && [ -e __DIR__/denied ] && grep -qxF -- "${@: -1}" __DIR__/denied; then
  echo "/bin/cat: ${@: -1}: Permission denied" >&2; exit 1
fi
args=()
for a in "$@"; do case "$a" in /*) args+=("$TREE$a") ;; *) args+=("$a") ;; esac; done
"$prog" "${args[@]}" 2> >(sed "s|$TREE||g" >&2) | sed "s|$TREE||g"
exit ${PIPESTATUS[0]}
"#;

fn start_sshd(trust_host_key: bool) -> Sshd {
    let dir = tempfile::Builder::new()
        .prefix("dpS")
        .tempdir_in("/tmp")
        .unwrap();
    let d = dir.path();
    let tree = d.join("tree");
    prepare_tree(&tree);
    sh("mkdir -p /run/sshd");
    sh(&format!(
        "ssh-keygen -q -t ed25519 -N '' -f {0}/host_key && ssh-keygen -q -t ed25519 -N '' -f {0}/client_key && cp {0}/client_key.pub {0}/authorized_keys",
        d.display()
    ));
    let wrapper = WRAPPER
        .replace("__TREE__", &tree.display().to_string())
        .replace("__LOG__", &d.join("commands.log").display().to_string())
        .replace("__DIR__", &d.display().to_string());
    write(d, "/wrapper.sh", wrapper.as_bytes(), 0o755);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPermitRootLogin yes\nStrictModes no\nUsePAM no\n\
         ForceCommand {d}/wrapper.sh\nMaxSessions 8\nLogLevel INFO\n",
        d = d.display()
    );
    std::fs::write(d.join("sshd_config"), config).unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-f"])
        .arg(d.join("sshd_config"))
        .arg("-E")
        .arg(d.join("sshd.log"))
        .stdin(Stdio::null())
        .spawn()
        .expect("sshd starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "sshd did not listen: {}",
            std::fs::read_to_string(d.join("sshd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
    let known = if trust_host_key {
        format!("[127.0.0.1]:{port} {host_key}")
    } else {
        String::new()
    };
    std::fs::write(d.join("known_hosts"), known).unwrap();
    std::fs::write(
        d.join("ssh_config"),
        format!(
            "Host dp-remote\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {d}/client_key\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {d}/known_hosts\n  GlobalKnownHostsFile /dev/null\n",
            d = d.display()
        ),
    )
    .unwrap();
    Sshd { dir, port, child }
}

fn dockproof(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap()
}

#[test]
fn an_ssh_engine_is_scanned_with_the_remote_hosts_own_facts() {
    if !available() {
        return;
    }
    let sshd = start_sshd(true);
    let out = sshd.path("bundle");
    let config = sshd.path("ssh_config");
    let run = dockproof(&[
        "scan",
        "--docker-host",
        "ssh://dp-remote",
        "--ssh-config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("snapshot.json")).unwrap()).unwrap();
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("assessment.json")).unwrap())
            .unwrap();
    assert_eq!(snap["target"]["docker_host"], "ssh://dp-remote");
    // sshd here allows 8 sessions per connection (the default is 10): none was refused.
    assert_eq!(snap["gaps"], serde_json::json!([]));
    assert_eq!(
        snap["collection"]["host_root"],
        "ssh://dp-remote (over ssh)"
    );
    assert_eq!(snap["host"]["dockerd"]["pid"], 4242);
    assert_eq!(
        snap["host"]["daemon_json"]["path"],
        "/etc/docker/remote.json"
    );
    assert_eq!(
        snap["host"]["docker_group"]["members"],
        serde_json::json!(["alice", "bob"])
    );
    assert_eq!(snap["host"]["client_env"]["DOCKER_CONTENT_TRUST"], "1");
    assert_eq!(
        snap["host"]["audit_rules"]["rules"],
        serde_json::json!(["-w /usr/bin/dockerd -k docker"])
    );
    let service = snap["host"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "docker.service")
        .unwrap();
    assert_eq!(
        (
            service["path"].as_str(),
            service["mode_octal"].as_str(),
            service["owner"].as_str()
        ),
        (
            Some("/lib/systemd/system/docker.service"),
            Some("0664"),
            Some("root")
        )
    );
    let verdict = |id: &str| {
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check_id"] == id)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // CIS 2.3 and 2.4 judged on the prepared tree's daemon.json (this machine's passes both).
    assert_eq!(verdict("daemon.log-level"), "fail");
    assert_eq!(verdict("daemon.iptables"), "fail");

    let commands = sshd.commands();
    for expected in [
        "docker system dial-stdio",
        "/usr/bin/id -u",
        "/usr/bin/pgrep -x dockerd",
        "/bin/cat -- /etc/docker/remote.json",
        "/usr/bin/find /etc/audit/rules.d -mindepth 1",
    ] {
        assert!(
            commands.iter().any(|c| c == expected),
            "{expected} not run: {commands:#?}"
        );
    }
    assert!(commands
        .iter()
        .any(|c| c.starts_with("/usr/bin/stat -L -c '%f %u %g %n' -- ")));
    // Every command is read-only and called by absolute path (dial-stdio aside).
    for c in &commands {
        assert!(
            c == "docker system dial-stdio"
                || [
                    "/bin/cat ",
                    "/usr/bin/stat ",
                    "/usr/bin/find ",
                    "/usr/bin/pgrep ",
                    "/usr/bin/id "
                ]
                .iter()
                .any(|p| c.starts_with(p)),
            "unexpected remote command {c}"
        );
    }
    // One ssh connection carried every session.
    let log = std::fs::read_to_string(sshd.path("sshd.log")).unwrap();
    assert_eq!(log.matches("Accepted publickey").count(), 1, "{log}");

    // Files the login user may not read are gaps with the remote error, and the checks that
    // need them end in `error`, not in a verdict on this machine's files.
    std::fs::write(
        sshd.path("denied"),
        "/etc/docker/remote.json\n/etc/audit/rules.d/docker.rules\n",
    )
    .unwrap();
    let denied = sshd.path("denied-bundle");
    let run = dockproof(&[
        "scan",
        "-H",
        "ssh://dp-remote",
        "--ssh-config",
        config.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        denied.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(denied.join("snapshot.json")).unwrap())
            .unwrap();
    assert_eq!(snap["host"]["daemon_json"], Value::Null);
    assert_eq!(snap["host"]["audit_rules"], Value::Null);
    let gaps = snap["gaps"].as_array().unwrap();
    for path in ["/etc/docker/remote.json", "/etc/audit/rules.d/docker.rules"] {
        let gap = gaps
            .iter()
            .find(|g| g["source"] == format!("host:{path}"))
            .unwrap_or_else(|| panic!("no gap for {path}: {gaps:?}"));
        assert_eq!(
            gap["error"],
            format!("remote: /bin/cat: {path}: Permission denied")
        );
    }
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(denied.join("assessment.json")).unwrap())
            .unwrap();
    for id in ["daemon.log-level", "daemon.iptables"] {
        let r = a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check_id"] == id)
            .unwrap();
        assert_eq!(r["status"], "error", "{id}: {r}");
    }
    std::fs::remove_file(sshd.path("denied")).unwrap();

    // A host where the docker CLI is missing: unreachable, in ssh's own words.
    std::fs::write(sshd.path("no-docker"), "").unwrap();
    let run = dockproof(&[
        "collect",
        "-o",
        "-",
        "-H",
        "ssh://dp-remote",
        "--ssh-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let text = stderr(&run);
    assert!(
        text.contains("cannot reach the Docker engine at ssh://dp-remote")
            && text.contains("docker: command not found"),
        "{text}"
    );
}

#[test]
fn an_unknown_host_key_fails_without_being_added() {
    if !available() {
        return;
    }
    let sshd = start_sshd(false);
    let config = sshd.path("ssh_config");
    let run = dockproof(&[
        "collect",
        "-o",
        "-",
        "--docker-host",
        "ssh://dp-remote",
        "--ssh-config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let text = stderr(&run);
    assert!(
        text.contains("ssh could not log in to ssh://dp-remote"),
        "{text}"
    );
    assert!(text.contains("Host key verification failed"), "{text}");
    assert_eq!(
        std::fs::read_to_string(sshd.path("known_hosts")).unwrap(),
        ""
    );
    assert!(sshd.commands().is_empty(), "{:?}", sshd.commands());
    let _ = sshd.port;
}

#[test]
fn a_bad_ssh_url_is_a_usage_error() {
    let run = dockproof(&[
        "collect",
        "-o",
        "-",
        "--docker-host",
        "ssh://h/run/docker.sock",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("a path after the host"),
        "{}",
        stderr(&run)
    );
    let run = dockproof(&[
        "collect",
        "-o",
        "-",
        "-H",
        "ssh://h",
        "--ssh-config",
        "/nonexistent",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("--ssh-config /nonexistent: no such file"));
    let run = dockproof(&["collect", "-o", "-", "-H", "ssh://h", "--host-root", "/"]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("--host-root does not apply to ssh://h"));
}
