//! `oscal-assessment-results.json`: the assessment as an OSCAL 1.1.2 assessment-results document,
//! for GRC tools.
//!
//! This module owns the mapping and the deterministic UUIDs. One `result` covers the collection
//! window (`start`/`end` = the snapshot's collection times) with:
//! - `local-definitions.components`: one component per resource that has an observation.
//! - `observations`: one per `fail`, `error` and `pass` result. Passes are kept because they are
//!   the positive technical evidence behind requirements; not-applicable and manual results
//!   carry no observed evidence and are left out. Each observation names its check, status and
//!   severity (props in the `urn:dockproof:oscal` namespace), its resource as a `component`
//!   subject, and its evidence as `relevant-evidence` pointing at the snapshot in back-matter.
//! - `findings`: one per requirement of every framework, including those awaiting manual
//!   evidence and those that do not apply, so a GRC tool sees what is pending. Each carries the
//!   evidence state as the props `evidence-state` (the key every format uses) and
//!   `evidence-state-label` (its label in the framework's words), targets the requirement as an
//!   `objective-id`, and relates the observations of its deciding checks (failures and errors
//!   where the evidence fails or is incomplete, passes where it is consistent). OSCAL has only
//!   `satisfied` and `not-satisfied` (see `oscal/findings.rs`): technical evidence never makes a
//!   requirement `satisfied`, only an applied attestation does; a pending or unconfirmed state is
//!   `not-satisfied` with reason `other` and a remark saying it is not a failure. A requirement
//!   decided by an attestation names it (person, verdict, date, document) and relates its
//!   observation (methods `EXAMINE`, `INTERVIEW`).
//! - `risks`: one per active waiver, status `deviation-approved`, with the justification, the
//!   approval, the compensating control, the expiry as `deadline`, and the waived observations
//!   (which carry a `waiver` prop); findings whose failures are waived point at it.
//!
//! OSCAL requires `import-ap`. dockproof writes no assessment plan, so `import-ap.href` points
//! at a back-matter resource that says so and names the catalog (the implicit plan) by hash.
//! Requirement ids such as `164.312(a)(1)` are not OSCAL tokens, so `target-id` is a sanitised
//! `<framework>_<requirement>` and the original id is kept in the target title.
//!
//! UUIDs are RFC 4122 version 5 UUIDs of stable names (snapshot hash, check id, fingerprint, …)
//! in a fixed project namespace (`oscal/ids.rs`): the same assessment always renders to the same
//! bytes. The engagement scope fills the metadata's parties, roles and marking
//! (`oscal/document.rs`). OSCAL forbids empty arrays, so empty lists are omitted.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::assessment::{
    Assessment, AttestationRecord, AttestationState, CheckResult, ResourceKind, Status,
    WaiverRecord, WaiverState,
};

use super::evidence::compact_evidence;
use super::{RenderError, Renderer};

mod document;
mod findings;
mod ids;

use document::document;
pub(crate) use ids::uuid;
pub use ids::NAMESPACE;
use ids::{attestation_uuid, component_uuid, observation_uuid, risk_uuid, token, Ids};

/// The OSCAL version declared in `metadata.oscal-version`.
pub const OSCAL_VERSION: &str = "1.1.2";
/// Namespace of dockproof's own props.
pub const NS: &str = "urn:dockproof:oscal";

/// Writes one OSCAL assessment-results document.
#[derive(Debug, Clone, Copy, Default)]
pub struct OscalRenderer;

impl Renderer for OscalRenderer {
    fn name(&self) -> &'static str {
        "oscal"
    }

    fn file_name(&self) -> &'static str {
        "oscal-assessment-results.json"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        super::write_json(out, &document(assessment))
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A prop, or nothing when the value would be empty (OSCAL strings may not be blank).
fn prop(name: &str, value: &str) -> Option<Value> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty()).then(|| json!({ "name": name, "ns": NS, "value": value }))
}

/// Inserts `key: items` unless `items` is empty.
fn put_list(obj: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if !items.is_empty() {
        obj.insert(key.to_string(), Value::Array(items));
    }
}

fn observed(r: &CheckResult) -> bool {
    matches!(r.status, Status::Fail | Status::Error | Status::Pass)
}

fn result(a: &Assessment, ids: &Ids, host: &str) -> Value {
    let mut r = Map::new();
    r.insert("uuid".into(), json!(uuid(&format!("result|{}", ids.seed))));
    r.insert(
        "title".into(),
        json!(format!("Automated Docker host assessment of {host}")),
    );
    r.insert(
        "description".into(),
        json!(format!(
            "Results of {} checks evaluated by dockproof {} against the snapshot collected from \
             {host}. There is one finding per framework requirement, carrying its evidence state \
             (prop `evidence-state`): only a requirement an assessor attested in place or not \
             applicable is `satisfied`; every other one is `not-satisfied`, with reason `fail` where the evidence shows it \
             not in place and `other` where it is pending or still to be confirmed.",
            a.checks.len(),
            a.tool.version
        )),
    );
    r.insert("start".into(), json!(time(&a.snapshot.collected_from)));
    r.insert("end".into(), json!(time(&a.snapshot.collected_until)));
    let mut components = Vec::new();
    let mut seen = Vec::new();
    for res in a
        .results
        .iter()
        .filter(|r| observed(r))
        .map(|r| &r.resource)
    {
        if seen.contains(&(res.kind, &res.id)) {
            continue;
        }
        seen.push((res.kind, &res.id));
        components.push(component(res.kind, &res.id, &res.name, host));
    }
    if !components.is_empty() {
        r.insert(
            "local-definitions".into(),
            json!({ "components": components }),
        );
    }
    r.insert(
        "reviewed-controls".into(),
        json!({ "control-selections": [{ "include-all": {} }] }),
    );
    let mut observations: Vec<Value> = a
        .results
        .iter()
        .filter(|r| observed(r))
        .map(|r| observation(a, ids, r))
        .collect();
    observations.extend(
        a.attestations
            .iter()
            .filter(|t| t.state == AttestationState::Applied)
            .map(|t| attestation_observation(ids, t)),
    );
    put_list(&mut r, "observations", observations);
    let risks = a
        .waivers
        .iter()
        .filter(|w| w.state == WaiverState::Active)
        .map(|w| waiver_risk(a, ids, w))
        .collect();
    put_list(&mut r, "risks", risks);
    // Results by check, so each requirement finds its deciding results without a full pass.
    let mut by_check: HashMap<&str, Vec<&CheckResult>> = HashMap::new();
    for r in &a.results {
        by_check.entry(r.check_id.as_str()).or_default().push(r);
    }
    let findings: Vec<Value> = a
        .frameworks
        .iter()
        .flat_map(|f| f.requirements.iter().map(move |q| (f, q)))
        .map(|(f, q)| findings::finding(a, ids, &by_check, f, q))
        .collect();
    put_list(&mut r, "findings", findings);
    let mut remarks = Vec::new();
    if let Some(selection) = &a.selection {
        remarks.extend(selection.lines());
    }
    if !a.snapshot.gaps.is_empty() {
        let gaps: Vec<String> = a
            .snapshot
            .gaps
            .iter()
            .map(|g| format!("{}: {}", g.source, g.error))
            .collect();
        remarks.push(format!(
            "Sources that could not be read during collection: {}.",
            gaps.join("; ")
        ));
    }
    if !remarks.is_empty() {
        r.insert("remarks".into(), json!(remarks.join("\n")));
    }
    Value::Object(r)
}

fn component(kind: ResourceKind, id: &str, name: &str, host: &str) -> Value {
    let kind_name = kind.as_str();
    let component_type = match kind {
        ResourceKind::Host => "this-system",
        ResourceKind::Daemon => "service",
        _ => "software",
    };
    let mut c = Map::new();
    c.insert("uuid".into(), json!(component_uuid(kind, id)));
    c.insert("type".into(), json!(component_type));
    c.insert("title".into(), json!(format!("{kind_name} {name}")));
    c.insert(
        "description".into(),
        json!(format!("Docker {kind_name} {name} (id {id}) on {host}.")),
    );
    let props = [prop("resource-kind", kind_name), prop("resource-id", id)]
        .into_iter()
        .flatten()
        .collect();
    put_list(&mut c, "props", props);
    c.insert("status".into(), json!({ "state": "operational" }));
    Value::Object(c)
}

fn observation(a: &Assessment, ids: &Ids, r: &CheckResult) -> Value {
    let check = a.check(&r.check_id);
    let title = check.map(|c| c.title.as_str()).unwrap_or(&r.check_id);
    let res = &r.resource;
    let verdict = match r.status {
        Status::Pass => "Passed",
        Status::Fail => "Failed",
        _ => "Could not be evaluated",
    };
    let mut description = format!("{verdict}: {title}");
    if let Some(m) = &r.message {
        description.push_str(&format!(" ({m})"));
    }
    description.push('.');
    if let Some(c) = check {
        description.push_str(&format!(" Expected: {}.", c.expectation));
    }
    let evidence = if r.evidence.is_empty() {
        "no values recorded".to_string()
    } else {
        compact_evidence(&r.evidence)
    };
    let mut o = Map::new();
    o.insert("uuid".into(), json!(observation_uuid(ids, r)));
    o.insert(
        "title".into(),
        json!(format!(
            "{} on {} {}",
            r.check_id,
            res.kind.as_str(),
            res.name
        )),
    );
    o.insert("description".into(), json!(description));
    let props = [
        prop("check-id", &r.check_id),
        prop("status", r.status.as_str()),
        prop("severity", r.severity.as_str()),
        prop("fingerprint", &r.fingerprint),
        r.waiver.as_deref().and_then(|w| prop("waiver", w)),
    ]
    .into_iter()
    .flatten()
    .collect();
    put_list(&mut o, "props", props);
    o.insert("methods".into(), json!(["TEST"]));
    o.insert("types".into(), json!(["finding"]));
    o.insert(
        "subjects".into(),
        json!([{
            "subject-uuid": component_uuid(res.kind, &res.id),
            "type": "component",
            "title": format!("{} {}", res.kind.as_str(), res.name),
        }]),
    );
    o.insert(
        "relevant-evidence".into(),
        json!([{
            "href": format!("#{}", ids.snapshot),
            "description": format!("Observed in snapshot.json at {}: {evidence}", r.source),
        }]),
    );
    o.insert("collected".into(), json!(time(&r.observed_at)));
    Value::Object(o)
}

/// `text` as a sentence: a full stop added unless it already ends with one (or `?`, `!`).
pub(crate) fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '?', '!']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

fn waiver_risk(a: &Assessment, ids: &Ids, w: &WaiverRecord) -> Value {
    let mut statement = format!("Waiver {} (from {})", w.id, w.source);
    if let Some(by) = &w.approved_by {
        statement.push_str(&format!(", approved by {by}"));
    }
    if let Some(g) = w.granted {
        statement.push_str(&format!(", granted {g}"));
    }
    if let Some(x) = w.expires {
        statement.push_str(&format!(", expires {x}"));
    }
    statement.push('.');
    if let Some(c) = &w.compensating_control {
        statement.push_str(&format!(" Compensating control: {}", sentence(c)));
    }
    if let Some(t) = &w.ticket {
        statement.push_str(&format!(" Ticket: {}", sentence(t)));
    }
    let mut risk = Map::new();
    risk.insert("uuid".into(), json!(risk_uuid(ids, w)));
    risk.insert(
        "title".into(),
        json!(format!("Accepted deviation from {}", w.check_id)),
    );
    risk.insert("description".into(), json!(w.justification));
    risk.insert("statement".into(), json!(statement));
    let props = [
        prop("waiver-id", &w.id),
        prop("check-id", &w.check_id),
        w.risk.and_then(|r| prop("risk-level", r.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    put_list(&mut risk, "props", props);
    risk.insert("status".into(), json!("deviation-approved"));
    if let Some(x) = w.expires.and_then(|d| d.and_hms_opt(23, 59, 59)) {
        risk.insert("deadline".into(), json!(time(&x.and_utc())));
    }
    let related: Vec<Value> = a
        .results
        .iter()
        .filter(|r| r.waiver.as_deref() == Some(w.id.as_str()))
        .map(|r| json!({ "observation-uuid": observation_uuid(ids, r) }))
        .collect();
    put_list(&mut risk, "related-observations", related);
    Value::Object(risk)
}

/// An applied attestation as an observation by examination: who, when, and which document.
fn attestation_observation(ids: &Ids, t: &AttestationRecord) -> Value {
    let mut o = Map::new();
    o.insert(
        "uuid".into(),
        json!(attestation_uuid(ids, &t.framework, &t.requirement)),
    );
    o.insert(
        "title".into(),
        json!(format!("Attestation for {} {}", t.framework, t.requirement)),
    );
    o.insert(
        "description".into(),
        json!(format!(
            "{} attested `{}` on {}{}.",
            t.attested_by,
            t.verdict.as_str(),
            t.date,
            t.expires
                .map(|x| format!(", valid until {x}"))
                .unwrap_or_default()
        )),
    );
    let props = [
        prop("framework", &t.framework),
        prop("requirement", &t.requirement),
        prop("attested-by", &t.attested_by),
        prop("source", &t.source),
    ]
    .into_iter()
    .flatten()
    .collect();
    put_list(&mut o, "props", props);
    o.insert("methods".into(), json!(["EXAMINE", "INTERVIEW"]));
    o.insert("types".into(), json!(["control-objective"]));
    let mut evidence =
        json!({ "description": format!("Evidence named by the attester: {}", t.evidence) });
    if t.evidence.starts_with("https://") || t.evidence.starts_with("http://") {
        evidence["href"] = json!(t.evidence);
    }
    o.insert("relevant-evidence".into(), json!([evidence]));
    if let Some(d) = t.date.and_hms_opt(0, 0, 0) {
        o.insert("collected".into(), json!(time(&d.and_utc())));
    }
    Value::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture::sample_assessment;

    pub(super) fn render(a: &Assessment) -> Value {
        let mut buf = Vec::new();
        OscalRenderer.render(a, &mut buf).expect("render");
        serde_json::from_slice(&buf).expect("JSON")
    }

    #[test]
    fn renders_the_same_bytes_twice() {
        let a = sample_assessment();
        assert_eq!(render(&a), render(&a));
    }

    #[test]
    fn writes_metadata_import_ap_and_back_matter() {
        let doc = render(&sample_assessment());
        let ar = &doc["assessment-results"];
        assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
        assert_eq!(ar["metadata"]["last-modified"], "2025-03-14T09:26:30Z");
        assert_eq!(
            ar["metadata"]["title"],
            "dockproof assessment results for docker-prod-01"
        );
        let resources = ar["back-matter"]["resources"]
            .as_array()
            .expect("resources");
        assert_eq!(
            ar["import-ap"]["href"],
            format!("#{}", resources[0]["uuid"].as_str().unwrap_or(""))
        );
        assert_eq!(
            resources[1]["rlinks"],
            json!([{
                "href": "snapshot.json",
                "media-type": "application/json",
                "hashes": [{
                    "algorithm": "SHA-256",
                    "value": "5d41402abc4b2a76b9719d911017c592ae2f9c5e8a8b1f0f0a0e7e2b3c4d5e6f",
                }],
            }])
        );
        let result = &ar["results"][0];
        assert_eq!(result["start"], "2025-03-14T09:26:00Z");
        assert_eq!(result["end"], "2025-03-14T09:26:12Z");
        assert_eq!(
            result["reviewed-controls"],
            json!({ "control-selections": [{ "include-all": {} }] })
        );
        assert_eq!(
            result["remarks"],
            "Sources that could not be read during collection: \
             host:/etc/audit/audit.rules: Permission denied (os error 13) <b>."
        );
    }

    #[test]
    fn observes_fail_error_and_pass_results() {
        let a = sample_assessment();
        let doc = render(&a);
        let result = &doc["assessment-results"]["results"][0];
        let observations = result["observations"].as_array().expect("observations");
        assert_eq!(observations.len(), 11);
        let components = result["local-definitions"]["components"]
            .as_array()
            .expect("components");
        assert_eq!(components.len(), 8);
        let web = &components[0];
        assert_eq!(
            web["uuid"],
            component_uuid(ResourceKind::Container, "3f2a9c0d1e4b")
        );
        assert_eq!(
            (&web["type"], &web["title"]),
            (&json!("software"), &json!("container web"))
        );
        assert_eq!(
            observations[0],
            json!({
                "uuid": observations[0]["uuid"],
                "title": "container.privileged on container web",
                "description": "Failed: Containers do not run privileged. \
                                Expected: Containers do not run privileged holds for every container.",
                "props": [
                    { "name": "check-id", "ns": NS, "value": "container.privileged" },
                    { "name": "status", "ns": NS, "value": "fail" },
                    { "name": "severity", "ns": NS, "value": "high" },
                    { "name": "fingerprint", "ns": NS, "value": "container.privileged/container/web" },
                ],
                "methods": ["TEST"],
                "types": ["finding"],
                "subjects": [{
                    "subject-uuid": web["uuid"],
                    "type": "component",
                    "title": "container web",
                }],
                "relevant-evidence": [{
                    "href": format!("#{}", doc["assessment-results"]["back-matter"]["resources"][1]["uuid"].as_str().unwrap_or("")),
                    "description": "Observed in snapshot.json at engine.containers[0]: HostConfig.Privileged=true",
                }],
                "collected": "2025-03-14T09:26:05Z",
            })
        );
        assert_eq!(
            observations[8]["description"],
            "Could not be evaluated: The Docker daemon is audited (evidence missing: \
             host:/etc/audit/audit.rules could not be read). Expected: The Docker daemon is \
             audited holds for every host."
        );
    }

    #[test]
    fn omits_empty_lists() {
        let mut a = sample_assessment();
        a.results.retain(|r| r.status == Status::NotApplicable);
        a.frameworks.clear();
        a.snapshot.gaps.clear();
        let doc = render(&a);
        let result = doc["assessment-results"]["results"][0]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let keys: Vec<&str> = result.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "uuid",
                "title",
                "description",
                "start",
                "end",
                "reviewed-controls"
            ]
        );
    }
}
