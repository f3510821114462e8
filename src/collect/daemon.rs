//! The Docker daemon as the host sees it: the running `dockerd` process (from `/proc`) and its
//! configuration file.
//!
//! * dockerd: the process [`super::identify`] found serving the scanned engine (never simply the
//!   first dockerd in `/proc`). When none could be identified the caller records the gap
//!   `host:/proc (dockerd)` with the reason.
//! * daemon.json: `--config-file` from that dockerd's arguments, else `/etc/docker/daemon.json`
//!   (`~/.config/docker/daemon.json` for a rootless daemon). A
//!   missing file is a valid state (`exists: false`, every option at its default), not a gap. An
//!   empty file is read as `{}`, as dockerd does. Invalid JSON keeps `exists: true`, sets
//!   `parse_error` ("line L column C: message") and adds a gap.
//!
//! URL passwords in both (proxy settings) are redacted. This module only reads.

use serde_json::Value;

use crate::snapshot::{DaemonJson, DockerdProcess, Gap};

use super::host::{is_missing, HostRoot};
use super::identify::Served;
use super::{gap, redact};

/// Where dockerd reads its configuration when `--config-file` is not given.
pub(crate) const DEFAULT_DAEMON_JSON: &str = "/etc/docker/daemon.json";

/// The process record of the daemon [`super::identify`] found serving the engine, with URL
/// passwords in its arguments redacted.
pub(crate) fn served_process(served: &Served) -> DockerdProcess {
    let mut process = DockerdProcess {
        pid: served.pid,
        args: served.args.clone(),
    };
    for arg in &mut process.args {
        if let Some(clean) = redact::url_credentials(arg) {
            *arg = clean;
        }
    }
    process
}

/// NUL-separated arguments, without the trailing empty one.
pub(crate) fn split_cmdline(raw: &[u8]) -> Vec<String> {
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
    }

    #[test]
    fn the_served_process_has_url_passwords_redacted() {
        let served = Served {
            pid: 812,
            args: args(&[
                "/usr/bin/dockerd",
                "--registry-mirror=https://u:secret@m.example",
            ]),
            config_path: DEFAULT_DAEMON_JSON.into(),
            rootless: false,
        };
        let p = served_process(&served);
        assert_eq!(p.pid, 812);
        assert!(!p.args[1].contains("secret"), "{:?}", p.args);
        assert_eq!(
            split_cmdline(b"dockerd\0-H\0fd://\0\0"),
            args(&["dockerd", "-H", "fd://"])
        );
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
