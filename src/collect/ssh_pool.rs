//! Engine API connections over `docker system dial-stdio` sessions of an [`super::ssh`] master
//! connection: a small keep-alive pool behind bollard's custom transport.
//!
//! Each connection is one ssh session running the remote docker CLI, speaking HTTP/1.1 over its
//! standard input and output. Connections are reused once a response has been read, and each
//! live one holds a permit of the session limit, so the pool never opens more sessions than it
//! was given permits. This module moves bytes only; it never interprets the engine's answers.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use bollard::BollardRequest;
use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::sync::Semaphore;

use super::ssh::last_lines;

/// A request body with a nameable type, so connections can be kept in a pool.
type PoolBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// Engine API connections over dial-stdio sessions, kept open and reused (HTTP/1.1 keep-alive):
/// starting a session costs an ssh channel and a remote `docker` process. Each live connection
/// holds one session permit, so there are never more than [`super::ssh::MAX_ENGINE_SESSIONS`].
/// One pooled connection and what its ssh process has said on standard error so far.
struct Conn {
    sender: SendRequest<PoolBody>,
    stderr: Arc<std::sync::Mutex<String>>,
}

pub(crate) struct Pool {
    program: std::ffi::OsString,
    args: Vec<std::ffi::OsString>,
    permits: Arc<Semaphore>,
    idle: std::sync::Mutex<Vec<Conn>>,
}

impl Pool {
    /// A pool that runs `program args` for each new connection.
    pub fn new(
        program: std::ffi::OsString,
        args: Vec<std::ffi::OsString>,
        permits: Arc<Semaphore>,
    ) -> Self {
        Pool {
            program,
            args,
            permits,
            idle: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(conn) = idle.pop() {
            if !conn.sender.is_closed() && conn.sender.is_ready() {
                return Some(conn);
            }
        }
        None
    }

    /// Sends one request on an idle connection, a new one, or the first to become free.
    pub async fn send(
        self: Arc<Self>,
        req: BollardRequest,
    ) -> Result<hyper::Response<hyper::body::Incoming>, bollard::errors::Error> {
        let io_err = |e: String| bollard::errors::Error::IOError {
            err: std::io::Error::other(e),
        };
        let mut conn = loop {
            if let Some(conn) = self.take_idle() {
                break conn;
            }
            if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
                break self.dial(permit).await?;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        // A connection-level client sends the request as given: HTTP/1.1 wants a Host header
        // and the origin form of the URI (the path), as the docker CLI's dial-stdio client sends.
        let (mut parts, body) = req.into_parts();
        if let Some(path) = parts.uri.path_and_query().cloned() {
            parts.uri = hyper::Uri::from(path);
        }
        parts.headers.insert(
            hyper::header::HOST,
            hyper::header::HeaderValue::from_static("docker"),
        );
        let body: PoolBody = body.map_err(Into::into).boxed_unsync();
        let response = match conn
            .sender
            .send_request(hyper::Request::from_parts(parts, body))
            .await
        {
            Ok(response) => response,
            Err(e) => {
                // Let ssh finish saying why (remote docker missing, session refused).
                tokio::time::sleep(Duration::from_millis(200)).await;
                let said = conn
                    .stderr
                    .lock()
                    .map(|t| last_lines(&t))
                    .unwrap_or_default();
                return Err(io_err(format!(
                    "the docker system dial-stdio session failed ({e}); ssh said: {said}"
                )));
            }
        };
        // Back to the pool once the response body has been read.
        let pool = Arc::clone(&self);
        tokio::spawn(async move {
            if conn.sender.ready().await.is_ok() {
                pool.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(conn);
            }
        });
        Ok(response)
    }

    /// Opens one dial-stdio session; it (and its permit) lives as long as the connection.
    async fn dial(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Conn, bollard::errors::Error> {
        let io_err = |e: String| bollard::errors::Error::IOError {
            err: std::io::Error::other(e),
        };
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| io_err(format!("cannot start ssh: {e}")))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io_err("ssh started without its pipes".into()));
        };
        let said = Arc::new(std::sync::Mutex::new(String::new()));
        let collector = Arc::clone(&said);
        tokio::spawn(async move {
            use tokio::io::AsyncBufReadExt;
            let mut lines = tokio::io::BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mut text) = collector.lock() {
                    // Keep the end: the last lines say why a session ended.
                    if text.len() > 64 * 1024 {
                        text.clear();
                    }
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        });
        let io = TokioIo::new(tokio::io::join(stdout, stdin));
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(bollard::errors::Error::from)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "dial-stdio session ended");
            }
            drop(permit);
            let _ = child.kill().await;
        });
        Ok(Conn {
            sender,
            stderr: said,
        })
    }
}
