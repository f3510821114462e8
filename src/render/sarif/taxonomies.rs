//! The framework side of `results.sarif`: one SARIF taxonomy per framework, whose taxa are its
//! requirements with their evidence state, and the references from results to those taxa.
//!
//! A taxon's property bag carries the evidence state as `state` (the key every format uses) and
//! `stateLabel` (its label in the framework's words), the assessment mode, the HIPAA level, what
//! the deciding checks say, the waivers that accepted failures (with the sentence naming their
//! expiry) and the attestation that decided it. Every requirement is a taxon, including those
//! awaiting manual evidence, so the taxonomy is the whole framework (`isComprehensive`). A
//! taxonomy's property bag carries the framework's figures, each with its denominator.
//!
//! A result references the taxon of every requirement its check gives evidence for, with the
//! role of that evidence (`deciding` or `supporting`).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::assessment::{
    Assessment, AssessmentMode, EvidenceRole, FrameworkResult, RequirementResult,
};

/// Where each requirement's taxon is: `(framework, requirement)` to `(taxonomy, taxon)` index.
pub(super) struct TaxonIndex<'a>(HashMap<(&'a str, &'a str), (usize, usize)>);

impl<'a> TaxonIndex<'a> {
    pub(super) fn of(a: &'a Assessment) -> TaxonIndex<'a> {
        let mut map = HashMap::new();
        for (fi, f) in a.frameworks.iter().enumerate() {
            for (ri, q) in f.requirements.iter().enumerate() {
                map.insert((f.id.as_str(), q.id.as_str()), (fi, ri));
            }
        }
        TaxonIndex(map)
    }

    /// References to the taxa a check's results give evidence for, in mapping order; mappings
    /// to frameworks not selected are left out.
    pub(super) fn references(&self, a: &Assessment, check_id: &str) -> Vec<Value> {
        let Some(check) = a.check(check_id) else {
            return Vec::new();
        };
        check
            .mappings
            .iter()
            .filter_map(|m| {
                let &(fi, ri) = self
                    .0
                    .get(&(m.framework.as_str(), m.requirement.as_str()))?;
                let q = &a.frameworks[fi].requirements[ri];
                let role = match m.role {
                    EvidenceRole::Primary => "deciding",
                    EvidenceRole::Supporting => "supporting",
                };
                Some(json!({
                    "id": q.id,
                    "index": ri,
                    "toolComponent": { "name": m.framework, "index": fi },
                    "properties": { "role": role, "state": q.state.as_str() },
                }))
            })
            .collect()
    }
}

/// `tool.driver.supportedTaxonomies`: the frameworks the rules map to.
pub(super) fn supported(a: &Assessment) -> Vec<Value> {
    a.frameworks
        .iter()
        .enumerate()
        .map(|(i, f)| json!({ "name": f.id, "index": i }))
        .collect()
}

/// `run.taxonomies`: one per framework, in assessment order.
pub(super) fn taxonomies(a: &Assessment) -> Vec<Value> {
    a.frameworks.iter().map(|f| taxonomy(a, f)).collect()
}

fn taxonomy(a: &Assessment, f: &FrameworkResult) -> Value {
    let counts: serde_json::Map<String, Value> = f
        .counts
        .iter()
        .map(|(state, n)| (state.as_str().to_string(), json!(n)))
        .collect();
    let mut t = json!({
        "name": f.id,
        "fullName": format!("{} {}", f.name, f.version),
        "version": f.version,
        "organization": f.publisher,
        "shortDescription": { "text": f.description },
        "isComprehensive": true,
        "taxa": f.requirements.iter().map(|q| taxon(a, f, q)).collect::<Vec<_>>(),
        "properties": {
            "figures": f.figures,
            "figureLines": f.figures.lines(),
            "stateCounts": counts,
        },
    });
    if let Some(url) = f.url.as_deref().filter(|u| u.starts_with("https://")) {
        t["informationUri"] = json!(url);
    }
    t
}

fn mode_key(mode: AssessmentMode) -> &'static str {
    match mode {
        AssessmentMode::Automated => "automated",
        AssessmentMode::Partial => "partial",
        AssessmentMode::Manual => "manual",
    }
}

fn taxon(a: &Assessment, f: &FrameworkResult, q: &RequirementResult) -> Value {
    let results: serde_json::Map<String, Value> = q
        .counts
        .iter()
        .map(|(status, n)| (status.as_str().to_string(), json!(n)))
        .collect();
    let mut properties = json!({
        "state": q.state.as_str(),
        "stateLabel": f.label(q.state),
        "mode": mode_key(q.mode),
        "technicalEvidence": q.technical.label(),
        "decidingChecks": q.checks,
        "supportingChecks": q.supporting,
        "results": results,
    });
    if let Some(section) = &q.section {
        properties["section"] = json!(section);
    }
    if let Some(level) = &q.level {
        properties["level"] = json!(level);
    }
    if q.service_provider_only {
        properties["serviceProviderOnly"] = json!(true);
    }
    if let Some(note) = a.waiver_note(q) {
        properties["waivers"] = json!(q.waivers);
        properties["waiverNote"] = json!(note);
    }
    if let Some(t) = &q.attestation {
        properties["attestation"] = json!({
            "verdict": t.verdict.as_str(),
            "attestedBy": t.attested_by,
            "date": t.date.to_string(),
            "evidence": t.evidence,
        });
    }
    if let Some(prompt) = &q.prompt {
        properties["prompt"] = json!(prompt);
    }
    if let Some(owner) = &q.evidence_owner {
        properties["evidenceOwner"] = json!(owner);
    }
    json!({
        "id": q.id,
        "name": format!("{} {}", f.id, q.id),
        "shortDescription": { "text": q.title },
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use crate::assessment::{RequirementState, Technical};
    use crate::testing::{sample_assessment, waived_assessment};
    use serde_json::json;

    #[test]
    fn every_requirement_is_a_taxon_with_its_evidence_state() {
        let a = sample_assessment();
        let log = render(&a);
        let run = &log["runs"][0];
        assert_eq!(
            run["tool"]["driver"]["supportedTaxonomies"],
            json!([
                { "name": "pci-dss-4.0.1", "index": 0 },
                { "name": "hipaa-security-rule", "index": 1 },
            ])
        );
        let taxonomies = run["taxonomies"].as_array().expect("taxonomies");
        assert_eq!(taxonomies.len(), 2);
        for (t, f) in taxonomies.iter().zip(&a.frameworks) {
            let taxa = t["taxa"].as_array().expect("taxa");
            assert_eq!(taxa.len(), f.requirements.len());
            for (x, q) in taxa.iter().zip(&f.requirements) {
                assert_eq!(x["id"], q.id);
                assert_eq!(x["properties"]["state"], q.state.as_str());
                assert_eq!(x["properties"]["stateLabel"], f.label(q.state));
            }
            assert_eq!(
                t["properties"]["figureLines"],
                json!(f.figures.lines()),
                "figures with denominators"
            );
        }
        assert_eq!(
            taxonomies[1]["taxa"][4],
            json!({
                "id": "164.312(e)(1)",
                "name": "hipaa-security-rule 164.312(e)(1)",
                "shortDescription": { "text": "Transmission security" },
                "properties": {
                    "state": "consistent_with_in_place",
                    "stateLabel": "Evidence consistent with in place (assessor confirmation pending)",
                    "mode": "automated",
                    "technicalEvidence": "passed",
                    "decidingChecks": ["daemon.tls-verify"],
                    "supportingChecks": [],
                    "results": { "pass": 1 },
                    "section": "Technical safeguards",
                    "level": "addressable",
                },
            })
        );
    }

    #[test]
    fn results_reference_the_requirements_they_give_evidence_for() {
        let log = render(&sample_assessment());
        let first = &log["runs"][0]["results"][0];
        assert_eq!(first["ruleId"], "container.privileged");
        assert_eq!(
            first["taxa"],
            json!([
                {
                    "id": "2.2.5",
                    "index": 1,
                    "toolComponent": { "name": "pci-dss-4.0.1", "index": 0 },
                    "properties": { "role": "deciding", "state": "not_in_place" },
                },
                {
                    "id": "164.312(a)(1)",
                    "index": 1,
                    "toolComponent": { "name": "hipaa-security-rule", "index": 1 },
                    "properties": { "role": "deciding", "state": "not_in_place" },
                },
            ])
        );
    }

    #[test]
    fn a_waived_requirement_names_its_waiver_and_an_attested_one_its_attester() {
        let mut a = waived_assessment();
        let q = a.frameworks[1]
            .requirements
            .iter_mut()
            .find(|q| q.id == "164.312(c)(1)")
            .expect("164.312(c)(1)");
        q.state = RequirementState::RiskAccepted;
        q.technical = Technical::RiskAccepted;
        q.waived = 1;
        q.waivers = vec!["W-1".into()];
        let log = render(&a);
        let taxonomies = &log["runs"][0]["taxonomies"];
        let waived = &taxonomies[1]["taxa"][3]["properties"];
        assert_eq!(waived["state"], "risk_accepted");
        assert_eq!(
            waived["stateLabel"],
            "Not in place: risk accepted under waiver"
        );
        assert_eq!(waived["waivers"], json!(["W-1"]));
        assert_eq!(
            waived["waiverNote"],
            "1 failure(s) waived: risk accepted under waiver W-1 (expires 2025-06-30)"
        );
        let attested = &taxonomies[0]["taxa"][0]["properties"];
        assert_eq!(attested["state"], "attested_in_place");
        assert_eq!(attested["stateLabel"], "In Place (assessor finding)");
        assert_eq!(attested["attestation"]["attestedBy"], "Dana Reviewer, QSA");
    }
}
