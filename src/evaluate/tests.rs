use super::*;
use crate::assessment::{AttestationState, RequirementState, WaiverState};
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
            image_inventory: None,
            account: None,
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
        inventories: vec![],
        profile: None,
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
        ..Default::default()
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
    // The framework requirement decided by the privileged check is not in place.
    assert_eq!(
        a.frameworks[0].requirements[0].state,
        RequirementState::NotInPlace
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
        a.frameworks[0].requirements[1].state,
        RequirementState::Incomplete
    );
}

#[test]
fn daemon_settings_merge_file_and_flags() {
    let a = run(&snapshot(vec![]));
    assert_eq!(verdicts(&a, "daemon.live-restore")[0].1, Status::Pass);
    // A partial requirement whose technical half passed still awaits manual evidence.
    let partial = &a.frameworks[0].requirements[1];
    assert_eq!(partial.state, RequirementState::AwaitingManualEvidence);
    assert_eq!(partial.technical, crate::assessment::Technical::Consistent);
    assert_eq!(
        a.frameworks[0].requirements[2].state,
        RequirementState::AwaitingManualEvidence
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
        a.frameworks[0].requirements[0].state,
        RequirementState::Incomplete
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
        ..Default::default()
    };
    let err = evaluate(&snapshot(vec![]), "x", &c, &opts).unwrap_err();
    assert_eq!(err.to_string(), "unknown framework `nope`; available: fw");
}

/// Two privileged containers, one of them labelled, evaluated with `waivers` and
/// `attestations` (YAML texts) on the snapshot's date, 2026-01-02.
fn run_with(waivers: &str, attestations: &str) -> Assessment {
    let s = snapshot(vec![
        json!({"Id": "1", "Name": "/web-1", "Config": {"Image": "nginx:1.27", "Labels": {"team": "edge"}},
               "HostConfig": {"Privileged": true, "CapAdd": []}}),
        json!({"Id": "2", "Name": "/db", "Config": {"Image": "postgres:16", "Labels": {}},
               "HostConfig": {"Privileged": true, "CapAdd": []}}),
    ]);
    let c = catalog();
    let opts = EvaluateOptions {
        params: c.resolve_params(&[]).unwrap(),
        now: s.collection.finished_at,
        waivers: if waivers.is_empty() {
            vec![]
        } else {
            parse_waivers(waivers, "w.yaml", &c).unwrap_or_else(|e| panic!("{e}"))
        },
        attestations: if attestations.is_empty() {
            vec![]
        } else {
            parse_attestations(attestations, "a.yaml", &c).unwrap_or_else(|e| panic!("{e}"))
        },
        ..Default::default()
    };
    evaluate(&s, "abc", &c, &opts).unwrap()
}

const WAIVE_WEB: &str = "waivers:
  - id: W-7
    check: container.privileged
    scope: {container: 'web-*', labels: {team: edge}, image: 'nginx:*', host: h1}
    justification: Needs raw sockets until the rewrite ships.
    approved_by: CISO
    granted: 2025-12-01
    expires: 2026-01-02
    risk: medium
";

#[test]
fn a_waiver_covers_only_the_failures_in_its_scope_and_keeps_the_verdict() {
    let a = run_with(WAIVE_WEB, "");
    let waived: Vec<_> = a
        .results
        .iter()
        .filter(|r| r.check_id == "container.privileged")
        .map(|r| (r.resource.name.as_str(), r.status, r.shown_status()))
        .collect();
    assert_eq!(
        waived,
        vec![
            ("web-1", Status::Fail, "waived"),
            ("db", Status::Fail, "fail")
        ]
    );
    assert_eq!(a.results[0].waiver.as_deref(), Some("W-7"));
    assert_eq!(a.summary.waived, 1);
    assert_eq!(a.waivers[0].state, WaiverState::Active);
    assert_eq!(a.waivers[0].covered, 1);
    assert_eq!(a.waivers[0].source, "w.yaml:2");
    // db still fails unwaived, so the requirement stays not in place (not risk accepted).
    assert_eq!(a.frameworks[0].requirements[0].waived, 1);
    assert_eq!(
        a.frameworks[0].requirements[0].state,
        RequirementState::NotInPlace
    );
    assert_eq!(
        a.frameworks[0].requirements[0].waivers,
        vec![a.waivers[0].id.clone()]
    );
    assert!(a.has_failures_at_or_above(crate::assessment::Severity::Critical));
}

#[test]
fn when_every_failure_is_waived_the_risk_is_accepted_not_in_place_and_fail_on_is_quiet() {
    let all = WAIVE_WEB.replace(
        "{container: 'web-*', labels: {team: edge}, image: 'nginx:*', host: h1}",
        "{host: 'h*'}",
    );
    let a = run_with(&all, "");
    let req = &a.frameworks[0].requirements[0];
    assert_eq!(req.waived, 2);
    assert_eq!(req.state, RequirementState::RiskAccepted);
    let fw = &a.frameworks[0];
    // Counted as not in place, never as consistent with in place.
    assert_eq!(fw.figures.not_in_place, 1);
    assert_eq!(fw.figures.risk_accepted, 1);
    assert_eq!(req.technical, crate::assessment::Technical::RiskAccepted);
    let note = a.waiver_note(req).expect("note");
    let expected = format!(
        "2 failure(s) waived: risk accepted under waiver {} (expires 2026-01-02)",
        a.waivers[0].id
    );
    assert_eq!(note, expected);
    assert!(!a.has_failures_at_or_above(crate::assessment::Severity::Low));
}

#[test]
fn expired_future_and_unmatched_waivers_cover_nothing_and_say_so() {
    let expired = WAIVE_WEB.replace("expires: 2026-01-02", "expires: 2026-01-01");
    let a = run_with(&expired, "");
    assert_eq!(a.waivers[0].state, WaiverState::Expired);
    assert_eq!(a.summary.waived, 0);
    assert!(a.results.iter().all(|r| r.waiver.is_none()));

    let future = WAIVE_WEB
        .replace("granted: 2025-12-01", "granted: 2026-01-03")
        .replace("expires: 2026-01-02", "expires: 2026-02-01");
    assert_eq!(
        run_with(&future, "").waivers[0].state,
        WaiverState::NotYetValid
    );

    let elsewhere = WAIVE_WEB.replace("team: edge", "team: payments");
    let a = run_with(&elsewhere, "");
    assert_eq!(a.waivers[0].state, WaiverState::Unused);
    assert_eq!(a.waivers[0].covered, 0);
}

#[test]
fn waiver_files_are_checked_against_the_catalog_with_lines() {
    let c = catalog();
    let text = "waivers:
  - check: container.privileged
    justification: ok
  - check: container.privilegd
    justification: typo
  - check: daemon.live-restore
    scope: {labels: {a: b}}
    justification: labels on a daemon
  - check: container.caps
    justification: '  '
    granted: 2026-02-01
    expires: 2026-01-01
";
    let err = parse_waivers(text, "w.yaml", &c).unwrap_err();
    let got: Vec<String> = err.0.iter().map(|p| p.to_string()).collect();
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(got[0].starts_with("w.yaml:4: unknown check `container.privilegd`"));
    assert!(got[1].starts_with("w.yaml:6: `scope.labels` cannot match"));
    assert!(got[2].starts_with("w.yaml:9: `justification` is empty"));
    assert!(got[3].starts_with("w.yaml:9: `expires` (2026-01-01) is before"));
    let ok = parse_waivers(
        "waivers:\n- check: container.caps\n  justification: x\n",
        "w",
        &c,
    )
    .unwrap();
    assert_eq!(ok[0].id, "W-1");
}

const ATTEST: &str = "attestations:
  - requirement: '3'
    verdict: satisfied
    attested_by: J. Auditor
    date: 2025-11-30
    evidence: Hardening standard v3, section 2
    expires: 2026-11-30
  - framework: fw
    requirement: '2'
    verdict: satisfied
    attested_by: J. Auditor
    date: 2025-11-30
    evidence: https://intranet.example/ops/runbook
  - requirement: '1'
    verdict: satisfied
    attested_by: Someone Hopeful
    date: 2025-11-30
    evidence: a slide deck
";

#[test]
fn attestations_decide_manual_and_partial_requirements_but_never_override_a_failure() {
    let a = run_with("", ATTEST);
    let reqs = &a.frameworks[0].requirements;
    assert_eq!(reqs[2].state, RequirementState::AttestedInPlace);
    assert_eq!(
        reqs[2].attestation.as_ref().unwrap().attested_by,
        "J. Auditor"
    );
    assert_eq!(
        reqs[1].state,
        RequirementState::AttestedInPlace,
        "{:?}",
        reqs[1]
    );
    assert_eq!(reqs[0].state, RequirementState::NotInPlace);
    assert!(reqs[0].attestation.is_none());
    let states: Vec<_> = a.attestations.iter().map(|r| r.state).collect();
    assert_eq!(
        states,
        vec![
            AttestationState::Applied,
            AttestationState::Applied,
            AttestationState::Overridden
        ]
    );
    assert_eq!(
        a.frameworks[0].counts[&RequirementState::AttestedInPlace],
        2
    );
    assert_eq!(a.frameworks[0].figures.attested, 2);
    assert_eq!(a.attestations[1].source, "a.yaml:8");
}

#[test]
fn an_expired_attestation_leaves_the_requirement_manual() {
    let a = run_with(
        "",
        &ATTEST.replace("expires: 2026-11-30", "expires: 2025-12-31"),
    );
    assert_eq!(a.attestations[0].state, AttestationState::Expired);
    assert_eq!(
        a.frameworks[0].requirements[2].state,
        RequirementState::AwaitingManualEvidence
    );
}

#[test]
fn attestation_files_name_unknown_requirements_by_line() {
    let c = catalog();
    let text = "attestations:
  - requirement: '9.9'
    verdict: satisfied
    attested_by: x
    date: 2026-01-01
    evidence: doc
  - framework: nope
    requirement: '1'
    verdict: maybe
    attested_by: x
    date: 2026-01-01
    evidence: doc
";
    let err = parse_attestations(text, "a.yaml", &c).unwrap_err();
    let got: Vec<String> = err.0.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got[0], "a.yaml:2: no framework has a requirement `9.9`",
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("a.yaml:7: entry 2: unknown variant `maybe`"),
        "{got:#?}"
    );
}

#[test]
fn a_host_with_nothing_of_the_deciding_kind_is_not_applicable_per_evidence() {
    // No container at all: the container check decides nothing, so the automated requirement
    // it decides does not apply (for the assessor to confirm); it does not await manual evidence.
    let a = run(&snapshot(vec![]));
    let req = &a.frameworks[0].requirements[0];
    assert!(verdicts(&a, "container.privileged").is_empty());
    assert_eq!(req.technical, crate::assessment::Technical::NotApplicable);
    assert_eq!(req.state, RequirementState::NotApplicablePerEvidence);
}

fn run_selected(s: &Snapshot, filters: &[&str], skip: &[&str]) -> Assessment {
    let c = catalog();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let opts = EvaluateOptions {
        params: c.resolve_params(&[]).unwrap(),
        now: s.collection.finished_at,
        selection: Selection::new(&[], &strings(skip), &strings(filters), &c).unwrap(),
        ..Default::default()
    };
    evaluate(s, "abc", &c, &opts).unwrap()
}

#[test]
fn a_selection_never_turns_a_requirement_in_place_and_a_kept_failure_still_decides() {
    let containers = || {
        snapshot(vec![
            json!({"Id": "1", "Name": "/bad", "HostConfig": {"Privileged": true}}),
            json!({"Id": "2", "Name": "/good", "HostConfig": {"Privileged": false}}),
            json!({"Id": "3", "Name": "/broken"}),
        ])
    };
    let state = |a: &Assessment| a.frameworks[0].requirements[0].state;
    let cases: [(&[&str], &[&str], RequirementState); 5] = [
        (&[], &[], RequirementState::NotInPlace),
        // Only the passing container kept: not assessed, not consistent with in place.
        (&["name=good"], &[], RequirementState::ExcludedBySelection),
        // The error kept too: the exclusion is what the report says first.
        (
            &["name=good", "name=broken"],
            &[],
            RequirementState::ExcludedBySelection,
        ),
        // The failure kept: it decides.
        (&["name=bad"], &[], RequirementState::NotInPlace),
        (
            &[],
            &["container.privileged"],
            RequirementState::ExcludedBySelection,
        ),
    ];
    for (filters, skip, want) in cases {
        let a = run_selected(&containers(), filters, skip);
        assert_eq!(state(&a), want, "--filter {filters:?} --skip {skip:?}");
        if want == RequirementState::ExcludedBySelection {
            let q = &a.frameworks[0].requirements[0];
            assert_eq!(q.excluded_by_selection, ["container.privileged"]);
            assert_eq!(a.frameworks[0].figures.excluded_by_selection, 1);
            assert_eq!(
                q.technical,
                crate::assessment::Technical::ExcludedBySelection
            );
        }
    }
    let a = run_selected(&containers(), &["name=good"], &[]);
    let left_out: Vec<(&str, &str)> = (a.selection.as_ref().unwrap().excluded_resources.iter())
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    assert_eq!(left_out, [("1", "bad"), ("3", "broken")]);
    // A filter that leaves nothing out narrows nothing.
    let a = run_selected(&snapshot(vec![]), &["name=x"], &[]);
    assert_eq!(state(&a), RequirementState::NotApplicablePerEvidence);
    assert!(a.selection.as_ref().unwrap().excluded_resources.is_empty());
}
