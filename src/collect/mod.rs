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
mod context;
mod daemon;
mod endpoint;
mod engine;
mod files;
mod host;
mod identify;
mod images;
mod redact;
mod ssh;
mod ssh_host;
mod ssh_pool;
mod ssh_stage;
mod units;

/// Replaces secrets in free text (`scheme://user:password@host`, `NAME=secret`, token shapes)
/// by the credential marker; `None` when nothing changed. Used for the command line recorded in
/// an assessment's provenance.
pub fn redact_text(text: &str) -> Option<String> {
    redact::text(text)
}

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;

use crate::snapshot::{Collection, Gap, HostFacts, Snapshot, ToolInfo, SCHEMA_VERSION};

pub use endpoint::{DEFAULT_DOCKER_HOST, REQUEST_TIMEOUT};

/// What to collect from where.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    /// Engine endpoint (`--docker-host`); with `context` unset, `None` means the docker CLI's
    /// selection rules (`DOCKER_HOST`, `DOCKER_CONTEXT`, the current context, the default).
    pub docker_host: Option<String>,
    /// Docker context name (`--context`); giving both this and `docker_host` is a usage error.
    pub context: Option<String>,
    /// Directory under which host files are read (`/host` in a container with the host's root
    /// mounted). It must look like a root filesystem ([`CollectError::Usage`] otherwise).
    /// `None` means `/` when the engine is a local unix socket whose serving dockerd could be
    /// identified; a remote TCP engine gets no host facts unless this is given, and an ssh
    /// engine's host facts are read over ssh (this option then does not apply).
    pub host_root: Option<PathBuf>,
    /// ssh client configuration file for `ssh://` engines (`-F`); `None` uses ssh's own.
    pub ssh_config: Option<PathBuf>,
    /// Collect stopped containers too.
    pub include_stopped: bool,
    /// Maximum concurrent inspect calls against the engine (0 is treated as 1).
    pub concurrency: usize,
    /// Which images get a package inventory.
    pub images: ImageSelection,
    /// Directory caching inventories by image id; `None` reads every export afresh.
    pub inventory_cache: Option<PathBuf>,
    /// Where TLS client material for a `tcp://` engine comes from.
    pub tls: TlsSource,
}

/// Where the TLS client material of a `tcp://` engine comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsSource {
    /// As the docker CLI: `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, or the context's own.
    #[default]
    Environment,
    /// These three PEM files (a fleet target's `tls:`); the environment does not apply.
    Files {
        ca: PathBuf,
        cert: PathBuf,
        key: PathBuf,
    },
    /// Plain TCP whatever the environment says (a fleet target without `tls:`).
    Off,
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
    /// The engine selection or the host root is wrong: nothing was contacted.
    #[error("{message}")]
    Usage { message: String },
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

/// Collects a snapshot. Per-object failures become gaps; only an unreachable engine (or a usage
/// error, before anything is contacted) is an error.
///
/// The engine is read first (`/version`, then everything else); the host facts follow, because
/// telling which daemon serves the engine needs its `/info` `DockerRootDir`.
pub async fn collect(opts: &CollectOptions) -> Result<Snapshot, CollectError> {
    let started_at = Utc::now();
    let (selection, endpoint) = plan(opts)?;
    tracing::debug!(endpoint = %endpoint.url, by = selection.chosen_by, tls = endpoint.tls.is_some(), "connecting");
    let (docker, session) = match &endpoint.transport {
        endpoint::Transport::Ssh(target) => {
            let (target, config) = (target.clone(), opts.ssh_config.clone());
            let opened = tokio::task::spawn_blocking(move || {
                ssh::SshSession::open(&target, config.as_deref())
            })
            .await;
            let unreachable = |reason: String| CollectError::Unreachable {
                endpoint: endpoint.url.clone(),
                reason,
            };
            let session = match opened {
                Ok(Ok(session)) => Arc::new(session),
                Ok(Err(e)) => return Err(unreachable(e.to_string())),
                Err(e) => return Err(unreachable(format!("ssh start-up aborted: {e}"))),
            };
            let docker = session
                .docker(endpoint.timeout.as_secs().max(1))
                .map_err(|e| unreachable(endpoint::explain(&e, &endpoint)))?;
            (docker, Some(session))
        }
        _ => (endpoint::connect(&endpoint)?, None),
    };
    let (docker, version) = endpoint::first_call(docker, &endpoint).await?;
    let product = engine_product(&version);

    let mut gaps = Vec::new();
    let (engine, mut target) = engine::collect_engine(&docker, version, opts, &mut gaps).await;
    target.docker_host = endpoint.url.clone();
    target.selected_by = Some(selection.chosen_by.to_string());
    target.context = selection.context.clone();
    target.engine_product = product;
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

    let root_dir = engine
        .info
        .as_ref()
        .and_then(|i| i.get("DockerRootDir"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let (host, host_gaps, host_root) = host_facts(opts, &endpoint, session, root_dir).await;
    gaps.extend(host_gaps);
    tracing::debug!(gaps = gaps.len(), "collection finished");

    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::current(),
        collection: Collection {
            started_at,
            finished_at: Utc::now(),
            include_stopped: opts.include_stopped,
            host_root,
            image_inventory: Some(opts.images.as_str().to_string()),
            account: accounts::running_account(),
        },
        target,
        engine,
        host,
        gaps,
        inventories,
        profile: None,
    })
}

/// Checks the options as [`collect`] would, without contacting anything: the engine selection,
/// the endpoint's syntax, the host root and the ssh configuration. A fleet checks every target
/// this way before the first engine is contacted.
pub fn check(opts: &CollectOptions) -> Result<(), CollectError> {
    plan(opts).map(|_| ())
}

/// The engine selection and endpoint for `opts`, every option validated; contacts nothing.
fn plan(opts: &CollectOptions) -> Result<(context::Selection, endpoint::Endpoint), CollectError> {
    let env = context::SelectEnv::from_process_env();
    let usage = |message: String| CollectError::Usage { message };
    let mut selection = context::select(opts.docker_host.as_deref(), opts.context.as_deref(), &env)
        .map_err(|e| usage(e.to_string()))?;
    match &opts.tls {
        TlsSource::Environment => {}
        TlsSource::Off => selection.tls = None,
        TlsSource::Files { ca, cert, key } => {
            selection.tls = Some(context::TlsFiles {
                dir: ca.parent().map(PathBuf::from).unwrap_or_default(),
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            })
        }
    }
    let endpoint = endpoint::resolve(&selection)?;
    if let Some(root) = &opts.host_root {
        if matches!(endpoint.transport, endpoint::Transport::Ssh(_)) {
            return Err(usage(format!(
                "--host-root does not apply to {}: that host's files are read over ssh",
                endpoint.url
            )));
        }
        host::check_host_root(root).map_err(usage)?;
    }
    if let Some(config) = &opts.ssh_config {
        if !config.is_file() {
            return Err(usage(format!(
                "--ssh-config {}: no such file",
                config.display()
            )));
        }
    }
    Ok((selection, endpoint))
}

/// Host facts of the host that runs the engine, and where they were read (`host_root`).
async fn host_facts(
    opts: &CollectOptions,
    endpoint: &endpoint::Endpoint,
    session: Option<Arc<ssh::SshSession>>,
    root_dir: Option<String>,
) -> (HostFacts, Vec<Gap>, String) {
    let aborted = |e: tokio::task::JoinError| {
        (
            HostFacts::default(),
            vec![gap("host", format!("host fact collection aborted: {e}"))],
        )
    };
    let none = |why: String| (HostFacts::default(), vec![gap("host", why)], String::new());
    match (&endpoint.transport, session) {
        (endpoint::Transport::Ssh(_), Some(session)) => {
            let label = format!("{} (over ssh)", endpoint.url);
            let task = tokio::task::spawn_blocking(move || {
                ssh_host::collect_remote(&session, root_dir.as_deref())
            });
            let (facts, gaps) = task.await.unwrap_or_else(aborted);
            (facts, gaps, label)
        }
        (endpoint::Transport::Unix(socket), _) => {
            let peer = identify::peer_pid(socket).await;
            let given = opts.host_root.clone();
            let root = given.clone().unwrap_or_else(|| PathBuf::from("/"));
            let socket = socket.clone();
            let shown = root.display().to_string();
            let task = tokio::task::spawn_blocking(move || {
                let served = identify::identify_local(
                    &host::HostRoot::new(&root),
                    &socket,
                    peer,
                    root_dir.as_deref(),
                );
                match (&served, given) {
                    (Err(why), None) => (
                        HostFacts::default(),
                        vec![gap(
                            "host",
                            format!(
                                "not collected: the dockerd serving unix://{socket} was not \
                                 identified on this machine ({why}); this machine's files may \
                                 not be that engine's host. Scan that host over ssh:// or pass \
                                 --host-root with a mount of its filesystem"
                            ),
                        )],
                    ),
                    _ => host::collect_host(host::HostRoot::new(&root), &served),
                }
            });
            let (facts, gaps) = task.await.unwrap_or_else(aborted);
            (facts, gaps, shown)
        }
        (_, _) => match &opts.host_root {
            Some(root) => {
                let root = root.clone();
                let shown = root.display().to_string();
                let why = format!(
                    "the engine is reached at {}, so which dockerd serves it cannot be told \
                     from the host's processes",
                    endpoint.url
                );
                let task = tokio::task::spawn_blocking(move || {
                    host::collect_host(host::HostRoot::new(&root), &Err(why))
                });
                let (facts, gaps) = task.await.unwrap_or_else(aborted);
                (facts, gaps, shown)
            }
            None => none(format!(
                "not collected: the engine at {} is not a local socket; scan it over ssh:// \
                 (host facts are then read through the same connection) or pass --host-root \
                 with a mount of that host's filesystem",
                endpoint.url
            )),
        },
    }
}

/// The product that answered, from `/version` `Components` (Podman names itself there).
fn engine_product(version: &bollard::models::SystemVersion) -> Option<String> {
    let names: Vec<&str> = version
        .components
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    if let Some(podman) = names
        .iter()
        .find(|n| n.to_ascii_lowercase().contains("podman"))
    {
        return Some((*podman).to_string());
    }
    if names.contains(&"Engine") {
        return Some("Docker Engine".to_string());
    }
    names.first().map(|n| (*n).to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{SystemVersion, SystemVersionComponents};

    fn version(names: &[&str]) -> SystemVersion {
        SystemVersion {
            components: Some(
                names
                    .iter()
                    .map(|n| SystemVersionComponents {
                        name: n.to_string(),
                        version: "1".into(),
                        details: None,
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    #[test]
    fn the_engine_product_is_named_from_its_components() {
        assert_eq!(
            engine_product(&version(&["Engine", "containerd", "runc"])).as_deref(),
            Some("Docker Engine")
        );
        assert_eq!(
            engine_product(&version(&["Conmon", "OCI Runtime (crun)", "Podman Engine"])).as_deref(),
            Some("Podman Engine")
        );
        assert_eq!(
            engine_product(&version(&["Other"])).as_deref(),
            Some("Other")
        );
        assert_eq!(engine_product(&version(&[])), None);
    }
}
