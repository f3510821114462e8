//! Image inventories and SBOMs against the real engine: test images built offline (busybox-static
//! plus package databases listing real Debian and Alpine versions, see tests/data/images), read
//! through `GET /images/{id}/get`, and the CycloneDX documents checked against the official
//! CycloneDX 1.6 JSON schema (vendored in tests/data/schemas).

mod common;
#[path = "support/images.rs"]
mod images;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{dockproof, engine_available, run_to_bundle};
use images::{ensure_images, image_id, Running, ALPINE, DATA, FIXED, VULNERABLE};
use serde_json::Value;

fn inventory<'a>(snapshot: &'a Value, tag: &str) -> &'a Value {
    let id = image_id(tag);
    snapshot["inventories"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["image_id"] == id.as_str()))
        .unwrap_or_else(|| panic!("no inventory of {tag} ({id})"))
}

fn packages(inv: &Value) -> Vec<String> {
    inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {} src={}",
                p["format"].as_str().unwrap(),
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["source_name"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

/// Validates CycloneDX documents against the vendored 1.6 schema; returns the violations.
fn schema_violations(docs: &[PathBuf]) -> (bool, String) {
    const SCRIPT: &str = r#"
import json, os, sys
try:
    import jsonschema
except ImportError:
    sys.exit("MISSING: the Python package jsonschema (python3 -m pip install jsonschema)")
d = sys.argv[1]
def load(n):
    with open(os.path.join(d, n)) as f:
        return json.load(f)
main = load("cyclonedx-bom-1.6.SNAPSHOT.schema.json")
base = "http://cyclonedx.org/schema/"
refs = {base + n: load("cyclonedx-" + n)
        for n in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")}
cls = jsonschema.validators.validator_for(main)
cls.check_schema(main)
try:
    from referencing import Registry, Resource
    reg = Registry().with_resources([(u, Resource.from_contents(s)) for u, s in refs.items()])
    v = cls(main, registry=reg, format_checker=cls.FORMAT_CHECKER)
except ImportError:
    # jsonschema before 4.18 (Debian's python3-jsonschema) resolves references this way.
    resolver = jsonschema.RefResolver.from_schema(main, store=refs)
    v = cls(main, resolver=resolver, format_checker=cls.FORMAT_CHECKER)
bad = 0
for path in sys.argv[2:]:
    with open(path) as f:
        doc = json.load(f)
    for e in v.iter_errors(doc):
        bad += 1
        print(f"{path}: {list(e.absolute_path)}: {e.message[:300]}")
print(f"{bad} schema violation(s)")
sys.exit(1 if bad else 0)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .arg(Path::new(DATA).join("schemas"))
        .args(docs)
        .output()
        .expect("python3 runs (install python3 and python3 -m pip install jsonschema)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("MISSING"), "{text}");
    (out.status.success(), text)
}

#[test]
fn scan_inventories_in_use_images_and_writes_valid_sboms() {
    if !engine_available() {
        return;
    }
    ensure_images();
    let _running = Running::start("inv", &[VULNERABLE, FIXED, ALPINE]);
    let scan = run_to_bundle(&["scan", "--format", "json"]);
    let snapshot: Value = serde_json::from_str(&scan.file("snapshot.json")).unwrap();
    assert_eq!(snapshot["collection"]["image_inventory"], "in-use");

    let vulnerable = inventory(&snapshot, VULNERABLE);
    assert_eq!(vulnerable["gaps"], serde_json::json!([]));
    assert_eq!(vulnerable["os"]["id"], "debian");
    assert_eq!(
        vulnerable["os"]["path"], "/usr/lib/os-release",
        "symlink followed"
    );
    assert_eq!(
        packages(vulnerable),
        [
            "deb bash 4.2+dfsg-0.1 src=-",
            "deb libssl1.0.0 1.0.1e-2+deb7u4 src=openssl",
            "deb openssl 1.0.1e-2+deb7u4 src=-",
        ]
    );
    let fixed = inventory(&snapshot, FIXED);
    assert_eq!(fixed["layers"].as_array().unwrap().len(), 2);
    assert_eq!(
        packages(fixed),
        [
            "deb bash 4.2+dfsg-0.1+deb7u3 src=-",
            "deb libssl1.0.0 1.0.1e-2+deb7u13 src=openssl",
            "deb openssl 1.0.1e-2+deb7u13 src=-",
        ]
    );
    let alpine = inventory(&snapshot, ALPINE);
    assert_eq!(alpine["os"]["version_id"], "3.19.1");
    assert_eq!(
        packages(alpine),
        [
            "apk libcrypto3 3.1.4-r5 src=openssl",
            "apk libssl3 3.1.4-r5 src=openssl",
            "apk musl 1.2.4-r2 src=musl",
        ]
    );

    // One SBOM per inventory, each listed in SHA256SUMS, each valid CycloneDX 1.6.
    let manifest = scan.file("SHA256SUMS");
    let mut docs = Vec::new();
    for inv in snapshot["inventories"].as_array().unwrap() {
        let id = inv["image_id"].as_str().unwrap();
        let short = &id["sha256:".len().."sha256:".len() + 12];
        let line = manifest
            .lines()
            .find(|l| l.contains("  sbom/") && l.ends_with(&format!("-{short}.cdx.json")))
            .unwrap_or_else(|| panic!("no SBOM of {id} in SHA256SUMS:\n{manifest}"));
        docs.push(scan.bundle.join(&line[66..]));
    }
    let (ok, text) = schema_violations(&docs);
    assert!(ok, "{text}");
    assert!(text.contains("0 schema violation(s)"), "{text}");

    let vuln_doc = docs
        .iter()
        .find(|d| d.display().to_string().contains("wheezy-vulnerable"))
        .unwrap();
    let sbom: Value = serde_json::from_str(&std::fs::read_to_string(vuln_doc).unwrap()).unwrap();
    assert_eq!(
        sbom["metadata"]["component"]["version"],
        image_id(VULNERABLE)
    );
    let purls: Vec<&str> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    assert_eq!(
        purls,
        [
            "pkg:deb/debian/bash@4.2%2Bdfsg-0.1?arch=amd64&distro=debian-7",
            "pkg:deb/debian/libssl1.0.0@1.0.1e-2%2Bdeb7u4?arch=amd64&distro=debian-7",
            "pkg:deb/debian/openssl@1.0.1e-2%2Bdeb7u4?arch=amd64&distro=debian-7",
        ]
    );
    assert_eq!(sbom["compositions"][0]["aggregate"], "complete");

    let verify = dockproof(&["verify", &scan.bundle.display().to_string()]);
    assert!(verify.status.success(), "{}", common::stderr(&verify));

    // The validator is able to fail: a document with a wrong component type is rejected.
    let mut broken = sbom.clone();
    broken["components"][0]["type"] = Value::from("package");
    let bad = scan.dir.path().join("broken.cdx.json");
    std::fs::write(&bad, serde_json::to_vec(&broken).unwrap()).unwrap();
    let (ok, text) = schema_violations(&[bad]);
    assert!(!ok && text.contains("1 schema violation(s)"), "{text}");
}

#[test]
fn images_none_takes_no_inventory_and_writes_no_sbom() {
    if !engine_available() {
        return;
    }
    ensure_images();
    let _running = Running::start("none", &[ALPINE]);
    let scan = run_to_bundle(&["scan", "--format", "json", "--images", "none"]);
    let snapshot: Value = serde_json::from_str(&scan.file("snapshot.json")).unwrap();
    assert_eq!(snapshot["collection"]["image_inventory"], "none");
    assert!(snapshot.get("inventories").is_none());
    assert!(!scan.bundle.join("sbom").exists());
}

#[test]
fn images_all_and_the_cache_give_the_same_inventory() {
    if !engine_available() {
        return;
    }
    ensure_images();
    let cache = tempfile::tempdir().unwrap();
    let cache_arg = cache.path().display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("a.json");
    let second = dir.path().join("b.json");
    let collect = |out: &Path| {
        let o = dockproof(&[
            "collect",
            "--images",
            "all",
            "--inventory-cache",
            &cache_arg,
            "-o",
            &out.display().to_string(),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let v: Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
        v
    };
    let a = collect(&first);
    let hex = image_id(ALPINE).trim_start_matches("sha256:").to_string();
    let cached = cache.path().join(format!("{hex}.json"));
    assert_eq!(packages(inventory(&a, ALPINE)).len(), 3);

    // The second run reads the cache, not the export: a marker put in the cache shows up.
    let mut entry: Value = serde_json::from_slice(&std::fs::read(&cached).unwrap()).unwrap();
    entry["inventory"]["gaps"] = serde_json::json!(["marker from the cache"]);
    std::fs::write(&cached, serde_json::to_vec(&entry).unwrap()).unwrap();
    let b = collect(&second);
    assert_eq!(
        inventory(&b, ALPINE)["gaps"],
        serde_json::json!(["marker from the cache"])
    );
    assert_eq!(
        packages(inventory(&a, ALPINE)),
        packages(inventory(&b, ALPINE))
    );
    assert_eq!(inventory(&a, VULNERABLE), inventory(&b, VULNERABLE));
}
