//! Imported scanner reports: Trivy JSON (`trivy image -f json`, schema version 2) and Grype JSON
//! (`grype -o json`). A report is bound to the snapshot's images by image id, then by repo
//! digest; one that matches no image is kept and listed as unmatched. Neither format carries the
//! date a fix was released, so findings from them have no fix date.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::{well_known_name, Finding, Severity, VulnError, MAX_INPUT};
use crate::snapshot::Snapshot;

/// One report, read.
pub(super) struct Report {
    pub kind: &'static str,
    pub sha256: String,
    /// Ids of the snapshot's images it is bound to.
    pub images: Vec<String>,
    /// What the report says it scanned, for the unmatched list.
    pub subject: String,
    pub findings: Vec<Finding>,
}

pub(super) fn read(path: &Path, snapshot: &Snapshot) -> Result<Report, VulnError> {
    let io = |source| VulnError::Io {
        path: path.to_path_buf(),
        source,
    };
    let invalid = |message: String| VulnError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(invalid(format!("larger than {MAX_INPUT} bytes")));
    }
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        invalid(format!(
            "not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let sha256 = crate::bundle::sha256_bytes(&bytes);
    let (kind, ids, digests, subject, findings) =
        if doc.get("SchemaVersion").is_some() && doc.get("ArtifactName").is_some() {
            trivy(&doc).map_err(invalid)?
        } else if doc.get("matches").is_some() && doc.get("source").is_some() {
            grype(&doc).map_err(invalid)?
        } else {
            return Err(invalid(
            "neither a Trivy JSON report (SchemaVersion, ArtifactName, Results) nor a Grype JSON \
             report (matches, source)"
                .to_string(),
        ));
        };
    let images = bind(snapshot, &ids, &digests);
    Ok(Report {
        kind,
        sha256,
        images,
        subject,
        findings,
    })
}

type Parsed = (&'static str, Vec<String>, Vec<String>, String, Vec<Finding>);

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn trivy(doc: &Value) -> Result<Parsed, String> {
    let meta = doc.get("Metadata");
    let ids: Vec<String> = meta.and_then(|m| text(m, "ImageID")).into_iter().collect();
    let digests = strings(meta.and_then(|m| m.get("RepoDigests")));
    let subject = text(doc, "ArtifactName").unwrap_or_default();
    let mut findings = Vec::new();
    let results = match doc.get("Results") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err("Results is not a list".to_string()),
    };
    for (r, result) in results.iter().enumerate() {
        let vulns = match result.get("Vulnerabilities") {
            None | Some(Value::Null) => continue,
            Some(Value::Array(a)) => a,
            Some(_) => return Err(format!("Results[{r}].Vulnerabilities is not a list")),
        };
        for (i, v) in vulns.iter().enumerate() {
            let at = format!("Results[{r}].Vulnerabilities[{i}]");
            let id = text(v, "VulnerabilityID").ok_or(format!("{at} has no VulnerabilityID"))?;
            let package = text(v, "PkgName").ok_or(format!("{at} has no PkgName"))?;
            let fixed = text(v, "FixedVersion");
            findings.push(Finding {
                named: well_known_name(&id, &[]),
                id,
                aliases: Vec::new(),
                package,
                installed_version: text(v, "InstalledVersion").unwrap_or_default(),
                source_package: None,
                severity: Severity::parse(&text(v, "Severity").unwrap_or_default()),
                fixed_version: fixed,
                fix_published: None,
                fix_date_source: "none: Trivy reports carry no fix release date".to_string(),
                input: String::new(),
            });
        }
    }
    Ok(("trivy", ids, digests, subject, findings))
}

fn grype(doc: &Value) -> Result<Parsed, String> {
    let target = doc.pointer("/source/target");
    let mut ids: Vec<String> = target
        .and_then(|t| text(t, "imageID"))
        .into_iter()
        .collect();
    ids.extend(target.and_then(|t| text(t, "manifestDigest")));
    let digests = strings(target.and_then(|t| t.get("repoDigests")));
    let subject = target
        .and_then(|t| text(t, "userInput"))
        .unwrap_or_default();
    let matches = doc
        .get("matches")
        .and_then(Value::as_array)
        .ok_or("matches is not a list")?;
    let mut findings = Vec::new();
    for (i, m) in matches.iter().enumerate() {
        let at = format!("matches[{i}]");
        let vuln = m
            .get("vulnerability")
            .ok_or(format!("{at} has no vulnerability"))?;
        let artifact = m.get("artifact").ok_or(format!("{at} has no artifact"))?;
        let id = text(vuln, "id").ok_or(format!("{at}.vulnerability has no id"))?;
        let aliases: Vec<String> = m
            .get("relatedVulnerabilities")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|r| text(r, "id")).collect())
            .unwrap_or_default();
        let fixed = match vuln.pointer("/fix/state").and_then(Value::as_str) {
            Some("fixed") => strings(vuln.pointer("/fix/versions")).into_iter().next(),
            _ => None,
        };
        findings.push(Finding {
            named: well_known_name(&id, &aliases),
            id,
            aliases,
            package: text(artifact, "name").ok_or(format!("{at}.artifact has no name"))?,
            installed_version: text(artifact, "version").unwrap_or_default(),
            source_package: None,
            severity: Severity::parse(&text(vuln, "severity").unwrap_or_default()),
            fixed_version: fixed,
            fix_published: None,
            fix_date_source: "none: Grype reports carry no fix release date".to_string(),
            input: String::new(),
        });
    }
    Ok(("grype", ids, digests, subject, findings))
}

/// Ids of the snapshot's images with one of `ids` as id, or one of `digests` (`repo@sha256:..`)
/// among their RepoDigests.
fn bind(snapshot: &Snapshot, ids: &[String], digests: &[String]) -> Vec<String> {
    snapshot
        .engine
        .images
        .iter()
        .filter(|img| {
            let id = img.get("Id").and_then(Value::as_str).unwrap_or_default();
            let theirs = strings(img.get("RepoDigests"));
            (!id.is_empty() && ids.iter().any(|i| i == id))
                || digests.iter().any(|d| theirs.contains(d))
        })
        .filter_map(|img| img.get("Id").and_then(Value::as_str).map(str::to_string))
        .collect()
}
