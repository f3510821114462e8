//! The assessment: what `evaluate` concluded from one snapshot and one set of catalogs.
//!
//! This is the contract between evaluation and every renderer. It carries everything a report
//! needs (check metadata, per-resource results with evidence, framework roll-ups, the snapshot's
//! identity and gaps), so a renderer never reads the snapshot or the catalogs. It is written as
//! `assessment.json` in every bundle and is what `diff` reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::snapshot::{Gap, Target, ToolInfo};

/// Version of the assessment document layout.
pub const SCHEMA_VERSION: u32 = 2;

pub mod fix;
pub mod migrate;
mod requirement;
mod risks;
mod selection;

pub use risks::{RiskAsset, TopRisk, TOP_RISK_THRESHOLD};

pub use requirement::{
    AppliedAttestation, AssessmentMode, AttestationRecord, AttestationState, AttestedVerdict,
    Figures, FrameworkResult, RequirementResult, RequirementState, Technical, Tone, Vocabulary,
};
pub use selection::{ConfigFileRef, ConfigValue, Configuration, SelectionRecord, ValueSource};

/// One evaluation of one snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Assessment {
    pub schema_version: u32,
    /// The tool that evaluated.
    pub tool: ToolInfo,
    /// UTC time of the evaluation (not of the collection: see `snapshot`).
    pub generated_at: DateTime<Utc>,
    /// Identity of the evidence evaluated.
    pub snapshot: SnapshotRef,
    /// Identity of the catalogs used.
    pub catalog: CatalogRef,
    /// Site parameters in effect (defaults merged with `--param`).
    pub params: BTreeMap<String, Value>,
    /// Metadata of every check evaluated, in catalog order.
    pub checks: Vec<CheckInfo>,
    /// One result per (check, resource), grouped by check in catalog order.
    pub results: Vec<CheckResult>,
    /// One roll-up per selected framework.
    pub frameworks: Vec<FrameworkResult>,
    /// Totals over `results`.
    pub summary: Summary,
    /// The waiver register: every waiver supplied with `--waivers`, whether it applied or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverRecord>,
    /// The attestation register: every attestation supplied with `--attestations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationRecord>,
    /// Earlier scans of the same host (from `--history`), oldest first; this one is not included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
    /// What is inside the images: package inventories and vulnerability evidence; absent when
    /// the snapshot has no inventory and no vulnerability input was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<crate::vuln::ImagesSection>,
    /// What `--check`, `--skip` and `--filter` left out; absent when everything was assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<SelectionRecord>,
    /// The effective configuration: the file read and where each setting came from; absent
    /// when the assessment was not made by the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Configuration>,
    /// The engagement scope declared with `--scope`; `null` when none was (reports then say so).
    #[serde(default)]
    pub scope: Option<crate::engagement::EngagementScope>,
    /// How this assessment was produced (account, command line, catalogs, input files); absent
    /// from assessments written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<crate::provenance::Provenance>,
    /// Unwaived critical and high failures by asset, as [`Assessment::compute_top_risks`] gives
    /// them when the assessment is made; every report's executive summary lists these.
    #[serde(default)]
    pub top_risks: Vec<RiskAsset>,
}

/// One earlier scan, as a trend chart plots it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrendPoint {
    /// When the evidence was collected.
    pub collected_at: DateTime<Utc>,
    pub snapshot_sha256: String,
    /// Catalogs the scan was evaluated with: where this changes between two points, figures may
    /// move because the catalog did, not the host.
    #[serde(default)]
    pub catalog_sha256: String,
    /// Where the earlier assessment was read (bundle directory or file name).
    pub source: String,
    /// Result counts per status.
    pub by_status: BTreeMap<Status, usize>,
    /// Failed results covered by a waiver.
    #[serde(default)]
    pub waived: usize,
    pub frameworks: Vec<TrendScore>,
}

impl TrendPoint {
    /// Whether scan `i` of `points` was evaluated with other catalogs than scan `i - 1` (both
    /// known): its figures may have moved because the catalog did, not the host.
    pub fn catalog_changed(points: &[TrendPoint], i: usize) -> bool {
        i > 0
            && i < points.len()
            && !points[i].catalog_sha256.is_empty()
            && !points[i - 1].catalog_sha256.is_empty()
            && points[i].catalog_sha256 != points[i - 1].catalog_sha256
    }
}

/// One framework's standing in an earlier scan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrendScore {
    pub id: String,
    pub figures: Figures,
    pub counts: BTreeMap<RequirementState, usize>,
}

impl Assessment {
    /// This assessment as a trend point, to plot after [`Self::trend`].
    pub fn trend_point(&self, source: &str) -> TrendPoint {
        TrendPoint {
            collected_at: self.snapshot.collected_until,
            snapshot_sha256: self.snapshot.sha256.clone(),
            catalog_sha256: self.catalog.sha256.clone(),
            source: source.to_string(),
            by_status: self.summary.by_status.clone(),
            waived: self.summary.waived,
            frameworks: self
                .frameworks
                .iter()
                .map(|f| TrendScore {
                    id: f.id.clone(),
                    figures: f.figures,
                    counts: f.counts.clone(),
                })
                .collect(),
        }
    }
}

/// Identity of the snapshot an assessment was computed from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotRef {
    /// SHA-256 of the snapshot file's bytes, hex.
    pub sha256: String,
    pub schema_version: u32,
    /// Tool that collected the evidence.
    pub collected_by: ToolInfo,
    pub collected_from: DateTime<Utc>,
    pub collected_until: DateTime<Utc>,
    pub include_stopped: bool,
    pub host_root: String,
    pub target: Target,
    /// Sources that could not be read during collection.
    pub gaps: Vec<Gap>,
    /// How many objects of each kind were observed.
    pub inventory: BTreeMap<String, usize>,
}

/// Identity of the catalogs an assessment used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogRef {
    /// SHA-256 over every catalog file's path and bytes, in load order, hex.
    pub sha256: String,
    /// Catalog files, `builtin:` for those shipped inside the binary.
    pub sources: Vec<String>,
}

/// How bad a failing check is.
#[derive(
    Debug,
    Clone,
    Copy,
    Serialize,
    Deserialize,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Name for people, as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "Info",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Whether a check is decided by a rule or by a person.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    #[default]
    Automated,
    Manual,
}

/// The verdict on one check for one resource.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule held.
    Pass,
    /// The rule did not hold.
    Fail,
    /// The data the rule needs was missing or the rule could not be evaluated. Never a pass.
    Error,
    /// The applicability condition was false.
    NotApplicable,
    /// A person has to decide; the prompt says what to look at.
    Manual,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Fail,
        Status::Error,
        Status::Manual,
        Status::Pass,
        Status::NotApplicable,
    ];

    /// Name for people, as reports print it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "Pass",
            Status::Fail => "Fail",
            Status::Error => "Error",
            Status::NotApplicable => "Not applicable",
            Status::Manual => "Manual",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
            Status::Manual => "manual",
        }
    }
}

/// Kinds of resource a check can apply to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// The host as a whole (docker group, audit rules, mounts).
    Host,
    /// The Docker daemon (info, version, daemon.json, dockerd flags).
    Daemon,
    /// One host file or directory the benchmark names.
    File,
    Container,
    Image,
    Network,
    Volume,
    Plugin,
    /// This node's swarm membership.
    Swarm,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Host => "host",
            ResourceKind::Daemon => "daemon",
            ResourceKind::File => "file",
            ResourceKind::Container => "container",
            ResourceKind::Image => "image",
            ResourceKind::Network => "network",
            ResourceKind::Volume => "volume",
            ResourceKind::Plugin => "plugin",
            ResourceKind::Swarm => "swarm",
        }
    }
}

/// References of a check to outside documents.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct References {
    /// CIS Docker Benchmark v1.6.0 recommendation numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cis_docker: Vec<String>,
    /// Documentation links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A framework requirement a check gives evidence for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mapping {
    pub framework: String,
    pub requirement: String,
    /// `primary` evidence decides the requirement; `supporting` evidence is shown only.
    pub role: EvidenceRole,
}

/// How much a check's result weighs for a requirement.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceRole {
    Primary,
    Supporting,
}

/// Metadata of one check, copied from the catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub rationale: String,
    pub severity: Severity,
    pub resource: ResourceKind,
    pub mode: CheckMode,
    /// What a compliant resource looks like, in words.
    pub expectation: String,
    pub remediation: String,
    /// The remediation key: the one change that makes a failing resource comply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<fix::Fix>,
    /// The exact line of [`Self::fix`] (`"icc": false`, `-w {path} -k docker`), `{path}` standing
    /// for the path each result observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_text: Option<String>,
    /// The rule as written in the catalog (empty for manual checks).
    pub rule: String,
    /// For manual checks: what the assessor should look at.
    pub prompt: Option<String>,
    pub references: References,
    /// Framework requirements this check gives evidence for.
    pub mappings: Vec<Mapping>,
}

/// What a result is about.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    /// Engine id, path or fixed name; unique within the kind in one snapshot.
    pub id: String,
    /// Name a person recognises (container name, image tag, path).
    pub name: String,
}

/// One observed value shown as evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// Label from the check's `evidence` map.
    pub label: String,
    /// The value observed, or null when it was absent.
    pub value: Value,
}

/// The verdict on one check for one resource, with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckResult {
    pub check_id: String,
    pub severity: Severity,
    pub resource: ResourceRef,
    pub status: Status,
    /// Why the result is what it is, for `error` and `manual` results especially.
    pub message: Option<String>,
    /// Observed values, in the order the check lists them.
    pub evidence: Vec<Evidence>,
    /// Where in the snapshot the resource was read (`engine.containers[3]`).
    pub source: String,
    /// When the evidence was observed (the collection time).
    pub observed_at: DateTime<Utc>,
    /// Stable identity of this finding across scans: check id plus a resource identity that
    /// survives a container being recreated (its name, not its id).
    pub fingerprint: String,
    /// Id of the active waiver covering this failure. The status keeps the underlying verdict;
    /// reports show the result as `waived`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
}

impl CheckResult {
    /// Whether an active waiver covers this result.
    pub fn is_waived(&self) -> bool {
        self.waiver.is_some()
    }

    /// The status as reports show it: `waived` for a covered failure, else the verdict.
    pub fn shown_status(&self) -> &'static str {
        if self.is_waived() {
            "waived"
        } else {
            self.status.as_str()
        }
    }

    /// [`Self::shown_status`] for people.
    pub fn shown_label(&self) -> &'static str {
        if self.is_waived() {
            "Waived"
        } else {
            self.status.label()
        }
    }
}

/// Totals over all results.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub total: usize,
    pub by_status: BTreeMap<Status, usize>,
    /// Failed results per severity (waived failures included).
    pub failed_by_severity: BTreeMap<Severity, usize>,
    /// Failed results covered by an active waiver.
    #[serde(default)]
    pub waived: usize,
}

/// How much risk the approver accepted with a waiver.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

/// Which resources a waiver covers. Every field given must match; an empty scope covers every
/// resource the check applies to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WaiverScope {
    /// Engine host name (`info.Name`), glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Container name without the leading `/`, glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Labels the container or image must carry; a value of `*` only requires the key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Image reference (`repo:tag` or `repo@digest`) of the image, or of a container's image, glob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl WaiverScope {
    /// The scope as `host …`, `container …`, `image …` and `label k=v` lines, as reports show
    /// it; empty when the waiver covers every resource of its check.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        lines.extend(self.host.as_ref().map(|h| format!("host {h}")));
        lines.extend(self.container.as_ref().map(|c| format!("container {c}")));
        lines.extend(self.image.as_ref().map(|i| format!("image {i}")));
        lines.extend(self.labels.iter().map(|(k, v)| format!("label {k}={v}")));
        lines
    }
}

/// Whether a waiver applied in this evaluation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    /// In force and covering at least one failure.
    Active,
    /// In force but covering no failure: stale, or its scope is wrong.
    Unused,
    /// Past its expiry date: it no longer applies.
    Expired,
    /// Granted for a later date: it does not apply yet.
    NotYetValid,
}

impl WaiverState {
    pub fn as_str(self) -> &'static str {
        match self {
            WaiverState::Active => "active",
            WaiverState::Unused => "unused",
            WaiverState::Expired => "expired",
            WaiverState::NotYetValid => "not_yet_valid",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WaiverState::Active => "Active",
            WaiverState::Unused => "Matches nothing",
            WaiverState::Expired => "Expired",
            WaiverState::NotYetValid => "Not yet valid",
        }
    }
}

/// One entry of the waiver register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverRecord {
    /// Given in the file, or `W-<n>` for the n-th entry.
    pub id: String,
    pub check_id: String,
    pub scope: WaiverScope,
    pub justification: String,
    pub approved_by: Option<String>,
    pub granted: Option<chrono::NaiveDate>,
    pub expires: Option<chrono::NaiveDate>,
    pub risk: Option<Risk>,
    pub ticket: Option<String>,
    pub compensating_control: Option<String>,
    /// `file:line` of the entry.
    pub source: String,
    pub state: WaiverState,
    /// Failures this waiver covers.
    pub covered: usize,
    /// Fingerprints of the failures covered, for diffs between scans.
    #[serde(default)]
    pub covered_fingerprints: Vec<String>,
}

impl Assessment {
    /// Metadata of a check by id.
    pub fn check(&self, id: &str) -> Option<&CheckInfo> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// Why a requirement's failures stand accepted: `risk accepted under waiver W-1 (expires
    /// 2027-01-31)`, naming every waiver that covers a deciding failure; `None` when none does.
    /// Every report words a waived requirement with this one sentence.
    pub fn waiver_note(&self, req: &RequirementResult) -> Option<String> {
        if req.waivers.is_empty() {
            return None;
        }
        let named: Vec<String> = req
            .waivers
            .iter()
            .map(|id| match self.waiver(id).and_then(|w| w.expires) {
                Some(date) => format!("{id} (expires {date})"),
                None => format!("{id} (no expiry)"),
            })
            .collect();
        let noun = if named.len() == 1 {
            "waiver"
        } else {
            "waivers"
        };
        let unwaived = req.counts.get(&Status::Fail).copied().unwrap_or(0)
            - req
                .waived
                .min(req.counts.get(&Status::Fail).copied().unwrap_or(0));
        let rest = if unwaived > 0 {
            format!("; {unwaived} deciding failure(s) not waived")
        } else {
            String::new()
        };
        Some(format!(
            "{} failure(s) waived: risk accepted under {noun} {}{rest}",
            req.waived,
            named.join(", ")
        ))
    }

    /// A waiver of the register by id.
    pub fn waiver(&self, id: &str) -> Option<&WaiverRecord> {
        self.waivers.iter().find(|w| w.id == id)
    }

    /// Whether any failed result not covered by a waiver is at or above `threshold`.
    pub fn has_failures_at_or_above(&self, threshold: Severity) -> bool {
        self.results
            .iter()
            .any(|r| r.status == Status::Fail && !r.is_waived() && r.severity >= threshold)
    }
}
