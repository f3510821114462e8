//! End-to-end tests of the binary that need no engine: offline reports of the bundled samples,
//! catalog commands, and the exit code and message for every kind of bad input.

mod common;

use common::*;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);

#[test]
fn the_insecure_sample_fails_where_it_should() {
    let scan = run_to_bundle(&["report", INSECURE]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    assert_eq!(scan.cis_verdicts("5.5", "legacy-admin"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.32", "ci-runner"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.32", "monitoring-agent"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.10", "monitoring-agent"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.8", "web-frontend"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.14", "web-frontend"), vec!["fail"]);
    assert_eq!(scan.cis_verdicts("5.15", "web-frontend"), vec!["fail"]);
    for f in [
        "report.html",
        "assessment.json",
        "snapshot.json",
        "SHA256SUMS",
    ] {
        assert!(scan.bundle.join(f).is_file(), "{f} missing");
    }
    // The sample's secret was redacted when it was collected.
    assert!(!scan
        .file("snapshot.json")
        .contains("sample-not-a-real-secret"));
    assert!(scan.file("report.html").contains("legacy-admin"));
}

#[test]
fn the_hardened_sample_passes_the_runtime_checks() {
    let scan = run_to_bundle(&["report", HARDENED, "--format", "json"]);
    for name in ["payments-api", "ledger-worker"] {
        for cis in [
            "5.4", "5.5", "5.6", "5.10", "5.11", "5.12", "5.13", "5.15", "5.22", "5.26", "5.27",
            "5.29", "5.32",
        ] {
            // Every check of the recommendation passes; a review check that only applies to
            // another configuration (NET_RAW kept) may be not applicable.
            let verdicts = scan.cis_verdicts(cis, name);
            assert!(
                verdicts.contains(&"pass".to_string()),
                "CIS {cis} on {name}: {verdicts:?}"
            );
            assert!(
                verdicts
                    .iter()
                    .all(|v| v == "pass" || v == "not_applicable"),
                "CIS {cis} on {name}: {verdicts:?}"
            );
        }
    }
}

#[test]
fn fail_on_maps_failures_to_exit_code_one() {
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(scan.output.status.code(), Some(1));
    let scan = run_to_bundle(&[
        "report",
        HARDENED,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(
        scan.output.status.code(),
        Some(0),
        "{}",
        stderr(&scan.output)
    );
}

#[test]
fn an_unreachable_engine_exits_3_and_names_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}/nothing.sock", dir.path().display());
    let out = dockproof(&[
        "scan",
        "--docker-host",
        &sock,
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains(&sock), "{}", stderr(&out));
    assert!(
        !dir.path().join("b").exists(),
        "a bundle was written for a failed scan"
    );
}

#[test]
fn a_fallback_snapshot_is_reported_when_the_engine_is_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let sock = format!("unix://{}/nothing.sock", dir.path().display());
    let scan = run_to_bundle(&[
        "scan",
        "--docker-host",
        &sock,
        "--fallback-snapshot",
        INSECURE,
        "--format",
        "json",
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    assert!(stderr(&scan.output).contains("reporting the saved snapshot"));
    assert_eq!(scan.cis_verdicts("5.5", "legacy-admin"), vec!["fail"]);
}

#[test]
fn a_truncated_snapshot_is_an_input_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(INSECURE).unwrap();
    let cut = dir.path().join("cut.json");
    let lines: Vec<&str> = text.lines().take(40).collect();
    std::fs::write(&cut, lines.join("\n")).unwrap();
    let out = dockproof(&[
        "report",
        cut.to_str().unwrap(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("cut.json") && err.contains("line 40"), "{err}");
    assert!(!dir.path().join("b").exists());
}

#[test]
fn a_snapshot_from_a_future_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(INSECURE).unwrap()).unwrap();
    doc["schema_version"] = 999.into();
    let path = dir.path().join("future.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = dockproof(&[
        "report",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("schema version 999"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_broken_catalog_is_an_input_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    write_checks(
        &controls,
        "checks:\n  - id: extra.thing\n    title: [unclosed\n",
    );
    let out = dockproof(&[
        "report",
        INSECURE,
        "--controls",
        controls.to_str().unwrap(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("checks/site.yaml:"), "{err}");
    assert!(!dir.path().join("b").exists());
}

#[test]
fn an_extra_catalog_can_add_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    write_checks(
        &controls,
        r#"checks:
  - id: container.site-label
    title: Container carries an owner label
    description: d
    rationale: r
    severity: low
    resource: container
    rule: "'owner' in resource.Config.?Labels.orValue({})"
    expectation: an owner label
    evidence:
      Labels: resource.Config.?Labels.orValue({})
    remediation: Add --label owner=TEAM.
"#,
    );
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--controls",
        controls.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    assert_eq!(
        scan.verdict("container.site-label", "web-frontend")
            .as_deref(),
        Some("fail")
    );
}

#[test]
fn an_unknown_parameter_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dockproof(&[
        "report",
        INSECURE,
        "--param",
        "nope=1",
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown parameter `nope`"));
}

#[test]
fn parameters_change_verdicts() {
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--param",
        "allowed_capabilities=NET_ADMIN,SYS_ADMIN",
    ]);
    assert_eq!(
        scan.verdict("container.capabilities-added", "web-frontend")
            .as_deref(),
        Some("pass")
    );
    // Keeping the default NET_RAW stays a review item whatever is allowed to be added.
    assert_eq!(
        scan.cis_verdicts("5.4", "web-frontend"),
        vec!["manual", "pass"]
    );
}

#[test]
fn catalog_commands_list_and_lint() {
    let out = dockproof(&["controls", "lint"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));

    let out = dockproof(&["frameworks", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for id in ["cis-docker-1.6", "pci-dss-4.0.1", "hipaa-security-rule"] {
        assert!(text.contains(id), "{text}");
    }

    let out = dockproof(&["controls", "list", "--framework", "pci-dss-4.0.1"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("container.privileged"), "{text}");
    assert!(text.contains("180 requirements"), "{text}");

    let out = dockproof(&["controls", "show", "container.docker-socket"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CIS Docker Benchmark 1.6.0: 5.32"), "{text}");
    assert!(text.contains("decides pci-dss-4.0.1"), "{text}");

    let out = dockproof(&["controls", "show", "no.such-check"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_same_snapshot_gives_the_same_results_byte_for_byte() {
    let results = || {
        let scan = run_to_bundle(&["report", INSECURE, "--format", "json"]);
        serde_json::to_string(&scan.assessment["results"]).expect("results serialise")
    };
    // Evidence maps come from CEL in hash order; they must still be written the same way.
    assert_eq!(results(), results());
}

#[test]
fn bidirectional_controls_in_host_names_are_shown_in_the_html_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(INSECURE).unwrap()).unwrap();
    doc["engine"]["containers"][0]["Name"] = "/invoice-\u{202e}fdp.exe".into();
    let snap = dir.path().join("rlo.json");
    std::fs::write(&snap, doc.to_string()).unwrap();
    let scan = run_to_bundle(&["report", snap.to_str().unwrap(), "--format", "html,json"]);
    let html = scan.file("report.html");
    assert!(
        html.contains("invoice-[U+202E]fdp.exe"),
        "the control is shown"
    );
    assert!(
        !html.contains('\u{202e}'),
        "the control is never written raw"
    );
    // The evidence itself keeps the name exactly as the engine reported it.
    assert!(scan
        .file("assessment.json")
        .contains("invoice-\u{202e}fdp.exe"));
}

/// The hardened sample's console summary gives each framework's figures with their
/// denominators and no percentage: open manual requirements must not read as "0% compliant".
#[test]
fn the_console_summary_of_the_hardened_sample_shows_counts_not_a_score() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle");
    let out = assert_cmd::Command::new(bin())
        .args(["report", HARDENED, "--out"])
        .arg(&bundle)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).expect("utf-8");
    let text = std::fs::read_to_string(bundle.join("assessment.json")).expect("assessment.json");
    let a: dockproof::assessment::Assessment = serde_json::from_str(&text).expect("assessment");
    assert!(!stdout.contains('%'), "{stdout}");
    assert!(!stdout.to_lowercase().contains("compliant"), "{stdout}");
    assert!(
        stdout.contains(
            "requirements (evidence for an assessor to confirm, not a compliance verdict):\n"
        ),
        "{stdout}"
    );
    assert_eq!(a.frameworks.len(), 3);
    for f in &a.frameworks {
        let block = format!(
            "  {} {} ({})\n    {}\n",
            f.name,
            f.version,
            f.id,
            f.figures.compact()
        );
        assert!(stdout.contains(&block), "missing\n{block}in\n{stdout}");
    }
    let pci = a
        .frameworks
        .iter()
        .find(|f| f.id == "pci-dss-4.0.1")
        .expect("PCI DSS");
    assert_eq!(pci.figures.attested, 0);
    assert!(
        pci.figures.awaiting_manual_evidence > 100,
        "{:?}",
        pci.figures
    );
    assert!(
        stdout.contains(&format!(
            ", {} awaiting manual evidence, 0 attested, ",
            pci.figures.awaiting_manual_evidence
        )),
        "{stdout}"
    );
}

/// The insecure sample's waived CIS 5.16 reads as waived in the console too, with its waiver.
#[test]
fn the_console_summary_names_a_waived_requirement_and_its_waiver() {
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--waivers",
        concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml"),
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let stdout = String::from_utf8_lossy(&scan.output.stdout);
    assert!(
        stdout.contains(
            "    5.16 Host PID ns not shared: 1 failure(s) waived: risk accepted under waiver \
             W-2026-001 (expires 2027-08-31)\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains(" 1 risk_accepted,"), "{stdout}");
}
