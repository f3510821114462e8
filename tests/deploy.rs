//! The deployment files under `deploy/`: the Kubernetes manifests validate strictly against the
//! API schema and say what the README promises (read-only mounts, no capabilities, no API
//! token, a collector that survives a node without Docker), the DaemonSet's command line runs
//! with the real binary, and the systemd units pass `systemd-analyze verify`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_yaml_ng::Value;

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn deploy(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(sub)
}

fn manifests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy("kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    files
}

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(deploy("kubernetes").join(name)).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn manifests_validate_strictly() {
    let ok = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !in_ci(),
            "CI=true but kubernetes-validate is missing (pip install kubernetes-validate)"
        );
        eprintln!("SKIPPED: kubernetes-validate is not installed; manifests not validated");
        return;
    }
    for file in manifests() {
        let out = Command::new("kubernetes-validate")
            .args(["--strict", "--quiet"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success() && !String::from_utf8_lossy(&out.stdout).contains("ERROR"),
            "{}: {}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            common::stderr(&out)
        );
    }
}

#[test]
fn every_pod_is_hardened_and_has_no_api_access() {
    let pods = [
        (
            "daemonset.yaml",
            load("daemonset.yaml")["spec"]["template"]["spec"].clone(),
        ),
        (
            "cronjob-report.yaml",
            load("cronjob-report.yaml")["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone(),
        ),
    ];
    for (file, pod) in pods {
        assert_eq!(
            pod["automountServiceAccountToken"],
            Value::Bool(false),
            "{file}"
        );
        assert_eq!(
            pod["serviceAccountName"].as_str(),
            Some("dockproof"),
            "{file}"
        );
        for c in pod["containers"].as_sequence().unwrap() {
            let sc = &c["securityContext"];
            assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true), "{file}");
            assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false), "{file}");
            assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"], "{file}");
            assert!(
                sc["capabilities"]["add"].is_null(),
                "{file}: adds a capability"
            );
        }
    }
    // No Role or binding anywhere: the ServiceAccount has no rights.
    for file in manifests() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("kind: Role") && !text.contains("Binding"),
            "{}",
            file.display()
        );
    }
    let sa = load("serviceaccount.yaml");
    assert_eq!(sa["automountServiceAccountToken"], Value::Bool(false));
    let pvc = load("pvc.yaml");
    assert_eq!(strings(&pvc["spec"]["accessModes"]), ["ReadWriteMany"]);
}

#[test]
fn the_daemonset_collects_every_node_without_crash_looping() {
    let pod = load("daemonset.yaml")["spec"]["template"]["spec"].clone();
    assert_eq!(pod["hostPID"], Value::Bool(true));
    let c = &pod["containers"][0];
    let args = strings(&c["args"]);
    assert_eq!(args[0], "collect");
    assert!(args.iter().any(|a| a.starts_with("--every")), "{args:?}");
    // The node name comes from the downward API.
    let env = c["env"].as_sequence().unwrap();
    let node = env.iter().find(|e| e["name"] == "NODE_NAME").unwrap();
    assert_eq!(
        node["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("spec.nodeName")
    );
    // Every hostPath is mounted read-only, and none is a Socket (which would keep the pod from
    // starting on a node without Docker instead of letting it report "no engine").
    let volumes = pod["volumes"].as_sequence().unwrap();
    for v in volumes.iter().filter(|v| !v["hostPath"].is_null()) {
        assert_ne!(v["hostPath"]["type"].as_str(), Some("Socket"));
        let mount = c["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["name"] == v["name"])
            .unwrap();
        assert_eq!(mount["readOnly"], Value::Bool(true), "{:?}", v["name"]);
    }

    // The manifest's command line, run by the real binary on a node without an engine: the
    // collector records "no engine" rounds and keeps running, then stops on SIGTERM.
    let dir = tempfile::tempdir().unwrap();
    let host_env = env.iter().find(|e| e["name"] == "DOCKER_HOST").unwrap();
    assert_eq!(
        host_env["value"].as_str(),
        Some("unix:///host/run/docker.sock")
    );
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.as_str() {
            "/snapshots" => dir.path().to_str().unwrap().to_string(),
            "--host-root=/host" => "--host-root=/".to_string(),
            "--every=1h" => "--every=1s".to_string(),
            other => other.to_string(),
        })
        .collect();
    let mut child = Command::new(common::bin())
        .args(&args)
        .env("NODE_NAME", "worker-7")
        .env("DOCKER_HOST", "unix:///nonexistent/run/docker.sock")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = dir.path().join("worker-7.status");
    let start = Instant::now();
    let round = || -> Option<u64> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&status).ok()?).ok()?;
        assert_eq!(v["outcome"], "no_engine");
        v["round"].as_u64()
    };
    while round().unwrap_or(0) < 2 {
        if let Some(code) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("{args:?} exited ({code}): {}", common::stderr(&out));
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{args:?}: no rounds"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
}

#[test]
fn the_report_job_reads_the_collectors_directory() {
    let pod =
        load("cronjob-report.yaml")["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone();
    let c = &pod["containers"][0];
    let args = strings(&c["args"]);
    assert_eq!(args[..2], ["report", "/snapshots/"]);
    let mounts = c["volumeMounts"].as_sequence().unwrap();
    let snapshots = mounts
        .iter()
        .find(|m| m["mountPath"] == "/snapshots")
        .unwrap();
    assert_eq!(snapshots["readOnly"], Value::Bool(true));
    // The collector writes where the reporter reads.
    let ds = load("daemonset.yaml")["spec"]["template"]["spec"].clone();
    let written = ds["containers"][0]["volumeMounts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|m| m["mountPath"] == "/snapshots")
        .unwrap()
        .clone();
    assert_eq!(written["subPath"], snapshots["subPath"]);

    // The job's own command line, run in a working directory like its /reports, against what
    // two collectors left on the volume (one node twice: the newer one counts).
    let dir = tempfile::tempdir().unwrap();
    let volume = dir.path().join("snapshots");
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&volume).unwrap();
    std::fs::create_dir_all(&reports).unwrap();
    let sample = |name: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("samples")
            .join(name)
    };
    for (from, to) in [
        (
            "insecure-host.snapshot.json",
            "node-a-20261130T000000Z.snapshot.json",
        ),
        (
            "hardened-host.snapshot.json",
            "node-a-20261201T000000Z.snapshot.json",
        ),
        (
            "insecure-host.snapshot.json",
            "node-b-20261201T000000Z.snapshot.json",
        ),
    ] {
        std::fs::copy(sample(from), volume.join(to)).unwrap();
    }
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.as_str() {
            "/snapshots/" => format!("{}/", volume.display()),
            other => other.to_string(),
        })
        .collect();
    let out = Command::new(common::bin())
        .current_dir(&reports)
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let bundles: Vec<PathBuf> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let fleet: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundles[0].join("assessment.json")).unwrap())
            .unwrap();
    assert_eq!(fleet["kind"], "fleet");
    let hosts: Vec<&str> = fleet["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["node-a", "node-b"]);
    let source = fleet["hosts"][0]["source"].as_str().unwrap();
    assert!(
        source.ends_with("node-a-20261201T000000Z.snapshot.json"),
        "{source}"
    );
    let verify = Command::new(common::bin())
        .args(["verify"])
        .arg(&bundles[0])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", common::stderr(&verify));
}

#[test]
fn systemd_units_verify() {
    let ok = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: systemd-analyze is not installed; units not verified");
        return;
    }
    // verify checks that ExecStart exists: point it at the built binary, nothing else changes.
    let dir = tempfile::tempdir().unwrap();
    let mut units = Vec::new();
    for name in ["dockproof-scan.service", "dockproof-scan.timer"] {
        let text = std::fs::read_to_string(deploy("systemd").join(name)).unwrap();
        let text = text.replace("/usr/local/bin/dockproof", common::bin().to_str().unwrap());
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        units.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
        .unwrap();
    let stderr = common::stderr(&out);
    // verify reports unknown keys and bad values as warnings with exit 0: none may appear.
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(dir.path().to_str().unwrap()) || l.contains("dockproof-scan"))
        .collect();
    assert!(out.status.success() && about_ours.is_empty(), "{stderr}");
    let service =
        std::fs::read_to_string(deploy("systemd").join("dockproof-scan.service")).unwrap();
    assert!(service.contains("scan --targets /etc/dockproof/targets.yaml"));
    assert!(service.contains("\nCapabilityBoundingSet=\n"));
}
