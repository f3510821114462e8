//! `findings.csv`: one row per result, for spreadsheets and ticket imports.
//!
//! This module owns the CSV layout (the [`COLUMNS`] header and one row per result, every status,
//! in assessment order; `status` says `waived` for a covered failure, `verdict` keeps the
//! underlying result and `waiver` names the waiver) and [`write_csv`], the one way every CSV file
//! of a bundle is written.
//!
//! [`write_csv`] writes RFC 4180 with the `csv` crate: a field is quoted when it holds a comma, a
//! double quote, CR or LF, quotes inside are doubled, and rows end with CRLF. Host strings reach
//! this file verbatim, so every cell first passes through [`crate::text::csv_field`]: hidden
//! characters are shown as `[U+XXXX]`, and a cell whose first character is `=`, `+`, `-`, `@`,
//! TAB or CR gets a leading `'`, so spreadsheets show it as text instead of evaluating it.

use std::io::Write;

use chrono::SecondsFormat;

use crate::assessment::{Assessment, CheckResult};

use super::evidence::compact_evidence;
use super::{RenderError, Renderer};

/// Header row, in column order.
pub const COLUMNS: [&str; 19] = [
    "check_id",
    "title",
    "severity",
    "status",
    "verdict",
    "waiver",
    "resource_kind",
    "resource_name",
    "resource_id",
    "message",
    "evidence",
    "expectation",
    "remediation",
    "cis",
    "frameworks",
    "source",
    "observed_at",
    "fingerprint",
    "evidence_of",
];

/// Writes every result as one CSV row under a header row.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvRenderer;

impl Renderer for CsvRenderer {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn file_name(&self) -> &'static str {
        "findings.csv"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        let rows = assessment.results.iter().map(|r| row(assessment, r));
        write_csv(out, &COLUMNS, rows)
    }
}

/// The cells of one result's row, in [`COLUMNS`] order.
fn row(assessment: &Assessment, r: &CheckResult) -> [String; 19] {
    let check = assessment.check(&r.check_id);
    let text =
        |f: fn(&crate::assessment::CheckInfo) -> &str| check.map(f).unwrap_or("").to_string();
    let cis = check
        .map(|c| c.references.cis_docker.join("; "))
        .unwrap_or_default();
    let frameworks = check
        .map(|c| {
            c.mappings
                .iter()
                .map(|m| format!("{}:{}", m.framework, m.requirement))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    [
        r.check_id.clone(),
        text(|c| &c.title),
        r.severity.as_str().to_string(),
        r.shown_status().to_string(),
        r.status.as_str().to_string(),
        r.waiver.clone().unwrap_or_default(),
        r.resource.kind.as_str().to_string(),
        r.resource.name.clone(),
        r.resource.id.clone(),
        r.message.clone().unwrap_or_default(),
        compact_evidence(&r.evidence),
        text(|c| &c.expectation),
        text(|c| &c.remediation),
        cis,
        frameworks,
        r.source.clone(),
        r.observed_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        r.fingerprint.clone(),
        evidence_of(assessment),
    ]
}

/// What the evidence is, on every row so a filtered sheet still says it: `live scan`, or the
/// notice that the bundle holds a saved sample (`--fallback-snapshot`) and not a live scan.
pub(crate) fn evidence_of(a: &Assessment) -> String {
    match &a.snapshot.target.fallback {
        Some(note) => format!("not a live scan: {note}"),
        None => "live scan".to_string(),
    }
}

/// Writes a CSV file: the `header` row, then every row of `rows`, each cell neutralised and
/// guarded by [`crate::text::csv_field`], quoted only where RFC 4180 needs it, rows ended by
/// CRLF. Rows should have the header's width; the writer does not check it, so a format can
/// pin its width with an array type as [`COLUMNS`] does.
pub fn write_csv<R, C>(
    out: &mut dyn Write,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<(), RenderError>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .flexible(true)
        .from_writer(out);
    let field = |c: &str| crate::text::csv_field(c).into_owned();
    writer
        .write_record(header.iter().map(|h| field(h)))
        .map_err(std::io::Error::from)?;
    for row in rows {
        writer
            .write_record(row.into_iter().map(|c| field(c.as_ref())))
            .map_err(std::io::Error::from)?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{Evidence, Status};
    use crate::testing::sample_assessment;
    use serde_json::json;

    fn render(a: &Assessment) -> String {
        let mut buf = Vec::new();
        CsvRenderer.render(a, &mut buf).expect("render");
        String::from_utf8(buf).expect("utf-8")
    }

    /// One cell as `write_csv` writes it (the second cell keeps a lone empty field unquoted).
    fn cell(value: &str) -> String {
        let mut buf = Vec::new();
        write_csv(&mut buf, &["a", "b"], [[value, "x"]]).expect("write");
        let text = String::from_utf8(buf).expect("utf-8");
        let row = text.strip_prefix("a,b\r\n").expect("header");
        row.strip_suffix(",x\r\n").expect("row end").to_string()
    }

    #[test]
    fn quotes_and_guards_cells() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(cell("a=b"), "a=b");
        assert_eq!(cell(""), "");
        assert_eq!(cell("\u{202E}gnp.exe"), "[U+202E]gnp.exe");
    }

    #[test]
    fn a_waived_failure_shows_as_waived_and_keeps_its_verdict() {
        let a = crate::testing::waived_assessment();
        let text = render(&a);
        let row = text
            .lines()
            .find(|l| l.contains("nginx:1.25"))
            .expect("nginx row");
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(&cells[3..6], &["waived", "fail", "W-1"], "{row}");
        let db = text.lines().find(|l| l.contains(",db,")).expect("db row");
        assert_eq!(db.split(',').nth(5), Some(""), "{db}");
    }

    #[test]
    fn writes_header_and_one_row_per_result() {
        let a = sample_assessment();
        let text = render(&a);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "check_id,title,severity,status,verdict,waiver,resource_kind,resource_name,resource_id,message,\
             evidence,expectation,remediation,cis,frameworks,source,observed_at,fingerprint,evidence_of"
        );
        // Header, 14 results, and the empty string after the final CRLF.
        assert_eq!(lines.len(), a.results.len() + 2);
        assert_eq!(lines.last(), Some(&""));
        assert_eq!(
            lines[1],
            "container.privileged,Containers do not run privileged,high,fail,fail,,container,web,\
             3f2a9c0d1e4b,,HostConfig.Privileged=true,Containers do not run privileged holds for \
             every container,Change the run options and recreate the container.,5.5,\
             pci-dss-4.0.1:2.2.5; hipaa-security-rule:164.312(a)(1),engine.containers[0],\
             2025-03-14T09:26:05Z,container.privileged/container/web,live scan"
        );
        assert_eq!(
            lines[10],
            "host.audit-docker,The Docker daemon is audited,medium,error,error,,host,docker-prod-01,host,\
             evidence missing: host:/etc/audit/audit.rules could not be read,audit rules=null,\
             The Docker daemon is audited holds for every host,Change the run options and recreate \
             the container.,5.5,pci-dss-4.0.1:10.2.1; hipaa-security-rule:164.312(b); \
             hipaa-security-rule:164.308(a)(1)(ii)(D),engine.containers[0],2025-03-14T09:26:05Z,\
             host.audit-docker/host/docker-prod-01,live scan"
        );
    }

    #[test]
    fn quotes_host_strings_from_the_fixture() {
        let text = render(&sample_assessment());
        // The hostile container name is quoted (it holds a double quote) and its quotes doubled.
        let row = text.split("\r\n").nth(2).expect("second result row");
        assert_eq!(
            row,
            "container.privileged,Containers do not run privileged,high,fail,fail,,container,\
             \"<script>alert(1)</script>\"\"'&\",9b8c7d6e5f4a,\"<script>alert(1)</script>\"\"'&\",\
             \"HostConfig.Privileged=true; Labels={\"\"note\"\":\"\"</td><img src=x \
             onerror=alert(1)>\"\"}\",Containers do not run privileged holds for every container,\
             Change the run options and recreate the container.,5.5,\
             pci-dss-4.0.1:2.2.5; hipaa-security-rule:164.312(a)(1),engine.containers[0],\
             2025-03-14T09:26:05Z,\"container.privileged/container/<script>alert(1)</script>\"\"'&\",live scan"
        );
    }

    #[test]
    fn neutralises_formulas_and_keeps_multi_line_messages_in_one_field() {
        let mut a = sample_assessment();
        a.results.truncate(1);
        a.results[0].resource.name = "=HYPERLINK(\"http://x\")".into();
        a.results[0].message = Some("first line\nsecond, line".into());
        a.results[0].evidence = vec![Evidence {
            label: "-cmd".into(),
            value: json!(["a", 1]),
        }];
        a.results[0].status = Status::Fail;
        let text = render(&a);
        let body = text.split_once("\r\n").map(|(_, b)| b).unwrap_or("");
        assert_eq!(
            body,
            "container.privileged,Containers do not run privileged,high,fail,fail,,container,\
             \"'=HYPERLINK(\"\"http://x\"\")\",3f2a9c0d1e4b,\"first line\nsecond, line\",\
             \"'-cmd=[\"\"a\"\",1]\",Containers do not run privileged holds for every container,\
             Change the run options and recreate the container.,5.5,\
             pci-dss-4.0.1:2.2.5; hipaa-security-rule:164.312(a)(1),engine.containers[0],\
             2025-03-14T09:26:05Z,container.privileged/container/web,live scan\r\n"
        );
    }

    #[test]
    fn compacts_evidence_as_json_values() {
        let a = sample_assessment();
        assert_eq!(
            crate::render::evidence::compact_evidence(&a.results[6].evidence),
            "icc=true; daemon.json=null"
        );
        assert_eq!(
            crate::render::evidence::compact_evidence(&a.results[10].evidence),
            "members=[\"alice\",\"deploy\"]"
        );
        assert_eq!(crate::render::evidence::compact_evidence(&[]), "");
    }
}
