//! Reading an image export stream (`GET /images/{name}/get`) into an [`ImageInventory`].
//!
//! Layouts read: the `docker save` layout of Engine 20.10 and earlier (`manifest.json`,
//! `<id>.json` configs, `<dir>/layer.tar`), and the OCI image layout Engine 25 and later write
//! (`oci-layout`, `index.json`, `blobs/sha256/...`), whose layers are plain tars with the classic
//! image store and gzip tars with the containerd image store. Entries may come in any order
//! (blobs before `manifest.json`), so the stream is read once: every small JSON document is kept,
//! every layer is scanned as it passes and filed under its uncompressed digest, and the layers
//! are stacked only at the end, in the order of the image's `RootFS.Layers`.

use std::collections::HashMap;
use std::fs;
use std::io::Read;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::layers::{self, LayerScan, Node, Tree};
use super::{apk, dpkg, osrelease, rpm};
use super::{ImageInventory, Package, PackageDb, PackageFormat, MAX_METADATA};

/// Largest text database (dpkg status, apk installed, os-release) parsed in memory.
const MAX_TEXT_DB: u64 = 32 * 1024 * 1024;

/// What is known about the image before its export is read.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// Image id, `sha256:...`.
    pub image_id: String,
    /// `RootFS.Layers` from the image inspect, bottom first; empty to take the export's own.
    pub diff_ids: Vec<String>,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
}

/// Why an export stream could not be read at all. Problems inside a readable stream (a missing
/// layer, a malformed database) are gaps on the inventory instead.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the export stream of {image} could not be read: {source}")]
    Stream {
        image: String,
        source: std::io::Error,
    },
    #[error("cannot create a private spool directory for {image}: {source}")]
    Spool {
        image: String,
        source: std::io::Error,
    },
}

/// Reads an export stream to its end and builds the inventory of `expected.image_id`.
pub fn read_export(reader: impl Read, expected: &Expected) -> Result<ImageInventory, ExportError> {
    let image = expected.image_id.clone();
    let stream_err = |source| ExportError::Stream {
        image: image.clone(),
        source,
    };
    let spool = tempfile::Builder::new()
        .prefix("dockproof-inventory-")
        .tempdir()
        .map_err(|source| ExportError::Spool {
            image: image.clone(),
            source,
        })?;
    let mut inv = ImageInventory {
        image_id: expected.image_id.clone(),
        repo_tags: expected.repo_tags.clone(),
        repo_digests: expected.repo_digests.clone(),
        ..ImageInventory::default()
    };

    let mut docs: HashMap<String, Value> = HashMap::new();
    let mut by_path: HashMap<String, Value> = HashMap::new();
    let mut scans: HashMap<String, LayerScan> = HashMap::new();
    let mut oci = false;
    let mut archive = tar::Archive::new(reader);
    for (n, entry) in archive.entries().map_err(stream_err)?.enumerate() {
        let mut entry = entry.map_err(stream_err)?;
        let path = layers::normalize(&String::from_utf8_lossy(&entry.path_bytes()));
        if path == "oci-layout" {
            oci = true;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        let blob =
            path.starts_with("blobs/") || path == "layer.tar" || path.ends_with("/layer.tar");
        let meta = !blob && (path.ends_with(".json") || path.ends_with("/json"));
        if blob && size > MAX_METADATA {
            match layers::scan_layer(&mut entry, spool.path(), &format!("l{n}")) {
                Ok(scan) => {
                    scans.insert(scan.diff_id.clone(), scan);
                }
                Err(e) => inv
                    .gaps
                    .push(format!("export entry {path}: not a readable layer: {e}")),
            }
        } else if blob || meta {
            if size > MAX_METADATA {
                inv.gaps.push(format!(
                    "export entry {path}: {size} bytes, over the {MAX_METADATA}-byte limit for \
                     metadata"
                ));
                continue;
            }
            let mut bytes = Vec::with_capacity(size as usize);
            (&mut entry)
                .take(MAX_METADATA)
                .read_to_end(&mut bytes)
                .map_err(stream_err)?;
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(v) if v.is_object() || v.is_array() => {
                    docs.insert(hex::encode(Sha256::digest(&bytes)), v.clone());
                    by_path.insert(path, v);
                }
                _ if blob => match layers::scan_layer(&bytes[..], spool.path(), &format!("l{n}")) {
                    Ok(scan) => {
                        scans.insert(scan.diff_id.clone(), scan);
                    }
                    Err(e) => inv
                        .gaps
                        .push(format!("export entry {path}: not a readable layer: {e}")),
                },
                _ => inv
                    .gaps
                    .push(format!("export entry {path}: not a JSON document")),
            }
        }
    }
    inv.layout = Some(if oci { "oci" } else { "docker-save" }.to_string());

    let config = find_config(&docs, &by_path, &expected.image_id);
    let config_ids: Vec<String> = config
        .and_then(|c| c.pointer("/rootfs/diff_ids"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    inv.layers = if expected.diff_ids.is_empty() {
        if config.is_none() {
            inv.gaps
                .push("the export holds no image configuration for this image".to_string());
        }
        config_ids
    } else {
        if config.is_some() && config_ids != expected.diff_ids {
            inv.gaps.push(
                "the layers in the export's image configuration differ from RootFS.Layers of \
                 the image inspect; the inspect's list was used"
                    .to_string(),
            );
        }
        expected.diff_ids.clone()
    };

    let mut tree = Tree::default();
    for id in &inv.layers {
        match scans.get(id) {
            Some(scan) => {
                tree.apply(scan);
                inv.gaps
                    .extend(scan.problems.iter().map(|p| format!("layer {id}: {p}")));
            }
            None => inv.gaps.push(format!(
                "layer {id} is not in the export or could not be decompressed (gzip and plain \
                 tar layers are read; zstd is not)"
            )),
        }
    }
    read_filesystem(&tree, &mut inv);
    inv.packages.sort();
    inv.packages.dedup();
    Ok(inv)
}

/// The image configuration of `image_id` among the export's JSON documents.
fn find_config<'a>(
    docs: &'a HashMap<String, Value>,
    by_path: &'a HashMap<String, Value>,
    image_id: &str,
) -> Option<&'a Value> {
    let is_config = |v: &Value| v.pointer("/rootfs/diff_ids").is_some();
    let digest_of = |v: &Value| {
        v.get("digest")
            .and_then(Value::as_str)
            .map(|d| d.trim_start_matches("sha256:").to_string())
    };
    let id = image_id.trim_start_matches("sha256:");
    if let Some(doc) = docs.get(id) {
        if is_config(doc) {
            return Some(doc);
        }
        // containerd image store: the id is the digest of an index or a manifest.
        let manifests: Vec<&Value> = match doc.get("manifests").and_then(Value::as_array) {
            Some(list) => list
                .iter()
                .filter_map(|m| docs.get(&digest_of(m)?))
                .collect(),
            None => vec![doc],
        };
        for m in manifests {
            if let Some(c) = m
                .get("config")
                .and_then(digest_of)
                .and_then(|d| docs.get(&d))
            {
                if is_config(c) {
                    return Some(c);
                }
            }
        }
    }
    // docker save: manifest.json names each image's config file.
    if let Some(list) = by_path.get("manifest.json").and_then(Value::as_array) {
        let configs: Vec<&str> = list
            .iter()
            .filter_map(|e| e.get("Config").and_then(Value::as_str))
            .collect();
        let chosen = configs
            .iter()
            .find(|c| c.contains(id))
            .or(configs.first().filter(|_| configs.len() == 1));
        if let Some(c) = chosen.and_then(|c| by_path.get(&layers::normalize(c))) {
            if is_config(c) {
                return Some(c);
            }
        }
    }
    let mut configs = docs.values().filter(|v| is_config(v));
    match (configs.next(), configs.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// Reads os-release and the package databases out of the stacked layers.
fn read_filesystem(tree: &Tree, inv: &mut ImageInventory) {
    for path in ["etc/os-release", "usr/lib/os-release"] {
        if let Some((real, text)) = text_file(tree, path, inv) {
            if let Some(os) = osrelease::parse(&text, &format!("/{real}")) {
                inv.os = Some(os);
                break;
            }
        }
    }

    if let Some((real, text)) = text_file(tree, "var/lib/dpkg/status", inv) {
        let origin = format!("/{real}");
        let (pkgs, problems) = dpkg::parse(&text, &origin, true);
        add(inv, PackageFormat::Deb, origin, pkgs, problems);
    }
    if let Ok((dir, Some(Node::Dir) | None)) = tree.resolve("var/lib/dpkg/status.d") {
        let names = tree.list(&dir);
        let mut all = Vec::new();
        let mut all_problems = Vec::new();
        let mut read_any = false;
        for name in names.iter().filter(|n| !n.ends_with(".md5sums")) {
            if let Some((real, text)) = text_file(tree, &format!("{dir}/{name}"), inv) {
                let (pkgs, problems) = dpkg::parse(&text, &format!("/{real}"), false);
                all.extend(pkgs);
                all_problems.extend(problems);
                read_any = true;
            }
        }
        if read_any {
            add(
                inv,
                PackageFormat::Deb,
                format!("/{dir}"),
                all,
                all_problems,
            );
        }
    }
    for path in ["lib/apk/db/installed", "usr/lib/apk/db/installed"] {
        if let Some((real, text)) = text_file(tree, path, inv) {
            let origin = format!("/{real}");
            if inv.databases.iter().any(|d| d.path == origin) {
                continue;
            }
            let (pkgs, problems) = apk::parse(&text, &origin);
            add(inv, PackageFormat::Apk, origin, pkgs, problems);
        }
    }
    for path in [
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
    ] {
        if let Some((real, local)) = file(tree, path, inv) {
            let origin = format!("/{real}");
            if inv.databases.iter().any(|d| d.path == origin) {
                continue;
            }
            let (pkgs, problems) = rpm::read_sqlite(&local, &origin);
            add(inv, PackageFormat::Rpm, origin, pkgs, problems);
        }
    }
    for path in ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/Packages"] {
        if inv.databases.iter().any(|d| d.format == PackageFormat::Rpm) {
            break;
        }
        if let Some((real, local)) = file(tree, path, inv) {
            let origin = format!("/{real}");
            let (pkgs, problems) = rpm::read_bdb(&local, &origin);
            add(inv, PackageFormat::Rpm, origin, pkgs, problems);
        }
    }
    let have_rpm = inv.databases.iter().any(|d| d.format == PackageFormat::Rpm);
    for path in [
        "var/lib/rpm/Packages.db",
        "usr/lib/sysimage/rpm/Packages.db",
    ] {
        if have_rpm {
            break;
        }
        if let Some((real, _)) = file(tree, path, inv) {
            inv.gaps.push(format!(
                "/{real}: rpm ndb database (SUSE) is not read: its packages are not in this \
                 inventory; import a scanner report for this image"
            ));
        }
    }
}

fn add(
    inv: &mut ImageInventory,
    format: PackageFormat,
    path: String,
    pkgs: Vec<Package>,
    problems: Vec<String>,
) {
    inv.databases.push(PackageDb {
        format,
        path,
        packages: pkgs.len(),
    });
    inv.packages.extend(pkgs);
    inv.gaps.extend(problems);
}

/// The spooled copy of the file at `path`, following symlinks; unreadable ones become gaps.
fn file(tree: &Tree, path: &str, inv: &mut ImageInventory) -> Option<(String, std::path::PathBuf)> {
    match tree.resolve(path) {
        Ok((real, Some(Node::File(local)))) => Some((real, local.clone())),
        Ok((real, Some(Node::Unreadable(why)))) => {
            inv.gaps.push(format!("/{real}: {why}"));
            None
        }
        Ok((real, None)) if real != path && !layers::relevant(&real) => {
            inv.gaps.push(format!(
                "/{path} is a symlink to /{real}, a path the inventory does not read"
            ));
            None
        }
        Ok(_) => None,
        Err(e) => {
            inv.gaps.push(e);
            None
        }
    }
}

fn text_file(tree: &Tree, path: &str, inv: &mut ImageInventory) -> Option<(String, String)> {
    let (real, local) = file(tree, path, inv)?;
    let read = fs::File::open(&local).and_then(|f| {
        let mut bytes = Vec::new();
        f.take(MAX_TEXT_DB + 1).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    match read {
        Ok(bytes) if bytes.len() as u64 > MAX_TEXT_DB => {
            inv.gaps.push(format!(
                "/{real}: larger than the {MAX_TEXT_DB}-byte limit for a text database"
            ));
            None
        }
        Ok(bytes) => Some((real, String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => {
            inv.gaps
                .push(format!("/{real}: cannot read the spooled copy: {e}"));
            None
        }
    }
}
