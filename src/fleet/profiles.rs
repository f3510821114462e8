//! The host profiles file of `report --host-profiles FILE`: the role and labels of hosts
//! gathered from snapshots, declared when the fleet is reported.
//!
//! ```yaml
//! hosts:
//!   - name: node-a                     # as `report` names the host: the node of a
//!     role: cardholder-data-environment  # `<node>-<time>.snapshot.json` file, else the
//!     labels: {env: prod}              # snapshot's hostname
//!   - name: node-b
//!     role: out-of-scope
//! ```
//!
//! `role` and `labels` are the schema of a targets file's entries and of `--scope`
//! ([`crate::scope::HostProfile`]). An entry is the whole profile of every gathered host of
//! that name (clones share names): it replaces what `collect --role/--label` recorded in the
//! snapshot, and the fleet notes each replacement that changes something. An entry without
//! role or labels clears what was recorded.
//!
//! An entry that names no gathered host is a note in the fleet, not an error: the nodes of a
//! DaemonSet come and go, and a nightly report must not stop over a node that was drained.
//! Leaving a host without its declared role never takes it out of scope (an undeclared role
//! counts), so a stale or misspelt entry cannot shrink the assessed environment unseen.
//! Everything else wrong in the file (YAML, unknown fields, unknown roles, bad or invisible
//! label text, bad or repeated names) is refused before anything is read or written, every
//! problem with the file and line of its entry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::evaluate::{DecisionFileError, Problem};
use crate::scope::{HostProfile, HostRole, Labels};

use super::targets::{is_valid_name, MAX_NAME};

/// Most entries in one file.
pub const MAX_HOSTS: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: Option<HostRole>,
    #[serde(default)]
    labels: Labels,
}

/// A parsed host profiles file and which of its entries were used.
#[derive(Debug, Default)]
pub struct HostProfiles {
    /// The file as named in messages.
    file: String,
    /// By host name: the profile and the line of its entry.
    entries: BTreeMap<String, (HostProfile, usize)>,
    used: BTreeSet<String>,
}

/// Why a host profiles file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Read(#[from] crate::input::InputError),
    #[error("invalid host profiles file:\n{0}")]
    Invalid(#[from] DecisionFileError),
}

impl HostProfiles {
    /// Reads and checks the file at `path` (a regular file of at most
    /// [`crate::input::MAX_DECISIONS`] bytes); no file gives what each snapshot recorded.
    pub fn load(path: Option<&Path>) -> Result<HostProfiles, LoadError> {
        let Some(path) = path else {
            return Ok(HostProfiles::default());
        };
        let text =
            crate::input::read_to_string(path, "host profiles file", crate::input::MAX_DECISIONS)?;
        Ok(HostProfiles::parse(&text, &path.display().to_string())?)
    }

    /// Parses and checks a host profiles file; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<HostProfiles, DecisionFileError> {
        let (parsed, mut problems) =
            crate::evaluate::yaml_list_entries::<Entry>(text, file, "hosts")?;
        let mut problem = |line: usize, message: String| {
            problems.push(Problem {
                file: file.to_string(),
                line,
                message,
            })
        };
        if parsed.len() > MAX_HOSTS {
            problem(
                1,
                format!("{} hosts; at most {MAX_HOSTS} are allowed", parsed.len()),
            );
        }
        let mut entries = BTreeMap::new();
        for (line, e) in parsed {
            let shown = crate::text::terminal(&e.name).into_owned();
            if !is_valid_name(&e.name) {
                problem(
                    line,
                    format!(
                        "host name {shown:?} must be 1 to {MAX_NAME} characters on one line, \
                         without control or invisible formatting characters"
                    ),
                );
                continue;
            }
            let profile = HostProfile {
                role: e.role,
                labels: e.labels,
            };
            if let Err(why) = profile.validate() {
                problem(line, format!("host {shown:?}: {why}"));
                continue;
            }
            if let Some((_, first)) = entries.get(&e.name) {
                problem(
                    line,
                    format!(
                        "host {shown:?} is already given on line {first}; names must be unique"
                    ),
                );
                continue;
            }
            entries.insert(e.name, (profile, line));
        }
        if problems.is_empty() {
            Ok(HostProfiles {
                file: file.to_string(),
                entries,
                used: BTreeSet::new(),
            })
        } else {
            problems.sort_by_key(|p| p.line);
            Err(DecisionFileError(problems))
        }
    }

    /// The profile of the gathered host `name` whose snapshot recorded `recorded`: the file's
    /// entry when it has one, else what the snapshot recorded, else no role and no labels.
    /// Also a note when the file's entry replaces a different recorded profile.
    pub fn resolve(
        &mut self,
        name: &str,
        recorded: Option<&HostProfile>,
    ) -> (HostProfile, Option<String>) {
        let Some((profile, line)) = self.entries.get(name) else {
            return (recorded.cloned().unwrap_or_default(), None);
        };
        self.used.insert(name.to_string());
        let note = recorded.filter(|r| *r != profile).map(|r| {
            format!(
                "{name}: {}:{line} ({}) replaces what the snapshot recorded at collection ({})",
                self.file,
                profile.describe(),
                r.describe()
            )
        });
        (profile.clone(), note)
    }

    /// A note for each entry that named no gathered host, in file order.
    pub fn unused(&self) -> Vec<String> {
        let mut unused: Vec<(usize, &str)> = self
            .entries
            .iter()
            .filter(|(name, _)| !self.used.contains(*name))
            .map(|(name, (_, line))| (*line, name.as_str()))
            .collect();
        unused.sort();
        unused
            .into_iter()
            .map(|(line, name)| {
                format!(
                    "{}:{line}: no gathered host is named {name:?}; its role and labels were not \
                     used",
                    self.file
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<HostProfiles, String> {
        HostProfiles::parse(text, "hosts.yaml").map_err(|e| e.to_string())
    }

    fn profile(role: Option<HostRole>, labels: &[(&str, &str)]) -> HostProfile {
        HostProfile {
            role,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn an_entry_replaces_what_the_snapshot_recorded_and_says_so() {
        let mut p = parse(
            "hosts:\n  - name: node-a\n    role: out-of-scope\n  - name: node-b\n    role: \
             cardholder-data-environment\n    labels: {env: prod}\n  - name: gone\n    \
             labels: {env: prod}\n",
        )
        .unwrap();
        let recorded = profile(
            Some(HostRole::CardholderDataEnvironment),
            &[("env", "prod")],
        );
        let (a, note) = p.resolve("node-a", Some(&recorded));
        assert_eq!(a, profile(Some(HostRole::OutOfScope), &[]));
        assert_eq!(
            note.as_deref(),
            Some(
                "node-a: hosts.yaml:2 (role out-of-scope) replaces what the snapshot recorded \
                 at collection (role cardholder-data-environment, labels env=prod)"
            )
        );
        // The same profile recorded and declared: nothing to note.
        let (b, note) = p.resolve("node-b", Some(&recorded));
        assert_eq!(b, recorded);
        assert_eq!(note, None);
        // A host the file does not name keeps what its snapshot recorded, or nothing.
        assert_eq!(p.resolve("node-c", Some(&recorded)), (recorded, None));
        assert_eq!(p.resolve("node-d", None), (HostProfile::default(), None));
        assert_eq!(
            p.unused(),
            ["hosts.yaml:7: no gathered host is named \"gone\"; its role and labels were not used"]
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "hosts:\n  - name: a\n    role: cde\n  - name: b\n    rol: out-of-scope\n  \
                    - name: c\n    labels: {env: \"x\\u200by\"}\n  - name: \"d\\u202e\"\n  - \
                    name: e\n  - name: e\n    role: connected-to\n  - name: f\n    labels: \
                    {'bad key': x}\n";
        let err = parse(text).unwrap_err();
        for expected in [
            "hosts.yaml:2: entry 1: unknown variant `cde`",
            "hosts.yaml:4: entry 2: unknown field `rol`",
            "hosts.yaml:6: host \"c\": label \"env\": the value must be one line",
            "hosts.yaml:8: host name",
            "hosts.yaml:10: host \"e\" is already given on line 9",
            "hosts.yaml:12: host \"f\": label key",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
        }
        assert!(!err.contains('\u{202e}'), "{err}");
    }

    #[test]
    fn the_file_must_have_the_hosts_list_only() {
        let err = parse("host:\n  - name: a\n").unwrap_err();
        assert!(
            err.contains("hosts.yaml:1: unknown top-level key `host`"),
            "{err}"
        );
        let err = parse("hosts:\n  - name: a\n  role: x\n").unwrap_err();
        assert!(err.starts_with("hosts.yaml:"), "{err}");
        assert!(parse("hosts: []\n").unwrap().unused().is_empty());
    }
}
