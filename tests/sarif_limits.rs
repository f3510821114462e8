//! `results.sarif` at scale: a synthetic host of 1,000 containers (the insecure sample's
//! containers repeated under new names and ids, as `benches/synth-snapshot.py` does) is reported
//! by the real binary, and its SARIF run must upload to GitHub code scanning as is: every result
//! with a physical location, within 25,000 results and 10 MB gzipped. The same assessment is then
//! rendered with lowered limits to prove the cut: failures first, most severe first, the cut
//! stated, and the file still valid SARIF 2.1.0.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use dockproof::render::sarif::{render_within, Limits};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

#[path = "support/schema.rs"]
mod schema;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const CONTAINERS: usize = 1_000;

/// The insecure sample with its containers repeated to `n` under new names and ids.
fn synthetic_snapshot(n: usize) -> Value {
    let text = std::fs::read_to_string(INSECURE).expect("sample snapshot");
    let mut snap: Value = serde_json::from_str(&text).expect("sample is JSON");
    let templates = snap["engine"]["containers"]
        .as_array()
        .expect("sample containers")
        .clone();
    assert!(!templates.is_empty());
    let containers: Vec<Value> = (0..n)
        .map(|i| {
            let mut c = templates[i % templates.len()].clone();
            let base = c["Name"].as_str().unwrap_or("/c").trim_start_matches('/');
            let name = format!("/{base}-{i:05}");
            c["Id"] = Value::String(format!("{:064x}", i + 1));
            c["Name"] = Value::String(name);
            c
        })
        .collect();
    snap["engine"]["containers"] = Value::Array(containers);
    snap
}

fn gzip_size(bytes: &[u8]) -> usize {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip").len()
}

fn reported(assessment: &Value) -> usize {
    assessment["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "fail" || r["status"] == "error")
        .count()
}

/// (status, waived, severity rank) of each result, in the run's order.
fn ranks(run: &Value) -> Vec<(u8, u8)> {
    let severity = |s: &str| match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    };
    run["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            let class = match (r["kind"].as_str(), r.get("suppressions").is_some()) {
                (Some("fail"), false) => 0,
                (Some("fail"), true) => 1,
                _ => 2,
            };
            (
                class,
                severity(r["properties"]["severity"].as_str().unwrap_or("")),
            )
        })
        .collect()
}

#[test]
fn a_thousand_containers_upload_as_is_and_lowered_limits_cut_failures_last() {
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("synthetic.json");
    let text = serde_json::to_vec(&synthetic_snapshot(CONTAINERS)).expect("encode");
    std::fs::write(&snapshot, text).expect("write snapshot");
    let bundle = dir.path().join("bundle");
    let out = Command::new(env!("CARGO_BIN_EXE_dockproof"))
        .arg("report")
        .arg(&snapshot)
        .args(["--format", "sarif,json", "--out"])
        .arg(&bundle)
        .output()
        .expect("the dockproof binary runs");
    assert!(
        bundle.join("results.sarif").is_file(),
        "no bundle; exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );

    // The real limits: the whole run fits and nothing is cut.
    let sarif_bytes = std::fs::read(bundle.join("results.sarif")).expect("results.sarif");
    let sarif: Value = serde_json::from_slice(&sarif_bytes).expect("SARIF is JSON");
    let assessment_text = std::fs::read(bundle.join("assessment.json")).expect("assessment");
    let assessment: Value = serde_json::from_slice(&assessment_text).expect("assessment JSON");
    let total = reported(&assessment);
    assert!(total > 10 * CONTAINERS, "{total} results");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), total);
    assert!(results.len() <= 25_000);
    assert!(gzip_size(&sarif_bytes) <= 10_000_000);
    assert!(run["properties"].get("truncation").is_none());
    assert!(results.iter().all(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "snapshot.json"
            && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    }));

    // Lowered limits on the same assessment, read back as the bundle holds it.
    let a = dockproof::diff::load(&bundle.join("assessment.json")).expect("load assessment");
    let render = |limits: Limits| -> (Vec<u8>, Value) {
        let mut bytes = Vec::new();
        render_within(&a, limits, &mut bytes).expect("render");
        let doc = serde_json::from_slice(&bytes).expect("JSON");
        (bytes, doc)
    };

    // Fewer results allowed than reported.
    let limits = Limits {
        max_results: 500,
        max_gzip_bytes: u64::MAX,
    };
    let (bytes, doc) = render(limits);
    let run = &doc["runs"][0];
    let kept = ranks(run);
    assert_eq!(kept.len(), 500);
    assert!(kept.windows(2).all(|w| w[0] <= w[1]), "kept in rank order");
    let mut all = ranks(&sarif["runs"][0]);
    all.sort();
    assert_eq!(kept, all[..500], "the 500 highest-ranked results are kept");
    assert_eq!(
        run["properties"]["truncation"]["resultsOmitted"],
        total - 500
    );
    let note = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .expect("notification");
    assert!(
        note.starts_with(&format!("{} of {total} results were left out", total - 500)),
        "{note}"
    );
    assert!(note.contains("assessment.json and findings.csv"), "{note}");
    let file = dir.path().join("cut.sarif");
    std::fs::write(&file, &bytes).expect("write");
    schema::validate_json("sarif-schema-2.1.0.json", Path::new(&file));

    // A smaller file allowed than the whole run makes.
    let max_gzip_bytes = 200_000;
    let (bytes, doc) = render(Limits {
        max_results: 25_000,
        max_gzip_bytes,
    });
    assert!(gzip_size(&bytes) as u64 <= max_gzip_bytes);
    let run = &doc["runs"][0];
    let kept = ranks(run);
    assert!(!kept.is_empty() && kept.len() < total, "{}", kept.len());
    assert_eq!(kept, all[..kept.len()]);
    assert_eq!(
        run["properties"]["truncation"]["resultsWritten"],
        kept.len()
    );
}
