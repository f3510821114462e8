//! Findings detail: failed and errored results grouped by the requirement they decide, each check
//! detailed once with at most `RESULTS_PER_CHECK` of its results.

use std::collections::{HashMap, HashSet};

use super::layout::{leading, Face, Pages, GREY, MARGIN, TEXT_W};
use super::sections::{BODY, SMALL};
use super::{requirement_color, severity_color, status_color, RESULTS_PER_CHECK};
use crate::assessment::{Assessment, CheckResult, Severity, Status};

/// Longest evidence value printed; the JSON bundle has the full value.
const VALUE_CHARS: usize = 240;

/// Failed and errored results of each check, in assessment order.
fn findings_by_check(a: &Assessment) -> HashMap<&str, Vec<&CheckResult>> {
    let mut map: HashMap<&str, Vec<&CheckResult>> = HashMap::new();
    for r in &a.results {
        if matches!(r.status, Status::Fail | Status::Error) {
            map.entry(r.check_id.as_str()).or_default().push(r);
        }
    }
    map
}

pub(super) fn findings(p: &mut Pages, a: &Assessment) {
    p.new_page();
    p.heading("Findings detail", 16.0, Some("Findings detail"));
    p.body(&format!(
        "Failed and errored results, grouped by the requirement whose evidence state they decide. A \
             check is detailed once, where it first appears; at most {RESULTS_PER_CHECK} results \
             are listed per check. findings.csv and assessment.json hold every result."
    ));
    let by_check = findings_by_check(a);
    if by_check.is_empty() {
        p.gap(6.0);
        p.body("No result failed or errored.");
        return;
    }
    let mut shown: HashMap<&str, String> = HashMap::new();
    for fw in &a.frameworks {
        let reqs: Vec<_> = fw
            .requirements
            .iter()
            .filter(|r| r.checks.iter().any(|c| by_check.contains_key(c.as_str())))
            .collect();
        if reqs.is_empty() {
            continue;
        }
        p.heading(
            &format!("{} {}", fw.name, fw.version),
            13.0,
            Some(&format!("Findings: {}", fw.name)),
        );
        for r in reqs {
            // Room for the heading and the first check's opening lines (`check_detail` starts a
            // page below 60 points): otherwise the heading is left alone at a page's foot.
            p.ensure(90.0);
            p.heading(
                &format!("{} {}: {}", r.id, r.title, fw.label(r.state)),
                10.5,
                None,
            );
            // A waived requirement says under which waiver, until when, right under its name.
            if let Some(note) = a.waiver_note(r) {
                let lines = p.fonts.wrap(Face::Bold, SMALL, &note, TEXT_W);
                p.lines(
                    MARGIN,
                    Face::Bold,
                    SMALL,
                    requirement_color(r.state.tone()),
                    &lines,
                );
                p.gap(4.0);
            }
            // The checks whose results decide the state, by id, as the HTML matrix lists them.
            let deciding = format!("Deciding checks: {}", r.checks.join(", "));
            p.paragraph(MARGIN, TEXT_W, Face::Sans, SMALL, &deciding);
            for c in &r.checks {
                let Some(results) = by_check.get(c.as_str()) else {
                    continue;
                };
                match shown.get(c.as_str()) {
                    Some(place) => {
                        let title = a.check(c).map_or(c.as_str(), |ci| ci.title.as_str());
                        let n = results.len();
                        let noun = if n == 1 { "result" } else { "results" };
                        let line = format!(
                            "{title} ({c}): {n} failed or errored {noun}, detailed under {place}."
                        );
                        p.paragraph(MARGIN + 8.0, TEXT_W - 8.0, Face::Sans, SMALL, &line);
                        p.gap(4.0);
                    }
                    None => {
                        // `check_detail` starts with the same room check: this is its page.
                        p.ensure(60.0);
                        let page = p.page_number();
                        check_detail(p, a, c, results);
                        shown.insert(c.as_str(), format!("{} {} (page {page})", fw.name, r.id));
                    }
                }
            }
        }
    }
    let mut rest: Vec<&str> = a
        .checks
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| by_check.contains_key(id) && !shown.contains_key(id))
        .collect();
    let known: HashSet<&str> = a.checks.iter().map(|c| c.id.as_str()).collect();
    let mut unknown: Vec<&str> = by_check
        .keys()
        .copied()
        .filter(|id| !known.contains(id))
        .collect();
    unknown.sort_unstable();
    rest.extend(unknown);
    if !rest.is_empty() {
        p.heading(
            "Findings of checks not deciding a selected requirement",
            13.0,
            Some("Findings: other checks"),
        );
        for c in rest {
            if let Some(results) = by_check.get(c) {
                check_detail(p, a, c, results);
            }
        }
    }
}

/// One check's metadata and up to `RESULTS_PER_CHECK` of its failed or errored results.
fn check_detail(p: &mut Pages, a: &Assessment, id: &str, results: &[&CheckResult]) {
    let x = MARGIN + 8.0;
    let w = TEXT_W - 8.0;
    let info = a.check(id);
    let title = info.map_or(id, |c| c.title.as_str());
    p.ensure(60.0);
    p.gap(2.0);
    p.paragraph(x, w, Face::Bold, BODY, &format!("{title} ({id})"));
    let failed = results.iter().filter(|r| r.status == Status::Fail).count();
    let severity = info
        .map(|c| c.severity)
        .or_else(|| results.first().map(|r| r.severity))
        .unwrap_or(Severity::Info);
    let meta = format!(
        "Severity: {} · {failed} failed · {} errored",
        severity.label(),
        results.len() - failed
    );
    let lines = p.fonts.wrap(Face::Sans, SMALL, &meta, w);
    p.lines(x, Face::Sans, SMALL, severity_color(severity), &lines);
    if let Some(c) = info {
        p.paragraph(
            x,
            w,
            Face::Sans,
            SMALL,
            &format!("Expectation: {}", c.expectation),
        );
        p.paragraph(
            x,
            w,
            Face::Sans,
            SMALL,
            &format!("Remediation: {}", c.remediation),
        );
        if let Some(fix) = &c.fix_text {
            p.paragraph(x, w, Face::Mono, SMALL, &format!("Exact fix: {fix}"));
        }
    }
    // Every affected asset is named, however many results the detail below is capped at.
    p.paragraph(x, w, Face::Sans, SMALL, &affected_assets(results));
    p.gap(3.0);
    for r in results.iter().take(RESULTS_PER_CHECK) {
        result_line(p, r);
    }
    if results.len() > RESULTS_PER_CHECK {
        let more = format!(
            "… and {} more failed or errored results for this check in findings.csv and \
             assessment.json.",
            results.len() - RESULTS_PER_CHECK
        );
        p.paragraph(x + 10.0, w - 10.0, Face::Bold, SMALL, &more);
    }
    p.gap(8.0);
}

fn result_line(p: &mut Pages, r: &CheckResult) {
    let x = MARGIN + 18.0;
    let w = TEXT_W - 18.0;
    p.ensure(leading(SMALL) * 2.0);
    let head = format!(
        "{}: {} {}",
        r.status.label(),
        r.resource.kind.as_str(),
        r.resource.name
    );
    // Which object exactly, and where in the snapshot its values were read.
    let identity = if r.resource.id != r.resource.name {
        format!("id {} · read from {}", r.resource.id, r.source)
    } else {
        format!("read from {}", r.source)
    };
    let lines = p.fonts.wrap(Face::Bold, SMALL, &head, w);
    p.lines(x, Face::Bold, SMALL, status_color(r.status), &lines);
    let lines = p.fonts.wrap(Face::Mono, 7.5, &identity, w - 10.0);
    p.lines(x + 10.0, Face::Mono, 7.5, GREY, &lines);
    if let Some(m) = &r.message {
        p.paragraph(x + 10.0, w - 10.0, Face::Sans, SMALL, m);
    }
    for e in &r.evidence {
        let mut value = serde_json::to_string(&e.value).unwrap_or_default();
        if value.chars().count() > VALUE_CHARS {
            value = value.chars().take(VALUE_CHARS).collect::<String>() + "…";
        }
        let text = format!("{} = {value}", e.label);
        let lines = p.fonts.wrap(Face::Mono, 7.5, &text, w - 10.0);
        p.lines(x + 10.0, Face::Mono, 7.5, GREY, &lines);
    }
    p.gap(2.0);
}

/// "Affected assets (3): web, db, cache": every distinct resource of the results, by name, in
/// result order.
fn affected_assets(results: &[&CheckResult]) -> String {
    let mut seen = HashSet::new();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r.resource.name.as_str())
        .filter(|n| seen.insert(*n))
        .collect();
    format!("Affected assets ({}): {}", names.len(), names.join(", "))
}
