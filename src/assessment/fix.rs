//! Machine-readable remediation keys and the grouped fixes built from them.
//!
//! Every automated check names one [`Fix`]: the single change that makes a failing resource
//! comply (a daemon.json key and value, a `docker run` flag to add or remove, an audit rule
//! line, a file mode, ...). Its [`Fix::text`] is the exact line to write, where `{path}` stands
//! for the path the check observed (resolved per result from the evidence labelled `path`) and
//! words in capitals (`SIZE`, `UID:GID`) are values the operator chooses.
//!
//! [`fix_groups`] gathers the unwaived failures of an assessment by what one edit changes (one
//! daemon.json edit, one audit rules file, the run flags of the containers, ...), each line with
//! the findings it clears. Every report shows the same groups from this one function; nothing
//! here reads the snapshot or the catalogs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Assessment, CheckResult, Status};

/// Placeholder in a fix's text for the path the check observed.
pub const PATH_PLACEHOLDER: &str = "{path}";

/// The remediation key of a check, as written under `fix:` in `controls/checks/*.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Fix {
    /// Set `key` to `value` in `/etc/docker/daemon.json` (a null value removes the key).
    DaemonJson { key: String, value: Value },
    /// Add this option to `docker run` (or the compose or service definition).
    RunFlag(String),
    /// Remove this option from `docker run` (or the compose or service definition).
    RemoveRunFlag(String),
    /// Add this line to an audit rules file (`/etc/audit/rules.d/docker.rules`).
    AuditRule(String),
    /// `chmod` the observed path to this octal mode.
    FileMode(String),
    /// `chown` the observed path to this `user:group`.
    FileOwner(String),
    /// Add this instruction to the image's Dockerfile and rebuild.
    Dockerfile(String),
    /// Run this command on the host.
    HostCommand(String),
    /// Add this `NAME=value` line to `/etc/environment`.
    Environment(String),
}

/// What one edit of a fix group changes; groups are listed in this order.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FixTarget {
    DaemonJson,
    AuditRules,
    FileMode,
    FileOwner,
    RunFlags,
    Dockerfile,
    Environment,
    HostCommands,
}

impl FixTarget {
    /// The instruction heading a group, for people.
    pub fn heading(self) -> &'static str {
        match self {
            FixTarget::DaemonJson => {
                "Set in /etc/docker/daemon.json, then restart dockerd (or reload where the key allows)"
            }
            FixTarget::AuditRules => {
                "Add to /etc/audit/rules.d/docker.rules, then load with augenrules --load"
            }
            FixTarget::FileMode => "Set the file permissions",
            FixTarget::FileOwner => "Set the file ownership",
            FixTarget::RunFlags => {
                "Change the run options (docker run, compose or service definition), then recreate the container"
            }
            FixTarget::Dockerfile => "Change the image's Dockerfile, rebuild and redeploy",
            FixTarget::Environment => "Add to /etc/environment",
            FixTarget::HostCommands => "Run on the host",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FixTarget::DaemonJson => "daemon_json",
            FixTarget::AuditRules => "audit_rules",
            FixTarget::FileMode => "file_mode",
            FixTarget::FileOwner => "file_owner",
            FixTarget::RunFlags => "run_flags",
            FixTarget::Dockerfile => "dockerfile",
            FixTarget::Environment => "environment",
            FixTarget::HostCommands => "host_commands",
        }
    }
}

impl Fix {
    /// Which edit the fix belongs to.
    pub fn target(&self) -> FixTarget {
        match self {
            Fix::DaemonJson { .. } => FixTarget::DaemonJson,
            Fix::RunFlag(_) | Fix::RemoveRunFlag(_) => FixTarget::RunFlags,
            Fix::AuditRule(_) => FixTarget::AuditRules,
            Fix::FileMode(_) => FixTarget::FileMode,
            Fix::FileOwner(_) => FixTarget::FileOwner,
            Fix::Dockerfile(_) => FixTarget::Dockerfile,
            Fix::HostCommand(_) => FixTarget::HostCommands,
            Fix::Environment(_) => FixTarget::Environment,
        }
    }

    /// The exact line to write, with `{path}` where the observed path goes.
    pub fn text(&self) -> String {
        match self {
            Fix::DaemonJson { key, value } if value.is_null() => {
                format!("remove \"{key}\"")
            }
            Fix::DaemonJson { key, value } => format!("{}: {value}", Value::from(key.as_str())),
            Fix::RunFlag(flag) => format!("add {flag}"),
            Fix::RemoveRunFlag(flag) => format!("remove {flag}"),
            Fix::FileMode(mode) => format!("chmod {mode} {PATH_PLACEHOLDER}"),
            Fix::FileOwner(owner) => format!("chown {owner} {PATH_PLACEHOLDER}"),
            Fix::AuditRule(line)
            | Fix::Dockerfile(line)
            | Fix::HostCommand(line)
            | Fix::Environment(line) => line.clone(),
        }
    }
}

/// The exact lines that fix one result: the check's fix text with `{path}` replaced by each
/// path the result observed (evidence `path`, a string or a list). Empty when the text needs a
/// path the result does not carry.
pub fn resolved_lines(text: &str, result: &CheckResult) -> Vec<String> {
    if !text.contains(PATH_PLACEHOLDER) {
        return vec![text.to_string()];
    }
    let paths: Vec<&str> = match result
        .evidence
        .iter()
        .find(|e| e.label == "path")
        .map(|e| &e.value)
    {
        Some(Value::String(p)) => vec![p.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    paths
        .into_iter()
        .map(|p| text.replace(PATH_PLACEHOLDER, p))
        .collect()
}

/// One finding a fix line clears.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cleared {
    pub check_id: String,
    /// CIS Docker Benchmark numbers of the check.
    pub cis: Vec<String>,
    /// Name of the resource (container name, image tag, path, `host`).
    pub asset: String,
    /// Engine id or path of the resource.
    pub resource_id: String,
}

/// One exact line and the findings it clears.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FixLine {
    pub text: String,
    pub clears: Vec<Cleared>,
}

/// The lines of one edit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FixGroup {
    pub target: FixTarget,
    pub lines: Vec<FixLine>,
}

impl FixGroup {
    /// Number of findings the group clears.
    pub fn cleared(&self) -> usize {
        self.lines.iter().map(|l| l.clears.len()).sum()
    }
}

/// The unwaived failures of `assessment` grouped by edit and exact line. A failure whose check
/// has no fix, or whose fix needs a path the result does not show, is left out: the findings
/// list still carries it with its remediation in words.
pub fn fix_groups(assessment: &Assessment) -> Vec<FixGroup> {
    let mut groups: BTreeMap<FixTarget, BTreeMap<String, Vec<Cleared>>> = BTreeMap::new();
    for result in &assessment.results {
        if result.status != Status::Fail || result.is_waived() {
            continue;
        }
        let Some(check) = assessment.check(&result.check_id) else {
            continue;
        };
        let Some(fix) = &check.fix else { continue };
        for line in resolved_lines(&fix.text(), result) {
            groups
                .entry(fix.target())
                .or_default()
                .entry(line)
                .or_default()
                .push(Cleared {
                    check_id: check.id.clone(),
                    cis: check.references.cis_docker.clone(),
                    asset: result.resource.name.clone(),
                    resource_id: result.resource.id.clone(),
                });
        }
    }
    groups
        .into_iter()
        .map(|(target, lines)| FixGroup {
            target,
            lines: lines
                .into_iter()
                .map(|(text, mut clears)| {
                    clears.sort();
                    clears.dedup();
                    FixLine { text, clears }
                })
                .collect(),
        })
        .collect()
}
