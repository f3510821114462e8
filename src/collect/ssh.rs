//! `ssh://` engines, reached the way the docker CLI reaches them: the system `ssh` client runs
//! `docker system dial-stdio` on the remote host and the Engine API travels over its standard
//! input and output.
//!
//! Trust stays with the user's ssh setup. The client is called by absolute path
//! ([`SSH_CANDIDATES`], never looked up in `$PATH`) with `-o BatchMode=yes`, so it never prompts:
//! an unknown or changed host key, a key that needs a passphrase or a password login fails
//! instead of asking, and nothing is added to `known_hosts` unless the user's own ssh
//! configuration says so (`StrictHostKeyChecking`). The user's `~/.ssh/config` applies, or the
//! file given with `--ssh-config` (`-F`).
//!
//! One connection per scan: a master connection (`-M -N`) with its control socket in a private
//! temporary directory carries every session. Each Engine API connection is one
//! `docker system dial-stdio` session (HTTP/1.1, kept open and reused), and host-fact commands
//! ([`SshSession::run`]) are further sessions; at most [`MAX_ENGINE_SESSIONS`] plus
//! [`MAX_COMMAND_SESSIONS`] are open at once, under sshd's default `MaxSessions 10`. The master is stopped when the session is dropped.
//!
//! Failures: a malformed URL is a usage error (exit 2); an ssh client that cannot start, log in
//! or run the remote command makes the engine unreachable (exit 3) with ssh's own message.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::{BollardRequest, Docker, API_DEFAULT_VERSION};
use tokio::sync::Semaphore;

use super::ssh_pool::Pool;

/// Where the system ssh client is looked for, in order.
pub(crate) const SSH_CANDIDATES: [&str; 3] = ["/usr/bin/ssh", "/usr/local/bin/ssh", "/bin/ssh"];

/// Engine API connections (dial-stdio sessions) open at once on the master connection.
pub(crate) const MAX_ENGINE_SESSIONS: usize = 4;
/// Host-fact commands running at once. With the engine's sessions this stays under sshd's
/// default `MaxSessions 10`.
pub(crate) const MAX_COMMAND_SESSIONS: usize = 4;

/// Longest wait for the master connection to log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest wait for one host-fact command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// `[USER@]HOST[:PORT]` of an `ssh://` URL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Parses what follows `ssh://`, with the docker CLI's refusals (password, query) and one
    /// of dockproof's own: no path after the host.
    pub fn parse(rest: &str) -> Result<Self, String> {
        if rest.contains('?') {
            return Err("query parameters are not allowed in an ssh URL".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if !path.is_empty() && path != "/" {
            return Err(format!(
                "a path after the host ({path}) is not supported; the remote docker CLI's own \
                 default engine is used"
            ));
        }
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, h)) => (Some(user), h),
            None => (None, authority),
        };
        if user.is_some_and(|u| u.contains(':')) {
            return Err("a plain-text password is not supported; use an ssh key or agent".into());
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, _)) if !h.ends_with(']') && h.contains(':') => (hostport, None),
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("invalid port {p:?} (1 to 65535)"))?,
                ),
            ),
            None => (hostport, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err("the host name is empty".into());
        }
        if host.starts_with('-') || user.is_some_and(|u| u.is_empty() || u.starts_with('-')) {
            return Err("a host or user name cannot start with `-` or be empty".into());
        }
        Ok(SshTarget {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        })
    }

    /// `ssh://[USER@]HOST[:PORT]`, for messages.
    pub fn display(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{}{port}", self.host)
    }
}

/// Why an ssh session could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SshError {
    #[error("no ssh client at {}: install OpenSSH's client", SSH_CANDIDATES.join(", "))]
    NoClient,
    #[error("cannot start {ssh}: {err}")]
    Spawn { ssh: String, err: std::io::Error },
    #[error("ssh could not log in to {target}: {message}")]
    Login { target: String, message: String },
    #[error("ssh command `{command}` on {target} {message}")]
    Command {
        target: String,
        command: String,
        message: String,
    },
}

/// A logged-in master connection to one host.
pub(crate) struct SshSession {
    target: SshTarget,
    ssh: PathBuf,
    config: Option<PathBuf>,
    control: PathBuf,
    master: std::process::Child,
    engine_permits: Arc<Semaphore>,
    command_permits: Arc<Semaphore>,
    // Holds the control socket; removed after the master stopped.
    _dir: tempfile::TempDir,
}

impl SshSession {
    /// Starts the master connection and waits until it is logged in.
    pub fn open(target: &SshTarget, config: Option<&Path>) -> Result<Self, SshError> {
        let ssh = SSH_CANDIDATES
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or(SshError::NoClient)?;
        let dir = tempfile::Builder::new()
            .prefix("dockproof-ssh-")
            .tempdir()
            .map_err(|err| SshError::Spawn {
                ssh: ssh.display().to_string(),
                err,
            })?;
        let control = dir.path().join("control");
        let log = dir.path().join("master.log");
        let log_file = std::fs::File::create(&log).map_err(|err| SshError::Spawn {
            ssh: ssh.display().to_string(),
            err,
        })?;
        let mut cmd = Command::new(&ssh);
        cmd.args(base_args(config, &control, "yes", target))
            .arg("-N")
            .arg("--")
            .arg(destination(target))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let master = cmd.spawn().map_err(|err| SshError::Spawn {
            ssh: ssh.display().to_string(),
            err,
        })?;
        let mut session = SshSession {
            target: target.clone(),
            ssh,
            config: config.map(Path::to_path_buf),
            control,
            master,
            engine_permits: Arc::new(Semaphore::new(MAX_ENGINE_SESSIONS)),
            command_permits: Arc::new(Semaphore::new(MAX_COMMAND_SESSIONS)),
            _dir: dir,
        };
        session.wait_for_login(&log)?;
        tracing::debug!(target = %target.display(), "ssh master connection up");
        Ok(session)
    }

    fn wait_for_login(&mut self, log: &Path) -> Result<(), SshError> {
        let deadline = Instant::now() + LOGIN_TIMEOUT;
        let failed = |message: String| SshError::Login {
            target: self.target.display(),
            message,
        };
        loop {
            if let Ok(Some(status)) = self.master.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(failed(format!("{} ({status})", last_lines(&text))));
            }
            let check = Command::new(&self.ssh)
                .args(base_args(
                    self.config.as_deref(),
                    &self.control,
                    "no",
                    &self.target,
                ))
                .args(["-O", "check", "--"])
                .arg(destination(&self.target))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            if check.is_ok_and(|s| s.success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(failed(format!(
                    "not logged in after {} s",
                    LOGIN_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The target, for messages.
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// An ssh command line for one session running `remote` (already shell-quoted words).
    fn session_command(&self, remote: &[String]) -> Command {
        let mut cmd = Command::new(&self.ssh);
        cmd.args(base_args(
            self.config.as_deref(),
            &self.control,
            "no",
            &self.target,
        ))
        .arg("-T")
        .arg("--")
        .arg(destination(&self.target))
        .args(remote);
        cmd
    }

    /// A bollard client whose every connection is a `docker system dial-stdio` session.
    pub fn docker(&self, timeout_secs: u64) -> Result<Docker, bollard::errors::Error> {
        let base = self.session_command(&["docker".into(), "system".into(), "dial-stdio".into()]);
        let program = base.get_program().to_os_string();
        let args: Vec<_> = base.get_args().map(|a| a.to_os_string()).collect();
        let pool = Arc::new(Pool::new(program, args, Arc::clone(&self.engine_permits)));
        Docker::connect_with_custom_transport(
            move |req: BollardRequest| Arc::clone(&pool).send(req),
            Some("http://docker.ssh"),
            timeout_secs,
            API_DEFAULT_VERSION,
        )
    }

    /// Runs one read-only command on the remote host and returns its standard output, or
    /// what went wrong (exit status and standard error).
    pub fn run(&self, argv: &[&str]) -> Result<RemoteOutput, SshError> {
        let quoted: Vec<String> = argv.iter().map(|a| shell_quote(a)).collect();
        let command = argv.join(" ");
        let fail = |message: String| SshError::Command {
            target: self.target.display(),
            command: command.clone(),
            message,
        };
        let _permit = loop {
            match Arc::clone(&self.command_permits).try_acquire_owned() {
                Ok(p) => break p,
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        let mut child = self
            .session_command(&quoted)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("could not start: {e}")))?;
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(p) = pipe {
                    let _ = p.take(64 * 1024 * 1024).read_to_end(&mut buf);
                }
                buf
            })
        };
        let out = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(format!(
                        "did not finish within {} s",
                        COMMAND_TIMEOUT.as_secs()
                    )));
                }
                Err(e) => return Err(fail(format!("could not be waited for: {e}"))),
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
        // 255 is ssh's own failure (connection lost), not the remote command's.
        if status.code() == Some(255) {
            return Err(fail(format!("failed in ssh: {}", last_lines(&stderr))));
        }
        Ok(RemoteOutput {
            success: status.success(),
            stdout,
            stderr,
        })
    }
}

impl Drop for SshSession {
    fn drop(&mut self) {
        let _ = Command::new(&self.ssh)
            .args(base_args(
                self.config.as_deref(),
                &self.control,
                "no",
                &self.target,
            ))
            .args(["-O", "exit", "--"])
            .arg(destination(&self.target))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.master.kill();
        let _ = self.master.wait();
    }
}

/// What a remote command printed.
#[derive(Debug)]
pub(crate) struct RemoteOutput {
    pub success: bool,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Options every ssh invocation shares: never prompt, the private control socket, the user's
/// or the given configuration.
fn base_args(
    config: Option<&Path>,
    control: &Path,
    master: &str,
    target: &SshTarget,
) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(config) = config {
        args.extend(["-F".to_string(), config.display().to_string()]);
    }
    if master == "yes" {
        args.push("-M".into());
    }
    args.extend([
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        format!("ControlMaster={master}"),
        "-o".into(),
        format!("ControlPath={}", control.display()),
        "-o".into(),
        "ControlPersist=no".into(),
    ]);
    if let Some(user) = &target.user {
        args.extend(["-l".into(), user.clone()]);
    }
    if let Some(port) = target.port {
        args.extend(["-p".into(), port.to_string()]);
    }
    args
}

fn destination(target: &SshTarget) -> String {
    target.host.clone()
}

/// Quotes one word for the remote shell, which ssh hands the command line to.
pub(crate) fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:,@+%".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The last few lines of ssh's messages, joined, for an error.
pub(crate) fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(3);
    let joined = lines[start..].join("; ");
    if joined.is_empty() {
        "ssh exited without a message".into()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_urls_are_parsed_like_the_docker_cli() {
        let t = SshTarget::parse("me@h.example:2222").unwrap();
        assert_eq!(
            t,
            SshTarget {
                user: Some("me".into()),
                host: "h.example".into(),
                port: Some(2222)
            }
        );
        assert_eq!(t.display(), "ssh://me@h.example:2222");
        assert_eq!(SshTarget::parse("h/").unwrap().host, "h");
        for (bad, why) in [
            ("u:pw@h", "password"),
            ("", "host name is empty"),
            ("h?x=1", "query"),
            ("h/run/docker.sock", "a path after the host"),
            ("h:abc", "invalid port"),
            ("-oProxyCommand=x", "cannot start with `-`"),
        ] {
            let err = SshTarget::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn remote_words_are_quoted_for_the_shell() {
        assert_eq!(
            shell_quote("/etc/docker/daemon.json"),
            "/etc/docker/daemon.json"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's;rm -rf /"), r"'it'\''s;rm -rf /'");
        assert_eq!(shell_quote(""), "''");
    }
}
