//! Text written to the terminal: logging setup, the counts below the scan summary and the catalog
//! listings. Results go to stdout; progress and diagnostics go to stderr. Every string read from a
//! snapshot, an assessment or a catalog is printed through [`dockproof::text::terminal`].

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use dockproof::assessment::{
    Assessment, AssessmentMode, AttestationState, RequirementState, Severity, Status, WaiverState,
};
use dockproof::catalog::{Catalog, Check};
use dockproof::text::{terminal as t, terminal_lines as tl};

/// Sends `tracing` output to stderr; `-v` raises the level, `--quiet` keeps errors only,
/// `RUST_LOG` overrides. Colour follows the same rule as all other output: a terminal and no
/// `NO_COLOR`.
pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match verbose {
        _ if quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("dockproof={default}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(super::terminal::stderr)
        .with_ansi(super::terminal::colour(super::terminal::Stream::Stderr))
        .with_target(false)
        .try_init();
}

fn join_counts<K: Copy + Ord>(
    counts: &BTreeMap<K, usize>,
    order: &[K],
    name: impl Fn(K) -> &'static str,
) -> String {
    let parts: Vec<String> = order
        .iter()
        .filter_map(|k| {
            counts
                .get(k)
                .filter(|n| **n > 0)
                .map(|n| format!("{n} {}", name(*k)))
        })
        .collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// The counts of a scan or report, below the failing checks: the bundle (when one was
/// written), the target, results by status and severity, framework figures, waivers,
/// attestations and collection gaps.
pub fn counts(a: &Assessment, bundle: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    if let Some(bundle) = bundle {
        writeln!(out, "bundle: {}", t(&bundle.display().to_string()))?;
    }
    writeln!(
        out,
        "target: {} (engine {}), collected {}",
        t(a.snapshot
            .target
            .hostname
            .as_deref()
            .unwrap_or("unknown host")),
        t(a.snapshot
            .target
            .engine_version
            .as_deref()
            .unwrap_or("unknown")),
        a.snapshot.collected_until.format("%Y-%m-%dT%H:%M:%SZ"),
    )?;
    write!(
        out,
        "results: {}",
        join_counts(&a.summary.by_status, &Status::ALL, Status::as_str)
    )?;
    if a.summary.waived > 0 {
        write!(out, " ({} of the failures waived)", a.summary.waived)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "failed by severity: {}",
        join_counts(
            &a.summary.failed_by_severity,
            &Severity::ALL,
            Severity::as_str
        )
    )?;
    if !a.frameworks.is_empty() {
        // Counts with their denominators, never a percentage: open manual requirements are
        // not failures, and a waived failure is not in place.
        writeln!(
            out,
            "requirements (evidence for an assessor to confirm, not a compliance verdict):"
        )?;
    }
    for fw in &a.frameworks {
        writeln!(out, "  {} {} ({})", t(&fw.name), t(&fw.version), t(&fw.id))?;
        writeln!(out, "    {}", fw.figures.compact())?;
        writeln!(
            out,
            "    states: {}",
            join_counts(&fw.counts, &RequirementState::ALL, RequirementState::as_str)
        )?;
        for q in fw
            .requirements
            .iter()
            .filter(|q| q.state == RequirementState::RiskAccepted)
        {
            writeln!(
                out,
                "    {} {}: {}",
                t(&q.id),
                t(&q.title),
                t(&a.waiver_note(q).unwrap_or_default())
            )?;
        }
    }
    if !a.waivers.is_empty() {
        let mut states: Vec<String> = Vec::new();
        for state in [
            WaiverState::Active,
            WaiverState::Unused,
            WaiverState::Expired,
            WaiverState::NotYetValid,
        ] {
            let n = a.waivers.iter().filter(|w| w.state == state).count();
            if n > 0 {
                states.push(format!("{n} {}", state.as_str()));
            }
        }
        writeln!(out, "waivers: {}", states.join(", "))?;
        for w in a.waivers.iter().filter(|w| w.state != WaiverState::Active) {
            writeln!(
                out,
                "  waiver {} ({}) {}: {}",
                t(&w.id),
                t(&w.source),
                t(&w.check_id),
                w.state.label().to_lowercase()
            )?;
        }
    }
    if !a.attestations.is_empty() {
        let applied = a
            .attestations
            .iter()
            .filter(|t| t.state == AttestationState::Applied)
            .count();
        writeln!(
            out,
            "attestations: {applied} applied of {}",
            a.attestations.len()
        )?;
        for a in a
            .attestations
            .iter()
            .filter(|t| t.state != AttestationState::Applied)
        {
            writeln!(
                out,
                "  attestation {} {} ({}): {}",
                t(&a.framework),
                t(&a.requirement),
                t(&a.source),
                a.state.label().to_lowercase()
            )?;
        }
    }
    if !a.snapshot.gaps.is_empty() {
        writeln!(
            out,
            "collection gaps: {} (checks that need them report error)",
            a.snapshot.gaps.len()
        )?;
    }
    Ok(())
}

/// `controls list`: one line per check.
pub fn checks_table(
    catalog: &Catalog,
    framework: Option<&str>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let selected: Vec<&Check> = match framework.and_then(|id| catalog.framework(id)) {
        Some(fw) => {
            let ids: std::collections::BTreeSet<&str> = fw
                .requirements
                .iter()
                .flat_map(|r| r.checks.iter().chain(r.supporting.iter()))
                .map(String::as_str)
                .collect();
            catalog
                .checks
                .iter()
                .filter(|c| ids.contains(c.def.id.as_str()))
                .collect()
        }
        None => catalog.checks.iter().collect(),
    };
    writeln!(
        out,
        "{:<40} {:<9} {:<10} {:<9} {:<8} TITLE",
        "ID", "SEVERITY", "RESOURCE", "MODE", "CIS"
    )?;
    for c in &selected {
        let d = &c.def;
        writeln!(
            out,
            "{:<40} {:<9} {:<10} {:<9} {:<8} {}",
            t(&d.id),
            d.severity.as_str(),
            d.resource.as_str(),
            format!("{:?}", d.mode).to_lowercase(),
            t(&d.references.cis_docker.join(",")),
            t(&d.title)
        )?;
    }
    writeln!(out, "{} checks", selected.len())?;
    if let Some(fw) = framework.and_then(|id| catalog.framework(id)) {
        writeln!(out, "{}", coverage_line(fw))?;
    }
    Ok(())
}

fn coverage_line(fw: &dockproof::catalog::Framework) -> String {
    let count = |m: AssessmentMode| fw.requirements.iter().filter(|r| r.mode == m).count();
    format!(
        "{} {}: {} requirements: {} automated, {} partial, {} manual",
        t(&fw.meta.name),
        t(&fw.meta.version),
        fw.requirements.len(),
        count(AssessmentMode::Automated),
        count(AssessmentMode::Partial),
        count(AssessmentMode::Manual)
    )
}

/// `controls show ID`.
pub fn check_detail(catalog: &Catalog, c: &Check, out: &mut dyn Write) -> io::Result<()> {
    let d = &c.def;
    writeln!(out, "{} — {}", t(&d.id), t(&d.title))?;
    writeln!(out, "defined at:  {}", t(&c.location.to_string()))?;
    writeln!(out, "severity:    {}", d.severity.as_str())?;
    writeln!(out, "resource:    {}", d.resource.as_str())?;
    writeln!(out, "mode:        {:?}", d.mode)?;
    if let Some(a) = &d.applies_if {
        writeln!(out, "applies if:  {}", t(a))?;
    }
    if let Some(r) = &d.rule {
        writeln!(out, "rule:        {}", t(r))?;
    }
    writeln!(out, "expectation: {}", t(&d.expectation))?;
    writeln!(
        out,
        "\n{}\n\nWhy: {}\n\nFix: {}",
        tl(d.description.trim()),
        tl(d.rationale.trim()),
        tl(d.remediation.trim())
    )?;
    if let Some(p) = &d.prompt {
        writeln!(out, "\nAssessor prompt: {}", tl(p.trim()))?;
    }
    if !d.references.cis_docker.is_empty() {
        writeln!(
            out,
            "\nCIS Docker Benchmark 1.6.0: {}",
            t(&d.references.cis_docker.join(", "))
        )?;
    }
    for link in &d.references.links {
        writeln!(out, "see: {}", t(link))?;
    }
    for fw in &catalog.frameworks {
        for r in &fw.requirements {
            let role = if r.checks.contains(&d.id) {
                "decides"
            } else if r.supporting.contains(&d.id) {
                "supports"
            } else {
                continue;
            };
            writeln!(
                out,
                "{role} {} {}: {}",
                t(&fw.meta.id),
                t(&r.id),
                t(&r.title)
            )?;
        }
    }
    Ok(())
}

/// `frameworks list`.
pub fn frameworks_table(catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    for fw in &catalog.frameworks {
        writeln!(out, "{:<22} {}", t(&fw.meta.id), coverage_line(fw))?;
    }
    Ok(())
}

/// `controls lint`: the static cost bound of the rules, by degree, and the costliest one.
pub fn cost_bounds(catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    let mut by_degree = std::collections::BTreeMap::<u32, usize>::new();
    let mut worst: Option<(&str, dockproof::rules::Bound)> = None;
    for check in &catalog.checks {
        let Some(rule) = &check.rule else { continue };
        let b = rule.bound();
        *by_degree.entry(b.degree).or_default() += 1;
        if worst.is_none_or(|(_, w)| (b.degree, b.constant) > (w.degree, w.constant)) {
            worst = Some((check.def.id.as_str(), b));
        }
    }
    let parts: Vec<String> = by_degree
        .iter()
        .map(|(d, n)| format!("{n} of degree {d}"))
        .collect();
    writeln!(
        out,
        "rule cost bounds (n = longest list in the data): {}",
        parts.join(", ")
    )?;
    if let Some((id, b)) = worst {
        writeln!(
            out,
            "costliest rule: {} at {b}; limit {}·n^{} at load, {} steps and {} ms per evaluation",
            dockproof::text::terminal(id),
            dockproof::rules::MAX_CONSTANT,
            dockproof::rules::MAX_DEGREE,
            dockproof::rules::MAX_STEPS,
            dockproof::rules::MAX_TIME.as_millis()
        )?;
    }
    Ok(())
}
