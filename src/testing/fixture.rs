//! A small but complete assessment for renderer tests: two frameworks, checks of every resource
//! family that matters, results of every status, a collection gap, and host strings that try to
//! break out of HTML (a container named `<script>alert(1)</script>"'&`, evidence holding
//! `</td><img src=x onerror=alert(1)>`). Timestamps are fixed so output is deterministic.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::assessment::*;
use crate::snapshot::{Gap, Target, ToolInfo};

use super::frameworks::{framework, HIPAA, HIPAA_REQS, PCI, PCI_REQS};

/// Container name crafted to break out of HTML text and attributes.
pub(crate) const EVIL_NAME: &str = "<script>alert(1)</script>\"'&";
/// Evidence value crafted to break out of a table cell.
pub(crate) const EVIL_VALUE: &str = "</td><img src=x onerror=alert(1)>";

fn at(sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 9, 26, sec)
        .single()
        .unwrap_or_default()
}

fn tool() -> ToolInfo {
    ToolInfo {
        name: "dockproof".into(),
        version: "0.1.0".into(),
    }
}

struct CheckSpec {
    id: &'static str,
    title: &'static str,
    severity: Severity,
    resource: ResourceKind,
    mode: CheckMode,
    maps: &'static [(&'static str, &'static str, EvidenceRole)],
}

fn check(s: &CheckSpec) -> CheckInfo {
    let manual = s.mode == CheckMode::Manual;
    CheckInfo {
        id: s.id.into(),
        title: s.title.into(),
        description: format!("Checks that {}.", s.title.to_lowercase()),
        rationale: "Reduces the blast radius of a compromised container.".into(),
        severity: s.severity,
        resource: s.resource,
        mode: s.mode,
        expectation: format!("{} holds for every {}", s.title, s.resource.as_str()),
        remediation: "Change the run options and recreate the container.".into(),
        fix: (!manual).then(|| crate::assessment::fix::Fix::RunFlag("--read-only".into())),
        fix_text: (!manual).then(|| "add --read-only".into()),
        rule: if manual {
            String::new()
        } else {
            format!("resource.{} == expected", s.id)
        },
        prompt: manual.then(|| "Review the members of the docker group.".to_string()),
        references: References {
            cis_docker: vec!["5.5".into()],
            links: vec![
                "https://docs.docker.com/engine/security/".into(),
                "http://insecure.example.com/doc".into(),
                "javascript:alert(1)".into(),
            ],
        },
        mappings: s
            .maps
            .iter()
            .map(|(fw, req, role)| Mapping {
                framework: (*fw).into(),
                requirement: (*req).into(),
                role: *role,
            })
            .collect(),
    }
}

use EvidenceRole::{Primary as P, Supporting as S};

const CHECKS: &[CheckSpec] = &[
    CheckSpec {
        id: "container.privileged",
        title: "Containers do not run privileged",
        severity: Severity::High,
        resource: ResourceKind::Container,
        mode: CheckMode::Automated,
        maps: &[(PCI, "2.2.5", P), (HIPAA, "164.312(a)(1)", P)],
    },
    CheckSpec {
        id: "container.user",
        title: "Containers run as a non-root user",
        severity: Severity::Medium,
        resource: ResourceKind::Container,
        mode: CheckMode::Automated,
        maps: &[(PCI, "2.2.6", P), (HIPAA, "164.312(a)(1)", P)],
    },
    CheckSpec {
        id: "daemon.icc",
        title: "Inter-container traffic is restricted",
        severity: Severity::Medium,
        resource: ResourceKind::Daemon,
        mode: CheckMode::Automated,
        maps: &[(PCI, "2.2.5", S)],
    },
    CheckSpec {
        id: "daemon.tls-verify",
        title: "Remote API requires TLS client certificates",
        severity: Severity::Critical,
        resource: ResourceKind::Daemon,
        mode: CheckMode::Automated,
        maps: &[(HIPAA, "164.312(e)(1)", P)],
    },
    CheckSpec {
        id: "file.docker-sock",
        title: "docker.sock is owned by root:docker with mode 660",
        severity: Severity::High,
        resource: ResourceKind::File,
        mode: CheckMode::Automated,
        maps: &[(PCI, "7.2.1", P)],
    },
    CheckSpec {
        id: "host.audit-docker",
        title: "The Docker daemon is audited",
        severity: Severity::Medium,
        resource: ResourceKind::Host,
        mode: CheckMode::Automated,
        maps: &[
            (PCI, "10.2.1", P),
            (HIPAA, "164.312(b)", P),
            (HIPAA, "164.308(a)(1)(ii)(D)", S),
        ],
    },
    CheckSpec {
        id: "host.docker-group",
        title: "Docker group membership is reviewed",
        severity: Severity::Info,
        resource: ResourceKind::Host,
        mode: CheckMode::Manual,
        maps: &[(PCI, "7.2.1", S)],
    },
    CheckSpec {
        id: "image.trusted-registry",
        title: "Images come from trusted registries",
        severity: Severity::Low,
        resource: ResourceKind::Image,
        mode: CheckMode::Automated,
        maps: &[(HIPAA, "164.312(c)(1)", P)],
    },
    CheckSpec {
        id: "swarm.autolock",
        title: "Swarm manager auto-lock is enabled",
        severity: Severity::Medium,
        resource: ResourceKind::Swarm,
        mode: CheckMode::Automated,
        maps: &[(PCI, "3.6.1", P)],
    },
];

fn res(kind: ResourceKind, id: &str, name: &str) -> ResourceRef {
    ResourceRef {
        kind,
        id: id.into(),
        name: name.into(),
    }
}

fn result(
    check: &CheckInfo,
    resource: ResourceRef,
    status: Status,
    message: Option<&str>,
    evidence: Vec<(&str, Value)>,
) -> CheckResult {
    CheckResult {
        check_id: check.id.clone(),
        severity: check.severity,
        fingerprint: format!("{}/{}/{}", check.id, resource.kind.as_str(), resource.name),
        resource,
        status,
        message: message.map(str::to_string),
        evidence: evidence
            .into_iter()
            .map(|(label, value)| Evidence {
                label: label.into(),
                value,
            })
            .collect(),
        source: "engine.containers[0]".into(),
        observed_at: at(5),
        waiver: None,
    }
}

/// The fixture: see the module documentation.
pub(crate) fn sample_assessment() -> Assessment {
    use ResourceKind as K;
    use Status::*;
    let checks: Vec<CheckInfo> = CHECKS.iter().map(check).collect();
    let c = |i: usize| &checks[i];
    let web = || res(K::Container, "3f2a9c0d1e4b", "web");
    let evil = || res(K::Container, "9b8c7d6e5f4a", EVIL_NAME);
    let db = || res(K::Container, "0a1b2c3d4e5f", "db");
    let daemon = || res(K::Daemon, "engine", "dockerd");
    let host = || res(K::Host, "host", "docker-prod-01");
    let results = vec![
        result(
            c(0),
            web(),
            Fail,
            None,
            vec![("HostConfig.Privileged", json!(true))],
        ),
        result(
            c(0),
            evil(),
            Fail,
            Some(EVIL_NAME),
            vec![
                ("HostConfig.Privileged", json!(true)),
                ("Labels", json!({"note": EVIL_VALUE})),
            ],
        ),
        result(
            c(0),
            db(),
            Pass,
            None,
            vec![("HostConfig.Privileged", json!(false))],
        ),
        result(
            c(1),
            web(),
            NotApplicable,
            Some("container is stopped"),
            vec![],
        ),
        result(
            c(1),
            evil(),
            Pass,
            None,
            vec![("Config.User", json!("1000:1000"))],
        ),
        result(
            c(1),
            db(),
            Pass,
            None,
            vec![("Config.User", json!("postgres"))],
        ),
        result(
            c(2),
            daemon(),
            Fail,
            None,
            vec![("icc", json!(true)), ("daemon.json", Value::Null)],
        ),
        result(c(3), daemon(), Pass, None, vec![("tlsverify", json!(true))]),
        result(
            c(4),
            res(K::File, "/var/run/docker.sock", "/var/run/docker.sock"),
            Pass,
            None,
            vec![("mode", json!("0660")), ("owner", json!("root:docker"))],
        ),
        result(
            c(5),
            host(),
            Error,
            Some("evidence missing: host:/etc/audit/audit.rules could not be read"),
            vec![("audit rules", Value::Null)],
        ),
        result(
            c(6),
            host(),
            Manual,
            Some("Review the members of the docker group."),
            vec![("members", json!(["alice", "deploy"]))],
        ),
        result(
            c(7),
            res(K::Image, "sha256:4e1b", "nginx:1.25"),
            Fail,
            None,
            vec![("registry", json!("docker.io"))],
        ),
        result(
            c(7),
            res(K::Image, "sha256:77aa", "postgres:16"),
            Pass,
            None,
            vec![("registry", json!("registry.example.com"))],
        ),
        result(
            c(8),
            res(K::Swarm, "swarm", "this node"),
            NotApplicable,
            Some("swarm mode is inactive"),
            vec![],
        ),
    ];
    let pci = framework((PCI, "PCI DSS", "4.0.1"), PCI_REQS, &results);
    let hipaa = framework(
        (HIPAA, "HIPAA Security Rule", "45 CFR 164 Subpart C"),
        HIPAA_REQS,
        &results,
    );
    let mut summary = Summary {
        total: results.len(),
        ..Summary::default()
    };
    for r in &results {
        *summary.by_status.entry(r.status).or_default() += 1;
        if r.status == Fail {
            *summary.failed_by_severity.entry(r.severity).or_default() += 1;
        }
    }
    let mut a = Assessment {
        schema_version: SCHEMA_VERSION,
        tool: tool(),
        generated_at: at(30),
        snapshot: SnapshotRef {
            sha256: "5d41402abc4b2a76b9719d911017c592ae2f9c5e8a8b1f0f0a0e7e2b3c4d5e6f".into(),
            schema_version: 1,
            collected_by: tool(),
            collected_from: at(0),
            collected_until: at(12),
            include_stopped: true,
            host_root: "/host".into(),
            target: Target {
                docker_host: "unix:///var/run/docker.sock".into(),
                hostname: Some("docker-prod-01".into()),
                engine_version: Some("27.3.1".into()),
                api_version: Some("1.47".into()),
                os: Some("Debian GNU/Linux 12 (bookworm)".into()),
                kernel: Some("6.1.0-28-amd64".into()),
                architecture: Some("x86_64".into()),
                engine_id: Some("ABCD:EFGH:IJKL".into()),
                ..Target::default()
            },
            gaps: vec![Gap {
                source: "host:/etc/audit/audit.rules".into(),
                error: "Permission denied (os error 13) <b>".into(),
            }],
            inventory: BTreeMap::from([
                ("containers".to_string(), 3),
                ("images".to_string(), 2),
                ("networks".to_string(), 4),
                ("volumes".to_string(), 1),
            ]),
        },
        catalog: CatalogRef {
            sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
            sources: vec![
                "builtin:checks/container.yaml".into(),
                "builtin:frameworks/pci-dss-4.0.1.yaml".into(),
            ],
        },
        params: BTreeMap::from([(
            "trusted_registries".to_string(),
            json!(["registry.example.com"]),
        )]),
        checks,
        results,
        frameworks: vec![pci, hipaa],
        summary,
        waivers: Vec::new(),
        attestations: Vec::new(),
        trend: Vec::new(),
        images: None,
        selection: None,
        configuration: None,
        scope: None,
        provenance: None,
        top_risks: Vec::new(),
    };
    a.top_risks = a.compute_top_risks();
    a
}

/// The fixture with registers: the `nginx:1.25` registry failure waived (W-1, active), an
/// expired waiver (W-2), and PCI 2.2.1 attested as satisfied.
pub(crate) fn waived_assessment() -> Assessment {
    use crate::assessment::{
        AppliedAttestation, AttestationRecord, AttestationState, AttestedVerdict, Risk,
        WaiverRecord, WaiverScope, WaiverState,
    };
    let mut a = sample_assessment();
    let date = |s: &str| s.parse::<chrono::NaiveDate>().expect("date");
    let waived = a
        .results
        .iter_mut()
        .find(|r| r.resource.name == "nginx:1.25" && r.status == Status::Fail)
        .expect("the fixture has a failing nginx image");
    waived.waiver = Some("W-1".into());
    let fingerprint = waived.fingerprint.clone();
    let check_id = waived.check_id.clone();
    a.summary.waived = 1;
    let record = |id: &str, state, covered: Vec<String>| WaiverRecord {
        id: id.into(),
        check_id: check_id.clone(),
        scope: WaiverScope {
            image: Some("nginx:*".into()),
            ..WaiverScope::default()
        },
        justification: format!("Vendor image pending migration {EVIL_VALUE}"),
        approved_by: Some("Head of Platform".into()),
        granted: Some(date("2025-01-10")),
        expires: Some(date(if id == "W-1" {
            "2025-06-30"
        } else {
            "2025-02-01"
        })),
        risk: Some(Risk::Medium),
        ticket: Some("SEC-1042".into()),
        compensating_control: Some("Egress restricted to the vendor mirror".into()),
        source: "waivers.yaml:2".into(),
        state,
        covered: covered.len(),
        covered_fingerprints: covered,
    };
    a.waivers = vec![
        record("W-1", WaiverState::Active, vec![fingerprint]),
        record("W-2", WaiverState::Expired, vec![]),
    ];
    let attestation = AttestationRecord {
        framework: PCI.into(),
        requirement: "2.2.1".into(),
        verdict: AttestedVerdict::InPlace,
        attested_by: "Dana Reviewer, QSA".into(),
        date: date("2025-03-01"),
        evidence: "Configuration Standard CS-7 rev 4".into(),
        expires: Some(date("2026-03-01")),
        notes: None,
        source: "attestations.yaml:2".into(),
        state: AttestationState::Applied,
    };
    if let Some(req) = a
        .frameworks
        .iter_mut()
        .find(|f| f.id == PCI)
        .and_then(|f| f.requirements.iter_mut().find(|r| r.id == "2.2.1"))
    {
        req.state = attestation.verdict.state();
        req.attestation = Some(AppliedAttestation {
            verdict: attestation.verdict,
            attested_by: attestation.attested_by.clone(),
            date: attestation.date,
            evidence: attestation.evidence.clone(),
        });
    }
    a.attestations = vec![attestation];
    for f in &mut a.frameworks {
        f.recount();
    }
    a
}
