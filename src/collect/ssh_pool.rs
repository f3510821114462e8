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
pub(crate) struct Pool {
    program: std::ffi::OsString,
    args: Vec<std::ffi::OsString>,
    permits: Arc<Semaphore>,
    idle: std::sync::Mutex<Vec<SendRequest<PoolBody>>>,
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

    fn take_idle(&self) -> Option<SendRequest<PoolBody>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() && sender.is_ready() {
                return Some(sender);
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
        let mut sender = loop {
            if let Some(sender) = self.take_idle() {
                break sender;
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
        let response = sender
            .send_request(hyper::Request::from_parts(parts, body))
            .await
            .map_err(|e| io_err(format!("ssh session failed: {e}")))?;
        // Back to the pool once the response body has been read.
        let pool = Arc::clone(&self);
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                pool.idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(sender);
            }
        });
        Ok(response)
    }

    /// Opens one dial-stdio session; it (and its permit) lives as long as the connection.
    async fn dial(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<SendRequest<PoolBody>, bollard::errors::Error> {
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
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(io_err("ssh started without its pipes".into()));
        };
        let io = TokioIo::new(tokio::io::join(stdout, stdin));
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(bollard::errors::Error::from)?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                let mut text = String::new();
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut text).await;
                tracing::debug!(error = %e, ssh = %last_lines(&text), "dial-stdio session ended");
            }
            drop(permit);
            let _ = child.kill().await;
        });
        Ok(sender)
    }
}
