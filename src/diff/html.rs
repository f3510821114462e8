//! The `html` diff format: one self-contained page (inline CSS, no script, nothing fetched).
//!
//! The page is `templates/diff.html.tera`, registered under a name ending in `.html` so Tera
//! auto-escapes every value with [`crate::text::html`]; host-derived strings (container names, waiver ids, titles) only
//! reach the page through it and `| safe` is never used. The view below flattens the diff into
//! titled tables of plain strings so the template has no logic to get wrong.

use std::io::Write;
use std::sync::OnceLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::text::status;
use super::{Diff, DiffRenderer, FindingChange, ScanHeader};
use crate::render::{describe, RenderError};

const TEMPLATE_NAME: &str = "diff.html";
const TEMPLATE: &str = include_str!("../../templates/diff.html.tera");

#[derive(Serialize)]
struct View {
    old: Side,
    new: Side,
    summary: Vec<(String, usize)>,
    sections: Vec<Table>,
}

#[derive(Serialize)]
struct Side {
    host: String,
    docker_host: String,
    engine_id: String,
    generated_at: String,
    collected_until: String,
    snapshot_sha256: String,
    source: String,
}

/// A titled table; when `severity` is set the first cell is a severity and gets its style.
#[derive(Serialize)]
struct Table {
    title: String,
    columns: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    severity: bool,
}

/// Writes the diff as one HTML page.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlDiff;

impl DiffRenderer for HtmlDiff {
    fn name(&self) -> &'static str {
        "html"
    }

    fn render(&self, diff: &Diff, out: &mut dyn Write) -> Result<(), RenderError> {
        let tera = template().map_err(RenderError::Template)?;
        let template_error = |e: tera::Error| RenderError::Template(describe(&e));
        let context = Context::from_serialize(view(diff)).map_err(template_error)?;
        let page = tera
            .render(TEMPLATE_NAME, &context)
            .map_err(template_error)?;
        out.write_all(page.as_bytes())?;
        Ok(())
    }
}

fn template() -> Result<&'static Tera, String> {
    static TERA: OnceLock<Result<Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
            .map_err(|e| describe(&e))?;
        // The shared neutraliser: Tera's escaping plus bidirectional and control characters
        // shown, as in the report.
        tera.set_escape_fn(crate::text::html);
        Ok(tera)
    })
    .as_ref()
    .map_err(Clone::clone)
}

fn side(h: &ScanHeader) -> Side {
    Side {
        host: h.host.clone().unwrap_or_else(|| "unknown".into()),
        docker_host: h.docker_host.clone(),
        engine_id: h.engine_id.clone().unwrap_or_else(|| "unknown".into()),
        generated_at: h.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        collected_until: h.collected_until.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        snapshot_sha256: h.snapshot_sha256.clone(),
        source: h.source.clone(),
    }
}

fn findings(title: &str, list: &[FindingChange]) -> Table {
    Table {
        title: format!("{title} ({})", list.len()),
        columns: vec!["Severity", "Check", "Kind", "Resource", "Old", "New"],
        rows: list
            .iter()
            .map(|f| {
                vec![
                    f.severity.as_str().to_string(),
                    f.check_id.clone(),
                    f.resource.kind.as_str().to_string(),
                    f.resource.name.clone(),
                    status(f.old_status, f.old_waiver.as_deref()),
                    status(f.new_status, f.new_waiver.as_deref()),
                ]
            })
            .collect(),
        severity: true,
    }
}

fn table(title: &str, columns: Vec<&'static str>, rows: Vec<Vec<String>>) -> Table {
    Table {
        title: format!("{title} ({})", rows.len()),
        columns,
        rows,
        severity: false,
    }
}

fn view(diff: &Diff) -> View {
    let s = &diff.summary;
    let f = &diff.findings;
    let w = &diff.waivers;
    let figures = |v: Option<&crate::assessment::Figures>| {
        v.map_or_else(|| "absent".to_string(), crate::assessment::Figures::short)
    };
    let resources = |list: &[super::Resource]| {
        list.iter()
            .map(|r| vec![r.kind.as_str().to_string(), r.name.clone()])
            .collect()
    };
    let waiver_refs = |list: &[super::WaiverRef]| {
        list.iter()
            .map(|w| {
                let state = w.state.as_str().to_string();
                vec![
                    w.id.clone(),
                    w.check_id.clone(),
                    state,
                    w.covered.to_string(),
                ]
            })
            .collect()
    };
    let mut sections = vec![
        findings("Newly failing", &f.newly_failing),
        findings("New errors (evidence missing)", &f.new_errors),
        findings("Newly passing", &f.newly_passing),
        findings(
            "No longer failing, not passing either",
            &f.no_longer_failing,
        ),
        findings("Errors resolved", &f.errors_resolved),
        findings("Still error", &f.still_error),
        findings("Still failing", &f.still_failing),
        table(
            "Resources added",
            vec!["Kind", "Name"],
            resources(&diff.resources.added),
        ),
        table(
            "Resources removed",
            vec!["Kind", "Name"],
            resources(&diff.resources.removed),
        ),
        table(
            "Resources recreated under the same name",
            vec!["Kind", "Name", "Old ids", "New ids"],
            diff.resources
                .replaced
                .iter()
                .map(|r| {
                    let kind = r.kind.as_str().to_string();
                    vec![
                        kind,
                        r.name.clone(),
                        r.old_ids.join(" "),
                        r.new_ids.join(" "),
                    ]
                })
                .collect(),
        ),
    ];
    let check_rows = |list: &[super::CheckRef]| {
        list.iter()
            .map(|c| {
                vec![
                    c.severity.as_str().to_string(),
                    c.id.clone(),
                    c.title.clone(),
                ]
            })
            .collect::<Vec<_>>()
    };
    for (title, list) in [
        ("Checks added", &diff.checks.added),
        ("Checks removed", &diff.checks.removed),
    ] {
        let mut t = table(title, vec!["Severity", "Check", "Title"], check_rows(list));
        t.severity = true;
        sections.push(t);
    }
    let waiver_cols = || vec!["Waiver", "Check", "State", "Covers"];
    sections.push(table("Waivers added", waiver_cols(), waiver_refs(&w.added)));
    sections.push(table(
        "Waivers removed",
        waiver_cols(),
        waiver_refs(&w.removed),
    ));
    sections.push(table(
        "Waivers changed",
        vec![
            "Waiver",
            "Check",
            "Old state",
            "New state",
            "Covered old",
            "Covered new",
        ],
        w.changed
            .iter()
            .map(|c| {
                vec![
                    c.id.clone(),
                    c.check_id.clone(),
                    c.old_state.as_str().to_string(),
                    c.new_state.as_str().to_string(),
                    c.old_covered.to_string(),
                    c.new_covered.to_string(),
                ]
            })
            .collect(),
    ));
    sections.push(findings("Newly waived", &w.newly_waived));
    sections.push(findings("No longer waived", &w.no_longer_waived));
    sections.push(table(
        "Framework figures",
        vec!["Framework", "Old", "New", "Requirements changed"],
        diff.frameworks
            .iter()
            .map(|fw| {
                vec![
                    format!("{} ({})", fw.name, fw.id),
                    figures(fw.old_figures.as_ref()),
                    figures(fw.new_figures.as_ref()),
                    fw.requirements.len().to_string(),
                ]
            })
            .collect(),
    ));
    for fw in &diff.frameworks {
        let absent = |s: Option<crate::assessment::RequirementState>| {
            s.map_or("absent", |s| s.as_str()).to_string()
        };
        sections.push(table(
            &format!("{}: requirement changes", fw.name),
            vec!["Requirement", "Title", "Old", "New"],
            fw.requirements
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.title.clone(),
                        absent(r.old_state),
                        absent(r.new_state),
                    ]
                })
                .collect(),
        ));
    }
    View {
        old: side(&diff.old),
        new: side(&diff.new),
        summary: vec![
            ("newly failing".into(), s.newly_failing),
            ("new errors".into(), s.new_errors),
            ("newly passing".into(), s.newly_passing),
            ("still failing".into(), s.still_failing),
            ("resources added".into(), s.resources_added),
            ("resources removed".into(), s.resources_removed),
            ("requirements changed".into(), s.requirements_changed),
        ],
        sections,
    }
}
