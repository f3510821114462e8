//! The failing checks of an assessment as a terminal shows them after `scan` and `report`:
//! worst first, each with the assets it failed on (compacted), the check's one-line fix and the
//! exact edit (daemon.json key, run flag, audit rule line) where the catalog gives one,
//! every line fitted to the width of the terminal. Waived failures are left out here (the
//! counts below the list name them); checks that could not be evaluated are listed after.
//!
//! Names come from the host and the catalog: every one is neutralised with
//! [`dockproof::text::terminal`] before it is measured or printed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use dockproof::assessment::fix::{resolved_lines, Fix, FixTarget};
use dockproof::assessment::{Assessment, CheckResult, Severity, Status};
use dockproof::text::terminal as t;

/// How the list is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colour for severities and check ids.
    pub colour: bool,
    /// Columns every line is fitted to.
    pub width: usize,
}

/// One check's failures (or errors), grouped.
struct Group<'a> {
    check_id: &'a str,
    severity: Severity,
    results: Vec<&'a CheckResult>,
}

fn groups(a: &Assessment, status: Status) -> Vec<Group<'_>> {
    let mut by_check: BTreeMap<&str, Group<'_>> = BTreeMap::new();
    for r in a
        .results
        .iter()
        .filter(|r| r.status == status && !r.is_waived())
    {
        by_check
            .entry(r.check_id.as_str())
            .or_insert_with(|| Group {
                check_id: &r.check_id,
                severity: r.severity,
                results: Vec::new(),
            })
            .results
            .push(r);
    }
    let mut list: Vec<Group<'_>> = by_check.into_values().collect();
    list.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then(y.results.len().cmp(&x.results.len()))
            .then(x.check_id.cmp(y.check_id))
    });
    list
}

/// Writes the failing checks, then the checks that could not be evaluated.
pub fn failing_checks(a: &Assessment, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let failing = groups(a, Status::Fail);
    if failing.is_empty() {
        writeln!(out, "no unwaived failing checks")?;
    } else {
        writeln!(out, "failing checks, worst first ({}):", failing.len())?;
    }
    for g in &failing {
        let info = a.checks.iter().find(|c| c.id == g.check_id);
        let title = info.map(|c| t(&c.title).into_owned()).unwrap_or_default();
        let cis = info
            .map(|c| c.references.cis_docker.join(","))
            .filter(|s| !s.is_empty())
            .map(|s| format!(" [CIS {}]", t(&s)))
            .unwrap_or_default();
        let tag = format!("{:<8}", g.severity.as_str().to_uppercase());
        let id = t(g.check_id).into_owned();
        let rest = fit(
            &format!(" {id}  {title}{cis}"),
            style.width.saturating_sub(8),
        );
        // The tag and the id are coloured after fitting, so escapes never count as columns.
        let rest = match rest.strip_prefix(&format!(" {id}")) {
            Some(tail) if style.colour => format!(" \x1b[1m{id}\x1b[0m{tail}"),
            _ => rest,
        };
        writeln!(out, "{}{rest}", paint(&tag, g.severity, style.colour))?;
        writeln!(out, "{}", assets_line("  on:  ", &g.results, style.width))?;
        if let Some(fix) = info.and_then(|c| one_line(&c.remediation)) {
            writeln!(out, "{}", fit(&format!("  fix: {}", t(&fix)), style.width))?;
        }
        if let Some(edit) = info.and_then(|c| exact_edit(c.fix.as_ref()?, &g.results)) {
            writeln!(
                out,
                "{}",
                fit(&format!("  edit: {}", t(&edit)), style.width)
            )?;
        }
    }
    let errors = groups(a, Status::Error);
    if !errors.is_empty() {
        let results: usize = errors.iter().map(|g| g.results.len()).sum();
        let head = format!(
            "could not evaluate {} check(s) on {results} resource(s) (evidence missing; not a \
             pass):",
            errors.len()
        );
        writeln!(out, "{}", fit(&head, style.width))?;
        for g in &errors {
            let head = format!("  {} ", t(g.check_id));
            writeln!(out, "{}", assets_line(&head, &g.results, style.width))?;
        }
    }
    Ok(())
}

/// `prefix` then the resources' names, as many as fit, then `+N more`.
fn assets_line(prefix: &str, results: &[&CheckResult], width: usize) -> String {
    let mut names: Vec<String> = results
        .iter()
        .map(|r| {
            let name = if r.resource.name.is_empty() {
                &r.resource.id
            } else {
                &r.resource.name
            };
            t(name).into_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    compact(prefix, &names, width)
}

/// `prefix` and as many of `names` as fit in `width`, then `+N more` for the rest.
fn compact(prefix: &str, names: &[String], width: usize) -> String {
    let mut line = prefix.to_string();
    for (i, name) in names.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let left = names.len() - i - 1;
        let more = if left > 0 {
            format!(", +{left} more")
        } else {
            String::new()
        };
        if columns(&line) + columns(sep) + columns(name) + columns(&more) > width && i > 0 {
            line.push_str(&format!(", +{} more", names.len() - i));
            return line;
        }
        line.push_str(sep);
        line.push_str(name);
    }
    fit(&line, width)
}

/// The exact edit that clears these results (as the reports' grouped fixes quote it), with
/// `{path}` resolved from each result; `None` when a result does not show the path.
fn exact_edit(fix: &Fix, results: &[&CheckResult]) -> Option<String> {
    let text = fix.text();
    let mut lines: Vec<String> = Vec::new();
    for r in results {
        for line in resolved_lines(&text, r) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if lines.is_empty() {
        return None;
    }
    let joined = lines.join("; ");
    Some(match fix.target() {
        FixTarget::DaemonJson => format!("daemon.json {joined}"),
        _ => joined,
    })
}

/// The first line of a remediation, as the fix to show.
fn one_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn columns(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `width` columns, with `…` where it was cut.
fn fit(s: &str, width: usize) -> String {
    if columns(s) <= width {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn paint(text: &str, severity: Severity, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_cuts_at_the_width_and_marks_the_cut() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
        assert_eq!(columns(&fit(&"é".repeat(100), 80)), 80);
    }

    #[test]
    fn assets_that_do_not_fit_are_counted() {
        let names: Vec<String> = (1..=30).map(|i| format!("web-{i:02}")).collect();
        let line = compact("  on:  ", &names, 40);
        assert_eq!(line, "  on:  web-01, web-02, web-03, +27 more");
        assert!(columns(&line) <= 40);
        let one = compact("  on:  ", &names[..1], 40);
        assert_eq!(one, "  on:  web-01");
        // A single name longer than the line is cut, not dropped.
        let long = vec!["x".repeat(100)];
        assert_eq!(columns(&compact("  on:  ", &long, 40)), 40);
    }

    #[test]
    fn the_fix_is_the_first_non_empty_line() {
        assert_eq!(
            one_line("\n  Run without --privileged.\nMore text.").as_deref(),
            Some("Run without --privileged.")
        );
        assert_eq!(one_line("  \n "), None);
    }
}
