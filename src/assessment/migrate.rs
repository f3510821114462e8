//! Migration of `assessment.json` documents written by earlier versions, so old evidence stays
//! readable by `diff` and `--history` (both read through `crate::diff::load`).
//!
//! Schema 1 (before requirement evidence states) recorded a verdict per requirement
//! (`satisfied`, `not_satisfied`, `partial`, `manual`, `not_applicable`, `error`) and a
//! percentage score. Migration re-derives each requirement's evidence state from what schema 1
//! recorded beside the verdict (the mode, the deciding results' counts, the waived count and
//! the applied attestation) with the same rules a new evaluation uses, drops the scores, and
//! drops the embedded trend (a trend is rebuilt from `--history`).

use serde_json::{Map, Value};

use super::requirement::{AttestedVerdict, RequirementState, Technical, Vocabulary};
use super::{Assessment, AssessmentMode, Status, SCHEMA_VERSION};

/// Brings a parsed assessment document of an older schema version up to [`SCHEMA_VERSION`] in
/// place. Returns whether it changed anything; if so, call [`finish`] on the deserialized
/// assessment. The caller has checked that the version is not newer than this dockproof's.
pub fn upgrade(doc: &mut Value) -> bool {
    let version = doc
        .get("schema_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if version >= u64::from(SCHEMA_VERSION) {
        return false;
    }
    from_v1(doc);
    true
}

/// The vocabulary a schema 1 framework is read with, from its id.
fn vocabulary_of(id: &str) -> Vocabulary {
    if id.starts_with("cis-") {
        Vocabulary::Benchmark
    } else if id.starts_with("pci-dss") {
        Vocabulary::PciDss
    } else if id.starts_with("hipaa") {
        Vocabulary::Hipaa
    } else {
        Vocabulary::Generic
    }
}

fn from_v1(doc: &mut Value) {
    doc["schema_version"] = Value::from(SCHEMA_VERSION);
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("trend");
    }
    let Some(frameworks) = doc.get_mut("frameworks").and_then(Value::as_array_mut) else {
        return;
    };
    for fw in frameworks {
        let Some(fw) = fw.as_object_mut() else {
            continue;
        };
        for key in ["score", "score_without_waivers", "counts_without_waivers"] {
            fw.remove(key);
        }
        let vocabulary = vocabulary_of(fw.get("id").and_then(Value::as_str).unwrap_or(""));
        fw.insert(
            "vocabulary".into(),
            serde_json::to_value(vocabulary).unwrap_or_default(),
        );
        if let Some(reqs) = fw.get_mut("requirements").and_then(Value::as_array_mut) {
            for req in reqs.iter_mut().filter_map(Value::as_object_mut) {
                requirement_from_v1(req);
            }
        }
        // Counts and figures are derived from the requirements once they deserialize.
        fw.insert("counts".into(), Value::Object(Map::new()));
        fw.insert(
            "figures".into(),
            serde_json::to_value(super::Figures::default()).unwrap_or_default(),
        );
    }
}

fn requirement_from_v1(req: &mut Map<String, Value>) {
    let mode: Option<AssessmentMode> = req
        .get("mode")
        .and_then(|m| serde_json::from_value(m.clone()).ok());
    let counts: std::collections::BTreeMap<Status, usize> = req
        .get("counts")
        .and_then(|c| serde_json::from_value(c.clone()).ok())
        .unwrap_or_default();
    let waived = req.get("waived").and_then(Value::as_u64).unwrap_or(0) as usize;
    let technical = Technical::from_counts(&counts, waived);
    let attested: Option<AttestedVerdict> = req
        .get("attestation")
        .and_then(|a| a.get("verdict"))
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    // A requirement whose mode cannot be read keeps no guess: it awaits manual evidence unless
    // its results show a failure, which decides in every mode.
    let state = match (attested, mode) {
        (Some(v), _) => v.state(),
        (None, Some(mode)) => RequirementState::from_technical(mode, technical),
        (None, None) => RequirementState::from_technical(AssessmentMode::Manual, technical),
    };
    req.remove("status");
    req.remove("status_without_waivers");
    req.insert(
        "state".into(),
        serde_json::to_value(state).unwrap_or_default(),
    );
    req.insert(
        "technical".into(),
        serde_json::to_value(technical).unwrap_or_default(),
    );
}

/// Completes an upgraded assessment: schema 1 did not record which waivers covered a
/// requirement (the results say), and counts and figures are derived from the new states.
pub fn finish(a: &mut Assessment) {
    let results = &a.results;
    for fw in &mut a.frameworks {
        for req in &mut fw.requirements {
            let mut ids: Vec<String> = results
                .iter()
                .filter(|r| req.checks.contains(&r.check_id))
                .filter_map(|r| r.waiver.clone())
                .collect();
            ids.sort();
            ids.dedup();
            req.waivers = ids;
        }
        fw.recount();
    }
}
