//! The two report sections whose size grows with the host: "Findings by requirement" and
//! "Findings by resource". At a thousand containers they hold ~30k rows (tens of MB of HTML);
//! as a Tera context the same rows took ~600 MB, so they are written here, straight to the
//! output through a small buffer, and nothing is kept per row.
//!
//! The markup is the one the template's macros produced before (the HTML tests and the DOM
//! tests of other formats rely on it): change both together. Every host or catalog string goes
//! through [`Html::text`], which escapes exactly as Tera's auto-escape does.

use std::collections::HashMap;
use std::io::{self, Write};

use super::index::{is_finding, sorted, CheckLink, Index};
use super::markup::Html;
use super::sections::status_counts;
use super::view::{compact, iso};
use crate::assessment::{
    Assessment, CheckResult, EvidenceRole, FrameworkResult, RequirementResult, RequirementState,
    ResourceRef,
};

const GROUP_HEAD: &str = "<thead><tr><th scope=\"col\" class=\"c-status\">Status</th><th scope=\"col\" class=\"c-res\">Resource</th><th scope=\"col\" class=\"c-msg\">Message</th><th scope=\"col\" class=\"c-ev\">Evidence</th></tr></thead>";
const RESOURCE_HEAD: &str = "<thead><tr><th scope=\"col\" class=\"c-status\">Status</th><th scope=\"col\" class=\"c-sev\">Severity</th><th scope=\"col\" class=\"c-check\">Check</th><th scope=\"col\" class=\"c-msg\">Message</th><th scope=\"col\">Evidence (JSON)</th></tr></thead>";

/// Writes both sections; `open` starts every group expanded (small reports).
pub(super) fn write(out: &mut dyn Write, a: &Assessment, ix: &Index, open: bool) -> io::Result<()> {
    let mut h = Html::new(out);
    by_requirement(&mut h, a, ix, open)?;
    h.raw("\n\n");
    by_resource(&mut h, a, ix, open)?;
    h.finish()
}

/// The check ids of a requirement with their role, deciding first, as listed in the catalog.
fn roles(req: &RequirementResult) -> impl Iterator<Item = (&str, EvidenceRole)> {
    let deciding = req
        .checks
        .iter()
        .map(|c| (c.as_str(), EvidenceRole::Primary));
    deciding.chain(
        req.supporting
            .iter()
            .map(|c| (c.as_str(), EvidenceRole::Supporting)),
    )
}

/// Finding entries listed under one requirement.
pub(super) fn requirement_finding_count(ix: &Index, req: &RequirementResult) -> usize {
    roles(req)
        .filter_map(|(c, _)| ix.tally(c))
        .map(|t| t.findings.len())
        .sum()
}

fn by_requirement(h: &mut Html, a: &Assessment, ix: &Index, open: bool) -> io::Result<()> {
    h.raw("<section id=\"by-requirement\" aria-labelledby=\"by-requirement-title\">\n<h2 id=\"by-requirement-title\" class=\"new-page\">Findings by requirement</h2>\n<p class=\"muted\">For each requirement: the failed, error and manual results of its deciding and supporting checks. Passed and not-applicable results are counted here and listed under <a href=\"#by-resource\">Findings by resource</a>. A result bearing on several requirements is listed under each of them; its evidence is shown once, under its resource, and the Evidence link in its row leads there.</p>");
    for fw in &a.frameworks {
        let slug = ix.framework_slug(&fw.id);
        h.raw("\n<section data-fw-section=\"")
            .text(&slug)
            .raw("\">\n<h3>");
        h.text(&fw.name).raw(" ").text(&fw.version).raw("</h3>");
        for req in &fw.requirements {
            requirement(h, ix, fw, &slug, req, open)?;
        }
        h.raw("\n</section>");
    }
    h.raw("\n</section>");
    Ok(())
}

fn requirement(
    h: &mut Html,
    ix: &Index,
    fw: &FrameworkResult,
    fw_slug: &str,
    req: &RequirementResult,
    open: bool,
) -> io::Result<()> {
    let (mut passed, mut not_applicable) = (0, 0);
    for tally in roles(req).filter_map(|(c, _)| ix.tally(c)) {
        passed += tally.passed;
        not_applicable += tally.not_applicable;
    }
    let findings = requirement_finding_count(ix, req);
    h.raw("\n<details data-group data-state=\"")
        .text(req.state.as_str())
        .raw("\"");
    if open && findings > 0 {
        h.raw(" open");
    }
    h.raw(">\n<summary><span class=\"mono sum-title\">")
        .text(&req.id);
    h.raw("</span> <span class=\"sum-title\">")
        .text(&req.title)
        .raw("</span> ");
    state_badge(h, req.state.tone().as_str(), fw.label(req.state));
    if req.attestation.is_some() {
        h.raw(" <span class=\"tag\">attested</span>");
    }
    h.raw("<span class=\"sum-meta\">")
        .num(findings)
        .raw(" finding");
    h.raw(plural(findings))
        .raw(" · ")
        .num(passed)
        .raw(" passed, ");
    h.num(not_applicable)
        .raw(" not applicable</span></summary>\n<div class=\"body\">");
    let mut any = false;
    for (check_id, role) in roles(req) {
        let Some(tally) = ix.tally(check_id).filter(|t| !t.findings.is_empty()) else {
            continue;
        };
        any = true;
        h.raw("\n");
        group(h, ix, check_id, role, &tally.findings, fw_slug)?;
    }
    if !any {
        h.raw("\n<p class=\"muted\">No failed, error or manual results");
        if req.checks.is_empty() {
            h.raw(": this requirement has no deciding checks");
        }
        h.raw(".</p>\n");
    }
    if let Some(note) = ix.assessment.waiver_note(req) {
        h.raw("\n<p class=\"note\">").text(&note).raw("</p>");
    }
    if let (Some(prompt), RequirementState::AwaitingManualEvidence) = (&req.prompt, req.state) {
        h.raw("\n<p class=\"prompt\"><strong>Manual evidence to collect:</strong> ");
        h.text(prompt).raw("</p>");
    }
    let anchor = ix
        .requirement_anchor
        .get(&(fw.id.as_str(), req.id.as_str()));
    h.raw("\n<p class=\"muted\"><a href=\"#");
    h.text(anchor.map_or("", String::as_str))
        .raw("\">Back to ")
        .text(&req.id);
    h.raw(" in the matrix</a></p>\n</div>\n</details>");
    h.flush_if_full()
}

/// The findings of one check under one requirement; the check's metadata is shown once.
fn group(
    h: &mut Html,
    ix: &Index,
    check_id: &str,
    role: EvidenceRole,
    results: &[&CheckResult],
    fw_slug: &str,
) -> io::Result<()> {
    let info = ix.checks.get(check_id).copied();
    let severity = info.map(|c| c.severity.as_str()).unwrap_or_default();
    let first = results.first().map_or("", |r| r.status.as_str());
    h.raw("<div class=\"finding border-")
        .text(first)
        .raw("\" data-group>\n<header>\n");
    severity_tag(h, severity);
    h.raw("\n<span class=\"finding-title\">");
    check_title(h, &ix.link(check_id), info.map_or("", |c| c.title.as_str()));
    h.raw("</span>\n<code class=\"muted\">")
        .text(check_id)
        .raw("</code>");
    if role == EvidenceRole::Supporting {
        h.raw(" <span class=\"tag\">supporting evidence</span>");
    }
    h.raw("\n<span class=\"muted count\">")
        .num(results.len())
        .raw(" result");
    h.raw(plural(results.len()))
        .raw("</span>\n</header>\n<dl class=\"advice\">\n");
    h.raw("<dt>Expected</dt><dd>");
    h.text(info.map_or("", |c| c.expectation.as_str()));
    h.raw("</dd>\n<dt>Remediation</dt><dd>");
    h.text(info.map_or("", |c| c.remediation.as_str()));
    h.raw("</dd>\n</dl>\n<table class=\"results grouped\">\n")
        .raw(GROUP_HEAD);
    h.raw("\n<tbody>");
    for r in results {
        // Under a requirement, an entry belongs to that framework only. Its search text and
        // evidence are those of its row under the resource, which `data-result` names: a
        // result is repeated under every requirement its check bears on, in every framework,
        // and the page grew with that repetition.
        let result = ix.result_anchor(r);
        h.raw("\n<tr ");
        filter_attributes(h, r, fw_slug);
        h.raw(" data-result=\"").text(&result).raw("\">\n<td>");
        status_badge(h, r.shown_status(), r.shown_label());
        h.raw("</td>\n<td>");
        resource_cell(h, ix, &r.resource);
        h.raw("</td>\n<td>");
        waiver_note(h, r);
        h.text(r.message.as_deref().unwrap_or(""));
        h.raw("</td>\n<td>");
        if !r.evidence.is_empty() {
            h.raw("<a href=\"#").text(&result).raw("\">Evidence</a>");
        }
        h.raw("</td>\n</tr>");
        h.flush_if_full()?;
    }
    h.raw("\n</tbody>\n</table>\n</div>");
    Ok(())
}

/// Resources with findings first, then by kind, name and id.
fn by_resource(h: &mut Html, a: &Assessment, ix: &Index, open: bool) -> io::Result<()> {
    h.raw("<section id=\"by-resource\" aria-labelledby=\"by-resource-title\">\n<h2 id=\"by-resource-title\" class=\"new-page\">Findings by resource</h2>\n<p class=\"muted\">Every result, per resource; resources with failed, error or manual results come first.</p>");
    let mut per_resource: HashMap<&ResourceRef, Vec<&CheckResult>> = HashMap::new();
    for r in &a.results {
        per_resource.entry(&r.resource).or_default().push(r);
    }
    let mut per_resource: Vec<_> = per_resource.into_iter().collect();
    per_resource.sort_by_key(|(res, results)| {
        let quiet = !results.iter().any(|r| is_finding(r.status));
        (quiet, res.kind, res.name.as_str(), res.id.as_str())
    });
    if per_resource.is_empty() {
        h.raw("\n<p class=\"muted\">No results.</p>\n");
    }
    for (res, results) in per_resource {
        h.raw("\n<details id=\"")
            .text(ix.resource_anchor(res))
            .raw("\" data-group");
        if open {
            h.raw(" open");
        }
        h.raw(">\n<summary><span class=\"kind\">")
            .text(res.kind.as_str());
        h.raw("</span> <span class=\"sum-title\">")
            .text(&res.name)
            .raw("</span>");
        if res.id != res.name {
            h.raw(" <code class=\"muted\">")
                .text(&res.id)
                .raw("</code>");
        }
        h.raw(" <span class=\"sum-meta\">");
        chips(h, &status_counts(results.iter().copied()));
        h.raw("</span></summary>\n<div class=\"body\">\n<table class=\"results\">\n");
        h.raw(RESOURCE_HEAD).raw("\n<tbody>");
        for r in sorted(results) {
            h.raw("\n<tr id=\"").text(&ix.result_anchor(r)).raw("\" ");
            data_attributes(h, ix, r, ix.check_frameworks(&r.check_id));
            h.raw(">\n<td>");
            status_badge(h, r.shown_status(), r.shown_label());
            h.raw("</td>\n<td>");
            severity_tag(h, r.severity.as_str());
            h.raw("</td>\n<td>");
            let title = ix.checks.get(r.check_id.as_str()).map_or("", |c| &c.title);
            check_title(h, &ix.link(&r.check_id), title);
            h.raw("<br><code class=\"muted\">")
                .text(&r.check_id)
                .raw("</code></td>\n<td>");
            waiver_note(h, r);
            h.text(r.message.as_deref().unwrap_or(""));
            h.raw("<div class=\"provenance\">")
                .text(&r.source)
                .raw(" · ");
            h.text(&iso(&r.observed_at)).raw("</div></td>\n<td>");
            evidence(h, r);
            h.raw("</td>\n</tr>");
            h.flush_if_full()?;
        }
        h.raw("\n</tbody>\n</table>\n</div>\n</details>");
    }
    h.raw("\n</section>");
    Ok(())
}

/// For a waived result: which waiver covers it and the verdict it keeps.
fn waiver_note(h: &mut Html, r: &CheckResult) {
    if let Some(id) = &r.waiver {
        h.raw("<div class=\"waiver-note\">Waived by <a href=\"#");
        h.text(&waiver_anchor(id))
            .raw("\">")
            .text(id)
            .raw("</a>; verdict ");
        h.text(r.status.as_str()).raw("</div>");
    }
}

/// The anchor of a waiver's row in the register.
pub(super) fn waiver_anchor(id: &str) -> String {
    format!("waiver-{}", super::anchors::slug(id))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A requirement's evidence state, coloured by its tone (the template's `state` macro).
fn state_badge(h: &mut Html, tone: &str, label: &str) {
    h.raw("<span class=\"badge tone-")
        .text(tone)
        .raw("\">")
        .text(label)
        .raw("</span>");
}

fn status_badge(h: &mut Html, key: &str, label: &str) {
    h.raw("<span class=\"badge st-")
        .text(key)
        .raw("\">")
        .text(label)
        .raw("</span>");
}

fn severity_tag(h: &mut Html, key: &str) {
    h.raw("<span class=\"sev sev-")
        .text(key)
        .raw("\" title=\"Severity\">");
    h.text(key).raw("</span>");
}

fn chips(h: &mut Html, chips: &[super::counts::Chip]) {
    for c in chips {
        h.raw("<span class=\"chip st-")
            .text(c.key)
            .raw("\">")
            .num(c.count)
            .raw(" ");
        h.text(&c.label.to_lowercase()).raw("</span>");
    }
}

fn check_title(h: &mut Html, link: &CheckLink, title: &str) {
    match link.anchor {
        Some(anchor) => {
            h.raw("<a href=\"#")
                .text(anchor)
                .raw("\">")
                .text(title)
                .raw("</a>");
        }
        None => {
            h.text(title);
        }
    }
}

/// The `data-*` attributes the filter script reads.
fn data_attributes(h: &mut Html, ix: &Index, r: &CheckResult, frameworks: &str) {
    let info = ix.checks.get(r.check_id.as_str());
    let title = info.map_or("", |c| &c.title);
    let res = &r.resource;
    let mut search = [
        r.check_id.as_str(),
        title,
        res.kind.as_str(),
        res.name.as_str(),
        res.id.as_str(),
        r.message.as_deref().unwrap_or(""),
    ]
    .join(" ");
    // The requirement and CIS ids the check bears on, so searching "2.2.6" or "5.32" finds it.
    if let Some(c) = info {
        for id in (c.mappings.iter().map(|m| &m.requirement)).chain(&c.references.cis_docker) {
            search.push(' ');
            search.push_str(id);
        }
    }
    let search = search.to_lowercase();
    filter_attributes(h, r, frameworks);
    h.raw(" data-search=\"").text(&search).raw("\"");
}

/// The `data-*` attributes every entry carries: the frameworks it is listed for, its status,
/// severity and resource kind.
fn filter_attributes(h: &mut Html, r: &CheckResult, frameworks: &str) {
    h.raw("data-finding data-fw=\"").text(frameworks);
    h.raw("\" data-status=\"").text(r.shown_status());
    h.raw("\" data-severity=\"").text(r.severity.as_str());
    h.raw("\" data-kind=\"")
        .text(r.resource.kind.as_str())
        .raw("\"");
}

fn resource_cell(h: &mut Html, ix: &Index, res: &ResourceRef) {
    h.raw("<span class=\"kind\">")
        .text(res.kind.as_str())
        .raw("</span> <a href=\"#");
    h.text(ix.resource_anchor(res))
        .raw("\">")
        .text(&res.name)
        .raw("</a>");
    if res.id != res.name {
        h.raw("<br><code class=\"muted\">")
            .text(&res.id)
            .raw("</code>");
    }
}

/// Evidence values as compact JSON, so `"true"` and `true` stay distinct.
fn evidence(h: &mut Html, r: &CheckResult) {
    if r.evidence.is_empty() {
        return;
    }
    h.raw("<dl class=\"ev\">");
    for e in &r.evidence {
        let value = compact(&e.value);
        h.raw("<dt>").text(&e.label).raw("</dt><dd><code");
        if value == "null" {
            h.raw(" class=\"absent\" title=\"absent\"");
        }
        h.raw(">").text(&value).raw("</code></dd>");
    }
    h.raw("</dl>");
}
