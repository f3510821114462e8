//! OSV advisories (the OSV JSON schema, one record per file as osv.dev publishes them per
//! ecosystem) matched against package inventories.
//!
//! A record's `affected` entry applies to an image when its ecosystem names the image's
//! distribution and release (`Debian:7`, `Alpine:v3.19`, `Ubuntu:22.04`, `Rocky Linux:9`,
//! `AlmaLinux:9`, `Red Hat:...:9...`) and its package name is the installed package's source
//! package (Debian, Alpine: advisories are filed by source) or binary name (rpm). The installed
//! version is then placed on the entry's `ECOSYSTEM` ranges with that ecosystem's ordering, or
//! found in its explicit `versions` list.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::version::compare;
use super::{cvss, well_known_name, Finding, Severity, VulnError};
use crate::inventory::{ImageInventory, OsRelease, Package, PackageFormat};

/// Largest single OSV record read.
const MAX_RECORD: u64 = 16 * 1024 * 1024;

/// The advisories of a directory, indexed by (ecosystem name, package name).
pub(super) struct Database {
    records: Vec<Value>,
    index: HashMap<(String, String), Vec<(usize, usize)>>,
    /// SHA-256 of the sorted `sha256  relative/path` lines of every record read.
    pub listing_sha256: String,
}

impl Database {
    pub fn load(dir: &Path) -> Result<Database, VulnError> {
        if !dir.is_dir() {
            return Err(VulnError::Invalid {
                path: dir.to_path_buf(),
                message: "is not a directory of OSV advisories".to_string(),
            });
        }
        let mut files: Vec<_> = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        let mut records = Vec::new();
        let mut index: HashMap<(String, String), Vec<(usize, usize)>> = HashMap::new();
        let mut listing = String::new();
        for path in files {
            let invalid = |message: String| VulnError::Invalid {
                path: path.clone(),
                message,
            };
            let mut bytes = Vec::new();
            std::fs::File::open(&path)
                .and_then(|f| f.take(MAX_RECORD + 1).read_to_end(&mut bytes))
                .map_err(|source| VulnError::Io {
                    path: path.clone(),
                    source,
                })?;
            if bytes.len() as u64 > MAX_RECORD {
                return Err(invalid(format!("larger than {MAX_RECORD} bytes")));
            }
            let record: Value = serde_json::from_slice(&bytes).map_err(|e| {
                invalid(format!(
                    "not an OSV record: line {}, column {}: {e}",
                    e.line(),
                    e.column()
                ))
            })?;
            if record.get("id").and_then(Value::as_str).is_none() {
                return Err(invalid("OSV record without an `id`".to_string()));
            }
            let affected = match record.get("affected") {
                None => &[][..],
                Some(Value::Array(a)) => a.as_slice(),
                Some(_) => return Err(invalid("`affected` is not a list".to_string())),
            };
            let n = records.len();
            for (i, a) in affected.iter().enumerate() {
                let eco = a.pointer("/package/ecosystem").and_then(Value::as_str);
                let name = a.pointer("/package/name").and_then(Value::as_str);
                if let (Some(eco), Some(name)) = (eco, name) {
                    let base = eco.split(':').next().unwrap_or(eco).to_string();
                    index
                        .entry((base, name.to_string()))
                        .or_default()
                        .push((n, i));
                }
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            listing.push_str(&format!("{}  {rel}\n", crate::bundle::sha256_bytes(&bytes)));
            records.push(record);
        }
        Ok(Database {
            records,
            index,
            listing_sha256: crate::bundle::sha256_bytes(listing.as_bytes()),
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Findings of every advisory that affects a package of `inv`.
    pub fn matches(&self, inv: &ImageInventory) -> Vec<Finding> {
        let Some(os) = &inv.os else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pkg in &inv.packages {
            let Some((base, release_ok)) = ecosystem(os, pkg.format) else {
                continue;
            };
            let mut names = vec![pkg.advisory_name()];
            if pkg.name != pkg.advisory_name() {
                names.push(&pkg.name);
            }
            for name in names {
                let key = (base.to_string(), name.to_string());
                for &(r, a) in self.index.get(&key).into_iter().flatten() {
                    let record = &self.records[r];
                    let affected = &record["affected"][a];
                    let eco = affected
                        .pointer("/package/ecosystem")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let release = eco.split_once(':').map(|(_, r)| r);
                    if !release.is_none_or(&release_ok) {
                        continue;
                    }
                    if let Some(f) = finding(record, affected, pkg) {
                        out.push(f);
                    }
                }
            }
        }
        out
    }
}

type ReleaseTest = Box<dyn Fn(&str) -> bool>;

/// The OSV ecosystem name of an image's distribution, and a test of an ecosystem's release part.
fn ecosystem(os: &OsRelease, format: PackageFormat) -> Option<(&'static str, ReleaseTest)> {
    let version = os.version_id.clone().unwrap_or_default();
    let major = version.split('.').next().unwrap_or("").to_string();
    let major_minor: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    match (format, os.id.as_str()) {
        (PackageFormat::Deb, "debian") => Some(("Debian", Box::new(move |r| r == major))),
        (PackageFormat::Deb, "ubuntu") => Some((
            "Ubuntu",
            Box::new(move |r| r.split(':').next() == Some(version.as_str())),
        )),
        (PackageFormat::Apk, "alpine") => Some((
            "Alpine",
            Box::new(move |r| r.strip_prefix('v') == Some(major_minor.as_str())),
        )),
        (PackageFormat::Rpm, "rocky") => Some(("Rocky Linux", Box::new(move |r| r == major))),
        (PackageFormat::Rpm, "almalinux") => Some(("AlmaLinux", Box::new(move |r| r == major))),
        (PackageFormat::Rpm, "rhel" | "centos") => Some((
            "Red Hat",
            Box::new(move |r| {
                r.split(':')
                    .any(|p| p == major || p.starts_with(&format!("{major}.")))
            }),
        )),
        _ => None,
    }
}

/// The finding when `affected` covers the installed version of `pkg`.
fn finding(record: &Value, affected: &Value, pkg: &Package) -> Option<Finding> {
    let installed = match pkg.format {
        PackageFormat::Deb => pkg.advisory_version(),
        _ => pkg.version.as_str(),
    };
    let listed = affected
        .get("versions")
        .and_then(Value::as_array)
        .is_some_and(|v| v.iter().any(|x| x.as_str() == Some(installed)));
    let mut hit = listed;
    let mut fixed = None;
    for range in affected
        .get("ranges")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if range.get("type").and_then(Value::as_str) != Some("ECOSYSTEM") {
            continue;
        }
        if let Some((inside, fix)) = place(range, pkg.format, installed) {
            if inside {
                hit = true;
                fixed = fixed.or(fix);
            }
        }
    }
    if !hit {
        return None;
    }
    let id = record.get("id")?.as_str()?.to_string();
    let aliases: Vec<String> = record
        .get("aliases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let tracking = id.starts_with("CVE-") || id.contains("-CVE-");
    let published = record
        .get("published")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let (fix_published, fix_date_source) = match (&fixed, tracking, published) {
        (Some(_), false, Some(t)) => (Some(t), format!("OSV advisory {id}: published")),
        (Some(_), true, _) => (
            None,
            format!("none: {id} is a tracking record; its dates are not a fix release date"),
        ),
        (Some(_), false, None) => (
            None,
            format!("none: OSV advisory {id} has no published date"),
        ),
        (None, _, _) => (None, "none: no fix published".to_string()),
    };
    Some(Finding {
        named: well_known_name(&id, &aliases),
        severity: severity(record, affected),
        aliases,
        id,
        package: pkg.name.clone(),
        installed_version: pkg.version.clone(),
        source_package: (pkg.advisory_name() != pkg.name).then(|| pkg.advisory_name().to_string()),
        fixed_version: fixed,
        fix_published,
        fix_date_source,
        input: String::new(),
    })
}

/// Whether `installed` falls inside an ECOSYSTEM range, and the range's fix above it.
fn place(range: &Value, format: PackageFormat, installed: &str) -> Option<(bool, Option<String>)> {
    let events = range.get("events")?.as_array()?;
    let mut events: Vec<(&str, &str)> = events
        .iter()
        .filter_map(|e| {
            let obj = e.as_object()?;
            let (k, v) = obj.iter().next()?;
            Some((k.as_str(), v.as_str()?))
        })
        .collect();
    // "0" is before every version; the rest in the ecosystem's order.
    events.sort_by(|a, b| match (a.1, b.1) {
        ("0", "0") => std::cmp::Ordering::Equal,
        ("0", _) => std::cmp::Ordering::Less,
        (_, "0") => std::cmp::Ordering::Greater,
        (x, y) => compare(format, x, y),
    });
    let mut inside = false;
    let mut fix = None;
    for (kind, v) in &events {
        let at_or_above = *v == "0" || compare(format, installed, v).is_ge();
        match *kind {
            "introduced" if at_or_above => inside = true,
            "fixed" if at_or_above => inside = false,
            "fixed" if inside && fix.is_none() => fix = Some(v.to_string()),
            "last_affected" if *v != "0" && compare(format, installed, v).is_gt() => inside = false,
            _ => {}
        }
    }
    Some((inside, if inside { fix } else { None }))
}

fn severity(record: &Value, affected: &Value) -> Severity {
    let word = [
        record.pointer("/database_specific/severity"),
        affected.pointer("/ecosystem_specific/severity"),
        affected.pointer("/database_specific/severity"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str);
    if let Some(w) = word {
        let s = Severity::parse(w);
        if s != Severity::Unknown {
            return s;
        }
    }
    record
        .get("severity")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| {
            s.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.starts_with("CVSS_V3"))
        })
        .find_map(|s| {
            s.get("score")
                .and_then(Value::as_str)
                .and_then(cvss::base_score)
        })
        .map(cvss::rating)
        .unwrap_or(Severity::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_with_unsorted_events_reintroductions_and_last_affected() {
        let range = json!({"type": "ECOSYSTEM", "events": [
            {"fixed": "1.0-3"}, {"introduced": "0"}, {"introduced": "2.0-1"}, {"fixed": "2.0-4"}]});
        let deb = PackageFormat::Deb;
        assert_eq!(
            place(&range, deb, "1.0-2"),
            Some((true, Some("1.0-3".into())))
        );
        assert_eq!(place(&range, deb, "1.0-3"), Some((false, None)));
        assert_eq!(
            place(&range, deb, "1:0.1"),
            Some((false, None)),
            "the epoch wins"
        );
        assert_eq!(
            place(&range, deb, "2.0-1~bpo"),
            Some((false, None)),
            "tilde sorts before"
        );
        assert_eq!(
            place(&range, deb, "2.0-3"),
            Some((true, Some("2.0-4".into())))
        );
        let last = json!({"type": "ECOSYSTEM", "events": [
            {"introduced": "1.2.0-r0"}, {"last_affected": "1.2.3-r1"}]});
        let apk = PackageFormat::Apk;
        assert_eq!(place(&last, apk, "1.2.3-r1"), Some((true, None)));
        assert_eq!(place(&last, apk, "1.2.3-r2"), Some((false, None)));
        assert_eq!(place(&last, apk, "1.1_rc1"), Some((false, None)));
    }

    #[test]
    fn severity_words_before_vectors() {
        let record = json!({"severity": [{"type": "CVSS_V3",
            "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]});
        assert_eq!(severity(&record, &json!({})), Severity::Critical);
        let worded = json!({"database_specific": {"severity": "Moderate"}});
        assert_eq!(severity(&worded, &json!({})), Severity::Medium);
        assert_eq!(severity(&json!({}), &json!({})), Severity::Unknown);
    }
}
