//! Ownership and modes of the files and directories the CIS Docker Benchmark looks at, each
//! tagged with a role so checks select by meaning, not by a distribution's path.
//!
//! How each role's path is found (host paths, as configured):
//! * `docker.service`, `docker.socket`: the first of `/etc/systemd/system`, `/lib/systemd/system`,
//!   `/usr/lib/systemd/system` that holds the unit (systemd's precedence); if none does, one
//!   `exists: false` fact at the first candidate.
//! * `etc-docker`: `/etc/docker`. `daemon.json`: `--config-file`, else `/etc/docker/daemon.json`.
//! * `docker.sock`: every `unix://PATH` in dockerd's `-H`/`--host` and daemon.json `hosts`; for
//!   `fd://` (socket activation) the absolute `ListenStream=` paths of the docker.socket unit
//!   with its drop-ins merged ([`super::units`]);
//!   `/var/run/docker.sock` when no host is configured at all (or an activated unit names none).
//! * `containerd.sock`: `/run/containerd/containerd.sock`, plus `--containerd` / daemon.json
//!   `containerd` when set.
//! * `registry-cert`: every non-directory entry under `/etc/docker/certs.d`.
//! * `tls-ca`, `tls-cert`, `tls-key`: `--tlscacert`/`--tlscert`/`--tlskey`, else the daemon.json
//!   keys of the same names; only when configured.
//! * `etc-default-docker`: `/etc/default/docker`; `etc-sysconfig-docker`: `/etc/sysconfig/docker`.
//! * `containerd-config`: `/etc/containerd/config.toml`.
//! * `dockerd-binary`: dockerd's `argv[0]` when absolute (when no dockerd process is visible, the
//!   program of docker.service's `ExecStart=` after drop-ins); it and `containerd-binary`,
//!   `containerd-shim`, `containerd-shim-runc-v1`, `containerd-shim-runc-v2` and `runc-binary`
//!   otherwise the first of `/usr/bin`, `/usr/sbin`, `/usr/local/bin`, `/bin`, `/sbin` that holds
//!   the program; one `exists: false` fact at `/usr/bin/NAME` when none does. The audit checks
//!   watch these paths.
//!
//! Links are followed within the host root: `file_type`, `mode`, `uid` and `gid` describe the
//! link's target (what dockerd and systemd actually open), so a unit masked by a link to
//! `/dev/null` shows as `other`. A dangling link reads as missing. A path that cannot be examined
//! for another reason (permission denied) has `exists: false`, `error` set and a gap.

use std::os::unix::fs::{FileTypeExt, MetadataExt};

use serde_json::Value;
use walkdir::WalkDir;

use crate::snapshot::{FileFact, Gap};

use super::accounts::Accounts;
use super::daemon::flag_values;
use super::gap;
use super::host::{is_missing, HostRoot};
use super::units;

const UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];
const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
const DEFAULT_CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";
const CERTS_D: &str = "/etc/docker/certs.d";
const BIN_DIRS: [&str; 5] = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"];
const BINARIES: [(&str, &str); 6] = [
    ("dockerd-binary", "dockerd"),
    ("containerd-binary", "containerd"),
    ("containerd-shim", "containerd-shim"),
    ("containerd-shim-runc-v1", "containerd-shim-runc-v1"),
    ("containerd-shim-runc-v2", "containerd-shim-runc-v2"),
    ("runc-binary", "runc"),
];

/// What the daemon's own configuration says about where its files are.
pub(crate) struct Sources<'a> {
    /// dockerd's command line, when the process was found.
    pub dockerd_args: Option<&'a [String]>,
    /// Parsed daemon.json, when it exists and is valid.
    pub daemon_json: Option<&'a Value>,
    /// The daemon.json path in use.
    pub daemon_json_path: &'a str,
}

impl Sources<'_> {
    fn flag(&self, names: &[&str]) -> Vec<String> {
        self.dockerd_args
            .map(|a| flag_values(a, names))
            .unwrap_or_default()
    }

    fn config_str(&self, key: &str) -> Option<String> {
        let value = self.daemon_json?.get(key)?.as_str()?;
        Some(value.to_string())
    }

    /// The flag's last value, else the daemon.json key.
    fn setting(&self, flag: &str, key: &str) -> Option<String> {
        self.flag(&[flag]).pop().or_else(|| self.config_str(key))
    }
}

/// Examines every file of interest; each role's path is resolved as the module doc says.
pub(crate) fn collect_files(
    root: &HostRoot,
    accounts: &Accounts,
    sources: &Sources<'_>,
    gaps: &mut Vec<Gap>,
) -> Vec<FileFact> {
    let socket_unit = find_unit(root, "docker.socket");
    let mut planned: Vec<(&str, String)> = vec![
        ("docker.service", find_unit(root, "docker.service")),
        ("docker.socket", socket_unit.clone()),
        ("etc-docker", "/etc/docker".to_string()),
        ("daemon.json", sources.daemon_json_path.to_string()),
    ];
    for path in docker_sockets(root, sources) {
        planned.push(("docker.sock", path));
    }
    planned.push(("containerd.sock", DEFAULT_CONTAINERD_SOCKET.to_string()));
    for path in sources.flag(&["--containerd"]) {
        planned.push(("containerd.sock", path));
    }
    if let Some(path) = sources.config_str("containerd") {
        planned.push(("containerd.sock", path));
    }
    for (role, flag, key) in [
        ("tls-ca", "--tlscacert", "tlscacert"),
        ("tls-cert", "--tlscert", "tlscert"),
        ("tls-key", "--tlskey", "tlskey"),
    ] {
        if let Some(path) = sources.setting(flag, key) {
            planned.push((role, path));
        }
    }
    planned.push(("etc-default-docker", "/etc/default/docker".to_string()));
    planned.push(("etc-sysconfig-docker", "/etc/sysconfig/docker".to_string()));
    planned.push((
        "containerd-config",
        "/etc/containerd/config.toml".to_string(),
    ));
    let dockerd_path = match sources.dockerd_args {
        Some(args) => args.first().filter(|p| p.starts_with('/')).cloned(),
        None => units::exec_start_program(root),
    };
    for (role, name) in BINARIES {
        let path = match (&dockerd_path, role) {
            (Some(p), "dockerd-binary") => p.clone(),
            _ => find_program(root, name),
        };
        planned.push((role, path));
    }

    let mut seen = std::collections::HashSet::new();
    planned.retain(|(role, path)| seen.insert((*role, path.clone())));
    let mut facts: Vec<FileFact> = planned
        .into_iter()
        .map(|(role, path)| file_fact(root, accounts, role, &path, gaps))
        .collect();
    facts.extend(registry_certs(root, accounts, gaps));
    facts
}

/// Stats one host path (following links within the root) into a fact.
pub(crate) fn file_fact(
    root: &HostRoot,
    accounts: &Accounts,
    role: &str,
    path: &str,
    gaps: &mut Vec<Gap>,
) -> FileFact {
    let mut fact = FileFact {
        role: role.to_string(),
        path: path.to_string(),
        exists: false,
        file_type: None,
        mode: None,
        mode_octal: None,
        uid: None,
        gid: None,
        owner: None,
        group: None,
        error: None,
    };
    match root.resolve(path).and_then(std::fs::symlink_metadata) {
        Ok(meta) => {
            let ft = meta.file_type();
            let kind = if ft.is_dir() {
                "dir"
            } else if ft.is_file() {
                "file"
            } else if ft.is_socket() {
                "socket"
            } else if ft.is_symlink() {
                "symlink"
            } else {
                "other"
            };
            let mode = meta.mode() & 0o7777;
            fact.exists = true;
            fact.file_type = Some(kind.to_string());
            fact.mode = Some(mode);
            fact.mode_octal = Some(format!("{mode:04o}"));
            fact.uid = Some(meta.uid());
            fact.gid = Some(meta.gid());
            fact.owner = accounts.user_name(meta.uid());
            fact.group = accounts.group_name(meta.gid());
        }
        Err(e) if is_missing(&e) => {}
        Err(e) => {
            fact.error = Some(e.to_string());
            gaps.push(gap(format!("host:{path}"), e));
        }
    }
    fact
}

/// The unit file systemd would load: the first candidate that exists (or cannot be examined,
/// so the error is recorded), else the first candidate.
fn find_unit(root: &HostRoot, unit: &str) -> String {
    let candidates: Vec<String> = UNIT_DIRS.iter().map(|d| format!("{d}/{unit}")).collect();
    candidates
        .iter()
        .find(
            |path| match root.resolve(path).and_then(std::fs::metadata) {
                Ok(_) => true,
                Err(e) => !is_missing(&e),
            },
        )
        .unwrap_or(&candidates[0])
        .clone()
}

/// The first of the usual program directories that holds `name`, else `/usr/bin/NAME`.
fn find_program(root: &HostRoot, name: &str) -> String {
    BIN_DIRS
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|path| root.resolve(path).and_then(std::fs::metadata).is_ok())
        .unwrap_or_else(|| format!("/usr/bin/{name}"))
}

/// Unix sockets dockerd listens on, as configured.
fn docker_sockets(root: &HostRoot, sources: &Sources<'_>) -> Vec<String> {
    let mut hosts = sources.flag(&["-H", "--host"]);
    if let Some(list) = sources
        .daemon_json
        .and_then(|c| c.get("hosts"))
        .and_then(Value::as_array)
    {
        hosts.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if hosts.is_empty() {
        return vec![DEFAULT_SOCKET.to_string()];
    }
    let mut sockets = Vec::new();
    for host in hosts {
        if let Some(path) = host.strip_prefix("unix://") {
            sockets.push(
                if path.is_empty() {
                    DEFAULT_SOCKET
                } else {
                    path
                }
                .to_string(),
            );
        } else if host.starts_with("fd://") {
            let listed = listen_streams(root);
            if listed.is_empty() {
                sockets.push(DEFAULT_SOCKET.to_string());
            }
            sockets.extend(listed);
        }
    }
    sockets
}

/// Absolute `ListenStream=` paths of the docker.socket unit with its drop-ins merged
/// (unreadable unit: none; its fact says why).
fn listen_streams(root: &HostRoot) -> Vec<String> {
    units::merged_values(root, "docker.socket", "Socket", "ListenStream")
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.starts_with('/'))
        .collect()
}

/// One fact per file under `/etc/docker/certs.d`, in path order.
fn registry_certs(root: &HostRoot, accounts: &Accounts, gaps: &mut Vec<Gap>) -> Vec<FileFact> {
    let dir = match root.resolve(CERTS_D) {
        Ok(dir) => dir,
        Err(e) if is_missing(&e) => return Vec::new(),
        Err(e) => {
            gaps.push(gap(format!("host:{CERTS_D}"), e));
            return Vec::new();
        }
    };
    let mut facts = Vec::new();
    for entry in WalkDir::new(&dir).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                let at = e
                    .path()
                    .and_then(|p| p.strip_prefix(&dir).ok())
                    .map(|rel| format!("{CERTS_D}/{}", rel.display()))
                    .unwrap_or_else(|| CERTS_D.to_string());
                gaps.push(gap(format!("host:{at}"), e));
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(&dir) else {
            continue;
        };
        let host_path = format!("{CERTS_D}/{}", rel.display());
        facts.push(file_fact(root, accounts, "registry-cert", &host_path, gaps));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::path::Path;

    fn write(root: &Path, path: &str, content: &str, mode: u32) {
        let full = root.join(path.trim_start_matches('/'));
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(&full, content).unwrap();
        fs::set_permissions(&full, fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A host tree whose /etc/passwd and /etc/group name the current user and group.
    fn host_tree() -> (tempfile::TempDir, u32, u32) {
        let dir = tempfile::tempdir().unwrap();
        let meta = fs::metadata(dir.path()).unwrap();
        let (uid, gid) = (meta.uid(), meta.gid());
        write(
            dir.path(),
            "/etc/passwd",
            &format!("alice:x:{uid}:{gid}::/:/bin/sh\n"),
            0o644,
        );
        write(
            dir.path(),
            "/etc/group",
            &format!("docker:x:{gid}:\n"),
            0o644,
        );
        (dir, uid, gid)
    }

    fn fact<'a>(facts: &'a [FileFact], role: &str) -> Vec<&'a FileFact> {
        facts.iter().filter(|f| f.role == role).collect()
    }

    #[test]
    fn modes_owners_and_types_are_recorded() {
        let (dir, uid, gid) = host_tree();
        let r = dir.path();
        write(
            r,
            "/lib/systemd/system/docker.service",
            "[Service]\n",
            0o644,
        );
        write(
            r,
            "/usr/lib/systemd/system/docker.socket",
            "[Socket]\n",
            0o4755,
        );
        fs::set_permissions(r.join("etc"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::create_dir_all(r.join("etc/docker")).unwrap();
        fs::set_permissions(r.join("etc/docker"), fs::Permissions::from_mode(0o750)).unwrap();
        fs::create_dir_all(r.join("run")).unwrap();
        fs::create_dir_all(r.join("var")).unwrap();
        symlink("/run", r.join("var/run")).unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(r.join("run/docker.sock")).unwrap();
        fs::set_permissions(r.join("run/docker.sock"), fs::Permissions::from_mode(0o660)).unwrap();

        let mut gaps = Vec::new();
        let root = HostRoot::new(r);
        let accounts = Accounts::load(&root, &mut gaps);
        let sources = Sources {
            dockerd_args: None,
            daemon_json: None,
            daemon_json_path: "/etc/docker/daemon.json",
        };
        let facts = collect_files(&root, &accounts, &sources, &mut gaps);
        assert!(gaps.is_empty(), "{gaps:?}");

        let service = fact(&facts, "docker.service")[0];
        assert_eq!(service.path, "/lib/systemd/system/docker.service");
        assert_eq!(service.mode_octal.as_deref(), Some("0644"));
        assert_eq!(service.file_type.as_deref(), Some("file"));
        assert_eq!((service.uid, service.gid), (Some(uid), Some(gid)));
        assert_eq!(service.owner.as_deref(), Some("alice"));
        assert_eq!(service.group.as_deref(), Some("docker"));
        let socket_unit = fact(&facts, "docker.socket")[0];
        assert_eq!(socket_unit.path, "/usr/lib/systemd/system/docker.socket");
        assert_eq!(socket_unit.mode, Some(0o4755));

        let etc = fact(&facts, "etc-docker")[0];
        assert_eq!(
            (etc.file_type.as_deref(), etc.mode),
            (Some("dir"), Some(0o750))
        );

        // Recorded as configured, examined through the /var/run -> /run link inside the root.
        let sock = fact(&facts, "docker.sock");
        assert_eq!(sock.len(), 1);
        assert_eq!(sock[0].path, "/var/run/docker.sock");
        assert_eq!(sock[0].file_type.as_deref(), Some("socket"));
        assert_eq!(sock[0].mode_octal.as_deref(), Some("0660"));

        let missing = fact(&facts, "daemon.json")[0];
        assert!(!missing.exists && missing.mode.is_none() && missing.error.is_none());
        assert!(fact(&facts, "tls-ca").is_empty());
        assert!(!fact(&facts, "etc-default-docker")[0].exists);
    }

    #[test]
    fn paths_follow_dockerd_flags_and_daemon_json() {
        let (dir, _, _) = host_tree();
        let r = dir.path();
        write(
            r,
            "/lib/systemd/system/docker.socket",
            "[Socket]\nListenStream=/run/docker.sock\nListenStream=2375\n",
            0o644,
        );
        write(r, "/etc/docker/tls/ca.pem", "ca", 0o444);
        write(r, "/etc/docker/tls/server-key.pem", "key", 0o400);
        write(r, "/etc/docker/certs.d/registry:5000/ca.crt", "c", 0o444);
        write(
            r,
            "/etc/docker/certs.d/registry:5000/client.key",
            "k",
            0o600,
        );
        let args: Vec<String> = [
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "--host=unix:///srv/d.sock",
            "--tlscacert",
            "/etc/docker/tls/ca.pem",
            "--containerd=/run/alt/containerd.sock",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let config = serde_json::json!({
            "hosts": ["tcp://0.0.0.0:2376"],
            "tlskey": "/etc/docker/tls/server-key.pem",
            "tlscacert": "/ignored/because/flag/wins.pem"
        });
        let mut gaps = Vec::new();
        let root = HostRoot::new(r);
        let accounts = Accounts::load(&root, &mut gaps);
        let sources = Sources {
            dockerd_args: Some(&args),
            daemon_json: Some(&config),
            daemon_json_path: "/etc/docker/daemon.json",
        };
        let facts = collect_files(&root, &accounts, &sources, &mut gaps);
        let paths = |role: &str| -> Vec<String> {
            fact(&facts, role).iter().map(|f| f.path.clone()).collect()
        };
        assert_eq!(paths("docker.sock"), ["/run/docker.sock", "/srv/d.sock"]);
        assert_eq!(
            paths("containerd.sock"),
            [
                "/run/containerd/containerd.sock",
                "/run/alt/containerd.sock"
            ]
        );
        assert_eq!(paths("tls-ca"), ["/etc/docker/tls/ca.pem"]);
        assert_eq!(paths("tls-key"), ["/etc/docker/tls/server-key.pem"]);
        assert_eq!(
            fact(&facts, "tls-key")[0].mode_octal.as_deref(),
            Some("0400")
        );
        assert!(paths("tls-cert").is_empty());
        assert_eq!(
            paths("registry-cert"),
            [
                "/etc/docker/certs.d/registry:5000/ca.crt",
                "/etc/docker/certs.d/registry:5000/client.key"
            ]
        );
        // No unit anywhere: one missing fact at the first candidate.
        let service = fact(&facts, "docker.service")[0];
        assert_eq!(service.path, "/etc/systemd/system/docker.service");
        assert!(!service.exists);
    }

    #[test]
    fn devices_missing_parents_and_loops_are_distinguished() {
        let (dir, _, _) = host_tree();
        let r = dir.path();
        let mut gaps = Vec::new();
        let root = HostRoot::new(r);
        let accounts = Accounts::load(&root, &mut gaps);
        // What a unit masked by a link to /dev/null resolves to: a character device, `other`.
        let null = file_fact(
            &HostRoot::new(Path::new("/")),
            &accounts,
            "x",
            "/dev/null",
            &mut gaps,
        );
        assert_eq!(null.file_type.as_deref(), Some("other"));
        assert_eq!(null.mode_octal.as_deref(), Some("0666"));
        // A file where a directory should be: the path cannot exist (missing, not a gap).
        write(r, "/etc/default", "not a dir", 0o644);
        let under_file = file_fact(
            &root,
            &accounts,
            "etc-default-docker",
            "/etc/default/docker",
            &mut gaps,
        );
        assert!(!under_file.exists && under_file.error.is_none());
        assert!(gaps.is_empty());
        // A link loop cannot be examined: error + gap.
        symlink("/etc/loop", r.join("etc/loop")).unwrap();
        let looped = file_fact(&root, &accounts, "x", "/etc/loop", &mut gaps);
        assert!(!looped.exists);
        assert!(looped.error.is_some());
        assert_eq!(gaps[0].source, "host:/etc/loop");
    }
}
