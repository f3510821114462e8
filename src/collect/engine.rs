//! Engine objects: everything read from the Docker Engine API after the first call.
//!
//! Each object is fetched with bollard's typed client and converted to JSON with
//! `serde_json::to_value`, which gives the Engine API's own PascalCase names. Two consequences
//! of that representation, which later stages must know:
//! * fields the engine left out or sent as `null` are **absent** (bollard's models skip `None`
//!   when serialising); a missing key means "not reported", never `false` or `0`;
//! * fields that bollard's model (Engine API 1.53) does not know are dropped, so a very new or
//!   very old engine may report a few keys that the snapshot does not keep.
//!
//! Every object is redacted ([`super::redact`]) before it leaves this module. Inspects run
//! concurrently, bounded by [`CollectOptions::concurrency`]; results are sorted (containers and
//! networks by name then id, images by id, volumes and plugins by name) so two snapshots of the
//! same host compare line by line. A failing source becomes a gap (`engine:/networks`,
//! `container:web`, `image:sha256:..`) and collection goes on. This module never evaluates and
//! never touches the host filesystem.

use std::future::Future;

use bollard::errors::Error as BollardError;
use bollard::models::SystemVersion;
use bollard::query_parameters::{
    InspectContainerOptions, InspectNetworkOptions, ListContainersOptions, ListImagesOptions,
    ListNetworksOptions, ListPluginsOptions, ListVolumesOptions,
};
use bollard::Docker;
use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;

use super::endpoint::{error_chain, REQUEST_TIMEOUT};
use super::{gap, redact, CollectOptions};
use crate::snapshot::{Engine, Gap, Target};

/// Reads every engine object; `version` is the answer to the first call.
pub(crate) async fn collect_engine(
    docker: &Docker,
    version: SystemVersion,
    opts: &CollectOptions,
    gaps: &mut Vec<Gap>,
) -> (Engine, Target) {
    let limit = opts.concurrency.max(1);
    let mut engine = Engine::default();
    let mut target = Target::default();

    match to_json(&version) {
        Ok(v) => engine.version = Some(v),
        Err(e) => gaps.push(gap("engine:/version", e)),
    }
    target.engine_version = version.version.clone();
    target.api_version = version.api_version.clone();

    match call(docker.info()).await.and_then(|i| to_json(&i)) {
        Ok(info) => {
            let text = |key: &str| info.get(key).and_then(Value::as_str).map(str::to_string);
            target.hostname = text("Name");
            target.os = text("OperatingSystem");
            target.kernel = text("KernelVersion");
            target.architecture = text("Architecture");
            target.engine_id = text("ID");
            engine.info = Some(info);
        }
        Err(e) => gaps.push(gap("engine:/info", e)),
    }

    engine.containers = containers(docker, opts.include_stopped, limit, gaps).await;
    engine.images = images(docker, limit, gaps).await;
    engine.networks = networks(docker, limit, gaps).await;
    engine.volumes = volumes(docker, gaps).await;
    engine.plugins = plugins(docker, gaps).await;
    if is_swarm_manager(engine.info.as_ref()) {
        match call(docker.inspect_swarm()).await.and_then(|s| to_json(&s)) {
            Ok(mut swarm) => {
                redact::swarm(&mut swarm);
                engine.swarm = Some(swarm);
            }
            Err(e) => gaps.push(gap("engine:/swarm", e)),
        }
    }
    tracing::debug!(
        containers = engine.containers.len(),
        images = engine.images.len(),
        networks = engine.networks.len(),
        volumes = engine.volumes.len(),
        plugins = engine.plugins.len(),
        "engine objects collected"
    );
    (engine, target)
}

async fn containers(docker: &Docker, all: bool, limit: usize, gaps: &mut Vec<Gap>) -> Vec<Value> {
    let opts = ListContainersOptions {
        all,
        ..Default::default()
    };
    let listed = match call(docker.list_containers(Some(opts))).await {
        Ok(list) => list,
        Err(e) => {
            gaps.push(gap("engine:/containers/json", e));
            return Vec::new();
        }
    };
    let results: Vec<_> = stream::iter(listed.into_iter().filter_map(|summary| {
        let id = summary.id?;
        let label = summary
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| id.clone());
        Some(async move {
            let result = call(docker.inspect_container(&id, None::<InspectContainerOptions>))
                .await
                .and_then(|c| to_json(&c));
            (label, result)
        })
    }))
    .buffer_unordered(limit)
    .collect()
    .await;

    let mut docs = keep_or_gap(results, "container", gaps);
    docs.iter_mut().for_each(redact::container);
    docs.sort_by(|a, b| sort_key(a, "Name").cmp(&sort_key(b, "Name")));
    docs
}

async fn images(docker: &Docker, limit: usize, gaps: &mut Vec<Gap>) -> Vec<Value> {
    let opts = ListImagesOptions {
        all: false,
        ..Default::default()
    };
    let listed = match call(docker.list_images(Some(opts))).await {
        Ok(list) => list,
        Err(e) => {
            gaps.push(gap("engine:/images/json", e));
            return Vec::new();
        }
    };
    let results: Vec<_> = stream::iter(listed.into_iter().map(|summary| {
        let label = summary
            .repo_tags
            .iter()
            .find(|t| t.as_str() != "<none>:<none>")
            .cloned()
            .unwrap_or_else(|| summary.id.clone());
        let id = summary.id;
        async move {
            let (inspect, history) = futures::join!(
                call(docker.inspect_image(&id)),
                call(docker.image_history(&id))
            );
            let doc = inspect.and_then(|i| to_json(&i));
            let history = history.and_then(|h| to_json(&h));
            (label, doc, history)
        }
    }))
    .buffer_unordered(limit)
    .collect()
    .await;

    let mut docs = Vec::with_capacity(results.len());
    for (label, doc, history) in results {
        let mut doc = match doc {
            Ok(d) => d,
            Err(e) => {
                gaps.push(gap(format!("image:{label}"), e));
                continue;
            }
        };
        // A missing `History` key means "could not be read" and is paired with this gap.
        match (history, doc.as_object_mut()) {
            (Ok(h), Some(map)) => {
                map.insert("History".to_string(), h);
            }
            (Err(e), _) => gaps.push(gap(format!("image:{label}:history"), e)),
            (Ok(_), None) => gaps.push(gap(format!("image:{label}"), "inspect is not an object")),
        }
        redact::image(&mut doc);
        docs.push(doc);
    }
    docs.sort_by(|a, b| sort_key(a, "Id").cmp(&sort_key(b, "Id")));
    docs
}

async fn networks(docker: &Docker, limit: usize, gaps: &mut Vec<Gap>) -> Vec<Value> {
    let listed = match call(docker.list_networks(None::<ListNetworksOptions>)).await {
        Ok(list) => list,
        Err(e) => {
            gaps.push(gap("engine:/networks", e));
            return Vec::new();
        }
    };
    let results: Vec<_> = stream::iter(listed.into_iter().filter_map(|summary| {
        let id = summary.id?;
        let label = summary.name.unwrap_or_else(|| id.clone());
        Some(async move {
            let result = call(docker.inspect_network(&id, None::<InspectNetworkOptions>))
                .await
                .and_then(|n| to_json(&n));
            (label, result)
        })
    }))
    .buffer_unordered(limit)
    .collect()
    .await;
    let mut docs = keep_or_gap(results, "network", gaps);
    docs.sort_by(|a, b| sort_key(a, "Name").cmp(&sort_key(b, "Name")));
    docs
}

async fn volumes(docker: &Docker, gaps: &mut Vec<Gap>) -> Vec<Value> {
    let listed = match call(docker.list_volumes(None::<ListVolumesOptions>)).await {
        Ok(list) => list,
        Err(e) => {
            gaps.push(gap("engine:/volumes", e));
            return Vec::new();
        }
    };
    // Warnings mean a volume driver could not list its volumes: the list may be incomplete.
    for warning in listed.warnings.unwrap_or_default() {
        gaps.push(gap("engine:/volumes", format!("engine warning: {warning}")));
    }
    let mut docs: Vec<Value> = Vec::new();
    for volume in listed.volumes.unwrap_or_default() {
        let name = volume.name.clone();
        match to_json(&volume) {
            Ok(mut doc) => {
                redact::volume(&mut doc);
                docs.push(doc);
            }
            Err(e) => gaps.push(gap(format!("volume:{name}"), e)),
        }
    }
    docs.sort_by(|a, b| sort_key(a, "Name").cmp(&sort_key(b, "Name")));
    docs
}

async fn plugins(docker: &Docker, gaps: &mut Vec<Gap>) -> Vec<Value> {
    let listed = match call(docker.list_plugins(None::<ListPluginsOptions>)).await {
        Ok(list) => list,
        Err(e) => {
            gaps.push(gap("engine:/plugins", e));
            return Vec::new();
        }
    };
    let mut docs = Vec::new();
    for plugin in listed {
        let name = plugin.name.clone();
        match to_json(&plugin) {
            Ok(mut doc) => {
                redact::plugin(&mut doc);
                docs.push(doc);
            }
            Err(e) => gaps.push(gap(format!("plugin:{name}"), e)),
        }
    }
    docs.sort_by(|a, b| sort_key(a, "Name").cmp(&sort_key(b, "Name")));
    docs
}

/// Whether `GET /swarm` will answer: only on an active manager node.
fn is_swarm_manager(info: Option<&Value>) -> bool {
    let Some(swarm) = info.and_then(|i| i.get("Swarm")) else {
        return false;
    };
    swarm.get("LocalNodeState").and_then(Value::as_str) == Some("active")
        && swarm.get("ControlAvailable").and_then(Value::as_bool) == Some(true)
}

/// Keeps successful documents and turns failures into `KIND:label` gaps.
fn keep_or_gap(
    results: Vec<(String, Result<Value, String>)>,
    kind: &str,
    gaps: &mut Vec<Gap>,
) -> Vec<Value> {
    let mut docs = Vec::with_capacity(results.len());
    for (label, result) in results {
        match result {
            Ok(doc) => docs.push(doc),
            Err(e) => gaps.push(gap(format!("{kind}:{label}"), e)),
        }
    }
    docs
}

/// Sort key: the named field, then `Id`, so the order never depends on the engine's answer order.
fn sort_key<'a>(doc: &'a Value, field: &str) -> (&'a str, &'a str) {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).unwrap_or("");
    (text(field), text("Id"))
}

/// Runs one API call with the request timeout and turns its error into text for a gap.
async fn call<T>(request: impl Future<Output = Result<T, BollardError>>) -> Result<T, String> {
    match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(BollardError::DockerResponseServerError {
            status_code,
            message,
        })) => Err(format!("HTTP {status_code}: {message}")),
        Ok(Err(e)) => Err(error_chain(&e)),
        Err(_) => Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())),
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot convert the engine's answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn swarm_is_read_only_on_an_active_manager() {
        let manager = json!({"Swarm": {"LocalNodeState": "active", "ControlAvailable": true}});
        let worker = json!({"Swarm": {"LocalNodeState": "active", "ControlAvailable": false}});
        let off = json!({"Swarm": {"LocalNodeState": "inactive"}});
        assert!(is_swarm_manager(Some(&manager)));
        assert!(!is_swarm_manager(Some(&worker)));
        assert!(!is_swarm_manager(Some(&off)));
        assert!(!is_swarm_manager(None));
    }

    #[test]
    fn failures_become_named_gaps_and_order_is_by_name_then_id() {
        let mut gaps = Vec::new();
        let mut docs = keep_or_gap(
            vec![
                ("web".into(), Ok(json!({"Name": "/web", "Id": "b"}))),
                (
                    "gone".into(),
                    Err("HTTP 404: No such container: gone".into()),
                ),
                ("api".into(), Ok(json!({"Name": "/api", "Id": "c"}))),
                ("web".into(), Ok(json!({"Name": "/web", "Id": "a"}))),
            ],
            "container",
            &mut gaps,
        );
        docs.sort_by(|a, b| sort_key(a, "Name").cmp(&sort_key(b, "Name")));
        let ids: Vec<_> = docs.iter().map(|d| d["Id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].source, "container:gone");
        assert!(gaps[0].error.contains("404"));
    }
}
