//! The engine endpoint: the address of the engine [`super::context`] selected, parsed as the docker
//! CLI parses `-H`, and the connection and first call to it.
//!
//! Accepted forms (the docker CLI's, normalised the same way): `unix://PATH` (`unix://` alone is
//! the default socket), `tcp://HOST:PORT` with any part missing filled in from
//! `tcp://localhost:2375` (`tcp://`, `tcp://:2375`, `localhost`, `127.0.0.1:2375`; user info,
//! query and fragment are dropped), and `ssh://[USER@]HOST[:PORT]`. A TCP port is never guessed
//! from TLS: like the CLI, `tcp://h` is port 2375 with or without TLS; only the default endpoint
//! becomes `tcp://localhost:2376` when TLS is asked for. TLS uses the selected context's material,
//! or `DOCKER_CERT_PATH` (default `~/.docker`) when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is set;
//! dockproof always verifies the server certificate (also for a context marked
//! `SkipTLSVerify`).
//!
//! Refused, as usage errors ([`CollectError::Usage`], exit 2) that say what to write instead:
//! `fd://` (a daemon's listening side), `npipe://` (Windows), `http://`/`https://` and other
//! schemes (the docker CLI refuses them too), a path after a TCP address (the docker CLI would
//! read `/var/run/docker.sock` as `tcp://localhost:2375/var/run/docker.sock`; dockproof asks
//! whether `unix://` was meant), an invalid port, and ssh URLs with a password, a path or query.
//!
//! This module owns the connection and the first call (`GET /version`); a failure there is the
//! only collection failure that aborts, as [`CollectError::Unreachable`] with a reason that says
//! what to do. It never reads anything else from the engine.

use std::time::Duration;

use bollard::models::SystemVersion;
use bollard::{Docker, API_DEFAULT_VERSION};

use super::context::{Selection, TlsFiles};
use super::ssh::SshTarget;
use super::CollectError;

/// Endpoint used when nothing else selects one.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// Longest wait for any one Engine API call, so a hung daemon cannot hang the tool.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Port of `tcp://` addresses that leave it out (the docker CLI's, with or without TLS).
const DEFAULT_TCP_PORT: u16 = 2375;

/// Where the engine is and how to reach it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Endpoint {
    /// The endpoint as the docker CLI would normalise it, recorded in the snapshot.
    pub url: String,
    pub transport: Transport,
    /// Client material for TLS; `None` for plain HTTP, unix sockets and ssh.
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
    /// `docker system dial-stdio` on a remote host, through the system ssh client.
    Ssh(SshTarget),
}

/// Parses the selected host into an endpoint; a malformed host is a usage error.
pub(crate) fn resolve(selection: &Selection) -> Result<Endpoint, CollectError> {
    let raw = selection.host.trim();
    let usage = |reason: String| CollectError::Usage {
        message: format!(
            "invalid engine endpoint {raw:?} (from {}): {reason}",
            selection.chosen_by
        ),
    };
    let (scheme, rest) = raw.split_once("://").unwrap_or(("tcp", raw));
    let (url, transport) = match scheme {
        "unix" if rest.contains("://") => {
            return Err(usage("a unix socket path cannot hold `://`".into()))
        }
        "unix" => {
            let path = if rest.is_empty() {
                DEFAULT_DOCKER_HOST.trim_start_matches("unix://")
            } else {
                rest
            };
            (format!("unix://{path}"), Transport::Unix(path.to_string()))
        }
        "tcp" => {
            if !raw.contains("://") && raw.starts_with('/') {
                return Err(usage(format!("not a URL; did you mean unix://{raw}?")));
            }
            let addr = parse_tcp(rest).map_err(usage)?;
            (format!("tcp://{addr}"), Transport::Tcp(addr))
        }
        "ssh" => {
            let target = SshTarget::parse(rest).map_err(usage)?;
            (raw.to_string(), Transport::Ssh(target))
        }
        "fd" => {
            return Err(usage(
                "fd:// is how a socket-activated dockerd receives its listening socket; a \
                 client connects to the socket itself, e.g. unix:///var/run/docker.sock"
                    .into(),
            ))
        }
        "npipe" => return Err(usage("npipe:// is a Windows named pipe".into())),
        "http" | "https" => {
            return Err(usage(format!(
                "the docker CLI does not accept {scheme}://; use tcp://HOST:PORT (with \
                 DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for TLS, or a docker context)"
            )))
        }
        other => {
            return Err(usage(format!(
                "unsupported scheme {other:?}; use unix://PATH, tcp://HOST:PORT or \
                 ssh://[USER@]HOST[:PORT]"
            )))
        }
    };
    let tls = match transport {
        Transport::Tcp(_) => selection.tls.clone(),
        _ => None,
    };
    Ok(Endpoint {
        url,
        transport,
        tls,
        timeout: REQUEST_TIMEOUT,
    })
}

/// `HOST:PORT` of a `tcp://` address with the CLI's defaults filled in (`localhost`, 2375).
fn parse_tcp(rest: &str) -> Result<String, String> {
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !path.is_empty() && path != "/" {
        return Err(format!(
            "a path after the address ({path}) is not supported; for a socket use unix://{path}"
        ));
    }
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (v6, after) = inner
            .split_once(']')
            .ok_or_else(|| "unclosed `[` in an IPv6 address".to_string())?;
        let port = match after {
            "" => "",
            p => p
                .strip_prefix(':')
                .ok_or_else(|| format!("unexpected {p:?} after the IPv6 address"))?,
        };
        (format!("[{v6}]"), port)
    } else {
        match hostport.split_once(':') {
            Some((_, p)) if p.contains(':') => {
                return Err("an IPv6 address must be written in brackets: tcp://[ADDR]:PORT".into())
            }
            Some((h, p)) => (h.to_string(), p),
            None => (hostport.to_string(), ""),
        }
    };
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let port = if port.is_empty() {
        DEFAULT_TCP_PORT
    } else {
        port.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("invalid port {port:?} (1 to 65535)"))?
    };
    Ok(format!("{host}:{port}"))
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
        (Transport::Ssh(target), _) => {
            return Err(fail(format!(
                "internal: {} needs an ssh session, not a direct connection",
                target.display()
            )))
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
        } => {
            if let (Transport::Tcp(addr), None) = (&endpoint.transport, &endpoint.tls) {
                if message.contains("HTTP request to an HTTPS server") {
                    return plain_to_tls_hint(addr);
                }
            }
            return format!("the engine answered HTTP {status_code}: {message}");
        }
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
            Transport::Tcp(addr)
                if endpoint.tls.is_none() && io.kind() == std::io::ErrorKind::ConnectionReset =>
            {
                return plain_to_tls_hint(addr)
            }
            Transport::Tcp(_) | Transport::Ssh(_) => {}
        }
    }
    if let (Transport::Tcp(addr), None) = (&endpoint.transport, &endpoint.tls) {
        if chain.contains("HTTP request to an HTTPS server") {
            return plain_to_tls_hint(addr);
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

/// What to do when plain HTTP reached a port that speaks TLS.
fn plain_to_tls_hint(addr: &str) -> String {
    format!(
        "{addr} expects TLS but the connection was plain HTTP: set DOCKER_TLS_VERIFY=1 and \
         DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem, or use a docker \
         context created with TLS material (docker context create --docker \
         host=tcp://{addr},ca=...,cert=...,key=...)"
    )
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
    use std::path::PathBuf;

    fn sel(host: &str) -> Selection {
        Selection {
            host: host.to_string(),
            chosen_by: "--docker-host",
            context: None,
            tls: None,
        }
    }

    fn url(host: &str) -> String {
        match resolve(&sel(host)) {
            Ok(ep) => ep.url,
            Err(e) => format!("error: {e}"),
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
    fn host_forms_are_normalised_like_the_docker_cli() {
        for (given, want) in [
            ("127.0.0.1:2375", "tcp://127.0.0.1:2375"),
            ("localhost", "tcp://localhost:2375"),
            ("tcp://:2375", "tcp://localhost:2375"),
            ("tcp://", "tcp://localhost:2375"),
            (":2375", "tcp://localhost:2375"),
            ("tcp://h", "tcp://h:2375"),
            ("tcp://h:2376/", "tcp://h:2376"),
            (" tcp://x:1 ", "tcp://x:1"),
            ("tcp://user:pw@h:1", "tcp://h:1"),
            ("tcp://h:1?x=1", "tcp://h:1"),
            ("tcp://[::1]:5", "tcp://[::1]:5"),
            ("unix://", "unix:///var/run/docker.sock"),
            ("unix:///run/a.sock", "unix:///run/a.sock"),
            ("ssh://me@h", "ssh://me@h"),
            ("ssh://h:2222", "ssh://h:2222"),
        ] {
            assert_eq!(url(given), want, "{given}");
        }
    }

    #[test]
    fn malformed_hosts_are_usage_errors_that_say_what_to_write() {
        for (given, want) in [
            (
                "/var/run/docker.sock",
                "did you mean unix:///var/run/docker.sock?",
            ),
            ("tcp://h/path", "for a socket use unix:///path"),
            ("tcp://h:abc", "invalid port \"abc\""),
            ("tcp://h:99999", "invalid port \"99999\""),
            ("unix:///a://b", "cannot hold `://`"),
            ("fd://", "a client connects to the socket itself"),
            ("http://h", "use tcp://HOST:PORT"),
            ("ftp://h", "unsupported scheme \"ftp\""),
            ("h:1:2", "must be written in brackets"),
            ("ssh://u:pw@h", "password"),
            ("ssh://", "host name"),
            ("ssh://h?x=1", "query"),
        ] {
            match resolve(&sel(given)) {
                Err(CollectError::Usage { message }) => {
                    assert!(
                        message.starts_with(&format!("invalid engine endpoint {:?}", given.trim()))
                            && message.contains(want),
                        "{given}: {message}"
                    )
                }
                other => panic!("{given}: expected a usage error, got {other:?}"),
            }
        }
    }

    #[test]
    fn tls_material_applies_to_tcp_only() {
        let tls = TlsFiles {
            dir: PathBuf::from("/c"),
            ca: PathBuf::from("/c/ca.pem"),
            cert: PathBuf::from("/c/cert.pem"),
            key: PathBuf::from("/c/key.pem"),
        };
        let mut s = sel("tcp://h:2376");
        s.tls = Some(tls.clone());
        assert_eq!(resolve(&s).unwrap().tls, Some(tls.clone()));
        s.host = "unix:///run/x.sock".into();
        assert_eq!(resolve(&s).unwrap().tls, None);
    }

    #[test]
    fn missing_socket_and_missing_tls_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("none.sock");
        let ep = resolve(&sel(&format!("unix://{}", sock.display()))).unwrap();
        assert!(reason(connect(&ep)).starts_with("no such socket"));

        let mut s = sel("tcp://127.0.0.1:1");
        s.tls = Some(TlsFiles {
            dir: dir.path().to_path_buf(),
            ca: dir.path().join("ca.pem"),
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        });
        let r = reason(connect(&resolve(&s).unwrap()));
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
        let ep = resolve(&sel(&format!("unix://{}", sock.display()))).unwrap();
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
        let mut ep = resolve(&sel(&format!("unix://{}", sock.display()))).unwrap();
        ep.timeout = Duration::from_secs(1);
        let docker = connect(&ep).unwrap();
        let started = std::time::Instant::now();
        let r = reason(first_call(docker, &ep).await);
        assert!(r.contains("no answer within 1 s"), "{r}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
