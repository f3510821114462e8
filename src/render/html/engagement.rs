//! The HTML report's engagement block: the confidentiality marking and scope at the top of the
//! page (and on every printed page), the top risks of the executive summary, and the run
//! provenance beside the target. Values are plain text here; the template escapes them.

use serde::Serialize;

use crate::assessment::Assessment;
use crate::engagement::NO_SCOPE;

use super::index::Index;

/// What the template shows about the engagement.
#[derive(Serialize)]
pub(super) struct EngagementView {
    /// `Confidential · Example Corp`, printed at the top of the page and of every printed page.
    header: Option<String>,
    /// The same as the content of a CSS string: every character other than an ASCII letter,
    /// digit or space written as a CSS escape, so neither the HTML escaper nor CSS can read
    /// anything into it.
    header_css: Option<String>,
    /// The scope's rows; empty when no scope was declared.
    scope: Vec<Row>,
    /// The sentence shown when no scope was declared.
    no_scope: Option<&'static str>,
    /// Run provenance rows (account, command line, catalogs, decision files).
    provenance: Vec<Row>,
    /// Whether a catalog file overrides a built-in one.
    overridden: bool,
    top_risks: Vec<RiskAssetView>,
    /// Findings listed among the top risks.
    top_risk_count: usize,
}

#[derive(Serialize)]
struct Row {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct RiskAssetView {
    kind: &'static str,
    name: String,
    id: String,
    worst: &'static str,
    risks: Vec<RiskView>,
}

#[derive(Serialize)]
struct RiskView {
    check_id: String,
    /// Anchor of the check in the catalogue appendix.
    anchor: Option<String>,
    title: String,
    severity: &'static str,
    severity_label: &'static str,
    /// Requirement ids decided, per framework id; each id is kept whole on one line.
    decides: Vec<DecidesView>,
}

#[derive(Serialize)]
struct DecidesView {
    framework: String,
    requirements: Vec<String>,
}

pub(super) fn build(a: &Assessment, ix: &Index) -> EngagementView {
    let rows = |pairs: Vec<(&'static str, String)>| -> Vec<Row> {
        pairs
            .into_iter()
            .map(|(label, value)| Row {
                label: label.to_string(),
                value,
            })
            .collect()
    };
    let t = &a.snapshot.target;
    let mut provenance = vec![
        (
            "Engine id",
            t.engine_id.clone().unwrap_or_else(|| "not reported".into()),
        ),
        (
            "Kernel",
            t.kernel.clone().unwrap_or_else(|| "not reported".into()),
        ),
        (
            "Architecture",
            t.architecture
                .clone()
                .unwrap_or_else(|| "not reported".into()),
        ),
        ("Tool", format!("{} {}", a.tool.name, a.tool.version)),
        ("Catalog SHA-256", a.catalog.sha256.clone()),
    ];
    match &a.provenance {
        Some(p) => provenance.extend(p.rows()),
        None => provenance.push((
            "Run provenance",
            "not recorded (an assessment written by an older dockproof)".to_string(),
        )),
    }
    let top_risks: Vec<RiskAssetView> = (a.top_risks.iter())
        .map(|asset| RiskAssetView {
            kind: asset.resource.kind.as_str(),
            name: asset.resource.name.clone(),
            id: asset.resource.id.clone(),
            worst: asset.worst.as_str(),
            risks: (asset.risks.iter())
                .map(|r| RiskView {
                    check_id: r.check_id.clone(),
                    anchor: ix.check_anchor(&r.check_id).map(str::to_string),
                    title: r.title.clone(),
                    severity: r.severity.as_str(),
                    severity_label: r.severity.label(),
                    decides: (r.decides_by_framework().into_iter())
                        .map(|(framework, requirements)| DecidesView {
                            framework,
                            requirements,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    EngagementView {
        header: a.scope.as_ref().map(|s| s.header()),
        header_css: a.scope.as_ref().map(|s| css_string(&s.header())),
        scope: a.scope.as_ref().map(|s| rows(s.rows())).unwrap_or_default(),
        no_scope: a.scope.is_none().then_some(NO_SCOPE),
        provenance: rows(provenance),
        overridden: (a.provenance.as_ref()).is_some_and(|p| {
            (p.catalog_files.iter()).any(|f| f.origin == crate::catalog::CatalogOrigin::Overrides)
        }),
        top_risk_count: top_risks.iter().map(|r| r.risks.len()).sum(),
        top_risks,
    }
}

/// `s` as the inside of a double-quoted CSS string, using only letters, digits, spaces and
/// `\XXXXXX ` escapes.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == ' ' {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:06X} ", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::engagement::EngagementScope;
    use crate::render::Renderer;
    use crate::testing::fixture::sample_assessment;

    #[test]
    fn scope_values_are_text_never_markup() {
        let mut a = sample_assessment();
        let yaml = "entity: \"<script>alert(1)</script>\"\nmarking: \"<b>TLP:RED</b>\"\n";
        a.scope = Some(EngagementScope::parse(yaml, "scope.yaml").unwrap());
        let mut out = Vec::new();
        crate::render::html::HtmlRenderer
            .render(&a, &mut out)
            .unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(!html.contains("<script>alert(1)"));
        assert!(!html.contains("<b>TLP:RED</b>"));
        assert!(html.contains("&lt;b&gt;TLP:RED&lt;&#x2F;b&gt;"));
        assert!(!html.contains(crate::engagement::NO_SCOPE));
        // In the print stylesheet the marking is escaped for CSS.
        assert!(html.contains("content: \"\\00003C b\\00003E TLP\\00003A RED"));
    }

    #[test]
    fn css_strings_hold_only_safe_characters() {
        assert_eq!(
            super::css_string("A b\"</style>"),
            "A b\\000022 \\00003C \\00002F style\\00003E "
        );
    }
}
