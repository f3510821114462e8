//! The "What is inside the images" section: per image, the OS package inventory in brief (with
//! its SBOM's path in the bundle), the vulnerability counts by severity, well-known named
//! vulnerabilities called out by name, and the fixable findings with their fixed version. It
//! states what the inventory covers and lists the vulnerability inputs, unmatched ones included.
//! Written outside Tera with [`Html`], after the findings; absent when the assessment has no
//! images section.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::markup::Html;
use crate::assessment::Assessment;
use crate::vuln::{ImageFindings, Severity};

const ORDER: [Severity; 6] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::None,
    Severity::Unknown,
];

pub(super) fn write(out: &mut dyn Write, a: &Assessment) -> io::Result<()> {
    let Some(section) = &a.images else {
        return Ok(());
    };
    let mut h = Html::new(out);
    h.raw("\n<section id=\"images\" aria-labelledby=\"images-title\">\n")
        .raw("<h2 id=\"images-title\" class=\"new-page\">What is inside the images</h2>\n")
        .raw("<p class=\"muted\">Inventory covers: ")
        .text(&section.coverage)
        .raw(". Images inventoried: ")
        .text(section.selection.as_deref().unwrap_or("not recorded"))
        .raw(".</p>\n");
    if let Some(v) = &section.vulnerabilities {
        h.raw("<table><thead><tr><th>Vulnerability input</th><th>Kind</th><th>SHA-256</th><th>Bound to</th></tr></thead><tbody>\n");
        for input in &v.inputs {
            h.raw("<tr><td><code>")
                .text(input.bundle_path.as_deref().unwrap_or(&input.path))
                .raw("</code></td><td>")
                .text(&input.kind)
                .raw("</td><td class=\"mono\">")
                .text(&input.sha256)
                .raw("</td><td>");
            if input.images.is_empty() {
                h.raw("<strong>no image</strong> (")
                    .text(input.note.as_deref().unwrap_or("unmatched"))
                    .raw(")");
            } else {
                h.num(input.images.len()).raw(" image(s)");
                if let Some(note) = &input.note {
                    h.raw("; ").text(note);
                }
            }
            h.raw("</td></tr>\n");
        }
        h.raw("</tbody></table>\n");
    }
    let findings: BTreeMap<&str, &ImageFindings> = section
        .vulnerabilities
        .iter()
        .flat_map(|v| v.images.iter())
        .map(|i| (i.image_id.as_str(), i))
        .collect();
    let mut ids: Vec<(&str, &str)> = section
        .inventories
        .iter()
        .map(|i| (i.image_id.as_str(), i.name.as_str()))
        .collect();
    for f in findings.values() {
        if !ids.iter().any(|(id, _)| *id == f.image_id) {
            ids.push((&f.image_id, &f.name));
        }
    }
    for (id, name) in ids {
        h.raw("<div class=\"panel image-panel\" data-image-id=\"")
            .text(id)
            .raw("\">\n<h3>")
            .text(name)
            .raw("</h3>\n<p class=\"mono muted\">")
            .text(id)
            .raw("</p>\n");
        match section.inventories.iter().find(|i| i.image_id == id) {
            Some(inv) => {
                h.raw("<p>OS: ")
                    .text(inv.os.as_deref().unwrap_or("not identified"))
                    .raw(" · ")
                    .num(inv.packages)
                    .raw(" OS package(s) from ")
                    .text(&if inv.databases.is_empty() {
                        "no package database".to_string()
                    } else {
                        inv.databases.join(", ")
                    })
                    .raw(" · SBOM <code>")
                    .text(&inv.sbom)
                    .raw("</code></p>\n");
                for gap in &inv.gaps {
                    h.raw("<p class=\"banner\">Inventory gap: ")
                        .text(gap)
                        .raw("</p>\n");
                }
            }
            None => {
                h.raw("<p>No package inventory of this image.</p>\n");
            }
        }
        match findings.get(id) {
            None => {
                h.raw("<p>No vulnerability input covers this image.</p>\n");
            }
            Some(img) => write_findings(&mut h, img),
        }
        h.raw("</div>\n");
        h.flush_if_full()?;
    }
    h.raw("</section>\n");
    h.finish()
}

fn write_findings(h: &mut Html, img: &ImageFindings) {
    h.raw("<p class=\"vuln-counts\">");
    for sev in ORDER {
        let n = img.findings.iter().filter(|f| f.severity == sev).count();
        if n > 0 {
            h.raw("<span class=\"sev sev-")
                .raw(sev.as_str())
                .raw("\" data-severity=\"")
                .raw(sev.as_str())
                .raw("\">")
                .num(n)
                .raw(" ")
                .raw(sev.as_str())
                .raw("</span> ");
        }
    }
    if img.findings.is_empty() {
        h.raw("No known vulnerability found by the inputs.");
    }
    h.raw("</p>\n");
    // One line per well-known name: "Shellshock: CVE-2014-6271, DSA-3032-1 in bash 4.2".
    let mut named: Vec<(&str, Vec<String>)> = Vec::new();
    for f in &img.findings {
        let Some(n) = f.named.as_deref() else {
            continue;
        };
        let item = format!("{} in {} {}", f.id, f.package, f.installed_version);
        match named.iter_mut().find(|(k, _)| *k == n) {
            Some((_, items)) => items.push(item),
            None => named.push((n, vec![item])),
        }
    }
    if !named.is_empty() {
        h.raw("<p class=\"named-vulns\"><strong>Well-known vulnerabilities present:</strong></p>\n<ul>\n");
        for (name, items) in &named {
            h.raw("<li data-named=\"")
                .text(name)
                .raw("\"><strong>")
                .text(name)
                .raw("</strong>: ")
                .text(&items.join(", "))
                .raw("</li>\n");
        }
        h.raw("</ul>\n");
    }
    let fixable: Vec<_> = img
        .findings
        .iter()
        .filter(|f| f.fixed_version.is_some())
        .collect();
    if fixable.is_empty() {
        return;
    }
    h.raw("<table class=\"fixable\"><thead><tr><th>Severity</th><th>Vulnerability</th><th>Package</th><th>Installed</th><th>Fixed in</th><th>Fix published</th><th>Input</th></tr></thead><tbody>\n");
    for f in fixable {
        h.raw("<tr><td>")
            .raw(f.severity.as_str())
            .raw("</td><td>")
            .text(&f.id);
        if let Some(n) = &f.named {
            h.raw(" <em>").text(n).raw("</em>");
        }
        h.raw("</td><td>")
            .text(&f.package)
            .raw("</td><td class=\"mono\">")
            .text(&f.installed_version)
            .raw("</td><td class=\"mono\">")
            .text(f.fixed_version.as_deref().unwrap_or(""))
            .raw("</td><td>")
            .text(
                &f.fix_published
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_else(|| f.fix_date_source.clone()),
            )
            .raw("</td><td><code>")
            .text(&f.input)
            .raw("</code></td></tr>\n");
    }
    h.raw("</tbody></table>\n");
}
