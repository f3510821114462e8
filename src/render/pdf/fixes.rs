//! "Grouped fixes" in `report.pdf`: the same groups as the HTML report
//! ([`crate::assessment::fix::fix_groups`]), each exact line in monospace with every finding it
//! clears (check id, CIS numbers and asset), placed right after the executive summary.

use super::layout::{Face, Pages, BLACK, MARGIN, TEXT_W};
use super::sections::{columns, SMALL};
use super::table::{Cell, Table};
use crate::assessment::fix::fix_groups;
use crate::assessment::Assessment;

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
            columns(&[("Exact line", 280.0), ("Clears", TEXT_W - 280.0)]),
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
            t.row(
                p,
                &[
                    Cell::styled(line.text.as_str(), Face::Mono, BLACK),
                    Cell::plain(clears.join("\n")),
                ],
            );
        }
        t.end(p);
    }
}
