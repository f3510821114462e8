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

use super::{FleetAssessment, FleetRequirement, FleetState, HostEntry, HOSTS_DIR};
use crate::assessment::{RequirementState, Severity};
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
    /// The hosts of `hosts_added`, with their name and whether NEW assessed them.
    #[serde(default)]
    pub added: Vec<HostRef>,
    /// The hosts of `hosts_removed`, with their name and whether OLD assessed them.
    #[serde(default)]
    pub removed: Vec<HostRef>,
}

/// A host present in one fleet only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostRef {
    pub dir: String,
    pub name: String,
    pub assessed: bool,
    /// Why it was not assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl HostRef {
    fn of(h: &HostEntry) -> HostRef {
        HostRef {
            dir: h.dir.clone(),
            name: h.name.clone(),
            assessed: h.assessed,
            reason: h.reason.clone(),
        }
    }
}

/// One requirement's state on one host, in OLD and NEW (`None`: the host or the requirement
/// was absent, or the host was not assessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRequirementChange {
    pub framework: String,
    pub requirement: String,
    pub old: Option<RequirementState>,
    pub new: Option<RequirementState>,
}

/// A host whose state of one requirement changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStateChange {
    pub dir: String,
    pub old: Option<RequirementState>,
    pub new: Option<RequirementState>,
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
    /// Findings failing in OLD that no longer fail in NEW (newly passing, or gone / not
    /// applicable / manual: the new status says which).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<FindingChange>,
    /// Requirements whose state on this host changed, when both sides were assessed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<HostRequirementChange>,
}

/// A requirement whose fleet state differs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateChange {
    pub framework: String,
    pub requirement: String,
    /// The requirement's title (NEW's, or OLD's when it is gone).
    #[serde(default)]
    pub title: String,
    pub old: Option<FleetState>,
    pub new: Option<FleetState>,
    /// The hosts (by directory) whose state of the requirement differs, added and removed
    /// hosts included: what moved the fleet state.
    #[serde(default)]
    pub hosts: Vec<HostStateChange>,
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

/// A host's requirement state for text, `absent` when it had none.
fn host_state(s: Option<RequirementState>) -> &'static str {
    s.map_or("absent", RequirementState::as_str)
}

/// The hosts whose state of one requirement differs between OLD's and NEW's fleet requirement.
fn host_states(
    old: Option<&FleetRequirement>,
    new: Option<&FleetRequirement>,
) -> Vec<HostStateChange> {
    let empty = BTreeMap::new();
    let (o, n) = (
        old.map_or(&empty, |r| &r.hosts),
        new.map_or(&empty, |r| &r.hosts),
    );
    let mut dirs: Vec<&String> = o.keys().chain(n.keys()).collect();
    dirs.sort();
    dirs.dedup();
    dirs.into_iter()
        .filter(|d| o.get(*d) != n.get(*d))
        .map(|d| HostStateChange {
            dir: d.clone(),
            old: o.get(d).copied(),
            new: n.get(d).copied(),
        })
        .collect()
}

/// The requirements whose state differs on one host assessed in both fleets.
fn host_requirements(old: &HostEntry, new: &HostEntry) -> Vec<HostRequirementChange> {
    let empty = BTreeMap::new();
    let (o, n) = (
        old.summary.as_ref().map_or(&empty, |s| &s.requirements),
        new.summary.as_ref().map_or(&empty, |s| &s.requirements),
    );
    let mut keys: Vec<(&String, &String)> = o
        .iter()
        .chain(n.iter())
        .flat_map(|(fw, reqs)| reqs.keys().map(move |r| (fw, r)))
        .collect();
    keys.sort();
    keys.dedup();
    let state = |m: &BTreeMap<String, BTreeMap<String, RequirementState>>, fw: &str, r: &str| {
        m.get(fw).and_then(|reqs| reqs.get(r)).copied()
    };
    keys.into_iter()
        .filter(|(fw, r)| state(o, fw, r) != state(n, fw, r))
        .map(|(fw, r)| HostRequirementChange {
            framework: fw.clone(),
            requirement: r.clone(),
            old: state(o, fw, r),
            new: state(n, fw, r),
        })
        .collect()
}

impl FleetDiff {
    /// Compares the fleet bundles at `old_dir` and `new_dir`, whose fleet assessments are
    /// `old` and `new`.
    pub fn compute<'a>(
        old: &'a FleetAssessment,
        old_dir: &Path,
        new: &'a FleetAssessment,
        new_dir: &Path,
    ) -> Result<FleetDiff, LoadError> {
        let before: BTreeMap<&str, &HostEntry> =
            old.hosts.iter().map(|h| (h.dir.as_str(), h)).collect();
        let after: BTreeMap<&str, &HostEntry> =
            new.hosts.iter().map(|h| (h.dir.as_str(), h)).collect();
        let added: Vec<HostRef> = new
            .hosts
            .iter()
            .filter(|h| !before.contains_key(h.dir.as_str()))
            .map(HostRef::of)
            .collect();
        let removed: Vec<HostRef> = old
            .hosts
            .iter()
            .filter(|h| !after.contains_key(h.dir.as_str()))
            .map(HostRef::of)
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
                resolved: Vec::new(),
                requirements: Vec::new(),
            };
            if o.assessed && n.assessed {
                change.requirements = host_requirements(o, n);
                let a = crate::diff::load(&old_dir.join(HOSTS_DIR).join(&o.dir))?;
                let b = crate::diff::load(&new_dir.join(HOSTS_DIR).join(&n.dir))?;
                let d = Diff::compute(&a, &b);
                change.changed = summary_changed(&d.summary);
                change.summary = Some(d.summary);
                change.newly_failing = d.findings.newly_failing;
                change.resolved = d.findings.newly_passing;
                change.resolved.extend(d.findings.no_longer_failing);
            }
            hosts.push(change);
        }
        let requirements_of =
            |f: &'a FleetAssessment| -> BTreeMap<(&'a str, &'a str), &'a FleetRequirement> {
                f.frameworks
                    .iter()
                    .flat_map(|fw| {
                        fw.requirements
                            .iter()
                            .map(move |r| ((fw.id.as_str(), r.id.as_str()), r))
                    })
                    .collect()
            };
        let (o, n) = (requirements_of(old), requirements_of(new));
        let mut keys: Vec<&(&str, &str)> = o.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        let requirements = keys
            .into_iter()
            .filter_map(|k| {
                let (a, b) = (o.get(k).copied(), n.get(k).copied());
                let state = |r: Option<&FleetRequirement>| r.map(|r| r.state);
                (state(a) != state(b)).then(|| StateChange {
                    framework: k.0.to_string(),
                    requirement: k.1.to_string(),
                    title: b.or(a).map(|r| r.title.clone()).unwrap_or_default(),
                    old: state(a),
                    new: state(b),
                    hosts: host_states(a, b),
                })
            })
            .collect();
        Ok(FleetDiff {
            schema_version: SCHEMA_VERSION,
            kind: super::KIND.to_string(),
            old: header(old, old_dir),
            new: header(new, new_dir),
            hosts_added: added.iter().map(|h| h.dir.clone()).collect(),
            hosts_removed: removed.iter().map(|h| h.dir.clone()).collect(),
            hosts,
            requirements,
            added,
            removed,
        })
    }

    /// Whether nothing changed: no host added, removed or changed, no fleet state changed.
    pub fn is_unchanged(&self) -> bool {
        self.hosts_added.is_empty()
            && self.hosts_removed.is_empty()
            && self.requirements.is_empty()
            && self.hosts.iter().all(|h| !h.changed)
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
        if self.is_unchanged() {
            writeln!(
                out,
                "no change: same hosts, same assessed hosts, same findings and states"
            )?;
        }
        for (what, list) in [("added", &self.added), ("removed", &self.removed)] {
            for h in list {
                write!(out, "host {what}: {}", t(&h.dir))?;
                if !h.assessed {
                    let reason = t(h.reason.as_deref().unwrap_or("unknown"));
                    write!(out, " (not assessed: {reason})")?;
                }
                writeln!(out)?;
            }
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
            for (what, list) in [
                ("newly failing", &h.newly_failing),
                ("resolved", &h.resolved),
            ] {
                for f in list {
                    writeln!(
                        out,
                        "  {what}: {} on {} ({}, now {})",
                        t(&f.check_id),
                        t(&f.resource.name),
                        f.severity.as_str(),
                        f.new_status.map_or("absent", |s| s.as_str())
                    )?;
                }
            }
            for r in &h.requirements {
                writeln!(
                    out,
                    "  requirement {} {}: {} -> {}",
                    t(&r.framework),
                    t(&r.requirement),
                    host_state(r.old),
                    host_state(r.new)
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
            for c in &r.hosts {
                writeln!(
                    out,
                    "  on {}: {} -> {}",
                    t(&c.dir),
                    host_state(c.old),
                    host_state(c.new)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::HostSummary;
    use RequirementState::{ConsistentWithInPlace as Ok, NotInPlace as Bad};

    fn requirement(hosts: &[(&str, RequirementState)]) -> FleetRequirement {
        FleetRequirement {
            id: "2.2.6".into(),
            title: "t".into(),
            state: FleetState::NotInPlace,
            not_in_place_on: vec![],
            missing: vec![],
            hosts: hosts.iter().map(|(d, s)| (d.to_string(), *s)).collect(),
        }
    }

    fn host(states: &[(&str, RequirementState)]) -> HostEntry {
        let requirements = [(
            "pci".to_string(),
            states.iter().map(|(r, s)| (r.to_string(), *s)).collect(),
        )]
        .into();
        HostEntry {
            name: "web".into(),
            dir: "web".into(),
            role: None,
            labels: Default::default(),
            in_scope: true,
            source: "x".into(),
            assessed: true,
            reason: None,
            summary: Some(HostSummary {
                requirements,
                ..HostSummary::default()
            }),
        }
    }

    #[test]
    fn the_hosts_that_moved_a_requirement_include_added_and_removed_ones() {
        let old = requirement(&[("a", Bad), ("gone", Bad), ("same", Ok)]);
        let new = requirement(&[("a", Ok), ("new", Ok), ("same", Ok)]);
        let change = |dir: &str, old, new| HostStateChange {
            dir: dir.into(),
            old,
            new,
        };
        assert_eq!(
            host_states(Some(&old), Some(&new)),
            vec![
                change("a", Some(Bad), Some(Ok)),
                change("gone", Some(Bad), None),
                change("new", None, Some(Ok)),
            ]
        );
        assert_eq!(host_states(None, Some(&new)).len(), 3);
    }

    #[test]
    fn a_host_lists_only_the_requirements_whose_state_changed() {
        let old = host(&[("1.1", Ok), ("2.2", Bad), ("3.3", Ok)]);
        let new = host(&[("1.1", Ok), ("2.2", Ok), ("4.4", Bad)]);
        let got: Vec<(String, Option<RequirementState>, Option<RequirementState>)> =
            host_requirements(&old, &new)
                .into_iter()
                .map(|c| (c.requirement, c.old, c.new))
                .collect();
        assert_eq!(
            got,
            vec![
                ("2.2".to_string(), Some(Bad), Some(Ok)),
                ("3.3".to_string(), Some(Ok), None),
                ("4.4".to_string(), None, Some(Bad)),
            ]
        );
    }
}
