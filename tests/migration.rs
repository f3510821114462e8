//! Old evidence stays readable: assessments written by dockproof 0.1.0 (schema 1, with
//! percentage scores and satisfied / not satisfied verdicts) load in `diff` and `--history`,
//! migrated to evidence states.

mod common;

use common::{dockproof, run_to_bundle, stderr};
use serde_json::Value;

const V1_INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/v1/insecure-assessment.json"
);
const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const WAIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml");
const ATTESTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/attestations.yaml");

fn v1() -> Value {
    serde_json::from_str(&std::fs::read_to_string(V1_INSECURE).unwrap()).unwrap()
}

#[test]
fn a_schema_1_assessment_diffs_against_itself_with_no_change() {
    let out = dockproof(&["diff", V1_INSECURE, V1_INSECURE, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["summary"]["requirements_changed"], 0);
    let frameworks = diff["frameworks"].as_array().unwrap();
    assert_eq!(frameworks.len(), 3);
    for fw in frameworks {
        assert_eq!(fw["old_figures"], fw["new_figures"], "{fw:#}");
        assert!(fw["old_figures"]["requirements"].as_u64().unwrap() > 0);
    }
}

#[test]
fn a_schema_1_waived_satisfied_requirement_migrates_to_risk_accepted() {
    // 0.1.0 showed CIS 5.16 as satisfied because its only failure was waived.
    let old = v1();
    let cis = old["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cis-docker-1.6")
        .unwrap();
    let req = cis["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "5.16")
        .unwrap();
    assert_eq!(req["status"], "satisfied");
    assert_eq!(req["waived"], 1);

    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("new");
    let out = dockproof(&[
        "report",
        INSECURE,
        "--waivers",
        WAIVERS,
        "--attestations",
        ATTESTATIONS,
        "--format",
        "json",
        "--out",
        new.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = dockproof(&[
        "diff",
        V1_INSECURE,
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The migrated old side and the new evaluation agree on 5.16: not in place, risk accepted.
    let cis = diff["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cis-docker-1.6")
        .unwrap();
    assert!(cis["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != "5.16"));
    let text = dockproof(&["diff", V1_INSECURE, V1_INSECURE, "--format", "text"]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("not in place"));
}

#[test]
fn a_schema_1_bundle_joins_the_trend_and_the_catalog_change_is_marked() {
    let history = tempfile::tempdir().unwrap();
    let mut doc = v1();
    // As if the earlier scan had been taken a day before, of the same host.
    doc["snapshot"]["sha256"] = "0".repeat(64).into();
    doc["catalog"]["sha256"] = "1".repeat(64).into();
    let earlier = history.path().join("earlier");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(earlier.join("assessment.json"), doc.to_string()).unwrap();
    let h = history.path().to_str().unwrap();
    let scan = run_to_bundle(&["report", INSECURE, "--format", "json,html", "--history", h]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let trend = scan.assessment["trend"].as_array().expect("trend");
    assert_eq!(trend.len(), 1, "{trend:#?}");
    assert_eq!(trend[0]["catalog_sha256"], "1".repeat(64));
    let pci = trend[0]["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "pci-dss-4.0.1")
        .unwrap();
    assert!(pci["figures"]["requirements"].as_u64().unwrap() > 0);
    assert!(pci.get("score").is_none());
    let html = scan.file("report.html");
    assert!(html.contains("class=\"catalog-change\""), "no catalog mark");
}

#[test]
fn a_newer_schema_is_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = v1();
    doc["schema_version"] = 99.into();
    let path = dir.path().join("future.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = dockproof(&["diff", path.to_str().unwrap(), V1_INSECURE]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("future.json") && err.contains("99"), "{err}");
}
