//! The HTML report's view model: every string, count, anchor and link the template shows,
//! computed here so the template only loops and prints. This file holds the page and its header;
//! `sections.rs` the matrix and catalogue; `findings.rs` writes the findings sections directly.
//!
//! Host-derived strings (names, ids, paths, messages, evidence) stay plain text in this model and
//! are escaped by the template on output. Anchors are slugs from [`super::anchors`]. Links to
//! outside documents are kept only when they start with `https://`; anything else is shown as
//! text. Evidence values are compact JSON so `"true"` and `true` stay distinct.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::counts::{self, Chart};
use super::findings::requirement_finding_count;
use super::index::Index;
use super::registers::{self, AttestationView, RegisterCounts, TrendView, WaiverView};
use super::sections::{CheckView, FrameworkView};
use crate::assessment::{Assessment, RequirementState, ResourceKind, Severity, Status, Vocabulary};

/// Reports with at most this many filterable entries start with every group open.
const OPEN_LIMIT: usize = 80;

/// The whole report.
#[derive(Serialize)]
pub(super) struct Report {
    title: String,
    /// `dockproof 0.1.0`: the tool that evaluated.
    tool: String,
    collected_from: String,
    collected_until: String,
    snapshot_sha256: String,
    target: Vec<Field>,
    provenance: Vec<Field>,
    inventory: Vec<Field>,
    params: Vec<Field>,
    catalog_sources: Vec<String>,
    /// Collection gaps: source → error.
    gaps: Vec<Field>,
    /// What `--check`, `--skip` and `--filter` left out, as lines; empty when nothing was.
    selection: Vec<String>,
    /// The effective configuration, as lines (file, then each setting and its source).
    configuration: Vec<String>,
    summary: SummaryView,
    frameworks: Vec<FrameworkView>,
    checks: Vec<CheckView>,
    filters: Filters,
    /// Entries the filters act on (a result can appear under several requirements too).
    finding_count: usize,
    /// Small reports open every group; large ones start collapsed.
    open: bool,
    waivers: Vec<WaiverView>,
    attestations: Vec<AttestationView>,
    registers: RegisterCounts,
    /// Requirement counts over earlier scans, with `--history`.
    trend: Option<TrendView>,
    /// What the requirement evidence states mean.
    legend: Vec<LegendRow>,
    /// Marking, scope, top risks and run provenance.
    engagement: super::engagement::EngagementView,
}

#[derive(Serialize)]
struct LegendRow {
    tone: &'static str,
    label: &'static str,
    meaning: &'static str,
    /// `CIS Docker Benchmark: Fail; …`, or empty.
    also: String,
}

/// A label and its value (also used for `<option>`: label shown, value submitted).
#[derive(Serialize)]
pub(super) struct Field {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct SummaryView {
    total: usize,
    failed: usize,
    /// Failed results covered by an active waiver.
    waived: usize,
    by_status: Chart,
    failed_by_severity: Chart,
}

#[derive(Serialize)]
struct Filters {
    frameworks: Vec<Field>,
    statuses: Vec<Field>,
    /// Requirement evidence states present in the report, worst first, in generic words (the
    /// matrix shows each framework's own).
    states: Vec<Field>,
    severities: Vec<Field>,
    kinds: Vec<Field>,
}

pub(super) fn field(label: &str, value: impl Into<String>) -> Field {
    Field {
        label: label.to_string(),
        value: value.into(),
    }
}

pub(super) fn reported(label: &str, value: &Option<String>) -> Field {
    field(label, value.as_deref().unwrap_or("not reported"))
}

pub(super) fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn https_only(url: &str) -> Option<String> {
    url.starts_with("https://").then(|| url.to_string())
}

pub(super) fn compact(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

impl Report {
    /// Whether every group starts open.
    pub(super) fn open(&self) -> bool {
        self.open
    }
}

/// Builds the view model of `a`, all but the findings sections (see `findings.rs`).
pub(super) fn build(a: &Assessment, ix: &Index) -> Report {
    let frameworks: Vec<FrameworkView> = a.frameworks.iter().map(|fw| ix.framework(fw)).collect();
    let finding_count = (a.frameworks.iter())
        .flat_map(|fw| &fw.requirements)
        .map(|req| requirement_finding_count(ix, req))
        .sum::<usize>()
        + a.results.len();

    let s = &a.snapshot;
    let t = &s.target;
    let hostname = t.hostname.as_deref().unwrap_or(&t.docker_host);
    let tool = format!("{} {}", a.tool.name, a.tool.version);
    let mut kinds: Vec<ResourceKind> = a.results.iter().map(|r| r.resource.kind).collect();
    kinds.sort();
    kinds.dedup();
    let option = |value: &str, label: &str| field(label, value);

    Report {
        engagement: super::engagement::build(a, ix),
        title: format!("Docker host assessment: {hostname}"),
        target: vec![
            field("Docker host", t.endpoint_label()),
            reported("Host name", &t.hostname),
            reported("Engine version", &t.engine_version),
            reported("API version", &t.api_version),
            reported("Operating system", &t.os),
            reported("Kernel", &t.kernel),
            reported("Architecture", &t.architecture),
            reported("Engine ID", &t.engine_id),
        ],
        provenance: vec![
            field("Collected from (UTC)", iso(&s.collected_from)),
            field("Collected until (UTC)", iso(&s.collected_until)),
            field(
                "Collected by",
                format!("{} {}", s.collected_by.name, s.collected_by.version),
            ),
            field("Evaluated at (UTC)", iso(&a.generated_at)),
            field("Evaluated by", tool.clone()),
            field("Snapshot SHA-256", &s.sha256),
            field("Snapshot schema", s.schema_version.to_string()),
            field("Catalog SHA-256", &a.catalog.sha256),
            field(
                "Stopped containers included",
                if s.include_stopped { "yes" } else { "no" },
            ),
            field("Host root", &s.host_root),
        ],
        tool,
        collected_from: iso(&s.collected_from),
        collected_until: iso(&s.collected_until),
        snapshot_sha256: s.sha256.clone(),
        inventory: s
            .inventory
            .iter()
            .map(|(k, v)| field(k, v.to_string()))
            .collect(),
        params: a.params.iter().map(|(k, v)| field(k, compact(v))).collect(),
        catalog_sources: a.catalog.sources.clone(),
        gaps: s.gaps.iter().map(|g| field(&g.source, &g.error)).collect(),
        selection: (a.selection.as_ref()).map_or_else(Vec::new, |x| x.lines()),
        configuration: (a.configuration.as_ref()).map_or_else(Vec::new, |c| c.lines()),
        summary: SummaryView {
            total: a.summary.total,
            failed: a.summary.by_status.get(&Status::Fail).copied().unwrap_or(0),
            waived: a.summary.waived,
            by_status: counts::status_chart(&a.summary.by_status),
            failed_by_severity: counts::severity_chart(&a.summary.failed_by_severity),
        },
        filters: Filters {
            frameworks: (a.frameworks.iter())
                .map(|f| option(&ix.framework_slug(&f.id), &f.name))
                .collect(),
            statuses: (Status::ALL.iter())
                .map(|s| option(s.as_str(), s.label()))
                .chain((a.summary.waived > 0).then(|| option("waived", "Waived")))
                .collect(),
            states: (RequirementState::ALL.iter())
                .filter(|s| (a.frameworks.iter()).any(|f| f.counts.get(s).is_some_and(|n| *n > 0)))
                .map(|s| option(s.as_str(), s.label(Vocabulary::Generic)))
                .collect(),
            severities: (Severity::ALL.iter())
                .map(|s| option(s.as_str(), s.label()))
                .collect(),
            kinds: kinds
                .iter()
                .map(|k| option(k.as_str(), k.as_str()))
                .collect(),
        },
        checks: a.checks.iter().map(|c| ix.check(c)).collect(),
        frameworks,
        finding_count,
        open: finding_count <= OPEN_LIMIT,
        waivers: registers::waivers(a),
        attestations: registers::attestations(a),
        registers: registers::register_counts(a),
        trend: registers::trend(a),
        legend: super::legend::entries(a)
            .into_iter()
            .map(|e| LegendRow {
                tone: e.state.tone().as_str(),
                label: e.label,
                meaning: e.meaning,
                also: e.also.join("; "),
            })
            .collect(),
    }
}
