//! The engine endpoint: which URL to talk to, with or without TLS, and why it could not be reached.
//!
//! Resolution follows the docker CLI: `--docker-host` if given, else `DOCKER_HOST`, else the local
//! socket [`DEFAULT_DOCKER_HOST`]. `unix://PATH`, `tcp://HOST[:PORT]`, `http://` and `https://` are
//! accepted; a TCP endpoint uses TLS when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is non-empty (or the
//! scheme is `https`), with `ca.pem`, `cert.pem` and `key.pem` from `DOCKER_CERT_PATH` (default
//! `~/.docker`). dockproof always verifies the server certificate: `DOCKER_TLS` without
//! verification is treated like `DOCKER_TLS_VERIFY`. `ssh://` is not supported (forward the socket
//! instead). Without a port, TCP defaults to 2376 with TLS and 2375 without, like the CLI.
//!
//! This module owns the connection and the first call (`GET /version`); a failure there is the
//! only collection failure that aborts, as [`CollectError::Unreachable`] with a reason that says
//! what to do. It never reads anything else from the engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::models::SystemVersion;
use bollard::{Docker, API_DEFAULT_VERSION};

use super::CollectError;

/// Endpoint used when neither `--docker-host` nor `DOCKER_HOST` is set.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// Longest wait for any one Engine API call, so a hung daemon cannot hang the tool.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The environment variables the docker CLI honours for the endpoint, read once.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsEnv {
    pub docker_host: Option<String>,
    pub tls_verify: bool,
    pub tls: bool,
    pub cert_path: Option<String>,
    pub home: Option<String>,
}

impl TlsEnv {
    /// Reads `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_TLS`, `DOCKER_CERT_PATH` and `HOME`.
    pub fn from_process_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        TlsEnv {
            docker_host: var("DOCKER_HOST"),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some(),
            tls: var("DOCKER_TLS").is_some(),
            cert_path: var("DOCKER_CERT_PATH"),
            home: var("HOME"),
        }
    }
}

/// Where the engine is and how to reach it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Endpoint {
    /// The endpoint as resolved, recorded in the snapshot (`unix:///var/run/docker.sock`).
    pub url: String,
    pub transport: Transport,
    /// Client material for TLS; `None` for plain HTTP and unix sockets.
    pub tls: Option<TlsFiles>,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// How the bytes travel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transport {
    /// A unix socket at this path.
    Unix(String),
    /// TCP to `host:port`.
    Tcp(String),
}

/// The three PEM files of a TLS client, as the docker CLI names them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TlsFiles {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Picks the endpoint from the option, the environment or the default.
pub(crate) fn resolve(given: Option<&str>, env: &TlsEnv) -> Result<Endpoint, CollectError> {
    let url = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or(env.docker_host.as_deref())
        .unwrap_or(DEFAULT_DOCKER_HOST)
        .to_string();
    let fail = |reason: String| CollectError::Unreachable {
        endpoint: url.clone(),
        reason,
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url.as_str()));
    let (transport, tls) = match scheme {
        "unix" if rest.is_empty() => return Err(fail("unix:// needs a socket path".into())),
        "unix" => (Transport::Unix(rest.to_string()), None),
        "tcp" | "http" | "https" => {
            let use_tls = scheme == "https" || env.tls_verify || env.tls;
            let hostport = rest.trim_end_matches('/');
            if hostport.is_empty() {
                return Err(fail(format!("{scheme}:// needs a host name")));
            }
            let addr = if has_port(hostport) {
                hostport.to_string()
            } else {
                format!("{hostport}:{}", if use_tls { 2376 } else { 2375 })
            };
            let tls = if use_tls {
                Some(tls_files(env).map_err(fail)?)
            } else {
                None
            };
            (Transport::Tcp(addr), tls)
        }
        "ssh" => {
            return Err(fail(
                "ssh:// endpoints are not supported; forward the socket \
                 (ssh -NL /tmp/docker.sock:/var/run/docker.sock HOST) and use \
                 unix:///tmp/docker.sock, or use tcp:// with TLS"
                    .into(),
            ))
        }
        "" if url.starts_with('/') => {
            return Err(fail(format!("not a URL; did you mean unix://{url}?")))
        }
        _ => {
            return Err(fail(
                "unsupported endpoint; use unix://PATH or tcp://HOST:PORT".into(),
            ))
        }
    };
    Ok(Endpoint {
        url,
        transport,
        tls,
        timeout: REQUEST_TIMEOUT,
    })
}

fn has_port(hostport: &str) -> bool {
    match hostport.rsplit_once(':') {
        // `[::1]` alone has colons but no port.
        Some((host, port)) => {
            !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) && !host.ends_with(':')
        }
        None => false,
    }
}

fn tls_files(env: &TlsEnv) -> Result<TlsFiles, String> {
    let dir = match (&env.cert_path, &env.home) {
        (Some(p), _) => PathBuf::from(p),
        (None, Some(home)) => Path::new(home).join(".docker"),
        (None, None) => {
            return Err("TLS is requested but neither DOCKER_CERT_PATH nor HOME is set".into())
        }
    };
    Ok(TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
        dir,
    })
}

/// Builds the client. No request is sent yet.
pub(crate) fn connect(endpoint: &Endpoint) -> Result<Docker, CollectError> {
    let fail = |reason: String| CollectError::Unreachable {
        endpoint: endpoint.url.clone(),
        reason,
    };
    let secs = endpoint.timeout.as_secs().max(1);
    let built = match (&endpoint.transport, &endpoint.tls) {
        (Transport::Unix(path), _) => {
            match std::fs::metadata(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(fail(format!(
                        "no such socket {path}: is the Docker daemon running on this host? \
                         Otherwise point --docker-host or DOCKER_HOST at the engine"
                    )))
                }
                Err(e) => return Err(fail(unix_io_reason(path, &e))),
            }
            Docker::connect_with_unix(path, secs, API_DEFAULT_VERSION)
        }
        (Transport::Tcp(addr), None) => {
            Docker::connect_with_http(&format!("tcp://{addr}"), secs, API_DEFAULT_VERSION)
        }
        (Transport::Tcp(addr), Some(tls)) => {
            for (name, file) in [
                ("CA", &tls.ca),
                ("client cert", &tls.cert),
                ("key", &tls.key),
            ] {
                if let Err(e) = std::fs::metadata(file) {
                    return Err(fail(format!(
                        "cannot read TLS {name} {}: {e} (set DOCKER_CERT_PATH to the directory \
                         holding ca.pem, cert.pem and key.pem)",
                        file.display()
                    )));
                }
            }
            Docker::connect_with_ssl(
                addr,
                &tls.key,
                &tls.cert,
                &tls.ca,
                secs,
                API_DEFAULT_VERSION,
            )
        }
    };
    built.map_err(|e| fail(explain(&e, endpoint)))
}

/// Sends the first call: negotiates the API version down to the engine's and reads `/version`.
pub(crate) async fn first_call(
    docker: Docker,
    endpoint: &Endpoint,
) -> Result<(Docker, SystemVersion), CollectError> {
    let fail = |reason: String| CollectError::Unreachable {
        endpoint: endpoint.url.clone(),
        reason,
    };
    let timed_out = || {
        fail(format!(
            "no answer within {} s (is the daemon hung, or a firewall dropping packets?)",
            endpoint.timeout.as_secs()
        ))
    };
    let docker = tokio::time::timeout(endpoint.timeout, docker.negotiate_version())
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| fail(explain(&e, endpoint)))?;
    tracing::debug!(api = %docker.client_version(), "negotiated API version");
    let version = tokio::time::timeout(endpoint.timeout, docker.version())
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| fail(explain(&e, endpoint)))?;
    Ok((docker, version))
}

/// Asks the engine whether it still answers (`GET /_ping`), after some requests failed.
pub(crate) async fn still_answering(docker: &Docker, endpoint: &Endpoint) -> Result<(), String> {
    match tokio::time::timeout(endpoint.timeout, docker.ping()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(explain(&e, endpoint)),
        Err(_) => Err(format!("no answer within {} s", endpoint.timeout.as_secs())),
    }
}

/// Turns a client error into a reason a person can act on.
pub(crate) fn explain(err: &bollard::errors::Error, endpoint: &Endpoint) -> String {
    use bollard::errors::Error as B;
    match err {
        B::DockerResponseServerError {
            status_code,
            message,
        } => return format!("the engine answered HTTP {status_code}: {message}"),
        B::RequestTimeoutError => {
            return format!("no answer within {} s", endpoint.timeout.as_secs())
        }
        _ => {}
    }
    let chain = error_chain(err);
    if let Some(io) = find_io_error(err) {
        match &endpoint.transport {
            Transport::Unix(path) => return unix_io_reason(path, io),
            Transport::Tcp(addr) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                return format!(
                    "connection refused by {addr}: is dockerd listening on TCP there \
                     (dockerd -H / daemon.json \"hosts\")?"
                )
            }
            Transport::Tcp(_) => {}
        }
    }
    let lower = chain.to_ascii_lowercase();
    if let Some(tls) = &endpoint.tls {
        if ["tls", "certificate", "handshake", "cert"]
            .iter()
            .any(|w| lower.contains(w))
        {
            return format!(
                "TLS failed: {chain}; check that {} holds the CA that signed the server \
                 certificate and a client certificate the daemon accepts",
                tls.dir.display()
            );
        }
    }
    chain
}

fn unix_io_reason(path: &str, io: &std::io::Error) -> String {
    match io.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "permission denied on {path}: add the user to the docker group or run with sudo"
        ),
        std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused on {path}: the socket exists but no daemon is listening \
             (is dockerd running?)"
        ),
        std::io::ErrorKind::NotFound => format!("no such socket {path}"),
        _ => format!("{path}: {io}"),
    }
}

fn find_io_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// An error and its causes on one line, without repeating a cause already quoted by its parent.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> TlsEnv {
        TlsEnv {
            home: Some("/home/u".into()),
            ..TlsEnv::default()
        }
    }

    fn reason(r: Result<impl std::fmt::Debug, CollectError>) -> String {
        match r {
            Err(CollectError::Unreachable { reason, .. }) => reason,
            Err(other) => panic!("expected an unreachable engine, got {other}"),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn option_wins_over_environment_which_wins_over_default() {
        let mut e = env();
        assert_eq!(resolve(None, &e).unwrap().url, DEFAULT_DOCKER_HOST);
        e.docker_host = Some("unix:///run/user/1000/docker.sock".into());
        let ep = resolve(None, &e).unwrap();
        assert_eq!(
            ep.transport,
            Transport::Unix("/run/user/1000/docker.sock".into())
        );
        let ep = resolve(Some("tcp://10.0.0.5:2375"), &e).unwrap();
        assert_eq!(ep.url, "tcp://10.0.0.5:2375");
        assert_eq!(ep.transport, Transport::Tcp("10.0.0.5:2375".into()));
        assert_eq!(ep.tls, None);
    }

    #[test]
    fn tls_verify_uses_cert_path_and_default_port_2376() {
        let mut e = env();
        e.tls_verify = true;
        let ep = resolve(Some("tcp://docker.example"), &e).unwrap();
        assert_eq!(ep.transport, Transport::Tcp("docker.example:2376".into()));
        let tls = ep.tls.unwrap();
        assert_eq!(tls.ca, PathBuf::from("/home/u/.docker/ca.pem"));
        e.cert_path = Some("/etc/dp-certs".into());
        let tls = resolve(Some("tcp://h:1"), &e).unwrap().tls.unwrap();
        assert_eq!(tls.key, PathBuf::from("/etc/dp-certs/key.pem"));
        assert_eq!(
            resolve(Some("tcp://h"), &env()).unwrap().transport,
            Transport::Tcp("h:2375".into())
        );
        assert_eq!(
            resolve(Some("tcp://[::1]"), &env()).unwrap().transport,
            Transport::Tcp("[::1]:2375".into())
        );
    }

    #[test]
    fn unsupported_endpoints_say_what_to_use_instead() {
        assert!(reason(resolve(Some("ssh://me@h"), &env())).contains("forward the socket"));
        assert!(reason(resolve(Some("/var/run/docker.sock"), &env()))
            .contains("did you mean unix:///var/run/docker.sock"));
        assert!(reason(resolve(Some("ftp://h"), &env())).contains("unix://PATH or tcp://"));
    }

    #[test]
    fn missing_socket_and_missing_tls_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("none.sock");
        let ep = resolve(Some(&format!("unix://{}", sock.display())), &env()).unwrap();
        assert!(reason(connect(&ep)).starts_with("no such socket"));

        let mut e = env();
        e.tls_verify = true;
        e.cert_path = Some(dir.path().display().to_string());
        let ep = resolve(Some("tcp://127.0.0.1:1"), &e).unwrap();
        let r = reason(connect(&ep));
        assert!(
            r.contains("cannot read TLS CA") && r.contains("DOCKER_CERT_PATH"),
            "{r}"
        );
    }

    #[tokio::test]
    async fn stale_socket_is_connection_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        let ep = resolve(Some(&format!("unix://{}", sock.display())), &env()).unwrap();
        let docker = connect(&ep).unwrap();
        let r = reason(first_call(docker, &ep).await);
        assert!(r.starts_with("connection refused on"), "{r}");
    }

    #[tokio::test]
    async fn hung_daemon_times_out_instead_of_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("hung.sock");
        // Accepts connections (the backlog does) but never answers.
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let mut ep = resolve(Some(&format!("unix://{}", sock.display())), &env()).unwrap();
        ep.timeout = Duration::from_secs(1);
        let docker = connect(&ep).unwrap();
        let started = std::time::Instant::now();
        let r = reason(first_call(docker, &ep).await);
        assert!(r.contains("no answer within 1 s"), "{r}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
