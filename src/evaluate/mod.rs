//! Evaluation: applies the catalogs to a snapshot and produces the assessment.
//!
//! Every check runs on every resource of its kind: the applicability condition first
//! (`not_applicable` when false), then the rule (`pass` / `fail`), then the evidence
//! expressions. Anything that cannot be evaluated, because the data is missing or the rule
//! misbehaves, is an `error`: a check never passes on missing data. When a whole listing is
//! missing (the engine refused `/containers`, no host files were collected) each check of that
//! kind gets one `error` result naming the gap instead of silently having nothing to judge.
//!
//! Framework requirements are then rolled up from the results of their deciding checks
//! ([`rollup`]). A [`Selection`] leaves checks and containers out; what it left out is recorded
//! in the assessment and the requirements it narrowed are `excluded_by_selection`. This module
//! is pure: it reads no file and talks to no engine.

mod attestations;
mod decisions;
pub(crate) mod rollup;
mod selection;
mod shape;
pub mod views;
mod waivers;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::assessment::{
    Assessment, CatalogRef, CheckInfo, CheckMode, CheckResult, Evidence, EvidenceRole,
    FrameworkResult, Mapping, ResourceKind, ResourceRef, SelectionRecord, SnapshotRef, Status,
    Summary, SCHEMA_VERSION,
};
use crate::catalog::{Catalog, Check};
use crate::rules::{self, RuleError};
use crate::snapshot::{Snapshot, ToolInfo};
use views::Resource;

pub use attestations::Attestation;
/// The YAML list reader of the decision files, also used by fleet targets files.
pub(crate) use decisions::entries as yaml_list_entries;
pub use decisions::{DecisionFileError, Problem};
pub use selection::{Selection, SelectionError};
pub use waivers::Waiver;

/// Parses a waiver file (see [`waivers`]).
pub fn parse_waivers(
    text: &str,
    file: &str,
    catalog: &Catalog,
) -> Result<Vec<Waiver>, DecisionFileError> {
    waivers::parse(text, file, catalog)
}

/// Parses an attestation file (see [`attestations`]).
pub fn parse_attestations(
    text: &str,
    file: &str,
    catalog: &Catalog,
) -> Result<Vec<Attestation>, DecisionFileError> {
    attestations::parse(text, file, catalog)
}

/// What to evaluate and how.
#[derive(Debug, Clone, Default)]
pub struct EvaluateOptions {
    /// Frameworks to roll up; empty means every framework in the catalog.
    pub frameworks: Vec<String>,
    /// Site parameters, already resolved against the catalog's declarations.
    pub params: BTreeMap<String, Value>,
    /// Time to stamp on the assessment (injected so that output can be reproduced).
    pub now: DateTime<Utc>,
    /// Waivers to lay over the results (see [`waivers`]).
    pub waivers: Vec<Waiver>,
    /// Attestations to lay over the roll-up (see [`attestations`]).
    pub attestations: Vec<Attestation>,
    /// The checks to run and the containers to judge; the default is everything.
    pub selection: Selection,
}

/// Why evaluation could not start.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("unknown framework `{0}`; available: {1}")]
    UnknownFramework(String, String),
}

/// Evaluates `snapshot` (whose file bytes hash to `snapshot_sha256`) against `catalog`.
pub fn evaluate(
    snapshot: &Snapshot,
    snapshot_sha256: &str,
    catalog: &Catalog,
    opts: &EvaluateOptions,
) -> Result<Assessment, EvaluateError> {
    evaluate_with_vulnerabilities(snapshot, snapshot_sha256, catalog, opts, None)
}

/// The frameworks `ids` names (every framework of the catalog when empty).
fn selected_frameworks<'c>(
    catalog: &'c Catalog,
    ids: &[String],
) -> Result<Vec<&'c crate::catalog::Framework>, EvaluateError> {
    if ids.is_empty() {
        return Ok(catalog.frameworks.iter().collect());
    }
    ids.iter()
        .map(|id| {
            catalog.framework(id).ok_or_else(|| {
                let known: Vec<_> = catalog
                    .frameworks
                    .iter()
                    .map(|f| f.meta.id.as_str())
                    .collect();
                EvaluateError::UnknownFramework(id.clone(), known.join(", "))
            })
        })
        .collect()
}

/// The requirements of the selected frameworks rolled up from no results at all: what a fleet
/// lists when none of its hosts could be assessed, so that every requirement still appears
/// (undetermined, naming the targets that were not assessed) instead of none.
pub fn requirement_outline(
    catalog: &Catalog,
    frameworks: &[String],
    params: &BTreeMap<String, Value>,
) -> Result<Vec<FrameworkResult>, EvaluateError> {
    Ok(selected_frameworks(catalog, frameworks)?
        .into_iter()
        .map(|f| rollup::framework(f, catalog, &[], params, &BTreeSet::new()))
        .collect())
}

/// [`evaluate`] with vulnerability evidence for the images (see [`crate::vuln`]): image views
/// gain `Inventory`, `InUse` and `Vulnerabilities`, and the assessment its `images` section.
pub fn evaluate_with_vulnerabilities(
    snapshot: &Snapshot,
    snapshot_sha256: &str,
    catalog: &Catalog,
    opts: &EvaluateOptions,
    vulnerabilities: Option<&crate::vuln::VulnEvidence>,
) -> Result<Assessment, EvaluateError> {
    let frameworks = selected_frameworks(catalog, &opts.frameworks)?;

    let engine = rules::Engine::new();
    let params_json = Value::Object(opts.params.clone().into_iter().collect());
    let collected_at = cel::Value::Timestamp(snapshot.collection.finished_at.fixed_offset());
    let ctx = engine.context(&[
        ("collected_at", collected_at),
        ("params", rules::from_json(&params_json)),
        ("daemon", rules::from_json(&views::daemon_view(snapshot))),
        ("host", rules::from_json(&views::host_view(snapshot))),
    ]);

    // Each resource is converted and bound once and every check of its kind runs against it;
    // results are then laid out grouped by check, in catalog order.
    let observed_at = snapshot.collection.finished_at;
    let mut per_check: Vec<Vec<CheckResult>> = vec![Vec::new(); catalog.checks.len()];
    let selection = &opts.selection;
    let mut kinds: BTreeMap<ResourceKind, Vec<usize>> = BTreeMap::new();
    for (i, check) in catalog.checks.iter().enumerate() {
        if selection.runs(&check.def.id) {
            kinds.entry(check.def.resource).or_default().push(i);
        }
    }
    // Checks that judged fewer resources than the snapshot holds, or none.
    let mut narrowed: BTreeSet<&str> = selection.skipped().collect();
    let mut excluded_resources = Vec::new();
    for (kind, indices) in &kinds {
        let gap = missing_listing(snapshot, *kind);
        if let Some(gap) = &gap {
            for &i in indices {
                per_check[i].push(whole_kind_error(
                    &catalog.checks[i],
                    *kind,
                    gap.clone(),
                    observed_at,
                ));
            }
        }
        let related = related_gaps(snapshot, *kind);
        for mut resource in views::resources(snapshot, *kind) {
            if *kind == ResourceKind::Container && !selection.keeps_container(&resource.view) {
                narrowed.extend(indices.iter().map(|&i| catalog.checks[i].def.id.as_str()));
                excluded_resources.push(resource.reference);
                continue;
            }
            if *kind == ResourceKind::Image {
                crate::vuln::decorate(&mut resource.view, snapshot, vulnerabilities);
            }
            let scope = rules::bind(&ctx, &rules::from_json(&resource.view));
            let role = resource.view.get("role").and_then(Value::as_str);
            let misshapen = shape::misshapen(*kind, &resource.view);
            for &i in indices {
                let check = &catalog.checks[i];
                if check.def.file_role.is_some() && check.def.file_role.as_deref() != role {
                    continue;
                }
                let mut result = evaluate_one(check, &resource, &scope, observed_at);
                // A collection of the wrong kind could make a rule pass or fail for the wrong
                // reason; the evidence is kept, the verdict is not.
                if let Some(m) = misshapen.iter().find(|m| m.read_by(check)) {
                    result.status = Status::Error;
                    result.message = Some(m.message());
                }
                if let (Status::Error, Some(message), Some(gaps)) =
                    (result.status, result.message.as_mut(), &related)
                {
                    message.push_str(gaps);
                }
                per_check[i].push(result);
            }
        }
        if gap.is_none() {
            for &i in indices {
                let check = &catalog.checks[i];
                if let (Some(role), true) = (&check.def.file_role, per_check[i].is_empty()) {
                    per_check[i].push(no_file_with_role(check, role, observed_at));
                }
            }
        }
    }
    let mut results: Vec<CheckResult> = per_check.into_iter().flatten().collect();
    // Waivers and attestations are judged on the day the evidence was observed, so that
    // re-evaluating an old snapshot gives the verdicts that held when it was taken.
    let today = snapshot.collection.finished_at.date_naive();
    let waiver_register = waivers::apply(&mut results, snapshot, &opts.waivers, today);

    let mappings = mappings_by_check(&frameworks);
    let checks = catalog
        .checks
        .iter()
        .map(|c| {
            check_info(
                c,
                mappings.get(c.def.id.as_str()).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let mut framework_results: Vec<_> = frameworks
        .iter()
        .map(|f| rollup::framework(f, catalog, &results, &opts.params, &narrowed))
        .collect();
    let attestation_register =
        attestations::apply(&mut framework_results, &opts.attestations, today);
    let summary = summarize(&results);
    let mut assessment = Assessment {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        generated_at: opts.now,
        snapshot: snapshot_ref(snapshot, snapshot_sha256),
        catalog: CatalogRef {
            sha256: catalog.sha256.clone(),
            sources: catalog.sources.clone(),
        },
        params: opts.params.clone(),
        checks,
        results,
        frameworks: framework_results,
        summary,
        waivers: waiver_register,
        attestations: attestation_register,
        trend: Vec::new(),
        images: crate::vuln::section(snapshot, vulnerabilities),
        selection: selection.is_active().then(|| SelectionRecord {
            checks: selection.checks.clone(),
            skip: selection.skip.clone(),
            filters: selection.filters.clone(),
            skipped_checks: selection.skipped().map(str::to_string).collect(),
            excluded_resources,
        }),
        configuration: None,
        scope: None,
        provenance: None,
        top_risks: Vec::new(),
    };
    assessment.top_risks = assessment.compute_top_risks();
    Ok(assessment)
}

/// The gap that leaves a whole kind without data, if any.
fn missing_listing(snapshot: &Snapshot, kind: ResourceKind) -> Option<String> {
    if kind == ResourceKind::File && snapshot.host.files.is_empty() {
        let why = snapshot
            .gaps
            .iter()
            .find(|g| g.source.starts_with("host"))
            .map(|g| format!(": {}", g.error))
            .unwrap_or_default();
        return Some(format!("no host file evidence was collected{why}"));
    }
    let source = views::listing_gap(kind)?;
    snapshot
        .gaps
        .iter()
        .find(|g| g.source == source)
        .map(|g| format!("{} could not be listed: {}", g.source, g.error))
}

/// For the daemon and host views, which are assembled from several sources: the gaps of those
/// sources, as a suffix for error messages, so that a rule that failed on missing data names
/// the file or call that could not be read (`host:/etc/docker/daemon.json: invalid JSON ...`).
fn related_gaps(snapshot: &Snapshot, kind: ResourceKind) -> Option<String> {
    let related = |source: &str| match kind {
        ResourceKind::Daemon => {
            source.ends_with("daemon.json")
                || source == "host:/proc (dockerd)"
                || source == "engine:/info"
                || source == "engine:/version"
        }
        ResourceKind::Host => source.starts_with("host") || source == "engine:/info",
        _ => false,
    };
    let gaps: Vec<String> = snapshot
        .gaps
        .iter()
        .filter(|g| related(&g.source))
        .map(|g| format!("{}: {}", g.source, g.error))
        .collect();
    (!gaps.is_empty()).then(|| format!(" (collection gaps: {})", gaps.join("; ")))
}

fn whole_kind_error(
    check: &Check,
    kind: ResourceKind,
    gap: String,
    observed_at: DateTime<Utc>,
) -> CheckResult {
    let reference = ResourceRef {
        kind,
        id: format!("all-{}s", kind.as_str()),
        name: format!("all {}s", kind.as_str()),
    };
    CheckResult {
        check_id: check.def.id.clone(),
        severity: check.def.severity,
        fingerprint: fingerprint(&check.def.id, kind, &reference.id),
        waiver: None,
        resource: reference,
        status: Status::Error,
        message: Some(gap),
        evidence: vec![],
        source: "gaps".into(),
        observed_at,
    }
}

fn no_file_with_role(check: &Check, role: &str, observed_at: DateTime<Utc>) -> CheckResult {
    let kind = ResourceKind::File;
    let reference = ResourceRef {
        kind,
        id: format!("{role}:"),
        name: format!("({role})"),
    };
    CheckResult {
        check_id: check.def.id.clone(),
        severity: check.def.severity,
        fingerprint: fingerprint(&check.def.id, kind, &reference.id),
        waiver: None,
        resource: reference,
        status: Status::NotApplicable,
        message: Some(format!(
            "no {role} file is configured or present on this host"
        )),
        evidence: vec![],
        source: "host.files".into(),
        observed_at,
    }
}

fn evaluate_one(
    check: &Check,
    resource: &Resource,
    scope: &cel::Context,
    observed_at: DateTime<Utc>,
) -> CheckResult {
    let def = &check.def;
    let (status, message) = verdict(check, scope);
    let evidence = check
        .evidence
        .iter()
        .map(|(label, expr)| Evidence {
            label: label.clone(),
            value: match expr.eval(scope) {
                Ok(v) => rules::to_json(&v),
                Err(e) => Value::String(format!("(not available: {e})")),
            },
        })
        .collect();
    CheckResult {
        check_id: def.id.clone(),
        severity: def.severity,
        resource: resource.reference.clone(),
        status,
        message,
        evidence,
        source: resource.source.clone(),
        observed_at,
        fingerprint: fingerprint(&def.id, def.resource, &resource.identity),
        waiver: None,
    }
}

fn verdict(check: &Check, scope: &cel::Context) -> (Status, Option<String>) {
    let err = |what: &str, e: RuleError| {
        let message = match e {
            // Over budget: say which check, so a catalog author finds the rule to fix.
            RuleError::Budget(why) => format!("{what} of check `{}` {why}", check.def.id),
            e => format!("{what} could not be evaluated: {e}"),
        };
        (Status::Error, Some(message))
    };
    if let Some(cond) = &check.applies_if {
        match cond.eval_bool(scope) {
            Ok(true) => {}
            Ok(false) => return (Status::NotApplicable, None),
            Err(e) => return err("applicability condition", e),
        }
    }
    if check.def.mode == CheckMode::Manual {
        return (Status::Manual, check.def.prompt.clone());
    }
    match &check.rule {
        Some(rule) => match rule.eval_bool(scope) {
            Ok(true) => (Status::Pass, None),
            Ok(false) => (Status::Fail, None),
            Err(e) => err("rule", e),
        },
        // The catalog loader refuses automated checks without a rule; stay safe regardless.
        None => (Status::Error, Some("automated check has no rule".into())),
    }
}

/// Stable identity of a finding: check id, resource kind and a resource identity that survives
/// recreation (container name and image, image reference, file role and path).
pub fn fingerprint(check_id: &str, kind: ResourceKind, identity: &str) -> String {
    let mut h = Sha256::new();
    for part in [check_id, kind.as_str(), identity] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..12])
}

fn mappings_by_check<'a>(
    frameworks: &[&'a crate::catalog::Framework],
) -> HashMap<&'a str, Vec<Mapping>> {
    let mut out: HashMap<&str, Vec<Mapping>> = HashMap::new();
    for fw in frameworks {
        for req in &fw.requirements {
            let roles = req
                .checks
                .iter()
                .map(|c| (c, EvidenceRole::Primary))
                .chain(req.supporting.iter().map(|c| (c, EvidenceRole::Supporting)));
            for (check, role) in roles {
                out.entry(check.as_str()).or_default().push(Mapping {
                    framework: fw.meta.id.clone(),
                    requirement: req.id.clone(),
                    role,
                });
            }
        }
    }
    out
}

fn check_info(check: &Check, mappings: Vec<Mapping>) -> CheckInfo {
    let d = &check.def;
    CheckInfo {
        id: d.id.clone(),
        title: d.title.clone(),
        description: d.description.clone(),
        rationale: d.rationale.clone(),
        severity: d.severity,
        resource: d.resource,
        mode: d.mode,
        expectation: d.expectation.clone(),
        remediation: d.remediation.clone(),
        fix: d.fix.clone(),
        fix_text: d.fix.as_ref().map(|f| f.text()),
        rule: d.rule.clone().unwrap_or_default(),
        prompt: d.prompt.clone(),
        references: d.references.clone(),
        mappings,
    }
}

fn summarize(results: &[CheckResult]) -> Summary {
    let mut summary = Summary {
        total: results.len(),
        ..Summary::default()
    };
    for r in results {
        *summary.by_status.entry(r.status).or_default() += 1;
        if r.status == Status::Fail {
            *summary.failed_by_severity.entry(r.severity).or_default() += 1;
        }
        summary.waived += usize::from(r.is_waived());
    }
    summary
}

fn snapshot_ref(s: &Snapshot, sha256: &str) -> SnapshotRef {
    let inventory = [
        ("containers", s.engine.containers.len()),
        ("images", s.engine.images.len()),
        ("networks", s.engine.networks.len()),
        ("volumes", s.engine.volumes.len()),
        ("plugins", s.engine.plugins.len()),
        ("host files", s.host.files.len()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    SnapshotRef {
        sha256: sha256.to_string(),
        schema_version: s.schema_version,
        collected_by: s.tool.clone(),
        collected_from: s.collection.started_at,
        collected_until: s.collection.finished_at,
        include_stopped: s.collection.include_stopped,
        host_root: s.collection.host_root.clone(),
        target: s.target.clone(),
        gaps: s.gaps.clone(),
        inventory,
    }
}

#[cfg(test)]
mod tests;
