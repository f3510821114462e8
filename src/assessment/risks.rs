//! The top risks of an assessment: every critical or high failure that no waiver covers,
//! grouped by the asset it was found on (container, image, daemon, file, …), worst asset first.
//!
//! Computed here once, so the executive summaries of the HTML and the PDF and the
//! `top_risks` list of `assessment.json` name the same findings in the same order.

use serde::{Deserialize, Serialize};

use super::{Assessment, EvidenceRole, ResourceRef, Severity, Status};

/// Lowest severity listed among the top risks.
pub const TOP_RISK_THRESHOLD: Severity = Severity::High;

/// The top-risk failures of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskAsset {
    pub resource: ResourceRef,
    /// The highest severity among `risks`.
    pub worst: Severity,
    /// Worst first, then by check id.
    pub risks: Vec<TopRisk>,
}

/// One unwaived critical or high failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopRisk {
    pub check_id: String,
    pub title: String,
    pub severity: Severity,
    /// Requirements this check decides, as `framework-id requirement-id`, for the frameworks
    /// of the assessment.
    pub decides: Vec<String>,
}

impl TopRisk {
    /// The requirements decided, grouped by framework in the order first named.
    pub fn decides_by_framework(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for d in &self.decides {
            let (fw, req) = d.split_once(' ').unwrap_or((d.as_str(), ""));
            match groups.iter_mut().find(|(f, _)| f == fw) {
                Some((_, reqs)) => reqs.push(req.to_string()),
                None => groups.push((fw.to_string(), vec![req.to_string()])),
            }
        }
        groups
    }

    /// [`Self::decides_by_framework`] on one line: `cis-docker-1.6 5.32; pci-dss-4.0.1 2.2.6,
    /// 7.2.5`; empty when none.
    pub fn decides_text(&self) -> String {
        (self.decides_by_framework().iter())
            .map(|(fw, reqs)| format!("{fw} {}", reqs.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl Assessment {
    /// Critical and high failures not covered by a waiver, grouped by asset: assets with the
    /// worst failure first, then those with more such failures, then by kind and name.
    pub fn compute_top_risks(&self) -> Vec<RiskAsset> {
        let mut assets: Vec<RiskAsset> = Vec::new();
        for r in &self.results {
            if r.status != Status::Fail || r.is_waived() || r.severity < TOP_RISK_THRESHOLD {
                continue;
            }
            let check = self.check(&r.check_id);
            let risk = TopRisk {
                check_id: r.check_id.clone(),
                title: check.map(|c| c.title.clone()).unwrap_or_default(),
                severity: r.severity,
                decides: check.map(|c| self.decided_by(c)).unwrap_or_default(),
            };
            match assets.iter_mut().find(|a| a.resource == r.resource) {
                Some(a) => {
                    a.worst = a.worst.max(r.severity);
                    a.risks.push(risk);
                }
                None => assets.push(RiskAsset {
                    resource: r.resource.clone(),
                    worst: r.severity,
                    risks: vec![risk],
                }),
            }
        }
        for a in &mut assets {
            a.risks.sort_by(|x, y| {
                (y.severity.cmp(&x.severity)).then_with(|| x.check_id.cmp(&y.check_id))
            });
        }
        assets.sort_by(|x, y| {
            (y.worst.cmp(&x.worst))
                .then_with(|| y.risks.len().cmp(&x.risks.len()))
                .then_with(|| x.resource.kind.cmp(&y.resource.kind))
                .then_with(|| x.resource.name.cmp(&y.resource.name))
                .then_with(|| x.resource.id.cmp(&y.resource.id))
        });
        assets
    }

    /// `framework-id requirement-id` of every requirement `check` decides in this assessment.
    fn decided_by(&self, check: &super::CheckInfo) -> Vec<String> {
        (check.mappings.iter())
            .filter(|m| m.role == EvidenceRole::Primary)
            .filter(|m| self.frameworks.iter().any(|f| f.id == m.framework))
            .map(|m| format!("{} {}", m.framework, m.requirement))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::assessment::Severity;
    use crate::testing::fixture::sample_assessment;

    #[test]
    fn only_unwaived_critical_and_high_failures_are_listed_worst_first() {
        let a = sample_assessment();
        let risks = a.compute_top_risks();
        let listed: usize = risks.iter().map(|r| r.risks.len()).sum();
        let expected = (a.results.iter())
            .filter(|r| r.status == crate::assessment::Status::Fail && r.waiver.is_none())
            .filter(|r| r.severity >= Severity::High)
            .count();
        assert!(expected > 0, "the fixture has high failures");
        assert_eq!(listed, expected);
        assert!(risks.windows(2).all(|w| w[0].worst >= w[1].worst));
        for asset in &risks {
            assert!(asset.risks.iter().all(|r| r.severity <= asset.worst));
        }
    }

    #[test]
    fn a_waived_failure_is_not_a_top_risk() {
        let mut a = sample_assessment();
        let before: usize = a.compute_top_risks().iter().map(|r| r.risks.len()).sum();
        let high = (a.results.iter_mut())
            .find(|r| r.status == crate::assessment::Status::Fail && r.severity >= Severity::High)
            .expect("the fixture has a high failure");
        high.waiver = Some("W-9".into());
        let (resource, check) = (high.resource.clone(), high.check_id.clone());
        let after = a.compute_top_risks();
        assert_eq!(
            after.iter().map(|r| r.risks.len()).sum::<usize>(),
            before - 1
        );
        assert!(!after
            .iter()
            .any(|asset| asset.resource == resource
                && asset.risks.iter().any(|r| r.check_id == check)));
    }
}
