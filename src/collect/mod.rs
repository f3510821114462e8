//! Collection: reads the Docker Engine API and the host into a [`Snapshot`].
//!
//! This stage owns every contact with the outside world that happens before evaluation: the
//! engine connection (`endpoint`, `engine`) and the host filesystem under the host root
//! (`host` and its helpers). It turns what it observes into the plain snapshot model and never
//! goes further: it never evaluates a check, never decides pass or fail, never writes a file and
//! never prints (progress goes through `tracing`).
//!
//! Two promises hold for everything it returns:
//! * **Nothing is silently missing.** A source that could not be read (an API call that failed, a
//!   container removed between list and inspect, a file that could not be opened) becomes a
//!   [`Gap`] naming the source and the error. Host facts are then left `None` (never an empty
//!   list, which would read as "read, and empty"). Engine lists are plain lists in the snapshot
//!   model, so a list call that failed leaves its list empty and only its gap
//!   (`engine:/containers/json`, `engine:/networks`, ...) tells it apart from "none". Only an
//!   engine that cannot be reached at all aborts collection, with [`CollectError::Unreachable`],
//!   and so does one that stops answering during the scan ([`CollectError::Stopped`]): when any
//!   engine source failed, the engine is asked once more (`GET /_ping`); if that fails too, the
//!   failures are the engine going away, not a few objects, and a snapshot of whatever was read
//!   before would pass off an interrupted scan as a complete one.
//! * **No secret reaches the snapshot.** Environment variable values and other secret-bearing
//!   fields are replaced in memory, right after each object is read (`redact`).

mod accounts;
mod audit;
mod daemon;
mod endpoint;
mod engine;
mod files;
mod host;
mod images;
mod redact;

use std::path::PathBuf;

use chrono::Utc;

use crate::snapshot::{Collection, Gap, HostFacts, Snapshot, ToolInfo, SCHEMA_VERSION};

pub use endpoint::{DEFAULT_DOCKER_HOST, REQUEST_TIMEOUT};

/// What to collect from where.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Engine endpoint; `None` means `DOCKER_HOST`, else the local socket.
    pub docker_host: Option<String>,
    /// Directory under which host files are read (`/host` in a container with the host's root
    /// mounted). `None` means `/` when the engine is reached through a local unix socket, and no
    /// host facts at all for a remote engine: the local filesystem is not the remote host's, and
    /// reading it would attribute one machine's files to another.
    pub host_root: Option<PathBuf>,
    /// Collect stopped containers too.
    pub include_stopped: bool,
    /// Maximum concurrent inspect calls against the engine (0 is treated as 1).
    pub concurrency: usize,
    /// Which images get a package inventory.
    pub images: ImageSelection,
    /// Directory caching inventories by image id; `None` reads every export afresh.
    pub inventory_cache: Option<PathBuf>,
}

/// Which images get a package inventory (`--images`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ImageSelection {
    /// Images of the collected containers.
    #[default]
    InUse,
    /// Every image on the engine.
    All,
    /// No inventory.
    None,
}

impl ImageSelection {
    /// The flag value, as recorded in the snapshot.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageSelection::InUse => "in-use",
            ImageSelection::All => "all",
            ImageSelection::None => "none",
        }
    }
}

/// Why collection could not produce a snapshot at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The engine could not be reached or refused the first call.
    #[error("cannot reach the Docker engine at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// The engine answered the first call, then stopped answering before the scan ended.
    #[error(
        "the Docker engine at {endpoint} stopped answering during the scan ({failed} request(s) \
         failed; a last check said: {reason}); nothing was written: rerun the scan when the \
         engine is back"
    )]
    Stopped {
        endpoint: String,
        failed: usize,
        reason: String,
    },
}

/// Collects a snapshot. Per-object failures become gaps; only an unreachable engine is an error.
///
/// The engine is contacted first (`GET /version`); once it answers, the host facts are read on a
/// blocking thread while the engine objects are fetched.
pub async fn collect(opts: &CollectOptions) -> Result<Snapshot, CollectError> {
    let started_at = Utc::now();
    let env = endpoint::TlsEnv::from_process_env();
    let endpoint = endpoint::resolve(opts.docker_host.as_deref(), &env)?;
    tracing::debug!(endpoint = %endpoint.url, tls = endpoint.tls.is_some(), "connecting");
    let docker = endpoint::connect(&endpoint)?;
    let (docker, version) = endpoint::first_call(docker, &endpoint).await?;

    let root = match &opts.host_root {
        Some(root) => Some(root.clone()),
        None if endpoint.url.starts_with("unix://") => Some(PathBuf::from("/")),
        None => None,
    };
    let host_task = root
        .clone()
        .map(|root| tokio::task::spawn_blocking(move || host::collect_host(&root)));

    let mut gaps = Vec::new();
    let (engine, mut target) = engine::collect_engine(&docker, version, opts, &mut gaps).await;
    target.docker_host = endpoint.url.clone();
    let inventories = images::inventories(
        &docker,
        &engine,
        opts.images,
        opts.inventory_cache.as_deref(),
        &mut gaps,
    )
    .await;
    let failed = gaps.iter().filter(|g| is_engine_source(&g.source)).count();
    if failed > 0 {
        if let Err(reason) = endpoint::still_answering(&docker, &endpoint).await {
            return Err(CollectError::Stopped {
                endpoint: endpoint.url.clone(),
                failed,
                reason,
            });
        }
    }

    let (host, host_gaps) = match host_task {
        Some(task) => match task.await {
            Ok(result) => result,
            Err(err) => (
                HostFacts::default(),
                vec![gap("host", format!("host fact collection aborted: {err}"))],
            ),
        },
        None => (
            HostFacts::default(),
            vec![gap(
                "host",
                format!(
                    "not collected: the engine at {} is not a local socket; pass --host-root \
                     with a mount of that host's filesystem to collect its files",
                    endpoint.url
                ),
            )],
        ),
    };
    gaps.extend(host_gaps);
    tracing::debug!(gaps = gaps.len(), "collection finished");

    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        collection: Collection {
            started_at,
            finished_at: Utc::now(),
            include_stopped: opts.include_stopped,
            host_root: root.map(|r| r.display().to_string()).unwrap_or_default(),
            image_inventory: Some(opts.images.as_str().to_string()),
        },
        target,
        engine,
        host,
        gaps,
        inventories,
    })
}

/// Whether a gap names something read from the engine (as opposed to the host).
fn is_engine_source(source: &str) -> bool {
    !source.starts_with("host")
}

/// Builds a gap; every module of this stage records failures through it so sources read alike.
pub(crate) fn gap(source: impl Into<String>, error: impl std::fmt::Display) -> Gap {
    let gap = Gap {
        source: source.into(),
        error: error.to_string(),
    };
    // The command line lists every gap when collection ends; this is for -v tracing only.
    tracing::debug!(source = %gap.source, error = %gap.error, "collection gap");
    gap
}
