//! Image inventories: streams the export of each selected image (`GET /images/{id}/get`) into
//! [`crate::inventory::read_export`] and records what it found, or a gap.
//!
//! Exports run one at a time: each is a full copy of the image, and running them in parallel
//! would multiply disk and engine load for no gain on a two-core host. The stream reaches the
//! blocking reader through a small bounded channel, so memory stays a few chunks deep whatever
//! the image size. A chunk that does not arrive within [`REQUEST_TIMEOUT`] ends the export with a
//! gap. An inventory can be cached on disk by image id (`--inventory-cache`): an image id is the
//! digest of its content, so an inventory made by this same dockproof version stays true.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::Path;

use bollard::Docker;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::endpoint::{error_chain, REQUEST_TIMEOUT};
use super::{gap, ImageSelection};
use crate::inventory::{self, Expected, ImageInventory};
use crate::snapshot::{Engine, Gap};

/// Chunks buffered between the engine stream and the tar reader.
const CHANNEL_DEPTH: usize = 16;

/// Ids of the images to inventory, sorted.
pub(crate) fn selected(engine: &Engine, selection: ImageSelection) -> Vec<String> {
    let ids: BTreeSet<String> = match selection {
        ImageSelection::None => BTreeSet::new(),
        ImageSelection::All => engine
            .images
            .iter()
            .filter_map(|i| i.get("Id").and_then(Value::as_str).map(str::to_string))
            .collect(),
        ImageSelection::InUse => engine
            .containers
            .iter()
            .filter_map(|c| c.get("Image").and_then(Value::as_str).map(str::to_string))
            .collect(),
    };
    ids.into_iter().collect()
}

/// What the image inspect says about the image, for ordering its layers.
fn expected(engine: &Engine, id: &str) -> Expected {
    let inspect = engine
        .images
        .iter()
        .find(|i| i.get("Id").and_then(Value::as_str) == Some(id));
    let strings = |key: &str| -> Vec<String> {
        inspect
            .and_then(|i| i.pointer(key))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    Expected {
        image_id: id.to_string(),
        diff_ids: strings("/RootFS/Layers"),
        repo_tags: strings("/RepoTags"),
        repo_digests: strings("/RepoDigests"),
    }
}

/// Inventories of the selected images; failures become gaps named `image:<id>:inventory`.
pub(crate) async fn inventories(
    docker: &Docker,
    engine: &Engine,
    selection: ImageSelection,
    cache: Option<&Path>,
    gaps: &mut Vec<Gap>,
) -> Vec<ImageInventory> {
    let mut out = Vec::new();
    for id in selected(engine, selection) {
        let expected = expected(engine, &id);
        if let Some(mut inv) = cache.and_then(|dir| cached(dir, &id)) {
            // Tags move; the packages of an image id do not.
            inv.repo_tags = expected.repo_tags.clone();
            inv.repo_digests = expected.repo_digests.clone();
            out.push(inv);
            continue;
        }
        match export(docker, expected).await {
            Ok(inv) => {
                if let Some(dir) = cache {
                    if let Err(e) = store(dir, &inv) {
                        tracing::warn!(image = %id, error = %e, "inventory cache not written");
                    }
                }
                out.push(inv);
            }
            Err(e) => gaps.push(gap(format!("image:{id}:inventory"), e)),
        }
    }
    out
}

async fn export(docker: &Docker, expected: Expected) -> Result<ImageInventory, String> {
    let id = expected.image_id.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, String>>(CHANNEL_DEPTH);
    let reader = tokio::task::spawn_blocking(move || {
        let stream = ChannelReader {
            rx,
            chunk: Vec::new(),
            at: 0,
        };
        inventory::read_export(stream, &expected)
    });
    let mut stream = docker.export_image(&id);
    loop {
        let item = match tokio::time::timeout(REQUEST_TIMEOUT, stream.next()).await {
            Ok(Some(Ok(bytes))) => Ok(bytes.to_vec()),
            Ok(Some(Err(e))) => Err(format!("export stream failed: {}", error_chain(&e))),
            Ok(None) => break,
            Err(_) => Err(format!(
                "export stream stalled: no data within {} s",
                REQUEST_TIMEOUT.as_secs()
            )),
        };
        let failed = item.is_err();
        // A closed channel means the reader finished (or failed) early; its result says which.
        if tx.send(item).await.is_err() || failed {
            break;
        }
    }
    drop(tx);
    reader
        .await
        .map_err(|e| format!("inventory reader aborted: {e}"))?
        .map_err(|e| e.to_string())
}

/// The blocking side of the export stream.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, String>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A cached inventory with the version that wrote it.
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    tool_version: String,
    inventory: ImageInventory,
}

fn cache_file(dir: &Path, id: &str) -> Option<std::path::PathBuf> {
    let hex = id.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| dir.join(format!("{hex}.json")))
}

fn cached(dir: &Path, id: &str) -> Option<ImageInventory> {
    let bytes = std::fs::read(cache_file(dir, id)?).ok()?;
    let entry: CacheEntry = serde_json::from_slice(&bytes).ok()?;
    (entry.tool_version == env!("CARGO_PKG_VERSION") && entry.inventory.image_id == id)
        .then_some(entry.inventory)
}

fn store(dir: &Path, inv: &ImageInventory) -> io::Result<()> {
    let Some(path) = cache_file(dir, &inv.image_id) else {
        return Ok(());
    };
    std::fs::create_dir_all(dir)?;
    let entry = CacheEntry {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        inventory: inv.clone(),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(&mut tmp, &entry)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
