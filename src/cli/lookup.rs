//! `controls show ID` and `frameworks show ID`: finding what a person typed in the catalogs and
//! printing it. An id may be a check id (`container.privileged`), a CIS Docker number (`5.5`)
//! or any framework's requirement id (`2.2.5`, `164.312(b)`). The same number can mean different
//! things in different frameworks (CIS 1.1.1 and PCI DSS 1.1.1): then every match is listed and
//! the caller exits 2 until `--framework` narrows it.

use std::io::{self, Write};

use dockproof::assessment::AssessmentMode;
use dockproof::catalog::model::RequirementDef;
use dockproof::catalog::{Catalog, Check, Framework};
use dockproof::text::{terminal as t, terminal_lines as tl};

/// What an id names.
pub enum Found<'a> {
    Check(&'a Check),
    Requirement(&'a Framework, &'a RequirementDef),
    /// Several requirements of different frameworks share the id.
    Ambiguous(Vec<(&'a Framework, &'a RequirementDef)>),
    Nothing,
}

/// Looks `id` up: a check id first, then the requirement ids of the frameworks (only
/// `framework` when given).
pub fn find<'a>(catalog: &'a Catalog, id: &str, framework: Option<&str>) -> Found<'a> {
    if framework.is_none() {
        if let Some(check) = catalog.check(id) {
            return Found::Check(check);
        }
    }
    let mut matches: Vec<(&Framework, &RequirementDef)> = catalog
        .frameworks
        .iter()
        .filter(|f| framework.is_none_or(|want| f.meta.id == want))
        .flat_map(|f| f.requirements.iter().map(move |r| (f, r)))
        .filter(|(_, r)| r.id == id)
        .collect();
    match matches.len() {
        0 => Found::Nothing,
        1 => {
            let (f, r) = matches.remove(0);
            Found::Requirement(f, r)
        }
        _ => Found::Ambiguous(matches),
    }
}

/// The matches of an ambiguous id, one line each, and how to pick one.
pub fn ambiguous(
    id: &str,
    matches: &[(&Framework, &RequirementDef)],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "`{}` names {} requirements:", t(id), matches.len())?;
    for (f, r) in matches {
        writeln!(out, "  {:<20} {} {}", t(&f.meta.id), t(&r.id), t(&r.title))?;
    }
    writeln!(
        out,
        "choose one with --framework, e.g. `dockproof controls show {} --framework {}`",
        t(id),
        t(&matches[0].0.meta.id)
    )
}

fn mode(m: AssessmentMode) -> &'static str {
    match m {
        AssessmentMode::Automated => "automated",
        AssessmentMode::Partial => "partial",
        AssessmentMode::Manual => "manual",
    }
}

/// One requirement in full: mode, level, deciding and supporting checks, evidence owner and the
/// prompt for manual evidence.
pub fn requirement(f: &Framework, r: &RequirementDef, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} {} — {}", t(&f.meta.name), t(&r.id), t(&r.title))?;
    writeln!(out, "framework:   {}", t(&f.meta.id))?;
    if let Some(section) = &r.section {
        writeln!(out, "section:     {}", t(section))?;
    }
    writeln!(out, "mode:        {}", mode(r.mode))?;
    if let Some(level) = &r.level {
        writeln!(out, "level:       {}", t(level))?;
    }
    if r.service_provider_only {
        writeln!(out, "applies to:  service providers only")?;
    }
    writeln!(out, "decided by:  {}", list(&r.checks))?;
    if !r.supporting.is_empty() {
        writeln!(out, "supporting:  {}", list(&r.supporting))?;
    }
    if let Some(owner) = &r.evidence_owner {
        writeln!(out, "evidence owner: {}", t(owner))?;
    }
    if let Some(prompt) = &r.prompt {
        writeln!(out, "\nManual evidence: {}", tl(prompt.trim()))?;
    }
    Ok(())
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none (manual evidence only)".to_string()
    } else {
        t(&ids.join(", ")).into_owned()
    }
}

/// `frameworks show ID`: the framework and every requirement with its mode, deciding checks and
/// evidence owner.
pub fn framework(f: &Framework, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} {} ({})",
        t(&f.meta.name),
        t(&f.meta.version),
        t(&f.meta.id)
    )?;
    writeln!(out, "publisher: {}", t(&f.meta.publisher))?;
    if let Some(url) = &f.meta.url {
        writeln!(out, "url:       {}", t(url))?;
    }
    writeln!(out, "{}\n", tl(f.meta.description.trim()))?;
    // The id column is as wide as the longest id (HIPAA's `164.308(a)(1)(ii)(A)`).
    let w = f
        .requirements
        .iter()
        .map(|r| t(&r.id).chars().count())
        .max()
        .unwrap_or(2)
        .max(2);
    writeln!(out, "{:<w$} {:<9} {:<11} TITLE", "ID", "MODE", "LEVEL")?;
    for r in &f.requirements {
        writeln!(
            out,
            "{:<w$} {:<9} {:<11} {}",
            t(&r.id),
            mode(r.mode),
            t(r.level.as_deref().unwrap_or("-")),
            t(&r.title)
        )?;
        if !r.checks.is_empty() {
            writeln!(out, "{:<w$} decided by: {}", "", t(&r.checks.join(", ")))?;
        }
        if let Some(owner) = &r.evidence_owner {
            writeln!(out, "{:<w$} evidence owner: {}", "", t(owner))?;
        }
    }
    writeln!(out, "{} requirements", f.requirements.len())
}
