//! "What is inside the images" in `report.pdf`: what the inventory covers, the vulnerability
//! inputs (unmatched ones too), and per image its inventory in brief, counts by severity, the
//! well-known vulnerabilities by name and the fixable findings with their fixed version. Left out
//! when the assessment has no images section.

use super::layout::{Face, Pages, MARGIN, TEXT_W};
use super::sections::{BODY, SMALL};
use crate::assessment::Assessment;
use crate::vuln::Severity;

/// Most fixable findings listed per image; the rest are counted (the JSON has them all).
const FIXABLE_PER_IMAGE: usize = 40;

pub(super) fn images(p: &mut Pages, a: &Assessment) {
    let Some(section) = &a.images else {
        return;
    };
    p.new_page();
    p.heading(
        "What is inside the images",
        16.0,
        Some("What is inside the images"),
    );
    let para = |p: &mut Pages, face: Face, size: f32, text: &str| {
        p.paragraph(MARGIN, TEXT_W, face, size, text);
    };
    para(
        p,
        Face::Sans,
        BODY,
        &format!(
            "Inventory covers: {}. Images inventoried: {}.",
            section.coverage,
            section.selection.as_deref().unwrap_or("not recorded")
        ),
    );
    if let Some(v) = &section.vulnerabilities {
        for input in &v.inputs {
            let bound = if input.images.is_empty() {
                format!(
                    "no image ({})",
                    input.note.as_deref().unwrap_or("unmatched")
                )
            } else {
                super::counted(input.images.len(), "image", "images")
            };
            para(
                p,
                Face::Sans,
                SMALL,
                &format!(
                    "Input {} ({}), SHA-256 {}: {bound}",
                    input.bundle_path.as_deref().unwrap_or(&input.path),
                    input.kind,
                    input.sha256
                ),
            );
        }
    }
    for inv in &section.inventories {
        p.gap(8.0);
        p.heading(&inv.name, 12.0, None);
        para(p, Face::Mono, SMALL, &inv.image_id);
        para(
            p,
            Face::Sans,
            BODY,
            &format!(
                "OS: {}; {} from {}; SBOM {}",
                inv.os.as_deref().unwrap_or("not identified"),
                super::counted(inv.packages, "OS package", "OS packages"),
                if inv.databases.is_empty() {
                    "no package database".to_string()
                } else {
                    inv.databases.join(", ")
                },
                inv.sbom
            ),
        );
        for gap in &inv.gaps {
            para(p, Face::Sans, SMALL, &format!("Inventory gap: {gap}"));
        }
        let Some(img) = section
            .vulnerabilities
            .iter()
            .flat_map(|v| v.images.iter())
            .find(|i| i.image_id == inv.image_id)
        else {
            para(
                p,
                Face::Sans,
                BODY,
                "No vulnerability input covers this image.",
            );
            continue;
        };
        let counts: Vec<String> = [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::None,
            Severity::Unknown,
        ]
        .iter()
        .filter_map(|s| {
            let n = img.findings.iter().filter(|f| f.severity == *s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect();
        para(
            p,
            Face::Bold,
            BODY,
            &if counts.is_empty() {
                "No known vulnerability found by the inputs.".to_string()
            } else {
                format!("Vulnerabilities: {}", counts.join(", "))
            },
        );
        let mut named: Vec<(&str, Vec<&str>)> = Vec::new();
        for f in &img.findings {
            if let Some(n) = f.named.as_deref() {
                match named.iter_mut().find(|(k, _)| *k == n) {
                    Some((_, ids)) if !ids.contains(&f.id.as_str()) => ids.push(&f.id),
                    Some(_) => {}
                    None => named.push((n, vec![&f.id])),
                }
            }
        }
        for (name, ids) in &named {
            para(
                p,
                Face::Bold,
                BODY,
                &format!("Well-known: {name} ({})", ids.join(", ")),
            );
        }
        let fixable: Vec<_> = img
            .findings
            .iter()
            .filter(|f| f.fixed_version.is_some())
            .collect();
        for f in fixable.iter().take(FIXABLE_PER_IMAGE) {
            para(
                p,
                Face::Sans,
                SMALL,
                &format!(
                    "{} {} in {} {}: fixed in {} (fix published: {})",
                    f.severity.as_str(),
                    f.id,
                    f.package,
                    f.installed_version,
                    f.fixed_version.as_deref().unwrap_or(""),
                    f.fix_published
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| f.fix_date_source.clone())
                ),
            );
        }
        if fixable.len() > FIXABLE_PER_IMAGE {
            para(
                p,
                Face::Sans,
                SMALL,
                &format!(
                    "... and {} more, listed in assessment.json.",
                    super::counted(
                        fixable.len() - FIXABLE_PER_IMAGE,
                        "fixable finding",
                        "fixable findings"
                    )
                ),
            );
        }
    }
}
