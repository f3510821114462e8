//! End-to-end tests of `dockproof diff`: the real binary on bundles of the bundled samples, on
//! two real scans of the local engine taken before and after changing containers, and on every
//! kind of bad input.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

use common::*;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);

/// Finding lists of the diff document, each entry with the same shape.
const FINDING_LISTS: [&str; 7] = [
    "newly_failing",
    "still_failing",
    "newly_passing",
    "no_longer_failing",
    "new_errors",
    "still_error",
    "errors_resolved",
];

/// Runs `dockproof diff OLD NEW --format json` and parses the document.
fn diff_json(old: &Path, new: &Path) -> Value {
    let out = dockproof(&["diff", &p(old), &p(new), "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("diff --format json prints JSON")
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// `(status_old, status_new)` of `check` on `name` in `list`, if listed there.
fn entry(d: &Value, list: &str, check: &str, name: &str) -> Option<(Value, Value)> {
    d["findings"][list]
        .as_array()?
        .iter()
        .find(|f| f["check_id"] == check && f["resource"]["name"] == name)
        .map(|f| (f["old_status"].clone(), f["new_status"].clone()))
}

/// Names of the resources of `kind` in `resources.<list>`, sorted.
fn resource_names(d: &Value, list: &str, kind: &str) -> Vec<String> {
    let mut v: Vec<String> = d["resources"][list]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == kind)
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

fn fails(a: &Value) -> usize {
    a["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == "fail")
        .count()
}

/// Every summary count equals its list's length.
fn assert_counts_consistent(d: &Value) {
    for list in FINDING_LISTS {
        assert_eq!(
            d["summary"][list],
            d["findings"][list].as_array().map_or(0, Vec::len),
            "{list}"
        );
    }
    for (count, list) in [
        ("resources_added", "added"),
        ("resources_removed", "removed"),
    ] {
        assert_eq!(
            d["summary"][count],
            d["resources"][list].as_array().map_or(0, Vec::len)
        );
    }
}

fn sample_bundles() -> (Scan, Scan) {
    let hardened = run_to_bundle(&["report", HARDENED, "--format", "json"]);
    let insecure = run_to_bundle(&["report", INSECURE, "--format", "json"]);
    (hardened, insecure)
}

#[test]
fn the_samples_diff_both_ways_with_exact_entries() {
    let (h, i) = sample_bundles();
    let worse = diff_json(&h.bundle, &i.bundle);
    let better = diff_json(&i.bundle.join("assessment.json"), &h.bundle);
    assert_counts_consistent(&worse);
    assert_counts_consistent(&better);

    let fail = || Value::from("fail");
    assert_eq!(
        entry(
            &worse,
            "newly_failing",
            "container.privileged",
            "legacy-admin"
        ),
        Some((Value::Null, fail()))
    );
    assert_eq!(
        entry(
            &worse,
            "newly_failing",
            "container.docker-socket",
            "ci-runner"
        ),
        Some((Value::Null, fail()))
    );
    assert_eq!(
        entry(
            &better,
            "no_longer_failing",
            "container.privileged",
            "legacy-admin"
        ),
        Some((fail(), Value::Null)),
        "a failure that disappears with its container is not a pass"
    );
    assert_eq!(better["summary"]["newly_passing"], 0);
    let insecure_names = [
        "ci-runner",
        "legacy-admin",
        "monitoring-agent",
        "web-frontend",
    ];
    let hardened_names = ["ledger-worker", "payments-api"];
    assert_eq!(resource_names(&worse, "added", "container"), insecure_names);
    assert_eq!(
        resource_names(&worse, "removed", "container"),
        hardened_names
    );
    assert_eq!(
        resource_names(&better, "added", "container"),
        hardened_names
    );
    assert_eq!(
        resource_names(&better, "removed", "container"),
        insecure_names
    );
    // Both networks and the image exist in both samples under the same names.
    assert!(resource_names(&worse, "added", "network").is_empty());

    // Every NEW failure is either newly or still failing; both directions agree on the overlap.
    let s = (&worse["summary"], &better["summary"]);
    let count = |v: &Value| v.as_u64().unwrap_or(u64::MAX) as usize;
    assert_eq!(
        count(&s.0["newly_failing"]) + count(&s.0["still_failing"]),
        fails(&i.assessment)
    );
    assert_eq!(
        count(&s.1["newly_failing"]) + count(&s.1["still_failing"]),
        fails(&h.assessment)
    );
    assert_eq!(s.0["still_failing"], s.1["still_failing"]);
    assert_eq!(
        worse["old"]["snapshot_sha256"],
        h.assessment["snapshot"]["sha256"]
    );
    assert_eq!(worse["new"]["generated_at"], i.assessment["generated_at"]);
    assert_eq!(worse["schema_version"], 2);

    let cis = worse["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "cis-docker-1.6"))
        .expect("CIS framework in the diff");
    let req = cis["requirements"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["id"] == "5.5"))
        .expect("CIS 5.5 (privileged) changed");
    assert_eq!(
        (&req["old_state"], &req["new_state"]),
        (&"consistent_with_in_place".into(), &"not_in_place".into())
    );
    let old_cis = h.assessment["frameworks"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == "cis-docker-1.6"))
        .expect("CIS framework in the hardened assessment");
    assert_eq!(cis["old_figures"], old_cis["figures"]);
    assert!(cis.get("old_score").is_none());
}

#[test]
fn text_html_and_the_exit_code_of_the_sample_diff() {
    let (h, i) = sample_bundles();
    let out = dockproof(&["diff", &p(&h.bundle), &p(&i.bundle)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\nNewly failing (48)\n"), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("container.privileged") && l.contains("legacy-admin"))
        .expect("a line for the privileged container");
    assert!(line.trim_start().starts_with("critical"), "{line}");
    assert!(line.ends_with("absent -> fail"), "{line}");
    assert!(!text.contains('\u{1b}'), "no colour codes");

    let html = h.dir.path().join("diff.html");
    let out = dockproof(&[
        "diff",
        &p(&h.bundle),
        &p(&i.bundle),
        "--format",
        "html",
        "--out",
        &p(&html),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "--out writes the file, not stdout");
    let page = std::fs::read_to_string(&html).expect("diff.html written");
    assert!(page.contains("legacy-admin") && !page.contains("src=\"http"));

    let gate = |old: &PathBuf, new: &PathBuf, sev: &str| {
        dockproof(&["diff", &p(old), &p(new), "--fail-on-new", sev])
            .status
            .code()
    };
    assert_eq!(gate(&h.bundle, &i.bundle, "critical"), Some(1));
    assert_eq!(
        gate(&i.bundle, &h.bundle, "medium"),
        Some(0),
        "only low findings are new"
    );
    assert_eq!(gate(&i.bundle, &h.bundle, "low"), Some(1));
    assert_eq!(gate(&h.bundle, &h.bundle, "info"), Some(0));
}

/// Container names cannot hold markup on a real engine, but an assessment file can: the page
/// must escape whatever the file says.
#[test]
fn html_escapes_a_hostile_container_name() {
    let (h, i) = sample_bundles();
    let evil = "<script>alert(1)</script>";
    let mut doc = i.assessment.clone();
    for r in doc["results"].as_array_mut().into_iter().flatten() {
        if r["resource"]["name"] == "legacy-admin" {
            r["resource"]["name"] = evil.into();
        }
    }
    let hostile = i.dir.path().join("hostile.json");
    std::fs::write(&hostile, doc.to_string()).expect("write");
    let out = dockproof(&["diff", &p(&h.bundle), &p(&hostile), "--format", "html"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        !page.contains("<script"),
        "raw markup from the assessment reached the page"
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    let d = diff_json(&h.bundle, &hostile);
    assert_eq!(
        entry(&d, "newly_failing", "container.privileged", evil),
        Some((Value::Null, Value::from("fail")))
    );
}

#[test]
fn bad_inputs_name_the_file_and_exit_two() {
    let (h, _) = sample_bundles();
    let dir = h.dir.path();
    let text = h.file("assessment.json");
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).expect("write");
    let future = dir.join("future.json");
    let mut doc = h.assessment.clone();
    doc["schema_version"] = 999.into();
    std::fs::write(&future, doc.to_string()).expect("write");
    let empty_dir = tempfile::tempdir().expect("temp dir");
    let cases: [(PathBuf, &str); 5] = [
        (dir.join("missing.json"), "cannot read"),
        (empty_dir.path().to_path_buf(), "assessment.json"),
        (h.bundle.join("snapshot.json"), "not a dockproof assessment"),
        (truncated.clone(), "not valid JSON"),
        (future.clone(), "newer than this dockproof understands"),
    ];
    for (bad, message) in cases {
        for args in [[p(&bad), p(&h.bundle)], [p(&h.bundle), p(&bad)]] {
            let out = dockproof(&["diff", &args[0], &args[1]]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{bad:?}: {err}");
            assert!(
                err.contains(&p(&bad)) && err.contains(message),
                "{bad:?}: {err}"
            );
        }
    }
}

/// The scenario on the real engine: scan, add a privileged container, remove one,
/// recreate one under the same name, scan again, diff.
#[test]
fn two_real_scans_show_what_changed_on_the_engine() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let mut c = Containers::new("diff");
    let keep = c.run("keep", &[], true);
    let gone = c.run("gone", &[], true);
    let again = c.run("again", &["--memory", "64m"], true);
    let old_id = docker_ok(&["inspect", "-f", "{{.Id}}", &again]);
    let scan = |c: &[&str]| {
        run_to_bundle(&[&["scan", "--include-stopped", "--format", "json"], c].concat())
    };
    let before = scan(&[]);
    assert!(before.output.status.success(), "{}", stderr(&before.output));

    // Created only: some sandboxes refuse to start privileged containers.
    let privileged = c.run("priv", &["--privileged"], false);
    docker_ok(&["rm", "-f", &gone]);
    docker_ok(&["rm", "-f", &again]);
    c.run("again", &["--memory", "64m"], true);
    let new_id = docker_ok(&["inspect", "-f", "{{.Id}}", &again]);
    assert_ne!(old_id, new_id, "the container was recreated");
    let after = scan(&[]);
    assert!(after.output.status.success(), "{}", stderr(&after.output));

    let d = diff_json(&before.bundle, &after.bundle);
    assert_counts_consistent(&d);
    assert_eq!(
        entry(&d, "newly_failing", "container.privileged", &privileged),
        Some((Value::Null, Value::from("fail")))
    );
    let removed = resource_names(&d, "removed", "container");
    let added = resource_names(&d, "added", "container");
    assert!(removed.contains(&gone), "{removed:?}");
    assert!(added.contains(&privileged), "{added:?}");
    for name in [&again, &keep] {
        assert!(
            !removed.contains(name) && !added.contains(name),
            "{name} in {added:?} / {removed:?}"
        );
        for list in [
            "newly_failing",
            "newly_passing",
            "no_longer_failing",
            "new_errors",
        ] {
            let hit = d["findings"][list]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["resource"]["name"] == name.as_str());
            assert!(hit.is_none(), "{name} listed under {list}: {hit:?}");
        }
    }
    let replaced: Vec<&Value> = d["resources"]["replaced"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == again.as_str())
        .collect();
    assert_eq!(replaced.len(), 1, "{again} is reported as recreated");
    assert_eq!(replaced[0]["new_ids"], Value::from(vec![new_id]));

    // The text form, as a person reads it (shown with `cargo test --test diff -- --nocapture`).
    let out = dockproof(&[
        "diff",
        &p(&before.bundle),
        &p(&after.bundle),
        "--fail-on-new",
        "critical",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a new privileged container trips --fail-on-new"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(text.lines().any(|l| l.contains("container.privileged")
        && l.contains(&privileged)
        && l.ends_with("absent -> fail")));
}
