//! Each requirement's state across a fleet, from its state on every host.
//!
//! The rule, in order:
//! 1. an in-scope assessed host whose evidence says not in place (waived or attested included)
//!    makes the requirement **not in place** across the fleet, whatever else is missing;
//! 2. otherwise an in-scope target that was not assessed makes it **undetermined**, naming the
//!    missing targets: a host nobody looked at cannot be consistent with anything;
//! 3. otherwise the least settled state over the in-scope hosts: incomplete (a deciding check
//!    errored), then awaiting manual evidence, then consistent with in place (every host
//!    consistent, attested in place, or not applicable); not applicable only if it is so on
//!    every host. A requirement that no in-scope host reports stays **undetermined**.
//!
//! Out-of-scope hosts are shown but never change a fleet state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FleetFramework, FleetRequirement, HostEntry};
use crate::assessment::{FrameworkResult, RequirementState, Tone};

/// A requirement's state across the fleet (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetState {
    NotInPlace,
    Undetermined,
    Incomplete,
    AwaitingManualEvidence,
    ConsistentWithInPlace,
    NotApplicable,
}

impl FleetState {
    /// Every state, worst first.
    pub const ALL: [FleetState; 6] = [
        FleetState::NotInPlace,
        FleetState::Undetermined,
        FleetState::Incomplete,
        FleetState::AwaitingManualEvidence,
        FleetState::ConsistentWithInPlace,
        FleetState::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FleetState::NotInPlace => "not_in_place",
            FleetState::Undetermined => "undetermined",
            FleetState::Incomplete => "incomplete",
            FleetState::AwaitingManualEvidence => "awaiting_manual_evidence",
            FleetState::ConsistentWithInPlace => "consistent_with_in_place",
            FleetState::NotApplicable => "not_applicable",
        }
    }

    /// Words for a report.
    pub fn label(self) -> &'static str {
        match self {
            FleetState::NotInPlace => "Evidence indicates not in place on at least one host",
            FleetState::Undetermined => "Undetermined: not every in-scope target was assessed",
            FleetState::Incomplete => "Evidence incomplete on at least one host",
            FleetState::AwaitingManualEvidence => "Awaiting manual evidence",
            FleetState::ConsistentWithInPlace => {
                "Evidence consistent with in place on every in-scope host (assessor confirmation \
                 pending)"
            }
            FleetState::NotApplicable => "Not applicable per evidence on every host (to confirm)",
        }
    }

    /// The colour family, shared with host requirement states.
    pub fn tone(self) -> Tone {
        match self {
            FleetState::NotInPlace => Tone::Bad,
            FleetState::Undetermined | FleetState::Incomplete => Tone::Error,
            FleetState::AwaitingManualEvidence => Tone::Pending,
            FleetState::ConsistentWithInPlace => Tone::Consistent,
            FleetState::NotApplicable => Tone::Neutral,
        }
    }
}

/// A requirement's state on one host reduced to what the fleet rule compares.
fn rank(state: RequirementState) -> FleetState {
    use RequirementState as S;
    if state.is_not_in_place() {
        return FleetState::NotInPlace;
    }
    match state {
        S::Incomplete => FleetState::Incomplete,
        S::AwaitingManualEvidence => FleetState::AwaitingManualEvidence,
        s if s.is_not_applicable() => FleetState::NotApplicable,
        _ => FleetState::ConsistentWithInPlace,
    }
}

/// The fleet state of one requirement, and the hosts that decide it.
pub fn requirement_state(
    hosts: &[HostEntry],
    framework: &str,
    requirement: &str,
) -> (FleetState, Vec<String>, Vec<String>) {
    let mut not_in_place = Vec::new();
    let mut missing = Vec::new();
    let mut least: Option<FleetState> = None;
    for host in hosts.iter().filter(|h| h.in_scope) {
        let Some(summary) = &host.summary else {
            missing.push(host.dir.clone());
            continue;
        };
        let Some(state) = summary
            .requirements
            .get(framework)
            .and_then(|m| m.get(requirement))
        else {
            // Assessed, but this requirement was not evaluated there (another framework
            // selection or catalog): nothing is known of it on this host.
            missing.push(host.dir.clone());
            continue;
        };
        let r = rank(*state);
        if r == FleetState::NotInPlace {
            not_in_place.push(host.dir.clone());
        }
        least = Some(match least {
            None => r,
            // Not applicable on one host says nothing about another: it yields to any state.
            Some(FleetState::NotApplicable) => r,
            Some(l) if r == FleetState::NotApplicable => l,
            Some(l) => l.min(r),
        });
    }
    let state = if !not_in_place.is_empty() {
        FleetState::NotInPlace
    } else if !missing.is_empty() {
        FleetState::Undetermined
    } else {
        least.unwrap_or(FleetState::Undetermined)
    };
    (state, not_in_place, missing)
}

/// The fleet view of one framework, from its definition (as evaluated on some host) and every
/// host's summary.
pub fn framework(fw: &FrameworkResult, hosts: &[HostEntry]) -> FleetFramework {
    let mut counts = BTreeMap::new();
    let requirements: Vec<FleetRequirement> = fw
        .requirements
        .iter()
        .map(|r| {
            let (state, not_in_place_on, missing) = requirement_state(hosts, &fw.id, &r.id);
            *counts.entry(state).or_insert(0) += 1;
            let per_host = hosts
                .iter()
                .filter_map(|h| {
                    let s = h.summary.as_ref()?.requirements.get(&fw.id)?.get(&r.id)?;
                    Some((h.dir.clone(), *s))
                })
                .collect();
            FleetRequirement {
                id: r.id.clone(),
                title: r.title.clone(),
                state,
                not_in_place_on,
                missing,
                hosts: per_host,
            }
        })
        .collect();
    FleetFramework {
        id: fw.id.clone(),
        name: fw.name.clone(),
        version: fw.version.clone(),
        vocabulary: fw.vocabulary,
        requirements,
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::HostSummary;
    use crate::scope::HostRole;

    fn host(dir: &str, state: Option<RequirementState>, role: Option<HostRole>) -> HostEntry {
        let summary = state.map(|s| HostSummary {
            requirements: [(
                "pci".to_string(),
                [("2.2.5".to_string(), s)].into_iter().collect(),
            )]
            .into_iter()
            .collect(),
            ..HostSummary::default()
        });
        HostEntry {
            name: dir.to_string(),
            dir: dir.to_string(),
            role,
            labels: Default::default(),
            in_scope: role.is_none_or(HostRole::in_scope),
            source: String::new(),
            assessed: summary.is_some(),
            reason: summary.is_none().then(|| "unreachable".to_string()),
            summary,
        }
    }

    fn state(hosts: &[HostEntry]) -> (FleetState, Vec<String>, Vec<String>) {
        requirement_state(hosts, "pci", "2.2.5")
    }

    use RequirementState as S;

    #[test]
    fn consistent_only_when_every_in_scope_host_is() {
        let hosts = [
            host("a", Some(S::ConsistentWithInPlace), None),
            host("b", Some(S::AttestedInPlace), None),
            host("c", Some(S::NotApplicablePerEvidence), None),
        ];
        assert_eq!(state(&hosts).0, FleetState::ConsistentWithInPlace);
    }

    #[test]
    fn one_host_not_in_place_makes_the_fleet_not_in_place_even_with_targets_missing() {
        let hosts = [
            host("a", Some(S::ConsistentWithInPlace), None),
            host("b", Some(S::RiskAccepted), None),
            host("gone", None, None),
        ];
        let (s, bad, missing) = state(&hosts);
        assert_eq!(s, FleetState::NotInPlace);
        assert_eq!(bad, vec!["b"]);
        assert_eq!(missing, vec!["gone"]);
    }

    #[test]
    fn one_missing_target_leaves_the_state_undetermined_and_names_it() {
        let hosts = [
            host("a", Some(S::ConsistentWithInPlace), None),
            host("gone", None, Some(HostRole::CardholderDataEnvironment)),
        ];
        let (s, bad, missing) = state(&hosts);
        assert_eq!(s, FleetState::Undetermined);
        assert!(bad.is_empty());
        assert_eq!(missing, vec!["gone"]);
    }

    #[test]
    fn out_of_scope_hosts_are_ignored_reached_or_not() {
        let hosts = [
            host("a", Some(S::ConsistentWithInPlace), None),
            host("lab", Some(S::NotInPlace), Some(HostRole::OutOfScope)),
            host("lab-2", None, Some(HostRole::OutOfScope)),
        ];
        let (s, bad, missing) = state(&hosts);
        assert_eq!(s, FleetState::ConsistentWithInPlace);
        assert!(bad.is_empty() && missing.is_empty());
    }

    #[test]
    fn the_least_settled_state_wins_and_not_applicable_yields() {
        let hosts = [
            host("a", Some(S::NotApplicablePerEvidence), None),
            host("b", Some(S::AwaitingManualEvidence), None),
            host("c", Some(S::ConsistentWithInPlace), None),
        ];
        assert_eq!(state(&hosts).0, FleetState::AwaitingManualEvidence);
        let hosts = [
            host("a", Some(S::Incomplete), None),
            host("b", Some(S::AwaitingManualEvidence), None),
        ];
        assert_eq!(state(&hosts).0, FleetState::Incomplete);
        let hosts = [host("a", Some(S::NotApplicablePerEvidence), None)];
        assert_eq!(state(&hosts).0, FleetState::NotApplicable);
        assert_eq!(state(&[]).0, FleetState::Undetermined);
    }
}
