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

/// Builds rpm packages with `rpmbuild`, records them with the real `rpm` into a fresh sqlite
/// database, and returns that database and what `rpm -qa` says it holds.
fn real_rpmdb(dir: &Path) -> (PathBuf, Vec<String>) {
    let spec = dir.join("probe.spec");
    std::fs::write(
        &spec,
        "Name: dockproof-probe\nVersion: 1.0.2k\nRelease: 19.el7\nEpoch: 1\nSummary: probe\n\
         License: MIT\nBuildArch: noarch\n%description\nprobe\n\
         %package libs\nSummary: probe libraries\n%description libs\nlibs\n\
         %files\n%files libs\n",
    )
    .unwrap();
    let spec2 = dir.join("other.spec");
    std::fs::write(
        &spec2,
        "Name: other-tool\nVersion: 2.17\nRelease: 326.el7_9\nSummary: other\nLicense: MIT\n\
         BuildArch: noarch\n%description\nother\n%files\n",
    )
    .unwrap();
    let top = dir.join("top");
    for s in [&spec, &spec2] {
        let out = Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("-bb")
            .arg(s)
            .output()
            .expect("rpmbuild runs (apt-get install rpm)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let db = dir.join("db");
    let rpm = |args: &[&str]| {
        let out = Command::new("rpm")
            .arg("--dbpath")
            .arg(&db)
            .args(args)
            .output()
            .expect("rpm runs (apt-get install rpm)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    rpm(&["--initdb"]);
    let rpms: Vec<String> = std::fs::read_dir(top.join("RPMS/noarch"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    let mut args = vec!["-i", "--justdb", "--nodeps", "--ignorearch"];
    args.extend(rpms.iter().map(String::as_str));
    rpm(&args);
    let mut listed: Vec<String> = rpm(&[
        "-qa",
        "--qf",
        "rpm %{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH} src=%{SOURCERPM}\\n",
    ])
    .lines()
    .map(str::to_string)
    .collect();
    listed.sort();
    (db.join("rpmdb.sqlite"), listed)
}

/// Imports an image holding `db` at `inside` (plus a RHEL os-release), inventories it through
/// the engine and returns its packages as `rpm -qa` would print them, and its gaps.
fn rpm_image_packages(tmp: &Path, db: &Path, inside: &str) -> (Vec<String>, Value) {
    let kind = inside
        .rsplit('/')
        .next()
        .unwrap_or("db")
        .to_ascii_lowercase();
    let tag = format!("dockproof-test/rpm-{kind}-{}:1", std::process::id());
    let root = tmp.join("root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(inside).parent().unwrap()).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy(db, root.join(inside)).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=\"rhel\"\nVERSION_ID=\"7.9\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 7.9\"\n",
    )
    .unwrap();
    let tar = tmp.join("root.tar");
    assert!(Command::new("tar")
        .args([
            "-C",
            &root.display().to_string(),
            "-cf",
            &tar.display().to_string(),
            "."
        ])
        .status()
        .unwrap()
        .success());
    common::docker_ok(&[
        "import",
        "--change",
        "LABEL dockproof.test=1",
        &tar.display().to_string(),
        &tag,
    ]);
    let out_file = tmp.join("s.json");
    let o = dockproof(&[
        "collect",
        "--images",
        "all",
        "-o",
        &out_file.display().to_string(),
    ]);
    let id = image_id(&tag);
    let _ = Command::new("docker").args(["image", "rm", &tag]).output();
    assert!(o.status.success(), "{}", common::stderr(&o));
    let snapshot: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let inv = snapshot["inventories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image_id"] == id.as_str())
        .expect("the rpm image was inventoried")
        .clone();
    let mut ours: Vec<String> = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let src = format!(
                "{}-{}.src.rpm",
                p["source_name"].as_str().unwrap(),
                p["source_version"].as_str().unwrap()
            );
            format!(
                "rpm {} {} {} src={src}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap(),
                p["arch"].as_str().unwrap()
            )
        })
        .collect();
    ours.sort();
    (ours, inv["gaps"].clone())
}

#[test]
fn rpm_sqlite_database_written_by_rpm_reads_as_rpm_lists_it() {
    if !engine_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (db, listed) = real_rpmdb(tmp.path());
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(
        listed[0],
        "rpm dockproof-probe 1:1.0.2k-19.el7 noarch src=dockproof-probe-1.0.2k-19.el7.src.rpm"
    );
    let (ours, gaps) = rpm_image_packages(tmp.path(), &db, "var/lib/rpm/rpmdb.sqlite");
    assert_eq!(gaps, serde_json::json!([]));
    assert_eq!(ours, listed);
}

/// Writes the header blobs of an rpm sqlite database into a Berkeley DB hash `Packages` file
/// with db_load (small pages, so headers spill onto overflow pages as large ones do on RHEL 7).
fn berkeley_packages(sqlite: &Path, out: &Path) {
    const DUMP: &str = r#"
import sqlite3, struct, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT hnum, blob FROM Packages").fetchall()
esc = lambda b: "".join("\\%02x" % c for c in b)
with open(sys.argv[2], "w") as f:
    for hnum, blob in rows:
        f.write(esc(struct.pack("<I", hnum)) + "\n" + esc(blob) + "\n")
"#;
    let text = out.with_extension("txt");
    let ok = Command::new("python3")
        .args(["-c", DUMP])
        .arg(sqlite)
        .arg(&text)
        .status()
        .unwrap()
        .success();
    assert!(ok, "python3 could not dump the sqlite database");
    let load = ["db5.3_load", "db_load"]
        .into_iter()
        .find(|t| Command::new(t).arg("-V").output().is_ok())
        .expect("db_load is installed (apt-get install db5.3-util)");
    let o = Command::new(load)
        .args(["-T", "-t", "hash", "-c", "db_pagesize=512", "-f"])
        .arg(&text)
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn rpm_berkeley_db_packages_reads_as_rpm_lists_it() {
    if !engine_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (db, listed) = real_rpmdb(tmp.path());
    let packages = tmp.path().join("Packages");
    berkeley_packages(&db, &packages);
    let (ours, gaps) = rpm_image_packages(tmp.path(), &packages, "var/lib/rpm/Packages");
    assert_eq!(gaps, serde_json::json!([]));
    assert_eq!(ours, listed);
}
