//! The Docker daemon as the host sees it: the running `dockerd` process (from `/proc`) and its
//! configuration file.
//!
//! * dockerd: the process whose `argv[0]` base name is `dockerd`, found by scanning
//!   `<root>/proc/*/cmdline`. If several run (rootless next to rootful, docker-in-docker), the
//!   lowest pid wins and a warning is logged. Not finding it is a gap (`host:/proc (dockerd)`):
//!   the engine may be remote, or dockproof may run in another PID namespace.
//! * daemon.json: `--config-file` from dockerd's arguments, else `/etc/docker/daemon.json`. A
//!   missing file is a valid state (`exists: false`, every option at its default), not a gap. An
//!   empty file is read as `{}`, as dockerd does. Invalid JSON keeps `exists: true`, sets
//!   `parse_error` ("line L column C: message") and adds a gap.
//!
//! URL passwords in both (proxy settings) are redacted. This module only reads.

use serde_json::Value;

use crate::snapshot::{DaemonJson, DockerdProcess, Gap};

use super::host::{is_missing, read_regular_bytes, HostRoot};
use super::{gap, redact};

/// Where dockerd reads its configuration when `--config-file` is not given.
pub(crate) const DEFAULT_DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// Finds the dockerd process under `<root>/proc`.
pub(crate) fn find_dockerd(root: &HostRoot, gaps: &mut Vec<Gap>) -> Option<DockerdProcess> {
    const SOURCE: &str = "host:/proc (dockerd)";
    let entries = match std::fs::read_dir(root.join("/proc")) {
        Ok(entries) => entries,
        Err(e) => {
            gaps.push(gap(SOURCE, format!("cannot list /proc: {e}")));
            return None;
        }
    };
    let mut found: Vec<DockerdProcess> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            // Processes come and go while we scan; an unreadable one is simply not dockerd.
            let raw = read_regular_bytes(&root.join(&format!("/proc/{pid}/cmdline"))).ok()?;
            let args = split_cmdline(&raw);
            let argv0 = args.first()?;
            (argv0.rsplit('/').next() == Some("dockerd")).then_some(DockerdProcess { pid, args })
        })
        .collect();
    found.sort_by_key(|p| p.pid);
    if found.len() > 1 {
        let pids: Vec<String> = found.iter().map(|p| p.pid.to_string()).collect();
        tracing::warn!(pids = %pids.join(", "), "several dockerd processes; using the first");
    }
    match found.into_iter().next() {
        Some(mut process) => {
            for arg in &mut process.args {
                if let Some(clean) = redact::url_credentials(arg) {
                    *arg = clean;
                }
            }
            tracing::debug!(pid = process.pid, "found dockerd");
            Some(process)
        }
        None => {
            gaps.push(gap(
                SOURCE,
                "no dockerd process found: the engine may be remote, or dockproof runs in \
                 another PID namespace (in a container, use --pid=host and mount the host's / \
                 as the host root)",
            ));
            None
        }
    }
}

/// NUL-separated arguments, without the trailing empty one.
fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let mut args: Vec<String> = raw
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    while args.last().is_some_and(String::is_empty) {
        args.pop();
    }
    args
}

/// Every value given to a flag, in order. Accepts `--flag value`, `--flag=value` and, for
/// one-letter flags, `-Hvalue` (Go's flag parsing allows all three).
pub(crate) fn flag_values(args: &[String], names: &[&str]) -> Vec<String> {
    let mut values = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        for name in names {
            if arg == *name {
                if let Some(value) = args.get(i) {
                    values.push(value.clone());
                    i += 1;
                }
                break;
            }
            if let Some(value) = arg.strip_prefix(name) {
                let short = !name.starts_with("--");
                if let Some(v) = value.strip_prefix('=') {
                    values.push(v.to_string());
                    break;
                }
                if short && !value.is_empty() {
                    values.push(value.to_string());
                    break;
                }
            }
        }
    }
    values
}

/// The daemon.json path dockerd uses: `--config-file` if given, else the default.
pub(crate) fn daemon_json_path(args: Option<&[String]>) -> String {
    args.and_then(|a| flag_values(a, &["--config-file"]).pop())
        .unwrap_or_else(|| DEFAULT_DAEMON_JSON.to_string())
}

/// Reads and parses daemon.json; `None` only when it exists but cannot be read.
pub(crate) fn read_daemon_json(
    root: &HostRoot,
    path: &str,
    gaps: &mut Vec<Gap>,
) -> Option<DaemonJson> {
    let text = match root.read_to_string(path) {
        Ok(text) => text,
        Err(e) if is_missing(&e) => {
            return Some(DaemonJson {
                path: path.to_string(),
                exists: false,
                content: None,
                parse_error: None,
            })
        }
        Err(e) => {
            gaps.push(gap(format!("host:{path}"), e));
            return None;
        }
    };
    let parsed = if text.trim().is_empty() {
        Ok(Value::Object(Default::default()))
    } else {
        serde_json::from_str::<Value>(&text)
    };
    let (content, parse_error) = match parsed {
        Ok(mut value) => {
            redact::url_credentials_in(&mut value);
            (Some(value), None)
        }
        Err(e) => {
            let message = json_error(&e);
            gaps.push(gap(
                format!("host:{path}"),
                format!("invalid JSON: {message}"),
            ));
            (None, Some(message))
        }
    };
    Some(DaemonJson {
        path: path.to_string(),
        exists: true,
        content,
        parse_error,
    })
}

/// `line L column C: message`, without serde's own trailing position.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    format!("line {} column {}: {message}", e.line(), e.column())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_are_read_in_every_form() {
        let a = args(&[
            "/usr/bin/dockerd",
            "-H",
            "fd://",
            "--host=tcp://0.0.0.0:2376",
            "-Hunix:///run/alt.sock",
            "--tlscacert",
            "/etc/docker/ca.pem",
            "--tlscert=/etc/docker/cert.pem",
            "--hostname-ish=x",
            "--containerd=/run/containerd/containerd.sock",
        ]);
        assert_eq!(
            flag_values(&a, &["-H", "--host"]),
            ["fd://", "tcp://0.0.0.0:2376", "unix:///run/alt.sock"]
        );
        assert_eq!(flag_values(&a, &["--tlscacert"]), ["/etc/docker/ca.pem"]);
        assert_eq!(flag_values(&a, &["--tlscert"]), ["/etc/docker/cert.pem"]);
        assert!(flag_values(&a, &["--tlskey"]).is_empty());
        assert_eq!(daemon_json_path(Some(&a)), DEFAULT_DAEMON_JSON);
        let b = args(&["dockerd", "--config-file", "/srv/docker.json"]);
        assert_eq!(daemon_json_path(Some(&b)), "/srv/docker.json");
    }

    fn proc_entry(root: &std::path::Path, pid: u32, cmdline: &[u8]) {
        let dir = root.join(format!("proc/{pid}"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cmdline"), cmdline).unwrap();
    }

    #[test]
    fn dockerd_is_found_by_argv0_basename() {
        let dir = tempfile::tempdir().unwrap();
        proc_entry(dir.path(), 1, b"/sbin/init\0");
        proc_entry(dir.path(), 77, b"/usr/bin/containerd\0");
        proc_entry(dir.path(), 90, b"grep\0dockerd\0");
        proc_entry(
            dir.path(),
            812,
            b"/usr/bin/dockerd\0-H\0fd://\0--containerd=/run/c.sock\0",
        );
        proc_entry(dir.path(), 900, b""); // kernel thread
        fs::create_dir_all(dir.path().join("proc/sys")).unwrap();
        let mut gaps = Vec::new();
        let d = find_dockerd(&HostRoot::new(dir.path()), &mut gaps).unwrap();
        assert_eq!(d.pid, 812);
        assert_eq!(
            d.args,
            [
                "/usr/bin/dockerd",
                "-H",
                "fd://",
                "--containerd=/run/c.sock"
            ]
        );
        assert!(gaps.is_empty());
    }

    #[test]
    fn no_dockerd_is_a_gap_that_explains() {
        let dir = tempfile::tempdir().unwrap();
        proc_entry(dir.path(), 1, b"/sbin/init\0");
        let mut gaps = Vec::new();
        assert_eq!(find_dockerd(&HostRoot::new(dir.path()), &mut gaps), None);
        assert_eq!(gaps[0].source, "host:/proc (dockerd)");
        assert!(gaps[0].error.contains("PID namespace"));
    }

    #[test]
    fn daemon_json_valid_invalid_empty_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path());
        fs::create_dir_all(dir.path().join("etc/docker")).unwrap();
        let file = dir.path().join("etc/docker/daemon.json");
        let mut gaps = Vec::new();

        let missing = read_daemon_json(&root, DEFAULT_DAEMON_JSON, &mut gaps).unwrap();
        assert!(!missing.exists && missing.content.is_none() && missing.parse_error.is_none());
        assert!(gaps.is_empty());

        fs::write(
            &file,
            r#"{"icc": false, "proxies": {"https-proxy": "http://u:pw@p"}}"#,
        )
        .unwrap();
        let valid = read_daemon_json(&root, DEFAULT_DAEMON_JSON, &mut gaps).unwrap();
        let content = valid.content.unwrap();
        assert_eq!(content["icc"], Value::Bool(false));
        assert!(!content.to_string().contains(":pw@"));

        fs::write(&file, "  \n").unwrap();
        let empty = read_daemon_json(&root, DEFAULT_DAEMON_JSON, &mut gaps).unwrap();
        assert_eq!(empty.content, Some(serde_json::json!({})));
        assert!(gaps.is_empty());

        fs::write(&file, "{\n  \"icc\": false,\n}\n").unwrap();
        let bad = read_daemon_json(&root, DEFAULT_DAEMON_JSON, &mut gaps).unwrap();
        assert!(bad.exists);
        assert_eq!(bad.content, None);
        assert_eq!(
            bad.parse_error.as_deref(),
            Some("line 3 column 1: trailing comma")
        );
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].source, "host:/etc/docker/daemon.json");
    }

    #[test]
    fn unreadable_daemon_json_is_a_gap_and_none() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: exists, but cannot be read as a file.
        fs::create_dir_all(dir.path().join("etc/docker/daemon.json")).unwrap();
        let mut gaps = Vec::new();
        let got = read_daemon_json(&HostRoot::new(dir.path()), DEFAULT_DAEMON_JSON, &mut gaps);
        assert_eq!(got, None);
        assert_eq!(gaps[0].source, "host:/etc/docker/daemon.json");
    }
}
