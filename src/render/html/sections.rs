//! View models of the report's sections that Tera renders: the requirement matrix and the check
//! catalogue. Their size follows the catalog, not the host; the findings sections, which grow
//! with the number of results, are written by `findings.rs`. See `view.rs` for the rules every
//! value here follows.

use std::collections::BTreeMap;

use serde::Serialize;

use super::counts::{self, Chip, Segment};
use super::index::Index;
use super::view::https_only;
use crate::assessment::{
    CheckInfo, CheckMode, CheckResult, EvidenceRole, FrameworkResult, RequirementResult,
    RequirementState,
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
    /// The framework's figures, each with its denominator (see `Figures::lines`).
    figures: Vec<String>,
    /// Whether any requirement has a level (HIPAA), so the column is shown.
    has_levels: bool,
    segments: Vec<Segment>,
    requirements: Vec<RequirementView>,
}

#[derive(Serialize)]
struct RequirementView {
    id: String,
    /// The id cut before each `(` (`164.308(a)`, `(1)`, `(i)`), so a narrow column breaks it
    /// between its parts rather than inside one.
    id_parts: Vec<String>,
    anchor: String,
    title: String,
    /// The framework's grouping heading, set on the first requirement of each group.
    section_start: Option<String>,
    /// HIPAA: `Required` or `Addressable`.
    level: String,
    /// How the requirement is assessed (`Technical + manual`, not "partial").
    mode: &'static str,
    /// The state's key (`risk_accepted`), for filters.
    state: &'static str,
    /// Colour family of the state (`accepted`): a waived failure is never green.
    tone: &'static str,
    state_label: &'static str,
    /// What the deciding checks alone showed, where the state does not say it already
    /// (requirements that also need manual evidence, attested ones).
    technical: Option<String>,
    /// Who attested the finding, and the document, when an attestation decided it.
    attested: Option<String>,
    /// The waivers that accepted the risk of deciding failures, with their expiry.
    waived: Option<String>,
    /// Whether the manual-evidence prompt is still open.
    awaiting: bool,
    checks: Vec<CheckLinkView>,
    supporting: Vec<CheckLinkView>,
    counts: Vec<Chip>,
    prompt: Option<String>,
    /// Who the assessor asks for the manual evidence (a role).
    owner: Option<String>,
}

/// [`super::index::CheckLink`] as the template sees it: owned strings, serialised.
#[derive(Serialize)]
struct CheckLinkView {
    id: String,
    /// Absent when the check is not in this assessment.
    anchor: Option<String>,
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

/// `164.308(a)(1)(i)` → `164.308(a)`, `(1)`, `(i)`.
fn id_parts(id: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for (i, piece) in id.split('(').enumerate() {
        match (i, parts.last_mut()) {
            (0, _) => parts.push(piece.to_string()),
            // The first group stays with the section number: `164.308(a)`.
            (1, Some(first)) if !first.is_empty() => {
                first.push('(');
                first.push_str(piece);
            }
            _ => parts.push(format!("({piece}")),
        }
    }
    parts
}

/// `required` → `Required`.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn status_counts<'r>(results: impl IntoIterator<Item = &'r CheckResult>) -> Vec<Chip> {
    let mut counts = BTreeMap::new();
    for r in results {
        *counts.entry(r.status).or_default() += 1;
    }
    counts::status_chips(&counts)
}

impl Index<'_> {
    fn link_view(&self, check_id: &str) -> CheckLinkView {
        let link = self.link(check_id);
        CheckLinkView {
            id: link.id.to_string(),
            anchor: link.anchor.map(str::to_string),
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
            figures: fw.figures.lines(),
            has_levels: fw.requirements.iter().any(|r| r.level.is_some()),
            segments: counts::requirement_segments(
                &fw.counts,
                fw.requirements.len(),
                fw.vocabulary,
            ),
            requirements: fw
                .requirements
                .iter()
                .enumerate()
                .map(|(i, req)| {
                    let mut view = self.requirement(fw, req);
                    let previous = i.checked_sub(1).map(|j| &fw.requirements[j].section);
                    if req.section.is_some() && previous != Some(&req.section) {
                        view.section_start = req.section.clone();
                    }
                    view
                })
                .collect(),
            slug,
        }
    }

    fn requirement(&self, fw: &FrameworkResult, req: &RequirementResult) -> RequirementView {
        RequirementView {
            id: req.id.clone(),
            id_parts: id_parts(&req.id),
            anchor: self
                .requirement_anchor
                .get(&(fw.id.as_str(), req.id.as_str()))
                .cloned()
                .unwrap_or_default(),
            title: req.title.clone(),
            section_start: None,
            level: req.level.as_deref().map(capitalised).unwrap_or_default(),
            mode: req.mode.label(),
            state: req.state.as_str(),
            tone: req.state.tone().as_str(),
            state_label: fw.label(req.state),
            technical: crate::render::html::legend::technical_note(req),
            attested: req.attestation.as_ref().map(|t| {
                format!(
                    "Attested {} by {} on {}; evidence: {}",
                    t.verdict.as_str().replace('_', " "),
                    t.attested_by,
                    t.date,
                    t.evidence
                )
            }),
            waived: self.assessment.waiver_note(req),
            awaiting: req.state == RequirementState::AwaitingManualEvidence,
            checks: req.checks.iter().map(|c| self.link_view(c)).collect(),
            supporting: req.supporting.iter().map(|c| self.link_view(c)).collect(),
            counts: counts::status_chips(&req.counts),
            prompt: req.prompt.clone(),
            owner: req.evidence_owner.clone(),
        }
    }

    pub(super) fn check(&self, c: &CheckInfo) -> CheckView {
        let results = self.results_by_check.get(c.id.as_str());
        CheckView {
            id: c.id.clone(),
            anchor: self.check_anchor(&c.id).unwrap_or_default().to_string(),
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
