//! The engagement scope file (`--scope FILE`): whose environment was assessed, by whom, for which
//! period and under which confidentiality marking, and the role this host plays in it.
//!
//! The host's role and labels use the one schema of [`crate::scope::HostProfile`], shared with
//! fleet targets files. The file is hostile input like every other: it is read through
//! [`crate::input`] with a size bound, unknown fields are refused, and every value is bounded
//! and free of control and invisible formatting characters (notes may span lines). Errors name
//! the file and the line. Renderers still pass every value through [`crate::text`].
//!
//! This module parses and validates; it never writes and never prints.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use sha2::{Digest, Sha256};

use crate::provenance::InputFile;
use crate::scope::HostProfile;

/// Largest scope file read; real ones are a few hundred bytes.
pub const MAX_SCOPE_FILE: u64 = 64 << 10;
/// Longest single-line value (entity, names, marking, ids).
pub const MAX_FIELD: usize = 200;
/// Longest `notes` value.
pub const MAX_NOTES: usize = 4000;

/// Who took part in the engagement: the assessor or the operator of the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// A person's or team's name.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// E-mail address or telephone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

impl Party {
    /// `Name, Organisation <contact>` for a report line.
    pub fn line(&self) -> String {
        let mut s = self.name.clone();
        if let Some(o) = &self.organisation {
            s.push_str(", ");
            s.push_str(o);
        }
        if let Some(c) = &self.contact {
            s.push_str(" <");
            s.push_str(c);
            s.push('>');
        }
        s
    }
}

/// The engagement period, both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// What an engagement covers, as declared by whoever runs the assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementScope {
    /// The organisation whose environment is assessed.
    pub entity: String,
    /// The environment within it (`payments production`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// This host's role and labels.
    #[serde(default)]
    pub host: HostProfile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessor: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Party>,
    /// The engagement's own reference for this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Confidentiality marking printed on every page (`Confidential`, `TLP:AMBER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The sentence every report prints when no scope file was given.
pub const NO_SCOPE: &str = "No engagement scope was declared: the assessed entity, the host's \
role, the assessor and the confidentiality marking are not stated in this report.";

/// Why a scope file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
}

impl EngagementScope {
    /// Reads and validates a scope file; also returns it as an input of the run, with the
    /// SHA-256 of the bytes read, for the provenance record.
    pub fn load(path: &Path) -> Result<(Self, InputFile), ScopeError> {
        let text = crate::input::read_to_string(path, "scope file", MAX_SCOPE_FILE)?;
        let input = InputFile {
            role: "scope".to_string(),
            path: path.display().to_string(),
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        };
        Ok((Self::parse(&text, &path.display().to_string())?, input))
    }

    /// Parses and validates the text of a scope file named `file` in messages.
    pub fn parse(text: &str, file: &str) -> Result<Self, ScopeError> {
        let invalid = |line: usize, message: String| ScopeError::Invalid {
            file: file.to_string(),
            line,
            message,
        };
        let scope: EngagementScope = serde_yaml_ng::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(1);
            let message = e.to_string();
            // The library appends its own " at line N column M"; the prefix says it already.
            let message = match message.find(" at line ") {
                Some(at) => message[..at].to_string(),
                None => message,
            };
            invalid(line, message)
        })?;
        if let Err(e) = scope.host.validate() {
            let key = match &e {
                crate::scope::ProfileError::BadKey(k) => Some(k.as_str()),
                crate::scope::ProfileError::BadValue { key } => Some(key.as_str()),
                crate::scope::ProfileError::TooMany(_) => None,
            };
            let line = key
                .and_then(|k| line_of(text, k))
                .or_else(|| line_of(text, "labels"))
                .unwrap_or(1);
            return Err(invalid(line, e.to_string()));
        }
        for (name, value, limit, multiline) in scope.fields() {
            if let Some(problem) = bad_value(value, limit, multiline) {
                let line = line_of(text, name.rsplit('.').next().unwrap_or(name)).unwrap_or(1);
                return Err(invalid(line, format!("`{name}` {problem}")));
            }
        }
        if let Some(p) = scope.period {
            if p.end < p.start {
                let line = line_of(text, "end").unwrap_or(1);
                return Err(invalid(
                    line,
                    format!("the period ends ({}) before it starts ({})", p.end, p.start),
                ));
            }
        }
        Ok(scope)
    }

    /// Every free-text value with its dotted name, its length limit and whether it may span
    /// lines.
    fn fields(&self) -> Vec<(&'static str, &str, usize, bool)> {
        let mut single = vec![
            ("entity", Some(self.entity.as_str())),
            ("environment", self.environment.as_deref()),
            ("report_id", self.report_id.as_deref()),
            ("marking", self.marking.as_deref()),
        ];
        single.extend(party(
            &self.assessor,
            ["assessor.name", "assessor.organisation", "assessor.contact"],
        ));
        single.extend(party(
            &self.operator,
            ["operator.name", "operator.organisation", "operator.contact"],
        ));
        let mut out: Vec<_> = single
            .into_iter()
            .filter_map(|(name, v)| v.map(|v| (name, v, MAX_FIELD, false)))
            .collect();
        if let Some(notes) = &self.notes {
            out.push(("notes", notes.as_str(), MAX_NOTES, true));
        }
        out
    }

    /// The marking, or the entity alone, for a page header: `Confidential · Example Corp`.
    pub fn header(&self) -> String {
        match &self.marking {
            Some(m) => format!("{m} · {}", self.entity),
            None => self.entity.clone(),
        }
    }

    /// Label and value pairs as a report's scope block lists them, in order; absent values are
    /// said to be not declared.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let or_not = |v: Option<String>| v.unwrap_or_else(|| "not declared".to_string());
        let labels = if self.host.labels.is_empty() {
            "none".to_string()
        } else {
            (self.host.labels.iter())
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        vec![
            ("Assessed entity", self.entity.clone()),
            ("Environment", or_not(self.environment.clone())),
            (
                "Host role",
                or_not(self.host.role.map(|r| r.label().to_string())),
            ),
            ("Host labels", labels),
            ("Assessor", or_not(self.assessor.as_ref().map(Party::line))),
            ("Operator", or_not(self.operator.as_ref().map(Party::line))),
            ("Report id", or_not(self.report_id.clone())),
            (
                "Engagement period",
                or_not(self.period.map(|p| format!("{} to {}", p.start, p.end))),
            ),
            ("Marking", or_not(self.marking.clone())),
            ("Notes", or_not(self.notes.clone())),
        ]
    }
}

/// A party's values with their dotted names.
fn party<'a>(
    p: &'a Option<Party>,
    names: [&'static str; 3],
) -> Vec<(&'static str, Option<&'a str>)> {
    match p {
        Some(p) => vec![
            (names[0], Some(p.name.as_str())),
            (names[1], p.organisation.as_deref()),
            (names[2], p.contact.as_deref()),
        ],
        None => Vec::new(),
    }
}

/// Why a value is refused, if it is.
fn bad_value(value: &str, limit: usize, multiline: bool) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".to_string());
    }
    if value.chars().count() > limit {
        return Some(format!("is longer than {limit} characters"));
    }
    let allowed = |c: char| multiline && c == '\n';
    if let Some(c) = value
        .chars()
        .find(|c| crate::text::is_hidden(*c) && !allowed(*c))
    {
        return Some(format!(
            "contains the control or invisible character U+{:04X}",
            u32::from(c)
        ));
    }
    None
}

/// The 1-based line on which `key:` is first written, quoted or not.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            let l = l.trim_start_matches(['"', '\'']);
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(':'))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::HostRole;

    fn parse(text: &str) -> Result<EngagementScope, ScopeError> {
        EngagementScope::parse(text, "scope.yaml")
    }

    fn message(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_sample_parses_with_every_field() {
        let text = include_str!("../samples/scope.yaml");
        let s = parse(text).unwrap();
        assert_eq!(s.host.role, Some(HostRole::CardholderDataEnvironment));
        assert!(s.assessor.is_some() && s.operator.is_some() && s.period.is_some());
        assert!(s.marking.is_some() && s.report_id.is_some());
        assert!(s.rows().iter().all(|(_, v)| v != "not declared"));
    }

    #[test]
    fn only_the_entity_is_required() {
        let s = parse("entity: Example Corp\n").unwrap();
        assert_eq!(s.header(), "Example Corp");
        assert!(
            message("marking: Confidential\n").starts_with("scope.yaml:1: missing field `entity`")
        );
    }

    #[test]
    fn errors_name_the_file_and_line() {
        assert_eq!(
            message("entity: X\nhost:\n  role: cde\n"),
            "scope.yaml:3: host.role: unknown variant `cde`, expected one of \
             `cardholder-data-environment`, `connected-to`, `ephi-system`, `out-of-scope`"
        );
        let m = message("entity: X\nmarkng: Secret\n");
        assert!(m.starts_with("scope.yaml:2: unknown field `markng`"), "{m}");
        let m = message("entity: X\nhost:\n  labels:\n    'bad key': x\n");
        assert!(m.starts_with("scope.yaml:4: label key \"bad key\""), "{m}");
        let m = message("entity: X\nmarking: \"a\\u202eb\"\n");
        assert_eq!(
            m,
            "scope.yaml:2: `marking` contains the control or invisible character U+202E"
        );
        let m = message("entity: X\nperiod:\n  start: 2026-02-01\n  end: 2026-01-01\n");
        assert!(m.starts_with("scope.yaml:4: the period ends"), "{m}");
        let m = message("entity: X\nassessor:\n  name: A\n  email: a@b\n");
        assert!(
            m.starts_with("scope.yaml:4: assessor: unknown field `email`"),
            "{m}"
        );
    }

    #[test]
    fn notes_may_span_lines_but_names_may_not() {
        parse("entity: X\nnotes: |\n  one\n  two\n").unwrap();
        let m = message("entity: \"a\\nb\"\n");
        assert!(m.contains("U+000A"), "{m}");
    }
}
