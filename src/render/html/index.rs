//! Lookups and anchors the report's sections share, computed once per report so that no
//! section scans every result per requirement, check or resource.

use std::collections::HashMap;

use super::anchors::{slug, Anchors};
use crate::assessment::{Assessment, CheckInfo, CheckResult, ResourceRef, Status};

/// Failed, error and manual results are findings: someone has to act on them.
pub(super) fn is_finding(s: Status) -> bool {
    matches!(s, Status::Fail | Status::Error | Status::Manual)
}

/// Results in reading order: what needs attention first, then by severity (stable otherwise).
pub(super) fn sorted(mut v: Vec<&CheckResult>) -> Vec<&CheckResult> {
    let rank = |s: Status| Status::ALL.iter().position(|x| *x == s);
    v.sort_by_key(|r| (rank(r.status), std::cmp::Reverse(r.severity)));
    v
}

/// The results of one check, as the requirement sections show them.
#[derive(Default)]
pub(super) struct CheckTally<'a> {
    /// Failed, error and manual results, in reading order.
    pub(super) findings: Vec<&'a CheckResult>,
    pub(super) passed: usize,
    pub(super) not_applicable: usize,
}

/// A link to a check: its id, and its anchor when the check is in this assessment.
pub(super) struct CheckLink<'s> {
    pub(super) id: &'s str,
    pub(super) anchor: Option<&'s str>,
}

/// Lookups and anchors shared by the builders and writers.
pub(super) struct Index<'a> {
    /// The assessment the lookups index.
    pub(super) assessment: &'a Assessment,
    pub(super) checks: HashMap<&'a str, &'a CheckInfo>,
    pub(super) results_by_check: HashMap<&'a str, Vec<&'a CheckResult>>,
    pub(super) tallies: HashMap<&'a str, CheckTally<'a>>,
    check_anchor: HashMap<&'a str, String>,
    resource_anchor: HashMap<&'a ResourceRef, String>,
    pub(super) requirement_anchor: HashMap<(&'a str, &'a str), String>,
    framework_slug: HashMap<&'a str, String>,
    pub(super) framework_name: HashMap<&'a str, &'a str>,
    /// Per check id, the space-separated slugs of the frameworks it maps to.
    check_frameworks: HashMap<&'a str, String>,
}

impl<'a> Index<'a> {
    pub(super) fn new(a: &'a Assessment) -> Self {
        let mut anchors = Anchors::default();
        let mut ix = Index {
            assessment: a,
            checks: a.checks.iter().map(|c| (c.id.as_str(), c)).collect(),
            results_by_check: HashMap::new(),
            tallies: HashMap::new(),
            check_anchor: HashMap::new(),
            resource_anchor: HashMap::new(),
            requirement_anchor: HashMap::new(),
            framework_slug: HashMap::new(),
            framework_name: HashMap::new(),
            check_frameworks: HashMap::new(),
        };
        for c in &a.checks {
            let anchor = anchors.make("check", &c.id);
            ix.check_anchor.entry(&c.id).or_insert(anchor);
        }
        for fw in &a.frameworks {
            let fw_slug = anchors.make("fw", &fw.id);
            let prefix = format!("req-{}", slug(&fw.id));
            for r in &fw.requirements {
                let anchor = anchors.make(&prefix, &r.id);
                ix.requirement_anchor
                    .entry((&fw.id, &r.id))
                    .or_insert(anchor);
            }
            ix.framework_slug.entry(&fw.id).or_insert(fw_slug);
            ix.framework_name.entry(&fw.id).or_insert(&fw.name);
        }
        for r in &a.results {
            ix.results_by_check.entry(&r.check_id).or_default().push(r);
            if !ix.resource_anchor.contains_key(&r.resource) {
                let res = &r.resource;
                let name = if res.name.is_empty() {
                    &res.id
                } else {
                    &res.name
                };
                let anchor = anchors.make(&format!("res-{}", res.kind.as_str()), name);
                ix.resource_anchor.insert(res, anchor);
            }
        }
        for (check, results) in &ix.results_by_check {
            let mut tally = CheckTally::default();
            let mut findings = Vec::new();
            for r in results {
                match r.status {
                    Status::Pass => tally.passed += 1,
                    Status::NotApplicable => tally.not_applicable += 1,
                    s if is_finding(s) => findings.push(*r),
                    _ => {}
                }
            }
            tally.findings = sorted(findings);
            ix.tallies.insert(check, tally);
        }
        for c in &a.checks {
            let slugs = ix.frameworks_of(c);
            ix.check_frameworks.insert(&c.id, slugs);
        }
        ix
    }

    pub(super) fn link<'s>(&'s self, check_id: &'s str) -> CheckLink<'s> {
        CheckLink {
            id: check_id,
            anchor: self.check_anchor.get(check_id).map(String::as_str),
        }
    }

    pub(super) fn check_anchor(&self, check_id: &str) -> Option<&str> {
        self.check_anchor.get(check_id).map(String::as_str)
    }

    pub(super) fn resource_anchor(&self, res: &ResourceRef) -> &str {
        self.resource_anchor.get(res).map_or("", String::as_str)
    }

    pub(super) fn framework_slug(&self, id: &str) -> String {
        self.framework_slug.get(id).cloned().unwrap_or_default()
    }

    /// Space-separated slugs of the frameworks `check_id` maps to; empty for an unknown check.
    pub(super) fn check_frameworks(&self, check_id: &str) -> &str {
        self.check_frameworks
            .get(check_id)
            .map_or("", String::as_str)
    }

    pub(super) fn tally(&self, check_id: &str) -> Option<&CheckTally<'a>> {
        self.tallies.get(check_id)
    }

    /// The anchor of a result's row under its resource, where its evidence is shown: `result-N`
    /// for the result's place in the assessment (resource anchors start `res-` and a kind, so
    /// none can take this form).
    pub(super) fn result_anchor(&self, r: &CheckResult) -> String {
        let results = &self.assessment.results;
        let size = std::mem::size_of::<CheckResult>().max(1);
        let offset = (r as *const CheckResult as usize).wrapping_sub(results.as_ptr() as usize);
        let n = offset / size;
        // Every result shown is borrowed from this assessment's list.
        debug_assert!(results.get(n).is_some_and(|x| std::ptr::eq(x, r)));
        format!("result-{n}")
    }

    /// Slugs of the frameworks a check maps to, sorted and deduplicated.
    fn frameworks_of(&self, check: &CheckInfo) -> String {
        let mut slugs: Vec<&str> = check
            .mappings
            .iter()
            .filter_map(|m| self.framework_slug.get(m.framework.as_str()))
            .map(String::as_str)
            .collect();
        slugs.sort_unstable();
        slugs.dedup();
        slugs.join(" ")
    }
}
