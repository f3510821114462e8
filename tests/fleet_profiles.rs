//! Roles and labels of the hosts `report` gathers from snapshots: recorded at collection
//! (`collect --role --label`, once and with `--every` as the DaemonSet runs it, against the
//! local engine) and declared at report time (`report --host-profiles FILE`), shown in the fleet
//! assessment.json and report.html; an out-of-scope host does not count towards fleet states;
//! bad flags and files exit 2 naming the file and line, with nothing written.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{bin, dockproof, engine_available, stderr};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn host<'a>(fleet: &'a Value, name: &str) -> &'a Value {
    fleet["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no host {name} in {:#}", fleet["hosts"]))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("DOCKPROOF_ROLE")
        .output()
        .expect("the dockproof binary runs")
}

/// A directory as a DaemonSet leaves it: node-a is the insecure sample, node-b the hardened
/// one; node-a's snapshot recorded `profile` at collection when given.
fn volume(dir: &Path, node_a_profile: Option<Value>) -> PathBuf {
    let volume = dir.join("snapshots");
    std::fs::create_dir_all(&volume).unwrap();
    let mut a = json(&sample("insecure-host.snapshot.json"));
    if let Some(p) = node_a_profile {
        a["profile"] = p;
    }
    std::fs::write(
        volume.join("node-a-20261201T000000Z.snapshot.json"),
        serde_json::to_vec_pretty(&a).unwrap(),
    )
    .unwrap();
    std::fs::copy(
        sample("hardened-host.snapshot.json"),
        volume.join("node-b-20261201T000000Z.snapshot.json"),
    )
    .unwrap();
    volume
}

fn report(volume: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "report",
        volume.to_str().unwrap(),
        "--format",
        "html,json",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let done = run(&args, &[]);
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    json(&out.join("assessment.json"))
}

/// The fleet state of `requirement` in framework `fw`.
fn fleet_requirement<'a>(fleet: &'a Value, fw: &str, requirement: &str) -> &'a Value {
    fleet["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fw)
        .and_then(|f| {
            f["requirements"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == requirement)
        })
        .unwrap_or_else(|| panic!("no {fw} {requirement}"))
}

fn not_in_place_count(fleet: &Value, fw: &str) -> u64 {
    fleet["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == fw)
        .unwrap()["counts"]["not_in_place"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_recorded_profile_reaches_the_fleet_and_a_host_profiles_file_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let volume = volume(
        dir.path(),
        Some(serde_json::json!({
            "role": "cardholder-data-environment",
            "labels": {"env": "prod", "team": "<payments>"}
        })),
    );

    // What the collectors recorded.
    let recorded = report(&volume, &dir.path().join("recorded"), &[]);
    let a = host(&recorded, "node-a");
    assert_eq!(a["role"], "cardholder-data-environment");
    assert_eq!(a["labels"]["env"], "prod");
    assert_eq!(a["in_scope"], true);
    let b = host(&recorded, "node-b");
    assert!(b.get("role").is_none(), "{b:#}");
    assert_eq!(b["in_scope"], true);
    let html = std::fs::read_to_string(dir.path().join("recorded/report.html")).unwrap();
    assert!(html.contains("Cardholder data environment (CDE)"), "role");
    assert!(html.contains("team=&lt;payments&gt;"), "escaped label");
    assert!(!html.contains("<payments>"));
    // CIS 5.5 (privileged containers) is not in place on the insecure node-a only.
    let privileged = fleet_requirement(&recorded, "cis-docker-1.6", "5.5");
    assert_eq!(privileged["state"], "not_in_place", "{privileged:#}");
    assert_eq!(privileged["not_in_place_on"], serde_json::json!(["node-a"]));

    // The file takes node-a out of scope, gives node-b a role and names a node that is gone.
    let file = dir.path().join("hosts.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: node-a\n    role: out-of-scope\n    labels: {env: dev}\n  - name: \
         node-b\n    role: connected-to\n    labels: {env: prod}\n  - name: node-gone\n    \
         role: cardholder-data-environment\n",
    )
    .unwrap();
    let declared = report(
        &volume,
        &dir.path().join("declared"),
        &["--host-profiles", file.to_str().unwrap()],
    );
    let a = host(&declared, "node-a");
    assert_eq!(a["role"], "out-of-scope");
    assert_eq!(a["labels"], serde_json::json!({"env": "dev"}));
    assert_eq!(a["in_scope"], false);
    let b = host(&declared, "node-b");
    assert_eq!(b["role"], "connected-to");
    assert_eq!(b["in_scope"], true);
    let notes: Vec<&str> = declared["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let shown = file.display().to_string();
    assert!(
        notes.contains(
            &format!(
                "node-a: {shown}:2 (role out-of-scope, labels env=dev) replaces what the snapshot \
             recorded at collection (role cardholder-data-environment, labels env=prod \
             team=<payments>)"
            )
            .as_str()
        ),
        "{notes:#?}"
    );
    assert!(
        notes.contains(
            &format!(
                "{shown}:8: no gathered host is named \"node-gone\"; its role and labels were \
                 not used"
            )
            .as_str()
        ),
        "{notes:#?}"
    );
    // node-b recorded nothing, so giving it a profile is no replacement worth a note.
    assert!(!notes.iter().any(|n| n.starts_with("node-b")), "{notes:#?}");

    // The out-of-scope host is shown, and no longer decides a fleet state.
    let privileged = fleet_requirement(&declared, "cis-docker-1.6", "5.5");
    assert_ne!(privileged["state"], "not_in_place", "{privileged:#}");
    assert!(
        privileged.get("not_in_place_on").is_none(),
        "{privileged:#}"
    );
    assert_eq!(privileged["hosts"]["node-a"], "not_in_place");
    assert!(
        not_in_place_count(&declared, "cis-docker-1.6")
            < not_in_place_count(&recorded, "cis-docker-1.6")
    );
    let html = std::fs::read_to_string(dir.path().join("declared/report.html")).unwrap();
    assert!(html.contains("Out of scope"), "role shown");
    assert!(html.contains("Connected to the CDE"), "role shown");
    assert!(
        html.contains("node-gone"),
        "the unused entry's note is in the report"
    );
}

#[test]
fn bad_host_profiles_files_exit_2_with_file_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let volume = volume(dir.path(), None);
    let cases: &[(&str, &str)] = &[
        (
            "hosts:\n  - name: node-a\n    role: cde\n",
            ":2: entry 1: unknown variant `cde`",
        ),
        (
            "hosts:\n  - name: node-a\n  - name: node-b\n    roles: out-of-scope\n",
            ":3: entry 2: unknown field `roles`",
        ),
        (
            "hosts:\n  - name: node-a\n    labels: {env: \"pr\\u200bod\"}\n",
            ":2: host \"node-a\": label \"env\": the value must be one line",
        ),
        (
            "hosts:\n  - name: node-a\n  - name: \"node-\\u202eb\"\n",
            ":3: host name \"node-[U+202E]b\" must be 1 to 128 characters",
        ),
        (
            "hosts:\n  - name: node-a\n  - name: node-a\n    role: out-of-scope\n",
            ":3: host \"node-a\" is already given on line 2",
        ),
        (
            "nodes:\n  - name: node-a\n",
            ":1: unknown top-level key `nodes`",
        ),
        ("hosts:\n  - name: [\n", ":"),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = dir.path().join(format!("hosts-{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = dir.path().join(format!("out-{i}"));
        let done = run(
            &[
                "report",
                volume.to_str().unwrap(),
                "--host-profiles",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        );
        let err = stderr(&done);
        assert_eq!(done.status.code(), Some(2), "{text}: {err}");
        let at = format!("{}{expected}", file.display());
        assert!(err.contains(&at), "{text}: expected {at:?} in:\n{err}");
        assert!(
            !err.contains('\u{202e}') && !err.contains('\u{200b}'),
            "{err}"
        );
        assert!(!out.exists(), "{text}: {} was written", out.display());
    }
    // A missing file, and the flag on a single host's report.
    let out = dir.path().join("out-missing");
    let done = run(
        &[
            "report",
            volume.to_str().unwrap(),
            "--host-profiles",
            dir.path().join("absent.yaml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert!(stderr(&done).contains("absent.yaml"), "{}", stderr(&done));
    assert!(!out.exists());
    let file = dir.path().join("hosts-ok.yaml");
    std::fs::write(&file, "hosts:\n  - name: vm\n    role: out-of-scope\n").unwrap();
    let single = sample("hardened-host.snapshot.json");
    let done = run(
        &[
            "report",
            single.to_str().unwrap(),
            "--host-profiles",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert!(stderr(&done).contains("--scope"), "{}", stderr(&done));
    assert!(!out.exists());
}

#[test]
fn a_snapshot_whose_recorded_labels_break_the_rules_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let volume = volume(
        dir.path(),
        Some(serde_json::json!({"labels": {"env": "prod\u{202e}"}})),
    );
    let out = dir.path().join("out");
    let done = run(
        &[
            "report",
            volume.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let err = stderr(&done);
    assert_eq!(done.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "node-a-20261201T000000Z.snapshot.json is not a valid snapshot document: \
                      field `profile`: label \"env\""
        ),
        "{err}"
    );
    assert!(!err.contains('\u{202e}'), "{err}");
    assert!(!out.exists());
}

#[test]
fn bad_profile_flags_exit_2_before_the_engine_is_contacted() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("s.json");
    // An engine that does not exist: exit 3 would mean the flags were checked too late.
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    for (args, expected) in [
        (vec!["--role", "cde"], "unknown role \"cde\""),
        (vec!["--label", "env"], "expected KEY=VALUE"),
        (vec!["--label", "bad key=x"], "label key \"bad key\""),
        (
            vec!["--label", "env=a\u{200b}b"],
            "label \"env\": the value",
        ),
        (
            vec!["--label", "env=prod", "--label", "env=dev"],
            "label \"env\" is given twice",
        ),
    ] {
        let mut full = vec!["collect", "-o", output.to_str().unwrap()];
        full.extend(&args);
        let done = run(&full, &no_engine);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", stderr(&done));
        assert!(
            stderr(&done).contains(expected),
            "{args:?}: {}",
            stderr(&done)
        );
        assert!(!output.exists());
    }
    // The role from the environment is held to the same spelling.
    let mut done = Command::new(bin())
        .args(["collect", "-o", output.to_str().unwrap()])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("DOCKPROOF_ROLE", "connected")
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(2), "{}", stderr(&done));
    assert!(stderr(&done).contains("unknown role \"connected\""));
    // A good one gets as far as the engine.
    done = Command::new(bin())
        .args(["collect", "-o", output.to_str().unwrap()])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("DOCKPROOF_ROLE", "connected-to")
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(3), "{}", stderr(&done));
}

#[test]
fn collect_against_the_local_engine_records_the_profile_and_report_shows_it() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let volume = volume(dir.path(), None);
    let live = volume.join("live-20261201T000000Z.snapshot.json");
    let done = dockproof(&[
        "collect",
        "--role",
        "cardholder-data-environment",
        "--label",
        "env=prod",
        "--label",
        "team=payments",
        "--images",
        "none",
        "-o",
        live.to_str().unwrap(),
    ]);
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let snapshot = json(&live);
    assert_eq!(
        snapshot["profile"],
        serde_json::json!({
            "role": "cardholder-data-environment",
            "labels": {"env": "prod", "team": "payments"}
        })
    );

    let fleet = report(&volume, &dir.path().join("fleet"), &[]);
    let h = host(&fleet, "live");
    assert_eq!(h["assessed"], true);
    assert_eq!(h["role"], "cardholder-data-environment");
    assert_eq!(h["labels"]["env"], "prod");
    assert_eq!(h["in_scope"], true);
    assert!(host(&fleet, "node-a").get("role").is_none());
    let html = std::fs::read_to_string(dir.path().join("fleet/report.html")).unwrap();
    assert!(html.contains("Cardholder data environment (CDE)"));
    assert!(html.contains("env=prod"));

    // At report time the operator takes the live host out of scope.
    let file = dir.path().join("hosts.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: live\n    role: out-of-scope\n    labels: {env: lab}\n",
    )
    .unwrap();
    let fleet = report(
        &volume,
        &dir.path().join("fleet-declared"),
        &["--host-profiles", file.to_str().unwrap()],
    );
    let h = host(&fleet, "live");
    assert_eq!(h["role"], "out-of-scope");
    assert_eq!(h["labels"], serde_json::json!({"env": "lab"}));
    assert_eq!(h["in_scope"], false);
    for fw in fleet["frameworks"].as_array().unwrap() {
        for r in fw["requirements"].as_array().unwrap() {
            let on = r["not_in_place_on"].as_array().cloned().unwrap_or_default();
            assert!(!on.iter().any(|h| h == "live"), "{r:#}");
        }
    }
}

/// The DaemonSet's own command line and environment, run against the local engine: every
/// round's snapshot records the role and labels the manifest declares.
#[test]
fn the_daemonset_records_its_declared_role_and_labels_in_every_snapshot() {
    if !engine_available() {
        return;
    }
    let manifest: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/daemonset.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let c = &manifest["spec"]["template"]["spec"]["containers"][0];
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| match a.as_str().unwrap() {
            "/snapshots" => dir.path().to_str().unwrap().to_string(),
            "--host-root=/host" => "--host-root=/".to_string(),
            a if a.starts_with("--every=") => "--every=1h".to_string(),
            other => other.to_string(),
        })
        .collect();
    let mut cmd = Command::new(bin());
    cmd.args(&args)
        .args(["--images", "none"])
        .env("NODE_NAME", "worker-3")
        .env("DOCKER_HOST", "unix:///var/run/docker.sock")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut role = None;
    for e in c["env"].as_sequence().unwrap() {
        if let (Some(name), Some(value)) = (e["name"].as_str(), e["value"].as_str()) {
            if name.starts_with("DOCKPROOF_") {
                cmd.env(name, value);
            }
            if name == "DOCKPROOF_ROLE" {
                role = Some(value.to_string());
            }
        }
    }
    let role = role.expect("the manifest declares DOCKPROOF_ROLE");
    let labels: serde_json::Map<String, Value> = args
        .iter()
        .filter_map(|a| a.strip_prefix("--label="))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), Value::from(v))
        })
        .collect();
    assert!(!labels.is_empty(), "the manifest shows --label: {args:?}");

    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let written = loop {
        let found: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".snapshot.json"))
            .collect();
        if let Some(first) = found.into_iter().next() {
            break first;
        }
        if let Some(code) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("{args:?} exited ({code}): {}", stderr(&out));
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("{args:?}: no snapshot: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(written
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("worker-3-"));
    let snapshot = json(&written);
    assert_eq!(snapshot["profile"]["role"], role.as_str());
    assert_eq!(snapshot["profile"]["labels"], Value::Object(labels));
}

/// Snapshot files named on the command line are named by their hostname; an entry applies to
/// every gathered host of that name (cloned hosts share one).
#[test]
fn an_entry_names_hosts_by_hostname_and_covers_every_clone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hosts.yaml");
    std::fs::write(
        &file,
        "hosts:\n  - name: vm\n    role: ephi-system\n    labels: {env: prod}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let insecure = sample("insecure-host.snapshot.json");
    let hardened = sample("hardened-host.snapshot.json");
    let done = run(
        &[
            "report",
            insecure.to_str().unwrap(),
            hardened.to_str().unwrap(),
            "--host-profiles",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let fleet = json(&out.join("assessment.json"));
    let hosts = fleet["hosts"].as_array().unwrap();
    let dirs: Vec<&str> = hosts.iter().map(|h| h["dir"].as_str().unwrap()).collect();
    assert_eq!(dirs, ["vm", "vm-2"]);
    for h in hosts {
        assert_eq!(h["name"], "vm");
        assert_eq!(h["role"], "ephi-system", "{h:#}");
        assert_eq!(h["labels"], serde_json::json!({"env": "prod"}));
        assert_eq!(h["in_scope"], true);
    }
    assert!(fleet.get("notes").is_none(), "{:#}", fleet["notes"]);
}
