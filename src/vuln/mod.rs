//! Vulnerability evidence for the images of a snapshot, from offline inputs only: imported
//! scanner reports (Trivy and Grype JSON, bound to images by image id or repo digest) and a
//! directory of OSV advisories matched against the package inventories by source package with
//! each ecosystem's own version ordering ([`version`]).
//!
//! This module reads its inputs and produces plain findings per image, plus the `Inventory` and
//! `Vulnerabilities` keys of the image view that catalog checks read; it never talks to the
//! engine or a network and never decides pass or fail. Every input names where a finding's fix
//! date comes from: for an OSV advisory that announces a fix (DSA, DLA, RHSA, ALSA, ...), its
//! `published` time; tracking records (`CVE-*`, `DEBIAN-CVE-*`) and Trivy and Grype reports
//! carry no fix release date, so their findings have none and the fix-age check ends in `error`
//! for them, never in `pass`.

mod cvss;
mod osv;
mod scanners;
pub mod version;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::inventory::COVERAGE;
use crate::snapshot::Snapshot;

/// Severity as the input rates it (CVSS v3 rating where only a vector is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    /// CVSS "None", Grype "Negligible".
    None,
    Unknown,
}

impl Severity {
    /// Lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::None => "none",
            Severity::Unknown => "unknown",
        }
    }

    fn parse(s: &str) -> Severity {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "negligible" | "none" => Severity::None,
            _ => Severity::Unknown,
        }
    }
}

/// One vulnerability in one package of one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    /// Advisory or vulnerability id (`CVE-2014-0160`, `DSA-2896-1`).
    pub id: String,
    /// Other ids of the same vulnerability (an advisory's CVEs).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Well-known name (`Heartbleed`) when the id or an alias has one.
    pub named: Option<String>,
    /// Installed package the finding is about.
    pub package: String,
    pub installed_version: String,
    /// Source package the advisory is filed under, when it differs from `package`.
    pub source_package: Option<String>,
    pub severity: Severity,
    /// First version that fixes it, when one is published.
    pub fixed_version: Option<String>,
    /// When the fix was published, when the input says.
    pub fix_published: Option<DateTime<Utc>>,
    /// Where `fix_published` comes from, or why there is none.
    pub fix_date_source: String,
    /// The input the finding comes from (file name).
    pub input: String,
}

/// An input that was read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// `trivy`, `grype` or `osv`.
    pub kind: String,
    /// Path as given on the command line.
    pub path: String,
    /// Where the file sits in the bundle (scanner reports are copied in), if it does.
    pub bundle_path: Option<String>,
    /// SHA-256 of the file; for an OSV directory, of its sorted `sha256  path` listing.
    pub sha256: String,
    /// Ids of the images it was bound to (scanner reports) or matched against (OSV).
    pub images: Vec<String>,
    /// Why it was bound to no image, or how many records it held.
    pub note: Option<String>,
}

/// Vulnerability findings of one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImageFindings {
    pub image_id: String,
    /// Display name (first tag, else short id).
    pub name: String,
    /// Inputs that cover this image (file names).
    pub inputs: Vec<String>,
    pub findings: Vec<Finding>,
}

/// Everything the vulnerability inputs said, per image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VulnEvidence {
    pub inputs: Vec<Input>,
    pub images: Vec<ImageFindings>,
}

/// The per-image section of the reports: what the inventory covers, each image's inventory in
/// brief, and the vulnerability evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImagesSection {
    /// What the inventory reads and leaves out ([`COVERAGE`]).
    pub coverage: String,
    /// `--images` of the collection (`in-use`, `all`, `none`), when recorded.
    pub selection: Option<String>,
    pub inventories: Vec<InventorySummary>,
    /// Present when a vulnerability input was given.
    pub vulnerabilities: Option<VulnEvidence>,
}

/// One image's inventory, in brief.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InventorySummary {
    pub image_id: String,
    pub name: String,
    pub os: Option<String>,
    /// `format path (n packages)` per database read.
    pub databases: Vec<String>,
    pub packages: usize,
    pub gaps: Vec<String>,
    /// The SBOM's path in the bundle.
    pub sbom: String,
}

/// The assessment's images section, if there is anything to say.
pub fn section(snapshot: &Snapshot, evidence: Option<&VulnEvidence>) -> Option<ImagesSection> {
    if snapshot.inventories.is_empty() && evidence.is_none() {
        return None;
    }
    Some(ImagesSection {
        coverage: COVERAGE.to_string(),
        selection: snapshot.collection.image_inventory.clone(),
        inventories: snapshot
            .inventories
            .iter()
            .map(|inv| InventorySummary {
                image_id: inv.image_id.clone(),
                name: inv.display_name(),
                os: inv
                    .os
                    .as_ref()
                    .map(|o| o.pretty_name.clone().unwrap_or_else(|| o.id.clone())),
                databases: inv
                    .databases
                    .iter()
                    .map(|d| format!("{} {} ({} packages)", d.format.as_str(), d.path, d.packages))
                    .collect(),
                packages: inv.packages.len(),
                gaps: inv.gaps.clone(),
                sbom: crate::sbom::file_name(inv),
            })
            .collect(),
        vulnerabilities: evidence.cloned(),
    })
}

/// Why the vulnerability inputs could not be read. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum VulnError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Largest input file read (scanner report or OSV record).
pub const MAX_INPUT: u64 = 256 * 1024 * 1024;

/// Well-known names of vulnerabilities, by CVE id.
const NAMED: &[(&str, &str)] = &[
    ("CVE-2014-6271", "Shellshock"),
    ("CVE-2014-7169", "Shellshock"),
    ("CVE-2014-7186", "Shellshock"),
    ("CVE-2014-7187", "Shellshock"),
    ("CVE-2014-6277", "Shellshock"),
    ("CVE-2014-6278", "Shellshock"),
    ("CVE-2014-0160", "Heartbleed"),
    ("CVE-2014-3566", "POODLE"),
    ("CVE-2015-0235", "GHOST"),
    ("CVE-2015-4000", "Logjam"),
    ("CVE-2016-0800", "DROWN"),
    ("CVE-2016-5195", "Dirty COW"),
    ("CVE-2021-44228", "Log4Shell"),
    ("CVE-2021-45046", "Log4Shell"),
    ("CVE-2023-4911", "Looney Tunables"),
    ("CVE-2024-3094", "xz backdoor"),
    ("CVE-2024-6387", "regreSSHion"),
];

/// The well-known name of a vulnerability id or any of its aliases.
pub fn well_known_name(id: &str, aliases: &[String]) -> Option<String> {
    std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .find_map(|i| NAMED.iter().find(|(cve, _)| cve.eq_ignore_ascii_case(i)))
        .map(|(_, name)| name.to_string())
}

/// Reads every input and binds the findings to the snapshot's images.
pub fn load(
    snapshot: &Snapshot,
    reports: &[PathBuf],
    advisories: Option<&Path>,
) -> Result<VulnEvidence, VulnError> {
    let mut evidence = VulnEvidence::default();
    let mut per_image: BTreeMap<String, ImageFindings> = BTreeMap::new();
    let names = image_names(snapshot);
    fn entry<'a>(
        per_image: &'a mut BTreeMap<String, ImageFindings>,
        names: &BTreeMap<String, String>,
        id: &str,
    ) -> &'a mut ImageFindings {
        per_image
            .entry(id.to_string())
            .or_insert_with(|| ImageFindings {
                image_id: id.to_string(),
                name: names.get(id).cloned().unwrap_or_else(|| id.to_string()),
                inputs: Vec::new(),
                findings: Vec::new(),
            })
    }
    for (n, path) in reports.iter().enumerate() {
        let report = scanners::read(path, snapshot)?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("report-{n}"));
        let bundle_path = format!("vuln-reports/{}-{}", n + 1, sanitize(&file));
        for id in &report.images {
            let e = entry(&mut per_image, &names, id);
            e.inputs.push(bundle_path.clone());
            e.findings
                .extend(report.findings.iter().cloned().map(|mut f| {
                    f.input = bundle_path.clone();
                    f
                }));
        }
        evidence.inputs.push(Input {
            kind: report.kind.to_string(),
            path: path.display().to_string(),
            bundle_path: Some(bundle_path),
            sha256: report.sha256,
            note: report
                .images
                .is_empty()
                .then(|| format!("unmatched: {}", report.subject)),
            images: report.images,
        });
    }
    if let Some(dir) = advisories {
        let db = osv::Database::load(dir)?;
        let mut matched = Vec::new();
        let label = format!("osv:{}", dir.display());
        for inv in &snapshot.inventories {
            let findings = db.matches(inv).into_iter().map(|mut f| {
                f.input = label.clone();
                f
            });
            let e = entry(&mut per_image, &names, &inv.image_id);
            e.inputs.push(label.clone());
            e.findings.extend(findings);
            matched.push(inv.image_id.clone());
        }
        evidence.inputs.push(Input {
            kind: "osv".to_string(),
            path: dir.display().to_string(),
            bundle_path: None,
            sha256: db.listing_sha256.clone(),
            images: matched,
            note: Some(format!("{} advisories", db.len())),
        });
    }
    for (_, mut img) in per_image {
        img.findings
            .sort_by(|a, b| (a.severity, &a.package, &a.id).cmp(&(b.severity, &b.package, &b.id)));
        img.findings.dedup();
        evidence.images.push(img);
    }
    Ok(evidence)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}

fn image_names(snapshot: &Snapshot) -> BTreeMap<String, String> {
    snapshot
        .engine
        .images
        .iter()
        .filter_map(|img| {
            let id = img.get("Id")?.as_str()?.to_string();
            let name = img
                .get("RepoTags")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .find(|t| !t.starts_with("<none>"))
                })
                .map(str::to_string)
                .unwrap_or_else(|| crate::inventory::short_id(&id).to_string());
            Some((id, name))
        })
        .collect()
}

/// Adds the `Inventory` and `Vulnerabilities` keys to an image's view, as the catalog's image
/// checks read them (documented in controls/README.md). `Inventory` is absent when the image was
/// not inventoried although the selection covered it (a gap), and `{"selected": false}` when the
/// selection left it out; `Vulnerabilities` is absent when no input covers the image.
pub fn decorate(view: &mut Value, snapshot: &Snapshot, evidence: Option<&VulnEvidence>) {
    let Some(id) = view.get("Id").and_then(Value::as_str).map(str::to_string) else {
        return;
    };
    let Some(map) = view.as_object_mut() else {
        return;
    };
    let selection = snapshot.collection.image_inventory.as_deref();
    let in_use = snapshot
        .engine
        .containers
        .iter()
        .any(|c| c.get("Image").and_then(Value::as_str) == Some(id.as_str()));
    let selected = match selection {
        Some("all") => true,
        Some("in-use") => in_use,
        _ => false,
    };
    match snapshot.inventories.iter().find(|i| i.image_id == id) {
        Some(inv) => {
            map.insert(
                "Inventory".into(),
                json!({
                    "selected": true,
                    "complete": inv.complete(),
                    "os": inv.os.as_ref().map(|o| o.pretty_name.clone().unwrap_or(o.id.clone())),
                    "packages": inv.packages.len(),
                    "databases": inv.databases.iter().map(|d| d.path.clone()).collect::<Vec<_>>(),
                    "gaps": inv.gaps,
                    "coverage": COVERAGE,
                }),
            );
        }
        None if !selected && selection.is_some() && selection != Some("none") => {
            map.insert("Inventory".into(), json!({"selected": false}));
        }
        None => {}
    }
    map.insert("InUse".into(), json!(in_use));
    let Some(img) = evidence.and_then(|e| e.images.iter().find(|i| i.image_id == id)) else {
        return;
    };
    let collected = snapshot.collection.finished_at;
    let findings: Vec<Value> = img
        .findings
        .iter()
        .map(|f| {
            let mut v = json!({
                "id": f.id,
                "package": f.package,
                "installed_version": f.installed_version,
                "severity": f.severity.as_str(),
                "fixed_version": f.fixed_version,
                "fix_date_source": f.fix_date_source,
                "input": f.input,
            });
            if let Some(named) = &f.named {
                v["named"] = json!(named);
            }
            if let Some(t) = f.fix_published {
                v["fix_published"] = json!(t.to_rfc3339());
                v["fix_age_days"] = json!((collected - t).num_days());
            }
            v
        })
        .collect();
    let mut counts = BTreeMap::new();
    for f in &img.findings {
        *counts.entry(f.severity.as_str()).or_insert(0usize) += 1;
    }
    map.insert(
        "Vulnerabilities".into(),
        json!({"inputs": img.inputs, "counts": counts, "findings": findings}),
    );
}
