//! CycloneDX 1.6 software bills of materials: one JSON document per inventoried image, the
//! evidence of what each image contains (PCI DSS 6.3.2).
//!
//! This module turns an [`ImageInventory`] from the snapshot into a CycloneDX document and never
//! reads anything else: the image is the document's subject (`metadata.component`, type
//! `container`, with its id as a SHA-256 hash), each OS package a component with its package URL
//! (`pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10`), and a composition states whether
//! the inventory is complete. The coverage (OS packages only) and every gap travel as properties,
//! so a reader of the SBOM alone knows what it does not list. Documents are deterministic: the
//! serial number is derived from the image id and the collection time.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::inventory::{short_id, ImageInventory, OsRelease, Package, PackageFormat, COVERAGE};

/// Directory of the SBOMs inside a bundle.
pub const DIR: &str = "sbom";

/// Namespace of the serial numbers (UUID v5 of the image id and collection time).
const SERIAL_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f1d_3c2a_9b7e_4d15_8a60_2c4f_d0b1_e927);

/// The bundle path of an image's SBOM: `sbom/<name>-<short id>.cdx.json`, with every character
/// outside `[A-Za-z0-9._-]` of the name replaced by `_`.
pub fn file_name(inv: &ImageInventory) -> String {
    let id = short_id(&inv.image_id);
    let name = inv
        .repo_tags
        .iter()
        .find(|t| t.as_str() != "<none>:<none>")
        .map(|t| {
            t.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .take(100)
                .collect::<String>()
        });
    match name {
        Some(n) => format!("{DIR}/{n}-{id}.cdx.json"),
        None => format!("{DIR}/{id}.cdx.json"),
    }
}

/// The CycloneDX 1.6 document for one image inventory collected at `collected_at`.
pub fn document(inv: &ImageInventory, collected_at: DateTime<Utc>) -> Value {
    let stamp = collected_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let serial = uuid::Uuid::new_v5(
        &SERIAL_NAMESPACE,
        format!("{}@{stamp}", inv.image_id).as_bytes(),
    );
    let mut properties = vec![
        prop("dockproof:inventory:coverage", COVERAGE),
        prop(
            "dockproof:inventory:complete",
            if inv.complete() { "true" } else { "false" },
        ),
    ];
    for db in &inv.databases {
        properties.push(prop(
            "dockproof:inventory:database",
            &format!(
                "{} {} ({} packages)",
                db.format.as_str(),
                db.path,
                db.packages
            ),
        ));
    }
    for gap in &inv.gaps {
        properties.push(prop("dockproof:inventory:gap", gap));
    }

    let mut subject = json!({
        "type": "container",
        "bom-ref": inv.image_id,
        "name": inv.display_name(),
        "version": inv.image_id,
    });
    if let Some(hex) = inv.image_id.strip_prefix("sha256:") {
        subject["hashes"] = json!([{"alg": "SHA-256", "content": hex}]);
    }
    if let Some(purl) = oci_purl(inv) {
        subject["purl"] = json!(purl);
    }

    let mut components = Vec::new();
    if let Some(os) = &inv.os {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": format!("os:{}", os.id),
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            c["version"] = json!(v);
        }
        if let Some(p) = &os.pretty_name {
            c["description"] = json!(p);
        }
        components.push(c);
    }
    for p in &inv.packages {
        let purl = package_purl(p, inv.os.as_ref());
        let mut c = json!({
            "type": "library",
            "bom-ref": purl,
            "name": p.name,
            "version": p.version,
            "purl": purl,
        });
        let mut props = Vec::new();
        if let Some(s) = &p.source_name {
            props.push(prop("dockproof:package:source_name", s));
        }
        if let Some(s) = &p.source_version {
            props.push(prop("dockproof:package:source_version", s));
        }
        if !props.is_empty() {
            c["properties"] = Value::Array(props);
        }
        components.push(c);
    }
    // Two packages can share a purl only if the inventory listed one twice; keep bom-refs unique.
    components.dedup_by(|a, b| a["bom-ref"] == b["bom-ref"]);

    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": stamp,
            "tools": {"components": [{
                "type": "application",
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": subject,
            "properties": properties,
        },
        "components": components,
        "compositions": [{
            "aggregate": if inv.complete() { "complete" } else { "incomplete" },
            "assemblies": [inv.image_id],
        }],
    })
}

/// Every SBOM of a snapshot as (bundle path, pretty JSON bytes), in inventory order.
pub fn files(snapshot: &crate::snapshot::Snapshot) -> Vec<(String, Vec<u8>)> {
    snapshot
        .inventories
        .iter()
        .map(|inv| {
            let doc = document(inv, snapshot.collection.finished_at);
            let mut bytes = serde_json::to_vec_pretty(&doc).unwrap_or_default();
            bytes.push(b'\n');
            (file_name(inv), bytes)
        })
        .collect()
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// `pkg:oci/<name>@sha256:<manifest digest>?repository_url=<repo>` from the first repo digest.
fn oci_purl(inv: &ImageInventory) -> Option<String> {
    let (repo, digest) = inv.repo_digests.first()?.split_once('@')?;
    let name = repo.rsplit('/').next()?.to_ascii_lowercase();
    Some(format!(
        "pkg:oci/{}@{}?repository_url={}",
        encode(&name),
        encode(digest),
        encode(repo)
    ))
}

/// The package URL of an OS package (purl-spec types `deb`, `apk`, `rpm`). The epoch goes in the
/// `epoch` qualifier; qualifiers are sorted by key as the spec requires.
pub fn package_purl(p: &Package, os: Option<&OsRelease>) -> String {
    let default_ns = match p.format {
        PackageFormat::Deb => "debian",
        PackageFormat::Apk => "alpine",
        PackageFormat::Rpm => "redhat",
    };
    let namespace = os.map(|o| o.id.as_str()).unwrap_or(default_ns);
    let (epoch, version) = match p.version.split_once(':') {
        Some((e, v)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (Some(e), v),
        _ => (None, p.version.as_str()),
    };
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(a) = &p.arch {
        qualifiers.push(("arch", a.clone()));
    }
    if let Some(os) = os {
        let distro = match (p.format, &os.version_id) {
            (PackageFormat::Apk, Some(v)) => v.clone(),
            (_, Some(v)) => format!("{}-{v}", os.id),
            (_, None) => os.id.clone(),
        };
        qualifiers.push(("distro", distro));
    }
    if let Some(e) = epoch {
        qualifiers.push(("epoch", e.to_string()));
    }
    qualifiers.sort();
    let mut purl = format!(
        "pkg:{}/{}/{}@{}",
        p.format.as_str(),
        encode(&namespace.to_ascii_lowercase()),
        encode(&p.name),
        encode(version)
    );
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(&format!("{k}={}", encode(v)));
    }
    purl
}

/// Percent-encodes everything outside the purl-spec unreserved set and `:`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(format: PackageFormat, name: &str, version: &str, arch: &str) -> Package {
        Package {
            format,
            name: name.into(),
            version: version.into(),
            arch: Some(arch.into()),
            source_name: None,
            source_version: None,
        }
    }

    fn os(id: &str, version: &str) -> OsRelease {
        OsRelease {
            id: id.into(),
            version_id: Some(version.into()),
            ..OsRelease::default()
        }
    }

    #[test]
    fn package_urls_per_ecosystem() {
        let deb = pkg(PackageFormat::Deb, "bash", "5.0-4", "amd64");
        assert_eq!(
            package_purl(&deb, Some(&os("debian", "10"))),
            "pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10"
        );
        let deb = pkg(PackageFormat::Deb, "libc6", "1:2.28-10+deb10u1", "amd64");
        assert_eq!(
            package_purl(&deb, Some(&os("debian", "10"))),
            "pkg:deb/debian/libc6@2.28-10%2Bdeb10u1?arch=amd64&distro=debian-10&epoch=1"
        );
        let apk = pkg(PackageFormat::Apk, "musl", "1.2.4-r2", "x86_64");
        assert_eq!(
            package_purl(&apk, Some(&os("alpine", "3.19.1"))),
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1"
        );
        let rpm = pkg(
            PackageFormat::Rpm,
            "openssl-libs",
            "1:1.0.2k-19.el7",
            "x86_64",
        );
        assert_eq!(
            package_purl(&rpm, Some(&os("centos", "7"))),
            "pkg:rpm/centos/openssl-libs@1.0.2k-19.el7?arch=x86_64&distro=centos-7&epoch=1"
        );
    }

    #[test]
    fn document_names_the_image_and_states_completeness() {
        let inv = ImageInventory {
            image_id: format!("sha256:{}", "ab".repeat(32)),
            repo_tags: vec!["registry.example/app:1.2".into()],
            os: Some(os("debian", "10")),
            packages: vec![pkg(PackageFormat::Deb, "bash", "5.0-4", "amd64")],
            gaps: vec!["layer x missing".into()],
            ..ImageInventory::default()
        };
        assert_eq!(
            file_name(&inv),
            "sbom/registry.example_app_1.2-abababababab.cdx.json"
        );
        let t = "2026-01-02T03:04:05Z".parse().unwrap();
        let doc = document(&inv, t);
        assert_eq!(
            doc["metadata"]["component"]["hashes"][0]["content"],
            "ab".repeat(32)
        );
        assert_eq!(doc["components"][0]["type"], "operating-system");
        assert_eq!(
            doc["components"][1]["purl"],
            "pkg:deb/debian/bash@5.0-4?arch=amd64&distro=debian-10"
        );
        assert_eq!(doc["compositions"][0]["aggregate"], "incomplete");
        assert_eq!(doc, document(&inv, t), "deterministic");
        assert!(doc["serialNumber"]
            .as_str()
            .unwrap()
            .starts_with("urn:uuid:"));
    }
}
