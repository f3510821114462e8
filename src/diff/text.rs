//! The `text` diff format: plain text for a terminal or a scheduled job's log.
//!
//! No colour and no control characters from the inputs: every string read from an assessment
//! goes through [`crate::text::terminal`], so a hostile container name, check id or title can
//! neither rewrite the terminal nor reorder the line with bidirectional controls. Every section
//! is printed with its count, even when empty, so "0 newly failing" is stated, not implied.

use std::io::{self, Write};

use super::{Diff, DiffRenderer, FindingChange, ScanHeader};
use crate::assessment::{Figures, Status};
use crate::render::RenderError;

/// Writes the diff as text.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextDiff;

impl DiffRenderer for TextDiff {
    fn name(&self) -> &'static str {
        "text"
    }

    fn render(&self, diff: &Diff, out: &mut dyn Write) -> Result<(), RenderError> {
        Ok(write(diff, out)?)
    }
}

fn write(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "dockproof diff (technical evidence compared, old -> new)"
    )?;
    header(out, "old", &diff.old)?;
    header(out, "new", &diff.new)?;
    let s = &diff.summary;
    writeln!(
        out,
        "summary: {} newly failing, {} newly passing, {} still failing, {} new errors, \
         {} errors resolved, {} resources added, {} removed",
        s.newly_failing,
        s.newly_passing,
        s.still_failing,
        s.new_errors,
        s.errors_resolved,
        s.resources_added,
        s.resources_removed
    )?;

    let f = &diff.findings;
    findings(out, "Newly failing", &f.newly_failing)?;
    findings(
        out,
        "New errors (evidence missing or rule not evaluable)",
        &f.new_errors,
    )?;
    findings(out, "Newly passing", &f.newly_passing)?;
    findings(
        out,
        "No longer failing, not passing either (gone, not applicable or manual)",
        &f.no_longer_failing,
    )?;
    findings(out, "Errors resolved", &f.errors_resolved)?;
    findings(out, "Still error", &f.still_error)?;
    findings(out, "Still failing", &f.still_failing)?;

    let r = &diff.resources;
    section(out, "Resources added", r.added.len())?;
    for res in &r.added {
        writeln!(out, "  {:<9} {}", res.kind.as_str(), clean(&res.name))?;
    }
    section(out, "Resources removed", r.removed.len())?;
    for res in &r.removed {
        writeln!(out, "  {:<9} {}", res.kind.as_str(), clean(&res.name))?;
    }
    section(
        out,
        "Resources recreated under the same name",
        r.replaced.len(),
    )?;
    for res in &r.replaced {
        writeln!(
            out,
            "  {:<9} {}  id {} -> {}",
            res.kind.as_str(),
            clean(&res.name),
            short_ids(&res.old_ids),
            short_ids(&res.new_ids)
        )?;
    }

    let c = &diff.checks;
    section(out, "Checks added", c.added.len())?;
    for check in &c.added {
        writeln!(
            out,
            "  {:<8} {}  {}",
            check.severity.as_str(),
            clean(&check.id),
            clean(&check.title)
        )?;
    }
    section(out, "Checks removed", c.removed.len())?;
    for check in &c.removed {
        writeln!(
            out,
            "  {:<8} {}  {}",
            check.severity.as_str(),
            clean(&check.id),
            clean(&check.title)
        )?;
    }

    let w = &diff.waivers;
    section(out, "Waivers added", w.added.len())?;
    for wv in &w.added {
        let (id, state) = (clean(&wv.id), wv.state.as_str());
        writeln!(
            out,
            "  {id}  {}  {state}, covers {}",
            clean(&wv.check_id),
            wv.covered
        )?;
    }
    section(out, "Waivers removed", w.removed.len())?;
    for wv in &w.removed {
        let (id, state) = (clean(&wv.id), wv.state.as_str());
        writeln!(
            out,
            "  {id}  {}  was {state}, covered {}",
            clean(&wv.check_id),
            wv.covered
        )?;
    }
    section(out, "Waivers changed", w.changed.len())?;
    for wv in &w.changed {
        writeln!(
            out,
            "  {}  {}  {} -> {}, covers {} -> {}",
            clean(&wv.id),
            clean(&wv.check_id),
            wv.old_state.as_str(),
            wv.new_state.as_str(),
            wv.old_covered,
            wv.new_covered
        )?;
    }
    findings(out, "Newly waived", &w.newly_waived)?;
    findings(out, "No longer waived", &w.no_longer_waived)?;

    writeln!(out, "\nFrameworks ({})", diff.frameworks.len())?;
    for fw in &diff.frameworks {
        writeln!(
            out,
            "  {} ({}): {} -> {}; {} requirement(s) changed",
            clean(&fw.id),
            clean(&fw.name),
            figures(fw.old_figures.as_ref()),
            figures(fw.new_figures.as_ref()),
            fw.requirements.len()
        )?;
        let width = fw
            .requirements
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(0);
        for req in &fw.requirements {
            writeln!(
                out,
                "    {:<width$}  {} -> {}  {}",
                clean(&req.id),
                req.old_state.map_or("absent", |s| s.as_str()),
                req.new_state.map_or("absent", |s| s.as_str()),
                clean(&req.title)
            )?;
        }
    }
    Ok(())
}

fn header(out: &mut dyn Write, side: &str, h: &ScanHeader) -> io::Result<()> {
    writeln!(
        out,
        "{side}: host {} ({}), generated {}, collected {}",
        clean(h.host.as_deref().unwrap_or("unknown")),
        clean(&h.docker_host),
        h.generated_at.format("%Y-%m-%dT%H:%M:%SZ"),
        h.collected_until.format("%Y-%m-%dT%H:%M:%SZ"),
    )?;
    writeln!(
        out,
        "     engine id {}, snapshot sha256 {}",
        clean(h.engine_id.as_deref().unwrap_or("unknown")),
        clean(&h.snapshot_sha256)
    )?;
    if !h.source.is_empty() {
        writeln!(out, "     read from {}", clean(&h.source))?;
    }
    Ok(())
}

fn section(out: &mut dyn Write, title: &str, count: usize) -> io::Result<()> {
    writeln!(out, "\n{title} ({count})")
}

/// One line per finding: severity, check id, resource kind and name, old -> new status.
fn findings(out: &mut dyn Write, title: &str, list: &[FindingChange]) -> io::Result<()> {
    section(out, title, list.len())?;
    let width = list.iter().map(|f| f.check_id.chars().count()).max();
    let name_width = list.iter().map(|f| f.resource.name.chars().count()).max();
    let (width, name_width) = (width.unwrap_or(0), name_width.unwrap_or(0).min(40));
    for f in list {
        writeln!(
            out,
            "  {:<8} {:<width$}  {:<9} {:<name_width$}  {} -> {}",
            f.severity.as_str(),
            clean(&f.check_id),
            f.resource.kind.as_str(),
            clean(&f.resource.name),
            status(f.old_status, f.old_waiver.as_deref()),
            status(f.new_status, f.new_waiver.as_deref()),
        )?;
    }
    Ok(())
}

/// A verdict as the diff prints it: `absent` when the finding was not there, and the waiver
/// that covers it, if any.
pub(super) fn status(s: Option<Status>, waiver: Option<&str>) -> String {
    let base = s.map_or("absent", Status::as_str);
    match waiver {
        Some(id) => format!("{base} (waived {})", clean(id)),
        None => base.to_string(),
    }
}

fn figures(f: Option<&Figures>) -> String {
    f.map_or_else(|| "absent".to_string(), Figures::short)
}

fn short_ids(ids: &[String]) -> String {
    let short: Vec<&str> = ids.iter().map(|i| i.get(..12).unwrap_or(i)).collect();
    clean(&short.join(","))
}

/// Input-derived text through the shared terminal neutraliser: control, bidirectional and
/// other invisible characters shown as `[U+XXXX]`.
fn clean(s: &str) -> String {
    crate::text::terminal(s).into_owned()
}
