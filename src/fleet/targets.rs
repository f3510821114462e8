//! The targets file of `scan --targets`: the engines of a fleet, each with its name, role and
//! labels.
//!
//! ```yaml
//! targets:
//!   - name: web-1                      # unique; names the host in every report
//!     docker_host: ssh://ops@web-1     # any endpoint form `--docker-host` accepts, or
//!     # context: NAME                  # a docker context
//!     tls: {ca: ca.pem, cert: cert.pem, key: key.pem}   # tcp:// only
//!     host_root: /                     # local or tcp engines whose host is mounted here
//!     role: cardholder-data-environment
//!     labels: {env: prod}
//! ```
//!
//! Every value is checked before any engine is contacted, with the engine selection the single
//! host scan uses ([`crate::collect::check`]): endpoint syntax, context, TLS files, host root.
//! All problems are reported at once, each with the file and the line of its entry. Relative
//! paths (`tls`, `host_root`) are read relative to the targets file's directory. A target without
//! `tls:` is plain TCP whatever `DOCKER_TLS_VERIFY` says: each target says how it is reached.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::collect::{CollectOptions, TlsSource};
use crate::evaluate::{DecisionFileError, Problem};
use crate::scope::{HostProfile, HostRole, Labels};

/// Longest target name.
pub const MAX_NAME: usize = 128;

/// Whether `name` may name a host: 1 to [`MAX_NAME`] characters on one line, without control or
/// invisible formatting characters. Targets files and host profiles files share this rule.
pub fn is_valid_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().count() <= MAX_NAME
        && !name
            .chars()
            .any(|c| c.is_control() || crate::text::is_hidden(c))
}
/// Most targets in one file.
pub const MAX_TARGETS: usize = 10_000;

/// One target, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The name as written: shown in reports; the bundle directory is derived from it.
    pub name: String,
    /// Line of the entry in the targets file.
    pub line: usize,
    pub profile: HostProfile,
    pub docker_host: Option<String>,
    pub context: Option<String>,
    pub tls: TlsSource,
    pub host_root: Option<PathBuf>,
}

impl Target {
    /// The collection options of this target: `base` (concurrency, images, ssh config, …) with
    /// the target's own engine, TLS and host root.
    pub fn options(&self, base: &CollectOptions) -> CollectOptions {
        CollectOptions {
            docker_host: self.docker_host.clone(),
            context: self.context.clone(),
            host_root: self.host_root.clone(),
            tls: self.tls.clone(),
            ..base.clone()
        }
    }

    /// The endpoint as written, for reports.
    pub fn endpoint(&self) -> String {
        match (&self.docker_host, &self.context) {
            (Some(h), _) => h.clone(),
            (None, Some(c)) => format!("context {c}"),
            (None, None) => String::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    docker_host: Option<String>,
    context: Option<String>,
    tls: Option<TlsEntry>,
    host_root: Option<PathBuf>,
    role: Option<HostRole>,
    #[serde(default)]
    labels: Labels,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsEntry {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// Parses and checks a targets file. `file` names it in messages, `dir` anchors relative paths
/// and `base` carries the options every target shares (checked with each target's own).
pub fn parse(
    text: &str,
    file: &str,
    dir: &Path,
    base: &CollectOptions,
) -> Result<Vec<Target>, DecisionFileError> {
    let (entries, mut problems) =
        crate::evaluate::yaml_list_entries::<Entry>(text, file, "targets")?;
    let parse_failed = !problems.is_empty();
    let mut found = Vec::new();
    let mut problem = |line: usize, message: String| {
        found.push(Problem {
            file: file.to_string(),
            line,
            message,
        })
    };
    if entries.is_empty() && !parse_failed {
        problem(1, "the `targets:` list is empty".to_string());
    }
    if entries.len() > MAX_TARGETS {
        problem(
            1,
            format!(
                "{} targets; at most {MAX_TARGETS} are allowed",
                entries.len()
            ),
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut targets = Vec::with_capacity(entries.len());
    for (line, e) in entries {
        let shown = crate::text::terminal(&e.name).into_owned();
        if !is_valid_name(&e.name) {
            problem(
                line,
                format!(
                    "target name {shown:?} must be 1 to {MAX_NAME} characters on one line, \
                     without control or invisible formatting characters"
                ),
            );
            continue;
        }
        if let Some(first) = seen.insert(e.name.clone(), line) {
            problem(
                line,
                format!(
                    "target name {shown:?} is already used on line {first}; names must be unique"
                ),
            );
            continue;
        }
        let profile = HostProfile {
            role: e.role,
            labels: e.labels,
        };
        if let Err(why) = profile.validate() {
            problem(line, format!("target {shown:?}: {why}"));
            continue;
        }
        let docker_host = e.docker_host.filter(|h| !h.trim().is_empty());
        match (&docker_host, &e.context) {
            (None, None) => {
                problem(
                    line,
                    format!("target {shown:?}: give `docker_host` or `context`"),
                );
                continue;
            }
            (Some(_), Some(_)) => {
                problem(
                    line,
                    format!("target {shown:?}: give `docker_host` or `context`, not both"),
                );
                continue;
            }
            _ => {}
        }
        let anchor = |p: PathBuf| if p.is_relative() { dir.join(p) } else { p };
        let tls = match e.tls {
            None => TlsSource::Off,
            Some(t) => {
                let tcp = docker_host
                    .as_deref()
                    .is_some_and(|h| h.starts_with("tcp://") || !h.contains("://"));
                if !tcp {
                    problem(
                        line,
                        format!(
                            "target {shown:?}: `tls` applies to tcp:// engines only (a context \
                             brings its own TLS material)"
                        ),
                    );
                    continue;
                }
                let files = [
                    ("ca", anchor(t.ca)),
                    ("cert", anchor(t.cert)),
                    ("key", anchor(t.key)),
                ];
                let mut ok = true;
                for (what, path) in &files {
                    if let Err(why) = crate::input::check_regular(path, "TLS file") {
                        problem(line, format!("target {shown:?}: tls.{what}: {why}"));
                        ok = false;
                    }
                }
                if !ok {
                    continue;
                }
                let [(_, ca), (_, cert), (_, key)] = files;
                TlsSource::Files { ca, cert, key }
            }
        };
        let target = Target {
            name: e.name,
            line,
            profile,
            docker_host,
            context: e.context,
            tls,
            host_root: e.host_root.map(anchor),
        };
        if let Err(why) = crate::collect::check(&target.options(base)) {
            problem(line, format!("target {shown:?}: {why}"));
            continue;
        }
        targets.push(target);
    }
    problems.extend(found);
    if problems.is_empty() {
        Ok(targets)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(DecisionFileError(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str, dir: &Path) -> Result<Vec<Target>, String> {
        parse(text, "targets.yaml", dir, &CollectOptions::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_valid_file_gives_every_target_with_its_profile() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let text = "targets:\n  - name: a\n    docker_host: unix:///run/a.sock\n    role: \
                    connected-to\n    labels: {env: prod}\n  - name: b\n    docker_host: \
                    tcp://10.0.0.2:2376\n    tls: {ca: ca.pem, cert: cert.pem, key: key.pem}\n";
        let targets = parse_text(text, dir.path()).unwrap();
        assert_eq!(targets.len(), 2);
        assert_eq!(targets[0].line, 2);
        assert_eq!(targets[0].profile.role, Some(HostRole::ConnectedTo));
        assert_eq!(targets[0].tls, TlsSource::Off);
        assert_eq!(targets[1].line, 6);
        assert_eq!(
            targets[1].tls,
            TlsSource::Files {
                ca: dir.path().join("ca.pem"),
                cert: dir.path().join("cert.pem"),
                key: dir.path().join("key.pem"),
            }
        );
    }

    /// The example shipped for the systemd units is a valid targets file with declared roles.
    #[test]
    fn the_shipped_example_parses() {
        let text = include_str!("../../deploy/systemd/targets.example.yaml");
        let targets = parse_text(text, Path::new("/etc/dockproof")).unwrap();
        assert!(targets.len() >= 2);
        assert!(targets
            .iter()
            .all(|t| t.profile.role == Some(HostRole::CardholderDataEnvironment)));
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = "targets:\n  - name: a\n    docker_host: unix:///a\n  - name: a\n    \
                    docker_host: unix:///b\n  - name: c\n  - name: d\n    docker_host: \
                    http://x\n  - name: e\n    docker_host: unix:///e\n    tls: {ca: no, \
                    cert: no, key: no}\n  - name: \"f\\u202e\"\n    docker_host: unix:///f\n  \
                    - name: g\n    docker_host: unix:///g\n    labels: {'bad key': x}\n  - \
                    name: h\n    context: x\n    docker_host: unix:///h\n";
        let err = parse_text(text, dir.path()).unwrap_err();
        for expected in [
            "targets.yaml:4: target name \"a\" is already used on line 2",
            "targets.yaml:6: target \"c\": give `docker_host` or `context`",
            "targets.yaml:7: target \"d\": invalid engine endpoint",
            "targets.yaml:9: target \"e\": `tls` applies to tcp:// engines only",
            "targets.yaml:12: target name",
            "targets.yaml:14: target \"g\": label key",
            "targets.yaml:17: target \"h\": give `docker_host` or `context`, not both",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
        }
    }

    #[test]
    fn missing_tls_files_and_unknown_fields_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = "targets:\n  - name: a\n    docker_host: tcp://h:2376\n    tls: {ca: ca.pem, \
                    cert: c.pem, key: k.pem}\n";
        let err = parse_text(text, dir.path()).unwrap_err();
        assert!(
            err.contains("targets.yaml:2: target \"a\": tls.ca:"),
            "{err}"
        );
        let err = parse_text("targets:\n  - name: a\n    dockerhost: x\n", dir.path()).unwrap_err();
        assert!(
            err.contains("targets.yaml:2: entry 1: unknown field `dockerhost`"),
            "{err}"
        );
        let err = parse_text("targets: []\n", dir.path()).unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }
}
