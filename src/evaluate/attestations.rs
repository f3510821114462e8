//! Attestations: a named person's verdict on a requirement that technical evidence cannot
//! decide alone, with a reference to the document that backs it.
//!
//! An attestation records the assessor's finding for a requirement: it decides a requirement
//! awaiting manual evidence, and confirms one whose technical evidence is consistent with in
//! place or shows it not applicable. It never overrides technical evidence that failed or could
//! not be read: an "in place" attestation on such a requirement is recorded as overridden. Two
//! exceptions follow the frameworks: a "not in place" attestation always applies, because a
//! person who found a problem is evidence too; and a PCI compensating control or a HIPAA
//! alternative measure (or a documented "not reasonable and appropriate") may cover failures
//! whose risk a waiver accepted, since that is what those findings are for. Expired
//! attestations, and those dated after the evaluation, decide nothing and say so in the
//! register.
//!
//! Verdicts are checked against the framework: `compensating_control` is a PCI DSS finding, and
//! `alternative_measure` and `not_reasonable_and_appropriate` apply to HIPAA addressable
//! implementation specifications only.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Deserialize;

use super::decisions::{entries, DecisionFileError, Problem};
use crate::assessment::{
    AppliedAttestation, AttestationRecord, AttestationState, AttestedVerdict, FrameworkResult,
    RequirementState, Vocabulary,
};
use crate::catalog::Catalog;

/// One attestation as written in the file, validated against the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    pub framework: String,
    pub requirement: String,
    pub verdict: AttestedVerdict,
    pub attested_by: String,
    pub date: NaiveDate,
    pub evidence: String,
    pub expires: Option<NaiveDate>,
    pub notes: Option<String>,
    /// `file:line` of the entry.
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    framework: Option<String>,
    requirement: String,
    verdict: AttestedVerdict,
    attested_by: String,
    date: NaiveDate,
    evidence: String,
    expires: Option<NaiveDate>,
    notes: Option<String>,
}

/// Parses an attestation file (`attestations:` list) and checks every entry against `catalog`.
/// `framework` may be left out when the requirement id names exactly one requirement.
pub fn parse(
    text: &str,
    file: &str,
    catalog: &Catalog,
) -> Result<Vec<Attestation>, DecisionFileError> {
    let (parsed, mut problems) = entries::<Entry>(text, file, "attestations")?;
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut out = Vec::with_capacity(parsed.len());
    for (line, e) in parsed {
        let mut problem = |message: String| {
            problems.push(Problem {
                file: file.to_string(),
                line,
                message,
            })
        };
        let owners: Vec<&str> = catalog
            .frameworks
            .iter()
            .filter(|f| e.framework.as_deref().is_none_or(|id| f.meta.id == id))
            .filter(|f| f.requirements.iter().any(|r| r.id == e.requirement))
            .map(|f| f.meta.id.as_str())
            .collect();
        let framework = match (owners.as_slice(), &e.framework) {
            ([one], _) => one.to_string(),
            ([], Some(fw)) if catalog.framework(fw).is_none() => {
                problem(format!("unknown framework `{fw}`"));
                continue;
            }
            ([], Some(fw)) => {
                problem(format!("`{fw}` has no requirement `{}`", e.requirement));
                continue;
            }
            ([], None) => {
                problem(format!(
                    "no framework has a requirement `{}`",
                    e.requirement
                ));
                continue;
            }
            (many, _) => {
                problem(format!(
                    "requirement `{}` exists in {}; add `framework:` to say which",
                    e.requirement,
                    many.join(", ")
                ));
                continue;
            }
        };
        if let Some(why) = verdict_problem(catalog, &framework, &e.requirement, e.verdict) {
            problem(why);
        }
        if e.attested_by.trim().is_empty() {
            problem("`attested_by` is empty; name the person who attests".into());
        }
        if e.evidence.trim().is_empty() {
            problem("`evidence` is empty; name the document or give its URL".into());
        }
        if e.expires.is_some_and(|x| x < e.date) {
            problem("`expires` is before `date`".into());
        }
        let key = (framework.clone(), e.requirement.clone());
        if let Some(first) = seen.insert(key, line) {
            problem(format!(
                "{framework} {} is already attested on line {first}",
                e.requirement
            ));
        }
        out.push(Attestation {
            framework,
            requirement: e.requirement,
            verdict: e.verdict,
            attested_by: e.attested_by.trim().to_string(),
            date: e.date,
            evidence: e.evidence.trim().to_string(),
            expires: e.expires,
            notes: e.notes,
            source: format!("{file}:{line}"),
        });
    }
    problems.sort_by_key(|p| p.line);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(DecisionFileError(problems))
    }
}

/// Why `verdict` cannot be attested for this requirement, if it cannot.
fn verdict_problem(
    catalog: &Catalog,
    framework: &str,
    requirement: &str,
    verdict: AttestedVerdict,
) -> Option<String> {
    let fw = catalog.framework(framework)?;
    let level = fw
        .requirements
        .iter()
        .find(|r| r.id == requirement)
        .and_then(|r| r.level.as_deref());
    match verdict {
        AttestedVerdict::CompensatingControl if fw.meta.vocabulary != Vocabulary::PciDss => {
            Some(format!(
                "`compensating_control` is a PCI DSS finding; {framework} does not use it"
            ))
        }
        AttestedVerdict::AlternativeMeasure | AttestedVerdict::NotReasonableAndAppropriate
            if fw.meta.vocabulary != Vocabulary::Hipaa || level != Some("addressable") =>
        {
            Some(format!(
                "`{}` applies to HIPAA addressable implementation specifications only; {framework} {requirement} is not one",
                verdict.as_str()
            ))
        }
        _ => None,
    }
}

/// The state an attestation gives a requirement in `state`, or `None` when the technical
/// evidence stands.
fn decide(verdict: AttestedVerdict, state: RequirementState) -> Option<RequirementState> {
    use RequirementState as S;
    match (verdict, state) {
        (AttestedVerdict::NotInPlace, _) => Some(verdict.state()),
        (_, S::NotInPlace | S::Incomplete | S::ExcludedBySelection) => None,
        (v, S::RiskAccepted) if !v.covers_accepted_risk() => None,
        (v, _) => Some(v.state()),
    }
}

/// Applies the attestations in force to the framework roll-ups and returns the register.
pub fn apply(
    frameworks: &mut [FrameworkResult],
    attestations: &[Attestation],
    today: NaiveDate,
) -> Vec<AttestationRecord> {
    let mut register = Vec::with_capacity(attestations.len());
    for a in attestations {
        let req = frameworks
            .iter_mut()
            .find(|f| f.id == a.framework)
            .and_then(|f| f.requirements.iter_mut().find(|r| r.id == a.requirement));
        let state = if a.expires.is_some_and(|x| today > x) {
            AttestationState::Expired
        } else if today < a.date {
            AttestationState::NotYetValid
        } else {
            match req {
                None => AttestationState::NotSelected,
                Some(req) => match decide(a.verdict, req.state) {
                    None => AttestationState::Overridden,
                    Some(state) => {
                        req.state = state;
                        req.attestation = Some(AppliedAttestation {
                            verdict: a.verdict,
                            attested_by: a.attested_by.clone(),
                            date: a.date,
                            evidence: a.evidence.clone(),
                        });
                        AttestationState::Applied
                    }
                },
            }
        };
        register.push(AttestationRecord {
            framework: a.framework.clone(),
            requirement: a.requirement.clone(),
            verdict: a.verdict,
            attested_by: a.attested_by.clone(),
            date: a.date,
            evidence: a.evidence.clone(),
            expires: a.expires,
            notes: a.notes.clone(),
            source: a.source.clone(),
            state,
        });
    }
    for f in frameworks.iter_mut() {
        f.recount();
    }
    register
}
