//! The legend of requirement evidence states, shared by the HTML and PDF reports: which states a
//! report explains, what each means, the words each framework of the report shows it in, and the
//! note on technical evidence a matrix row adds where its state does not say it.

use crate::assessment::{Assessment, RequirementResult, RequirementState, Technical, Vocabulary};

/// `Technical evidence: passed` where the state does not tell what the deciding checks showed: a
/// requirement awaiting manual evidence, or one an assessor attested. `None` otherwise (a failed
/// or incomplete state already says it).
pub(in crate::render) fn technical_note(r: &RequirementResult) -> Option<String> {
    let shown = r.state == RequirementState::AwaitingManualEvidence || r.state.is_attested();
    (shown && r.technical != Technical::None)
        .then(|| format!("Technical evidence: {}", r.technical.label()))
}

/// The states every legend explains, whether or not a requirement is in them: the reader needs
/// them to read the figures.
const ALWAYS: [RequirementState; 4] = [
    RequirementState::NotInPlace,
    RequirementState::RiskAccepted,
    RequirementState::AwaitingManualEvidence,
    RequirementState::ConsistentWithInPlace,
];

/// One state of the legend.
pub(in crate::render) struct Entry {
    pub(in crate::render) state: RequirementState,
    /// The state in generic words.
    pub(in crate::render) label: &'static str,
    pub(in crate::render) meaning: &'static str,
    /// `CIS Docker Benchmark: Fail`: where a framework with requirements in this state words it
    /// otherwise.
    pub(in crate::render) also: Vec<String>,
}

/// The states a report explains, worst first: the four every reader needs and any other state a
/// requirement of `a` is in.
pub(in crate::render) fn entries(a: &Assessment) -> Vec<Entry> {
    RequirementState::ALL
        .into_iter()
        .filter(|s| {
            ALWAYS.contains(s)
                || a.frameworks
                    .iter()
                    .any(|f| f.counts.get(s).is_some_and(|n| *n > 0))
        })
        .map(|state| {
            let label = state.label(Vocabulary::Generic);
            let mut also: Vec<String> = Vec::new();
            let using =
                (a.frameworks.iter()).filter(|f| f.counts.get(&state).is_some_and(|n| *n > 0));
            for fw in using {
                let own = fw.label(state);
                let line = format!("{}: {own}", fw.name);
                if own != label && !also.contains(&line) {
                    also.push(line);
                }
            }
            Entry {
                state,
                label,
                meaning: meaning(state),
                also,
            }
        })
        .collect()
}

/// What a state means, in one or two sentences.
pub(in crate::render) fn meaning(state: RequirementState) -> &'static str {
    use RequirementState as S;
    match state {
        S::NotInPlace => {
            "A deciding check failed on at least one resource and no active waiver covers the \
             failure."
        }
        S::AttestedNotInPlace => {
            "An attestation records the assessor's finding that the requirement is not in place."
        }
        S::RiskAccepted => {
            "Every deciding failure is covered by an active waiver, named with its expiry. Still \
             not in place and never counted as in place; under PCI DSS it stays so unless an \
             attested compensating control covers it."
        }
        S::Incomplete => {
            "A deciding check could not be evaluated (usually a collection gap) and none failed. \
             Missing evidence is never read as a pass."
        }
        S::ExcludedBySelection => {
            "The run's selection (--check, --skip, --filter) left out a deciding check or \
             resources it judges, and nothing it did judge failed. Not assessed: never counted \
             as in place; the provenance lists what was left out."
        }
        S::AwaitingManualEvidence => {
            "A person has to supply evidence (documents, interviews, an attestation); the prompt \
             says what to request. Open, not failed; technical evidence, where there is some, is \
             shown beside it."
        }
        S::ConsistentWithInPlace => {
            "Every deciding check of a requirement that technical evidence alone decides passed. \
             The assessor confirms."
        }
        S::AttestedInPlace => {
            "An attestation records the assessor's finding that the requirement is in place."
        }
        S::AttestedCompensatingControl => {
            "An attestation records that a compensating control the assessor reviewed meets the \
             requirement."
        }
        S::AttestedAlternativeMeasure => {
            "HIPAA addressable specification: an attestation records an equivalent alternative \
             measure."
        }
        S::AttestedNotReasonable => {
            "HIPAA addressable specification: an attestation records the documented decision \
             that it is not reasonable and appropriate."
        }
        S::NotApplicablePerEvidence => {
            "No deciding check applied to anything on this host; the assessor confirms."
        }
        S::NotApplicableDeclared => {
            "The requirement applies only to service providers and the site parameter \
             service_provider declares the assessed entity is not one."
        }
        S::AttestedNotApplicable => {
            "An attestation records the assessor's finding that the requirement does not apply."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture::{sample_assessment, waived_assessment};

    #[test]
    fn explains_the_core_states_and_every_state_in_use() {
        let a = sample_assessment();
        let states: Vec<&str> = entries(&a).iter().map(|e| e.state.as_str()).collect();
        // The fixture has not-in-place, incomplete, awaiting, consistent and n/a requirements.
        assert_eq!(
            states,
            [
                "not_in_place",
                "risk_accepted",
                "incomplete",
                "awaiting_manual_evidence",
                "consistent_with_in_place",
                "not_applicable_per_evidence",
            ]
        );
        let attested = entries(&waived_assessment());
        let pci = attested
            .iter()
            .find(|e| e.state == RequirementState::AttestedInPlace)
            .expect("the attested state is explained");
        assert_eq!(pci.label, "In place (attested)");
        assert_eq!(pci.also, ["PCI DSS: In Place (assessor finding)"]);
    }
}
