//! Comparison of two assessments of the same host: what got worse, what got better, what changed.
//!
//! This module owns the diff model (serialised as the `json` diff format, so its field names are
//! a contract documented here), its computation from two [`Assessment`]s, and loading an
//! assessment from a bundle directory or file ([`load`]). The computation is pure; printing is
//! for the renderers ([`text`], [`html`]) and the CLI. It never re-evaluates a snapshot: it
//! compares verdicts as each scan recorded them.
//!
//! Findings are matched by [`CheckResult::fingerprint`] (check id + a resource identity that
//! survives container recreation). Every fingerprint whose verdict involves `fail` or `error` in
//! either scan lands in exactly one finding list:
//!
//! | list                 | OLD                           | NEW                            |
//! |----------------------|-------------------------------|--------------------------------|
//! | `newly_failing`      | anything but fail, or absent  | fail                           |
//! | `still_failing`      | fail                          | fail                           |
//! | `newly_passing`      | fail                          | pass                           |
//! | `no_longer_failing`  | fail                          | not_applicable, manual, absent |
//! | `new_errors`         | anything but error, or absent | error                          |
//! | `still_error`        | error                         | error                          |
//! | `errors_resolved`    | error                         | pass, not_applicable, manual, absent |
//!
//! So missing evidence is never silent: `pass → error` is listed under `new_errors`, and a
//! failure that merely disappeared is not counted as passing. Statuses are the underlying
//! verdicts; a waiver is shown beside them and its changes are listed under `waivers`.
//! Resources are matched by kind + name; a resource whose engine id changed under the same name
//! (a recreated container, a rebuilt image tag) is `replaced`, not added and removed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assessment::{
    Assessment, CheckResult, RequirementStatus, ResourceKind, Severity, Status, WaiverState,
};

pub mod html;
pub mod load;
pub mod text;

#[cfg(test)]
mod tests;

pub use load::{load, LoadError};

/// Version of the diff document layout (`dockproof diff --format json`).
pub const SCHEMA_VERSION: u32 = 1;

/// Everything that changed between an OLD and a NEW assessment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Diff {
    pub schema_version: u32,
    /// The earlier scan.
    pub old: ScanHeader,
    /// The later scan.
    pub new: ScanHeader,
    /// Counts of every list below.
    pub summary: DiffSummary,
    pub findings: FindingChanges,
    pub resources: ResourceChanges,
    pub checks: CheckChanges,
    pub waivers: WaiverChanges,
    /// One entry per framework in either scan, in NEW's order then OLD-only ones.
    pub frameworks: Vec<FrameworkChange>,
}

/// Identity of one side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanHeader {
    /// The path the assessment was read from, as given; empty when computed in memory.
    pub source: String,
    /// Host name the engine reported, if any.
    pub host: Option<String>,
    /// Engine endpoint the evidence was collected from.
    pub docker_host: String,
    /// When the assessment was evaluated (UTC).
    pub generated_at: DateTime<Utc>,
    /// When collection ended (UTC).
    pub collected_until: DateTime<Utc>,
    /// SHA-256 of the snapshot evaluated.
    pub snapshot_sha256: String,
    /// dockproof version that evaluated.
    pub tool_version: String,
}

/// Number of entries in each list of the diff.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DiffSummary {
    pub newly_failing: usize,
    pub still_failing: usize,
    pub newly_passing: usize,
    pub no_longer_failing: usize,
    pub new_errors: usize,
    pub still_error: usize,
    pub errors_resolved: usize,
    pub resources_added: usize,
    pub resources_removed: usize,
    pub resources_replaced: usize,
    pub checks_added: usize,
    pub checks_removed: usize,
    pub waivers_added: usize,
    pub waivers_removed: usize,
    pub waivers_changed: usize,
    pub newly_waived: usize,
    pub no_longer_waived: usize,
    /// Framework requirements whose status changed, over all frameworks.
    pub requirements_changed: usize,
}

/// Per-finding changes; see the module docs for which list a finding lands in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FindingChanges {
    pub newly_failing: Vec<FindingChange>,
    pub still_failing: Vec<FindingChange>,
    pub newly_passing: Vec<FindingChange>,
    pub no_longer_failing: Vec<FindingChange>,
    pub new_errors: Vec<FindingChange>,
    pub still_error: Vec<FindingChange>,
    pub errors_resolved: Vec<FindingChange>,
}

/// One finding (check × resource) in OLD and NEW.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingChange {
    pub fingerprint: String,
    pub check_id: String,
    /// NEW's severity, or OLD's when the finding is gone.
    pub severity: Severity,
    pub resource: Resource,
    /// Verdict in OLD; null when the finding was absent.
    pub old_status: Option<Status>,
    /// Verdict in NEW; null when the finding is absent.
    pub new_status: Option<Status>,
    /// Waiver covering the finding in OLD.
    pub old_waiver: Option<String>,
    /// Waiver covering the finding in NEW.
    pub new_waiver: Option<String>,
}

/// A resource as people recognise it: kind and name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Resource {
    pub kind: ResourceKind,
    pub name: String,
}

/// Resources seen in the results of one scan and not the other.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ResourceChanges {
    pub added: Vec<Resource>,
    pub removed: Vec<Resource>,
    /// Same kind and name, different engine id: recreated, not added or removed.
    pub replaced: Vec<ReplacedResource>,
}

/// A resource recreated under the same name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReplacedResource {
    pub kind: ResourceKind,
    pub name: String,
    pub old_ids: Vec<String>,
    pub new_ids: Vec<String>,
}

/// Checks present in one scan's catalog and not the other's.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckChanges {
    pub added: Vec<CheckRef>,
    pub removed: Vec<CheckRef>,
}

/// A check by id, with enough to recognise it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckRef {
    pub id: String,
    pub title: String,
    pub severity: Severity,
}

/// Changes in the waiver registers and in which results they cover.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WaiverChanges {
    pub added: Vec<WaiverRef>,
    pub removed: Vec<WaiverRef>,
    /// Waivers in both registers whose state or covered findings changed.
    pub changed: Vec<WaiverChange>,
    /// Findings covered by a waiver in NEW and not in OLD (or absent from OLD).
    pub newly_waived: Vec<FindingChange>,
    /// Findings covered by a waiver in OLD and not in NEW (or absent from NEW).
    pub no_longer_waived: Vec<FindingChange>,
}

/// One waiver of one register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverRef {
    pub id: String,
    pub check_id: String,
    pub state: WaiverState,
    pub covered: usize,
}

/// A waiver in both registers, old → new.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverChange {
    pub id: String,
    pub check_id: String,
    pub old_state: WaiverState,
    pub new_state: WaiverState,
    pub old_covered: usize,
    pub new_covered: usize,
}

/// One framework, old → new. Scores are null on the side that did not report the framework.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameworkChange {
    pub id: String,
    pub name: String,
    pub old_score: Option<f64>,
    pub new_score: Option<f64>,
    pub old_score_without_waivers: Option<f64>,
    pub new_score_without_waivers: Option<f64>,
    /// Requirements whose status changed, in NEW's order then OLD-only ones.
    pub requirements: Vec<RequirementChange>,
}

/// A requirement whose status changed; null on the side that did not have it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequirementChange {
    pub id: String,
    pub title: String,
    pub old_status: Option<RequirementStatus>,
    pub new_status: Option<RequirementStatus>,
}

impl Diff {
    /// Compares two assessments. `old` is the earlier scan.
    pub fn compute(old: &Assessment, new: &Assessment) -> Diff {
        let findings = findings(old, new);
        let resources = resources(old, new);
        let checks = checks(old, new);
        let waivers = waivers(old, new);
        let frameworks = frameworks(old, new);
        let summary = DiffSummary {
            newly_failing: findings.newly_failing.len(),
            still_failing: findings.still_failing.len(),
            newly_passing: findings.newly_passing.len(),
            no_longer_failing: findings.no_longer_failing.len(),
            new_errors: findings.new_errors.len(),
            still_error: findings.still_error.len(),
            errors_resolved: findings.errors_resolved.len(),
            resources_added: resources.added.len(),
            resources_removed: resources.removed.len(),
            resources_replaced: resources.replaced.len(),
            checks_added: checks.added.len(),
            checks_removed: checks.removed.len(),
            waivers_added: waivers.added.len(),
            waivers_removed: waivers.removed.len(),
            waivers_changed: waivers.changed.len(),
            newly_waived: waivers.newly_waived.len(),
            no_longer_waived: waivers.no_longer_waived.len(),
            requirements_changed: frameworks.iter().map(|f| f.requirements.len()).sum(),
        };
        Diff {
            schema_version: SCHEMA_VERSION,
            old: header(old),
            new: header(new),
            summary,
            findings,
            resources,
            checks,
            waivers,
            frameworks,
        }
    }

    /// Newly failing findings at or above `threshold` that no waiver covers in NEW: what
    /// `--fail-on-new` reacts to. A waived new failure is accepted risk, not a surprise.
    pub fn new_failures_at_or_above(&self, threshold: Severity) -> Vec<&FindingChange> {
        self.findings
            .newly_failing
            .iter()
            .filter(|f| f.severity >= threshold && f.new_waiver.is_none())
            .collect()
    }

    /// Writes the diff as pretty JSON (the documented `json` format).
    pub fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

fn header(a: &Assessment) -> ScanHeader {
    ScanHeader {
        source: String::new(),
        host: a.snapshot.target.hostname.clone(),
        docker_host: a.snapshot.target.docker_host.clone(),
        generated_at: a.generated_at,
        collected_until: a.snapshot.collected_until,
        snapshot_sha256: a.snapshot.sha256.clone(),
        tool_version: a.tool.version.clone(),
    }
}

/// Results by fingerprint. Should a fingerprint repeat within one scan, the first result wins,
/// so the outcome does not depend on map iteration.
fn by_fingerprint(a: &Assessment) -> BTreeMap<&str, &CheckResult> {
    let mut map = BTreeMap::new();
    for r in &a.results {
        map.entry(r.fingerprint.as_str()).or_insert(r);
    }
    map
}

fn findings(old: &Assessment, new: &Assessment) -> FindingChanges {
    let (o, n) = (by_fingerprint(old), by_fingerprint(new));
    let keys: BTreeSet<&str> = o.keys().chain(n.keys()).copied().collect();
    let mut out = FindingChanges::default();
    for key in keys {
        let (before, after) = (o.get(key).copied(), n.get(key).copied());
        let (os, ns) = (before.map(|r| r.status), after.map(|r| r.status));
        let list = match (os, ns) {
            (Some(Status::Fail), Some(Status::Fail)) => &mut out.still_failing,
            (_, Some(Status::Fail)) => &mut out.newly_failing,
            (Some(Status::Error), Some(Status::Error)) => &mut out.still_error,
            (_, Some(Status::Error)) => &mut out.new_errors,
            (Some(Status::Fail), Some(Status::Pass)) => &mut out.newly_passing,
            (Some(Status::Fail), _) => &mut out.no_longer_failing,
            (Some(Status::Error), _) => &mut out.errors_resolved,
            _ => continue,
        };
        if let Some(change) = change(key, before, after) {
            list.push(change);
        }
    }
    for list in [
        &mut out.newly_failing,
        &mut out.still_failing,
        &mut out.newly_passing,
        &mut out.no_longer_failing,
        &mut out.new_errors,
        &mut out.still_error,
        &mut out.errors_resolved,
    ] {
        sort_findings(list);
    }
    out
}

/// The finding as both scans saw it; `None` only if it is in neither.
fn change(
    fingerprint: &str,
    before: Option<&CheckResult>,
    after: Option<&CheckResult>,
) -> Option<FindingChange> {
    let latest = after.or(before)?;
    Some(FindingChange {
        fingerprint: fingerprint.to_string(),
        check_id: latest.check_id.clone(),
        severity: latest.severity,
        resource: Resource {
            kind: latest.resource.kind,
            name: latest.resource.name.clone(),
        },
        old_status: before.map(|r| r.status),
        new_status: after.map(|r| r.status),
        old_waiver: before.and_then(|r| r.waiver.clone()),
        new_waiver: after.and_then(|r| r.waiver.clone()),
    })
}

/// Most severe first, then by check and resource, so output is stable.
fn sort_findings(list: &mut [FindingChange]) {
    list.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

fn resource_ids(a: &Assessment) -> BTreeMap<Resource, BTreeSet<&str>> {
    let mut map: BTreeMap<Resource, BTreeSet<&str>> = BTreeMap::new();
    for r in &a.results {
        let key = Resource {
            kind: r.resource.kind,
            name: r.resource.name.clone(),
        };
        map.entry(key).or_default().insert(r.resource.id.as_str());
    }
    map
}

fn resources(old: &Assessment, new: &Assessment) -> ResourceChanges {
    let (o, n) = (resource_ids(old), resource_ids(new));
    let owned = |ids: &BTreeSet<&str>| ids.iter().map(|s| s.to_string()).collect();
    ResourceChanges {
        added: n.keys().filter(|k| !o.contains_key(*k)).cloned().collect(),
        removed: o.keys().filter(|k| !n.contains_key(*k)).cloned().collect(),
        replaced: o
            .iter()
            .filter_map(|(k, old_ids)| {
                let new_ids = n.get(k)?;
                (old_ids != new_ids).then(|| ReplacedResource {
                    kind: k.kind,
                    name: k.name.clone(),
                    old_ids: owned(old_ids),
                    new_ids: owned(new_ids),
                })
            })
            .collect(),
    }
}

fn checks(old: &Assessment, new: &Assessment) -> CheckChanges {
    let missing_from = |a: &Assessment, b: &Assessment| {
        let ids: BTreeSet<&str> = b.checks.iter().map(|c| c.id.as_str()).collect();
        a.checks
            .iter()
            .filter(|c| !ids.contains(c.id.as_str()))
            .map(|c| CheckRef {
                id: c.id.clone(),
                title: c.title.clone(),
                severity: c.severity,
            })
            .collect()
    };
    CheckChanges {
        added: missing_from(new, old),
        removed: missing_from(old, new),
    }
}

fn waivers(old: &Assessment, new: &Assessment) -> WaiverChanges {
    let reference = |w: &crate::assessment::WaiverRecord| WaiverRef {
        id: w.id.clone(),
        check_id: w.check_id.clone(),
        state: w.state,
        covered: w.covered,
    };
    let o: BTreeMap<&str, _> = old.waivers.iter().map(|w| (w.id.as_str(), w)).collect();
    let n: BTreeMap<&str, _> = new.waivers.iter().map(|w| (w.id.as_str(), w)).collect();
    let mut out = WaiverChanges {
        added: new
            .waivers
            .iter()
            .filter(|w| !o.contains_key(w.id.as_str()))
            .map(reference)
            .collect(),
        removed: old
            .waivers
            .iter()
            .filter(|w| !n.contains_key(w.id.as_str()))
            .map(reference)
            .collect(),
        ..WaiverChanges::default()
    };
    for w in &new.waivers {
        let Some(before) = o.get(w.id.as_str()) else {
            continue;
        };
        let covered = |fps: &[String]| fps.iter().cloned().collect::<BTreeSet<_>>();
        if before.state != w.state
            || covered(&before.covered_fingerprints) != covered(&w.covered_fingerprints)
        {
            out.changed.push(WaiverChange {
                id: w.id.clone(),
                check_id: w.check_id.clone(),
                old_state: before.state,
                new_state: w.state,
                old_covered: before.covered,
                new_covered: w.covered,
            });
        }
    }
    let (ro, rn) = (by_fingerprint(old), by_fingerprint(new));
    let keys: BTreeSet<&str> = ro.keys().chain(rn.keys()).copied().collect();
    for key in keys {
        let (before, after) = (ro.get(key).copied(), rn.get(key).copied());
        let was = before.is_some_and(CheckResult::is_waived);
        let is = after.is_some_and(CheckResult::is_waived);
        let list = match (was, is) {
            (false, true) => &mut out.newly_waived,
            (true, false) => &mut out.no_longer_waived,
            _ => continue,
        };
        if let Some(change) = change(key, before, after) {
            list.push(change);
        }
    }
    sort_findings(&mut out.newly_waived);
    sort_findings(&mut out.no_longer_waived);
    out
}

fn frameworks(old: &Assessment, new: &Assessment) -> Vec<FrameworkChange> {
    let o: BTreeMap<&str, _> = old.frameworks.iter().map(|f| (f.id.as_str(), f)).collect();
    let in_new: BTreeSet<&str> = new.frameworks.iter().map(|f| f.id.as_str()).collect();
    let pairs = new
        .frameworks
        .iter()
        .map(|f| (o.get(f.id.as_str()).copied(), Some(f)))
        .chain(
            old.frameworks
                .iter()
                .filter(|f| !in_new.contains(f.id.as_str()))
                .map(|f| (Some(f), None)),
        );
    pairs
        .filter_map(|(before, after)| {
            let latest = after.or(before)?;
            let ro: &[_] = before.map_or(&[], |f| &f.requirements);
            let rn: &[_] = after.map_or(&[], |f| &f.requirements);
            let old_status: BTreeMap<&str, _> =
                ro.iter().map(|r| (r.id.as_str(), r.status)).collect();
            let new_ids: BTreeSet<&str> = rn.iter().map(|r| r.id.as_str()).collect();
            let requirements = rn
                .iter()
                .map(|r| (r, old_status.get(r.id.as_str()).copied(), Some(r.status)))
                .chain(
                    ro.iter()
                        .filter(|r| !new_ids.contains(r.id.as_str()))
                        .map(|r| (r, Some(r.status), None)),
                )
                .filter(|(_, o, n)| o != n)
                .map(|(r, o, n)| RequirementChange {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    old_status: o,
                    new_status: n,
                })
                .collect();
            Some(FrameworkChange {
                id: latest.id.clone(),
                name: latest.name.clone(),
                old_score: before.map(|f| f.score),
                new_score: after.map(|f| f.score),
                old_score_without_waivers: before.map(|f| f.score_without_waivers),
                new_score_without_waivers: after.map(|f| f.score_without_waivers),
                requirements,
            })
        })
        .collect()
}
