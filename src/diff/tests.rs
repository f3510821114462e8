//! Unit tests of the diff computation and its renderers, on the renderer fixture assessment.
//!
//! Fixture results (by index): 0 web privileged fail, 1 EVIL privileged fail, 2 db privileged
//! pass, 6 dockerd fail, 7 dockerd pass, 9 host error, 11 image nginx fail (its only result).

use super::*;
use crate::assessment::{WaiverRecord, WaiverScope};
use crate::testing::{sample_assessment, EVIL_NAME};

fn names(list: &[FindingChange]) -> Vec<(String, String, Option<Status>, Option<Status>)> {
    list.iter()
        .map(|f| {
            let (check, name) = (f.check_id.clone(), f.resource.name.clone());
            (check, name, f.old_status, f.new_status)
        })
        .collect()
}

fn waiver(id: &str, check: &str, state: WaiverState, covered: &[&str]) -> WaiverRecord {
    WaiverRecord {
        id: id.into(),
        check_id: check.into(),
        scope: WaiverScope::default(),
        justification: "vendor appliance".into(),
        approved_by: None,
        granted: None,
        expires: None,
        risk: None,
        ticket: None,
        compensating_control: None,
        source: "waivers.yaml:1".into(),
        state,
        covered: covered.len(),
        covered_fingerprints: covered.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn an_assessment_compared_with_itself_changes_nothing() {
    let a = sample_assessment();
    let d = Diff::compute(&a, &a);
    let s = &d.summary;
    assert_eq!(
        (
            s.newly_failing,
            s.newly_passing,
            s.new_errors,
            s.errors_resolved
        ),
        (0, 0, 0, 0)
    );
    assert_eq!((s.still_failing, s.still_error), (4, 1));
    assert_eq!(
        (s.resources_added, s.resources_removed, s.resources_replaced),
        (0, 0, 0)
    );
    assert_eq!(s.requirements_changed, 0);
    assert!(d.frameworks.iter().all(|f| f.old_figures == f.new_figures));
    assert!(!d.different_engines());
    let mut other = a.clone();
    other.snapshot.target.engine_id = Some("ZZZZ:ZZZZ".into());
    assert!(Diff::compute(&a, &other).different_engines());
}

#[test]
fn every_transition_lands_in_its_list() {
    let old = sample_assessment();
    let mut new = old.clone();
    new.results[0].status = Status::Pass; // web: fail -> pass
    new.results[2].status = Status::Fail; // db: pass -> fail
    new.results[7].status = Status::Error; // dockerd: pass -> error, never silent
    new.results[9].status = Status::Pass; // host: error -> pass
    new.results.remove(11); // nginx: fail -> gone, not a pass
    let mut cache = new.results[2].clone();
    cache.resource.name = "cache".into();
    cache.resource.id = "c0ffee".into();
    cache.fingerprint = "privileged/container/cache".into();
    new.results.push(cache);

    let d = Diff::compute(&old, &new);
    let f = &d.findings;
    let id0 = old.results[0].check_id.clone();
    assert_eq!(
        names(&f.newly_failing),
        vec![
            (id0.clone(), "cache".into(), None, Some(Status::Fail)),
            (
                id0.clone(),
                "db".into(),
                Some(Status::Pass),
                Some(Status::Fail)
            ),
        ]
    );
    assert_eq!(
        names(&f.newly_passing),
        vec![(id0, "web".into(), Some(Status::Fail), Some(Status::Pass))]
    );
    assert_eq!(names(&f.new_errors).len(), 1);
    assert_eq!(f.new_errors[0].resource.name, "dockerd");
    assert_eq!(f.new_errors[0].old_status, Some(Status::Pass));
    assert_eq!(names(&f.errors_resolved)[0].1, "docker-prod-01");
    assert_eq!(
        names(&f.no_longer_failing),
        vec![(
            old.results[11].check_id.clone(),
            "nginx:1.25".into(),
            Some(Status::Fail),
            None
        )]
    );
    assert_eq!(f.still_failing.len(), 2); // EVIL and dockerd's other check
    let added: Vec<&str> = d.resources.added.iter().map(|r| r.name.as_str()).collect();
    let removed: Vec<&str> = d
        .resources
        .removed
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!((added, removed), (vec!["cache"], vec!["nginx:1.25"]));
    assert_eq!(d.summary.newly_failing, 2);
}

#[test]
fn a_recreated_container_is_replaced_not_added_and_removed() {
    let old = sample_assessment();
    let mut new = old.clone();
    for r in new.results.iter_mut().filter(|r| r.resource.name == "web") {
        r.resource.id = "ffffffffffff0000".into();
    }
    let d = Diff::compute(&old, &new);
    assert!(d.resources.added.is_empty() && d.resources.removed.is_empty());
    assert_eq!(d.resources.replaced.len(), 1);
    assert_eq!(d.resources.replaced[0].name, "web");
    assert_eq!(d.resources.replaced[0].new_ids, vec!["ffffffffffff0000"]);
    assert_eq!(d.summary.newly_failing + d.summary.newly_passing, 0);
}

#[test]
fn waiver_changes_are_listed() {
    let mut old = sample_assessment();
    let evil_fp = old.results[1].fingerprint.clone();
    let check = old.results[1].check_id.clone();
    old.results[1].waiver = Some("W-1".into());
    old.waivers = vec![
        waiver("W-0", &check, WaiverState::Unused, &[]),
        waiver("W-1", &check, WaiverState::Active, &[&evil_fp]),
    ];
    let mut new = old.clone();
    new.results[1].waiver = None;
    new.results[0].waiver = Some("W-2".into());
    new.waivers = vec![
        waiver("W-1", &check, WaiverState::Expired, &[]),
        waiver(
            "W-2",
            &check,
            WaiverState::Active,
            &[&new.results[0].fingerprint],
        ),
    ];
    let d = Diff::compute(&old, &new);
    let w = &d.waivers;
    assert_eq!(
        w.added.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["W-2"]
    );
    assert_eq!(
        w.removed.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["W-0"]
    );
    assert_eq!(w.changed.len(), 1);
    let c = &w.changed[0];
    assert_eq!(
        (
            c.id.as_str(),
            c.old_state,
            c.new_state,
            c.old_covered,
            c.new_covered
        ),
        ("W-1", WaiverState::Active, WaiverState::Expired, 1, 0)
    );
    assert_eq!(w.no_longer_waived.len(), 1);
    assert_eq!(w.no_longer_waived[0].resource.name, EVIL_NAME);
    assert_eq!(w.newly_waived[0].resource.name, "web");
    assert_eq!(w.newly_waived[0].new_waiver.as_deref(), Some("W-2"));
}

#[test]
fn requirement_state_and_figure_changes_are_listed() {
    let old = sample_assessment();
    let mut new = old.clone();
    let fw = &mut new.frameworks[0];
    let before = fw.requirements[0].state;
    let after = if before == RequirementState::ConsistentWithInPlace {
        RequirementState::NotInPlace
    } else {
        RequirementState::ConsistentWithInPlace
    };
    fw.requirements[0].state = after;
    fw.recount();
    let new_figures = fw.figures;
    let (fw_id, req_id) = (fw.id.clone(), fw.requirements[0].id.clone());
    let d = Diff::compute(&old, &new);
    let change = d
        .frameworks
        .iter()
        .find(|f| f.id == fw_id)
        .expect("framework");
    assert_eq!(change.new_figures, Some(new_figures));
    assert_eq!(change.old_figures, Some(old.frameworks[0].figures));
    assert_ne!(change.old_figures, change.new_figures);
    assert_eq!(change.requirements.len(), 1);
    let r = &change.requirements[0];
    assert_eq!(
        (r.id.as_str(), r.old_state, r.new_state),
        (req_id.as_str(), Some(before), Some(after))
    );
    assert_eq!(d.summary.requirements_changed, 1);
}

#[test]
fn fail_on_new_ignores_waived_and_lower_severities() {
    let old = sample_assessment();
    let mut new = old.clone();
    new.results[2].status = Status::Fail;
    let sev = new.results[2].severity;
    let d = Diff::compute(&old, &new);
    assert_eq!(d.new_failures_at_or_above(sev).len(), 1);
    assert!(d.new_failures_at_or_above(Severity::Critical).len() <= 1);
    new.results[2].waiver = Some("W-9".into());
    let d = Diff::compute(&old, &new);
    assert!(d.new_failures_at_or_above(Severity::Info).is_empty());
}

#[test]
fn json_has_documented_names_and_round_trips() {
    let old = sample_assessment();
    let d = Diff::compute(&old, &old);
    let mut buf = Vec::new();
    JsonDiff.render(&d, &mut buf).expect("json");
    let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid json");
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["old"]["snapshot_sha256"], old.snapshot.sha256.as_str());
    assert_eq!(v["summary"]["still_failing"], 4);
    assert!(v["findings"]["newly_failing"].is_array());
    let back: Diff = serde_json::from_value(v).expect("round trip");
    assert_eq!(back, d);
}

#[test]
fn html_escapes_hostile_names_and_fetches_nothing() {
    let mut old = sample_assessment();
    old.results[1].status = Status::Pass;
    let d = Diff::compute(&old, &sample_assessment());
    assert_eq!(d.findings.newly_failing[0].resource.name, EVIL_NAME);
    let mut buf = Vec::new();
    HtmlDiff.render(&d, &mut buf).expect("html");
    let page = String::from_utf8(buf).expect("utf-8");
    assert!(!page.contains("<script"), "raw script tag leaked");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("@import"));
}

#[test]
fn text_prints_one_line_per_finding() {
    let mut old = sample_assessment();
    old.results[2].status = Status::Error;
    let mut new = sample_assessment();
    new.results[1].resource.name = "line\u{1b}[2Jbreak".into();
    let d = Diff::compute(&old, &new);
    let mut buf = Vec::new();
    TextDiff.render(&d, &mut buf).expect("text");
    let out = String::from_utf8(buf).expect("utf-8");
    assert!(out.contains("\nErrors resolved (1)\n"), "{out}");
    assert!(out.contains("\nNewly failing (0)\n"), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(" db ") && l.contains("error -> pass"))
        .unwrap_or_else(|| panic!("no db line in\n{out}"));
    assert!(
        line.trim_start()
            .starts_with(old.results[2].severity.as_str()),
        "{line}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "escape sequence reached the terminal"
    );
}

#[test]
fn bidi_controls_in_names_are_shown_not_obeyed_in_text_and_html() {
    // `web\u{202E}gnp.exe` would read as `webexe.png`; the same container in both scans.
    let name = "web\u{202E}gnp.exe";
    let mut old = sample_assessment();
    old.results[0].resource.name = name.into();
    old.results[0].status = Status::Pass;
    let mut new = sample_assessment();
    new.results[0].resource.name = name.into();
    let d = Diff::compute(&old, &new);
    assert_eq!(d.findings.newly_failing[0].resource.name, name);
    for (format, renderer) in [
        ("text", &TextDiff as &dyn DiffRenderer),
        ("html", &HtmlDiff as &dyn DiffRenderer),
    ] {
        let mut buf = Vec::new();
        renderer.render(&d, &mut buf).expect(format);
        assert_eq!(renderer.name(), format);
        let out = String::from_utf8(buf).expect("utf-8");
        assert!(!out.contains('\u{202E}'), "{format}: bidi control written");
        assert!(out.contains("web[U+202E]gnp.exe"), "{format}:\n{out}");
    }
}
