//! View models of the report's sections: the requirement matrix, findings by requirement,
//! findings by resource and the check catalogue, with the lookups and anchors they share.
//! See `view.rs` for the rules every value here follows.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::anchors::{slug, Anchors};
use super::counts::{self, Chip, Segment};
use super::view::{compact, field, https_only, iso, Field};
use crate::assessment::{
    Assessment, AssessmentMode, CheckInfo, CheckMode, CheckResult, EvidenceRole, FrameworkResult,
    RequirementResult, ResourceRef, Status,
};

#[derive(Serialize)]
pub(super) struct FrameworkView {
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
    /// Per check (deciding first), its fail, error and manual results.
    groups: Vec<FindingGroup>,
    finding_count: usize,
    /// Results counted but not listed here (they are under "Findings by resource").
    passed: usize,
    not_applicable: usize,
}

/// The findings of one check under one requirement; check metadata is shown once.
#[derive(Serialize)]
struct FindingGroup {
    check: CheckLink,
    title: String,
    severity: &'static str,
    role: &'static str,
    expectation: String,
    remediation: String,
    results: Vec<ResultView>,
}

#[derive(Serialize)]
struct CheckLink {
    id: String,
    /// Absent when the check is not in this assessment.
    anchor: Option<String>,
}

/// One result of one check on one resource.
#[derive(Serialize)]
struct ResultView {
    check: CheckLink,
    check_title: String,
    severity: &'static str,
    status: &'static str,
    status_label: &'static str,
    kind: &'static str,
    resource_name: String,
    resource_id: String,
    resource_anchor: String,
    message: Option<String>,
    evidence: Vec<Field>,
    source: String,
    observed_at: String,
    /// Space-separated framework slugs, for `data-fw`.
    frameworks: String,
    /// Lower-cased text the search box matches against.
    search: String,
}

#[derive(Serialize)]
pub(super) struct ResourceView {
    kind: &'static str,
    name: String,
    id: String,
    anchor: String,
    counts: Vec<Chip>,
    results: Vec<ResultView>,
}

#[derive(Serialize)]
pub(super) struct CheckView {
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

fn role_name(role: EvidenceRole) -> &'static str {
    match role {
        EvidenceRole::Primary => "deciding",
        EvidenceRole::Supporting => "supporting",
    }
}

/// Failed, error and manual results are findings: someone has to act on them.
fn is_finding(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Error | Status::Manual)
}

/// Results in reading order: what needs attention first, then by severity.
fn sorted(mut v: Vec<&CheckResult>) -> Vec<&CheckResult> {
    let rank = |s: Status| Status::ALL.iter().position(|x| *x == s);
    v.sort_by_key(|r| (rank(r.status), std::cmp::Reverse(r.severity)));
    v
}

fn status_counts<'r>(results: impl IntoIterator<Item = &'r CheckResult>) -> Vec<Chip> {
    let mut counts = BTreeMap::new();
    for r in results {
        *counts.entry(r.status).or_default() += 1;
    }
    counts::status_chips(&counts)
}

impl FrameworkView {
    /// Finding entries listed under this framework's requirements.
    pub(super) fn finding_count(&self) -> usize {
        self.requirements.iter().map(|r| r.finding_count).sum()
    }
}

/// Lookups and anchors shared by the builders.
pub(super) struct Index<'a> {
    checks: HashMap<&'a str, &'a CheckInfo>,
    results_by_check: HashMap<&'a str, Vec<&'a CheckResult>>,
    check_anchor: HashMap<&'a str, String>,
    resource_anchor: HashMap<&'a ResourceRef, String>,
    requirement_anchor: HashMap<(&'a str, &'a str), String>,
    framework_slug: HashMap<&'a str, String>,
    framework_name: HashMap<&'a str, &'a str>,
}

impl<'a> Index<'a> {
    pub(super) fn new(a: &'a Assessment) -> Self {
        let mut anchors = Anchors::default();
        let mut ix = Index {
            checks: a.checks.iter().map(|c| (c.id.as_str(), c)).collect(),
            results_by_check: HashMap::new(),
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
            let prefix = format!("req-{}", slug(&fw.id));
            for r in &fw.requirements {
                let anchor = anchors.make(&prefix, &r.id);
                ix.requirement_anchor
                    .entry((&fw.id, &r.id))
                    .or_insert(anchor);
            }
            ix.framework_slug.entry(&fw.id).or_insert(fw_slug);
            ix.framework_name.entry(&fw.id).or_insert(&fw.name);
        }
        for r in &a.results {
            ix.results_by_check.entry(&r.check_id).or_default().push(r);
            if !ix.resource_anchor.contains_key(&r.resource) {
                let res = &r.resource;
                let name = if res.name.is_empty() {
                    &res.id
                } else {
                    &res.name
                };
                let anchor = anchors.make(&format!("res-{}", res.kind.as_str()), name);
                ix.resource_anchor.insert(res, anchor);
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

    pub(super) fn framework_slug(&self, id: &str) -> String {
        self.framework_slug.get(id).cloned().unwrap_or_default()
    }

    /// Slugs of the frameworks a check maps to, sorted and deduplicated.
    fn frameworks_of(&self, check: Option<&CheckInfo>) -> String {
        let mut slugs: Vec<&str> = check
            .into_iter()
            .flat_map(|c| &c.mappings)
            .filter_map(|m| self.framework_slug.get(m.framework.as_str()))
            .map(String::as_str)
            .collect();
        slugs.sort_unstable();
        slugs.dedup();
        slugs.join(" ")
    }

    fn result(&self, r: &CheckResult) -> ResultView {
        let info = self.checks.get(r.check_id.as_str()).copied();
        let title = info.map(|c| c.title.clone()).unwrap_or_default();
        let res = &r.resource;
        let message = r.message.as_deref().unwrap_or("");
        let search = [
            r.check_id.as_str(),
            title.as_str(),
            res.kind.as_str(),
            res.name.as_str(),
            res.id.as_str(),
            message,
        ]
        .join(" ")
        .to_lowercase();
        ResultView {
            check: self.link(&r.check_id),
            check_title: title,
            severity: r.severity.as_str(),
            status: r.status.as_str(),
            status_label: r.status.label(),
            kind: res.kind.as_str(),
            resource_name: res.name.clone(),
            resource_id: res.id.clone(),
            resource_anchor: self.resource_anchor.get(res).cloned().unwrap_or_default(),
            message: r.message.clone(),
            evidence: r
                .evidence
                .iter()
                .map(|e| field(&e.label, compact(&e.value)))
                .collect(),
            source: r.source.clone(),
            observed_at: iso(&r.observed_at),
            frameworks: self.frameworks_of(info),
            search,
        }
    }

    pub(super) fn framework(&self, fw: &FrameworkResult) -> FrameworkView {
        let slug = self.framework_slug(&fw.id);
        FrameworkView {
            id: fw.id.clone(),
            name: fw.name.clone(),
            version: fw.version.clone(),
            publisher: fw.publisher.clone(),
            url: fw.url.as_deref().and_then(https_only),
            description: fw.description.clone(),
            total: fw.requirements.len(),
            has_levels: fw.requirements.iter().any(|r| r.level.is_some()),
            segments: counts::requirement_segments(&fw.counts, fw.requirements.len()),
            requirements: fw
                .requirements
                .iter()
                .map(|req| self.requirement(fw, &slug, req))
                .collect(),
            slug,
        }
    }

    fn requirement(
        &self,
        fw: &FrameworkResult,
        fw_slug: &str,
        req: &RequirementResult,
    ) -> RequirementView {
        let (mut passed, mut not_applicable) = (0, 0);
        let mut groups = Vec::new();
        let roles = (req.checks.iter().map(|c| (c, EvidenceRole::Primary)))
            .chain(req.supporting.iter().map(|c| (c, EvidenceRole::Supporting)));
        for (check_id, role) in roles {
            let all = self
                .results_by_check
                .get(check_id.as_str())
                .cloned()
                .unwrap_or_default();
            passed += all.iter().filter(|r| r.status == Status::Pass).count();
            not_applicable += all
                .iter()
                .filter(|r| r.status == Status::NotApplicable)
                .count();
            let findings: Vec<&CheckResult> =
                all.into_iter().filter(|r| is_finding(r.status)).collect();
            if findings.is_empty() {
                continue;
            }
            let info = self.checks.get(check_id.as_str()).copied();
            groups.push(FindingGroup {
                check: self.link(check_id),
                title: info.map(|c| c.title.clone()).unwrap_or_default(),
                severity: info.map(|c| c.severity.as_str()).unwrap_or_default(),
                role: role_name(role),
                expectation: info.map(|c| c.expectation.clone()).unwrap_or_default(),
                remediation: info.map(|c| c.remediation.clone()).unwrap_or_default(),
                results: sorted(findings)
                    .into_iter()
                    .map(|r| ResultView {
                        // Under a requirement, an entry belongs to that framework only.
                        frameworks: fw_slug.to_string(),
                        ..self.result(r)
                    })
                    .collect(),
            });
        }
        RequirementView {
            id: req.id.clone(),
            anchor: self
                .requirement_anchor
                .get(&(fw.id.as_str(), req.id.as_str()))
                .cloned()
                .unwrap_or_default(),
            title: req.title.clone(),
            section: req.section.clone().unwrap_or_default(),
            level: req.level.clone().unwrap_or_default(),
            mode: match req.mode {
                AssessmentMode::Automated => "automated",
                AssessmentMode::Partial => "partial",
                AssessmentMode::Manual => "manual",
            },
            status: req.status.as_str(),
            status_label: req.status.label(),
            checks: req.checks.iter().map(|c| self.link(c)).collect(),
            supporting: req.supporting.iter().map(|c| self.link(c)).collect(),
            counts: counts::status_chips(&req.counts),
            prompt: req.prompt.clone(),
            finding_count: groups.iter().map(|g| g.results.len()).sum(),
            groups,
            passed,
            not_applicable,
        }
    }

    /// Resources with findings first, then by kind, name and id.
    pub(super) fn resources(&self, a: &Assessment) -> Vec<ResourceView> {
        let mut per_resource: HashMap<&ResourceRef, Vec<&CheckResult>> = HashMap::new();
        for r in &a.results {
            per_resource.entry(&r.resource).or_default().push(r);
        }
        let mut per_resource: Vec<_> = per_resource.into_iter().collect();
        per_resource.sort_by_key(|(res, results)| {
            let quiet = !results.iter().any(|r| is_finding(r.status));
            (quiet, res.kind, res.name.as_str(), res.id.as_str())
        });
        per_resource
            .into_iter()
            .map(|(res, results)| ResourceView {
                kind: res.kind.as_str(),
                name: res.name.clone(),
                id: res.id.clone(),
                anchor: self.resource_anchor.get(res).cloned().unwrap_or_default(),
                counts: status_counts(results.iter().copied()),
                results: sorted(results)
                    .into_iter()
                    .map(|r| self.result(r))
                    .collect(),
            })
            .collect()
    }

    pub(super) fn check(&self, c: &CheckInfo) -> CheckView {
        let results = self.results_by_check.get(c.id.as_str());
        CheckView {
            id: c.id.clone(),
            anchor: self
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
                    framework: self
                        .framework_name
                        .get(m.framework.as_str())
                        .map_or_else(|| m.framework.clone(), |n| n.to_string()),
                    requirement: m.requirement.clone(),
                    anchor: self
                        .requirement_anchor
                        .get(&(m.framework.as_str(), m.requirement.as_str()))
                        .cloned(),
                    role: role_name(m.role),
                })
                .collect(),
            counts: status_counts(results.into_iter().flatten().copied()),
        }
    }
}
