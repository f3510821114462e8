//! Waivers: an approver's acceptance of a failing check for some resources, for a time.
//!
//! A waiver never changes a verdict. It marks the failures it covers (`CheckResult::waiver`),
//! and the roll-up counts a waived failure as accepted risk while keeping the verdict without
//! waivers beside it. A waiver past its expiry date, or granted for a later date, covers
//! nothing and says so in the register; so does one whose scope matches no failure.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use super::decisions::{entries, glob, DecisionFileError, Problem};
use crate::assessment::{
    CheckResult, ResourceKind, Risk, Status, WaiverRecord, WaiverScope, WaiverState,
};
use crate::catalog::Catalog;
use crate::snapshot::Snapshot;

/// One waiver as written in the file, validated against the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub id: String,
    pub check: String,
    pub scope: WaiverScope,
    pub justification: String,
    pub approved_by: Option<String>,
    pub granted: Option<NaiveDate>,
    pub expires: Option<NaiveDate>,
    pub risk: Option<Risk>,
    pub ticket: Option<String>,
    pub compensating_control: Option<String>,
    /// `file:line` of the entry.
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Option<String>,
    check: String,
    #[serde(default)]
    scope: WaiverScope,
    justification: String,
    approved_by: Option<String>,
    granted: Option<NaiveDate>,
    expires: Option<NaiveDate>,
    risk: Option<Risk>,
    ticket: Option<String>,
    compensating_control: Option<String>,
}

/// Parses a waiver file (`waivers:` list) and checks every entry against `catalog`.
pub fn parse(text: &str, file: &str, catalog: &Catalog) -> Result<Vec<Waiver>, DecisionFileError> {
    let (parsed, mut problems) = entries::<Entry>(text, file, "waivers")?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut waivers = Vec::with_capacity(parsed.len());
    for (n, (line, e)) in parsed.into_iter().enumerate() {
        let mut problem = |message: String| {
            problems.push(Problem {
                file: file.to_string(),
                line,
                message,
            })
        };
        let id = e.id.clone().unwrap_or_else(|| format!("W-{}", n + 1));
        if let Some(first) = seen.insert(id.clone(), line) {
            problem(format!("waiver id `{id}` is already used on line {first}"));
        }
        match catalog.checks.iter().find(|c| c.def.id == e.check) {
            None => problem(format!(
                "unknown check `{}`; `dockproof controls list` shows the ids",
                e.check
            )),
            Some(c) => {
                let kind = c.def.resource;
                let per_object = matches!(
                    kind,
                    ResourceKind::Container
                        | ResourceKind::Image
                        | ResourceKind::Network
                        | ResourceKind::Volume
                );
                if !e.scope.labels.is_empty() && !per_object {
                    problem(format!(
                        "`scope.labels` cannot match `{}`: it checks a {}, which has no labels",
                        e.check,
                        kind.as_str()
                    ));
                }
                if e.scope.container.is_some() && kind != ResourceKind::Container {
                    problem(format!(
                        "`scope.container` cannot match `{}`: it checks a {}",
                        e.check,
                        kind.as_str()
                    ));
                }
                if e.scope.image.is_some()
                    && !matches!(kind, ResourceKind::Container | ResourceKind::Image)
                {
                    problem(format!(
                        "`scope.image` cannot match `{}`: it checks a {}",
                        e.check,
                        kind.as_str()
                    ));
                }
            }
        }
        if e.justification.trim().is_empty() {
            problem("`justification` is empty; say why the risk is accepted".into());
        }
        if let (Some(g), Some(x)) = (e.granted, e.expires) {
            if x < g {
                problem(format!("`expires` ({x}) is before `granted` ({g})"));
            }
        }
        waivers.push(Waiver {
            id,
            check: e.check,
            scope: e.scope,
            justification: e.justification.trim().to_string(),
            approved_by: e.approved_by,
            granted: e.granted,
            expires: e.expires,
            risk: e.risk,
            ticket: e.ticket,
            compensating_control: e.compensating_control,
            source: format!("{file}:{line}"),
        });
    }
    problems.sort_by_key(|p| p.line);
    if problems.is_empty() {
        Ok(waivers)
    } else {
        Err(DecisionFileError(problems))
    }
}

/// What a scope can be matched against, for one resource.
#[derive(Default)]
struct Facts<'a> {
    labels: Option<&'a serde_json::Map<String, Value>>,
    /// Image references: a container's configured image, or an image's tags and digests.
    images: Vec<&'a str>,
}

fn facts(snapshot: &Snapshot) -> HashMap<(ResourceKind, &str), Facts<'_>> {
    let mut map = HashMap::new();
    for c in &snapshot.engine.containers {
        let Some(cid) = c.get("Id").and_then(Value::as_str) else {
            continue;
        };
        let image = c.pointer("/Config/Image").and_then(Value::as_str);
        map.insert(
            (ResourceKind::Container, cid),
            Facts {
                labels: c.pointer("/Config/Labels").and_then(Value::as_object),
                images: image.into_iter().collect(),
            },
        );
    }
    for img in &snapshot.engine.images {
        let Some(iid) = img.get("Id").and_then(Value::as_str) else {
            continue;
        };
        let refs = ["RepoTags", "RepoDigests"]
            .iter()
            .filter_map(|k| img.get(*k).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        map.insert(
            (ResourceKind::Image, iid),
            Facts {
                labels: img.pointer("/Config/Labels").and_then(Value::as_object),
                images: refs,
            },
        );
    }
    for (kind, list, key) in [
        (ResourceKind::Network, &snapshot.engine.networks, "Id"),
        (ResourceKind::Volume, &snapshot.engine.volumes, "Name"),
    ] {
        for v in list {
            if let Some(rid) = v.get(key).and_then(Value::as_str) {
                let labels = v.get("Labels").and_then(Value::as_object);
                map.insert(
                    (kind, rid),
                    Facts {
                        labels,
                        images: vec![],
                    },
                );
            }
        }
    }
    map
}

impl Waiver {
    /// Whether the waiver is in force on `today` (expiry dates are inclusive).
    pub fn state_on(&self, today: NaiveDate) -> Option<WaiverState> {
        if self.expires.is_some_and(|x| today > x) {
            Some(WaiverState::Expired)
        } else if self.granted.is_some_and(|g| today < g) {
            Some(WaiverState::NotYetValid)
        } else {
            None
        }
    }

    fn covers(&self, r: &CheckResult, host: &str, facts: Option<&Facts<'_>>) -> bool {
        let s = &self.scope;
        if r.check_id != self.check {
            return false;
        }
        if s.host.as_deref().is_some_and(|h| !glob(h, host)) {
            return false;
        }
        if s.container.as_deref().is_some_and(|c| {
            r.resource.kind != ResourceKind::Container || !glob(c, &r.resource.name)
        }) {
            return false;
        }
        if let Some(pattern) = s.image.as_deref() {
            let images = facts.map(|f| f.images.as_slice()).unwrap_or_default();
            if !images.iter().any(|i| glob(pattern, i)) {
                return false;
            }
        }
        if !s.labels.is_empty() {
            let Some(labels) = facts.and_then(|f| f.labels) else {
                return false;
            };
            return s.labels.iter().all(|(k, want)| {
                labels
                    .get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|have| want == "*" || have == want)
            });
        }
        true
    }
}

/// Marks the failures each waiver in force covers and returns the waiver register. The first
/// waiver in file order that covers a failure is the one recorded on it.
pub fn apply(
    results: &mut [CheckResult],
    snapshot: &Snapshot,
    waivers: &[Waiver],
    today: NaiveDate,
) -> Vec<WaiverRecord> {
    if waivers.is_empty() {
        return Vec::new();
    }
    let facts = facts(snapshot);
    let host = snapshot.target.hostname.as_deref().unwrap_or_default();
    let by_check: HashSet<&str> = waivers.iter().map(|w| w.check.as_str()).collect();
    let mut covered: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let states: Vec<Option<WaiverState>> = waivers.iter().map(|w| w.state_on(today)).collect();
    for r in results
        .iter_mut()
        .filter(|r| r.status == Status::Fail && by_check.contains(r.check_id.as_str()))
    {
        let f = facts.get(&(r.resource.kind, r.resource.id.as_str()));
        let hit = waivers
            .iter()
            .enumerate()
            .find(|(i, w)| states[*i].is_none() && w.covers(r, host, f));
        if let Some((i, w)) = hit {
            r.waiver = Some(w.id.clone());
            covered.entry(i).or_default().push(r.fingerprint.clone());
        }
    }
    waivers
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let fingerprints = covered.remove(&i).unwrap_or_default();
            let state = states[i].unwrap_or(if fingerprints.is_empty() {
                WaiverState::Unused
            } else {
                WaiverState::Active
            });
            WaiverRecord {
                id: w.id.clone(),
                check_id: w.check.clone(),
                scope: w.scope.clone(),
                justification: w.justification.clone(),
                approved_by: w.approved_by.clone(),
                granted: w.granted,
                expires: w.expires,
                risk: w.risk,
                ticket: w.ticket.clone(),
                compensating_control: w.compensating_control.clone(),
                source: w.source.clone(),
                state,
                covered: fingerprints.len(),
                covered_fingerprints: fingerprints,
            }
        })
        .collect()
}
