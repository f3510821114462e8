//! Comparison of two assessments of the same host: what got worse, what got better, what changed.
//!
//! This module owns the diff model (serialised as the `json` diff format, so its field names are
//! a contract documented here), its computation from two [`Assessment`]s, and loading an
//! assessment from a bundle directory or file ([`load`]). The computation is pure; the formats
//! ([`text::TextDiff`], [`JsonDiff`], [`html::HtmlDiff`]) share one interface, [`DiffRenderer`],
//! the diff's counterpart of [`crate::render::Renderer`]. It never re-evaluates a snapshot: it
//! compares verdicts as each scan recorded them.
//!
//! Findings are matched by [`CheckResult::fingerprint`](crate::assessment::CheckResult::fingerprint) (check id + a resource identity that
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

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assessment::{
    Assessment, Figures, RequirementState, ResourceKind, Severity, Status, WaiverState,
};
use crate::render::RenderError;

mod compute;
pub mod html;
pub mod load;
pub mod text;

#[cfg(test)]
mod tests;

pub use html::HtmlDiff;
pub use load::{load, load_any, LoadError, Loaded};
pub use text::TextDiff;

/// One format of `dockproof diff`. Like a report renderer, it is a pure function of its input
/// that writes to the `out` it is given and never prints.
pub trait DiffRenderer {
    /// Short name, as given to `diff --format` (`text`).
    fn name(&self) -> &'static str;

    /// Writes `diff` to `out`. Does not flush: the caller owns `out`.
    fn render(&self, diff: &Diff, out: &mut dyn Write) -> Result<(), RenderError>;
}

/// The `json` diff format: the [`Diff`] document itself, pretty-printed.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonDiff;

impl DiffRenderer for JsonDiff {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, diff: &Diff, out: &mut dyn Write) -> Result<(), RenderError> {
        crate::render::write_json(out, diff)
    }
}

/// Version of the diff document layout (`dockproof diff --format json`). 2: requirement evidence
/// states and figures replaced statuses and scores.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// The engine's own id, stable across restarts; tells two hosts of the same name apart.
    pub engine_id: Option<String>,
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

/// One framework, old → new. Figures are null on the side that did not report the framework.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameworkChange {
    pub id: String,
    pub name: String,
    pub old_figures: Option<Figures>,
    pub new_figures: Option<Figures>,
    /// Requirements whose evidence state changed, in NEW's order then OLD-only ones.
    pub requirements: Vec<RequirementChange>,
}

/// A requirement whose evidence state changed; null on the side that did not have it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequirementChange {
    pub id: String,
    pub title: String,
    pub old_state: Option<RequirementState>,
    pub new_state: Option<RequirementState>,
}

impl Diff {
    /// Compares two assessments. `old` is the earlier scan.
    pub fn compute(old: &Assessment, new: &Assessment) -> Diff {
        let findings = compute::findings(old, new);
        let resources = compute::resources(old, new);
        let checks = compute::checks(old, new);
        let waivers = compute::waivers(old, new);
        let frameworks = compute::frameworks(old, new);
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
            old: compute::header(old),
            new: compute::header(new),
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

    /// Whether both scans are known to come from different engines. Comparing them is allowed
    /// (a rebuilt host, a fleet baseline) but most likely a mistake worth a warning.
    pub fn different_engines(&self) -> bool {
        match (&self.old.engine_id, &self.new.engine_id) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }
}
