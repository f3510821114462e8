//! Every automated check in the shipped catalog has a passing and a failing fixture, evaluated
//! here through the library against a real snapshot, so that a broken rule is caught.
//!
//! Fixtures live in `tests/fixtures/checks/*.yaml`. Each one names a check, the resource to look
//! at and two JSON merge patches (RFC 7386) over the hardened sample snapshot: one after which
//! the check must pass on that resource, one after which it must fail. Patches address engine
//! objects by name rather than by position, through a keyed view of the snapshot:
//!
//! ```yaml
//! - check: container.privileged
//!   resource: payments-api
//!   pass: {}
//!   fail: {containers: {payments-api: {HostConfig: {Privileged: true}}}}
//! ```
//!
//! More spellings of the same class of input go under `cases`, each with the status it must
//! give (`pass`, `fail`, `error`, `manual`, `not_applicable`) and, optionally, a text the
//! result's message must contain:
//!
//! ```yaml
//!   cases:
//!     - {expect: fail, patch: {containers: {payments-api: {Config: {User: "00"}}}}}
//!     - {expect: error, message: /etc/passwd, patch: {containers: {payments-api: {Config: {User: app}}}}}
//! ```
//!
//! Keys of the view: `containers` (by name), `images` (by first tag), `networks` (by name),
//! `files` (by role), `info`, `version`, `daemon_json`, `dockerd`, `audit_rules`, `docker_group`,
//! `mounts`, `client_env`, `socket_activation`; `inventories` and `image_inventory` (the
//! snapshot's package inventories and `--images` selection) and `vulnerabilities` (vulnerability
//! evidence as `dockproof::vuln::VulnEvidence`, given to the evaluation). A `null` in a patch
//! removes the key.

use std::collections::BTreeMap;

use dockproof::assessment::CheckMode;
use dockproof::catalog::Catalog;
use dockproof::evaluate::{evaluate_with_vulnerabilities, EvaluateOptions};
use dockproof::snapshot::Snapshot;
use serde::Deserialize;
use serde_json::{Map, Value};

const BASE: &str = include_str!("../samples/hardened-host.snapshot.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    check: String,
    /// Name of the resource whose verdict is asserted.
    resource: String,
    /// Patch after which the check must pass (required for automated checks).
    #[serde(default)]
    pass: Option<Value>,
    /// Patch after which the check must fail (required for automated checks).
    #[serde(default)]
    fail: Option<Value>,
    /// Site parameters for every case.
    #[serde(default)]
    params: BTreeMap<String, String>,
    /// Further inputs of the same class and the status each must give.
    #[serde(default)]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    expect: String,
    patch: Value,
    /// Text the result's message must contain.
    #[serde(default)]
    message: Option<String>,
}

fn fixtures() -> Vec<(String, Fixture)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/checks");
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let list: Vec<Fixture> =
            serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for f in list {
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), f));
        }
    }
    out
}

fn keyed(list: &[Value], key: impl Fn(&Value) -> String) -> Value {
    Value::Object(list.iter().map(|v| (key(v), v.clone())).collect())
}

fn name_of(v: &Value) -> String {
    v["Name"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string()
}

fn tag_of(v: &Value) -> String {
    v["RepoTags"][0].as_str().unwrap_or_default().to_string()
}

/// The snapshot as a keyed view that patches can address by name.
fn to_view(s: &Value) -> Value {
    let e = &s["engine"];
    let h = &s["host"];
    let arr = |v: &Value| v.as_array().cloned().unwrap_or_default();
    serde_json::json!({
        "containers": keyed(&arr(&e["containers"]), name_of),
        "images": keyed(&arr(&e["images"]), tag_of),
        "networks": keyed(&arr(&e["networks"]), name_of),
        "files": keyed(&arr(&h["files"]), |f| f["role"].as_str().unwrap_or_default().to_string()),
        "info": e["info"], "version": e["version"],
        "daemon_json": h["daemon_json"], "dockerd": h["dockerd"],
        "audit_rules": h["audit_rules"], "docker_group": h["docker_group"], "mounts": h["mounts"],
        "client_env": h["client_env"], "socket_activation": h["socket_activation"],
        "inventories": s["inventories"], "image_inventory": s["collection"]["image_inventory"],
        "vulnerabilities": null,
    })
}

fn from_view(base: &Value, view: &Value) -> Value {
    let mut s = base.clone();
    let values = |k: &str| {
        Value::Array(
            view[k]
                .as_object()
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default(),
        )
    };
    s["engine"]["containers"] = values("containers");
    s["engine"]["images"] = values("images");
    s["engine"]["networks"] = values("networks");
    s["host"]["files"] = values("files");
    s["engine"]["info"] = view["info"].clone();
    s["engine"]["version"] = view["version"].clone();
    for k in [
        "daemon_json",
        "dockerd",
        "audit_rules",
        "docker_group",
        "client_env",
        "mounts",
        "socket_activation",
    ] {
        s["host"][k] = view[k].clone();
    }
    if view["inventories"].is_array() {
        s["inventories"] = view["inventories"].clone();
    }
    if view["image_inventory"].is_string() {
        s["collection"]["image_inventory"] = view["image_inventory"].clone();
    }
    s
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let t = target.as_object_mut().unwrap();
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

fn verdict(catalog: &Catalog, f: &Fixture, patch: &Value) -> String {
    let base: Value = serde_json::from_str(BASE).unwrap();
    let mut view = to_view(&base);
    merge(&mut view, patch);
    let doc = from_view(&base, &view);
    let bytes = serde_json::to_vec(&doc).unwrap();
    let snapshot =
        Snapshot::from_slice(&bytes, "fixture").unwrap_or_else(|e| panic!("{}: {e}", f.check));
    let overrides: Vec<(String, String)> = f
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let params = catalog.resolve_params(&overrides).unwrap();
    let opts = EvaluateOptions {
        frameworks: vec![],
        params,
        now: snapshot.collection.finished_at,
        ..Default::default()
    };
    // Only the check under test is evaluated: the fixture is about its verdict alone.
    let mut single = catalog.clone();
    single.checks.retain(|c| c.def.id == f.check);
    let vulns: Option<dockproof::vuln::VulnEvidence> = (!view["vulnerabilities"].is_null())
        .then(|| serde_json::from_value(view["vulnerabilities"].clone()).unwrap());
    let a = evaluate_with_vulnerabilities(&snapshot, "fixture", &single, &opts, vulns.as_ref())
        .unwrap();
    let found: Vec<_> = a
        .results
        .iter()
        .filter(|r| r.check_id == f.check && r.resource.name == f.resource)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{}: expected one result on {}, got {found:?}",
        f.check,
        f.resource
    );
    let r = found[0];
    format!(
        "{}{}",
        r.status.as_str(),
        r.message
            .as_ref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    )
}

#[test]
fn every_fixture_passes_and_fails_as_written() {
    let catalog = Catalog::load(None).unwrap();
    let mut problems = Vec::new();
    for (file, f) in fixtures() {
        assert!(
            catalog.check(&f.check).is_some(),
            "{file}: no check `{}`",
            f.check
        );
        for (expected, patch) in [("pass", &f.pass), ("fail", &f.fail)] {
            let Some(patch) = patch else { continue };
            let got = verdict(&catalog, &f, patch);
            if got != expected {
                problems.push(format!(
                    "{file}: {} on {}: expected {expected}, got {got}",
                    f.check, f.resource
                ));
            }
        }
        for (i, case) in f.cases.iter().enumerate() {
            let got = verdict(&catalog, &f, &case.patch);
            let status_ok = got == case.expect || got.starts_with(&format!("{} (", case.expect));
            let message_ok = case
                .message
                .as_ref()
                .is_none_or(|m| got.contains(m.as_str()));
            if !status_ok || !message_ok {
                problems.push(format!(
                    "{file}: {} on {}, case {i} {}: expected {}{}, got {got}",
                    f.check,
                    f.resource,
                    case.patch,
                    case.expect,
                    case.message
                        .as_ref()
                        .map(|m| format!(" with `{m}`"))
                        .unwrap_or_default()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn every_automated_check_has_a_fixture() {
    let catalog = Catalog::load(None).unwrap();
    let covered: Vec<String> = fixtures()
        .into_iter()
        .filter(|(_, f)| f.pass.is_some() && f.fail.is_some())
        .map(|(_, f)| f.check)
        .collect();
    let missing: Vec<&str> = catalog
        .checks
        .iter()
        .filter(|c| c.def.mode == CheckMode::Automated && !covered.contains(&c.def.id))
        .map(|c| c.def.id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "checks without a pass/fail fixture: {missing:?}"
    );
}
