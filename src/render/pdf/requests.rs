//! The evidence request list of `report.pdf`: every partial or manual requirement's prompt, per
//! framework, with whom to ask and an empty box to tick, from
//! [`crate::render::evidence_requests::requests`] (the list `evidence-requests.csv` and the HTML
//! report carry). The matrices stay short: manual-only requirements point here.

use super::layout::{Face, Pages, BLACK, MARGIN, TEXT_W};
use super::sections::{columns, SMALL};
use super::table::{Cell, Table};
use crate::assessment::Assessment;
use crate::render::evidence_requests::{requests, Request};

/// Title of the section, as the matrices refer to it.
pub(super) const TITLE: &str = "Evidence request list";

pub(super) fn evidence_requests(p: &mut Pages, a: &Assessment) {
    let list = requests(a);
    if list.is_empty() {
        return;
    }
    p.new_page();
    p.heading(TITLE, 16.0, Some(TITLE));
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        "What to request from the client for the requirements technical evidence cannot settle \
         (documents, interviews, observations), and whom to ask; also in the bundle as \
         evidence-requests.csv. Tick a row when the evidence is received. These requirements are \
         open, not failed; an attestation records the assessor's finding once the evidence is \
         reviewed.",
    );
    let mut start = 0;
    while start < list.len() {
        let fw = list[start].framework;
        let end = start
            + list[start..]
                .iter()
                .take_while(|q| std::ptr::eq(q.framework, fw))
                .count();
        framework_table(p, &list[start..end]);
        start = end;
    }
}

fn framework_table(p: &mut Pages, rows: &[Request<'_>]) {
    let fw = rows[0].framework;
    p.heading(
        &format!(
            "{} {}: {} request{}",
            fw.name,
            fw.version,
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        ),
        11.5,
        None,
    );
    let id_w = super::matrix::id_width(p, rows.iter().map(|q| q.requirement.id.as_str())).max(60.0);
    let mut t = Table::start(
        p,
        columns(&[
            ("Rcvd", 30.0),
            ("ID", id_w),
            ("What to request", TEXT_W - 140.0 - id_w),
            ("Ask", 110.0),
        ]),
        SMALL,
    );
    for q in rows {
        let r = q.requirement;
        let mut what = r.title.clone();
        what.push('\n');
        what.push_str(q.prompt.trim_end());
        t.row(
            p,
            &[
                Cell::plain("\u{2610}"),
                Cell::styled(id_and_level(r), Face::Bold, BLACK),
                Cell::plain(what),
                Cell::plain(q.owner()),
            ],
        );
    }
    t.end(p);
}

/// The id, and under it HIPAA's Required or Addressable.
fn id_and_level(r: &crate::assessment::RequirementResult) -> String {
    match r.level.as_deref() {
        Some("required") => format!("{}\nRequired", r.id),
        Some("addressable") => format!("{}\nAddressable", r.id),
        Some(other) => format!("{}\n{other}", r.id),
        None => r.id.clone(),
    }
}
