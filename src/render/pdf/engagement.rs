//! The engagement parts of `report.pdf`: the scope on the cover (or the plain statement that
//! none was declared), the run provenance on the scope page, the top risks of the executive
//! summary, and the marking that heads every page.

use super::layout::{leading, Face, Pages, BLACK, GREY, MARGIN, TEXT_W};
use super::sections::{columns, fields, BODY, SMALL};
use super::severity_color;
use super::table::{Cell, Table};
use crate::assessment::Assessment;
use crate::catalog::CatalogOrigin;
use crate::engagement::NO_SCOPE;

/// Text a host or a file supplied, with control and invisible characters made visible.
fn shown(s: &str) -> String {
    crate::text::terminal_lines(s).into_owned()
}

/// The line printed at the top of every page: marking and entity; `None` without a scope.
pub(super) fn page_header(a: &Assessment) -> Option<String> {
    a.scope.as_ref().map(|s| shown(&s.header()))
}

/// The scope rows of the cover, or the sentence saying no scope was declared.
pub(super) fn cover_scope(p: &mut Pages, a: &Assessment) {
    match &a.scope {
        Some(scope) => {
            let rows: Vec<(&str, String, Face)> = (scope.rows().into_iter())
                .map(|(label, value)| (label, shown(&value), Face::Sans))
                .collect();
            fields(p, &rows);
        }
        None => {
            let lines = p.fonts.wrap(Face::Bold, BODY, NO_SCOPE, TEXT_W);
            p.lines(MARGIN, Face::Bold, BODY, (0.6, 0.36, 0.0), &lines);
            p.gap(4.0);
        }
    }
}

/// How the assessment was produced, on the scope page.
pub(super) fn provenance(p: &mut Pages, a: &Assessment) {
    p.heading("Run provenance", 11.5, None);
    let t = &a.snapshot.target;
    let reported = |v: &Option<String>| shown(v.as_deref().unwrap_or("not reported"));
    let mut rows: Vec<(&str, String, Face)> = vec![
        ("Engine id", reported(&t.engine_id), Face::Mono),
        ("Kernel", reported(&t.kernel), Face::Sans),
        ("Architecture", reported(&t.architecture), Face::Sans),
        ("API version", reported(&t.api_version), Face::Sans),
        (
            "Tool",
            format!("{} {}", a.tool.name, a.tool.version),
            Face::Sans,
        ),
    ];
    let Some(prov) = &a.provenance else {
        rows.push((
            "Run provenance",
            "not recorded (an assessment written by an older dockproof)".to_string(),
            Face::Sans,
        ));
        fields(p, &rows);
        return;
    };
    let overridden = (prov.catalog_files.iter()).any(|f| f.origin == CatalogOrigin::Overrides);
    for (label, value) in prov.rows() {
        let face = if label == "Collecting account" || label == "Frameworks" {
            Face::Sans
        } else {
            Face::Mono
        };
        rows.push((label, shown(&value), face));
    }
    fields(p, &rows);
    if overridden {
        p.gap(4.0);
        let warning = "A catalog given with --controls replaces a built-in one: its checks may \
                       pass whatever the host holds. Compare its hash with the approved catalog.";
        let lines = p.fonts.wrap(Face::Bold, BODY, warning, TEXT_W);
        p.lines(
            MARGIN,
            Face::Bold,
            BODY,
            severity_color(crate::assessment::Severity::High),
            &lines,
        );
    }
}

/// The top risks of the executive summary: one row per unwaived critical or high failure,
/// grouped by asset, worst asset first.
pub(super) fn top_risks(p: &mut Pages, a: &Assessment) {
    p.heading("Top risks", 11.5, None);
    let count: usize = a.top_risks.iter().map(|r| r.risks.len()).sum();
    if count == 0 {
        p.body("No critical or high failure without a waiver.");
        p.gap(4.0);
        return;
    }
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        &format!(
            "Unwaived critical and high failures by asset, worst first: {count} finding(s) on \
             {} asset(s).",
            a.top_risks.len()
        ),
    );
    p.gap(4.0);
    let spec = [
        ("Asset", 115.0),
        ("Check", 170.0),
        ("Severity", 50.0),
        ("Decides", TEXT_W - 335.0),
    ];
    let mut t = Table::start(p, columns(&spec), SMALL);
    for asset in &a.top_risks {
        for (i, r) in asset.risks.iter().enumerate() {
            let name = if i == 0 {
                shown(&format!(
                    "{} {}",
                    asset.resource.kind.as_str(),
                    asset.resource.name
                ))
            } else {
                String::new()
            };
            t.row(
                p,
                &[
                    Cell::styled(name, Face::Bold, BLACK),
                    Cell::plain(shown(&format!("{} {}", r.check_id, r.title))),
                    Cell::styled(r.severity.label(), Face::Bold, severity_color(r.severity)),
                    Cell::styled(
                        if r.decides.is_empty() {
                            "none of the selected frameworks".to_string()
                        } else {
                            r.decides_text()
                        },
                        Face::Sans,
                        GREY,
                    ),
                ],
            );
        }
    }
    t.end(p);
    p.gap(leading(BODY));
}
