//! The requirement matrices of `report.pdf`, one per framework: each requirement's evidence state
//! in the framework's words and in its tone's colour (a waived failure amber, with the waiver and
//! its expiry), how it is assessed, HIPAA's Required/Addressable level, and the results of its
//! deciding checks. Also the legend of the states, printed in the executive summary.

use super::layout::{Face, Pages, BLACK, MARGIN, TEXT_W};
use super::sections::{columns, SMALL};
use super::table::{Cell, Table};
use super::{mode_label, requirement_color};
use crate::assessment::{Assessment, FrameworkResult, RequirementResult, RequirementState, Status};

/// What the evidence states mean, each in its colour, with the words each framework uses.
pub(super) fn legend(p: &mut Pages, a: &Assessment) {
    // The legend reads as one block: start it on a new page unless most of it fits here.
    p.ensure(220.0);
    p.heading("Requirement evidence states", 11.5, None);
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        "dockproof reports evidence, not findings: a framework's finding terms (PCI DSS In Place, \
         HIPAA alternative measure) appear only where an attestation records the assessor's own \
         finding, and Not Tested is never used. CIS recommendations keep pass, fail and manual.",
    );
    p.gap(4.0);
    let mut t = Table::start(
        p,
        columns(&[("State", 150.0), ("Meaning", TEXT_W - 150.0)]),
        SMALL,
    );
    for e in crate::render::html::legend::entries(a) {
        let mut meaning = e.meaning.to_string();
        if !e.also.is_empty() {
            meaning.push_str("\nShown as: ");
            meaning.push_str(&e.also.join("; "));
        }
        t.row(
            p,
            &[
                Cell::styled(e.label, Face::Bold, requirement_color(e.state.tone())),
                Cell::plain(meaning),
            ],
        );
    }
    t.end(p);
}

/// "2 fail, 1 error, 3 pass" over the statuses with a count.
fn result_counts(counts: &std::collections::BTreeMap<Status, usize>) -> String {
    let parts: Vec<String> = Status::ALL
        .iter()
        .filter_map(|s| {
            let n = counts.get(s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", s.label().to_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "no results".into()
    } else {
        parts.join(", ")
    }
}

/// The state as the matrix shows it, in the framework's words, with the waivers that accepted
/// the risk of its failures and, where the state does not say it, what the deciding checks showed.
fn requirement_label(a: &Assessment, fw: &FrameworkResult, r: &RequirementResult) -> String {
    let mut label = fw.label(r.state).to_string();
    if let Some(note) = a.waiver_note(r) {
        label.push('\n');
        label.push_str(&note);
    }
    if let Some(note) = crate::render::html::legend::technical_note(r) {
        label.push('\n');
        label.push_str(&note);
    }
    label
}

/// "1 check: 2 fail, 1 pass": how many checks decide, and their results.
fn deciding_results(r: &RequirementResult) -> String {
    match r.checks.len() {
        0 => "no deciding check".into(),
        1 => format!("1 check: {}", result_counts(&r.counts)),
        n => format!("{n} checks: {}", result_counts(&r.counts)),
    }
}

pub(super) fn matrix(p: &mut Pages, a: &Assessment, fw: &FrameworkResult) {
    p.new_page();
    let title = format!("Requirement matrix: {} {}", fw.name, fw.version);
    p.heading(
        &title,
        16.0,
        Some(&format!("Requirement matrix: {}", fw.name)),
    );
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        &format!(
            "{}. {} The evidence state is for the assessor to confirm (see the legend in the \
             executive summary); results of the deciding checks are counted per resource.",
            fw.publisher,
            fw.description.trim_end()
        ),
    );
    p.gap(6.0);
    // HIPAA implementation specifications are Required or Addressable: a column of its own.
    let levels = fw.requirements.iter().any(|r| r.level.is_some());
    // The id column fits the longest id on one line: an id never breaks inside its token.
    let extra = (id_width(p, fw.requirements.iter().map(|r| r.id.as_str())) - 74.0).max(0.0);
    let spec: Vec<(&'static str, f32)> = if levels {
        vec![
            ("ID", 74.0 + extra),
            ("Title", 112.0 - extra / 2.0),
            ("Level", 60.0),
            ("Evidence state", 132.0 - extra / 2.0),
            ("Mode", 50.0),
            ("Deciding checks", TEXT_W - 428.0),
        ]
    } else {
        vec![
            ("ID", 50.0),
            ("Title", 150.0),
            ("Evidence state", 142.0),
            ("Mode", 56.0),
            ("Deciding checks", TEXT_W - 398.0),
        ]
    };
    // Requirements with technical evidence first; those that only a person can settle are
    // condensed into one list of ids after the table: their prompts are the evidence requests.
    let (technical, manual_only): (Vec<&RequirementResult>, Vec<&RequirementResult>) =
        fw.requirements.iter().partition(|r| !is_manual_only(r));
    let mut t = Table::start(p, columns(&spec), SMALL);
    for r in technical {
        let mut cells = vec![
            Cell::styled(r.id.as_str(), Face::Bold, BLACK),
            Cell::plain(r.title.as_str()),
        ];
        if levels {
            cells.push(Cell::plain(
                r.level.as_deref().map(capitalised).unwrap_or_default(),
            ));
        }
        cells.extend([
            Cell::styled(
                requirement_label(a, fw, r),
                Face::Bold,
                requirement_color(r.state.tone()),
            ),
            Cell::plain(mode_label(r.mode)),
            Cell::plain(deciding_results(r)),
        ]);
        t.row(p, &cells);
    }
    t.end(p);
    if !manual_only.is_empty() {
        let ids: Vec<&str> = manual_only.iter().map(|r| r.id.as_str()).collect();
        p.gap(4.0);
        p.paragraph(
            MARGIN,
            TEXT_W,
            Face::Sans,
            SMALL,
            &format!(
                "{} requirement{} with no technical evidence (manual evidence only; what to                  request is in the {}): {}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                super::requests::TITLE,
                ids.join(", ")
            ),
        );
    }
}

/// A requirement no check gives evidence for and that still waits for a person: condensed in
/// the matrix. An attested one keeps its row, since its state is the assessor's finding.
fn is_manual_only(r: &RequirementResult) -> bool {
    r.checks.is_empty()
        && r.supporting.is_empty()
        && r.state == RequirementState::AwaitingManualEvidence
}

/// Width of an id column in which every one of `ids` fits on one line (bold, table size, with
/// the cell padding).
pub(super) fn id_width<'i>(p: &Pages, ids: impl Iterator<Item = &'i str>) -> f32 {
    ids.map(|id| p.fonts.width(Face::Bold, SMALL, id))
        .fold(0.0, f32::max)
        + 8.0
}

/// `addressable` → `Addressable`.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
