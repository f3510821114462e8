//! The sections of `report.pdf`, in reading order: cover, executive summary, scope and method and
//! the appendix (the requirement matrices and the states' legend are in `matrix.rs`, the findings
//! detail in `findings.rs`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::layout::{leading, Face, Pages, BLACK, GREY, MARGIN, PAGE_H, TEXT_W};
use super::table::{Cell, Column, Table};
use super::{host_name, severity_color, status_color};
use crate::assessment::{Assessment, Severity, Status};

/// What this document is, on the cover.
pub(super) const DISCLAIMER: &str = "This report is technical evidence collected from one Docker \
host, not a statement of compliance. Each framework requirement carries an evidence state for the \
assessor to confirm; requirements awaiting manual evidence need documents, interviews or \
attestations that only a person can supply, and are open, not failed.";

/// How results were produced, in the scope section.
pub(super) const METHOD: &str = "Every check of the catalogs was evaluated against each resource \
it applies to, using only the snapshot named on the cover, except what a selection shown above \
left out. A result is pass (the rule held), fail \
(it did not), error (the data the rule needs was missing or the rule could not be evaluated; \
never counted as a pass), not applicable, or manual (a person has to decide). A framework \
requirement takes an evidence state from its deciding checks: not in place when one failed, \
incomplete when one could not be evaluated and none failed, not assessed (excluded by \
selection) when the selection left out a deciding check or resources it judges and none failed, \
consistent with in place when all \
passed and technical evidence alone decides the requirement, and otherwise awaiting manual \
evidence. Supporting checks are shown but do not decide. A failure covered by an active waiver \
keeps its verdict: the requirement stays not in place, with the risk accepted under the named \
waiver. An attestation records the assessor's own finding for its requirement and never \
overrides a technical failure. There is no percentage score; every figure is a count with its \
denominator.";

pub(super) const BODY: f32 = 9.5;
pub(super) const SMALL: f32 = 8.5;

fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn or_unreported(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("not reported")
}

/// Label and value rows without borders.
pub(super) fn fields(p: &mut Pages, rows: &[(&str, String, Face)]) {
    let label_w = 150.0;
    for (label, value, face) in rows {
        let size = if *face == Face::Mono { SMALL } else { BODY };
        let lines = p.fonts.wrap(*face, size, value, TEXT_W - label_w);
        p.ensure(leading(BODY) * lines.len().max(1) as f32);
        let top = p.y;
        p.text_at(MARGIN, top - BODY, Face::Bold, BODY, GREY, label);
        p.lines(MARGIN + label_w, *face, size, BLACK, &lines);
        p.y = p.y.min(top - leading(BODY)) - 2.0;
    }
}

pub(super) fn cover(p: &mut Pages, a: &Assessment) {
    let s = &a.snapshot;
    let t = &s.target;
    p.bookmark("Cover");
    p.y = PAGE_H - 150.0;
    p.rect(MARGIN, p.y + 30.0, 60.0, 4.0, (0.16, 0.33, 0.62));
    p.text_at(
        MARGIN,
        p.y - 26.0,
        Face::Bold,
        26.0,
        BLACK,
        "Docker host assessment",
    );
    p.y -= 40.0;
    p.paragraph(MARGIN, TEXT_W, Face::Sans, 16.0, host_name(a));
    p.gap(20.0);
    // --- engagement scope: first on the cover ---
    super::engagement::cover_scope(p, a);
    p.gap(10.0);
    fields(
        p,
        &[
            ("Host", host_name(a).to_string(), Face::Sans),
            ("Docker host", t.endpoint_label(), Face::Mono),
            (
                "Engine version",
                or_unreported(&t.engine_version).into(),
                Face::Sans,
            ),
            ("Operating system", or_unreported(&t.os).into(), Face::Sans),
            (
                "Collected (UTC)",
                format!("{} to {}", iso(&s.collected_from), iso(&s.collected_until)),
                Face::Sans,
            ),
            ("Evaluated (UTC)", iso(&a.generated_at), Face::Sans),
            (
                "Tool",
                format!("{} {}", a.tool.name, a.tool.version),
                Face::Sans,
            ),
            ("Catalog SHA-256", a.catalog.sha256.clone(), Face::Mono),
            ("Snapshot SHA-256", s.sha256.clone(), Face::Mono),
        ],
    );
    // The figures, each with its denominator: the first thing a reader takes away.
    if !a.frameworks.is_empty() {
        p.gap(12.0);
        let rows: Vec<(String, String)> = (a.frameworks.iter())
            .map(|fw| (format!("{} {}", fw.name, fw.version), fw.figures.compact()))
            .collect();
        for (name, figures) in &rows {
            let lines = p.fonts.wrap(Face::Sans, SMALL, figures, TEXT_W - 150.0);
            let names = p.fonts.wrap(Face::Bold, SMALL, name, 142.0);
            let top = p.y;
            p.lines(MARGIN, Face::Bold, SMALL, GREY, &names);
            let below_names = p.y;
            p.y = top;
            p.lines(MARGIN + 150.0, Face::Sans, SMALL, BLACK, &lines);
            p.y = p.y.min(below_names) - 4.0;
        }
    }
    p.gap(24.0);
    let lines = p.fonts.wrap(Face::Sans, 10.0, DISCLAIMER, TEXT_W - 24.0);
    let h = lines.len() as f32 * leading(10.0) + 20.0;
    p.ensure(h);
    p.rect(MARGIN, p.y, TEXT_W, h, (0.93, 0.95, 0.98));
    p.rect(MARGIN, p.y, 3.0, h, (0.16, 0.33, 0.62));
    p.gap(10.0);
    p.lines(MARGIN + 12.0, Face::Sans, 10.0, BLACK, &lines);
    p.new_page();
}

pub(super) fn scope(p: &mut Pages, a: &Assessment) {
    let s = &a.snapshot;
    p.new_page();
    p.heading("Scope and method", 16.0, Some("Scope and method"));
    p.heading("What was collected", 11.5, None);
    let stopped = if s.include_stopped {
        "Stopped containers were included."
    } else {
        "Only running containers were included."
    };
    p.body(&format!(
        "{} {} read the Docker Engine API at {} and host files under {} between {} and {} \
             (UTC). {stopped} Objects observed:",
        s.collected_by.name,
        s.collected_by.version,
        s.target.docker_host,
        s.host_root,
        iso(&s.collected_from),
        iso(&s.collected_until),
    ));
    p.gap(4.0);
    let mut t = Table::start(p, columns(&[("Kind", 150.0), ("Objects", 80.0)]), SMALL);
    for (kind, n) in &s.inventory {
        t.row(p, &[Cell::plain(kind.as_str()), Cell::plain(n.to_string())]);
    }
    t.end(p);

    p.heading("Gaps in the evidence", 11.5, None);
    if s.gaps.is_empty() {
        p.body("None: every source was read.");
    } else {
        p.body(
            "These sources could not be read; checks that needed them report error, never pass.",
        );
        p.gap(4.0);
        let mut t = Table::start(
            p,
            columns(&[("Source", 190.0), ("Error", TEXT_W - 190.0)]),
            SMALL,
        );
        for g in &s.gaps {
            t.row(
                p,
                &[
                    Cell::styled(g.source.as_str(), Face::Mono, BLACK),
                    Cell::plain(g.error.as_str()),
                ],
            );
        }
        t.end(p);
    }

    if let Some(selection) = &a.selection {
        p.heading("Selection: part of the host was not assessed", 11.5, None);
        p.body(
            "Requirements decided by what was left out are not assessed (excluded by \
             selection), never consistent with in place.",
        );
        for line in selection.lines() {
            p.body(&line);
        }
    }
    if let Some(configuration) = &a.configuration {
        p.heading("Configuration", 11.5, None);
        for line in configuration.lines() {
            p.body(&line);
        }
    }

    p.heading("Method", 11.5, None);
    p.body(METHOD);
    p.gap(6.0);
    let mut rows = vec![("Catalogs", a.catalog.sources.join(", "), Face::Mono)];
    let params: Vec<String> = a
        .params
        .iter()
        .map(|(k, v)| format!("{k} = {}", serde_json::to_string(v).unwrap_or_default()))
        .collect();
    rows.push((
        "Site parameters",
        if params.is_empty() {
            "defaults".into()
        } else {
            params.join("\n")
        },
        Face::Mono,
    ));
    fields(p, &rows);
    // --- run provenance ---
    super::engagement::provenance(p, a);
}

pub(super) fn columns(spec: &[(&'static str, f32)]) -> Vec<Column> {
    spec.iter()
        .map(|(title, width)| Column {
            title,
            width: *width,
        })
        .collect()
}

/// A horizontal bar chart drawn with rectangles.
fn bars(p: &mut Pages, title: &str, items: &[(&str, usize, (f32, f32, f32))]) {
    let row = 16.0;
    let label_w = 110.0;
    let bar_max = 300.0;
    p.ensure(row * (items.len() as f32 + 2.0));
    p.text_at(MARGIN, p.y - 10.0, Face::Bold, 10.0, BLACK, title);
    p.gap(18.0);
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    for (label, count, color) in items {
        let top = p.y;
        p.text_at(MARGIN, top - 10.0, Face::Sans, SMALL, BLACK, label);
        let w = if *count == 0 {
            0.0
        } else {
            (*count as f32 / max as f32 * bar_max).max(2.0)
        };
        if w > 0.0 {
            p.rect(MARGIN + label_w, top - 2.0, w, 10.0, *color);
        }
        let n = count.to_string();
        p.text_at(
            MARGIN + label_w + w + 5.0,
            top - 10.0,
            Face::Sans,
            SMALL,
            BLACK,
            &n,
        );
        p.gap(row);
    }
    p.gap(10.0);
}

pub(super) fn summary(p: &mut Pages, a: &Assessment) {
    p.heading("Executive summary", 16.0, Some("Executive summary"));
    let failed = a.summary.by_status.get(&Status::Fail).copied().unwrap_or(0);
    let errors = a
        .summary
        .by_status
        .get(&Status::Error)
        .copied()
        .unwrap_or(0);
    p.body(&format!(
        "{} results from {} checks: {failed} failed and {errors} could not be evaluated. \
             The requirement matrices and the findings detail follow.",
        a.summary.total,
        a.checks.len()
    ));
    p.gap(10.0);
    let by_status: Vec<_> = Status::ALL
        .iter()
        .map(|s| {
            (
                s.label(),
                a.summary.by_status.get(s).copied().unwrap_or(0),
                status_color(*s),
            )
        })
        .collect();
    bars(p, "Results by status", &by_status);
    let by_severity: Vec<_> = Severity::ALL
        .iter()
        .map(|s| {
            let n = a.summary.failed_by_severity.get(s).copied().unwrap_or(0);
            (s.label(), n, severity_color(*s))
        })
        .collect();
    bars(p, "Failed results by severity", &by_severity);

    p.heading("Requirements per framework", 11.5, None);
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        "Evidence states, not findings: the assessor confirms what the evidence is consistent \
         with, and requirements awaiting manual evidence are open, not failed. Each figure has \
         its denominator.",
    );
    p.gap(4.0);
    for fw in &a.frameworks {
        p.heading(&format!("{} {}", fw.name, fw.version), 10.5, None);
        for line in fw.figures.lines() {
            p.paragraph(MARGIN + 8.0, TEXT_W - 8.0, Face::Sans, SMALL, &line);
        }
        p.gap(4.0);
    }
    if a.summary.waived > 0 {
        p.paragraph(
            MARGIN,
            TEXT_W,
            Face::Sans,
            SMALL,
            &if a.summary.waived == 1 {
                "1 failed result is covered by an active waiver: the requirements it decides stay \
                 not in place, with the risk accepted; see the waiver register."
                    .to_string()
            } else {
                format!(
                    "{} failed results are covered by active waivers: the requirements they \
                     decide stay not in place, with the risk accepted; see the waiver register.",
                    a.summary.waived
                )
            },
        );
        p.gap(4.0);
    }
    // --- top risks, then the grouped fixes ---
    super::engagement::top_risks(p, a);
    super::matrix::legend(p, a);
}

pub(super) fn appendix(p: &mut Pages, a: &Assessment, written: &[(String, String)]) {
    p.new_page();
    p.heading(
        "Appendix: evidence identity",
        16.0,
        Some("Appendix: hashes"),
    );
    p.body(
        "These hashes tie this report to the exact evidence and rules used. The snapshot hash is \
         the SHA-256 of snapshot.json in the bundle; recomputing it (sha256sum snapshot.json) \
         must give the same value.",
    );
    p.gap(8.0);
    let s = &a.snapshot;
    fields(
        p,
        &[
            ("Snapshot SHA-256", s.sha256.clone(), Face::Mono),
            ("Snapshot schema", s.schema_version.to_string(), Face::Sans),
            (
                "Collected by",
                format!("{} {}", s.collected_by.name, s.collected_by.version),
                Face::Sans,
            ),
            ("Catalog SHA-256", a.catalog.sha256.clone(), Face::Mono),
            ("Catalog sources", a.catalog.sources.join("\n"), Face::Mono),
            (
                "Assessment schema",
                a.schema_version.to_string(),
                Face::Sans,
            ),
            (
                "Evaluated by",
                format!("{} {}", a.tool.name, a.tool.version),
                Face::Sans,
            ),
            ("Evaluated at (UTC)", iso(&a.generated_at), Face::Sans),
        ],
    );
    if written.is_empty() {
        return;
    }
    p.gap(10.0);
    p.heading("Bundle files", 11.5, None);
    p.body(
        "SHA-256 of the files of this bundle written before this report. SHA256SUMS in the \
         bundle lists these and the reports themselves (a document cannot hold its own hash); \
         `sha256sum -c SHA256SUMS` or `dockproof verify` checks them all.",
    );
    p.gap(4.0);
    let spec = [("File", 150.0), ("SHA-256", TEXT_W - 150.0)];
    let mut t = Table::start(p, columns(&spec), SMALL);
    for (name, sha) in written {
        t.row(
            p,
            &[
                Cell::styled(name.as_str(), Face::Sans, BLACK),
                Cell::styled(sha.as_str(), Face::Mono, BLACK),
            ],
        );
    }
    t.end(p);
}
