//! The two frameworks of the test assessment: requirements with their evidence states, and the
//! roll-up of the fixture's results into them.

use std::collections::BTreeMap;

use crate::assessment::*;

pub(super) const PCI: &str = "pci-dss-4.0.1";
pub(super) const HIPAA: &str = "hipaa-security-rule";

/// A requirement: id, title, section, level, mode, status, deciding checks, supporting checks.
pub(super) type ReqSpec = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    AssessmentMode,
    RequirementState,
    &'static [&'static str],
    &'static [&'static str],
);

pub(super) const PCI_REQS: &[ReqSpec] = {
    use AssessmentMode::{Automated as A, Manual as M, Partial as P};
    use RequirementState as R;
    let s2 = "Requirement 2";
    &[
        (
            "2.2.1",
            "Configuration standards are maintained",
            s2,
            None,
            M,
            R::AwaitingManualEvidence,
            &[],
            &[],
        ),
        (
            "2.2.5",
            "Only necessary services and functions are enabled",
            s2,
            None,
            A,
            R::NotInPlace,
            &["container.privileged"],
            &["daemon.icc"],
        ),
        (
            "2.2.6",
            "System security parameters prevent misuse",
            s2,
            None,
            A,
            R::ConsistentWithInPlace,
            &["container.user"],
            &[],
        ),
        (
            "3.6.1",
            "Key-protection procedures are defined",
            "Requirement 3",
            None,
            A,
            R::NotApplicablePerEvidence,
            &["swarm.autolock"],
            &[],
        ),
        (
            "7.2.1",
            "An access control model is defined",
            "Requirement 7",
            None,
            P,
            R::AwaitingManualEvidence,
            &["file.docker-sock"],
            &["host.docker-group"],
        ),
        (
            "10.2.1",
            "Audit logs are enabled and active",
            "Requirement 10",
            None,
            A,
            R::Incomplete,
            &["host.audit-docker"],
            &[],
        ),
    ]
};

pub(super) const HIPAA_REQS: &[ReqSpec] = {
    use AssessmentMode::{Automated as A, Manual as M, Partial as P};
    use RequirementState as R;
    let (adm, tech, req) = (
        "Administrative safeguards",
        "Technical safeguards",
        Some("required"),
    );
    &[
        (
            "164.308(a)(1)(ii)(D)",
            "Information system activity review",
            adm,
            req,
            M,
            R::AwaitingManualEvidence,
            &[],
            &["host.audit-docker"],
        ),
        (
            "164.312(a)(1)",
            "Access control",
            tech,
            req,
            P,
            R::NotInPlace,
            &["container.privileged", "container.user"],
            &[],
        ),
        (
            "164.312(b)",
            "Audit controls",
            tech,
            req,
            A,
            R::Incomplete,
            &["host.audit-docker"],
            &[],
        ),
        (
            "164.312(c)(1)",
            "Integrity",
            tech,
            req,
            P,
            R::NotInPlace,
            &["image.trusted-registry"],
            &[],
        ),
        (
            "164.312(e)(1)",
            "Transmission security",
            tech,
            Some("addressable"),
            A,
            R::ConsistentWithInPlace,
            &["daemon.tls-verify"],
            &[],
        ),
    ]
};

fn requirement(spec: &ReqSpec, results: &[CheckResult]) -> RequirementResult {
    let &(id, title, section, level, mode, state, checks, supporting) = spec;
    let mut counts = BTreeMap::new();
    for r in results
        .iter()
        .filter(|r| checks.contains(&r.check_id.as_str()))
    {
        *counts.entry(r.status).or_default() += 1;
    }
    RequirementResult {
        id: id.into(),
        title: title.into(),
        section: Some(section.into()),
        level: level.map(str::to_string),
        mode,
        state,
        technical: crate::assessment::Technical::from_counts(&counts, 0),
        service_provider_only: false,
        checks: checks.iter().map(|s| s.to_string()).collect(),
        supporting: supporting.iter().map(|s| s.to_string()).collect(),
        prompt: (mode != AssessmentMode::Automated)
            .then(|| format!("Obtain the documented procedure for {id} and interview its owner.")),
        evidence_owner: (mode != AssessmentMode::Automated).then(|| "security officer".into()),
        counts,
        waived: 0,
        waivers: Vec::new(),
        excluded_by_selection: Vec::new(),
        attestation: None,
    }
}

pub(super) fn framework(
    (id, name, version): (&str, &str, &str),
    specs: &[ReqSpec],
    results: &[CheckResult],
) -> FrameworkResult {
    let requirements: Vec<RequirementResult> = specs
        .iter()
        .map(|spec| requirement(spec, results))
        .collect();
    let vocabulary = match id {
        PCI => Vocabulary::PciDss,
        HIPAA => Vocabulary::Hipaa,
        _ => Vocabulary::Generic,
    };
    let mut fw = FrameworkResult {
        id: id.into(),
        name: name.into(),
        version: version.into(),
        publisher: "Example publisher".into(),
        url: Some("https://example.org/framework".into()),
        description: format!("{name}, as mapped by dockproof."),
        vocabulary,
        requirements,
        counts: BTreeMap::new(),
        figures: Figures::default(),
    };
    fw.recount();
    fw
}
