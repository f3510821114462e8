//! Differential tests against a second, throw-away dockerd: the flag spellings dockerd itself
//! accepts or refuses, and a daemon-wide no-new-privileges that a container turns off. dockproof
//! evaluates a snapshot of that daemon with the daemon's real command line and configuration.
//!
//! The daemon runs as root on its own bridge (`br-dpR*`, 172.31.251-253.0/24), socket, data and
//! exec roots in a temp dir, vfs storage and never with iptables enabled (it would change the
//! host's firewall); it is stopped on drop.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// A dockerd started for one test.
struct TestDaemon {
    child: Child,
    bridge: String,
    dir: tempfile::TempDir,
}

impl TestDaemon {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn docker(&self, args: &[&str]) -> String {
        let mut full = vec!["-H".to_string(), self.host()];
        full.extend(args.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        docker_ok(&refs)
    }
}

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts dockerd with `flags` on bridge `n` (0-2); `Err` holds dockerd's own message when it
/// refuses to start.
fn start(n: u8, flags: &[&str], config: &Value) -> Result<TestDaemon, String> {
    let bridge = format!("br-dpR{n}");
    let _ = ip(&["link", "del", &bridge]);
    assert!(
        ip(&["link", "add", &bridge, "type", "bridge"]),
        "cannot create {bridge}"
    );
    ip(&[
        "addr",
        "add",
        &format!("172.31.{}.1/24", 251 + n),
        "dev",
        &bridge,
    ]);
    ip(&["link", "set", &bridge, "up"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("daemon.json"), config.to_string()).expect("daemon.json");
    let p = |name: &str| d.join(name).display().to_string();
    let mut args: Vec<String> = vec![
        "--config-file".into(),
        p("daemon.json"),
        "--host".into(),
        format!("unix://{}", p("docker.sock")),
        "--data-root".into(),
        p("data"),
        "--exec-root".into(),
        p("exec"),
        "--pidfile".into(),
        p("pid"),
        "--bridge".into(),
        bridge.clone(),
        "--ip-masq=false".into(),
        "--storage-driver".into(),
        "vfs".into(),
    ];
    if !flags.iter().any(|f| f.starts_with("--iptables")) && config.get("iptables").is_none() {
        args.push("--iptables=false".into());
    }
    args.extend(flags.iter().map(|f| f.to_string()));
    let log = std::fs::File::create(d.join("log")).expect("log file");
    let mut child = Command::new("dockerd")
        .args(&args)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("dockerd is installed");
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let _ = ip(&["link", "del", &bridge]);
            return Err(std::fs::read_to_string(d.join("log")).unwrap_or_default());
        }
        let up = Command::new("docker")
            .args(["-H", &format!("unix://{}", p("docker.sock")), "version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if up {
            return Ok(TestDaemon { child, bridge, dir });
        }
        assert!(
            Instant::now() < deadline,
            "dockerd {flags:?} did not come up"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("docker")
            .args([
                "-H",
                &self.host(),
                "ps",
                "-aq",
                "--filter",
                "label=dockproof.test=1",
            ])
            .output()
        {
            let ids = String::from_utf8_lossy(&out.stdout).to_string();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["-H".to_string(), self.host(), "rm".into(), "-f".into()];
                args.extend(ids.iter().map(|s| s.to_string()));
                let _ = Command::new("docker").args(&args).output();
            }
        }
        // SIGTERM to the dockerd this test started, then wait for it to clean up.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = ip(&["link", "del", &self.bridge]);
    }
}

/// Snapshot of the test daemon, with the host facts describing that daemon (its command line
/// and configuration file) rather than the system's dockerd, evaluated by `dockproof report`.
fn assess(daemon: &TestDaemon, config: &Value) -> Value {
    let out = daemon.dir.path().join("snapshot.json");
    let o = out.display().to_string();
    let host = daemon.host();
    let collected = dockproof(&[
        "collect",
        "--docker-host",
        &host,
        "--include-stopped",
        "-o",
        &o,
    ]);
    assert!(collected.status.success(), "{}", stderr(&collected));
    let mut snap: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("snapshot")).expect("JSON");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", daemon.child.id())).expect("cmdline");
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    snap["host"]["dockerd"] = json!({"pid": daemon.child.id(), "args": args});
    snap["host"]["daemon_json"] = json!({
        "path": daemon.dir.path().join("daemon.json").display().to_string(),
        "exists": true, "content": config, "parse_error": null
    });
    std::fs::write(&out, serde_json::to_vec(&snap).expect("JSON")).expect("write");
    let scan = run_to_bundle(&["report", &o, "--format", "json"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    scan.assessment
}

fn verdict(assessment: &Value, check: &str, name: &str) -> Option<String> {
    assessment["results"]
        .as_array()?
        .iter()
        .find(|r| {
            r["check_id"] == check
                && r["resource"]["name"]
                    .as_str()
                    .is_some_and(|n| n.ends_with(name))
        })
        .and_then(|r| r["status"].as_str().map(str::to_string))
}

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn available() -> bool {
    if !engine_available() {
        return false;
    }
    let ok = root() && Path::new("/usr/sbin/dockerd").exists();
    if !ok {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but a test dockerd cannot be started (needs root and dockerd)"
        );
        eprintln!("SKIPPED: a test dockerd needs root and /usr/sbin/dockerd");
    }
    ok
}

#[test]
fn dockerd_reads_bool_flags_with_parse_bool_and_so_does_dockproof() {
    if !available() {
        return;
    }
    // dockerd refuses what ParseBool refuses; dockproof calls such a setting an error.
    for bad in ["--iptables=no", "--iptables=tRUE"] {
        let refused = start(0, &[bad], &json!({}));
        let log = refused
            .err()
            .unwrap_or_else(|| panic!("dockerd started with {bad}"));
        assert!(log.contains("ParseBool"), "{bad}: {log}");
    }
    // A string in daemon.json where a boolean belongs is refused too.
    let refused = start(0, &[], &json!({"iptables": "false"}));
    let log = refused
        .err()
        .expect("dockerd started with a string iptables");
    assert!(log.contains("cannot unmarshal string"), "{log}");

    // Never --iptables=true here: that daemon would add rules to the host's firewall.
    for (flag, check, expected) in [
        ("--iptables=False", "daemon.iptables", "fail"),
        ("--iptables=F", "daemon.iptables", "fail"),
        ("--iptables=0", "daemon.iptables", "fail"),
        ("--userland-proxy=False", "daemon.userland-proxy", "pass"),
        ("--userland-proxy=f", "daemon.userland-proxy", "pass"),
        ("--userland-proxy=TRUE", "daemon.userland-proxy", "fail"),
        ("--no-new-privileges=T", "daemon.no-new-privileges", "pass"),
        (
            "--no-new-privileges=FALSE",
            "daemon.no-new-privileges",
            "fail",
        ),
    ] {
        let daemon = start(1, &[flag], &json!({})).unwrap_or_else(|log| panic!("{flag}: {log}"));
        let a = assess(&daemon, &json!({}));
        assert_eq!(verdict(&a, check, "").as_deref(), Some(expected), "{flag}");
    }
}

#[test]
fn a_container_turns_off_the_daemon_default_no_new_privileges() {
    if !available() {
        return;
    }
    ensure_image();
    let config = json!({"no-new-privileges": true});
    let daemon = start(2, &[], &config).unwrap_or_else(|log| panic!("{log}"));
    // Copy the test image into the test daemon.
    let tar = daemon.dir.path().join("image.tar");
    docker_ok(&["save", "-o", &tar.display().to_string(), IMAGE]);
    daemon.docker(&["load", "-q", "-i", &tar.display().to_string()]);
    let mut names = Vec::new();
    for (short, opt) in [
        ("dpR-nnp-default", None),
        ("dpR-nnp-FALSE", Some("no-new-privileges=FALSE")),
        ("dpR-nnp-f", Some("no-new-privileges=f")),
        ("dpR-nnp-colon-false", Some("no-new-privileges:false")),
        ("dpR-nnp-True", Some("no-new-privileges=True")),
    ] {
        let mut args = vec!["run", "-d", "--label", LABEL, "--name", short];
        if let Some(o) = opt {
            args.extend(["--security-opt", o]);
        }
        args.push(IMAGE);
        daemon.docker(&args);
        names.push(short);
    }
    let a = assess(&daemon, &config);
    assert_eq!(
        verdict(&a, "daemon.no-new-privileges", "").as_deref(),
        Some("pass")
    );
    for name in names {
        let pid = daemon.docker(&["inspect", "-f", "{{.State.Pid}}", name]);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let applied = status
            .lines()
            .any(|l| l.starts_with("NoNewPrivs:") && l.ends_with('1'));
        let expected = if applied { "pass" } else { "fail" };
        assert_eq!(
            verdict(&a, "container.no-new-privileges", name).as_deref(),
            Some(expected),
            "{name}: kernel NoNewPrivs={applied}"
        );
    }
}
