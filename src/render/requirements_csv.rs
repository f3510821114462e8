//! `requirements.csv`: one row per framework requirement, with its evidence state, for the
//! assessor's working sheet.
//!
//! This module owns the [`COLUMNS`] of the requirements file. Every requirement of every
//! selected framework gets a row, in framework and catalog order, including those awaiting
//! manual evidence and those that do not apply. `state` is the evidence state key (the same key
//! `assessment.json`, SARIF and OSCAL carry) and `state_label` its label in the framework's
//! words; a waived failure reads `risk_accepted` and `waivers` names each waiver with its expiry
//! (the sentence of [`Assessment::waiver_note`]). The result counts are those of the deciding
//! checks (underlying verdicts: a waived failure counts under `results_fail` and again under
//! `results_waived`).
//!
//! Quoting, CRLF line ends and the formula-injection guard are those of `findings.csv`
//! (`csv::write_csv`): titles, prompts and attestation texts come from files a user supplies.

use std::io::Write;

use crate::assessment::{Assessment, FrameworkResult, RequirementResult, Status};

use super::csv::write_csv;
use super::{RenderError, Renderer};

/// Header row, in column order.
pub const COLUMNS: [&str; 21] = [
    "framework",
    "requirement",
    "title",
    "section",
    "level",
    "mode",
    "state",
    "state_label",
    "technical_evidence",
    "deciding_checks",
    "supporting_checks",
    "results_fail",
    "results_waived",
    "results_error",
    "results_pass",
    "results_not_applicable",
    "waivers",
    "attestation",
    "evidence_owner",
    "prompt",
    "evidence_of",
];

/// Writes one row per framework requirement under a header row.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequirementsCsvRenderer;

impl Renderer for RequirementsCsvRenderer {
    fn name(&self) -> &'static str {
        "requirements-csv"
    }

    fn file_name(&self) -> &'static str {
        "requirements.csv"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        let rows = assessment
            .frameworks
            .iter()
            .flat_map(|f| f.requirements.iter().map(move |q| row(assessment, f, q)));
        write_csv(out, &COLUMNS, rows)
    }
}

/// The cells of one requirement's row, in [`COLUMNS`] order.
fn row(a: &Assessment, f: &FrameworkResult, q: &RequirementResult) -> [String; 21] {
    let count = |s: Status| q.counts.get(&s).copied().unwrap_or(0).to_string();
    let attestation = q
        .attestation
        .as_ref()
        .map(|t| {
            format!(
                "{} by {} on {}: {}",
                t.verdict.as_str(),
                t.attested_by,
                t.date,
                t.evidence
            )
        })
        .unwrap_or_default();
    [
        f.id.clone(),
        q.id.clone(),
        q.title.clone(),
        q.section.clone().unwrap_or_default(),
        q.level.clone().unwrap_or_default(),
        q.mode.label().to_string(),
        q.state.as_str().to_string(),
        f.label(q.state).to_string(),
        q.technical.label().to_string(),
        q.checks.join("; "),
        q.supporting.join("; "),
        count(Status::Fail),
        q.waived.to_string(),
        count(Status::Error),
        count(Status::Pass),
        count(Status::NotApplicable),
        a.waiver_note(q).unwrap_or_default(),
        attestation,
        q.evidence_owner.clone().unwrap_or_default(),
        q.prompt.clone().unwrap_or_default(),
        super::csv::evidence_of(a),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{RequirementState, Technical};
    use crate::testing::{sample_assessment, waived_assessment};

    fn render(a: &Assessment) -> Vec<String> {
        let mut buf = Vec::new();
        RequirementsCsvRenderer.render(a, &mut buf).expect("render");
        let text = String::from_utf8(buf).expect("utf-8");
        assert!(text.ends_with("\r\n"));
        text.split("\r\n")
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn writes_one_row_per_requirement_of_every_framework() {
        let a = sample_assessment();
        let lines = render(&a);
        assert_eq!(lines[0], COLUMNS.join(","));
        let requirements: usize = a.frameworks.iter().map(|f| f.requirements.len()).sum();
        assert_eq!(lines.len(), requirements + 1);
        assert_eq!(
            lines[1],
            "pci-dss-4.0.1,2.2.1,Configuration standards are maintained,Requirement 2,,Manual,\
             awaiting_manual_evidence,Awaiting manual evidence,none,,,0,0,0,0,0,,,\
             security officer,Obtain the documented procedure for 2.2.1 and interview its owner.,\
             live scan"
        );
        assert_eq!(
            lines[2],
            "pci-dss-4.0.1,2.2.5,Only necessary services and functions are enabled,\
             Requirement 2,,Technical,not_in_place,Evidence indicates not in place,failed,\
             container.privileged,daemon.icc,2,0,0,1,0,,,,,live scan"
        );
        let transmission = lines
            .iter()
            .find(|l| l.starts_with("hipaa-security-rule,164.312(e)(1),"))
            .expect("164.312(e)(1) row");
        assert!(
            transmission.contains(
                ",addressable,Technical,consistent_with_in_place,Evidence consistent with in \
                 place (assessor confirmation pending),passed,"
            ),
            "{transmission}"
        );
    }

    #[test]
    fn a_waived_requirement_names_its_waiver_and_expiry_and_an_attested_one_its_attester() {
        let mut a = waived_assessment();
        let q = a.frameworks[1]
            .requirements
            .iter_mut()
            .find(|q| q.id == "164.312(c)(1)")
            .expect("164.312(c)(1)");
        q.state = RequirementState::RiskAccepted;
        q.technical = Technical::RiskAccepted;
        q.waived = 1;
        q.waivers = vec!["W-1".into()];
        let lines = render(&a);
        let waived = lines
            .iter()
            .find(|l| l.starts_with("hipaa-security-rule,164.312(c)(1),"))
            .expect("waived row");
        assert!(
            waived.contains(
                ",risk_accepted,Not in place: risk accepted under waiver,\"failed, waived\","
            ),
            "{waived}"
        );
        assert!(
            waived.contains(
                ",1 failure(s) waived: risk accepted under waiver W-1 (expires 2025-06-30),"
            ),
            "{waived}"
        );
        let attested = lines
            .iter()
            .find(|l| l.starts_with("pci-dss-4.0.1,2.2.1,"))
            .expect("attested row");
        assert!(
            attested.contains(
                ",attested_in_place,In Place (assessor finding),none,,,0,0,0,0,0,,\
                 \"in_place by Dana Reviewer, QSA on 2025-03-01: Configuration Standard CS-7 rev 4\","
            ),
            "{attested}"
        );
    }

    #[test]
    fn guards_cells_against_formulas() {
        let mut a = sample_assessment();
        a.frameworks[0].requirements[0].title = "=HYPERLINK(\"http://x\")".into();
        let lines = render(&a);
        assert!(
            lines[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
            "{}",
            lines[1]
        );
    }
}
