//! `evidence-requests.csv`: the evidence request list an assessor sends the client, one row per
//! partial or manual requirement with a prompt, in framework and catalog order: what to request
//! (the requirement's prompt), from whom (its `evidence_owner` role), and an empty `received`
//! column to tick. The HTML and PDF reports print the same list from [`requests`].
//!
//! Quoting, CRLF line ends and the formula-injection guard are those of `findings.csv`
//! (`csv::write_csv`): prompts and owners come from catalog files a user may supply.

use std::io::Write;

use crate::assessment::{Assessment, AssessmentMode, FrameworkResult, RequirementResult};

use super::csv::write_csv;
use super::{RenderError, Renderer};

/// Header row, in column order.
pub const COLUMNS: [&str; 9] = [
    "framework",
    "requirement",
    "title",
    "level",
    "mode",
    "state",
    "evidence_owner",
    "request",
    "received",
];

/// One entry of the evidence request list.
pub(crate) struct Request<'a> {
    pub framework: &'a FrameworkResult,
    pub requirement: &'a RequirementResult,
    /// What to request: the requirement's prompt.
    pub prompt: &'a str,
}

impl Request<'_> {
    /// Whom to ask; a catalog without an owner (lint requires one) says so.
    pub fn owner(&self) -> &str {
        self.requirement
            .evidence_owner
            .as_deref()
            .unwrap_or("owner not named")
    }
}

/// Every partial or manual requirement with a prompt, per framework in catalog order.
pub(crate) fn requests(a: &Assessment) -> Vec<Request<'_>> {
    a.frameworks
        .iter()
        .flat_map(|fw| {
            fw.requirements.iter().filter_map(move |r| {
                let prompt = r.prompt.as_deref().filter(|p| !p.trim().is_empty())?;
                (r.mode != AssessmentMode::Automated).then_some(Request {
                    framework: fw,
                    requirement: r,
                    prompt,
                })
            })
        })
        .collect()
}

/// Writes the evidence request list under a header row.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvidenceRequestsRenderer;

impl Renderer for EvidenceRequestsRenderer {
    fn name(&self) -> &'static str {
        "evidence-requests"
    }

    fn file_name(&self) -> &'static str {
        "evidence-requests.csv"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        let rows = requests(assessment).into_iter().map(|q| {
            let r = q.requirement;
            [
                q.framework.id.clone(),
                r.id.clone(),
                r.title.clone(),
                r.level.clone().unwrap_or_default(),
                r.mode.label().to_string(),
                q.framework.label(r.state).to_string(),
                q.owner().to_string(),
                q.prompt.trim_end().to_string(),
                String::new(),
            ]
        });
        write_csv(out, &COLUMNS, rows)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture::sample_assessment;

    #[test]
    fn one_row_per_prompted_partial_or_manual_requirement() {
        let a = sample_assessment();
        let mut buf = Vec::new();
        EvidenceRequestsRenderer
            .render(&a, &mut buf)
            .expect("render");
        let text = String::from_utf8(buf).expect("utf-8");
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], COLUMNS.join(","));
        let expected: usize = a
            .frameworks
            .iter()
            .flat_map(|f| &f.requirements)
            .filter(|r| r.mode != AssessmentMode::Automated && r.prompt.is_some())
            .count();
        assert!(expected > 0, "the fixture has manual requirements");
        assert_eq!(lines.len() - 1, expected, "{text}");
        assert!(lines[1..].iter().all(|l| l.ends_with(',')), "{text}");
    }
}
