//! The waiver and attestation registers of `report.pdf`: every entry supplied, whether it
//! applied or not, so an assessor sees the accepted risks and the people's verdicts beside the
//! technical evidence. Left out when no waiver or attestation file was given.

use super::layout::{Face, Pages, BLACK, GREY, MARGIN, TEXT_W};
use super::sections::{columns, BODY, SMALL};
use super::table::{Cell, Table};
use crate::assessment::{Assessment, AttestationState, WaiverState};

const ACTIVE: (f32, f32, f32) = (0.55, 0.35, 0.0);
const STALE: (f32, f32, f32) = (0.78, 0.16, 0.16);

fn date(d: Option<chrono::NaiveDate>) -> String {
    d.map_or_else(|| "none".to_string(), |d| d.to_string())
}

pub(super) fn waivers(p: &mut Pages, a: &Assessment) {
    if a.waivers.is_empty() {
        return;
    }
    p.new_page();
    p.heading("Waiver register", 16.0, Some("Waiver register"));
    let covered: usize = a.waivers.iter().map(|w| w.covered).sum();
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        BODY,
        &format!(
            "{} supplied; the active ones cover {}. A \
             waived result keeps its verdict (fail) and is shown as waived; the requirements it \
             decides stay not in place, with the risk accepted under the waiver until it \
             expires. Expired, not yet valid and unmatched waivers cover nothing.",
            super::counted(a.waivers.len(), "waiver was", "waivers were"),
            super::counted(covered, "failed result", "failed results")
        ),
    );
    p.gap(6.0);
    let spec = [
        ("Waiver", 72.0),
        ("Check and scope", 122.0),
        ("State", 58.0),
        ("Justification and compensating control", TEXT_W - 362.0),
        ("Approval", 110.0),
    ];
    let mut t = Table::start(p, columns(&spec), SMALL);
    for w in &a.waivers {
        let mut scope = vec![w.check_id.clone()];
        scope.extend(w.scope.lines());
        let mut why = w.justification.clone();
        if let Some(c) = &w.compensating_control {
            why.push_str(&format!("\nCompensating control: {c}"));
        }
        let mut approval = format!(
            "{}\ngranted {}, expires {}",
            w.approved_by.as_deref().unwrap_or("approver not named"),
            date(w.granted),
            date(w.expires)
        );
        if let Some(r) = w.risk {
            approval.push_str(&format!("\nrisk {}", r.as_str()));
        }
        if let Some(ticket) = &w.ticket {
            approval.push_str(&format!("\nticket {ticket}"));
        }
        let state = match w.state {
            WaiverState::Active => format!("Active: {} covered", w.covered),
            other => other.label().to_string(),
        };
        let color = match w.state {
            WaiverState::Active => ACTIVE,
            _ => STALE,
        };
        t.row(
            p,
            &[
                Cell::styled(w.id.as_str(), Face::Bold, BLACK),
                Cell::plain(scope.join("\n")),
                Cell::styled(state, Face::Bold, color),
                Cell::plain(why),
                Cell::plain(approval),
            ],
        );
    }
    t.end(p);
    p.gap(4.0);
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        &format!(
            "Entries are listed in file order: {}.",
            a.waivers
                .iter()
                .map(|w| format!("{} at {}", w.id, w.source))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    );
}

pub(super) fn attestations(p: &mut Pages, a: &Assessment) {
    if a.attestations.is_empty() {
        return;
    }
    p.new_page();
    p.heading("Attestation register", 16.0, Some("Attestation register"));
    let applied = a
        .attestations
        .iter()
        .filter(|t| t.state == AttestationState::Applied)
        .count();
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        BODY,
        &format!(
            "{} supplied and {applied} decided a requirement. An applied \
             attestation records the assessor's own finding for its requirement; it never \
             overrides technical evidence that failed or could not be read.",
            super::counted(a.attestations.len(), "attestation was", "attestations were")
        ),
    );
    p.gap(6.0);
    let spec = [
        ("Requirement", 86.0),
        ("Verdict", 56.0),
        ("State", 80.0),
        ("Attested by, date, expiry", 120.0),
        ("Evidence", TEXT_W - 342.0),
    ];
    let mut t = Table::start(p, columns(&spec), SMALL);
    for r in &a.attestations {
        let color = if r.state == AttestationState::Applied {
            BLACK
        } else {
            STALE
        };
        let mut evidence = r.evidence.clone();
        if let Some(n) = &r.notes {
            evidence.push_str(&format!("\nNote: {n}"));
        }
        evidence.push_str(&format!("\n({})", r.source));
        t.row(
            p,
            &[
                Cell::styled(
                    format!("{}\n{}", r.requirement, r.framework),
                    Face::Bold,
                    BLACK,
                ),
                Cell::plain(r.verdict.as_str().replace('_', " ")),
                Cell::styled(r.state.label(), Face::Bold, color),
                Cell::plain(format!(
                    "{}\n{}, expires {}",
                    r.attested_by,
                    r.date,
                    date(r.expires)
                )),
                Cell::styled(evidence, Face::Sans, GREY),
            ],
        );
    }
    t.end(p);
}
