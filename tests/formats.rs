//! End-to-end tests of the machine-readable report formats: the real binary renders the insecure
//! sample in every format, and each file is checked against its official schema or parser.
//!
//! - `results.sarif` against the OASIS SARIF 2.1.0 JSON schema,
//! - `oscal-assessment-results.json` against the NIST OSCAL assessment-results JSON schema,
//! - `junit.xml` for well-formedness with `xmllint --noout`,
//! - `findings.csv` for shape (one row per result, every row the header's width).
//!
//! Both schemas are vendored in `tests/data/schemas/` (see the README there). JSON Schema
//! validation runs `python3` with the `jsonschema` package and XML checking runs `xmllint`
//! (Debian `libxml2-utils`); a missing tool fails the test with the command that installs it.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

#[path = "support/schema.rs"]
mod schema;
use schema::validate_json;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);

struct Bundle {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Bundle {
    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn json(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.file(name)).expect("report file");
        serde_json::from_str(&text).expect("report is JSON")
    }
}

/// Renders the insecure sample in every format, with the sample waivers and attestations so
/// that suppressions, risks and attested findings are validated too.
fn render_all() -> Bundle {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bundle");
    let out = Command::new(env!("CARGO_BIN_EXE_dockproof"))
        .args(["report", INSECURE, "--format", "csv,sarif,junit,oscal,json"])
        .args(["--waivers", "samples/waivers.yaml"])
        .args(["--attestations", "samples/attestations.yaml"])
        .args(["--scope", "samples/scope.yaml"])
        .arg("--out")
        .arg(&path)
        .output()
        .expect("the dockproof binary runs");
    assert!(
        path.join("assessment.json").is_file(),
        "no bundle written; exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Bundle { _dir: dir, path }
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let bundle = render_all();
    validate_json("sarif-schema-2.1.0.json", &bundle.file("results.sarif"));
    let sarif = bundle.json("results.sarif");
    let assessment = bundle.json("assessment.json");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let expected = assessment["results"]
        .as_array()
        .expect("assessment results")
        .iter()
        .filter(|r| r["status"] == "fail" || r["status"] == "error")
        .count();
    assert!(expected > 0);
    assert_eq!(results.len(), expected);
    // GitHub code scanning drops results without a physical location.
    for r in results {
        let physical = &r["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "snapshot.json", "{r}");
        assert_eq!(physical["region"]["startLine"], 1, "{r}");
    }
    assert!(bundle.file("snapshot.json").is_file());
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .map(Vec::len),
        assessment["checks"].as_array().map(Vec::len)
    );
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "one failure is waived in the sample");
    assert_eq!(suppressed[0]["ruleId"], "container.host-pid");
    assert_eq!(
        suppressed[0]["suppressions"][0]["properties"]["waiverId"],
        "W-2026-001"
    );
}

#[test]
fn oscal_validates_against_the_oscal_assessment_results_schema() {
    let bundle = render_all();
    validate_json(
        "oscal_assessment-results_schema.json",
        &bundle.file("oscal-assessment-results.json"),
    );
    let oscal = bundle.json("oscal-assessment-results.json");
    let assessment = bundle.json("assessment.json");
    let ar = &oscal["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
    assert_eq!(
        ar["back-matter"]["resources"][1]["rlinks"][0]["hashes"][0]["value"],
        assessment["snapshot"]["sha256"]
    );
    let findings = ar["results"][0]["findings"].as_array().expect("findings");
    let requirements: usize = assessment["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .map(|f| f["requirements"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(
        findings.len(),
        requirements,
        "one finding per requirement, pending ones included"
    );
    let risks = ar["results"][0]["risks"].as_array().expect("risks");
    assert_eq!(risks.len(), 1, "one active waiver");
    assert_eq!(risks[0]["status"], "deviation-approved");
    assert_eq!(risks[0]["deadline"], "2027-08-31T23:59:59Z");
    let attested: Vec<&Value> = ar["results"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["description"]
                .as_str()
                .unwrap_or("")
                .starts_with("Decided by attestation")
        })
        .collect();
    assert_eq!(attested.len(), 3, "three attestations apply");
}

/// Every `uuid` value anywhere in `v`.
fn uuids_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s) if k == "uuid" => out.push(s.clone()),
                    _ => uuids_in(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| uuids_in(i, out)),
        _ => {}
    }
}

#[test]
fn oscal_uuids_are_version_5_and_reproducible_and_the_scope_names_the_parties() {
    let bundle = render_all();
    let oscal = bundle.json("oscal-assessment-results.json");
    let assessment = bundle.json("assessment.json");
    let mut all = Vec::new();
    uuids_in(&oscal, &mut all);
    assert!(all.len() > 100, "{} uuids", all.len());
    for u in &all {
        let parsed = uuid::Uuid::parse_str(u).unwrap_or_else(|e| panic!("{u}: {e}"));
        assert_eq!(parsed.get_version_num(), 5, "{u}");
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122, "{u}");
    }
    // Components are named after their resource: recompute each from assessment.json.
    let components = oscal["assessment-results"]["results"][0]["local-definitions"]["components"]
        .as_array()
        .expect("components");
    assert!(!components.is_empty());
    for c in components {
        let prop = |name: &str| -> String {
            c["props"]
                .as_array()
                .and_then(|props| props.iter().find(|p| p["name"] == name))
                .and_then(|p| p["value"].as_str())
                .unwrap_or_else(|| panic!("component without {name}: {c}"))
                .to_string()
        };
        let (kind, id) = (prop("resource-kind"), prop("resource-id"));
        assert!(
            assessment["results"]
                .as_array()
                .expect("results")
                .iter()
                .any(|r| r["resource"]["kind"] == kind.as_str()
                    && r["resource"]["id"] == id.as_str()),
            "component {kind} {id} names no resource of assessment.json"
        );
        let name = format!("component|{kind}|{id}");
        let expected = uuid::Uuid::new_v5(&dockproof::render::oscal::NAMESPACE, name.as_bytes());
        assert_eq!(c["uuid"], expected.to_string(), "{kind} {id}");
    }
    let metadata = &oscal["assessment-results"]["metadata"];
    assert_eq!(metadata["props"][0]["name"], "marking");
    assert_eq!(metadata["parties"][0]["name"], "Example Payments Ltd");
}

#[test]
fn oscal_is_reproducible_for_the_same_assessment() {
    // Two renderings of one snapshot differ only by evaluation time, which seeds the document
    // ids; the component ids (one per resource) must not change.
    let (a, b) = (render_all(), render_all());
    let ids = |bundle: &Bundle| -> Vec<Value> {
        bundle.json("oscal-assessment-results.json")["assessment-results"]["results"][0]
            ["local-definitions"]["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|c| c["uuid"].clone())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn junit_is_well_formed_xml() {
    let bundle = render_all();
    let file = bundle.file("junit.xml");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run xmllint ({e}): apt-get install -y libxml2-utils"));
    assert!(
        out.status.success(),
        "junit.xml is not well-formed XML:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xml = std::fs::read_to_string(&file).expect("junit.xml");
    assert!(xml.contains("<testsuites name=\"dockproof\""));
}

#[test]
fn csv_has_one_row_per_result() {
    let bundle = render_all();
    let csv = std::fs::read_to_string(bundle.file("findings.csv")).expect("findings.csv");
    let assessment = bundle.json("assessment.json");
    let results = assessment["results"].as_array().expect("results").len();
    // A minimal RFC 4180 reader: count records and fields outside quotes.
    let (mut records, mut fields, mut quoted) = (Vec::new(), 1usize, false);
    let mut chars = csv.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields += 1,
            '\r' if !quoted && chars.peek() == Some(&'\n') => {
                chars.next();
                records.push(fields);
                fields = 1;
            }
            _ => {}
        }
    }
    assert!(!quoted, "unbalanced quotes");
    assert_eq!(records.len(), results + 1, "header plus one row per result");
    assert!(records.iter().all(|&n| n == 19), "{records:?}");
    assert!(csv.starts_with("check_id,title,severity,status,verdict,waiver,"));
    // Differential: Python's csv module reads the file and writes it back byte for byte (the
    // same minimal quoting and CRLF line ends).
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import csv, io, sys\n\
             raw = open(sys.argv[1], newline='', encoding='utf-8').read()\n\
             rows = list(csv.reader(io.StringIO(raw, newline='')))\n\
             out = io.StringIO(newline='')\n\
             csv.writer(out, lineterminator='\\r\\n').writerows(rows)\n\
             sys.exit(0 if out.getvalue() == raw else 'python writes the rows differently')\n",
        )
        .arg(bundle.file("findings.csv"))
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        csv.lines()
            .any(|l| l.contains(",waived,fail,W-2026-001,container,monitoring-agent,")),
        "the waived failure shows as waived"
    );
}
