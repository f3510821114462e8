//! Selection end to end: `--check`, `--skip` and `--filter` on the real binary.
//!
//! - A filter or skip never launders a failure: the insecure sample's privileged container,
//!   filtered out, leaves CIS 5.5 "excluded by selection", never consistent with in place.
//! - A pattern naming no check, or a malformed filter, is exit 2 before the engine is contacted.
//! - Container filters keep exactly the containers `docker ps --filter` keeps, on the real
//!   engine, with labelled containers made for the purpose.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{docker_ok, dockproof, engine_available, ensure_image, run_to_bundle, Containers};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn sample() -> String {
    format!("{ROOT}/samples/insecure-host.snapshot.json")
}

fn report(snapshot: &str, extra: &[&str]) -> common::Scan {
    let mut args = vec!["report", snapshot, "--format", "json"];
    args.extend(extra);
    let scan = run_to_bundle(&args);
    assert!(
        scan.output.status.success(),
        "{}",
        common::stderr(&scan.output)
    );
    scan
}

/// The state of a requirement of a framework.
fn state(scan: &common::Scan, framework: &str, requirement: &str) -> String {
    scan.assessment["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == framework))
        .and_then(|f| f["requirements"].as_array())
        .and_then(|r| r.iter().find(|r| r["id"] == requirement))
        .and_then(|r| r["state"].as_str())
        .unwrap_or_else(|| panic!("no {framework} {requirement}"))
        .to_string()
}

/// Every requirement deciding on `check`, with its state.
fn deciding_states(scan: &common::Scan, check: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in scan.assessment["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for r in f["requirements"].as_array().into_iter().flatten() {
            if r["checks"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == check))
            {
                out.push((
                    format!(
                        "{} {}",
                        f["id"].as_str().unwrap_or(""),
                        r["id"].as_str().unwrap_or("")
                    ),
                    r["state"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    assert!(!out.is_empty(), "no requirement decided by {check}");
    out
}

#[test]
fn filtering_out_a_failing_container_does_not_make_the_requirement_in_place() {
    let all = report(&sample(), &[]);
    assert_eq!(state(&all, "cis-docker-1.6", "5.5"), "not_in_place");
    assert!(all.assessment.get("selection").is_none());

    let narrowed = report(&sample(), &["--filter", "name=web-frontend"]);
    for (req, s) in deciding_states(&narrowed, "container.privileged") {
        assert_ne!(s, "consistent_with_in_place", "{req}");
    }
    assert_eq!(
        state(&narrowed, "cis-docker-1.6", "5.5"),
        "excluded_by_selection"
    );
    let selection = &narrowed.assessment["selection"];
    assert_eq!(
        selection["filters"],
        serde_json::json!(["name=web-frontend"])
    );
    let left_out: BTreeSet<(String, String)> = selection["excluded_resources"]
        .as_array()
        .expect("excluded_resources")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().into(),
                r["id"].as_str().unwrap()[..12].into(),
            )
        })
        .collect();
    assert!(
        left_out.contains(&("legacy-admin".to_string(), "9b7538b21b13".to_string())),
        "{left_out:?}"
    );
    assert_eq!(left_out.len(), 3, "{left_out:?}");
    assert!(narrowed
        .verdict("container.privileged", "legacy-admin")
        .is_none());
    assert_eq!(
        narrowed
            .verdict("container.privileged", "web-frontend")
            .as_deref(),
        Some("pass")
    );

    // Comparing with a narrowed scan warns that its changes may be only what it left out.
    let d = dockproof(&[
        "diff",
        all.bundle.to_str().unwrap(),
        narrowed.bundle.to_str().unwrap(),
    ]);
    let err = common::stderr(&d);
    assert!(
        err.contains("was narrowed by a selection") && err.contains("name=web-frontend"),
        "{err}"
    );

    // A failure the selection did keep still decides.
    let kept = report(&sample(), &["--filter", "name=legacy"]);
    assert_eq!(state(&kept, "cis-docker-1.6", "5.5"), "not_in_place");
}

#[test]
fn a_skipped_check_leaves_its_requirements_not_assessed() {
    let skipped = report(
        &sample(),
        &["--skip", "container.privileged,container.host-pid"],
    );
    assert_eq!(
        state(&skipped, "cis-docker-1.6", "5.5"),
        "excluded_by_selection"
    );
    assert!(skipped
        .results()
        .all(|r| r["check_id"] != "container.privileged"));
    let listed = &skipped.assessment["selection"]["skipped_checks"];
    assert_eq!(
        listed,
        &serde_json::json!(["container.host-pid", "container.privileged"])
    );
    let cis = skipped.assessment["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "cis-docker-1.6"))
        .expect("CIS");
    assert!(cis["figures"]["excluded_by_selection"].as_u64().unwrap() >= 2);

    // Only CIS 5.5 (by number): every other automated requirement is not assessed either.
    let only = report(&sample(), &["--check", "5.5"]);
    let checks: BTreeSet<&str> = only
        .results()
        .filter_map(|r| r["check_id"].as_str())
        .collect();
    assert_eq!(checks, BTreeSet::from(["container.privileged"]));
    assert_eq!(state(&only, "cis-docker-1.6", "5.5"), "not_in_place");
    assert_eq!(
        state(&only, "cis-docker-1.6", "5.16"),
        "excluded_by_selection"
    );
}

#[test]
fn bad_selections_are_refused_before_the_engine_is_contacted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("bundle");
    let out = out.to_str().unwrap();
    // Port 9 on localhost answers nothing: reaching the engine would be exit 3.
    let cases: [(&[&str], &str); 5] = [
        (
            &["--check", "container.no-such-check"],
            "container.no-such-check",
        ),
        (&["--skip", "99.*"], "99.*"),
        (
            &["--filter", "status=running"],
            "unknown filter key `status`",
        ),
        (&["--filter", "name"], "expected KEY=VALUE"),
        (&["--filter", "name=web("], "not a regular expression"),
    ];
    for (flags, says) in cases {
        let mut args = vec!["scan", "--docker-host", "tcp://127.0.0.1:9", "--out", out];
        args.extend(flags);
        let o = dockproof(&args);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(says), "{flags:?}: {err}");
        assert!(!Path::new(out).exists(), "{flags:?} wrote a bundle");
    }
}

/// The container ids a report judged, from its container results.
fn judged(scan: &common::Scan) -> BTreeSet<String> {
    scan.results()
        .filter(|r| r["resource"]["kind"] == "container")
        .filter_map(|r| r["resource"]["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn container_filters_keep_what_docker_ps_keeps() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut set = Containers::new("sel");
    // A label of this run only, so that containers of tests running beside it stay out.
    let run = format!("dockproof.selection={}", std::process::id());
    let web = set.run("web", &["--label", &run, "--label", "tier=front"], true);
    let api = set.run(
        "api",
        &["--label", &run, "--label", "tier=back", "--label", "empty="],
        true,
    );
    let job = set.run("job", &["--label", &run], false);
    let api_id = docker_ok(&["inspect", "--format", "{{.Id}}", &api]);

    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("snapshot.json");
    let snap = snapshot.to_str().unwrap();
    let o = dockproof(&[
        "collect",
        "--include-stopped",
        "--images",
        "none",
        "-o",
        snap,
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));

    let web_exact = format!("name=^/{web}$");
    let id_prefix = format!("id={}", &api_id[..10]);
    let cases: Vec<Vec<String>> = vec![
        vec![format!("name={}", set.prefix)],
        vec![web_exact.clone()],
        vec![web_exact, format!("name={job}")],
        vec!["name=-ap".into()],
        vec!["label=tier".into()],
        vec!["label=tier=back".into()],
        vec!["label=tier".into(), "label=empty=".into()],
        vec!["label=tier=front".into(), "label=tier=back".into()],
        vec![id_prefix.clone()],
        vec![id_prefix, "name=web".into()],
        vec!["label=tier".into(), "name=web".into()],
    ];
    let mut sizes = BTreeSet::new();
    for filters in cases {
        let mut ps = vec!["ps", "-a", "-q", "--no-trunc", "--filter"];
        let scope = format!("label={run}");
        ps.push(&scope);
        let mut args = vec!["--check", "container.privileged", "--filter", &scope];
        for f in &filters {
            ps.extend(["--filter", f]);
            args.extend(["--filter", f]);
        }
        let expected: BTreeSet<String> = docker_ok(&ps).lines().map(str::to_string).collect();
        let scan = report(snap, &args);
        assert_eq!(judged(&scan), expected, "--filter {filters:?}");
        sizes.insert(expected.len());
        // Everything else of the snapshot is listed as left out, none of what was judged.
        let left_out: BTreeSet<String> = scan.assessment["selection"]["excluded_resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(str::to_string))
            .collect();
        assert!(left_out.is_disjoint(&expected), "--filter {filters:?}");
        let all: Value = serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
        let total = all["engine"]["containers"].as_array().map_or(0, Vec::len);
        assert_eq!(
            left_out.len() + expected.len(),
            total,
            "--filter {filters:?}"
        );
    }
}

#[test]
fn names_of_left_out_containers_are_shown_never_obeyed() {
    // The sample with a container name that carries markup, a terminal escape and a bidi
    // override: it is left out, and every place that names it must neutralise it.
    let evil = "/evil\u{1b}[31m<b>x</b>--\u{202e}";
    let mut snap: Value =
        serde_json::from_slice(&std::fs::read(sample()).expect("sample")).expect("JSON");
    let containers = snap["engine"]["containers"]
        .as_array_mut()
        .expect("containers");
    let legacy = containers
        .iter_mut()
        .find(|c| c["Name"] == "/legacy-admin")
        .expect("legacy-admin");
    legacy["Name"] = Value::String(evil.into());
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("evil.json");
    std::fs::write(&path, serde_json::to_vec(&snap).unwrap()).unwrap();
    let scan = report(
        path.to_str().unwrap(),
        &["--filter", "name=web", "--format", "html,json,junit"],
    );
    let err = common::stderr(&scan.output);
    assert!(err.contains("left out: container evil"), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
    let html = scan.file("report.html");
    assert!(!html.contains("<b>x</b>"), "markup reached report.html");
    assert!(!html.contains('\u{1b}'));
    let junit = scan.file("junit.xml");
    let header: String = junit
        .lines()
        .take_while(|l| !l.starts_with("<testsuites"))
        .collect();
    assert!(header.contains("evil"), "{header}");
    assert!(
        !header.contains("<b>") && !header.contains('\u{1b}'),
        "{header:?}"
    );
    for comment in header.split("<!--").skip(1) {
        let body = comment.split("-->").next().unwrap_or_default();
        assert!(!body.contains("--"), "`--` inside an XML comment: {body}");
    }
}
