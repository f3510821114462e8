//! Requirement-level results: what the evidence collected says about each framework requirement.
//!
//! A tool does not conclude a Report on Compliance; an assessor does. So a requirement carries an
//! *evidence state* that an assessor maps to a finding, never the finding itself:
//!
//! | state | meaning |
//! |---|---|
//! | `not_in_place` | a deciding check failed and no waiver covers it |
//! | `risk_accepted` | every deciding failure is covered by an active waiver: still not in place |
//! | `incomplete` | a deciding check could not be evaluated and none failed |
//! | `excluded_by_selection` | `--check`/`--skip` left out a deciding check, or `--filter` left out resources it judges, and none failed: not assessed |
//! | `consistent_with_in_place` | every deciding check passed on an automated requirement; the assessor confirms |
//! | `awaiting_manual_evidence` | a person has to supply evidence (partial or manual requirement) |
//! | `not_applicable_per_evidence` | no deciding check applied to anything on the host; the assessor confirms |
//! | `not_applicable_declared` | excluded by a declared site parameter (PCI service-provider-only requirements) |
//! | `attested_*` | an attestation records the assessor's own finding |
//!
//! Only the `attested_*` states carry the words of a framework's findings (PCI's "In Place",
//! HIPAA's "alternative measure"); see [`RequirementState::label`]. CIS recommendations keep the
//! benchmark's pass / fail / manual.
//!
//! There is no percentage. [`Figures`] counts requirements with numerator and denominator, so a
//! host whose manual requirements are still open is never shown as "0 % compliant".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Status;

/// Whose words a framework's findings use; decides the labels of requirement states.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Vocabulary {
    /// A benchmark: recommendations pass, fail or need a manual check (CIS).
    Benchmark,
    /// PCI DSS: the ROC's In Place / Not in Place / Not Applicable, only where attested.
    PciDss,
    /// HIPAA Security Rule: implemented, alternative measure, not reasonable and appropriate.
    Hipaa,
    /// Any other framework: the evidence states as they are.
    #[default]
    Generic,
}

/// How a requirement is assessed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AssessmentMode {
    /// Technical evidence decides (every deciding check is automated).
    Automated,
    /// Technical evidence covers part; a document or attestation covers the rest.
    Partial,
    /// Only documents, interviews or attestations can decide.
    Manual,
}

impl AssessmentMode {
    /// Name for people. "Technical + manual" rather than "partial", which reads like a status.
    pub fn label(self) -> &'static str {
        match self {
            AssessmentMode::Automated => "Technical",
            AssessmentMode::Partial => "Technical + manual",
            AssessmentMode::Manual => "Manual",
        }
    }
}

/// What the results of a requirement's deciding checks say, before any attestation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Technical {
    /// An unwaived deciding failure.
    NotInPlace,
    /// Deciding failures, every one covered by an active waiver.
    RiskAccepted,
    /// A deciding check could not be evaluated, and none failed.
    Incomplete,
    /// The selection left out a deciding check or resources it judges, and none failed.
    ExcludedBySelection,
    /// Every applicable deciding result passed.
    Consistent,
    /// Deciding checks exist but applied to nothing on this host.
    NotApplicable,
    /// No automated deciding check: nothing technical to say.
    None,
}

impl Technical {
    /// Whether technical evidence was collected that bears on the requirement.
    pub fn collected(self) -> bool {
        matches!(
            self,
            Technical::NotInPlace
                | Technical::RiskAccepted
                | Technical::Incomplete
                | Technical::Consistent
        )
    }

    /// What the deciding results of one requirement add up to. `counts` are the underlying
    /// verdicts (waived failures included) of automated deciding checks; `waived` how many of
    /// the failures an active waiver covers.
    pub fn from_counts(counts: &BTreeMap<Status, usize>, waived: usize) -> Technical {
        let n = |s: Status| counts.get(&s).copied().unwrap_or(0);
        if n(Status::Fail) > waived {
            Technical::NotInPlace
        } else if n(Status::Fail) > 0 {
            Technical::RiskAccepted
        } else if n(Status::Error) > 0 {
            Technical::Incomplete
        } else if n(Status::Pass) > 0 {
            Technical::Consistent
        } else if n(Status::NotApplicable) > 0 {
            Technical::NotApplicable
        } else {
            Technical::None
        }
    }

    /// Name for people.
    pub fn label(self) -> &'static str {
        match self {
            Technical::NotInPlace => "failed",
            Technical::RiskAccepted => "failed, waived",
            Technical::Incomplete => "could not be evaluated",
            Technical::ExcludedBySelection => "not assessed (excluded by selection)",
            Technical::Consistent => "passed",
            Technical::NotApplicable => "applied to nothing",
            Technical::None => "none",
        }
    }
}

/// The evidence state of one requirement (see the module documentation).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum RequirementState {
    NotInPlace,
    RiskAccepted,
    Incomplete,
    ExcludedBySelection,
    AttestedNotInPlace,
    AwaitingManualEvidence,
    ConsistentWithInPlace,
    AttestedInPlace,
    AttestedCompensatingControl,
    AttestedAlternativeMeasure,
    AttestedNotReasonable,
    NotApplicablePerEvidence,
    NotApplicableDeclared,
    AttestedNotApplicable,
}

impl RequirementState {
    /// The state technical evidence alone gives a requirement assessed in `mode`. A failure
    /// decides in every mode (a deciding check is one whose failure alone means the requirement
    /// is not in place); a pass only concludes an automated requirement.
    pub fn from_technical(mode: AssessmentMode, technical: Technical) -> RequirementState {
        match (technical, mode) {
            (Technical::NotInPlace, _) => RequirementState::NotInPlace,
            (Technical::RiskAccepted, _) => RequirementState::RiskAccepted,
            (Technical::Incomplete, _) => RequirementState::Incomplete,
            (Technical::ExcludedBySelection, _) => RequirementState::ExcludedBySelection,
            (Technical::Consistent, AssessmentMode::Automated) => {
                RequirementState::ConsistentWithInPlace
            }
            (Technical::NotApplicable, AssessmentMode::Automated) => {
                RequirementState::NotApplicablePerEvidence
            }
            _ => RequirementState::AwaitingManualEvidence,
        }
    }

    /// Every state, worst first: the order of legends and counts.
    pub const ALL: [RequirementState; 14] = [
        RequirementState::NotInPlace,
        RequirementState::AttestedNotInPlace,
        RequirementState::RiskAccepted,
        RequirementState::Incomplete,
        RequirementState::ExcludedBySelection,
        RequirementState::AwaitingManualEvidence,
        RequirementState::ConsistentWithInPlace,
        RequirementState::AttestedInPlace,
        RequirementState::AttestedCompensatingControl,
        RequirementState::AttestedAlternativeMeasure,
        RequirementState::AttestedNotReasonable,
        RequirementState::NotApplicablePerEvidence,
        RequirementState::NotApplicableDeclared,
        RequirementState::AttestedNotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequirementState::NotInPlace => "not_in_place",
            RequirementState::RiskAccepted => "risk_accepted",
            RequirementState::Incomplete => "incomplete",
            RequirementState::ExcludedBySelection => "excluded_by_selection",
            RequirementState::AttestedNotInPlace => "attested_not_in_place",
            RequirementState::AwaitingManualEvidence => "awaiting_manual_evidence",
            RequirementState::ConsistentWithInPlace => "consistent_with_in_place",
            RequirementState::AttestedInPlace => "attested_in_place",
            RequirementState::AttestedCompensatingControl => "attested_compensating_control",
            RequirementState::AttestedAlternativeMeasure => "attested_alternative_measure",
            RequirementState::AttestedNotReasonable => "attested_not_reasonable",
            RequirementState::NotApplicablePerEvidence => "not_applicable_per_evidence",
            RequirementState::NotApplicableDeclared => "not_applicable_declared",
            RequirementState::AttestedNotApplicable => "attested_not_applicable",
        }
    }

    /// The state in the words of a framework's findings. Finding terms of the framework (PCI's
    /// "In Place") appear only for attested states, where an assessor recorded them.
    pub fn label(self, vocabulary: Vocabulary) -> &'static str {
        use RequirementState as S;
        use Vocabulary as V;
        match (vocabulary, self) {
            (V::Benchmark, S::NotInPlace) => "Fail",
            (V::Benchmark, S::RiskAccepted) => "Fail, risk accepted under waiver",
            (V::Benchmark, S::Incomplete) => "Error: could not be evaluated",
            (_, S::ExcludedBySelection) => "Not assessed (excluded by selection)",
            (V::Benchmark, S::ConsistentWithInPlace) => "Pass",
            (V::Benchmark, S::AwaitingManualEvidence) => "Manual",
            (V::Benchmark, S::NotApplicablePerEvidence) => "Not applicable",
            (V::Benchmark, S::AttestedInPlace) => "Pass (attested)",
            (V::Benchmark, S::AttestedNotInPlace) => "Fail (attested)",
            (V::Benchmark, S::AttestedNotApplicable) => "Not applicable (attested)",
            (V::PciDss, S::AttestedInPlace) => "In Place (assessor finding)",
            (V::PciDss, S::AttestedCompensatingControl) => {
                "In Place with compensating control (assessor finding)"
            }
            (V::PciDss, S::AttestedNotInPlace) => "Not in Place (assessor finding)",
            (V::PciDss, S::AttestedNotApplicable) => "Not Applicable (assessor finding)",
            (V::Hipaa, S::AttestedInPlace) => "Implemented (attested)",
            (V::Hipaa, S::AttestedAlternativeMeasure) => {
                "Alternative measure implemented (attested)"
            }
            (V::Hipaa, S::AttestedNotReasonable) => {
                "Not reasonable and appropriate, documented (attested)"
            }
            (V::Hipaa, S::AttestedNotInPlace) => "Not implemented (attested)",
            (V::Hipaa, S::AttestedNotApplicable) => "Not applicable (attested)",
            (_, S::NotInPlace) => "Evidence indicates not in place",
            (_, S::RiskAccepted) => "Not in place: risk accepted under waiver",
            (_, S::Incomplete) => "Evidence incomplete: could not be evaluated",
            (_, S::ConsistentWithInPlace) => {
                "Evidence consistent with in place (assessor confirmation pending)"
            }
            (_, S::AwaitingManualEvidence) => "Awaiting manual evidence",
            (_, S::NotApplicablePerEvidence) => "Not applicable per evidence (to confirm)",
            (_, S::NotApplicableDeclared) => "Not applicable as declared (service providers only)",
            (_, S::AttestedInPlace) => "In place (attested)",
            (_, S::AttestedCompensatingControl) => "In place with compensating control (attested)",
            (_, S::AttestedAlternativeMeasure) => "Alternative measure (attested)",
            (_, S::AttestedNotReasonable) => "Not reasonable and appropriate (attested)",
            (_, S::AttestedNotInPlace) => "Not in place (attested)",
            (_, S::AttestedNotApplicable) => "Not applicable (attested)",
        }
    }

    /// The colour family a report gives the state. A waived failure is never green.
    pub fn tone(self) -> Tone {
        use RequirementState as S;
        match self {
            S::NotInPlace | S::AttestedNotInPlace => Tone::Bad,
            S::RiskAccepted => Tone::Accepted,
            // Not shown to be met, like missing evidence: never green, never neutral.
            S::Incomplete | S::ExcludedBySelection => Tone::Error,
            S::AwaitingManualEvidence => Tone::Pending,
            S::ConsistentWithInPlace => Tone::Consistent,
            S::AttestedInPlace
            | S::AttestedCompensatingControl
            | S::AttestedAlternativeMeasure
            | S::AttestedNotReasonable => Tone::Good,
            S::NotApplicablePerEvidence | S::NotApplicableDeclared | S::AttestedNotApplicable => {
                Tone::Neutral
            }
        }
    }

    /// Whether the evidence says the requirement is not in place (waived or not, attested or not).
    pub fn is_not_in_place(self) -> bool {
        matches!(
            self,
            RequirementState::NotInPlace
                | RequirementState::RiskAccepted
                | RequirementState::AttestedNotInPlace
        )
    }

    /// Whether an attestation decided the state.
    pub fn is_attested(self) -> bool {
        matches!(
            self,
            RequirementState::AttestedInPlace
                | RequirementState::AttestedCompensatingControl
                | RequirementState::AttestedAlternativeMeasure
                | RequirementState::AttestedNotReasonable
                | RequirementState::AttestedNotInPlace
                | RequirementState::AttestedNotApplicable
        )
    }

    /// Whether the state says the requirement does not apply.
    pub fn is_not_applicable(self) -> bool {
        matches!(
            self,
            RequirementState::NotApplicablePerEvidence
                | RequirementState::NotApplicableDeclared
                | RequirementState::AttestedNotApplicable
        )
    }
}

/// The colour family of a requirement state, shared by the HTML and PDF reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Not in place: red.
    Bad,
    /// Not in place, risk accepted: amber, never green.
    Accepted,
    /// Could not be evaluated: purple.
    Error,
    /// Waiting for a person: grey-blue.
    Pending,
    /// Technical evidence consistent with in place, not yet confirmed: light green outline.
    Consistent,
    /// An assessor recorded it in place: green.
    Good,
    /// Does not apply: grey.
    Neutral,
}

impl Tone {
    /// CSS class and PDF colour key.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Bad => "bad",
            Tone::Accepted => "accepted",
            Tone::Error => "error",
            Tone::Pending => "pending",
            Tone::Consistent => "consistent",
            Tone::Good => "good",
            Tone::Neutral => "neutral",
        }
    }
}

/// Roll-up of one framework requirement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RequirementResult {
    /// Official identifier (`2.2.5`, `164.312(b)`, `5.5`).
    pub id: String,
    pub title: String,
    /// Grouping heading in the framework (e.g. `Requirement 2`).
    pub section: Option<String>,
    /// HIPAA implementation specification level: `required` or `addressable`.
    pub level: Option<String>,
    pub mode: AssessmentMode,
    /// The evidence state (see [`RequirementState`]).
    pub state: RequirementState,
    /// What the deciding checks alone say, before any attestation or declaration.
    pub technical: Technical,
    /// PCI DSS: applies only to service providers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_provider_only: bool,
    /// Checks whose results decide the state.
    pub checks: Vec<String>,
    /// Checks shown as supporting evidence only.
    pub supporting: Vec<String>,
    /// What manual evidence the assessor should collect.
    pub prompt: Option<String>,
    /// Who the assessor asks for the manual evidence (role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_owner: Option<String>,
    /// Result counts over the deciding checks (underlying verdicts, waived failures included).
    pub counts: BTreeMap<Status, usize>,
    /// Deciding failures covered by an active waiver.
    #[serde(default)]
    pub waived: usize,
    /// Deciding checks the selection left out or narrowed (skipped, or judged without the
    /// filtered-out resources), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_by_selection: Vec<String>,
    /// Ids of the waivers covering those failures, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<String>,
    /// The attestation that decided this requirement, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AppliedAttestation>,
}

/// The part of an attestation a requirement row shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppliedAttestation {
    pub verdict: AttestedVerdict,
    pub attested_by: String,
    pub date: chrono::NaiveDate,
    pub evidence: String,
}

/// Roll-up of one framework.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameworkResult {
    pub id: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    pub url: Option<String>,
    pub description: String,
    /// Whose words the states are shown in.
    #[serde(default)]
    pub vocabulary: Vocabulary,
    pub requirements: Vec<RequirementResult>,
    /// Requirement counts per state.
    pub counts: BTreeMap<RequirementState, usize>,
    /// The headline figures, each with its denominator.
    pub figures: Figures,
}

impl FrameworkResult {
    /// Recomputes [`Self::counts`] and [`Self::figures`] from the requirements.
    pub fn recount(&mut self) {
        let mut counts = BTreeMap::new();
        for r in &self.requirements {
            *counts.entry(r.state).or_default() += 1;
        }
        self.counts = counts;
        self.figures = Figures::of(&self.requirements);
    }

    /// The label of `state` in this framework's words.
    pub fn label(&self, state: RequirementState) -> &'static str {
        state.label(self.vocabulary)
    }
}

/// A framework's standing as counts with their denominators, never a percentage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Figures {
    /// Requirements in the framework file.
    pub requirements: usize,
    /// Requirements on which technical evidence was collected (a deciding check passed, failed
    /// or could not be evaluated).
    pub with_technical_evidence: usize,
    /// Of those, the ones whose technical evidence is consistent with in place.
    pub technically_consistent: usize,
    /// Requirements the evidence shows not in place (waived, attested or not).
    pub not_in_place: usize,
    /// Of those, the ones whose every failure is covered by a waiver.
    pub risk_accepted: usize,
    /// Requirements whose technical evidence could not be evaluated.
    pub incomplete: usize,
    /// Requirements not assessed because the selection left out their deciding evidence.
    #[serde(default)]
    pub excluded_by_selection: usize,
    /// Requirements waiting for manual evidence.
    pub awaiting_manual_evidence: usize,
    /// Requirements an attestation decided.
    pub attested: usize,
    /// Requirements that do not apply (per evidence, declared, or attested).
    pub not_applicable: usize,
}

impl Figures {
    /// Counts the figures over `requirements`.
    pub fn of(requirements: &[RequirementResult]) -> Figures {
        let mut f = Figures {
            requirements: requirements.len(),
            ..Figures::default()
        };
        for r in requirements {
            f.with_technical_evidence += usize::from(r.technical.collected());
            f.technically_consistent += usize::from(r.technical == Technical::Consistent);
            f.not_in_place += usize::from(r.state.is_not_in_place());
            f.risk_accepted += usize::from(r.state == RequirementState::RiskAccepted);
            f.incomplete += usize::from(r.state == RequirementState::Incomplete);
            f.excluded_by_selection +=
                usize::from(r.state == RequirementState::ExcludedBySelection);
            f.awaiting_manual_evidence +=
                usize::from(r.state == RequirementState::AwaitingManualEvidence);
            f.attested += usize::from(r.state.is_attested());
            f.not_applicable += usize::from(r.state.is_not_applicable());
        }
        f
    }

    /// The figures as short lines, each with its denominator, the same in every report:
    /// `technical evidence on 35 of 280 requirements: 20 of 35 consistent with in place`, ….
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Technical evidence on {} of {} requirements: {} of {} consistent with in place",
            self.with_technical_evidence,
            self.requirements,
            self.technically_consistent,
            self.with_technical_evidence
        )];
        let mut not_in_place = format!(
            "Not in place per evidence: {} of {}",
            self.not_in_place, self.requirements
        );
        if self.risk_accepted > 0 {
            not_in_place.push_str(&format!(
                " ({} with the risk accepted under waivers)",
                self.risk_accepted
            ));
        }
        lines.push(not_in_place);
        if self.incomplete > 0 {
            lines.push(format!(
                "Evidence incomplete: {} of {}",
                self.incomplete, self.requirements
            ));
        }
        if self.excluded_by_selection > 0 {
            lines.push(format!(
                "Not assessed (excluded by selection): {} of {}",
                self.excluded_by_selection, self.requirements
            ));
        }
        lines.push(format!(
            "Awaiting manual evidence: {} of {}",
            self.awaiting_manual_evidence, self.requirements
        ));
        lines.push(format!(
            "Attested by an assessor: {} of {}",
            self.attested, self.requirements
        ));
        lines.push(format!(
            "Not applicable: {} of {}",
            self.not_applicable, self.requirements
        ));
        lines
    }

    /// The figures a change is read from, in a few words: `20/35 consistent, 13 not in place,
    /// 230 awaiting manual evidence, 2 attested`.
    pub fn short(&self) -> String {
        format!(
            "{}/{} consistent, {} not in place, {} awaiting manual evidence, {} attested",
            self.technically_consistent,
            self.with_technical_evidence,
            self.not_in_place,
            self.awaiting_manual_evidence,
            self.attested
        )
    }

    /// One line for tables and the terminal: `20/35 consistent · 13 not in place (2 waived) ·
    /// 230 awaiting manual · 2 attested · 12 n/a · of 280`.
    pub fn compact(&self) -> String {
        let mut s = format!(
            "{}/{} with technical evidence consistent, {} not in place",
            self.technically_consistent, self.with_technical_evidence, self.not_in_place
        );
        if self.risk_accepted > 0 {
            s.push_str(&format!(" ({} risk accepted)", self.risk_accepted));
        }
        if self.incomplete > 0 {
            s.push_str(&format!(", {} incomplete", self.incomplete));
        }
        if self.excluded_by_selection > 0 {
            s.push_str(&format!(
                ", {} excluded by selection",
                self.excluded_by_selection
            ));
        }
        s.push_str(&format!(
            ", {} awaiting manual evidence, {} attested, {} not applicable, of {} requirements",
            self.awaiting_manual_evidence, self.attested, self.not_applicable, self.requirements
        ));
        s
    }
}

/// The verdict a person attested for a requirement.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AttestedVerdict {
    /// In place (`satisfied` in files written for earlier versions).
    #[serde(alias = "satisfied")]
    InPlace,
    /// Not in place (`not_satisfied` in earlier files).
    #[serde(alias = "not_satisfied")]
    NotInPlace,
    NotApplicable,
    /// PCI DSS: in place through a compensating control (a worksheet the assessor reviewed).
    CompensatingControl,
    /// HIPAA, addressable specifications: an equivalent alternative measure is implemented.
    AlternativeMeasure,
    /// HIPAA, addressable specifications: documented as not reasonable and appropriate.
    NotReasonableAndAppropriate,
}

impl AttestedVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            AttestedVerdict::InPlace => "in_place",
            AttestedVerdict::NotInPlace => "not_in_place",
            AttestedVerdict::NotApplicable => "not_applicable",
            AttestedVerdict::CompensatingControl => "compensating_control",
            AttestedVerdict::AlternativeMeasure => "alternative_measure",
            AttestedVerdict::NotReasonableAndAppropriate => "not_reasonable_and_appropriate",
        }
    }

    /// The state an applied attestation gives its requirement.
    pub fn state(self) -> RequirementState {
        match self {
            AttestedVerdict::InPlace => RequirementState::AttestedInPlace,
            AttestedVerdict::NotInPlace => RequirementState::AttestedNotInPlace,
            AttestedVerdict::NotApplicable => RequirementState::AttestedNotApplicable,
            AttestedVerdict::CompensatingControl => RequirementState::AttestedCompensatingControl,
            AttestedVerdict::AlternativeMeasure => RequirementState::AttestedAlternativeMeasure,
            AttestedVerdict::NotReasonableAndAppropriate => RequirementState::AttestedNotReasonable,
        }
    }

    /// Whether the verdict may cover failures that waivers accepted: a compensating control or
    /// an alternative measure is the documented answer to a requirement not met as stated.
    pub fn covers_accepted_risk(self) -> bool {
        matches!(
            self,
            AttestedVerdict::CompensatingControl
                | AttestedVerdict::AlternativeMeasure
                | AttestedVerdict::NotReasonableAndAppropriate
        )
    }
}

/// Whether an attestation decided its requirement in this evaluation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AttestationState {
    /// It recorded the assessor's finding for its requirement.
    Applied,
    /// Past its expiry date: the requirement stays as the technical evidence left it.
    Expired,
    /// Dated after the evaluation.
    NotYetValid,
    /// Technical evidence failed or could not be read; a person's word does not override it.
    Overridden,
    /// Written by assessments before schema 2 for automated requirements; never produced now
    /// (an attestation on such a requirement is the assessor's confirmation and applies).
    NotNeeded,
    /// Its framework was not selected for this evaluation.
    NotSelected,
}

impl AttestationState {
    pub fn as_str(self) -> &'static str {
        match self {
            AttestationState::Applied => "applied",
            AttestationState::Expired => "expired",
            AttestationState::NotYetValid => "not_yet_valid",
            AttestationState::Overridden => "overridden",
            AttestationState::NotNeeded => "not_needed",
            AttestationState::NotSelected => "not_selected",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AttestationState::Applied => "Applied",
            AttestationState::Expired => "Expired",
            AttestationState::NotYetValid => "Not yet valid",
            AttestationState::Overridden => "Not applied: technical evidence disagrees",
            AttestationState::NotNeeded => "Not needed: decided by technical evidence",
            AttestationState::NotSelected => "Framework not selected",
        }
    }
}

/// One entry of the attestation register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AttestationRecord {
    pub framework: String,
    pub requirement: String,
    pub verdict: AttestedVerdict,
    pub attested_by: String,
    pub date: chrono::NaiveDate,
    /// Document name or URL holding the evidence.
    pub evidence: String,
    pub expires: Option<chrono::NaiveDate>,
    pub notes: Option<String>,
    /// `file:line` of the entry.
    pub source: String,
    pub state: AttestationState,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(Status, usize)]) -> BTreeMap<Status, usize> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn technical_evidence_orders_failure_waiver_error_pass() {
        let c = counts(&[(Status::Pass, 5), (Status::Error, 1), (Status::Fail, 2)]);
        assert_eq!(Technical::from_counts(&c, 1), Technical::NotInPlace);
        assert_eq!(Technical::from_counts(&c, 2), Technical::RiskAccepted);
        let c = counts(&[(Status::Pass, 5), (Status::Error, 1)]);
        assert_eq!(Technical::from_counts(&c, 0), Technical::Incomplete);
        let c = counts(&[(Status::Pass, 1), (Status::NotApplicable, 4)]);
        assert_eq!(Technical::from_counts(&c, 0), Technical::Consistent);
        let c = counts(&[(Status::NotApplicable, 4)]);
        assert_eq!(Technical::from_counts(&c, 0), Technical::NotApplicable);
        assert_eq!(Technical::from_counts(&BTreeMap::new(), 0), Technical::None);
    }

    #[test]
    fn finding_terms_appear_only_for_attested_states() {
        let hipaa_only = [
            RequirementState::AttestedAlternativeMeasure,
            RequirementState::AttestedNotReasonable,
        ];
        for state in RequirementState::ALL
            .into_iter()
            .filter(|s| !hipaa_only.contains(s))
        {
            let pci = state.label(Vocabulary::PciDss);
            let says_finding = pci.contains("In Place")
                || pci.contains("Not in Place")
                || pci.contains("Not Applicable");
            assert_eq!(says_finding, state.is_attested(), "{state:?}: {pci}");
            assert!(!pci.contains("Not Tested"), "{pci}");
        }
    }

    #[test]
    fn a_waived_failure_is_never_green_nor_counted_in_place() {
        let state = RequirementState::RiskAccepted;
        assert_eq!(state.tone(), Tone::Accepted);
        assert!(state.is_not_in_place());
        for v in [Vocabulary::Benchmark, Vocabulary::PciDss, Vocabulary::Hipaa] {
            assert!(state.label(v).contains("waiver"), "{}", state.label(v));
        }
    }

    #[test]
    fn old_attestation_verdicts_still_read() {
        let v: AttestedVerdict = serde_json::from_str("\"satisfied\"").unwrap();
        assert_eq!(v, AttestedVerdict::InPlace);
        let v: AttestedVerdict = serde_json::from_str("\"not_satisfied\"").unwrap();
        assert_eq!(v, AttestedVerdict::NotInPlace);
    }

    #[test]
    fn figures_show_numerators_with_denominators() {
        let req = |state, technical| RequirementResult {
            id: "x".into(),
            title: "t".into(),
            section: None,
            level: None,
            mode: AssessmentMode::Partial,
            state,
            technical,
            service_provider_only: false,
            checks: vec![],
            supporting: vec![],
            prompt: None,
            evidence_owner: None,
            counts: BTreeMap::new(),
            waived: 0,
            waivers: vec![],
            excluded_by_selection: vec![],
            attestation: None,
        };
        let reqs = vec![
            req(
                RequirementState::AwaitingManualEvidence,
                Technical::Consistent,
            ),
            req(RequirementState::RiskAccepted, Technical::RiskAccepted),
            req(RequirementState::AwaitingManualEvidence, Technical::None),
            req(RequirementState::AttestedInPlace, Technical::None),
        ];
        let f = Figures::of(&reqs);
        assert_eq!(f.requirements, 4);
        assert_eq!(f.with_technical_evidence, 2);
        assert_eq!(f.technically_consistent, 1);
        assert_eq!(f.not_in_place, 1);
        assert_eq!(f.risk_accepted, 1);
        assert_eq!(f.awaiting_manual_evidence, 2);
        assert_eq!(f.attested, 1);
        assert_eq!(
            f.lines()[0],
            "Technical evidence on 2 of 4 requirements: 1 of 2 consistent with in place"
        );
        assert!(f.lines().iter().all(|l| !l.contains('%')));
    }
}
