//! `junit.xml`: results as JUnit XML, for CI systems that chart test reports.
//!
//! This module owns the mapping and the XML writing. Layout: a root `<testsuites>` with totals
//! and the evaluation time; one `<testsuite>` per check (name = check id), in catalog order, even
//! when it has no results; one `<testcase>` per result (classname = check id, name = resource
//! kind and name). A `fail` result gets `<failure>` with the evidence, expectation and
//! remediation in its body; an `error` result gets `<error>`; `not_applicable` and `manual`
//! results, and failures covered by a waiver, get `<skipped message=…/>` (for a waiver the
//! message names it, keeps the underlying verdict and gives the expiry); a pass has no child.
//! A suite's `<properties>` name the framework requirements its check gives evidence for, each
//! with the requirement's evidence state (key and label, the waiver sentence when a waiver
//! accepted its failures): the same state every other format gives it.
//!
//! `quick-xml` writes the elements. Every host string goes through [`crate::text`] before it
//! reaches the writer: `& < > " '` escaped, control, bidirectional and other characters XML 1.0
//! forbids shown as `[U+XXXX]` (not dropped, which could forge a name), and in attributes TAB,
//! LF and CR written as character references so parsers keep them. The writer is given the
//! escaped text as is, so no value is escaped twice and none is left unescaped.

use std::borrow::Cow;
use std::io::Write;

use chrono::SecondsFormat;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;

use crate::assessment::{Assessment, CheckInfo, CheckResult, EvidenceRole, Status};

use super::{RenderError, Renderer};

/// Writes one `<testsuite>` per check.
#[derive(Debug, Clone, Copy, Default)]
pub struct JunitRenderer;

impl Renderer for JunitRenderer {
    fn name(&self) -> &'static str {
        "junit"
    }

    fn file_name(&self) -> &'static str {
        "junit.xml"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        Ok(document(assessment, out)?)
    }
}

/// Test counts of a set of results.
#[derive(Debug, Default, PartialEq)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            c.tests += 1;
            match r.status {
                Status::Fail if r.is_waived() => c.skipped += 1,
                Status::Fail => c.failures += 1,
                Status::Error => c.errors += 1,
                Status::NotApplicable | Status::Manual => c.skipped += 1,
                Status::Pass => {}
            }
        }
        c
    }

    fn attributes(&self) -> [(&'static str, String); 4] {
        [
            ("tests", self.tests.to_string()),
            ("failures", self.failures.to_string()),
            ("errors", self.errors.to_string()),
            ("skipped", self.skipped.to_string()),
        ]
    }
}

/// A JUnit document being written: quick-xml lays out the elements (nesting, indentation, empty
/// elements), while every attribute value and text passes through [`crate::text`] first and is
/// handed over already escaped, so one neutraliser decides what a host string becomes.
struct Xml<'w> {
    writer: quick_xml::Writer<&'w mut dyn Write>,
}

/// Attributes of one element, values unescaped.
type Attrs<'v> = [(&'static str, &'v str)];

impl<'w> Xml<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Xml {
            writer: quick_xml::Writer::new_with_indent(out, b' ', 2),
        }
    }

    fn element<'a>(name: &'a str, attrs: &Attrs<'_>) -> BytesStart<'a> {
        let mut e = BytesStart::new(name);
        for (key, value) in attrs {
            e.push_attribute(Attribute {
                key: QName(key),
                value: Cow::Owned(attr(value)),
            });
        }
        e
    }

    fn event<'a>(&mut self, event: Event<'a>) -> std::io::Result<()> {
        self.writer.write_event(event)
    }

    fn start(&mut self, name: &str, attrs: &Attrs<'_>) -> std::io::Result<()> {
        self.event(Event::Start(Self::element(name, attrs)))
    }

    fn end(&mut self, name: &str) -> std::io::Result<()> {
        self.event(Event::End(BytesEnd::new(name)))
    }

    fn empty(&mut self, name: &str, attrs: &Attrs<'_>) -> std::io::Result<()> {
        self.event(Event::Empty(Self::element(name, attrs)))
    }

    /// `<name attrs>text</name>` on one line, the text as written.
    fn with_text(&mut self, name: &str, attrs: &Attrs<'_>, body: &str) -> std::io::Result<()> {
        self.start(name, attrs)?;
        self.event(Event::Text(BytesText::from_escaped(text(body))))?;
        self.end(name)
    }
}

fn document(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    let mut x = Xml::new(out);
    x.event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    if let Some(note) = &a.snapshot.target.fallback {
        let note = text(&note.replace("--", "- -"));
        x.event(Event::Comment(BytesText::from_escaped(format!(" {note} "))))?;
    }
    // What a selection left out, where every consumer of the file sees it first.
    for line in a.selection.iter().flat_map(|s| s.lines()) {
        x.event(Event::Comment(BytesText::from_escaped(format!(
            " {} ",
            comment(&line)
        ))))?;
    }
    let timestamp = a.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let counts = Counts::of(&a.results).attributes();
    let mut root = vec![("name", "dockproof")];
    root.extend(counts.iter().map(|(k, v)| (*k, v.as_str())));
    root.push(("timestamp", &timestamp));
    x.start("testsuites", &root)?;
    for check in &a.checks {
        let results: Vec<&CheckResult> = a
            .results
            .iter()
            .filter(|r| r.check_id == check.id)
            .collect();
        let counts = Counts::of(results.iter().copied()).attributes();
        let mut suite = vec![("name", check.id.as_str())];
        suite.extend(counts.iter().map(|(k, v)| (*k, v.as_str())));
        x.start("testsuite", &suite)?;
        properties(&mut x, a, check)?;
        for r in results {
            testcase(&mut x, a, check, r)?;
        }
        x.end("testsuite")?;
    }
    x.end("testsuites")?;
    x.writer.get_mut().write_all(b"\n")
}

/// `<properties>` of a check's suite: one `requirement` property per framework requirement the
/// check gives evidence for, with the requirement's evidence state key and label and the role of
/// the check (`cis-docker-1.6 5.16 (deciding): risk_accepted: Fail, risk accepted under waiver`).
fn properties(x: &mut Xml<'_>, a: &Assessment, check: &CheckInfo) -> std::io::Result<()> {
    let values: Vec<String> = check
        .mappings
        .iter()
        .filter_map(|m| {
            let f = a.frameworks.iter().find(|f| f.id == m.framework)?;
            let q = f.requirements.iter().find(|q| q.id == m.requirement)?;
            let role = match m.role {
                EvidenceRole::Primary => "deciding",
                EvidenceRole::Supporting => "supporting",
            };
            let mut value = format!(
                "{} {} ({role}): {}: {}",
                f.id,
                q.id,
                q.state.as_str(),
                f.label(q.state)
            );
            if let Some(note) = a.waiver_note(q) {
                value.push_str(&format!("; {note}"));
            }
            Some(value)
        })
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    x.start("properties", &[])?;
    for value in &values {
        x.empty("property", &[("name", "requirement"), ("value", value)])?;
    }
    x.end("properties")
}

fn testcase(
    x: &mut Xml<'_>,
    a: &Assessment,
    check: &CheckInfo,
    r: &CheckResult,
) -> std::io::Result<()> {
    let name = format!("{} {}", r.resource.kind.as_str(), r.resource.name);
    let case = [("classname", r.check_id.as_str()), ("name", name.as_str())];
    let message = r.message.as_deref();
    let skipped = |x: &mut Xml<'_>, why: &str| {
        x.start("testcase", &case)?;
        x.empty("skipped", &[("message", why)])?;
        x.end("testcase")
    };
    if let Some(id) = &r.waiver {
        let mut why = format!("waived by {id} (verdict: {})", r.status.as_str());
        if let Some(w) = a.waivers.iter().find(|w| &w.id == id) {
            if let Some(x) = w.expires {
                why.push_str(&format!(" until {x}"));
            }
            why.push_str(&format!(": {}", w.justification));
        }
        return skipped(x, &why);
    }
    match r.status {
        Status::Pass => x.empty("testcase", &case),
        Status::Fail => {
            let summary = match message {
                Some(m) => format!("{}: {m}", check.title),
                None => check.title.clone(),
            };
            let attrs = [("message", summary.as_str()), ("type", r.severity.as_str())];
            x.start("testcase", &case)?;
            x.with_text("failure", &attrs, &body(check, r, true))?;
            x.end("testcase")
        }
        Status::Error => {
            let why = message.unwrap_or("the check could not be evaluated");
            x.start("testcase", &case)?;
            x.with_text(
                "error",
                &[("message", why), ("type", "error")],
                &body(check, r, false),
            )?;
            x.end("testcase")
        }
        Status::NotApplicable | Status::Manual => {
            let why = match (r.status, message) {
                (Status::Manual, Some(m)) => format!("manual: {m}"),
                (Status::Manual, None) => {
                    format!(
                        "manual: {}",
                        check.prompt.as_deref().unwrap_or(&check.title)
                    )
                }
                (_, Some(m)) => format!("not applicable: {m}"),
                (_, None) => "not applicable".to_string(),
            };
            skipped(x, &why)
        }
    }
}

/// Body of a `<failure>` or `<error>`: one line per evidence item, then what to do.
fn body(check: &CheckInfo, r: &CheckResult, advice: bool) -> String {
    let mut lines: Vec<String> = r
        .evidence
        .iter()
        .map(|e| format!("{} = {}", e.label, e.value))
        .collect();
    lines.push(format!("source: {}", r.source));
    lines.push(format!("resource id: {}", r.resource.id));
    if advice {
        lines.push(format!("expected: {}", check.expectation));
        lines.push(format!("remediation: {}", check.remediation));
    }
    lines.join("\n")
}

/// Escapes character data (shared neutraliser: hidden characters shown, not dropped).
fn text(s: &str) -> String {
    crate::text::xml_text(s)
}

/// Text for an XML comment: escaped as character data, with no `--` and no trailing `-`
/// that could end the comment early.
fn comment(s: &str) -> String {
    let mut c = text(s).replace("--", "- -");
    if c.ends_with('-') {
        c.push(' ');
    }
    c
}

/// Escapes an attribute value (double-quoted).
fn attr(s: &str) -> String {
    crate::text::xml_attr(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{sample_assessment, waived_assessment};

    #[test]
    fn a_waived_failure_is_skipped_with_the_waiver_named() {
        let x = render(&waived_assessment());
        assert!(x.contains("<testsuites name=\"dockproof\" tests=\"14\" failures=\"3\" errors=\"1\" skipped=\"4\""), "{x}");
        assert!(x.contains(
            "<skipped message=\"waived by W-1 (verdict: fail) until 2025-06-30: Vendor image pending migration &lt;/td&gt;&lt;img src=x onerror=alert(1)&gt;\"/>"
        ), "{x}");
    }

    fn render(a: &Assessment) -> String {
        let mut buf = Vec::new();
        JunitRenderer.render(a, &mut buf).expect("render");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn escapes_and_shows_illegal_characters() {
        assert_eq!(text("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(
            text("bell\u{7}nul\u{0}esc\u{1b}end"),
            "bell[U+0007]nul[U+0000]esc[U+001B]end"
        );
        assert_eq!(text("tab\tlf\ncr\r"), "tab\tlf\ncr&#13;");
        assert_eq!(attr("tab\tlf\ncr\r"), "tab&#9;lf&#10;cr&#13;");
        assert_eq!(
            text("x\u{FFFE}\u{FFFF}y\u{1F600}"),
            "x[U+FFFE][U+FFFF]y\u{1F600}"
        );
    }

    #[test]
    fn writes_the_exact_document_for_the_fixture() {
        let xml = render(&sample_assessment());
        let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="dockproof" tests="14" failures="4" errors="1" skipped="3" timestamp="2025-03-14T09:26:30Z">
  <testsuite name="container.privileged" tests="3" failures="2" errors="0" skipped="0">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 2.2.5 (deciding): not_in_place: Evidence indicates not in place"/>
      <property name="requirement" value="hipaa-security-rule 164.312(a)(1) (deciding): not_in_place: Evidence indicates not in place"/>
    </properties>
    <testcase classname="container.privileged" name="container web">
      <failure message="Containers do not run privileged" type="high">HostConfig.Privileged = true
source: engine.containers[0]
resource id: 3f2a9c0d1e4b
expected: Containers do not run privileged holds for every container
remediation: Change the run options and recreate the container.</failure>
    </testcase>
    <testcase classname="container.privileged" name="container &lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&amp;">
      <failure message="Containers do not run privileged: &lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&amp;" type="high">HostConfig.Privileged = true
Labels = {&quot;note&quot;:&quot;&lt;/td&gt;&lt;img src=x onerror=alert(1)&gt;&quot;}
source: engine.containers[0]
resource id: 9b8c7d6e5f4a
expected: Containers do not run privileged holds for every container
remediation: Change the run options and recreate the container.</failure>
    </testcase>
    <testcase classname="container.privileged" name="container db"/>
  </testsuite>
  <testsuite name="container.user" tests="3" failures="0" errors="0" skipped="1">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 2.2.6 (deciding): consistent_with_in_place: Evidence consistent with in place (assessor confirmation pending)"/>
      <property name="requirement" value="hipaa-security-rule 164.312(a)(1) (deciding): not_in_place: Evidence indicates not in place"/>
    </properties>
    <testcase classname="container.user" name="container web">
      <skipped message="not applicable: container is stopped"/>
    </testcase>
    <testcase classname="container.user" name="container &lt;script&gt;alert(1)&lt;/script&gt;&quot;&apos;&amp;"/>
    <testcase classname="container.user" name="container db"/>
  </testsuite>
  <testsuite name="daemon.icc" tests="1" failures="1" errors="0" skipped="0">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 2.2.5 (supporting): not_in_place: Evidence indicates not in place"/>
    </properties>
    <testcase classname="daemon.icc" name="daemon dockerd">
      <failure message="Inter-container traffic is restricted" type="medium">icc = true
daemon.json = null
source: engine.containers[0]
resource id: engine
expected: Inter-container traffic is restricted holds for every daemon
remediation: Change the run options and recreate the container.</failure>
    </testcase>
  </testsuite>
  <testsuite name="daemon.tls-verify" tests="1" failures="0" errors="0" skipped="0">
    <properties>
      <property name="requirement" value="hipaa-security-rule 164.312(e)(1) (deciding): consistent_with_in_place: Evidence consistent with in place (assessor confirmation pending)"/>
    </properties>
    <testcase classname="daemon.tls-verify" name="daemon dockerd"/>
  </testsuite>
  <testsuite name="file.docker-sock" tests="1" failures="0" errors="0" skipped="0">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 7.2.1 (deciding): awaiting_manual_evidence: Awaiting manual evidence"/>
    </properties>
    <testcase classname="file.docker-sock" name="file /var/run/docker.sock"/>
  </testsuite>
  <testsuite name="host.audit-docker" tests="1" failures="0" errors="1" skipped="0">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 10.2.1 (deciding): incomplete: Evidence incomplete: could not be evaluated"/>
      <property name="requirement" value="hipaa-security-rule 164.312(b) (deciding): incomplete: Evidence incomplete: could not be evaluated"/>
      <property name="requirement" value="hipaa-security-rule 164.308(a)(1)(ii)(D) (supporting): awaiting_manual_evidence: Awaiting manual evidence"/>
    </properties>
    <testcase classname="host.audit-docker" name="host docker-prod-01">
      <error message="evidence missing: host:/etc/audit/audit.rules could not be read" type="error">audit rules = null
source: engine.containers[0]
resource id: host</error>
    </testcase>
  </testsuite>
  <testsuite name="host.docker-group" tests="1" failures="0" errors="0" skipped="1">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 7.2.1 (supporting): awaiting_manual_evidence: Awaiting manual evidence"/>
    </properties>
    <testcase classname="host.docker-group" name="host docker-prod-01">
      <skipped message="manual: Review the members of the docker group."/>
    </testcase>
  </testsuite>
  <testsuite name="image.trusted-registry" tests="2" failures="1" errors="0" skipped="0">
    <properties>
      <property name="requirement" value="hipaa-security-rule 164.312(c)(1) (deciding): not_in_place: Evidence indicates not in place"/>
    </properties>
    <testcase classname="image.trusted-registry" name="image nginx:1.25">
      <failure message="Images come from trusted registries" type="low">registry = &quot;docker.io&quot;
source: engine.containers[0]
resource id: sha256:4e1b
expected: Images come from trusted registries holds for every image
remediation: Change the run options and recreate the container.</failure>
    </testcase>
    <testcase classname="image.trusted-registry" name="image postgres:16"/>
  </testsuite>
  <testsuite name="swarm.autolock" tests="1" failures="0" errors="0" skipped="1">
    <properties>
      <property name="requirement" value="pci-dss-4.0.1 3.6.1 (deciding): not_applicable_per_evidence: Not applicable per evidence (to confirm)"/>
    </properties>
    <testcase classname="swarm.autolock" name="swarm this node">
      <skipped message="not applicable: swarm mode is inactive"/>
    </testcase>
  </testsuite>
</testsuites>
"#;
        assert_eq!(xml, expected);
    }

    #[test]
    fn control_characters_in_host_strings_never_reach_the_document() {
        let mut a = sample_assessment();
        a.results[0].resource.name = "we\u{1}b\u{8}".into();
        a.results[0].message = Some("line one\nline\u{0}two".into());
        let xml = render(&a);
        assert!(
            xml.contains("name=\"container we[U+0001]b[U+0008]\""),
            "{xml}"
        );
        assert!(xml.contains(
            "message=\"Containers do not run privileged: line one&#10;line[U+0000]two\""
        ));
        assert!(!xml.chars().any(|c| c < ' ' && c != '\n'));
    }

    #[test]
    fn counts_add_up() {
        let a = sample_assessment();
        assert_eq!(
            Counts::of(&a.results),
            Counts {
                tests: 14,
                failures: 4,
                errors: 1,
                skipped: 3
            }
        );
    }
}
