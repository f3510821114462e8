//! Waivers and attestations end to end: the sample files over the insecure sample, `--fail-on`
//! with waived failures, bad files, and a waiver scoped by label on a real container.

mod common;

use common::*;
use serde_json::Value;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const WAIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml");
const ATTESTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/attestations.yaml");

fn requirement<'a>(scan: &'a Scan, framework: &str, id: &str) -> &'a Value {
    scan.assessment["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == framework))
        .and_then(|f| f["requirements"].as_array())
        .and_then(|r| r.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("{framework} {id} missing"))
}

#[test]
fn the_sample_waivers_and_attestations_land_in_the_registers() {
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json,csv,pdf,html",
        "--waivers",
        WAIVERS,
        "--attestations",
        ATTESTATIONS,
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let states: Vec<(&str, &str, u64)> = scan.assessment["waivers"]
        .as_array()
        .expect("waiver register")
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap(),
                w["state"].as_str().unwrap(),
                w["covered"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("W-2026-001", "active", 1),
            ("W-2026-002", "expired", 0),
            ("W-2026-003", "unused", 0)
        ]
    );
    // The waived result keeps its verdict; the expired waiver covers nothing.
    let host_pid = scan
        .results()
        .find(|r| {
            r["check_id"] == "container.host-pid" && r["resource"]["name"] == "monitoring-agent"
        })
        .expect("host-pid result");
    assert_eq!(host_pid["status"], "fail");
    assert_eq!(host_pid["waiver"], "W-2026-001");
    let socket = scan
        .results()
        .find(|r| {
            r["check_id"] == "container.docker-socket" && r["resource"]["name"] == "ci-runner"
        })
        .expect("socket result");
    assert!(socket.get("waiver").is_none());
    assert_eq!(scan.assessment["summary"]["waived"], 1);

    let pci = requirement(&scan, "pci-dss-4.0.1", "2.2.1");
    assert_eq!(pci["state"], "attested_in_place");
    assert_eq!(pci["technical"], "none", "2.2.1 has no deciding check");
    assert_eq!(
        pci["attestation"]["attested_by"],
        "Dana Reyes, Infrastructure Security Lead"
    );
    let hipaa = requirement(&scan, "hipaa-security-rule", "164.308(a)(6)(i)");
    assert_eq!(hipaa["state"], "attested_not_in_place");
    let cis = requirement(&scan, "cis-docker-1.6", "5.9");
    assert_eq!(
        cis["state"], "awaiting_manual_evidence",
        "the 5.9 attestation has expired"
    );
    // The waived critical failure: not in place, the risk accepted under W-2026-001.
    let host_pid = requirement(&scan, "cis-docker-1.6", "5.16");
    assert_eq!(host_pid["state"], "risk_accepted");
    assert_eq!(host_pid["waivers"], serde_json::json!(["W-2026-001"]));
    report_parts_say_risk_accepted(&scan);

    let stdout = String::from_utf8_lossy(&scan.output.stdout);
    assert!(
        stdout.contains("waivers: 1 active, 1 unused, 1 expired"),
        "{stdout}"
    );
    assert!(
        stdout.contains("waiver W-2026-002 (") && stdout.contains("waivers.yaml:22)"),
        "{stdout}"
    );
    assert!(stdout.contains("attestations: 3 applied of 4"), "{stdout}");
    assert!(scan
        .file("findings.csv")
        .contains(",waived,fail,W-2026-001,"));
}

/// The HTML and PDF reports of the sample bundle state 5.16 as waived, never in place: the same
/// state as assessment.json, in the benchmark's words, with the waiver and its expiry.
fn report_parts_say_risk_accepted(scan: &Scan) {
    const NOTE: &str =
        "1 failure(s) waived: risk accepted under waiver W-2026-001 (expires 2027-08-31)";
    let html = scan.file("report.html");
    let start = html
        .find(r#"<tr id="req-cis-docker-1-6-5-16" data-state="risk_accepted" data-search="#)
        .expect("the 5.16 matrix row carries its state");
    let row = &html[start..start + html[start..].find("</tr>").expect("row ends")];
    assert!(
        row.contains(&format!(
            r#"<span class="badge tone-accepted">Fail, risk accepted under waiver</span><p class="waiver-note">{NOTE}</p>"#
        )),
        "{row}"
    );
    for green in ["tone-good", "tone-consistent", ">Pass<"] {
        assert!(!row.contains(green), "{green} in {row}");
    }
    // Under "Findings by requirement" too, with the filter's state.
    assert!(html.contains(
        r#"<details data-group data-state="risk_accepted">
<summary><span class="mono sum-title">5.16</span> <span class="sum-title">Host PID ns not shared</span> <span class="badge tone-accepted">Fail, risk accepted under waiver</span>"#
    ));

    let out = std::process::Command::new("pdftotext")
        .arg(scan.bundle.join("report.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!(
            "5.16 Host PID ns not shared: Fail, risk accepted under waiver {NOTE}"
        )),
        "the PDF's findings heading of 5.16"
    );
    assert!(
        !flat.contains("Host PID ns not shared: Pass") && !flat.contains("Satisfied"),
        "5.16 reads as in place in the PDF"
    );
}

#[test]
fn fail_on_ignores_waived_failures_only() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("w.yaml");
    let all_critical = "waivers:\n".to_string()
        + &[
            "container.privileged",
            "container.host-pid",
            "container.docker-socket",
        ]
        .iter()
        .map(|c| format!("  - check: {c}\n    justification: accepted for the test\n"))
        .collect::<String>();
    std::fs::write(&waivers, &all_critical).unwrap();
    let w = waivers.to_str().unwrap();
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--fail-on",
        "critical",
        "--waivers",
        w,
    ]);
    assert_eq!(
        scan.output.status.code(),
        Some(0),
        "{}",
        stderr(&scan.output)
    );
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--fail-on",
        "high",
        "--waivers",
        w,
    ]);
    assert_eq!(
        scan.output.status.code(),
        Some(1),
        "high failures are not waived"
    );
}

#[test]
fn a_bad_waiver_file_is_an_input_error_naming_the_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("w.yaml");
    std::fs::write(
        &waivers,
        "waivers:\n  - check: container.privileged\n    justification: fine\n  - check: container.priviledged\n    justification: typo\n    expires: 2026-13-01\n",
    )
    .unwrap();
    let out_dir = dir.path().join("bundle");
    let out = dockproof(&[
        "report",
        INSECURE,
        "--waivers",
        waivers.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("w.yaml:4: entry 2"), "{err}");
    assert!(!out_dir.exists());

    std::fs::write(
        &waivers,
        "waivers:\n  - check: container.priviledged\n    justification: typo\n",
    )
    .unwrap();
    let out = dockproof(&["report", INSECURE, "--waivers", waivers.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("w.yaml:2: unknown check `container.priviledged`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_waiver_scoped_by_label_covers_a_real_container() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("waiver");
    let exempt = c.run(
        "exempt",
        &["--privileged", "--label", "waiver.group=kernel-tools"],
        false,
    );
    let other = c.run("other", &["--privileged"], false);
    let dir = tempfile::tempdir().unwrap();
    let waivers = dir.path().join("w.yaml");
    std::fs::write(
        &waivers,
        "waivers:\n  - id: W-LABEL\n    check: container.privileged\n    scope:\n      labels: {waiver.group: kernel-tools}\n    justification: loads a kernel module\n",
    )
    .unwrap();
    let scan = run_to_bundle(&[
        "scan",
        "--include-stopped",
        "--format",
        "json",
        "--waivers",
        waivers.to_str().unwrap(),
    ]);
    let result = |name: &str| {
        scan.results()
            .find(|r| r["check_id"] == "container.privileged" && r["resource"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no privileged result for {name}"))
    };
    assert_eq!(result(&exempt)["status"], "fail");
    assert_eq!(result(&exempt)["waiver"], "W-LABEL");
    assert_eq!(result(&other)["status"], "fail");
    assert!(result(&other).get("waiver").is_none());
}

const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);

#[test]
fn history_adds_earlier_scans_of_the_same_host_to_the_trend() {
    let history = tempfile::tempdir().unwrap();
    let earlier = history.path().join("earlier");
    let out = dockproof(&[
        "report",
        HARDENED,
        "--format",
        "json",
        "--out",
        earlier.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The earlier scan was evaluated with other catalogs: the trend marks where they changed.
    let path = earlier.join("assessment.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["catalog"]["sha256"] = "0".repeat(64).into();
    std::fs::write(&path, doc.to_string()).unwrap();
    // A second bundle of the same snapshot as this scan is not a separate point.
    let same = history.path().join("same");
    let out = dockproof(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--out",
        same.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A bundle of another host is left out.
    let other = history.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(earlier.join("assessment.json")).unwrap())
            .unwrap();
    doc["snapshot"]["target"]["hostname"] = "another-host".into();
    std::fs::write(other.join("assessment.json"), doc.to_string()).unwrap();

    let h = history.path().to_str().unwrap();
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--format",
        "json,pdf,html",
        "--history",
        h,
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let trend = scan.assessment["trend"].as_array().expect("trend");
    assert_eq!(trend.len(), 1, "{trend:#?}");
    assert_eq!(trend[0]["source"], "earlier/assessment.json");
    assert_eq!(trend[0]["by_status"]["fail"], 30);
    assert!(stderr(&scan.output).contains("left out 1 assessment(s) of other hosts"));
    let text = std::process::Command::new("pdftotext")
        .arg(scan.bundle.join("report.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("over the last 2"),
        "the trend section names its scans"
    );
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Requirements not in place per evidence (waived or not), per framework"));
    assert!(flat.contains("Scans marked * were evaluated with other catalogs"));
    // This scan (collected 01:11:10) is the one after the change.
    assert!(
        flat.contains("2026-11-29T01:11:10Z *"),
        "no catalog-change mark"
    );
    assert!(!flat.contains("2026-11-29T01:11:07Z *"));
    let html = scan.file("report.html");
    assert_eq!(html.matches(r#"class="catalog-change""#).count(), 1);
    assert!(html.contains(r#"<td class="mono">2026-11-29T01:11:10Z *</td>"#));
    assert!(!html.contains("Score"));

    // A damaged earlier assessment is named, not skipped.
    std::fs::write(earlier.join("assessment.json"), "{\"snapshot\": ").unwrap();
    let out = dockproof(&["report", INSECURE, "--format", "json", "--history", h]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("earlier/assessment.json is not valid JSON"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn diff_reports_the_waivers_and_attestations_added_between_two_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old"), dir.path().join("new"));
    let out = dockproof(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--out",
        old.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dockproof(&[
        "report",
        INSECURE,
        "--format",
        "json",
        "--waivers",
        WAIVERS,
        "--attestations",
        ATTESTATIONS,
        "--out",
        new.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dockproof(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let diff: Value = serde_json::from_slice(&out.stdout).expect("diff JSON");
    let added: Vec<&str> = diff["waivers"]["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(added, vec!["W-2026-001", "W-2026-002", "W-2026-003"]);
    let waived = &diff["waivers"]["newly_waived"];
    assert_eq!(waived.as_array().map(Vec::len), Some(1));
    assert_eq!(waived[0]["resource"]["name"], "monitoring-agent");
    assert_eq!(waived[0]["new_waiver"], "W-2026-001");
    let pci = diff["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "pci-dss-4.0.1")
        .expect("pci in the diff");
    let changed: Vec<(&str, &str, &str)> = pci["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["old_state"].as_str().unwrap(),
                r["new_state"].as_str().unwrap(),
            )
        })
        .collect();
    let attested = ("awaiting_manual_evidence", "attested_in_place");
    assert_eq!(
        changed,
        vec![
            ("1.1.1", attested.0, attested.1),
            ("2.2.1", attested.0, attested.1)
        ]
    );
}
