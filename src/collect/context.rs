//! Which engine the user means: the docker CLI's selection rules, applied to dockproof's options
//! and environment.
//!
//! Precedence, as in the docker CLI (and refused in the same case):
//! 1. `--docker-host` or `--context` (both given: a usage error, as `docker -H X --context Y`);
//! 2. `DOCKER_HOST`;
//! 3. `DOCKER_CONTEXT`;
//! 4. `currentContext` in `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`);
//! 5. the default: `unix:///var/run/docker.sock`, or `tcp://localhost:2376` when
//!    `DOCKER_TLS_VERIFY`/`DOCKER_TLS` is set.
//!
//! The context named `default` is "no context": the host given by the flag, `DOCKER_HOST` or the
//! default, with TLS from the environment. Any other context is read from
//! `$DOCKER_CONFIG/contexts/meta/<sha256(name)>/meta.json` (its `docker` endpoint) and its TLS
//! material from `contexts/tls/<sha256(name)>/docker/{ca,cert,key}.pem`; the environment's TLS
//! settings do not apply to it. Everything read here is user input: an unknown context, a bad
//! name, an unreadable or malformed file is a [`SelectError`] naming the file, which the command
//! line reports as a usage error. This module reads those files only; it never connects.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The environment variables that take part in the selection, read once.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectEnv {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_config: Option<String>,
    pub home: Option<String>,
    pub tls_verify: bool,
    pub tls: bool,
    pub cert_path: Option<String>,
}

impl SelectEnv {
    /// Reads the variables; empty values count as unset, as in the docker CLI.
    pub fn from_process_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        SelectEnv {
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG"),
            home: var("HOME"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            tls: var("DOCKER_TLS").is_some(),
            cert_path: var("DOCKER_CERT_PATH"),
        }
    }

    fn config_dir(&self) -> Option<PathBuf> {
        match (&self.docker_config, &self.home) {
            (Some(dir), _) => Some(PathBuf::from(dir)),
            (None, Some(home)) => Some(Path::new(home).join(".docker")),
            (None, None) => None,
        }
    }
}

/// The three PEM files of a TLS client, as the docker CLI names them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TlsFiles {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    fn in_dir(dir: PathBuf) -> Self {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            dir,
        }
    }
}

/// The engine chosen, before its address is parsed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selection {
    /// The host as written (flag, variable or context), not yet parsed.
    pub host: String,
    /// What chose it: `--docker-host`, `--context`, `DOCKER_HOST`, `DOCKER_CONTEXT`,
    /// `config.json currentContext` or `default`.
    pub chosen_by: &'static str,
    /// The docker context, when one other than `default` was used.
    pub context: Option<String>,
    /// TLS material: for a context, its own (or none); otherwise from the environment when
    /// `DOCKER_TLS_VERIFY`/`DOCKER_TLS` is set.
    pub tls: Option<TlsFiles>,
}

/// Why no engine could be selected; always the user's input, never the engine.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum SelectError {
    #[error(
        "conflicting options: --docker-host and --context cannot both be given (as with \
         docker -H and --context)"
    )]
    Conflict,
    #[error(
        "invalid context name {name:?} (from {from}): names are letters, digits and `_.+-`, \
         starting with a letter or digit"
    )]
    BadName { name: String, from: &'static str },
    #[error(
        "context {name:?} (from {from}) does not exist: no {path}; list contexts with \
         `docker context ls`"
    )]
    Unknown {
        name: String,
        from: &'static str,
        path: String,
    },
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{path} has no docker endpoint (Endpoints.docker.Host)")]
    NoEndpoint { path: String },
    #[error(
        "TLS is requested (DOCKER_TLS_VERIFY or DOCKER_TLS) but neither DOCKER_CERT_PATH nor \
         HOME is set"
    )]
    NoCertPath,
    #[error("neither DOCKER_CONFIG nor HOME is set, so the docker contexts cannot be found")]
    NoConfigDir,
}

/// Applies the precedence rules of the module documentation.
pub(crate) fn select(
    docker_host: Option<&str>,
    context: Option<&str>,
    env: &SelectEnv,
) -> Result<Selection, SelectError> {
    let docker_host = docker_host.filter(|h| !h.trim().is_empty());
    let context = context.filter(|c| !c.is_empty());
    let named = match (docker_host, context) {
        (Some(_), Some(_)) => return Err(SelectError::Conflict),
        (Some(host), None) => return default_context(Some(host), "--docker-host", env),
        (None, Some(name)) => Some((name.to_string(), "--context")),
        (None, None) if env.docker_host.is_some() => {
            return default_context(env.docker_host.as_deref(), "DOCKER_HOST", env)
        }
        (None, None) => match &env.docker_context {
            Some(name) => Some((name.clone(), "DOCKER_CONTEXT")),
            None => current_context(env)?.map(|n| (n, "config.json currentContext")),
        },
    };
    match named {
        None => default_context(None, "default", env),
        Some((name, from)) if name == "default" => {
            default_context(env.docker_host.as_deref(), from, env)
        }
        Some((name, from)) => named_context(&name, from, env),
    }
}

/// The `default` context: a host from the flag or `DOCKER_HOST`, else the default socket.
fn default_context(
    host: Option<&str>,
    chosen_by: &'static str,
    env: &SelectEnv,
) -> Result<Selection, SelectError> {
    let tls = if env.tls_verify || env.tls {
        let dir = match (&env.cert_path, &env.home) {
            (Some(p), _) => PathBuf::from(p),
            (None, Some(home)) => Path::new(home).join(".docker"),
            (None, None) => return Err(SelectError::NoCertPath),
        };
        Some(TlsFiles::in_dir(dir))
    } else {
        None
    };
    let host = match host {
        Some(h) => h.to_string(),
        None if tls.is_some() => "tcp://localhost:2376".to_string(),
        None => super::endpoint::DEFAULT_DOCKER_HOST.to_string(),
    };
    Ok(Selection {
        host,
        chosen_by,
        context: None,
        tls,
    })
}

/// The subset of `config.json` that selection reads.
#[derive(Deserialize)]
struct ConfigFile {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

fn current_context(env: &SelectEnv) -> Result<Option<String>, SelectError> {
    let Some(dir) = env.config_dir() else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let text = match super::host::read_regular(&path) {
        Ok(text) => text,
        Err(e) if super::host::is_missing(&e) => return Ok(None),
        Err(e) => return Err(unreadable(&path, e)),
    };
    if text.trim().is_empty() {
        return Ok(None);
    }
    let config: ConfigFile = serde_json::from_str(&text).map_err(|e| unreadable(&path, e))?;
    Ok(config.current_context.filter(|c| !c.is_empty()))
}

#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints", default)]
    endpoints: std::collections::BTreeMap<String, MetaEndpoint>,
}

#[derive(Deserialize)]
struct MetaEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
}

fn named_context(
    name: &str,
    from: &'static str,
    env: &SelectEnv,
) -> Result<Selection, SelectError> {
    if !valid_name(name) {
        return Err(SelectError::BadName {
            name: name.to_string(),
            from,
        });
    }
    let dir = env.config_dir().ok_or(SelectError::NoConfigDir)?;
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta_path = dir.join("contexts/meta").join(&id).join("meta.json");
    let text = match super::host::read_regular(&meta_path) {
        Ok(text) => text,
        Err(e) if super::host::is_missing(&e) => {
            return Err(SelectError::Unknown {
                name: name.to_string(),
                from,
                path: meta_path.display().to_string(),
            })
        }
        Err(e) => return Err(unreadable(&meta_path, e)),
    };
    let meta: Meta = serde_json::from_str(&text).map_err(|e| unreadable(&meta_path, e))?;
    let host = meta
        .endpoints
        .get("docker")
        .and_then(|e| e.host.clone())
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| SelectError::NoEndpoint {
            path: meta_path.display().to_string(),
        })?;
    let tls_dir = dir.join("contexts/tls").join(&id).join("docker");
    let tls = TlsFiles::in_dir(tls_dir);
    let has_tls = [&tls.ca, &tls.cert, &tls.key].iter().any(|p| p.exists());
    Ok(Selection {
        host,
        chosen_by: from,
        context: Some(name.to_string()),
        tls: has_tls.then_some(tls),
    })
}

/// The docker CLI's rule for context names: `^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> SelectError {
    SelectError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write_context(config: &Path, name: &str, host: &str, tls: bool) {
        let id = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = config.join("contexts/meta").join(&id);
        fs::create_dir_all(&meta).unwrap();
        let doc = serde_json::json!({"Name": name, "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}});
        fs::write(meta.join("meta.json"), doc.to_string()).unwrap();
        if tls {
            let dir = config.join("contexts/tls").join(&id).join("docker");
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("ca.pem"), "x").unwrap();
        }
    }

    fn env_with(config: &Path) -> SelectEnv {
        SelectEnv {
            docker_config: Some(config.display().to_string()),
            home: Some("/home/u".into()),
            ..SelectEnv::default()
        }
    }

    #[test]
    fn precedence_follows_the_docker_cli() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path();
        write_context(c, "ctx-a", "unix:///run/a.sock", false);
        write_context(c, "ctx-b", "tcp://10.0.0.2:2376", true);
        fs::write(c.join("config.json"), r#"{"currentContext": "ctx-a"}"#).unwrap();
        let mut env = env_with(c);

        let s = select(None, None, &env).unwrap();
        assert_eq!(
            (s.host.as_str(), s.chosen_by, s.context.as_deref()),
            (
                "unix:///run/a.sock",
                "config.json currentContext",
                Some("ctx-a")
            )
        );
        assert_eq!(s.tls, None);

        env.docker_context = Some("ctx-b".into());
        let s = select(None, None, &env).unwrap();
        assert_eq!(
            (s.host.as_str(), s.chosen_by),
            ("tcp://10.0.0.2:2376", "DOCKER_CONTEXT")
        );
        let id = hex::encode(Sha256::digest(b"ctx-b"));
        assert_eq!(
            s.tls.unwrap().ca,
            c.join("contexts/tls").join(id).join("docker/ca.pem")
        );

        env.docker_host = Some("tcp://h:1".into());
        let s = select(None, None, &env).unwrap();
        assert_eq!((s.host.as_str(), s.chosen_by), ("tcp://h:1", "DOCKER_HOST"));
        assert_eq!(s.context, None);

        let s = select(None, Some("ctx-a"), &env).unwrap();
        assert_eq!(
            (s.host.as_str(), s.chosen_by),
            ("unix:///run/a.sock", "--context")
        );
        let s = select(Some("unix:///x"), None, &env).unwrap();
        assert_eq!(
            (s.host.as_str(), s.chosen_by),
            ("unix:///x", "--docker-host")
        );
        assert_eq!(
            select(Some("unix:///x"), Some("ctx-a"), &env),
            Err(SelectError::Conflict)
        );
        // `default` is the environment's host, not a stored context.
        let s = select(None, Some("default"), &env).unwrap();
        assert_eq!(s.host, "tcp://h:1");
    }

    #[test]
    fn the_default_switches_to_tcp_2376_with_tls() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = env_with(dir.path());
        assert_eq!(
            select(None, None, &env).unwrap().host,
            "unix:///var/run/docker.sock"
        );
        env.tls_verify = true;
        let s = select(None, None, &env).unwrap();
        assert_eq!(s.host, "tcp://localhost:2376");
        assert_eq!(s.tls.unwrap().dir, PathBuf::from("/home/u/.docker"));
    }

    #[test]
    fn bad_contexts_and_config_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let c = dir.path();
        let env = env_with(c);
        let err = select(None, Some("nope"), &env).unwrap_err();
        assert!(
            matches!(&err, SelectError::Unknown { name, from: "--context", .. } if name == "nope"),
            "{err:?}"
        );
        let err = select(None, Some("bad name"), &env).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("invalid context name \"bad name\""));
        fs::write(c.join("config.json"), "{not json").unwrap();
        let err = select(None, None, &env).unwrap_err().to_string();
        assert!(err.starts_with(&format!("cannot read {}", c.join("config.json").display())));
        fs::write(c.join("config.json"), r#"{"currentContext": ""}"#).unwrap();
        assert_eq!(select(None, None, &env).unwrap().chosen_by, "default");
        write_context(c, "empty", "", false);
        let err = select(None, Some("empty"), &env).unwrap_err().to_string();
        assert!(
            err.ends_with("has no docker endpoint (Endpoints.docker.Host)"),
            "{err}"
        );
    }
}
