//! Comparing two fleet bundles: hosts added, removed and changed, and requirements whose fleet
//! state changed.
//!
//! Hosts are matched by their directory under `hosts/` (derived from the target name, so a
//! targets file's names match run after run). A host present in both is compared with the host
//! diff ([`crate::diff::Diff`]) on the two host bundles, one host at a time, read through the one
//! assessment loader; only each host's counts and newly failing findings are kept, so memory
//! follows the largest host. A host assessed in one run and not in the other is listed with its
//! reason, never compared as if it were empty.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FleetAssessment, FleetState, HostEntry, HOSTS_DIR};
use crate::assessment::Severity;
use crate::diff::{Diff, DiffSummary, FindingChange, LoadError};

/// Version of the fleet diff document (`diff --format json` on fleet bundles).
pub const SCHEMA_VERSION: u32 = 1;

/// Everything that changed between two fleet bundles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetDiff {
    pub schema_version: u32,
    /// Always `fleet`.
    pub kind: String,
    pub old: FleetHeader,
    pub new: FleetHeader,
    /// Hosts (by directory) only in NEW.
    pub hosts_added: Vec<String>,
    /// Hosts (by directory) only in OLD.
    pub hosts_removed: Vec<String>,
    /// Hosts in both, in NEW's order.
    pub hosts: Vec<HostChange>,
    /// Requirements whose fleet state changed.
    pub requirements: Vec<StateChange>,
}

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetHeader {
    pub source: String,
    pub generated_at: DateTime<Utc>,
    pub hosts: usize,
    pub assessed: usize,
}

/// A host present in both fleets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostChange {
    pub dir: String,
    pub name: String,
    pub old_assessed: bool,
    pub new_assessed: bool,
    /// Why it was not assessed in NEW (or OLD, when only that one failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether anything changed on the host (or its assessed state).
    pub changed: bool,
    /// The host diff's counts, when both sides were assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<DiffSummary>,
    /// Findings newly failing on this host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub newly_failing: Vec<FindingChange>,
}

/// A requirement whose fleet state differs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateChange {
    pub framework: String,
    pub requirement: String,
    pub old: Option<FleetState>,
    pub new: Option<FleetState>,
}

fn header(f: &FleetAssessment, source: &Path) -> FleetHeader {
    FleetHeader {
        source: source.display().to_string(),
        generated_at: f.generated_at,
        hosts: f.hosts.len(),
        assessed: f.hosts.iter().filter(|h| h.assessed).count(),
    }
}

/// Whether a host diff records any change (findings that stayed failing are not changes).
fn summary_changed(s: &DiffSummary) -> bool {
    let quiet = DiffSummary {
        still_failing: s.still_failing,
        still_error: s.still_error,
        ..DiffSummary::default()
    };
    *s != quiet
}

impl FleetDiff {
    /// Compares the fleet bundles at `old_dir` and `new_dir`, whose fleet assessments are
    /// `old` and `new`.
    pub fn compute(
        old: &FleetAssessment,
        old_dir: &Path,
        new: &FleetAssessment,
        new_dir: &Path,
    ) -> Result<FleetDiff, LoadError> {
        let before: BTreeMap<&str, &HostEntry> =
            old.hosts.iter().map(|h| (h.dir.as_str(), h)).collect();
        let after: BTreeMap<&str, &HostEntry> =
            new.hosts.iter().map(|h| (h.dir.as_str(), h)).collect();
        let hosts_added = new
            .hosts
            .iter()
            .filter(|h| !before.contains_key(h.dir.as_str()))
            .map(|h| h.dir.clone())
            .collect();
        let hosts_removed = old
            .hosts
            .iter()
            .filter(|h| !after.contains_key(h.dir.as_str()))
            .map(|h| h.dir.clone())
            .collect();
        let mut hosts = Vec::new();
        for n in &new.hosts {
            let Some(o) = before.get(n.dir.as_str()) else {
                continue;
            };
            let mut change = HostChange {
                dir: n.dir.clone(),
                name: n.name.clone(),
                old_assessed: o.assessed,
                new_assessed: n.assessed,
                reason: n.reason.clone().or_else(|| o.reason.clone()),
                changed: o.assessed != n.assessed,
                summary: None,
                newly_failing: Vec::new(),
            };
            if o.assessed && n.assessed {
                let a = crate::diff::load(&old_dir.join(HOSTS_DIR).join(&o.dir))?;
                let b = crate::diff::load(&new_dir.join(HOSTS_DIR).join(&n.dir))?;
                let d = Diff::compute(&a, &b);
                change.changed = summary_changed(&d.summary);
                change.summary = Some(d.summary);
                change.newly_failing = d.findings.newly_failing;
            }
            hosts.push(change);
        }
        let states = |f: &FleetAssessment| -> BTreeMap<(String, String), FleetState> {
            f.frameworks
                .iter()
                .flat_map(|fw| {
                    fw.requirements
                        .iter()
                        .map(move |r| ((fw.id.clone(), r.id.clone()), r.state))
                })
                .collect()
        };
        let (o, n) = (states(old), states(new));
        let mut keys: Vec<&(String, String)> = o.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        let requirements = keys
            .into_iter()
            .filter(|k| o.get(*k) != n.get(*k))
            .map(|k| StateChange {
                framework: k.0.clone(),
                requirement: k.1.clone(),
                old: o.get(k).copied(),
                new: n.get(k).copied(),
            })
            .collect();
        Ok(FleetDiff {
            schema_version: SCHEMA_VERSION,
            kind: super::KIND.to_string(),
            old: header(old, old_dir),
            new: header(new, new_dir),
            hosts_added,
            hosts_removed,
            hosts,
            requirements,
        })
    }

    /// Unwaived newly failing findings at or above `threshold`, over every host.
    pub fn new_failures_at_or_above(&self, threshold: Severity) -> usize {
        self.hosts
            .iter()
            .flat_map(|h| &h.newly_failing)
            .filter(|f| f.severity >= threshold && f.new_waiver.is_none())
            .count()
    }

    /// Pretty JSON (the documented format).
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// Plain text for a terminal or a log; every name passes through the terminal neutraliser.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        use crate::text::terminal as t;
        writeln!(
            out,
            "fleet diff: {} ({} of {} hosts assessed) -> {} ({} of {} hosts assessed)",
            t(&self.old.source),
            self.old.assessed,
            self.old.hosts,
            t(&self.new.source),
            self.new.assessed,
            self.new.hosts
        )?;
        for dir in &self.hosts_added {
            writeln!(out, "host added: {}", t(dir))?;
        }
        for dir in &self.hosts_removed {
            writeln!(out, "host removed: {}", t(dir))?;
        }
        for h in &self.hosts {
            let name = t(&h.dir);
            match (h.old_assessed, h.new_assessed, &h.summary) {
                (true, false, _) => writeln!(
                    out,
                    "host not assessed any more: {name}: {}",
                    t(h.reason.as_deref().unwrap_or("unknown"))
                )?,
                (false, true, _) => writeln!(out, "host assessed again: {name}")?,
                (false, false, _) => writeln!(
                    out,
                    "host still not assessed: {name}: {}",
                    t(h.reason.as_deref().unwrap_or("unknown"))
                )?,
                (true, true, Some(s)) if h.changed => writeln!(
                    out,
                    "host changed: {name}: {} newly failing, {} newly passing, {} no longer \
                     failing, {} new errors, {} errors resolved, {} requirement(s) changed",
                    s.newly_failing,
                    s.newly_passing,
                    s.no_longer_failing,
                    s.new_errors,
                    s.errors_resolved,
                    s.requirements_changed
                )?,
                (true, true, _) => writeln!(out, "host unchanged: {name}")?,
            }
            for f in &h.newly_failing {
                writeln!(
                    out,
                    "  newly failing: {} on {} ({})",
                    t(&f.check_id),
                    t(&f.resource.name),
                    f.severity.as_str()
                )?;
            }
        }
        for r in &self.requirements {
            let show = |s: Option<FleetState>| s.map_or("absent", FleetState::as_str);
            writeln!(
                out,
                "requirement {} {}: {} -> {}",
                t(&r.framework),
                t(&r.requirement),
                show(r.old),
                show(r.new)
            )?;
        }
        Ok(())
    }
}
