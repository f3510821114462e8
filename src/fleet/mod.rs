//! Fleets: one assessment of many Docker hosts.
//!
//! A fleet is a list of targets (`scan --targets FILE`, see [`targets`]) or of snapshots
//! (`report SNAPSHOT...`). Each host is evaluated and written as an ordinary host bundle under
//! `hosts/<name>/`, one at a time, and only a small per-host [`HostSummary`] (counts and the
//! state of every requirement) is kept for the fleet report, so memory follows the largest host,
//! not the size of the fleet. The fleet bundle ([`writer`]) adds a fleet `assessment.json`
//! ([`FleetAssessment`], `kind: fleet`), `report.html`, `report.pdf` and one `SHA256SUMS` over
//! every file, those of the host bundles included. A host's role and labels come from its
//! target, or for a snapshot from what `collect` recorded in it or a host profiles file
//! ([`profiles`]).
//!
//! A target that could not be reached or collected is never dropped: it is listed as not
//! assessed with the reason, and every requirement it could have changed is undetermined
//! ([`state`]). This module owns the fleet model and its rules; it never prints, and it never
//! talks to an engine except through [`crate::collect`].

pub mod diff;
pub mod names;
pub mod profiles;
pub mod scan;
pub mod snapshots;
pub mod state;
pub mod targets;
pub mod writer;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assessment::{Assessment, RequirementState, Severity, Status, Vocabulary};
use crate::scope::{HostRole, Labels};
use crate::snapshot::ToolInfo;

pub use state::FleetState;

/// Version of the fleet `assessment.json` layout; independent of the host assessment's.
pub const SCHEMA_VERSION: u32 = 1;
/// The `kind` of a fleet assessment, which tells it apart from a host assessment.
pub const KIND: &str = "fleet";
/// Directory of the host bundles inside a fleet bundle.
pub const HOSTS_DIR: &str = "hosts";

/// The fleet `assessment.json`: every target, what was found on each, and each requirement's
/// state across the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetAssessment {
    pub schema_version: u32,
    /// Always [`KIND`].
    pub kind: String,
    pub tool: ToolInfo,
    pub generated_at: DateTime<Utc>,
    /// Where the hosts came from: `targets` (a live scan) or `snapshots` (`report`).
    pub source: String,
    /// Notes on how the fleet was put together (e.g. older snapshots of a node left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Every target, assessed or not, in the order given.
    pub hosts: Vec<HostEntry>,
    /// Each framework's requirements with their fleet state.
    pub frameworks: Vec<FleetFramework>,
}

/// One target of the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostEntry {
    /// The name as given (targets file) or reported (snapshot hostname); shown, never a path.
    pub name: String,
    /// The directory under `hosts/` that holds this host's bundle (sanitised, unique); also the
    /// host's key in requirement maps.
    pub dir: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<HostRole>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    /// Whether the host counts towards the fleet's states (its role is not `out-of-scope`).
    pub in_scope: bool,
    /// The endpoint or snapshot file it was read from.
    pub source: String,
    /// Whether the host was collected, evaluated and written.
    pub assessed: bool,
    /// Why it was not assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was found, when assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<HostSummary>,
}

/// What the fleet keeps of one host's assessment.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostSummary {
    /// Hostname reported by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    pub snapshot_sha256: String,
    pub results: usize,
    pub by_status: BTreeMap<Status, usize>,
    /// Unwaived failures by severity.
    pub failed_by_severity: BTreeMap<Severity, usize>,
    pub waived: usize,
    /// Sources that could not be read.
    pub gaps: usize,
    /// Requirements whose evidence says not in place, over every framework.
    pub not_in_place: usize,
    /// Per framework id, each requirement's state on this host.
    pub requirements: BTreeMap<String, BTreeMap<String, RequirementState>>,
}

impl HostSummary {
    /// Keeps what the fleet report needs of `a`.
    pub fn of(a: &Assessment) -> HostSummary {
        let requirements: BTreeMap<String, BTreeMap<String, RequirementState>> = a
            .frameworks
            .iter()
            .map(|fw| {
                let states = fw
                    .requirements
                    .iter()
                    .map(|r| (r.id.clone(), r.state))
                    .collect();
                (fw.id.clone(), states)
            })
            .collect();
        let not_in_place = requirements
            .values()
            .flat_map(|m| m.values())
            .filter(|s| s.is_not_in_place())
            .count();
        HostSummary {
            hostname: a.snapshot.target.hostname.clone(),
            snapshot_sha256: a.snapshot.sha256.clone(),
            results: a.summary.total,
            by_status: a.summary.by_status.clone(),
            failed_by_severity: a.summary.failed_by_severity.clone(),
            waived: a.summary.waived,
            gaps: a.snapshot.gaps.len(),
            not_in_place,
            requirements,
        }
    }

    /// Whether an unwaived failure at or above `threshold` was found.
    pub fn fails_at_or_above(&self, threshold: Severity) -> bool {
        self.failed_by_severity
            .iter()
            .any(|(s, n)| *s >= threshold && *n > 0)
    }
}

/// One framework across the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetFramework {
    pub id: String,
    pub name: String,
    pub version: String,
    pub vocabulary: Vocabulary,
    pub requirements: Vec<FleetRequirement>,
    /// Requirements per fleet state.
    pub counts: BTreeMap<FleetState, usize>,
}

/// One requirement across the fleet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetRequirement {
    pub id: String,
    pub title: String,
    pub state: FleetState,
    /// In-scope hosts (their `dir`) whose evidence says not in place.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in_place_on: Vec<String>,
    /// In-scope targets (their `dir`) that were not assessed: what leaves the state undetermined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The state on each assessed host, by `dir` (out-of-scope hosts included, for information).
    pub hosts: BTreeMap<String, RequirementState>,
}

impl FleetAssessment {
    /// Targets that were not assessed.
    pub fn unassessed(&self) -> impl Iterator<Item = &HostEntry> {
        self.hosts.iter().filter(|h| !h.assessed)
    }

    /// Whether an assessed host has an unwaived failure at or above `threshold`.
    pub fn fails_at_or_above(&self, threshold: Severity) -> bool {
        self.hosts
            .iter()
            .filter_map(|h| h.summary.as_ref())
            .any(|s| s.fails_at_or_above(threshold))
    }

    /// Host indexes, worst first: not assessed, then most requirements not in place, most
    /// unwaived failures, most errors; ties keep the given order.
    pub fn worst_first(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.hosts.len()).collect();
        let key = |h: &HostEntry| match &h.summary {
            None => (0, 0, 0, 0),
            Some(s) => (
                1,
                usize::MAX - s.not_in_place,
                usize::MAX - s.failed_by_severity.values().sum::<usize>(),
                usize::MAX - s.by_status.get(&Status::Error).copied().unwrap_or(0),
            ),
        };
        order.sort_by_key(|&i| key(&self.hosts[i]));
        order
    }
}
