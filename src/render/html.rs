//! `report.html`: one self-contained page an auditor can open offline, search, filter and print.
//!
//! The page is `templates/report.html.tera`, embedded in the binary and compiled once, filled from
//! the view model in `view.rs`; the two findings sections, whose size follows the host rather
//! than the catalog, are streamed into it by `findings.rs`. Invariants this module must keep:
//! - **No external resources.** CSS, SVG charts and the small filter script are inline; nothing is
//!   fetched (no CDN, no web fonts, no `<link rel=stylesheet>`, no `<script src>`). Links to
//!   outside documents are plain `<a>` and only for `https://` URLs.
//! - **Everything from the host is escaped.** The template is registered under a name ending in
//!   `.html`, so Tera auto-escapes every value, with the same escaper as the streamed findings
//!   (`markup.rs`, which also shows bidirectional controls instead of obeying them); `| safe` is never applied to host data, and the
//!   script reads `data-*` attributes and writes with `textContent` only. Anchors made from host
//!   strings are slugs (`[a-z0-9-]`).
//! - **Wording.** The report describes technical evidence collected; it never calls a host
//!   compliant with anything.
//! - **Usable without JavaScript**: every section is in the page; the script only hides rows.

use std::io::Write;
use std::sync::OnceLock;

use tera::{Context, Tera};

use crate::assessment::Assessment;

use super::{describe, RenderError, Renderer};

mod anchors;
mod counts;
mod engagement;
mod findings;
mod fixes;
mod images;
mod index;
pub(in crate::render) mod legend;
mod markup;
mod registers;
mod requests;
mod sections;
mod view;

/// Name the template is registered under; the `.html` suffix turns auto-escaping on.
const TEMPLATE_NAME: &str = "report.html";
const TEMPLATE: &str = include_str!("../../templates/report.html.tera");
/// Where the template leaves room for the findings sections. Host strings are escaped, so they
/// can never contain this comment.
const FINDINGS_MARKER: &str = "<!-- findings sections: written by findings.rs -->";
/// Where the template leaves room for the grouped fixes, after the summary.
const FIXES_MARKER: &str = "<!-- grouped fixes: written by fixes.rs -->";
/// Where the template leaves room for the evidence request list, after the matrix.
const REQUESTS_MARKER: &str = "<!-- evidence requests: written by requests.rs -->";

/// Writes the self-contained HTML report.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlRenderer;

impl Renderer for HtmlRenderer {
    fn name(&self) -> &'static str {
        "html"
    }

    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        let tera = template()?;
        let ix = index::Index::new(assessment);
        let model = view::build(assessment, &ix);
        // The frame's size follows the catalog; the findings, which follow the host, are
        // streamed in between so memory stays flat however many results there are.
        let context = Context::from_serialize(&model).map_err(template_error)?;
        let frame = tera
            .render(TEMPLATE_NAME, &context)
            .map_err(template_error)?;
        let (head, rest) = split(&frame, FIXES_MARKER)?;
        let (middle, rest) = split(rest, REQUESTS_MARKER)?;
        let (before_findings, tail) = split(rest, FINDINGS_MARKER)?;
        out.write_all(head.as_bytes())?;
        fixes::write(out, assessment, &ix)?;
        out.write_all(middle.as_bytes())?;
        requests::write(out, assessment, &ix)?;
        out.write_all(before_findings.as_bytes())?;
        findings::write(out, assessment, &ix, model.open())?;
        images::write(out, assessment)?;
        out.write_all(tail.as_bytes())?;
        Ok(())
    }
}

/// The frame before and after `marker`.
fn split<'t>(text: &'t str, marker: &str) -> Result<(&'t str, &'t str), RenderError> {
    text.split_once(marker)
        .ok_or_else(|| RenderError::Template(format!("the template has no `{marker}`")))
}

/// The compiled template, built on first use.
fn template() -> Result<&'static Tera, RenderError> {
    static TERA: OnceLock<Result<Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.set_escape_fn(markup::escape);
        tera.add_raw_template(TEMPLATE_NAME, TEMPLATE)
            .map_err(|e| describe(&e))?;
        Ok(tera)
    })
    .as_ref()
    .map_err(|message| RenderError::Template(message.clone()))
}

fn template_error(e: tera::Error) -> RenderError {
    RenderError::Template(describe(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture::{sample_assessment, EVIL_NAME, EVIL_VALUE};

    fn render(a: &Assessment) -> String {
        let mut buf = Vec::new();
        HtmlRenderer.render(a, &mut buf).expect("render");
        String::from_utf8(buf).expect("utf-8")
    }

    /// Tera's HTML escaping, as applied by auto-escape.
    fn escaped(s: &str) -> String {
        tera::escape_html(s)
    }

    #[test]
    fn template_autoescapes() {
        let tera = template().expect("template compiles");
        let mut ctx = Context::new();
        ctx.insert("x", "<b>");
        let mut probe = tera.clone();
        probe
            .add_raw_template("probe.html", "{{ x }}")
            .expect("probe");
        assert_eq!(
            probe.render("probe.html", &ctx).expect("render"),
            "&lt;b&gt;"
        );
    }

    #[test]
    fn host_strings_are_escaped_everywhere() {
        let html = render(&sample_assessment());
        assert!(
            !html.contains("<script>alert(1)"),
            "raw script tag from the fixture leaked"
        );
        assert!(!html.contains("<img src=x"), "raw evidence markup leaked");
        assert!(!html.contains("<b>"), "raw gap error markup leaked");
        // A non-https reference is shown as text, never as a link.
        assert!(
            !html.contains("href=\"javascript"),
            "javascript: URL became a link"
        );
        assert!(html.contains("<li><code>javascript:alert(1)</code></li>"));
        // The escaped forms are there: the name in text, the evidence value as compact JSON.
        assert!(html.contains(&escaped(EVIL_NAME)));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;&quot;&#x27;&amp;"));
        let evidence_json = serde_json::json!({ "note": EVIL_VALUE }).to_string();
        assert!(
            html.contains(&escaped(&evidence_json)),
            "evidence value missing"
        );
        // Exactly one script element: the inline filter script.
        assert_eq!(html.matches("<script").count(), 1);
    }

    #[test]
    fn anchors_from_host_strings_are_slugs() {
        let html = render(&sample_assessment());
        assert!(html.contains(r#"id="res-container-script-alert-1-script""#));
        assert!(html.contains(r##"href="#res-container-script-alert-1-script""##));
        assert!(html.contains(r#"id="check-container-privileged""#));
        assert!(html.contains(r##"href="#check-container-privileged""##));
        assert!(html.contains(r#"id="req-pci-dss-4-0-1-2-2-5""#));
        for id in html
            .split(" id=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "unsafe id {id:?}"
            );
        }
    }

    #[test]
    fn no_external_assets() {
        let html = render(&sample_assessment()).to_lowercase();
        for forbidden in [
            "<link",
            "<script src",
            "src=\"http",
            "src=http",
            "url(",
            "@import",
            "<iframe",
        ] {
            assert!(!html.contains(forbidden), "found {forbidden:?}");
        }
        // External documents are plain links, https only; the http:// reference stays text.
        assert!(html.contains(
            r#"<a href="https:&#x2f;&#x2f;docs.docker.com&#x2f;engine&#x2f;security&#x2f;""#
        ));
        assert!(!html.contains("href=\"http:"));
        assert!(html.contains("http:&#x2f;&#x2f;insecure.example.com&#x2f;doc"));
    }

    #[test]
    fn never_claims_compliance() {
        let html = render(&sample_assessment()).to_lowercase();
        assert!(!html.contains("compliant"));
        assert!(!html.contains("compliance achieved"));
        assert!(html.contains("technical evidence collected"));
    }

    #[test]
    fn shows_header_gaps_and_counts() {
        let a = sample_assessment();
        let html = render(&a);
        assert!(html.contains("<title>Docker host assessment: docker-prod-01</title>"));
        assert!(html.contains("<h1>Docker host assessment: docker-prod-01</h1>"));
        assert!(html.contains("2025-03-14T09:26:00Z"));
        assert!(html.contains("2025-03-14T09:26:12Z"));
        assert!(html.contains(&a.snapshot.sha256));
        assert!(html.contains(&a.catalog.sha256));
        assert!(html.contains("27.3.1"));
        // The gap banner names the source and says what it means for checks.
        assert!(html.contains("host:&#x2F;etc&#x2F;audit&#x2F;audit.rules"));
        assert!(html.contains("reported as <strong>error</strong>"));
        // Summary: 14 results; by status fail 4, error 1, manual 1, pass 6, n.a. 2.
        assert!(html.contains(r#"<p class="total">14 results</p>"#));
        for (key, n) in [
            ("fail", 4),
            ("error", 1),
            ("manual", 1),
            ("pass", 6),
            ("not_applicable", 2),
        ] {
            assert_eq!(a.summary.by_status.get(&status(key)).copied(), Some(n));
            let bar = format!(r#"data-chart-key="{key}" data-count="{n}""#);
            assert!(html.contains(&bar), "missing {bar}");
        }
        // Failed by severity: critical 0, high 2, medium 1, low 1.
        for (key, n) in [
            ("critical", 0),
            ("high", 2),
            ("medium", 1),
            ("low", 1),
            ("info", 0),
        ] {
            let bar = format!(r#"data-chart-key="{key}" data-count="{n}""#);
            assert!(html.contains(&bar), "missing {bar}");
        }
        // PCI: 6 requirements, one not in place; HIPAA: 5, two not in place. Counts carry
        // their denominators.
        assert!(html.contains(
            r#"<td class="num" data-fw-count="fw-pci-dss-4-0-1:not_in_place">1 of 6</td>"#
        ));
        assert!(html.contains(
            r#"<td class="num" data-fw-count="fw-hipaa-security-rule:not_in_place">2 of 5</td>"#
        ));
        assert!(!html.contains("Score"));
    }

    fn status(key: &str) -> crate::assessment::Status {
        serde_json::from_value(serde_json::Value::String(key.into())).expect("status")
    }

    #[test]
    fn every_framework_requirement_and_check_appears() {
        let a = sample_assessment();
        let html = render(&a);
        for fw in &a.frameworks {
            assert!(html.contains(&escaped(&fw.id)), "framework {}", fw.id);
            for req in &fw.requirements {
                let anchor = format!("req-{}-{}", anchors::slug(&fw.id), anchors::slug(&req.id));
                let row = format!(
                    r#"<tr id="{anchor}" data-state="{}" data-search="{}"#,
                    req.state.as_str(),
                    escaped(&req.id.to_lowercase())
                );
                assert!(html.contains(&row), "requirement {} {}", fw.id, req.id);
            }
        }
        for check in &a.checks {
            let anchor = format!("id=\"check-{}\"", anchors::slug(&check.id));
            assert!(html.contains(&anchor), "check {}", check.id);
        }
        // Prompts of requirements awaiting manual evidence are shown.
        assert!(html.contains("Obtain the documented procedure for 7.2.1 and interview its owner."));
        // Ids break between their parts, never inside `(a)`.
        assert!(html
            .contains(r#"<th scope="row" class="mono">164.308(a)<wbr>(1)<wbr>(ii)<wbr>(D)</th>"#));
        assert!(html.contains(r#"<th scope="row" class="mono">2.2.5</th>"#));
        // Sections head their rows instead of taking a column.
        assert!(html.contains(
            r#"<tr class="section-head" data-section-head><th scope="colgroup" colspan="7">Technical safeguards</th></tr>"#
        ));
        assert!(html.contains(
            r#"<tr class="section-head" data-section-head><th scope="colgroup" colspan="6">Requirement 2</th></tr>"#
        ));
    }

    /// The fixture with the waived `nginx:1.25` failure rolled up: the requirement it decides is
    /// `risk_accepted` under W-1.
    fn risk_accepted_assessment() -> (Assessment, String, String) {
        use crate::assessment::{RequirementState, Technical};
        let mut a = crate::testing::fixture::waived_assessment();
        let check = a.waivers[0].check_id.clone();
        let fw = a
            .frameworks
            .iter_mut()
            .find(|f| f.requirements.iter().any(|r| r.checks.contains(&check)))
            .expect("a requirement decided by the waived check");
        let req = fw
            .requirements
            .iter_mut()
            .find(|r| r.checks.contains(&check))
            .expect("requirement");
        req.state = RequirementState::RiskAccepted;
        req.technical = Technical::RiskAccepted;
        req.waived = 1;
        req.waivers = vec!["W-1".into()];
        let ids = (fw.id.clone(), req.id.clone());
        fw.recount();
        (a, ids.0, ids.1)
    }

    #[test]
    fn a_waived_requirement_reads_risk_accepted_in_amber_with_its_waiver() {
        let (a, fw, req) = risk_accepted_assessment();
        let html = render(&a);
        let anchor = format!("req-{}-{}", anchors::slug(&fw), anchors::slug(&req));
        let start = html
            .find(&format!(
                r#"<tr id="{anchor}" data-state="risk_accepted" data-search="#
            ))
            .expect("the row carries the risk_accepted state");
        let row = &html[start..start + html[start..].find("</tr>").expect("row ends")];
        assert!(
            row.contains(r#"<span class="badge tone-accepted">Not in place: risk accepted under waiver</span><p class="waiver-note">1 failure(s) waived: risk accepted under waiver W-1 (expires 2025-06-30)</p>"#),
            "{row}"
        );
        assert!(
            !row.contains("tone-good") && !row.contains("tone-consistent"),
            "{row}"
        );
        // The summary counts it as its own state, and the state filter offers it.
        assert!(html.contains(&format!(
            r#"data-fw-count="{}:risk_accepted">1 of "#,
            anchors::slug(&format!("fw-{fw}"))
        )));
        assert!(html.contains(
            r#"<option value="risk_accepted">Not in place: risk accepted under waiver</option>"#
        ));
        // The legend explains it.
        assert!(html.contains(r#"<tr data-legend><th scope="row"><span class="badge tone-accepted">Not in place: risk accepted under waiver</span></th><td>Every deciding failure is covered by an active waiver"#));
    }

    #[test]
    fn hipaa_rows_show_their_level_and_awaiting_rows_their_technical_evidence() {
        let a = sample_assessment();
        let html = render(&a);
        assert!(html.contains(r#"<th scope="col">Level</th>"#));
        assert!(html.contains("<td>Required</td>") && html.contains("<td>Addressable</td>"));
        assert!(!html.contains("<td>required</td>"));
        // Whom to ask for the manual evidence.
        assert!(html.contains(
            "Obtain the documented procedure for 7.2.1 and interview its owner. <em>Ask: security officer.</em>"
        ));
        // Modes read as what they need, not as a status.
        assert!(html.contains("<td>Technical + manual</td>"));
        assert!(!html.contains("<td>partial</td>"));
        for fw in &a.frameworks {
            for r in &fw.requirements {
                let note = format!("Technical evidence: {}", r.technical.label());
                let shown = r.state == crate::assessment::RequirementState::AwaitingManualEvidence
                    && r.technical != crate::assessment::Technical::None;
                if shown {
                    assert!(
                        html.contains(&format!(r#"<p class="note">{note}</p>"#)),
                        "{}",
                        r.id
                    );
                }
            }
        }
    }

    #[test]
    fn findings_carry_filter_attributes() {
        let html = render(&sample_assessment());
        // The failing privileged check on `web` and on the evil container: in the resource section
        // an entry carries every framework its check maps to; under a requirement, only that
        // requirement's framework.
        let tail = r#" data-status="fail" data-severity="high" data-kind="container""#;
        let count = |fw: &str| {
            html.matches(&format!("data-finding data-fw=\"{fw}\"{tail}"))
                .count()
        };
        assert_eq!(count("fw-hipaa-security-rule fw-pci-dss-4-0-1"), 2);
        assert_eq!(count("fw-pci-dss-4-0-1"), 2);
        assert_eq!(count("fw-hipaa-security-rule"), 2);
        assert!(html.contains(r#"data-search="container.privileged containers do not run privileged container &lt;script&gt;"#));
        // Under a requirement an entry names its row under the resource, which holds its
        // search text and evidence once.
        let at = |marker: &str| html.find(marker).expect(marker);
        let by_requirement = &html[at("id=\"by-requirement\"")..at("id=\"by-resource\"")];
        let by_resource = &html[at("id=\"by-resource\"")..];
        assert!(!by_requirement.contains("data-search="));
        assert!(!by_requirement.contains("<dl class=\"ev\">"));
        let named: Vec<&str> = by_requirement
            .split("data-result=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("closing quote")])
            .collect();
        assert!(named.len() >= 6, "{named:?}");
        for id in named {
            assert!(
                by_resource.contains(&format!("<tr id=\"{id}\" data-finding")),
                "{id}"
            );
            assert!(by_requirement.contains(&format!("<a href=\"#{id}\">Evidence</a>")));
        }
        // Pass and n.a. results are counted, not repeated, under requirements.
        assert!(html.contains("1 passed, 0 not applicable"));
        // The filter bar only appears when the script runs.
        assert!(html.contains(r#"<form id="filters" class="filters" hidden"#));
    }

    #[test]
    fn waived_results_and_registers_are_shown() {
        let html = render(&crate::testing::fixture::waived_assessment());
        assert!(html.contains("id=\"registers\""));
        assert!(html.contains("<tr id=\"waiver-w-1\" data-waiver-state=\"active\">"));
        assert!(html.contains("<tr id=\"waiver-w-2\" data-waiver-state=\"expired\">"));
        assert!(html.contains("data-attestation-state=\"applied\""));
        // The waived failure is filtered as `waived`, keeps its verdict and links its waiver.
        assert!(html.contains("data-status=\"waived\""));
        assert!(html.contains(
            "<div class=\"waiver-note\">Waived by <a href=\"#waiver-w-1\">W-1</a>; verdict fail</div>"
        ));
        assert!(html.contains("<option value=\"waived\">Waived</option>"));
        // The justification is host-side text like any other and is escaped.
        assert!(!html.contains(EVIL_VALUE));
        assert!(html.contains(&escaped(EVIL_VALUE)));
        assert!(html.contains("Attested in place by Dana Reviewer, QSA"));
        assert!(html.contains("In Place (assessor finding)"));

        let plain = render(&sample_assessment());
        assert!(!plain.contains("id=\"registers\""));
        assert!(!plain.contains("data-status=\"waived\""));
        assert!(!plain.contains("id=\"trend\""));
    }

    #[test]
    fn renders_an_empty_assessment() {
        let mut a = sample_assessment();
        a.results.clear();
        a.frameworks.clear();
        a.checks.clear();
        a.snapshot.gaps.clear();
        a.snapshot.target.hostname = None;
        a.summary = Default::default();
        let html = render(&a);
        assert!(html.contains(
            "<h1>Docker host assessment: unix:&#x2F;&#x2F;&#x2F;var&#x2F;run&#x2F;docker.sock</h1>"
        ));
        assert!(html.contains(r#"<p class="total">0 results</p>"#));
        assert!(!html.contains("collection-gaps"));
    }
}
