//! OSCAL findings: one per requirement of every framework, with its evidence state.
//!
//! OSCAL knows only `satisfied` and `not-satisfied` ([`objective_status`]). Each finding carries
//! the evidence state as the props `evidence-state` (the key every format uses) and
//! `evidence-state-label` (its label in the framework's words), the status remarks say what
//! `not-satisfied` means for a pending state, and the finding relates the observations of its
//! deciding checks, the accepted risks of the waivers covering its failures and the observation
//! of the attestation that decided it (named with its file and line).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::assessment::{
    Assessment, AssessmentMode, AttestationState, CheckResult, FrameworkResult, RequirementResult,
    RequirementState, Status, Technical, WaiverState,
};

use super::{
    attestation_uuid, observation_uuid, prop, put_list, risk_uuid, sentence, token, uuid, Ids,
};

/// The OSCAL objective state and reason of an evidence state. OSCAL knows only `satisfied` and
/// `not-satisfied`; only an assessor's attested finding of in place (or not applicable) is
/// `satisfied`. Every other state is `not-satisfied`: with reason `fail` where the evidence shows
/// the requirement not in place (waived or not), and reason `other` where it is merely not shown
/// satisfied (pending, incomplete, or not applicable still to be confirmed).
fn objective_status(state: RequirementState) -> (&'static str, &'static str) {
    use RequirementState as S;
    match state {
        S::AttestedInPlace
        | S::AttestedCompensatingControl
        | S::AttestedAlternativeMeasure
        | S::AttestedNotReasonable
        | S::AttestedNotApplicable => ("satisfied", "pass"),
        S::NotInPlace | S::RiskAccepted | S::AttestedNotInPlace => ("not-satisfied", "fail"),
        S::Incomplete
        | S::ExcludedBySelection
        | S::AwaitingManualEvidence
        | S::ConsistentWithInPlace
        | S::NotApplicablePerEvidence
        | S::NotApplicableDeclared => ("not-satisfied", "other"),
    }
}

fn mode_key(mode: AssessmentMode) -> &'static str {
    match mode {
        AssessmentMode::Automated => "automated",
        AssessmentMode::Partial => "partial",
        AssessmentMode::Manual => "manual",
    }
}

/// What the technical evidence of a requirement says, in one or two sentences.
fn technical_description(f: &FrameworkResult, q: &RequirementResult) -> String {
    let n = |s: Status| q.counts.get(&s).copied().unwrap_or(0);
    let name = format!("{} {}", f.name, q.id);
    match q.technical {
        Technical::NotInPlace | Technical::RiskAccepted => format!(
            "At least one check deciding {name} failed ({} failed result(s)).",
            n(Status::Fail)
        ),
        Technical::Incomplete => format!(
            "The checks deciding {name} could not be evaluated on this host ({} result(s)), and \
             none failed: the requirement is not shown to be met.",
            n(Status::Error)
        ),
        Technical::ExcludedBySelection => format!(
            "The run's selection left out checks deciding {name}, or resources they judge \
             ({}), and none of the results it kept failed: the requirement was not assessed.",
            q.excluded_by_selection.join(", ")
        ),
        Technical::Consistent => format!(
            "Every applicable result of the checks deciding {name} passed ({} passed result(s)).",
            n(Status::Pass)
        ),
        Technical::NotApplicable => {
            format!("The checks deciding {name} applied to nothing on this host.")
        }
        Technical::None => format!("No automated check decides {name}."),
    }
}

/// One finding per framework requirement, whatever its state: its evidence state in props and
/// in the status remarks, its deciding observations, the waivers that accepted its failures and
/// the attestation that decided it.
pub(super) fn finding(
    a: &Assessment,
    ids: &Ids,
    by_check: &HashMap<&str, Vec<&CheckResult>>,
    f: &FrameworkResult,
    q: &RequirementResult,
) -> Value {
    let label = f.label(q.state);
    let mut description = match &q.attestation {
        Some(t) => format!(
            "Decided by attestation: {} attested `{}` on {} (evidence: {}). ",
            t.attested_by,
            t.verdict.as_str(),
            t.date,
            t.evidence
        ),
        None => String::new(),
    };
    description.push_str(&technical_description(f, q));
    if let Some(note) = a.waiver_note(q) {
        description.push_str(&format!(
            " {}: the requirement is not in place; the deviation is accepted, not remediated.",
            capitalised(&note)
        ));
    }
    description.push_str(&format!(" Evidence state: {label}."));
    let (state, reason) = objective_status(q.state);
    let remarks = if state == "satisfied" {
        format!("{label}: recorded by an attestation.")
    } else if reason == "other" {
        format!(
            "{label}. Not a failure: OSCAL has no state for evidence still to be confirmed, so \
             not-satisfied here means not shown satisfied (see the evidence-state prop)."
        )
    } else {
        format!("{label}.")
    };
    let mut finding = Map::new();
    finding.insert(
        "uuid".into(),
        json!(uuid(&format!("finding|{}|{}|{}", ids.seed, f.id, q.id))),
    );
    finding.insert(
        "title".into(),
        json!(format!("{} {}: {}", f.name, q.id, q.title)),
    );
    finding.insert("description".into(), json!(description));
    let attestation = q.attestation.as_ref();
    let props = [
        prop("framework", &f.id),
        prop("requirement", &q.id),
        prop("evidence-state", q.state.as_str()),
        prop("evidence-state-label", label),
        prop("assessment-mode", mode_key(q.mode)),
        q.level.as_deref().and_then(|l| prop("level", l)),
        prop("technical-evidence", q.technical.label()),
        attestation.and_then(|_| prop("decided-by", "attestation")),
        attestation.and_then(|t| prop("attested-by", &t.attested_by)),
        attestation.and_then(|t| prop("attestation-verdict", t.verdict.as_str())),
        attestation
            .and_then(|_| {
                a.attestations.iter().find(|t| {
                    t.state == AttestationState::Applied
                        && t.framework == f.id
                        && t.requirement == q.id
                })
            })
            .and_then(|t| prop("attestation-source", &t.source)),
    ]
    .into_iter()
    .flatten()
    .chain(q.waivers.iter().filter_map(|w| prop("waiver", w)))
    .collect();
    put_list(&mut finding, "props", props);
    finding.insert(
        "target".into(),
        json!({
            "type": "objective-id",
            "target-id": token(&format!("{}_{}", f.id, q.id)),
            "title": format!("{} {} requirement {}", f.name, f.version, q.id),
            "status": { "state": state, "reason": reason, "remarks": remarks },
        }),
    );
    let shown: &[Status] = match q.technical {
        Technical::NotInPlace | Technical::RiskAccepted | Technical::Incomplete => {
            &[Status::Fail, Status::Error]
        }
        Technical::ExcludedBySelection => &[Status::Error, Status::Pass],
        Technical::Consistent => &[Status::Pass],
        Technical::NotApplicable | Technical::None => &[],
    };
    let related: Vec<Value> = attestation
        .map(|_| json!({ "observation-uuid": attestation_uuid(ids, &f.id, &q.id) }))
        .into_iter()
        .chain(
            q.checks
                .iter()
                .filter_map(|c| by_check.get(c.as_str()))
                .flatten()
                .filter(|r| shown.contains(&r.status))
                .map(|r| json!({ "observation-uuid": observation_uuid(ids, r) })),
        )
        .collect();
    put_list(&mut finding, "related-observations", related);
    let risks: Vec<Value> = q
        .waivers
        .iter()
        .filter_map(|id| a.waiver(id))
        .filter(|w| w.state == WaiverState::Active)
        .map(|w| json!({ "risk-uuid": risk_uuid(ids, w) }))
        .collect();
    put_list(&mut finding, "related-risks", risks);
    let mut notes = Vec::new();
    if !q.supporting.is_empty() {
        notes.push(format!(
            "Supporting evidence, not deciding: {}.",
            q.supporting.join(", ")
        ));
    }
    if let Some(prompt) = q.prompt.as_deref().filter(|_| !q.state.is_attested()) {
        let owner = q
            .evidence_owner
            .as_deref()
            .map(|o| format!(" (ask: {o})"))
            .unwrap_or_default();
        notes.push(format!(
            "Manual evidence to collect{owner}: {}",
            sentence(prompt)
        ));
    }
    if !notes.is_empty() {
        finding.insert("remarks".into(), json!(notes.join(" ")));
    }
    Value::Object(finding)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::render;
    use super::*;
    use crate::testing::fixture::sample_assessment;

    fn findings(doc: &Value) -> Vec<Value> {
        doc["assessment-results"]["results"][0]["findings"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn prop_value<'a>(finding: &'a Value, name: &str) -> Option<&'a str> {
        finding["props"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["value"].as_str())
    }

    #[test]
    fn finds_every_requirement_with_its_evidence_state() {
        let a = sample_assessment();
        let doc = render(&a);
        let observations = doc["assessment-results"]["results"][0]["observations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let findings = findings(&doc);
        let rows: Vec<(&str, &str, &str, &str, usize)> = findings
            .iter()
            .map(|f| {
                (
                    f["target"]["target-id"].as_str().unwrap_or(""),
                    prop_value(f, "evidence-state").unwrap_or(""),
                    f["target"]["status"]["state"].as_str().unwrap_or(""),
                    f["target"]["status"]["reason"].as_str().unwrap_or(""),
                    f["related-observations"].as_array().map_or(0, Vec::len),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "pci-dss-4.0.1_2.2.1",
                    "awaiting_manual_evidence",
                    "not-satisfied",
                    "other",
                    0
                ),
                (
                    "pci-dss-4.0.1_2.2.5",
                    "not_in_place",
                    "not-satisfied",
                    "fail",
                    2
                ),
                (
                    "pci-dss-4.0.1_2.2.6",
                    "consistent_with_in_place",
                    "not-satisfied",
                    "other",
                    2
                ),
                (
                    "pci-dss-4.0.1_3.6.1",
                    "not_applicable_per_evidence",
                    "not-satisfied",
                    "other",
                    0
                ),
                (
                    "pci-dss-4.0.1_7.2.1",
                    "awaiting_manual_evidence",
                    "not-satisfied",
                    "other",
                    1
                ),
                (
                    "pci-dss-4.0.1_10.2.1",
                    "incomplete",
                    "not-satisfied",
                    "other",
                    1
                ),
                (
                    "hipaa-security-rule_164.308_a_1_ii_D",
                    "awaiting_manual_evidence",
                    "not-satisfied",
                    "other",
                    0
                ),
                (
                    "hipaa-security-rule_164.312_a_1",
                    "not_in_place",
                    "not-satisfied",
                    "fail",
                    2
                ),
                (
                    "hipaa-security-rule_164.312_b",
                    "incomplete",
                    "not-satisfied",
                    "other",
                    1
                ),
                (
                    "hipaa-security-rule_164.312_c_1",
                    "not_in_place",
                    "not-satisfied",
                    "fail",
                    1
                ),
                (
                    "hipaa-security-rule_164.312_e_1",
                    "consistent_with_in_place",
                    "not-satisfied",
                    "other",
                    1
                ),
            ]
        );
        let requirements: usize = a.frameworks.iter().map(|f| f.requirements.len()).sum();
        assert_eq!(findings.len(), requirements);
        assert_eq!(
            findings[1]["title"],
            "PCI DSS 2.2.5: Only necessary services and functions are enabled"
        );
        assert_eq!(
            findings[1]["target"]["title"],
            "PCI DSS 4.0.1 requirement 2.2.5"
        );
        assert_eq!(
            findings[1]["related-observations"][0]["observation-uuid"],
            observations[0]["uuid"]
        );
        assert_eq!(
            prop_value(&findings[2], "evidence-state-label"),
            Some("Evidence consistent with in place (assessor confirmation pending)")
        );
        assert!(findings[2]["target"]["status"]["remarks"]
            .as_str()
            .is_some_and(|r| r.contains("Not a failure")));
        assert_eq!(
            findings[0]["remarks"],
            "Manual evidence to collect (ask: security officer): Obtain the documented \
             procedure for 2.2.1 and interview its owner."
        );
        assert_eq!(prop_value(&findings[10], "level"), Some("addressable"));
    }

    #[test]
    fn a_waived_requirement_stays_not_satisfied_and_links_its_waiver() {
        let mut a = crate::testing::fixture::waived_assessment();
        let q = a.frameworks[1]
            .requirements
            .iter_mut()
            .find(|q| q.id == "164.312(c)(1)")
            .expect("164.312(c)(1)");
        q.state = RequirementState::RiskAccepted;
        q.technical = Technical::RiskAccepted;
        q.waived = 1;
        q.waivers = vec!["W-1".into()];
        let doc = render(&a);
        let result = &doc["assessment-results"]["results"][0];
        let findings = findings(&doc);
        let waived = findings
            .iter()
            .find(|f| f["target"]["target-id"] == "hipaa-security-rule_164.312_c_1")
            .expect("waived finding");
        assert_eq!(prop_value(waived, "evidence-state"), Some("risk_accepted"));
        assert_eq!(prop_value(waived, "waiver"), Some("W-1"));
        assert_eq!(
            waived["target"]["status"],
            json!({
                "state": "not-satisfied",
                "reason": "fail",
                "remarks": "Not in place: risk accepted under waiver.",
            })
        );
        assert_eq!(
            waived["related-risks"],
            json!([{ "risk-uuid": result["risks"][0]["uuid"] }])
        );
        assert!(
            waived["description"].as_str().is_some_and(|d| d.contains(
                "1 failure(s) waived: risk accepted under waiver W-1 (expires 2025-06-30): the \
                 requirement is not in place"
            )),
            "{}",
            waived["description"]
        );
        let attested = &findings[0];
        assert_eq!(
            prop_value(attested, "evidence-state"),
            Some("attested_in_place")
        );
        assert_eq!(
            prop_value(attested, "attested-by"),
            Some("Dana Reviewer, QSA")
        );
        assert_eq!(
            prop_value(attested, "attestation-source"),
            Some("attestations.yaml:2")
        );
        assert_eq!(attested["target"]["status"]["state"], "satisfied");
        assert!(attested["description"]
            .as_str()
            .is_some_and(|d| d.starts_with(
                "Decided by attestation: Dana Reviewer, QSA attested `in_place` on 2025-03-01 \
                 (evidence: Configuration Standard CS-7 rev 4)."
            )));
        let attestation_observation = result["observations"]
            .as_array()
            .and_then(|o| {
                o.iter()
                    .find(|o| o["methods"] == json!(["EXAMINE", "INTERVIEW"]))
            })
            .expect("attestation observation");
        assert_eq!(
            attested["related-observations"][0]["observation-uuid"],
            attestation_observation["uuid"]
        );
        assert!(!result["risks"][0]["statement"]
            .as_str()
            .unwrap_or("")
            .contains(".."));
    }

    #[test]
    fn only_attested_states_are_satisfied() {
        for state in RequirementState::ALL {
            let (oscal, reason) = objective_status(state);
            assert_eq!(
                oscal == "satisfied",
                state.is_attested() && !state.is_not_in_place(),
                "{state:?}"
            );
            assert_eq!(reason == "fail", state.is_not_in_place(), "{state:?}");
        }
    }
}
