//! The HTML report's view model: every string, count, anchor and chart coordinate the template
//! shows, computed here so the template only loops and prints.
//!
//! Everything derived from the host (names, ids, paths, messages, evidence) stays plain text in
//! this model; the template escapes it on output. Anchors built from those strings are slugs
//! (`[a-z0-9-]` only) made unique here, so they are safe in `id`, `href` and `data-*` attributes.
//! Links to outside documents are kept only when they start with `https://`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::assessment::{
    Assessment, CheckInfo, CheckMode, CheckResult, EvidenceRole, RequirementStatus, ResourceKind,
    ResourceRef, Severity, Status,
};

/// The whole report.
#[derive(Serialize)]
pub(super) struct Report {
    title: String,
    hostname: String,
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
    gaps: Vec<Field>,
    summary: SummaryView,
    frameworks: Vec<FrameworkView>,
    resources: Vec<ResourceView>,
    checks: Vec<CheckView>,
    filters: Filters,
    /// Entries the filters act on (a result can appear more than once).
    finding_count: usize,
    /// Small reports open every group; large ones start collapsed.
    open: bool,
}

#[derive(Serialize, Clone)]
struct Field {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct SummaryView {
    total: usize,
    failed: usize,
    by_status: Chart,
    failed_by_severity: Chart,
}

/// A horizontal bar chart; coordinates in SVG user units.
#[derive(Serialize)]
struct Chart {
    height: u32,
    label: String,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    key: &'static str,
    label: &'static str,
    count: usize,
    y: u32,
    width: u32,
    text_x: u32,
}

/// A label with its count, for legends and badges.
#[derive(Serialize)]
struct Chip {
    key: &'static str,
    label: &'static str,
    count: usize,
}

/// One segment of a 100%-wide stacked bar, in units of 1/1000 of the width.
#[derive(Serialize)]
struct Segment {
    key: &'static str,
    label: &'static str,
    count: usize,
    percent: String,
    x: u32,
    width: u32,
}

#[derive(Serialize)]
struct FrameworkView {
    id: String,
    slug: String,
    name: String,
    version: String,
    publisher: String,
    url: Option<String>,
    description: String,
    total: usize,
    /// Whether any requirement has a level (HIPAA), so the column is shown.
    has_levels: bool,
    segments: Vec<Segment>,
    requirements: Vec<RequirementView>,
}

#[derive(Serialize)]
struct RequirementView {
    id: String,
    anchor: String,
    title: String,
    section: String,
    level: String,
    mode: &'static str,
    status: &'static str,
    status_label: &'static str,
    checks: Vec<CheckLink>,
    supporting: Vec<CheckLink>,
    counts: Vec<Chip>,
    prompt: Option<String>,
    /// fail, error and manual results of its checks, deciding checks first.
    findings: Vec<ResultView>,
    /// Results not shown as findings (pass, not applicable).
    passed: usize,
    not_applicable: usize,
}

#[derive(Serialize, Clone)]
struct CheckLink {
    id: String,
    /// Absent when the check is not in this assessment.
    anchor: Option<String>,
}

/// One result of one check on one resource.
#[derive(Serialize, Clone)]
struct ResultView {
    check: CheckLink,
    check_title: String,
    role: &'static str,
    severity: &'static str,
    status: &'static str,
    status_label: &'static str,
    kind: &'static str,
    resource_name: String,
    resource_id: String,
    resource_anchor: String,
    message: Option<String>,
    evidence: Vec<Field>,
    expectation: String,
    remediation: String,
    source: String,
    observed_at: String,
    fingerprint: String,
    /// Space-separated framework slugs the check maps to (for `data-fw`).
    frameworks: String,
    /// Lower-cased text the search box matches against.
    search: String,
}

#[derive(Serialize)]
struct ResourceView {
    kind: &'static str,
    name: String,
    id: String,
    anchor: String,
    counts: Vec<Chip>,
    results: Vec<ResultView>,
}

#[derive(Serialize)]
struct CheckView {
    id: String,
    anchor: String,
    title: String,
    severity: &'static str,
    kind: &'static str,
    mode: &'static str,
    description: String,
    rationale: String,
    rule: String,
    expectation: String,
    remediation: String,
    prompt: Option<String>,
    cis: Vec<String>,
    links: Vec<Link>,
    mappings: Vec<MappingView>,
    counts: Vec<Chip>,
}

#[derive(Serialize)]
struct Link {
    text: String,
    href: Option<String>,
}

#[derive(Serialize)]
struct MappingView {
    framework: String,
    requirement: String,
    anchor: Option<String>,
    role: &'static str,
}

#[derive(Serialize)]
struct Filters {
    frameworks: Vec<Field>,
    statuses: Vec<Field>,
    severities: Vec<Field>,
    kinds: Vec<Field>,
}

/// Turns any string into `[a-z0-9-]+` (at most 64 characters).
pub(super) fn slug(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 64 {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "x".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Hands out anchors that are unique in the page, suffixing `-2`, `-3`… on collisions.
#[derive(Default)]
struct Anchors(HashSet<String>);

impl Anchors {
    fn make(&mut self, prefix: &str, raw: &str) -> String {
        let base = format!("{prefix}-{}", slug(raw));
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.0.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }
}

fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "Pass",
        Status::Fail => "Fail",
        Status::Error => "Error",
        Status::NotApplicable => "Not applicable",
        Status::Manual => "Manual",
    }
}

fn requirement_label(s: RequirementStatus) -> &'static str {
    match s {
        RequirementStatus::Satisfied => "Satisfied",
        RequirementStatus::NotSatisfied => "Not satisfied",
        RequirementStatus::Partial => "Partial",
        RequirementStatus::Manual => "Manual",
        RequirementStatus::NotApplicable => "Not applicable",
        RequirementStatus::Error => "Error",
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// Results in display order: what needs attention first, then by severity.
fn sorted(mut v: Vec<&CheckResult>) -> Vec<&CheckResult> {
    v.sort_by_key(|r| (status_rank(r.status), std::cmp::Reverse(r.severity)));
    v
}

/// Display order: what needs attention first.
fn status_rank(s: Status) -> usize {
    Status::ALL
        .iter()
        .position(|x| *x == s)
        .unwrap_or(usize::MAX)
}

fn is_finding(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Error | Status::Manual)
}

fn https_only(url: &str) -> Option<String> {
    url.starts_with("https://").then(|| url.to_string())
}

/// Evidence values as compact JSON, so `"true"` and `true` stay distinct.
fn compact(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// Reports with at most this many finding entries start with every group open.
const OPEN_LIMIT: usize = 80;

const CHART_LABEL_WIDTH: u32 = 120;
const CHART_BAR_MAX: u32 = 360;
const CHART_ROW: u32 = 26;

fn chart(name: &str, rows: Vec<(&'static str, &'static str, usize)>) -> Chart {
    let max = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1);
    let label = rows
        .iter()
        .map(|(_, l, n)| format!("{l}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (key, label, count))| {
            // Any non-zero count gets at least a sliver, so it is never read as zero.
            let width = match count {
                0 => 0,
                n => ((n as u64 * u64::from(CHART_BAR_MAX)) / max as u64).max(3) as u32,
            };
            Bar {
                key,
                label,
                count,
                y: i as u32 * CHART_ROW + 4,
                width,
                text_x: CHART_LABEL_WIDTH + width + 6,
            }
        })
        .collect::<Vec<_>>();
    Chart {
        height: bars.len() as u32 * CHART_ROW + 8,
        label: format!("{name}: {label}"),
        bars,
    }
}

fn status_chips(counts: &BTreeMap<Status, usize>) -> Vec<Chip> {
    Status::ALL
        .iter()
        .filter_map(|s| {
            let n = counts.get(s).copied().unwrap_or(0);
            (n > 0).then(|| Chip {
                key: s.as_str(),
                label: status_label(*s),
                count: n,
            })
        })
        .collect()
}

fn segments(counts: &BTreeMap<RequirementStatus, usize>, total: usize) -> Vec<Segment> {
    let mut cumulative = 0usize;
    let scale = |n: usize| {
        if total == 0 {
            0
        } else {
            (n * 1000 / total) as u32
        }
    };
    RequirementStatus::ALL
        .iter()
        .map(|s| {
            let count = counts.get(s).copied().unwrap_or(0);
            let x = scale(cumulative);
            cumulative += count;
            let percent = if total == 0 {
                0.0
            } else {
                count as f64 * 100.0 / total as f64
            };
            Segment {
                key: s.as_str(),
                label: requirement_label(*s),
                count,
                percent: format!("{percent:.0}%"),
                x,
                width: scale(cumulative) - x,
            }
        })
        .collect()
}

/// Lookup tables shared by the builders.
struct Index<'a> {
    checks: HashMap<&'a str, &'a CheckInfo>,
    check_anchor: HashMap<&'a str, String>,
    resource_anchor: HashMap<&'a ResourceRef, String>,
    requirement_anchor: HashMap<(&'a str, &'a str), String>,
    framework_slug: HashMap<&'a str, String>,
    framework_name: HashMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    fn new(a: &'a Assessment) -> Self {
        let mut anchors = Anchors::default();
        let mut ix = Index {
            checks: a.checks.iter().map(|c| (c.id.as_str(), c)).collect(),
            check_anchor: HashMap::new(),
            resource_anchor: HashMap::new(),
            requirement_anchor: HashMap::new(),
            framework_slug: HashMap::new(),
            framework_name: HashMap::new(),
        };
        for c in &a.checks {
            let anchor = anchors.make("check", &c.id);
            ix.check_anchor.entry(&c.id).or_insert(anchor);
        }
        for fw in &a.frameworks {
            let fw_slug = anchors.make("fw", &fw.id);
            for r in &fw.requirements {
                let anchor = anchors.make(&format!("req-{}", slug(&fw.id)), &r.id);
                ix.requirement_anchor
                    .entry((&fw.id, &r.id))
                    .or_insert(anchor);
            }
            ix.framework_slug.entry(&fw.id).or_insert(fw_slug);
            ix.framework_name.entry(&fw.id).or_insert(&fw.name);
        }
        for r in &a.results {
            if !ix.resource_anchor.contains_key(&r.resource) {
                let name = if r.resource.name.is_empty() {
                    &r.resource.id
                } else {
                    &r.resource.name
                };
                let anchor = anchors.make(&format!("res-{}", r.resource.kind.as_str()), name);
                ix.resource_anchor.insert(&r.resource, anchor);
            }
        }
        ix
    }

    fn link(&self, check_id: &str) -> CheckLink {
        CheckLink {
            id: check_id.to_string(),
            anchor: self.check_anchor.get(check_id).cloned(),
        }
    }

    fn result(&self, r: &CheckResult, role: EvidenceRole) -> ResultView {
        let info = self.checks.get(r.check_id.as_str());
        let frameworks = info
            .map(|c| {
                let mut slugs: Vec<&str> = c
                    .mappings
                    .iter()
                    .filter_map(|m| {
                        self.framework_slug
                            .get(m.framework.as_str())
                            .map(String::as_str)
                    })
                    .collect();
                slugs.sort_unstable();
                slugs.dedup();
                slugs.join(" ")
            })
            .unwrap_or_default();
        let title = info.map(|c| c.title.clone()).unwrap_or_default();
        let message = r.message.clone();
        let search = [
            r.check_id.as_str(),
            title.as_str(),
            r.resource.kind.as_str(),
            r.resource.name.as_str(),
            r.resource.id.as_str(),
            message.as_deref().unwrap_or(""),
        ]
        .join(" ")
        .to_lowercase();
        ResultView {
            check: self.link(&r.check_id),
            check_title: title,
            role: match role {
                EvidenceRole::Primary => "deciding",
                EvidenceRole::Supporting => "supporting",
            },
            severity: r.severity.as_str(),
            status: r.status.as_str(),
            status_label: status_label(r.status),
            kind: r.resource.kind.as_str(),
            resource_name: r.resource.name.clone(),
            resource_id: r.resource.id.clone(),
            resource_anchor: self
                .resource_anchor
                .get(&r.resource)
                .cloned()
                .unwrap_or_default(),
            message,
            evidence: r
                .evidence
                .iter()
                .map(|e| Field {
                    label: e.label.clone(),
                    value: compact(&e.value),
                })
                .collect(),
            expectation: info.map(|c| c.expectation.clone()).unwrap_or_default(),
            remediation: info.map(|c| c.remediation.clone()).unwrap_or_default(),
            source: r.source.clone(),
            observed_at: iso(&r.observed_at),
            fingerprint: r.fingerprint.clone(),
            frameworks,
            search,
        }
    }
}

/// Builds the view model of `a`.
pub(super) fn build(a: &Assessment) -> Report {
    let ix = Index::new(a);
    let mut by_check: HashMap<&str, Vec<&CheckResult>> = HashMap::new();
    for r in &a.results {
        by_check.entry(&r.check_id).or_default().push(r);
    }

    let frameworks = a
        .frameworks
        .iter()
        .map(|fw| {
            let fw_slug = ix
                .framework_slug
                .get(fw.id.as_str())
                .cloned()
                .unwrap_or_default();
            let requirements = fw
                .requirements
                .iter()
                .map(|req| {
                    let mut findings = Vec::new();
                    let (mut passed, mut not_applicable) = (0, 0);
                    let roles = req
                        .checks
                        .iter()
                        .map(|c| (c, EvidenceRole::Primary))
                        .chain(req.supporting.iter().map(|c| (c, EvidenceRole::Supporting)));
                    for (check_id, role) in roles {
                        let results = by_check.get(check_id.as_str()).cloned().unwrap_or_default();
                        for r in sorted(results) {
                            match r.status {
                                Status::Pass => passed += 1,
                                Status::NotApplicable => not_applicable += 1,
                                _ => {
                                    // Under a requirement, an entry belongs to that framework only.
                                    let mut v = ix.result(r, role);
                                    v.frameworks = fw_slug.clone();
                                    findings.push(v);
                                }
                            }
                        }
                    }
                    RequirementView {
                        id: req.id.clone(),
                        anchor: ix
                            .requirement_anchor
                            .get(&(fw.id.as_str(), req.id.as_str()))
                            .cloned()
                            .unwrap_or_default(),
                        title: req.title.clone(),
                        section: req.section.clone().unwrap_or_default(),
                        level: req.level.clone().unwrap_or_default(),
                        mode: match req.mode {
                            crate::assessment::AssessmentMode::Automated => "automated",
                            crate::assessment::AssessmentMode::Partial => "partial",
                            crate::assessment::AssessmentMode::Manual => "manual",
                        },
                        status: req.status.as_str(),
                        status_label: requirement_label(req.status),
                        checks: req.checks.iter().map(|c| ix.link(c)).collect(),
                        supporting: req.supporting.iter().map(|c| ix.link(c)).collect(),
                        counts: status_chips(&req.counts),
                        prompt: req.prompt.clone(),
                        findings,
                        passed,
                        not_applicable,
                    }
                })
                .collect();
            FrameworkView {
                id: fw.id.clone(),
                slug: ix
                    .framework_slug
                    .get(fw.id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                name: fw.name.clone(),
                version: fw.version.clone(),
                publisher: fw.publisher.clone(),
                url: fw.url.as_deref().and_then(https_only),
                description: fw.description.clone(),
                total: fw.requirements.len(),
                has_levels: fw.requirements.iter().any(|r| r.level.is_some()),
                segments: segments(&fw.counts, fw.requirements.len()),
                requirements,
            }
        })
        .collect::<Vec<_>>();

    let mut per_resource: HashMap<&ResourceRef, Vec<&CheckResult>> = HashMap::new();
    for r in &a.results {
        per_resource.entry(&r.resource).or_default().push(r);
    }
    let mut per_resource: Vec<(&ResourceRef, Vec<&CheckResult>)> =
        per_resource.into_iter().collect();
    // Resources with something to look at first, then by kind and name.
    per_resource.sort_by_key(|(res, results)| {
        let quiet = !results.iter().any(|r| is_finding(r.status));
        (quiet, res.kind, res.name.as_str(), res.id.as_str())
    });
    let resources: Vec<ResourceView> = per_resource
        .into_iter()
        .map(|(res, results)| {
            let mut counts = BTreeMap::new();
            for r in &results {
                *counts.entry(r.status).or_default() += 1;
            }
            ResourceView {
                kind: res.kind.as_str(),
                name: res.name.clone(),
                id: res.id.clone(),
                anchor: ix.resource_anchor.get(res).cloned().unwrap_or_default(),
                counts: status_chips(&counts),
                results: sorted(results)
                    .into_iter()
                    .map(|r| ix.result(r, EvidenceRole::Primary))
                    .collect(),
            }
        })
        .collect();

    let checks = a
        .checks
        .iter()
        .map(|c| {
            let mut counts = BTreeMap::new();
            for r in by_check.get(c.id.as_str()).into_iter().flatten() {
                *counts.entry(r.status).or_default() += 1;
            }
            CheckView {
                id: c.id.clone(),
                anchor: ix
                    .check_anchor
                    .get(c.id.as_str())
                    .cloned()
                    .unwrap_or_default(),
                title: c.title.clone(),
                severity: c.severity.as_str(),
                kind: c.resource.as_str(),
                mode: match c.mode {
                    CheckMode::Automated => "automated",
                    CheckMode::Manual => "manual",
                },
                description: c.description.clone(),
                rationale: c.rationale.clone(),
                rule: c.rule.clone(),
                expectation: c.expectation.clone(),
                remediation: c.remediation.clone(),
                prompt: c.prompt.clone(),
                cis: c.references.cis_docker.clone(),
                links: c
                    .references
                    .links
                    .iter()
                    .map(|l| Link {
                        text: l.clone(),
                        href: https_only(l),
                    })
                    .collect(),
                mappings: c
                    .mappings
                    .iter()
                    .map(|m| MappingView {
                        framework: ix
                            .framework_name
                            .get(m.framework.as_str())
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| m.framework.clone()),
                        requirement: m.requirement.clone(),
                        anchor: ix
                            .requirement_anchor
                            .get(&(m.framework.as_str(), m.requirement.as_str()))
                            .cloned(),
                        role: match m.role {
                            EvidenceRole::Primary => "deciding",
                            EvidenceRole::Supporting => "supporting",
                        },
                    })
                    .collect(),
                counts: status_chips(&counts),
            }
        })
        .collect();

    let field = |label: &str, value: Option<&String>| Field {
        label: label.to_string(),
        value: value.cloned().unwrap_or_else(|| "not reported".to_string()),
    };
    let s = &a.snapshot;
    let t = &s.target;
    let hostname = t.hostname.clone().unwrap_or_else(|| t.docker_host.clone());
    let kinds: Vec<ResourceKind> = {
        let mut k: Vec<ResourceKind> = a.results.iter().map(|r| r.resource.kind).collect();
        k.sort();
        k.dedup();
        k
    };
    let summary = &a.summary;
    let finding_count = frameworks
        .iter()
        .flat_map(|f| &f.requirements)
        .map(|r| r.findings.len())
        .sum::<usize>()
        + resources.iter().map(|r| r.results.len()).sum::<usize>();
    Report {
        title: format!("Docker host assessment: {hostname}"),
        target: vec![
            field("Docker host", Some(&t.docker_host)),
            field("Host name", t.hostname.as_ref()),
            field("Engine version", t.engine_version.as_ref()),
            field("API version", t.api_version.as_ref()),
            field("Operating system", t.os.as_ref()),
            field("Kernel", t.kernel.as_ref()),
            field("Architecture", t.architecture.as_ref()),
            field("Engine ID", t.engine_id.as_ref()),
        ],
        hostname,
        tool: format!("{} {}", a.tool.name, a.tool.version),
        collected_from: iso(&s.collected_from),
        collected_until: iso(&s.collected_until),
        snapshot_sha256: s.sha256.clone(),
        provenance: vec![
            field("Collected from (UTC)", Some(&iso(&s.collected_from))),
            field("Collected until (UTC)", Some(&iso(&s.collected_until))),
            field(
                "Collected by",
                Some(&format!(
                    "{} {}",
                    s.collected_by.name, s.collected_by.version
                )),
            ),
            field("Evaluated at (UTC)", Some(&iso(&a.generated_at))),
            field(
                "Evaluated by",
                Some(&format!("{} {}", a.tool.name, a.tool.version)),
            ),
            field("Snapshot SHA-256", Some(&s.sha256)),
            field("Snapshot schema", Some(&s.schema_version.to_string())),
            field("Catalog SHA-256", Some(&a.catalog.sha256)),
            field(
                "Stopped containers included",
                Some(&if s.include_stopped { "yes" } else { "no" }.to_string()),
            ),
            field("Host root", Some(&s.host_root)),
        ],
        inventory: s
            .inventory
            .iter()
            .map(|(k, v)| Field {
                label: k.clone(),
                value: v.to_string(),
            })
            .collect(),
        params: a
            .params
            .iter()
            .map(|(k, v)| Field {
                label: k.clone(),
                value: compact(v),
            })
            .collect(),
        catalog_sources: a.catalog.sources.clone(),
        gaps: s
            .gaps
            .iter()
            .map(|g| Field {
                label: g.source.clone(),
                value: g.error.clone(),
            })
            .collect(),
        summary: SummaryView {
            total: summary.total,
            failed: summary.by_status.get(&Status::Fail).copied().unwrap_or(0),
            by_status: chart(
                "Results by status",
                Status::ALL
                    .iter()
                    .map(|st| {
                        (
                            st.as_str(),
                            status_label(*st),
                            summary.by_status.get(st).copied().unwrap_or(0),
                        )
                    })
                    .collect(),
            ),
            failed_by_severity: chart(
                "Failed results by severity",
                Severity::ALL
                    .iter()
                    .map(|sv| {
                        (
                            sv.as_str(),
                            severity_label(*sv),
                            summary.failed_by_severity.get(sv).copied().unwrap_or(0),
                        )
                    })
                    .collect(),
            ),
        },
        filters: Filters {
            frameworks: a
                .frameworks
                .iter()
                .map(|f| Field {
                    label: f.name.clone(),
                    value: ix
                        .framework_slug
                        .get(f.id.as_str())
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect(),
            statuses: Status::ALL
                .iter()
                .map(|s| Field {
                    label: status_label(*s).into(),
                    value: s.as_str().into(),
                })
                .collect(),
            severities: Severity::ALL
                .iter()
                .map(|s| Field {
                    label: severity_label(*s).into(),
                    value: s.as_str().into(),
                })
                .collect(),
            kinds: kinds
                .iter()
                .map(|k| Field {
                    label: k.as_str().into(),
                    value: k.as_str().into(),
                })
                .collect(),
        },
        frameworks,
        resources,
        checks,
        finding_count,
        open: finding_count <= OPEN_LIMIT,
    }
}
