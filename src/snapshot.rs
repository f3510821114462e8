//! The snapshot: everything `collect` observed on one Docker host, as one versioned JSON document.
//!
//! A snapshot is evidence. Later stages (evaluate, render) read only the snapshot and never go
//! back to the engine, so a snapshot taken today can be re-evaluated next year on a machine with
//! no Docker. This module owns the model, its schema version and loading/saving; it never talks to
//! the engine or the host.
//!
//! Engine objects are kept as the Engine API returned them (PascalCase JSON of
//! `GET /containers/{id}/json` and friends) so that an auditor can match every observed value to
//! Docker's own documentation. Two changes are made at collection and are documented here:
//! * environment variable values (`Config.Env` of containers and images) are replaced by
//!   [`REDACTED`] or [`REDACTED_CREDENTIAL`]; the variable name is kept;
//! * each image document gets one extra key, `History`, holding `GET /images/{id}/history`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Version of the snapshot document layout. Bump on any change that an older reader would
/// misread; readers refuse newer versions rather than guess.
pub const SCHEMA_VERSION: u32 = 1;

/// Marker that replaces an environment variable value (`NAME=<redacted>`).
pub const REDACTED: &str = "<redacted>";
/// Marker for a redacted value that looked like a credential (key, token, password).
pub const REDACTED_CREDENTIAL: &str = "<redacted:credential-like>";

/// One host's collected evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Layout version of this document, see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool that wrote the snapshot.
    pub tool: ToolInfo,
    /// When and how the collection ran.
    pub collection: Collection,
    /// Which host and engine were observed.
    pub target: Target,
    /// Objects read from the Engine API.
    pub engine: Engine,
    /// Facts read from the host filesystem under the host root.
    pub host: HostFacts,
    /// Every source that could not be read, with the error. Checks that need a missing source
    /// end in `error`, never in `pass`.
    pub gaps: Vec<Gap>,
    /// Package inventories of the images selected with `--images`, sorted by image id. Absent
    /// from snapshots taken without inventories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventories: Vec<crate::inventory::ImageInventory>,
    /// The host's role and labels as declared by whoever ran `collect` (`--role`, `--label`):
    /// a statement of the operator, not an observation. `report` over many snapshots gives the
    /// host this role and these labels unless `--host-profiles` says otherwise. Absent when
    /// nothing was declared, and from snapshots of earlier versions. Checked at load as a
    /// targets file's labels are. Added, like the other optional fields, without a version
    /// bump: an older dockproof refuses the field by name rather than misreading it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::scope::HostProfile>,
}

/// Name and version of the program that produced a document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    /// This build of dockproof.
    pub fn current() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Timing and options of the collection run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// UTC time the collection started.
    pub started_at: DateTime<Utc>,
    /// UTC time the collection finished.
    pub finished_at: DateTime<Utc>,
    /// Whether stopped containers were collected too (`--include-stopped`).
    pub include_stopped: bool,
    /// Directory the host files were read under (`/` on the host itself).
    pub host_root: String,
    /// Which images got a package inventory (`in-use`, `all`, `none`); absent when the snapshot
    /// was taken by a dockproof without inventories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_inventory: Option<String>,
    /// The local account that ran the collection and its privilege; absent from snapshots of
    /// older versions and where `/proc/self/status` could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<CollectorAccount>,
}

/// The account a collection ran as, on the machine that ran dockproof (for an ssh:// engine
/// that is not the engine's host: the remote account is the ssh user of the endpoint).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CollectorAccount {
    /// Effective user id.
    pub uid: u32,
    /// User name from the local `/etc/passwd`, when it lists the uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Effective group id.
    pub gid: u32,
    /// Names (or numbers, when `/etc/group` does not list them) of the supplementary groups.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Whether the effective uid is 0.
    pub root: bool,
    /// Whether the account is in the local `docker` group (root-equivalent on a host whose
    /// engine socket is group-owned by it); `None` when `/etc/group` has no such group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_group: Option<bool>,
}

impl CollectorAccount {
    /// `root (uid 0)` or `alice (uid 1000), member of the docker group` for a report.
    pub fn describe(&self) -> String {
        let who = match &self.user {
            Some(u) => format!("{u} (uid {})", self.uid),
            None => format!("uid {}", self.uid),
        };
        let privilege = if self.root {
            "root: full privilege on this machine"
        } else {
            match self.docker_group {
                Some(true) => {
                    "not root; member of the docker group (root-equivalent through the engine)"
                }
                Some(false) => "not root; not in the docker group",
                None => "not root; no docker group on this machine",
            }
        };
        format!("{who}, {privilege}")
    }
}

/// Identity of the observed host and engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Engine endpoint as given (`unix:///var/run/docker.sock`, `tcp://host:2376`).
    pub docker_host: String,
    /// Host name reported by the engine (`/info` `Name`).
    pub hostname: Option<String>,
    /// Engine version (`/version` `Version`).
    pub engine_version: Option<String>,
    /// Engine API version (`/version` `ApiVersion`).
    pub api_version: Option<String>,
    /// Operating system (`/info` `OperatingSystem`).
    pub os: Option<String>,
    /// Kernel version (`/info` `KernelVersion`).
    pub kernel: Option<String>,
    /// CPU architecture (`/info` `Architecture`).
    pub architecture: Option<String>,
    /// Engine's own id (`/info` `ID`), stable across restarts.
    pub engine_id: Option<String>,
    /// What selected the endpoint: `--docker-host`, `--context`, `DOCKER_HOST`,
    /// `DOCKER_CONTEXT`, `config.json currentContext` or `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_by: Option<String>,
    /// The docker context used, when one other than `default` was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Which engine answered, from `/version` `Components`: `Docker Engine`, `Podman Engine`,
    /// or the first component's name for any other product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_product: Option<String>,
    /// Set when the evidence is not a live scan: `scan --fallback-snapshot` reported this saved
    /// sample because the engine could not be reached. Says which file and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl Target {
    /// The endpoint for a report's identity block, with the fallback notice when the evidence
    /// is a saved sample rather than a live scan.
    pub fn endpoint_label(&self) -> String {
        match &self.fallback {
            Some(note) => format!("{} ({note})", self.docker_host),
            None => self.docker_host.clone(),
        }
    }
}

/// Objects read from the Engine API, as the API returned them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// `GET /info`; absent if it could not be read (see gaps).
    pub info: Option<Value>,
    /// `GET /version`; absent if it could not be read.
    pub version: Option<Value>,
    /// `GET /containers/{id}/json` for every listed container, env values redacted.
    pub containers: Vec<Value>,
    /// `GET /images/{id}/json` for every image, with `History` added, env values redacted.
    pub images: Vec<Value>,
    /// `GET /networks/{id}` for every network.
    pub networks: Vec<Value>,
    /// `GET /volumes` entries.
    pub volumes: Vec<Value>,
    /// `GET /plugins` entries.
    pub plugins: Vec<Value>,
    /// `GET /swarm` when this node is a swarm manager; absent otherwise (swarm state is also in
    /// `info.Swarm`).
    pub swarm: Option<Value>,
}

/// Facts read from the host under the host root. Each `None` means "could not be read" and is
/// paired with a gap; an empty list means "read, and empty".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostFacts {
    /// The daemon configuration file.
    pub daemon_json: Option<DaemonJson>,
    /// The running dockerd process, found through /proc.
    pub dockerd: Option<DockerdProcess>,
    /// Ownership and mode of the files and directories the checks look at.
    pub files: Vec<FileFact>,
    /// Audit rules in effect or configured, one rule per line.
    pub audit_rules: Option<AuditRules>,
    /// Members of the `docker` group.
    pub docker_group: Option<GroupFact>,
    /// Mount points of the host (`/proc/1/mountinfo`), mount point paths only.
    pub mounts: Option<Vec<String>>,
    /// Docker Content Trust settings made system-wide in `/etc/environment`
    /// (`DOCKER_CONTENT_TRUST*` only): whether the docker client verifies image signatures.
    /// Empty when none is set there.
    #[serde(default)]
    pub client_env: Option<std::collections::BTreeMap<String, String>>,
    /// `ListenStream=` values of the docker.socket unit after its drop-ins are merged (what
    /// dockerd receives with `-H fd://`), TCP ports and addresses included; absent when the
    /// unit was not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket_activation: Option<Vec<String>>,
}

/// The daemon configuration file and what it holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DaemonJson {
    /// Path on the host (outside the host root prefix).
    pub path: String,
    /// Whether the file exists. A missing daemon.json is normal: every option has its default.
    pub exists: bool,
    /// Parsed content; `None` when missing or not valid JSON.
    pub content: Option<Value>,
    /// Why the content could not be parsed, when it exists but is not valid JSON.
    pub parse_error: Option<String>,
}

/// The dockerd process as seen in /proc.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DockerdProcess {
    pub pid: u32,
    /// Full command line, `argv[0]` first.
    pub args: Vec<String>,
}

/// Ownership and mode of one path on the host.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileFact {
    /// What the path is to Docker (`daemon.json`, `docker.sock`, `docker.service`, ...); checks
    /// select files by role, not by path, because paths differ between distributions.
    pub role: String,
    /// Path on the host (outside the host root prefix).
    pub path: String,
    /// Whether the path exists.
    pub exists: bool,
    /// `file`, `dir`, `socket`, `symlink` or `other`; absent when missing.
    pub file_type: Option<String>,
    /// Permission bits including setuid/setgid/sticky (`st_mode & 0o7777`).
    pub mode: Option<u32>,
    /// Octal rendering of `mode`, e.g. `"0644"`, for people.
    pub mode_octal: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// User name of `uid` from the host's /etc/passwd, when known.
    pub owner: Option<String>,
    /// Group name of `gid` from the host's /etc/group, when known.
    pub group: Option<String>,
    /// Why the path could not be examined (permission denied, ...).
    pub error: Option<String>,
}

/// Audit rules and where they were read from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditRules {
    /// `auditctl -l`, or the rule files that were read.
    pub source: String,
    /// Non-comment, non-empty rule lines.
    pub rules: Vec<String>,
    /// Whether an auditd process runs on the host (its /proc); absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auditd_running: Option<bool>,
}

/// Members of a group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GroupFact {
    pub name: String,
    /// Whether the group exists in the host's /etc/group.
    pub exists: bool,
    pub gid: Option<u32>,
    pub members: Vec<String>,
}

/// A source that could not be read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// What was being read (`engine:/info`, `container:web`, `host:/etc/docker/daemon.json`).
    pub source: String,
    /// The error, as reported.
    pub error: String,
}

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("snapshot {path} is not a valid snapshot document (line {line}, column {column}): {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "snapshot {path} is not a valid snapshot document: field `{field}` (line {line}, column \
         {column}): {message}"
    )]
    Field {
        path: String,
        /// Dotted path of the offending field, `engine.containers` or `gaps[2].source`.
        field: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "snapshot {path} has schema version {found}, newer than this dockproof understands \
         ({supported}); upgrade dockproof to read it"
    )]
    FutureVersion {
        path: String,
        found: u64,
        supported: u32,
    },
    #[error("snapshot {path} has no schema_version; it was not written by dockproof")]
    NoVersion { path: String },
    #[error("snapshot {path} is not a valid snapshot document: field `profile`: {source}")]
    Profile {
        path: String,
        source: crate::scope::ProfileError,
    },
}

impl Snapshot {
    /// Reads and validates a snapshot file.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let bytes = crate::input::read(path, "snapshot", crate::input::MAX_SNAPSHOT)?;
        Self::from_slice(&bytes, &path.display().to_string())
    }

    /// Parses a snapshot document; `origin` names it in errors.
    pub fn from_slice(bytes: &[u8], origin: &str) -> Result<Snapshot, SnapshotError> {
        let parse_err = |e: serde_json::Error| SnapshotError::Parse {
            path: origin.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        // Check the version before the layout, so a future document gets the right message
        // instead of a confusing "unknown field".
        let raw: Value = serde_json::from_slice(bytes).map_err(parse_err)?;
        match raw.get("schema_version").and_then(Value::as_u64) {
            None => {
                return Err(SnapshotError::NoVersion {
                    path: origin.to_string(),
                })
            }
            Some(v) if v > u64::from(SCHEMA_VERSION) => {
                return Err(SnapshotError::FutureVersion {
                    path: origin.to_string(),
                    found: v,
                    supported: SCHEMA_VERSION,
                })
            }
            Some(_) => {}
        }
        // The text is valid JSON by now, so any error is a field of the wrong type or name; say
        // which field, since a line and column alone point into a document of thousands of lines.
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let snapshot: Snapshot = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            SnapshotError::Field {
                path: origin.to_string(),
                field,
                line: inner.line(),
                column: inner.column(),
                message: strip_position(&inner),
            }
        })?;
        // The declared profile reaches reports as a targets file's would: its labels are
        // held to the same rules (no invisible characters, bounded), whoever wrote the file.
        if let Some(profile) = &snapshot.profile {
            profile
                .validate()
                .map_err(|source| SnapshotError::Profile {
                    path: origin.to_string(),
                    source,
                })?;
        }
        Ok(snapshot)
    }

    /// Serialises the snapshot as pretty JSON.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }

    /// A short, filesystem-safe name for the host, used in default bundle names.
    pub fn host_label(&self) -> String {
        let name = self.target.hostname.as_deref().unwrap_or("docker-host");
        let cleaned: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        if cleaned.is_empty() {
            "docker-host".to_string()
        } else {
            cleaned
        }
    }
}

/// A serde_json message without the " at line L column C" it appends; the error says it already.
fn strip_position(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

/// Redacts the values of `NAME=value` environment entries, keeping names.
///
/// A value is flagged as credential-like when the name suggests a secret or the value has the
/// shape of a well-known token; either way the value itself never leaves this function.
pub fn redact_env(entries: &mut [Value]) {
    for entry in entries.iter_mut() {
        if let Value::String(s) = entry {
            let (name, value) = match s.split_once('=') {
                Some((n, v)) => (n.to_string(), v),
                None => (s.clone(), ""),
            };
            let marker = if looks_like_credential(&name, value) {
                REDACTED_CREDENTIAL
            } else {
                REDACTED
            };
            *entry = Value::String(format!("{name}={marker}"));
        }
    }
}

/// Whether an environment variable probably carries a credential.
pub fn looks_like_credential(name: &str, value: &str) -> bool {
    const NAME_HINTS: [&str; 10] = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
        "CREDENTIAL",
        "AUTH",
    ];
    let upper = name.to_ascii_uppercase();
    if value.is_empty() {
        return false;
    }
    if NAME_HINTS.iter().any(|h| upper.contains(h)) {
        return true;
    }
    const VALUE_PREFIXES: [&str; 8] = [
        "AKIA",
        "ASIA",
        "ghp_",
        "gho_",
        "github_pat_",
        "xoxb-",
        "xoxp-",
        "glpat-",
    ];
    VALUE_PREFIXES.iter().any(|p| value.starts_with(p))
        || value.contains("-----BEGIN")
        || value.contains("PRIVATE KEY")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_keeps_names_and_drops_values() {
        let mut env = vec![
            json!("PATH=/usr/bin"),
            json!("DB_PASSWORD=hunter2"),
            json!("TOKENLESS"),
            json!("X=AKIAABCDEFGHIJKLMNOP"),
        ];
        redact_env(&mut env);
        assert_eq!(
            env,
            vec![
                json!("PATH=<redacted>"),
                json!("DB_PASSWORD=<redacted:credential-like>"),
                json!("TOKENLESS=<redacted>"),
                json!("X=<redacted:credential-like>"),
            ]
        );
        let text = serde_json::to_string(&env).unwrap();
        assert!(!text.contains("hunter2"));
        assert!(!text.contains("AKIAABCD"));
    }

    #[test]
    fn future_schema_version_is_refused_with_a_clear_message() {
        let err = Snapshot::from_slice(br#"{"schema_version": 99}"#, "s.json").unwrap_err();
        assert!(matches!(
            err,
            SnapshotError::FutureVersion { found: 99, .. }
        ));
        assert!(err.to_string().contains("upgrade dockproof"));
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_by_its_path() {
        let mut doc: Value =
            serde_json::from_str(include_str!("../samples/hardened-host.snapshot.json")).unwrap();
        doc["engine"]["containers"] = json!("not a list");
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let err = Snapshot::from_slice(text.as_bytes(), "s.json").unwrap_err();
        match &err {
            SnapshotError::Field { field, message, .. } => {
                assert_eq!(field, "engine.containers");
                assert_eq!(
                    message,
                    "invalid type: string \"not a list\", expected a sequence"
                );
            }
            other => panic!("unexpected error {other}"),
        }
        doc["engine"]["containers"] = json!([]);
        doc["gaps"] = json!([{"source": "x", "error": 3}]);
        let text = serde_json::to_string(&doc).unwrap();
        let err = Snapshot::from_slice(text.as_bytes(), "s.json").unwrap_err();
        assert!(err.to_string().contains("field `gaps[0].error`"), "{err}");
    }

    #[test]
    fn a_declared_profile_round_trips_and_is_checked_at_load() {
        let sample = include_str!("../samples/hardened-host.snapshot.json");
        // Snapshots without a profile, as earlier versions wrote them, load.
        assert_eq!(
            Snapshot::from_slice(sample.as_bytes(), "s.json")
                .unwrap()
                .profile,
            None
        );
        let mut doc: Value = serde_json::from_str(sample).unwrap();
        doc["profile"] = json!({"role": "out-of-scope", "labels": {"env": "dev"}});
        let text = serde_json::to_vec(&doc).unwrap();
        let snapshot = Snapshot::from_slice(&text, "s.json").unwrap();
        let profile = snapshot.profile.clone().unwrap();
        assert_eq!(profile.role, Some(crate::scope::HostRole::OutOfScope));
        assert_eq!(profile.labels["env"], "dev");
        let mut written = Vec::new();
        snapshot.write_to(&mut written).unwrap();
        assert_eq!(Snapshot::from_slice(&written, "w.json").unwrap(), snapshot);

        doc["profile"] = json!({"labels": {"env": "a\u{202e}b"}});
        let err = Snapshot::from_slice(&serde_json::to_vec(&doc).unwrap(), "s.json").unwrap_err();
        assert!(matches!(err, SnapshotError::Profile { .. }), "{err}");
        assert!(
            err.to_string().starts_with(
                "snapshot s.json is not a valid snapshot document: field `profile`: label \"env\""
            ),
            "{err}"
        );
        doc["profile"] = json!({"role": "cde"});
        let err = Snapshot::from_slice(&serde_json::to_vec(&doc).unwrap(), "s.json").unwrap_err();
        assert!(err.to_string().contains("field `profile.role`"), "{err}");
        doc["profile"] = json!({"rol": "out-of-scope"});
        let err = Snapshot::from_slice(&serde_json::to_vec(&doc).unwrap(), "s.json").unwrap_err();
        assert!(err.to_string().contains("unknown field `rol`"), "{err}");
    }

    #[test]
    fn truncated_snapshot_names_line_and_column() {
        let err = Snapshot::from_slice(b"{\n \"schema_version\": 1,\n \"tool\": {", "t.json")
            .unwrap_err();
        match err {
            SnapshotError::Parse { line, path, .. } => {
                assert_eq!(line, 3);
                assert_eq!(path, "t.json");
            }
            other => panic!("unexpected error {other}"),
        }
    }
}
