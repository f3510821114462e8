//! Reading a stored assessment: a bundle directory (its `assessment.json`) or an assessment file,
//! for `diff` and `--history`. Documents of an older schema are migrated
//! ([`crate::assessment::migrate`]); newer ones are refused.
//!
//! Every error names the file and says what is wrong with it, so a scheduled job's log is enough
//! to fix the input. It never reads the snapshot: the assessment carries all a diff needs.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::assessment::{Assessment, SCHEMA_VERSION};

/// Why an assessment could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    /// The message carries serde_json's line and column.
    #[error("{path} is not valid JSON (truncated or damaged?): {message}")]
    Parse { path: String, message: String },
    #[error("{path} is not a dockproof assessment (expected `assessment.json` of a bundle{hint})")]
    NotAssessment { path: String, hint: &'static str },
    #[error(
        "{path} has assessment schema version {found}, newer than this dockproof understands \
         ({supported}); upgrade dockproof to compare it"
    )]
    FutureVersion {
        path: String,
        found: u64,
        supported: u32,
    },
    #[error("{path} does not match the assessment layout: {message}")]
    Layout { path: String, message: String },
    /// A fleet assessment where one host's was expected, or the other way round.
    #[error("{path} is {found}, but {expected} is needed here")]
    Kind {
        path: String,
        found: &'static str,
        expected: &'static str,
    },
}

/// An assessment of either kind, as [`load_any`] found it.
#[derive(Debug)]
pub enum Loaded {
    /// One host's assessment.
    Host(Box<Assessment>),
    /// A fleet's (`kind: fleet`), whose hosts are under `hosts/` beside it.
    Fleet(Box<crate::fleet::FleetAssessment>),
}

/// Reads the assessment at `path` (a bundle directory or a file), host or fleet.
pub fn load_any(path: &Path) -> Result<Loaded, LoadError> {
    let (bytes, name) = read(path)?;
    if is_fleet(&bytes) {
        fleet_from_slice(&bytes, &name).map(|f| Loaded::Fleet(Box::new(f)))
    } else {
        from_slice(&bytes, &name).map(|a| Loaded::Host(Box::new(a)))
    }
}

/// Whether a document says `"kind": "fleet"` (read cheaply, without the whole layout).
fn is_fleet(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: Option<String>,
    }
    serde_json::from_slice::<Kind>(bytes)
        .is_ok_and(|k| k.kind.as_deref() == Some(crate::fleet::KIND))
}

/// Parses a fleet assessment document; `origin` names it in errors.
pub fn fleet_from_slice(
    bytes: &[u8],
    origin: &str,
) -> Result<crate::fleet::FleetAssessment, LoadError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| LoadError::Parse {
        path: origin.to_string(),
        message: e.to_string(),
    })?;
    if raw.get("kind").and_then(Value::as_str) != Some(crate::fleet::KIND) {
        return Err(LoadError::Kind {
            path: origin.to_string(),
            found: "not a fleet assessment",
            expected: "a fleet bundle's assessment.json",
        });
    }
    match raw.get("schema_version").and_then(Value::as_u64) {
        Some(found) if found > u64::from(crate::fleet::SCHEMA_VERSION) => {
            return Err(LoadError::FutureVersion {
                path: origin.to_string(),
                found,
                supported: crate::fleet::SCHEMA_VERSION,
            })
        }
        Some(_) => {}
        None => {
            return Err(LoadError::NotAssessment {
                path: origin.to_string(),
                hint: "; it has no schema_version",
            })
        }
    }
    serde_path_to_error::deserialize(raw).map_err(|e| LoadError::Layout {
        path: origin.to_string(),
        message: format!("`{}`: {}", e.path(), e.inner()),
    })
}

/// Reads the assessment at `path`: `path/assessment.json` when it is a directory, else the file.
pub fn load(path: &Path) -> Result<Assessment, LoadError> {
    let (bytes, name) = read(path)?;
    from_slice(&bytes, &name)
}

/// The bytes of `path/assessment.json` when `path` is a directory, else of the file, with the
/// name errors give it.
fn read(path: &Path) -> Result<(Vec<u8>, String), LoadError> {
    let file: PathBuf = if path.is_dir() {
        path.join("assessment.json")
    } else {
        path.to_path_buf()
    };
    let bytes = crate::input::read(&file, "assessment", crate::input::MAX_ASSESSMENT)?;
    Ok((bytes, file.display().to_string()))
}

/// Parses an assessment document; `origin` names it in errors.
pub fn from_slice(bytes: &[u8], origin: &str) -> Result<Assessment, LoadError> {
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| LoadError::Parse {
        path: origin.to_string(),
        message: e.to_string(),
    })?;
    let not_assessment = |hint| LoadError::NotAssessment {
        path: origin.to_string(),
        hint,
    };
    // Check the shape and version before the layout, so a snapshot or a future document gets a
    // message that says so instead of "missing field".
    if raw.get("kind").and_then(Value::as_str) == Some(crate::fleet::KIND) {
        return Err(LoadError::Kind {
            path: origin.to_string(),
            found: "a fleet assessment (its hosts are under hosts/ beside it)",
            expected: "one host's assessment",
        });
    }
    if raw.get("engine").is_some() && raw.get("results").is_none() {
        return Err(not_assessment("; this looks like a snapshot"));
    }
    if raw.get("results").is_none() || raw.get("checks").is_none() {
        return Err(not_assessment(""));
    }
    match raw.get("schema_version").and_then(Value::as_u64) {
        None => return Err(not_assessment("; it has no schema_version")),
        Some(found) if found > u64::from(SCHEMA_VERSION) => {
            return Err(LoadError::FutureVersion {
                path: origin.to_string(),
                found,
                supported: SCHEMA_VERSION,
            })
        }
        Some(_) => {}
    }
    let mut raw = raw;
    let upgraded = crate::assessment::migrate::upgrade(&mut raw);
    let mut assessment: Assessment =
        serde_path_to_error::deserialize(raw).map_err(|e| LoadError::Layout {
            path: origin.to_string(),
            message: format!("`{}`: {}", e.path(), e.inner()),
        })?;
    if upgraded {
        crate::assessment::migrate::finish(&mut assessment);
    }
    Ok(assessment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_json_names_the_file_and_position() {
        let e = from_slice(b"{\"schema_version\": 1, \"res", "old/assessment.json")
            .expect_err("truncated");
        let msg = e.to_string();
        assert!(
            msg.starts_with("old/assessment.json is not valid JSON"),
            "{msg}"
        );
    }

    #[test]
    fn a_snapshot_is_recognised() {
        let e = from_slice(br#"{"schema_version": 1, "engine": {}}"#, "s.json").expect_err("x");
        assert!(e.to_string().contains("looks like a snapshot"), "{e}");
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let e = from_slice(
            br#"{"schema_version": 99, "results": [], "checks": []}"#,
            "new.json",
        )
        .expect_err("future");
        assert!(
            matches!(e, LoadError::FutureVersion { found: 99, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("new.json"), "{e}");
    }
}
