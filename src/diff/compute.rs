//! The computation behind [`Diff::compute`](super::Diff::compute): pure functions from two
//! assessments to each part of the diff. Lists are sorted here so every output is stable.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    CheckChanges, CheckRef, FindingChange, FindingChanges, FrameworkChange, ReplacedResource,
    RequirementChange, Resource, ResourceChanges, ScanHeader, WaiverChange, WaiverChanges,
    WaiverRef,
};
use crate::assessment::{Assessment, CheckResult, Status, WaiverRecord};

pub(super) fn header(a: &Assessment) -> ScanHeader {
    ScanHeader {
        source: String::new(),
        host: a.snapshot.target.hostname.clone(),
        docker_host: a.snapshot.target.docker_host.clone(),
        engine_id: a.snapshot.target.engine_id.clone(),
        generated_at: a.generated_at,
        collected_until: a.snapshot.collected_until,
        snapshot_sha256: a.snapshot.sha256.clone(),
        tool_version: a.tool.version.clone(),
    }
}

/// Results by fingerprint. Should a fingerprint repeat within one scan, the first result wins,
/// so the outcome does not depend on map iteration.
fn by_fingerprint(a: &Assessment) -> BTreeMap<&str, &CheckResult> {
    let mut map = BTreeMap::new();
    for r in &a.results {
        map.entry(r.fingerprint.as_str()).or_insert(r);
    }
    map
}

pub(super) fn findings(old: &Assessment, new: &Assessment) -> FindingChanges {
    let (o, n) = (by_fingerprint(old), by_fingerprint(new));
    let keys: BTreeSet<&str> = o.keys().chain(n.keys()).copied().collect();
    let mut out = FindingChanges::default();
    for key in keys {
        let (before, after) = (o.get(key).copied(), n.get(key).copied());
        let (os, ns) = (before.map(|r| r.status), after.map(|r| r.status));
        let list = match (os, ns) {
            (Some(Status::Fail), Some(Status::Fail)) => &mut out.still_failing,
            (_, Some(Status::Fail)) => &mut out.newly_failing,
            (Some(Status::Error), Some(Status::Error)) => &mut out.still_error,
            (_, Some(Status::Error)) => &mut out.new_errors,
            (Some(Status::Fail), Some(Status::Pass)) => &mut out.newly_passing,
            (Some(Status::Fail), _) => &mut out.no_longer_failing,
            (Some(Status::Error), _) => &mut out.errors_resolved,
            _ => continue,
        };
        if let Some(change) = change(key, before, after) {
            list.push(change);
        }
    }
    for list in [
        &mut out.newly_failing,
        &mut out.still_failing,
        &mut out.newly_passing,
        &mut out.no_longer_failing,
        &mut out.new_errors,
        &mut out.still_error,
        &mut out.errors_resolved,
    ] {
        sort_findings(list);
    }
    out
}

/// The finding as both scans saw it; `None` only if it is in neither.
fn change(
    fingerprint: &str,
    before: Option<&CheckResult>,
    after: Option<&CheckResult>,
) -> Option<FindingChange> {
    let latest = after.or(before)?;
    Some(FindingChange {
        fingerprint: fingerprint.to_string(),
        check_id: latest.check_id.clone(),
        severity: latest.severity,
        resource: Resource {
            kind: latest.resource.kind,
            name: latest.resource.name.clone(),
        },
        old_status: before.map(|r| r.status),
        new_status: after.map(|r| r.status),
        old_waiver: before.and_then(|r| r.waiver.clone()),
        new_waiver: after.and_then(|r| r.waiver.clone()),
    })
}

/// Most severe first, then by check and resource, so output is stable.
fn sort_findings(list: &mut [FindingChange]) {
    list.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.resource.cmp(&b.resource))
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
}

fn resource_ids(a: &Assessment) -> BTreeMap<Resource, BTreeSet<&str>> {
    let mut map: BTreeMap<Resource, BTreeSet<&str>> = BTreeMap::new();
    for r in &a.results {
        let key = Resource {
            kind: r.resource.kind,
            name: r.resource.name.clone(),
        };
        map.entry(key).or_default().insert(r.resource.id.as_str());
    }
    map
}

pub(super) fn resources(old: &Assessment, new: &Assessment) -> ResourceChanges {
    let (o, n) = (resource_ids(old), resource_ids(new));
    let owned = |ids: &BTreeSet<&str>| ids.iter().map(|s| s.to_string()).collect();
    ResourceChanges {
        added: n.keys().filter(|k| !o.contains_key(*k)).cloned().collect(),
        removed: o.keys().filter(|k| !n.contains_key(*k)).cloned().collect(),
        replaced: o
            .iter()
            .filter_map(|(k, old_ids)| {
                let new_ids = n.get(k)?;
                (old_ids != new_ids).then(|| ReplacedResource {
                    kind: k.kind,
                    name: k.name.clone(),
                    old_ids: owned(old_ids),
                    new_ids: owned(new_ids),
                })
            })
            .collect(),
    }
}

pub(super) fn checks(old: &Assessment, new: &Assessment) -> CheckChanges {
    let missing_from = |a: &Assessment, b: &Assessment| {
        let ids: BTreeSet<&str> = b.checks.iter().map(|c| c.id.as_str()).collect();
        a.checks
            .iter()
            .filter(|c| !ids.contains(c.id.as_str()))
            .map(|c| CheckRef {
                id: c.id.clone(),
                title: c.title.clone(),
                severity: c.severity,
            })
            .collect()
    };
    CheckChanges {
        added: missing_from(new, old),
        removed: missing_from(old, new),
    }
}

pub(super) fn waivers(old: &Assessment, new: &Assessment) -> WaiverChanges {
    let reference = |w: &WaiverRecord| WaiverRef {
        id: w.id.clone(),
        check_id: w.check_id.clone(),
        state: w.state,
        covered: w.covered,
    };
    let o: BTreeMap<&str, _> = old.waivers.iter().map(|w| (w.id.as_str(), w)).collect();
    let n: BTreeMap<&str, _> = new.waivers.iter().map(|w| (w.id.as_str(), w)).collect();
    let mut out = WaiverChanges {
        added: new
            .waivers
            .iter()
            .filter(|w| !o.contains_key(w.id.as_str()))
            .map(reference)
            .collect(),
        removed: old
            .waivers
            .iter()
            .filter(|w| !n.contains_key(w.id.as_str()))
            .map(reference)
            .collect(),
        ..WaiverChanges::default()
    };
    for w in &new.waivers {
        let Some(before) = o.get(w.id.as_str()) else {
            continue;
        };
        let covered = |fps: &[String]| fps.iter().cloned().collect::<BTreeSet<_>>();
        if before.state != w.state
            || covered(&before.covered_fingerprints) != covered(&w.covered_fingerprints)
        {
            out.changed.push(WaiverChange {
                id: w.id.clone(),
                check_id: w.check_id.clone(),
                old_state: before.state,
                new_state: w.state,
                old_covered: before.covered,
                new_covered: w.covered,
            });
        }
    }
    let (ro, rn) = (by_fingerprint(old), by_fingerprint(new));
    let keys: BTreeSet<&str> = ro.keys().chain(rn.keys()).copied().collect();
    for key in keys {
        let (before, after) = (ro.get(key).copied(), rn.get(key).copied());
        let was = before.is_some_and(CheckResult::is_waived);
        let is = after.is_some_and(CheckResult::is_waived);
        let list = match (was, is) {
            (false, true) => &mut out.newly_waived,
            (true, false) => &mut out.no_longer_waived,
            _ => continue,
        };
        if let Some(change) = change(key, before, after) {
            list.push(change);
        }
    }
    sort_findings(&mut out.newly_waived);
    sort_findings(&mut out.no_longer_waived);
    out
}

pub(super) fn frameworks(old: &Assessment, new: &Assessment) -> Vec<FrameworkChange> {
    let o: BTreeMap<&str, _> = old.frameworks.iter().map(|f| (f.id.as_str(), f)).collect();
    let in_new: BTreeSet<&str> = new.frameworks.iter().map(|f| f.id.as_str()).collect();
    let pairs = new
        .frameworks
        .iter()
        .map(|f| (o.get(f.id.as_str()).copied(), Some(f)))
        .chain(
            old.frameworks
                .iter()
                .filter(|f| !in_new.contains(f.id.as_str()))
                .map(|f| (Some(f), None)),
        );
    pairs
        .filter_map(|(before, after)| {
            let latest = after.or(before)?;
            let ro: &[_] = before.map_or(&[], |f| &f.requirements);
            let rn: &[_] = after.map_or(&[], |f| &f.requirements);
            let old_status: BTreeMap<&str, _> =
                ro.iter().map(|r| (r.id.as_str(), r.state)).collect();
            let new_ids: BTreeSet<&str> = rn.iter().map(|r| r.id.as_str()).collect();
            let requirements = rn
                .iter()
                .map(|r| (r, old_status.get(r.id.as_str()).copied(), Some(r.state)))
                .chain(
                    ro.iter()
                        .filter(|r| !new_ids.contains(r.id.as_str()))
                        .map(|r| (r, Some(r.state), None)),
                )
                .filter(|(_, o, n)| o != n)
                .map(|(r, o, n)| RequirementChange {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    old_state: o,
                    new_state: n,
                })
                .collect();
            Some(FrameworkChange {
                id: latest.id.clone(),
                name: latest.name.clone(),
                old_figures: before.map(|f| f.figures),
                new_figures: after.map(|f| f.figures),
                requirements,
            })
        })
        .collect()
}
