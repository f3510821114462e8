//! "Grouped fixes" in `report.pdf`: the same groups as the HTML report
//! ([`crate::assessment::fix::fix_groups`]), each exact line in monospace with every finding it
//! clears (check id, CIS numbers and asset), placed right after the executive summary.

use super::layout::{Face, Pages, BLACK, MARGIN, TEXT_W};
use super::sections::{columns, SMALL};
use super::table::{Cell, Table};
use crate::assessment::fix::fix_groups;
use crate::assessment::Assessment;

/// Lines of the "Clears" cell per table row, below the table's own cell limit.
const LINES_PER_ROW: usize = 10;
const CLEARS_W: f32 = TEXT_W - 280.0;

pub(super) fn fixes(p: &mut Pages, a: &Assessment) {
    let groups = fix_groups(a);
    p.new_page();
    p.heading("Grouped fixes", 16.0, Some("Grouped fixes"));
    if groups.is_empty() {
        p.body("No unwaived failure has a remediation key: there is nothing to group.");
        return;
    }
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        "Unwaived failures grouped by the edit that clears them. Each line is the exact text to \
         write; words in capitals are values to choose. Waived failures are left out.",
    );
    for g in &groups {
        let n = g.cleared();
        p.heading(
            &format!(
                "{} (clears {n} finding{})",
                g.target.heading(),
                if n == 1 { "" } else { "s" }
            ),
            11.5,
            None,
        );
        let mut t = Table::start(
            p,
            columns(&[("Exact line", 280.0), ("Clears", CLEARS_W)]),
            SMALL,
        );
        for line in &g.lines {
            let clears: Vec<String> = line
                .clears
                .iter()
                .map(|c| {
                    let cis = if c.cis.is_empty() {
                        String::new()
                    } else {
                        format!(" (CIS {})", c.cis.join(", "))
                    };
                    format!("{}{cis} on {}", c.check_id, c.asset)
                })
                .collect();
            // Every finding is named: a long list continues on further rows rather than being
            // cut at the cell's line limit.
            for (i, chunk) in chunks(p, &clears).into_iter().enumerate() {
                let text = if i == 0 {
                    line.text.clone()
                } else {
                    format!("{} (continued)", line.text)
                };
                t.row(
                    p,
                    &[
                        Cell::styled(text, Face::Mono, BLACK),
                        Cell::plain(chunk.join("\n")),
                    ],
                );
            }
        }
        t.end(p);
    }
}

/// `clears` cut into rows of at most [`LINES_PER_ROW`] wrapped lines (one entry per row at
/// least, and an entry longer than that is still given whole to the table).
fn chunks<'c>(p: &Pages, clears: &'c [String]) -> Vec<&'c [String]> {
    let mut out = Vec::new();
    let (mut start, mut lines) = (0, 0);
    for (i, c) in clears.iter().enumerate() {
        let n = p.fonts.wrap(Face::Sans, SMALL, c, CLEARS_W - 6.0).len();
        if i > start && lines + n > LINES_PER_ROW {
            out.push(&clears[start..i]);
            (start, lines) = (i, 0);
        }
        lines += n;
    }
    if start < clears.len() {
        out.push(&clears[start..]);
    }
    out
}
