use super::*;
use crate::assessment::RequirementStatus;
use crate::snapshot::{Collection, DaemonJson, DockerdProcess, Engine, Gap, HostFacts, Target};
use serde_json::json;
use std::fs;

fn snapshot(containers: Vec<Value>) -> Snapshot {
    let t = "2026-01-02T03:04:05Z".parse().unwrap();
    Snapshot {
        schema_version: crate::snapshot::SCHEMA_VERSION,
        tool: ToolInfo::current(),
        collection: Collection {
            started_at: t,
            finished_at: t,
            include_stopped: true,
            host_root: "/".into(),
        },
        target: Target {
            docker_host: "unix:///var/run/docker.sock".into(),
            hostname: Some("h1".into()),
            ..Target::default()
        },
        engine: Engine {
            info: Some(json!({"Swarm": {"LocalNodeState": "inactive"}})),
            containers,
            ..Engine::default()
        },
        host: HostFacts {
            daemon_json: Some(DaemonJson {
                path: "/etc/docker/daemon.json".into(),
                exists: true,
                content: Some(json!({"icc": false})),
                parse_error: None,
            }),
            dockerd: Some(DockerdProcess {
                pid: 1,
                args: vec!["dockerd".into(), "--live-restore".into()],
            }),
            ..HostFacts::default()
        },
        gaps: vec![],
    }
}

const CATALOG: &[(&str, &str)] = &[
    (
        "params.yaml",
        "params:\n  allowed:\n    type: list\n    default: [AUDIT_WRITE]\n    description: d\n",
    ),
    (
        "checks/c.yaml",
        r#"checks:
  - id: container.privileged
    title: t
    description: d
    rationale: r
    severity: critical
    resource: container
    applies_if: resource.Name != "/skipped"
    rule: "!resource.HostConfig.Privileged"
    expectation: e
    evidence:
      Privileged: resource.HostConfig.Privileged
    remediation: m
  - id: container.caps
    title: t
    description: d
    rationale: r
    severity: high
    resource: container
    rule: resource.HostConfig.CapAdd.all(c, c in params.allowed)
    expectation: e
    evidence:
      CapAdd: resource.HostConfig.CapAdd
    remediation: m
    params: [allowed]
  - id: daemon.live-restore
    title: t
    description: d
    rationale: r
    severity: low
    resource: daemon
    rule: '!resource.settings.icc && resource.settings["live-restore"]'
    expectation: e
    evidence:
      icc: resource.settings.icc
    remediation: m
  - id: file.daemon-json
    title: t
    description: d
    rationale: r
    severity: low
    resource: file
    rule: modeAtMost(resource.mode, "644")
    expectation: e
    remediation: m
  - id: host.hardened
    title: t
    description: d
    rationale: r
    severity: info
    resource: host
    mode: manual
    prompt: Look at the host.
    expectation: e
    remediation: m
"#,
    ),
    (
        "frameworks/fw.yaml",
        r#"framework: {id: fw, name: F, version: "1", publisher: P, description: d}
requirements:
  - {id: "1", title: t, mode: automated, checks: [container.privileged]}
  - {id: "2", title: t, mode: partial, checks: [daemon.live-restore], prompt: p}
  - {id: "3", title: t, mode: manual, checks: [host.hardened], supporting: [container.caps, file.daemon-json], prompt: p}
"#,
    ),
];

fn catalog() -> Catalog {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in CATALOG {
        let p = dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    Catalog::load_dir_only(dir.path()).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Snapshot) -> Assessment {
    let c = catalog();
    let params = c.resolve_params(&[]).unwrap();
    let opts = EvaluateOptions {
        frameworks: vec![],
        params,
        now: s.collection.finished_at,
    };
    evaluate(s, "abc", &c, &opts).unwrap()
}

fn verdicts(a: &Assessment, check: &str) -> Vec<(String, Status)> {
    a.results
        .iter()
        .filter(|r| r.check_id == check)
        .map(|r| (r.resource.name.clone(), r.status))
        .collect()
}

#[test]
fn each_container_gets_its_own_verdict() {
    let a = run(&snapshot(vec![
        json!({"Id": "1", "Name": "/bad", "HostConfig": {"Privileged": true, "CapAdd": ["SYS_ADMIN"]}}),
        json!({"Id": "2", "Name": "/good", "HostConfig": {"Privileged": false, "CapAdd": ["AUDIT_WRITE"]}}),
        json!({"Id": "3", "Name": "/skipped", "HostConfig": {"Privileged": true}}),
        json!({"Id": "4", "Name": "/broken"}),
    ]));
    assert_eq!(
        verdicts(&a, "container.privileged"),
        vec![
            ("bad".into(), Status::Fail),
            ("good".into(), Status::Pass),
            ("skipped".into(), Status::NotApplicable),
            ("broken".into(), Status::Error),
        ]
    );
    let bad = &a.results[0];
    assert_eq!(bad.evidence[0].label, "Privileged");
    assert_eq!(bad.evidence[0].value, json!(true));
    assert_eq!(bad.source, "engine.containers[0]");
    let broken = a
        .results
        .iter()
        .find(|r| r.resource.name == "broken")
        .unwrap();
    assert_eq!(
        broken.message.as_deref(),
        Some("rule could not be evaluated: data missing: no field `HostConfig`")
    );
    assert!(broken.evidence[0]
        .value
        .as_str()
        .unwrap()
        .starts_with("(not available:"));
    // The framework requirement decided by the privileged check is not satisfied.
    assert_eq!(
        a.frameworks[0].requirements[0].status,
        RequirementStatus::NotSatisfied
    );
    assert_eq!(
        a.summary.failed_by_severity[&crate::assessment::Severity::Critical],
        1
    );
}

#[test]
fn missing_data_is_an_error_never_a_pass() {
    // A container whose CapAdd is absent: the `all` over a missing list must not pass.
    let a = run(&snapshot(vec![
        json!({"Id": "1", "Name": "/c", "HostConfig": {"Privileged": false}}),
    ]));
    assert_eq!(
        verdicts(&a, "container.caps"),
        vec![("c".into(), Status::Error)]
    );

    // Without the dockerd command line the daemon settings are unknown.
    let mut s = snapshot(vec![]);
    s.host.dockerd = None;
    let a = run(&s);
    assert_eq!(verdicts(&a, "daemon.live-restore")[0].1, Status::Error);
    assert_eq!(
        a.frameworks[0].requirements[1].status,
        RequirementStatus::Error
    );
}

#[test]
fn daemon_settings_merge_file_and_flags() {
    let a = run(&snapshot(vec![]));
    assert_eq!(verdicts(&a, "daemon.live-restore")[0].1, Status::Pass);
    assert_eq!(
        a.frameworks[0].requirements[1].status,
        RequirementStatus::Partial
    );
    assert_eq!(
        a.frameworks[0].requirements[2].status,
        RequirementStatus::Manual
    );
}

#[test]
fn a_daemon_error_names_the_gaps_behind_the_daemon_view() {
    let mut s = snapshot(vec![]);
    if let Some(d) = s.host.daemon_json.as_mut() {
        d.content = None;
        d.parse_error = Some("line 1 column 2: trailing comma".into());
    }
    s.gaps = vec![
        Gap {
            source: "host:/etc/docker/daemon.json".into(),
            error: "invalid JSON: line 1 column 2: trailing comma".into(),
        },
        // Not behind the daemon view, so not named.
        Gap {
            source: "host:/etc/group".into(),
            error: "not a regular file but a FIFO; refusing to read it".into(),
        },
    ];
    let a = run(&s);
    let r = a
        .results
        .iter()
        .find(|r| r.check_id == "daemon.live-restore")
        .unwrap();
    assert_eq!(r.status, Status::Error);
    assert_eq!(
        r.message.as_deref(),
        Some(
            "rule could not be evaluated: data missing: no field `settings` (collection gaps: \
             host:/etc/docker/daemon.json: invalid JSON: line 1 column 2: trailing comma)"
        )
    );
}

#[test]
fn a_missing_listing_is_an_error_for_every_check_of_that_kind() {
    let mut s = snapshot(vec![]);
    s.gaps.push(Gap {
        source: "engine:/containers/json".into(),
        error: "500 Internal Server Error".into(),
    });
    let a = run(&s);
    let r: Vec<_> = a
        .results
        .iter()
        .filter(|r| r.check_id == "container.privileged")
        .collect();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].status, Status::Error);
    assert_eq!(
        r[0].message.as_deref(),
        Some("engine:/containers/json could not be listed: 500 Internal Server Error")
    );
    assert_eq!(
        a.frameworks[0].requirements[0].status,
        RequirementStatus::Error
    );
    // No host files collected at all: file checks are errors, not "nothing to check".
    assert_eq!(
        verdicts(&a, "file.daemon-json"),
        vec![("all files".into(), Status::Error)]
    );
}

#[test]
fn manual_checks_carry_their_prompt() {
    let a = run(&snapshot(vec![]));
    let r = a
        .results
        .iter()
        .find(|r| r.check_id == "host.hardened")
        .unwrap();
    assert_eq!(r.status, Status::Manual);
    assert_eq!(r.message.as_deref(), Some("Look at the host."));
}

#[test]
fn fingerprints_survive_container_recreation() {
    let a = run(&snapshot(vec![
        json!({"Id": "1", "Name": "/web", "Config": {"Image": "nginx"}, "HostConfig": {"Privileged": true}}),
    ]));
    let b = run(&snapshot(vec![
        json!({"Id": "2", "Name": "/web", "Config": {"Image": "nginx"}, "HostConfig": {"Privileged": true}}),
    ]));
    assert_eq!(a.results[0].fingerprint, b.results[0].fingerprint);
    assert_ne!(a.results[0].resource.id, b.results[0].resource.id);
}

#[test]
fn unknown_framework_is_refused() {
    let c = catalog();
    let opts = EvaluateOptions {
        frameworks: vec!["nope".into()],
        params: BTreeMap::new(),
        now: Utc::now(),
    };
    let err = evaluate(&snapshot(vec![]), "x", &c, &opts).unwrap_err();
    assert_eq!(err.to_string(), "unknown framework `nope`; available: fw");
}
