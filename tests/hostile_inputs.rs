//! Hostile and broken inputs that need no engine: snapshots whose fields have the wrong types,
//! and catalog rules that divide by zero or read a field that is not there. Each ends in a clear
//! message (exit 2, nothing written) or in `error` verdicts, never in a `pass` or a panic.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);

fn sample() -> Value {
    serde_json::from_str(&std::fs::read_to_string(INSECURE).unwrap()).unwrap()
}

/// A container document's name as results show it (without the leading `/`).
fn container_name(container: &Value) -> String {
    container["Name"]
        .as_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string()
}

/// Anything a bundle write left beside its destination.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".dockproof-partial-"))
        .collect()
}

/// `dockproof report` of `doc` written to a temp file; returns the exit code and stderr.
fn report_doc(doc: &Value, dir: &Path) -> (Option<i32>, String) {
    let path = dir.join("hostile.json");
    std::fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    let out = dockproof(&[
        "report",
        path.to_str().unwrap(),
        "--out",
        dir.join("b").to_str().unwrap(),
    ]);
    (out.status.code(), stderr(&out))
}

#[test]
fn a_snapshot_field_of_the_wrong_type_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = sample();
    doc["engine"]["containers"] = json!("all of them");
    let (code, err) = report_doc(&doc, dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("hostile.json is not a valid snapshot document: field `engine.containers`"),
        "{err}"
    );
    assert!(
        err.contains("invalid type: string \"all of them\", expected a sequence"),
        "{err}"
    );
    assert!(!dir.path().join("b").exists());
    assert!(leftovers(dir.path()).is_empty());

    let mut doc = sample();
    doc["host"]["files"][0]["mode"] = json!("0644");
    let (code, err) = report_doc(&doc, dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("field `host.files[0].mode`"), "{err}");
    assert!(!dir.path().join("b").exists());
}

#[test]
fn engine_values_of_the_wrong_type_are_errors_not_passes() {
    let mut doc = sample();
    let containers = doc["engine"]["containers"].as_array_mut().unwrap();
    let name = container_name(&containers[0]);
    containers[0]["HostConfig"]["Privileged"] = json!("yes");
    // A container document that is not an object at all.
    containers.push(json!(42));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("types.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let scan = run_to_bundle(&["report", path.to_str().unwrap(), "--format", "json,csv"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    for (check, message) in [
        (
            "container.privileged",
            "rule could not be evaluated: found no matching overload for '!_' applied to '(string)'",
        ),
        (
            "container.seccomp",
            "rule could not be evaluated: Error executing function 'seccompState': HostConfig.Privileged `\"yes\"` is not a boolean",
        ),
    ] {
        let r = scan
            .results()
            .find(|r| r["check_id"] == check && r["resource"]["name"] == name.as_str())
            .unwrap();
        assert_eq!(r["status"], "error", "{r}");
        assert_eq!(r["message"], message);
    }
    // The evidence shows the odd value, so the reader sees why.
    let r = scan
        .results()
        .find(|r| r["check_id"] == "container.privileged" && r["resource"]["name"] == name.as_str())
        .unwrap();
    assert_eq!(r["evidence"][0]["value"], "yes");
    // The number has no name and no id; nothing about it passes.
    let odd: Vec<_> = scan
        .results()
        .filter(|r| r["resource"]["kind"] == "container" && r["resource"]["id"] == "")
        .collect();
    assert!(!odd.is_empty());
    for r in &odd {
        assert_ne!(r["status"], "pass", "{r}");
    }
}

#[test]
fn a_rule_that_divides_by_zero_or_reads_a_missing_field_is_an_error_per_resource() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    write_checks(
        &controls,
        r#"checks:
  - id: container.memory-share
    title: Memory share
    description: d
    rationale: r
    severity: low
    resource: container
    rule: "1024 / resource.HostConfig.Memory < 1"
    expectation: e
    evidence:
      Memory: resource.HostConfig.Memory
    remediation: r
  - id: container.site-owner
    title: Site owner
    description: d
    rationale: r
    severity: low
    resource: container
    applies_if: "resource.Config.SiteOwner != ''"
    rule: "true"
    expectation: e
    evidence:
      Owner: resource.Config.SiteOwner
    remediation: r
"#,
    );
    let scan = run_to_bundle(&[
        "report",
        INSECURE,
        "--controls",
        controls.to_str().unwrap(),
        "--format",
        "json,csv,junit",
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let names: Vec<String> = sample()["engine"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["Name"]
                .as_str()
                .unwrap()
                .trim_start_matches('/')
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 4);
    for name in &names {
        let verdicts = scan.verdicts_for(name);
        assert_eq!(verdicts["container.memory-share"], "error", "{name}");
        assert_eq!(verdicts["container.site-owner"], "error", "{name}");
    }
    let messages: Vec<(String, String)> = scan
        .results()
        .filter(|r| {
            r["check_id"]
                .as_str()
                .is_some_and(|c| c == "container.memory-share" || c == "container.site-owner")
        })
        .map(|r| {
            (
                r["check_id"].as_str().unwrap().to_string(),
                r["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (check, message) in &messages {
        let expected = if check == "container.memory-share" {
            "rule could not be evaluated: division by zero"
        } else {
            "applicability condition could not be evaluated: data missing: no field `SiteOwner`"
        };
        assert_eq!(message, expected, "{check}");
    }
    // The CSV names check and resource on the row of each error.
    let csv = scan.file("findings.csv");
    for name in &names {
        assert!(
            csv.lines().any(|l| l.contains("container.memory-share")
                && l.contains(name.as_str())
                && l.contains("division by zero")),
            "no CSV row for {name}"
        );
    }
}

#[test]
fn a_rule_too_deep_to_parse_is_a_catalog_error_not_a_crash() {
    // 5 000 chained additions overflowed the parser's stack and killed the process (found by
    // the rules fuzzer).
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    let rule = vec!["1"; 5000].join(" + ");
    write_checks(
        &controls,
        &format!(
            "checks:\n  - id: container.huge\n    title: t\n    description: d\n    \
             rationale: r\n    severity: low\n    resource: container\n    rule: \"{rule} > 0\"\n    \
             expectation: e\n    remediation: r\n"
        ),
    );
    let out = dockproof(&[
        "report",
        INSECURE,
        "--controls",
        controls.to_str().unwrap(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("checks/site.yaml:8: check `container.huge`: rule does not compile: has 5000 operators, more than the 150 allowed"),
        "{err}"
    );
    assert!(!dir.path().join("b").exists());
}

#[test]
fn a_collection_of_the_wrong_kind_is_an_error_naming_the_field_never_a_pass() {
    let mut doc = sample();
    let containers = doc["engine"]["containers"].as_array_mut().unwrap();
    let name = container_name(&containers[0]);
    // CEL's macros run on maps as on lists: `{}` would make `!SecurityOpt.exists(unconfined)`
    // and `Mounts.all(not sensitive)` true.
    containers[0]["HostConfig"]["SecurityOpt"] = json!({});
    containers[0]["Mounts"] = json!({});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shapes.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let scan = run_to_bundle(&["report", path.to_str().unwrap(), "--format", "json"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    let result = |check: &str| {
        scan.results()
            .find(|r| r["check_id"] == check && r["resource"]["name"] == name.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no {check} result"))
    };
    for (check, field) in [
        ("container.seccomp", "HostConfig.SecurityOpt"),
        ("container.no-new-privileges", "HostConfig.SecurityOpt"),
        ("container.sensitive-mounts", "Mounts"),
        ("container.docker-socket", "Mounts"),
    ] {
        let r = result(check);
        assert_eq!(r["status"], "error", "{check}: {r}");
        assert_eq!(
            r["message"],
            format!("`{field}` in the snapshot is a map, not a list: no verdict is drawn from it"),
            "{check}"
        );
    }
    // A check that does not read those fields is judged as usual.
    assert_ne!(result("container.privileged")["status"], "error");
}
