//! Fleets end to end: `scan --targets` over the system dockerd, two more started by the test
//! (one on a unix socket, one over TCP with TLS) and an unreachable target; `report` over
//! several snapshots with hostile and repeated host names; verify and `sha256sum -c` on the
//! fleet bundle and on every host bundle.

mod common;
#[path = "support/dockerd.rs"]
mod dockerd;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{dockproof, engine_available, ensure_image, stderr, Containers};
use dockerd::{Options, SecondDaemon};

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// Status of `check` on the resource `name` (any resource when `None`) in a host assessment.
fn verdict(a: &Value, check: &str, name: Option<&str>) -> Option<String> {
    a["results"]
        .as_array()?
        .iter()
        .find(|r| r["check_id"] == check && name.is_none_or(|n| r["resource"]["name"] == n))
        .map(|r| r["status"].as_str().unwrap_or_default().to_string())
}

/// `dockproof verify DIR` succeeds, and `sha256sum -c` agrees with it.
fn assert_verifies(dir: &Path) {
    let out = dockproof(&["verify", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains("VERIFIED"), "{text}");
    let sums = Command::new("sha256sum")
        .args(["-c", "--quiet", "--strict", "SHA256SUMS"])
        .current_dir(dir)
        .output()
        .expect("sha256sum runs");
    assert!(
        sums.status.success(),
        "sha256sum -c in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&sums.stdout)
    );
}

fn host<'a>(fleet: &'a Value, name: &str) -> &'a Value {
    fleet["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no host {name} in {fleet:#}"))
}

#[test]
fn three_engines_give_three_hosts_with_their_own_verdicts_and_the_unreachable_one_is_listed() {
    if !engine_available() || !dockerd::available() {
        return;
    }
    ensure_image();
    let mut containers = Containers::new("fleet");
    let privileged = containers.run("priv", &["--privileged"], false);
    let second = SecondDaemon::start(&Options {
        daemon_json: serde_json::json!({"log-level": "debug"}),
        ..Options::default()
    });
    let third = SecondDaemon::start(&Options {
        tls_tcp: true,
        slot: 1,
        ..Options::default()
    });
    let tls = third.tls.clone().expect("TLS material");
    let work = tempfile::tempdir().unwrap();
    let targets = work.path().join("targets.yaml");
    let c = |f: &str| tls.client_dir.join(f).display().to_string();
    std::fs::write(
        &targets,
        format!(
            "targets:\n\
             \x20 - name: system\n    docker_host: unix:///var/run/docker.sock\n    role: \
             cardholder-data-environment\n    labels: {{env: prod}}\n\
             \x20 - name: second\n    docker_host: {}\n    labels: {{env: prod}}\n\
             \x20 - name: over-tls\n    docker_host: tcp://127.0.0.1:{}\n    tls: {{ca: {}, \
             cert: {}, key: {}}}\n    role: connected-to\n    labels: {{env: dev}}\n\
             \x20 - name: gone\n    docker_host: unix://{}/none.sock\n    labels: {{env: prod}}\n",
            second.url(),
            tls.port,
            c("ca.pem"),
            c("cert.pem"),
            c("key.pem"),
            work.path().display()
        ),
    )
    .unwrap();
    let out = work.path().join("fleet");
    let run = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--include-stopped",
        "--images",
        "none",
        "--fail-on",
        "critical",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&run);
    // Not every target was assessed: 4, before --fail-on's 1.
    assert_eq!(run.status.code(), Some(4), "{err}");
    assert!(err.contains("not assessed: gone"), "{err}");

    let fleet = json(&out.join("assessment.json"));
    assert_eq!(fleet["kind"], "fleet");
    assert_eq!(fleet["hosts"].as_array().unwrap().len(), 4);
    for name in ["system", "second", "over-tls"] {
        assert_eq!(host(&fleet, name)["assessed"], true, "{name}: {fleet:#}");
    }
    let gone = host(&fleet, "gone");
    assert_eq!(gone["assessed"], false);
    assert!(
        gone["reason"].as_str().unwrap().contains("no such socket"),
        "{gone}"
    );
    assert_eq!(host(&fleet, "over-tls")["role"], "connected-to");
    assert_eq!(host(&fleet, "system")["labels"]["env"], "prod");

    // Each host bundle holds its own engine's evidence.
    let system = json(&out.join("hosts/system/assessment.json"));
    let second_a = json(&out.join("hosts/second/assessment.json"));
    let tls_a = json(&out.join("hosts/over-tls/assessment.json"));
    assert_eq!(
        verdict(&system, "container.privileged", Some(&privileged)).as_deref(),
        Some("fail")
    );
    assert_eq!(
        verdict(&second_a, "container.privileged", Some(&privileged)),
        None
    );
    assert_eq!(
        verdict(&tls_a, "container.privileged", Some(&privileged)),
        None
    );
    assert_eq!(
        verdict(&second_a, "daemon.log-level", None).as_deref(),
        Some("fail")
    );
    assert_eq!(
        verdict(&system, "daemon.log-level", None).as_deref(),
        Some("pass")
    );
    assert_eq!(
        tls_a["snapshot"]["target"]["docker_host"],
        format!("tcp://127.0.0.1:{}", tls.port)
    );

    // Fleet states: what the privileged container breaks is not in place on `system`; what
    // nothing breaks is undetermined because `gone` was not assessed.
    let requirements: Vec<&Value> = fleet["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["requirements"].as_array().unwrap())
        .collect();
    assert!(requirements.iter().any(|r| r["state"] == "not_in_place"
        && r["not_in_place_on"]
            .as_array()
            .unwrap()
            .contains(&"system".into())));
    let undetermined: Vec<_> = requirements
        .iter()
        .filter(|r| r["state"] == "undetermined")
        .collect();
    assert!(!undetermined.is_empty());
    assert!(undetermined
        .iter()
        .all(|r| r["missing"].as_array().unwrap().contains(&"gone".into())));
    assert!(!requirements
        .iter()
        .any(|r| r["state"] == "consistent_with_in_place"));

    // Reports name the missing target; every bundle verifies on its own and as a whole.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("not assessed: cannot reach the Docker engine"),
        "{html}"
    );
    assert!(html.contains("data-labels=\"env=dev\""));
    assert!(std::fs::read(out.join("report.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    assert_verifies(&out);
    for name in ["system", "second", "over-tls"] {
        assert_verifies(&out.join("hosts").join(name));
    }
    assert!(!out.join("hosts/gone").exists());

    // A change inside a host bundle fails the fleet manifest, naming the file.
    std::fs::write(out.join("hosts/second/report.html"), "changed").unwrap();
    let tampered = dockproof(&["verify", out.to_str().unwrap()]);
    assert_eq!(tampered.status.code(), Some(1));
    let text = String::from_utf8_lossy(&tampered.stdout);
    assert!(text.contains("changed: hosts/second/report.html"), "{text}");
}

const INSECURE: &str = include_str!("../samples/insecure-host.snapshot.json");
const HARDENED: &str = include_str!("../samples/hardened-host.snapshot.json");

/// A copy of a bundled sample snapshot reporting `hostname`.
fn sample(path: &Path, sample: &str, hostname: &str) {
    let mut snap: Value = serde_json::from_str(sample).unwrap();
    snap["target"]["hostname"] = hostname.into();
    std::fs::write(path, serde_json::to_vec(&snap).unwrap()).unwrap();
}

/// A copy of the insecure sample snapshot reporting `hostname`.
fn sample_with_hostname(path: &Path, hostname: &str) {
    sample(path, INSECURE, hostname);
}

/// `report` over `snapshots` (sample, hostname) into `out`, with `extra` arguments.
fn fleet_report(work: &Path, out: &Path, snapshots: &[(&str, &str)], extra: &[&str]) {
    let mut args = vec!["report".to_string()];
    for (i, (s, host)) in snapshots.iter().enumerate() {
        let path = work.join(format!(
            "{}-{i}-{host}.json",
            out.file_name().unwrap().to_string_lossy()
        ));
        sample(&path, s, host);
        args.push(path.display().to_string());
    }
    args.extend([
        "--format".into(),
        "json".into(),
        "--out".into(),
        out.display().to_string(),
    ]);
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockproof(&args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

#[test]
fn diff_and_history_work_on_fleet_bundles() {
    let work = tempfile::tempdir().unwrap();
    let history = work.path().join("history");
    let first = history.join("first");
    fleet_report(
        work.path(),
        &first,
        &[(INSECURE, "a"), (INSECURE, "b")],
        &[],
    );
    let second = work.path().join("second");
    let h = history.display().to_string();
    fleet_report(
        work.path(),
        &second,
        &[(HARDENED, "a"), (INSECURE, "c")],
        &["--history", &h],
    );
    // The host's trend comes from its own bundle in the earlier fleet.
    let a = json(&second.join("hosts/a/assessment.json"));
    assert_eq!(a["trend"].as_array().unwrap().len(), 1, "{}", a["trend"]);
    assert!(a["trend"][0]["source"]
        .as_str()
        .unwrap()
        .contains("hosts/a"));
    assert_eq!(
        json(&second.join("hosts/c/assessment.json"))["trend"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0),
        0
    );

    let run = dockproof(&["diff", first.to_str().unwrap(), second.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("host added: c"), "{text}");
    assert!(text.contains("host removed: b"), "{text}");
    assert!(text.contains("host changed: a:"), "{text}");

    // Back from hardened to insecure: new failures on `a`, which --fail-on-new reports.
    let run = dockproof(&[
        "diff",
        second.to_str().unwrap(),
        first.join("assessment.json").to_str().unwrap(),
        "--format",
        "json",
        "--fail-on-new",
        "low",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let d: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(d["kind"], "fleet");
    assert_eq!(d["hosts_added"], serde_json::json!(["b"]));
    assert_eq!(d["hosts_removed"], serde_json::json!(["c"]));
    assert!(d["hosts"][0]["summary"]["newly_failing"].as_u64().unwrap() > 0);

    // A host bundle and a fleet bundle are not compared; a host's own scans across fleets are
    // its history in a single-host report.
    let run = dockproof(&[
        "diff",
        first.join("hosts/a").to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        stderr(&run).contains("not of the same kind"),
        "{}",
        stderr(&run)
    );
    let single = work.path().join("single");
    let snap = work.path().join("a.json");
    sample(&snap, HARDENED, "a");
    let h = history.display().to_string();
    let run = dockproof(&[
        "report",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--history",
        &h,
        "--out",
        single.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let trend = json(&single.join("assessment.json"))["trend"].clone();
    // The fleet bundle in the history holds an `a` (and a `b`, left out).
    assert_eq!(trend.as_array().map(Vec::len), Some(1), "{trend}");
    assert!(stderr(&run).contains("left out 1 assessment(s) of other hosts"));
}

#[test]
fn report_gives_hostile_and_repeated_host_names_safe_unique_directories() {
    let work = tempfile::tempdir().unwrap();
    let names = ["../x", "a/b", ".", "\u{202e}evil", "clone", "clone"];
    let mut args = vec!["report".to_string()];
    for (i, name) in names.iter().enumerate() {
        let path = work.path().join(format!("s{i}.json"));
        sample_with_hostname(&path, name);
        args.push(path.display().to_string());
    }
    let out = work.path().join("fleet");
    args.extend([
        "--format".into(),
        "html,pdf,json".into(),
        "--fail-on".into(),
        "high".into(),
        "--out".into(),
        out.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockproof(&args);
    // Every snapshot assessed and high failures on the insecure sample: 1.
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let fleet = json(&out.join("assessment.json"));
    let dirs: Vec<&str> = fleet["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["dir"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, ["_x", "a_b", "host", "_evil", "clone", "clone-2"]);
    let mut on_disk: Vec<String> = std::fs::read_dir(out.join("hosts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, ["_evil", "_x", "a_b", "clone", "clone-2", "host"]);
    assert!(!work.path().join("x").exists());
    assert_eq!(host(&fleet, "\u{202e}evil")["dir"], "_evil");
    assert!(!std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains('\u{202e}'));
    assert_verifies(&out);
    assert_verifies(&out.join("hosts/clone-2"));
}

#[test]
fn a_snapshot_directory_gives_the_newest_snapshot_of_each_node() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("snapshots");
    std::fs::create_dir(&dir).unwrap();
    for (file, host) in [
        ("node-a-20261130T010000Z.snapshot.json", "old-a"),
        ("node-a-20261201T010000Z.snapshot.json", "new-a"),
        ("node-b-20261201T020000Z.snapshot.json", "b"),
    ] {
        sample_with_hostname(&dir.join(file), host);
    }
    let out = work.path().join("fleet");
    let run = dockproof(&[
        "report",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stderr(&run).contains("1 older snapshot(s) left out"));
    let fleet = json(&out.join("assessment.json"));
    let hosts = fleet["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["name"], "node-a");
    assert_eq!(hosts[0]["summary"]["hostname"], "new-a");
    assert_eq!(hosts[1]["name"], "node-b");
    assert!(fleet["notes"][0].as_str().unwrap().contains("left out"));
    assert_verifies(&out);
}

#[test]
fn a_fleet_with_no_host_assessed_still_lists_every_requirement_as_undetermined() {
    let work = tempfile::tempdir().unwrap();
    let targets = work.path().join("t.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:\n  - name: a\n    docker_host: unix://{0}/a.sock\n  - name: b\n    \
             docker_host: unix://{0}/b.sock\n",
            work.path().display()
        ),
    )
    .unwrap();
    let out = work.path().join("fleet");
    let run = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--images",
        "none",
        "--framework",
        "pci-dss-4.0.1",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(4), "{err}");
    let fleet = json(&out.join("assessment.json"));
    let frameworks = fleet["frameworks"].as_array().unwrap();
    // The selected framework only, with every one of its requirements.
    assert_eq!(frameworks.len(), 1, "{fleet:#}");
    assert_eq!(frameworks[0]["id"], "pci-dss-4.0.1");
    let requirements = frameworks[0]["requirements"].as_array().unwrap();
    assert!(requirements.len() > 100, "{}", requirements.len());
    for r in requirements {
        assert_eq!(r["state"], "undetermined", "{r}");
        assert_eq!(r["missing"], serde_json::json!(["a", "b"]), "{r}");
    }
    assert!(std::fs::read_to_string(out.join("report.html"))
        .unwrap()
        .contains("2.2.6"));
    assert_verifies(&out);

    // A fleet assessment that says a host was assessed needs that host's bundle: with the
    // manifest rewritten to match the edit, the bundle no longer verifies.
    let mut edited = fleet.clone();
    edited["hosts"][0]["assessed"] = true.into();
    let bytes = serde_json::to_vec(&edited).unwrap();
    std::fs::write(out.join("assessment.json"), &bytes).unwrap();
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    let digest = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let rewritten: String = sums
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((_, "assessment.json")) => format!("{}  assessment.json\n", digest(&bytes)),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(out.join("SHA256SUMS"), rewritten).unwrap();
    let run = dockproof(&["verify", out.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert_ne!(run.status.code(), Some(0), "{text}");
    assert!(text.contains("snapshot.json"), "{text}");
}

#[test]
fn a_bad_targets_file_is_refused_with_file_and_line_before_anything_is_contacted() {
    let work = tempfile::tempdir().unwrap();
    let targets = work.path().join("t.yaml");
    std::fs::write(
        &targets,
        "targets:\n  - name: web\n    docker_host: unix:///nowhere/a.sock\n  - name: web\n    \
         docker_host: unix:///nowhere/b.sock\n",
    )
    .unwrap();
    let out = work.path().join("fleet");
    let run = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = stderr(&run);
    assert!(
        err.contains(&format!(
            "{}:4: target name \"web\" is already used on line 2",
            targets.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
    let leftovers = std::fs::read_dir(work.path()).unwrap().count();
    assert_eq!(leftovers, 1, "only the targets file remains");

    // --targets replaces the single-engine flags.
    let both = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--docker-host",
        "unix:///x",
    ]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_signed_fleet_bundle_verifies_with_ssh_keygen_and_dockproof_at_both_levels() {
    let work = tempfile::tempdir().unwrap();
    let key = work.path().join("key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-C", "ops@example", "-N", "", "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen runs (install openssh-client)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let public = std::fs::read_to_string(work.path().join("key.pub")).unwrap();
    let allowed = work.path().join("allowed_signers");
    std::fs::write(&allowed, format!("ops@example {public}")).unwrap();
    let out = work.path().join("fleet");
    let k = key.display().to_string();
    fleet_report(
        work.path(),
        &out,
        &[(HARDENED, "a"), (HARDENED, "a")],
        &["--sign", &k],
    );
    for bundle in [out.clone(), out.join("hosts/a"), out.join("hosts/a-2")] {
        let sig = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", "ops@example", "-n", "file", "-s"])
            .arg(bundle.join("SHA256SUMS.sig"))
            .stdin(std::fs::File::open(bundle.join("SHA256SUMS")).unwrap())
            .output()
            .expect("ssh-keygen runs");
        assert!(
            sig.status.success(),
            "{}",
            String::from_utf8_lossy(&sig.stderr)
        );
        let run = dockproof(&[
            "verify",
            bundle.to_str().unwrap(),
            "--key",
            allowed.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&run.stdout);
        assert_eq!(run.status.code(), Some(0), "{text}");
        assert!(text.contains("signature good"), "{text}");
    }
    // The fleet manifest covers the host signatures too.
    let manifest = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    assert!(
        manifest.contains("  hosts/a-2/SHA256SUMS.sig\n"),
        "{manifest}"
    );
}
