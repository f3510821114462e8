//! The record of a run's selection and configuration, as the assessment carries it.
//!
//! A report must say what it did not look at: the checks a selection left out, the containers
//! a filter left out (by id and name), and where each setting of the run came from. Renderers
//! read these records; they are never used to decide a state (the roll-up does that from the
//! selection itself).

use serde::{Deserialize, Serialize};

use super::ResourceRef;

/// What `--check`, `--skip` and `--filter` asked for and what they left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SelectionRecord {
    /// `--check` patterns as given (empty: every check was asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// `--skip` patterns as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<String>,
    /// `--filter` expressions as given (`docker ps --filter` form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Ids of the catalog checks that were not evaluated, sorted.
    #[serde(default)]
    pub skipped_checks: Vec<String>,
    /// Resources the filters left out: no check judged them.
    #[serde(default)]
    pub excluded_resources: Vec<ResourceRef>,
}

impl SelectionRecord {
    /// One line for a report's provenance: what was asked and what was left out.
    pub fn summary(&self) -> String {
        let mut asked = Vec::new();
        if !self.checks.is_empty() {
            asked.push(format!("--check {}", self.checks.join(",")));
        }
        if !self.skip.is_empty() {
            asked.push(format!("--skip {}", self.skip.join(",")));
        }
        for f in &self.filters {
            asked.push(format!("--filter {f}"));
        }
        format!(
            "Selection ({}): {} check(s) not evaluated, {} resource(s) left out; requirements \
             they decide are not assessed (excluded by selection)",
            asked.join(" "),
            self.skipped_checks.len(),
            self.excluded_resources.len()
        )
    }

    /// The record as short lines, the same in every report: what was asked, the checks not
    /// evaluated, the resources left out.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.summary()];
        if !self.skipped_checks.is_empty() {
            lines.push(format!(
                "Checks not evaluated: {}",
                self.skipped_checks.join(", ")
            ));
        }
        let names = self.excluded_names();
        if !names.is_empty() {
            lines.push(format!("Left out by the filters: {}", names.join(", ")));
        }
        lines
    }

    /// The resources left out, as `kind name (id)` items.
    pub fn excluded_names(&self) -> Vec<String> {
        self.excluded_resources
            .iter()
            .map(|r| format!("{} {} ({})", r.kind.as_str(), r.name, r.id))
            .collect()
    }
}

/// Where one setting of the run came from, in precedence order (a flag wins over the
/// environment, which wins over the configuration file, which wins over the default).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    Flag,
    Environment,
    ConfigFile,
    Default,
}

impl ValueSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueSource::Flag => "flag",
            ValueSource::Environment => "environment",
            ValueSource::ConfigFile => "config file",
            ValueSource::Default => "default",
        }
    }
}

/// One effective setting.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigValue {
    /// The setting, named as its long flag (`fail-on`).
    pub key: String,
    /// The value in effect, as text.
    pub value: String,
    pub source: ValueSource,
    /// The environment variable or the file line it came from, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// The configuration file read, if any.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigFileRef {
    pub path: String,
    pub sha256: String,
    /// How it was found: `--config`, `DOCKPROOF_CONFIG`, `working directory` or `user
    /// configuration directory`.
    pub found_by: String,
}

/// The effective configuration of a run: the file read and every setting that was not left at
/// its default.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Configuration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<ConfigFileRef>,
    #[serde(default)]
    pub values: Vec<ConfigValue>,
}

impl Configuration {
    /// The configuration as short lines: the file (path, how it was found, SHA-256), then one
    /// line per setting that did not keep its default, with where it came from.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![match &self.file {
            Some(f) => format!(
                "Configuration file: {} (via {}; SHA-256 {})",
                f.path, f.found_by, f.sha256
            ),
            None => "Configuration file: none".to_string(),
        }];
        for v in &self.values {
            let origin = v
                .origin
                .as_deref()
                .map(|o| format!(", {o}"))
                .unwrap_or_default();
            lines.push(format!(
                "{} = {} ({}{origin})",
                v.key,
                v.value,
                v.source.as_str()
            ));
        }
        lines
    }
}
