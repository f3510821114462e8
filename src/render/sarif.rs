//! `results.sarif`: SARIF 2.1.0 for code-scanning dashboards (GitHub, Azure DevOps, …).
//!
//! This module owns the mapping from an assessment to one SARIF run:
//! - `tool.driver.rules`: one rule per check, in catalog order, with the title, description,
//!   rationale and remediation, a default level from the severity, and the CIS numbers and
//!   framework requirements in the property bag.
//! - `results`: only what needs action. A `fail` result becomes `kind: "fail"` with a level from
//!   the severity; an `error` result (the check could not be evaluated) becomes `kind: "review"`
//!   with level `none`, as SARIF requires for every kind other than `fail`. Passes,
//!   not-applicable and manual results are left out: dashboards would list them as alerts, and
//!   they are in `findings.csv`, `junit.xml` and `assessment.json`.
//! - Each result names its resource as a logical location (`container/web`) and, because code
//!   scanning services only show results that have one, a physical location: the bundle's
//!   `snapshot.json` (the run's one artifact), line 1, since the renderer sees the assessment and
//!   not the snapshot's text. It carries the result fingerprint as
//!   `partialFingerprints["dockproofFingerprint/v1"]`, so a dashboard tracks the same finding
//!   across scans.
//! - The run stays within GitHub code scanning's upload limits (see `sarif/limits.rs`): above
//!   them the most important results are kept and the run says how many were left out, in its
//!   properties (`truncation`) and in a tool notification.
//! - `taxonomies`: one per framework, its taxa the requirements with their evidence state; each
//!   result references the taxa of the requirements its check gives evidence for (see
//!   `sarif/taxonomies.rs`). A waived failure is a result with an accepted suppression naming
//!   the waiver, and its requirement's taxon reads `risk_accepted`.

use std::io::Write;

use serde_json::{json, Value};

use crate::assessment::{Assessment, CheckInfo, CheckResult, Severity, Status};

use super::evidence::compact_evidence;
use super::oscal::sentence;
use super::{RenderError, Renderer};

mod limits;
mod taxonomies;

pub use limits::Limits;
use limits::{Rank, Truncation};

/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The schema named in `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The artifact every result points at: the snapshot in the same bundle.
pub const SNAPSHOT_ARTIFACT: &str = "snapshot.json";
/// Where a truncated run sends readers for every result.
const FULL_RESULTS: &str = "assessment.json and findings.csv";

/// Writes one SARIF log with one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct SarifRenderer;

impl Renderer for SarifRenderer {
    fn name(&self) -> &'static str {
        "sarif"
    }

    fn file_name(&self) -> &'static str {
        "results.sarif"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        render_within(assessment, Limits::GITHUB, out)
    }
}

/// Writes the log for `a`, cut down as `sarif/limits.rs` describes when the whole run would
/// exceed `limits`.
pub fn render_within(
    a: &Assessment,
    limits: Limits,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let (ranks, results) = reported(a);
    let total = results.len();
    let mut kept = total.min(limits.max_results);
    if kept == total {
        let mut doc = log(a, results, None);
        let bytes = encode(&doc)?;
        let Some(size) = limits::gzip_size_within(&bytes, limits)? else {
            out.write_all(&bytes)?;
            return Ok(());
        };
        kept = limits::fewer(total, size, limits);
        return cut(a, take_results(&mut doc), ranks, kept, limits, out);
    }
    cut(a, results, ranks, kept, limits, out)
}

/// Writes a run holding the `kept` highest-ranked results, fewer if the file is still too large.
fn cut(
    a: &Assessment,
    results: Vec<Value>,
    ranks: Vec<Rank>,
    kept: usize,
    limits: Limits,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let total = results.len();
    let mut ordered = limits::by_priority(ranks.into_iter().zip(results).collect());
    ordered.truncate(kept);
    loop {
        let kept = ordered.len();
        let truncation = Truncation {
            total,
            kept,
            limits,
        };
        let mut doc = log(a, ordered, Some(truncation));
        let bytes = encode(&doc)?;
        match limits::gzip_size_within(&bytes, limits)? {
            // With no result left, the rules and taxonomies alone are what they are.
            Some(size) if kept > 0 => {
                ordered = take_results(&mut doc);
                ordered.truncate(limits::fewer(kept, size, limits));
            }
            _ => {
                out.write_all(&bytes)?;
                return Ok(());
            }
        }
    }
}

fn encode(doc: &Value) -> Result<Vec<u8>, RenderError> {
    let mut bytes = Vec::new();
    super::write_json(&mut bytes, doc)?;
    Ok(bytes)
}

fn take_results(doc: &mut Value) -> Vec<Value> {
    match doc["runs"][0]["results"].take() {
        Value::Array(results) => results,
        _ => Vec::new(),
    }
}

/// The failures and errors of `a`, in the assessment's order, with their ranks.
fn reported(a: &Assessment) -> (Vec<Rank>, Vec<Value>) {
    let index = taxonomies::TaxonIndex::of(a);
    a.results
        .iter()
        .filter(|r| matches!(r.status, Status::Fail | Status::Error))
        .map(|r| {
            let mut result = result(a, r);
            let taxa = index.references(a, &r.check_id);
            if !taxa.is_empty() {
                result["taxa"] = Value::Array(taxa);
            }
            (Rank::of(r), result)
        })
        .unzip()
}

/// SARIF level for a failed check of this severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's numeric `security-severity` (CVSS-like bands).
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The whole log with `results`, stating the cut when there is one.
fn log(a: &Assessment, results: Vec<Value>, truncation: Option<Truncation>) -> Value {
    let rules: Vec<Value> = a.checks.iter().map(rule).collect();
    let mut doc = json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {
                "driver": {
                    "name": a.tool.name,
                    "version": a.tool.version,
                    "rules": rules,
                    "supportedTaxonomies": taxonomies::supported(a),
                }
            },
            "taxonomies": taxonomies::taxonomies(a),
            "artifacts": [{
                "location": { "uri": SNAPSHOT_ARTIFACT },
                "description": { "text": "The evidence the results were evaluated from." },
                "mimeType": "application/json",
            }],
            "results": results,
            "properties": {
                "generatedAt": a.generated_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                "snapshotSha256": a.snapshot.sha256,
                "catalogSha256": a.catalog.sha256,
                "evidence": a.snapshot.target.fallback.as_deref().unwrap_or("live scan"),
                "selection": a.selection,
                "configuration": a.configuration,
            },
        }],
    });
    if let Some(t) = truncation {
        let run = &mut doc["runs"][0];
        run["properties"]["truncation"] = json!({
            "resultsReported": t.total,
            "resultsWritten": t.kept,
            "resultsOmitted": t.omitted(),
            "maxResults": t.limits.max_results,
            "maxGzipBytes": t.limits.max_gzip_bytes,
            "fullResults": FULL_RESULTS,
        });
        run["invocations"] = json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": [{
                "descriptor": { "id": "results-truncated" },
                "level": "warning",
                "message": { "text": format!(
                    "{} of {} results were left out of this run to stay within the upload \
                     limits ({} results, {} bytes gzipped); unwaived failures were kept first, \
                     most severe first, then waived failures, then errors. Every result is in \
                     {FULL_RESULTS} in the same evidence bundle.",
                    t.omitted(), t.total, t.limits.max_results, t.limits.max_gzip_bytes,
                ) },
            }],
        }]);
    }
    doc
}

/// One reporting descriptor for a check.
fn rule(c: &CheckInfo) -> Value {
    let mut tags = vec![
        "docker".to_string(),
        "security".to_string(),
        "compliance".to_string(),
        c.resource.as_str().to_string(),
    ];
    for m in &c.mappings {
        if !tags.contains(&m.framework) {
            tags.push(m.framework.clone());
        }
    }
    let frameworks: Vec<String> = c
        .mappings
        .iter()
        .map(|m| format!("{}:{}", m.framework, m.requirement))
        .collect();
    let mut rule = json!({
        "id": c.id,
        "name": c.id,
        "shortDescription": { "text": c.title },
        "fullDescription": { "text": c.description },
        "help": { "text": format!("{}\n\nRemediation: {}", c.rationale, c.remediation) },
        "defaultConfiguration": { "level": level(c.severity) },
        "properties": {
            "severity": c.severity.as_str(),
            "security-severity": security_severity(c.severity),
            "cis": c.references.cis_docker,
            "frameworks": frameworks,
            "tags": tags,
        },
    });
    // Only web links make a useful `helpUri`; catalog links of other schemes are dropped.
    if let Some(uri) = c
        .references
        .links
        .iter()
        .find(|l| l.starts_with("https://"))
    {
        rule["helpUri"] = json!(uri);
    }
    rule
}

/// One result for a failed or unevaluable check on one resource.
fn result(a: &Assessment, r: &CheckResult) -> Value {
    let index = a.checks.iter().position(|c| c.id == r.check_id);
    let title = a.check(&r.check_id).map(|c| c.title.as_str()).unwrap_or("");
    let res = &r.resource;
    let kind = res.kind.as_str();
    let mut text = match r.status {
        Status::Error => format!("{title}: could not be evaluated on {kind} {}", res.name),
        _ => format!("{title}: fails on {kind} {}", res.name),
    };
    if let Some(message) = &r.message {
        text.push_str(&format!(" ({message})"));
    }
    text.push('.');
    if !r.evidence.is_empty() {
        text.push_str(&format!(" Evidence: {}.", compact_evidence(&r.evidence)));
    }
    let (kind_value, level_value) = match r.status {
        Status::Fail => ("fail", level(r.severity)),
        _ => ("review", "none"),
    };
    let mut result = json!({
        "ruleId": r.check_id,
        "kind": kind_value,
        "level": level_value,
        "message": { "text": text },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": { "uri": SNAPSHOT_ARTIFACT, "index": 0 },
                "region": { "startLine": 1 },
            },
            "logicalLocations": [{
                "name": res.name,
                "kind": kind,
                "fullyQualifiedName": format!("{kind}/{}", res.name),
            }]
        }],
        "partialFingerprints": { "dockproofFingerprint/v1": r.fingerprint },
        "properties": {
            "status": r.status.as_str(),
            "severity": r.severity.as_str(),
            "resourceId": res.id,
            "source": r.source,
            "observedAt": r.observed_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        },
    });
    if let Some(i) = index {
        result["ruleIndex"] = json!(i);
    }
    if let Some(w) = r
        .waiver
        .as_deref()
        .and_then(|id| a.waivers.iter().find(|w| w.id == id))
    {
        result["suppressions"] = suppression(w);
        result["properties"]["status"] = json!(r.shown_status());
        result["properties"]["verdict"] = json!(r.status.as_str());
    }
    result
}

/// A waiver as a SARIF suppression: accepted outside the tool, with its justification.
fn suppression(w: &crate::assessment::WaiverRecord) -> Value {
    let mut justification = w.justification.clone();
    if let Some(c) = &w.compensating_control {
        justification.push_str(&format!(" Compensating control: {}", sentence(c)));
    }
    let mut properties = json!({
        "waiverId": w.id,
        "source": w.source,
    });
    for (key, value) in [
        ("approvedBy", w.approved_by.clone()),
        ("granted", w.granted.map(|d| d.to_string())),
        ("expires", w.expires.map(|d| d.to_string())),
        ("risk", w.risk.map(|r| r.as_str().to_string())),
        ("ticket", w.ticket.clone()),
    ] {
        if let Some(v) = value {
            properties[key] = json!(v);
        }
    }
    json!([{
        "kind": "external",
        "status": "accepted",
        "justification": justification,
        "properties": properties,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_assessment, waived_assessment, EVIL_NAME};

    #[test]
    fn a_waived_failure_carries_an_accepted_suppression() {
        let doc = render(&waived_assessment());
        let results = doc["runs"][0]["results"].as_array().expect("results");
        let waived: Vec<&Value> = results
            .iter()
            .filter(|r| r.get("suppressions").is_some())
            .collect();
        assert_eq!(waived.len(), 1);
        let s = &waived[0]["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["status"], "accepted");
        assert_eq!(s["properties"]["waiverId"], "W-1");
        assert_eq!(s["properties"]["expires"], "2025-06-30");
        assert!(s["justification"]
            .as_str()
            .unwrap()
            .ends_with("Compensating control: Egress restricted to the vendor mirror."));
        assert_eq!(waived[0]["kind"], "fail");
        assert_eq!(waived[0]["properties"]["status"], "waived");
    }

    pub(super) fn render(a: &Assessment) -> Value {
        let mut buf = Vec::new();
        SarifRenderer.render(a, &mut buf).expect("render");
        assert!(buf.ends_with(b"}\n"));
        serde_json::from_slice(&buf).expect("JSON")
    }

    #[test]
    fn results_point_at_the_snapshot_file_of_the_bundle() {
        assert_eq!(SNAPSHOT_ARTIFACT, crate::bundle::SNAPSHOT_FILE);
        let log = render(&sample_assessment());
        let run = &log["runs"][0];
        assert_eq!(run["artifacts"][0]["location"]["uri"], SNAPSHOT_ARTIFACT);
        for r in run["results"].as_array().expect("results") {
            let physical = &r["locations"][0]["physicalLocation"];
            assert_eq!(physical["artifactLocation"]["uri"], SNAPSHOT_ARTIFACT);
            assert_eq!(physical["region"]["startLine"], 1);
        }
    }

    #[test]
    fn has_one_run_with_one_rule_per_check() {
        let a = sample_assessment();
        let log = render(&a);
        assert_eq!(log["$schema"], SARIF_SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1);
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "dockproof");
        assert_eq!(driver["version"], "0.1.0");
        let rules = driver["rules"].as_array().expect("rules");
        assert_eq!(rules.len(), a.checks.len());
        assert_eq!(
            rules[0],
            json!({
                "id": "container.privileged",
                "name": "container.privileged",
                "shortDescription": { "text": "Containers do not run privileged" },
                "fullDescription": { "text": "Checks that containers do not run privileged." },
                "help": { "text": "Reduces the blast radius of a compromised container.\n\n\
                                   Remediation: Change the run options and recreate the container." },
                "defaultConfiguration": { "level": "error" },
                "properties": {
                    "severity": "high",
                    "security-severity": "8.0",
                    "cis": ["5.5"],
                    "frameworks": ["pci-dss-4.0.1:2.2.5", "hipaa-security-rule:164.312(a)(1)"],
                    "tags": ["docker", "security", "compliance", "container",
                             "pci-dss-4.0.1", "hipaa-security-rule"],
                },
                "helpUri": "https://docs.docker.com/engine/security/",
            })
        );
        assert_eq!(rules[2]["defaultConfiguration"]["level"], "warning");
        assert_eq!(rules[7]["defaultConfiguration"]["level"], "note");
    }

    #[test]
    fn reports_fail_and_error_results_only() {
        let log = render(&sample_assessment());
        let results = log["runs"][0]["results"].as_array().expect("results");
        let summary: Vec<(String, String, String)> = results
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap_or("").to_string(),
                    r["kind"].as_str().unwrap_or("").to_string(),
                    r["level"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            summary,
            vec![
                s("container.privileged", "fail", "error"),
                s("container.privileged", "fail", "error"),
                s("daemon.icc", "fail", "warning"),
                s("host.audit-docker", "review", "none"),
                s("image.trusted-registry", "fail", "note"),
            ]
        );
    }

    #[test]
    fn writes_exact_failed_result() {
        let log = render(&sample_assessment());
        assert_eq!(
            log["runs"][0]["results"][0],
            json!({
                "ruleId": "container.privileged",
                "kind": "fail",
                "level": "error",
                "message": { "text": "Containers do not run privileged: fails on container web. \
                                      Evidence: HostConfig.Privileged=true." },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": "snapshot.json", "index": 0 },
                        "region": { "startLine": 1 },
                    },
                    "logicalLocations": [{
                    "name": "web",
                    "kind": "container",
                    "fullyQualifiedName": "container/web",
                }]}],
                "partialFingerprints": {
                    "dockproofFingerprint/v1": "container.privileged/container/web"
                },
                "properties": {
                    "status": "fail",
                    "severity": "high",
                    "resourceId": "3f2a9c0d1e4b",
                    "source": "engine.containers[0]",
                    "observedAt": "2025-03-14T09:26:05Z",
                },
                "ruleIndex": 0,
                "taxa": log["runs"][0]["results"][0]["taxa"],
            })
        );
    }

    #[test]
    fn error_result_is_a_review_and_host_strings_stay_data() {
        let log = render(&sample_assessment());
        let results = &log["runs"][0]["results"];
        assert_eq!(
            results[3]["message"]["text"],
            "The Docker daemon is audited: could not be evaluated on host docker-prod-01 \
             (evidence missing: host:/etc/audit/audit.rules could not be read). \
             Evidence: audit rules=null."
        );
        assert_eq!(results[3]["ruleIndex"], 5);
        assert_eq!(
            results[1]["locations"][0]["logicalLocations"][0]["name"],
            EVIL_NAME
        );
        assert_eq!(
            log["runs"][0]["properties"]["snapshotSha256"],
            "5d41402abc4b2a76b9719d911017c592ae2f9c5e8a8b1f0f0a0e7e2b3c4d5e6f"
        );
    }
}
