//! Writing a fleet bundle: host bundles under `hosts/<dir>/`, then the fleet files and one
//! `SHA256SUMS` over every file of the bundle (those of the host bundles included), signed with
//! the same key as the host manifests when one is given.
//!
//! Everything is assembled in one hidden staging directory beside the destination and renamed
//! into place at the end ([`crate::bundle::staging_dir`]), so a fleet bundle, like a host bundle,
//! is either complete or absent; an existing bundle is never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::bundle::{self, BundleError, Durability, MANIFEST, SIGNATURE};
use crate::render::RenderError;
use crate::sign::Signer;

use super::{FleetAssessment, HOSTS_DIR};

/// A fleet bundle being written.
pub struct FleetBundle {
    target: PathBuf,
    staging: tempfile::TempDir,
    /// SHA-256 of the files written so far, by manifest name, as hashed while writing them.
    hashed: BTreeMap<String, String>,
}

/// One fleet report file: its name in the bundle and how to write it.
pub type FleetReport<'a> = (
    &'static str,
    &'a dyn Fn(&FleetAssessment) -> Result<Vec<u8>, RenderError>,
);

impl FleetBundle {
    /// Starts a fleet bundle that will be renamed to `target`; fails when `target` exists.
    pub fn create(target: &Path) -> Result<Self, BundleError> {
        let staging = bundle::staging_dir(target)?;
        let hosts = staging.path().join(HOSTS_DIR);
        std::fs::create_dir(&hosts).map_err(|source| BundleError::Io {
            path: hosts.clone(),
            source,
        })?;
        Ok(FleetBundle {
            target: target.to_path_buf(),
            staging,
            hashed: BTreeMap::new(),
        })
    }

    /// Records the files of the host bundle written under `hosts/<dir>/` with the hashes taken
    /// while writing them ([`bundle::write_hashed`]), so the fleet manifest need not read the
    /// host bundles back.
    pub fn record_host(&mut self, dir: &str, files: Vec<(String, String)>) {
        for (name, sha) in files {
            self.hashed.insert(format!("{HOSTS_DIR}/{dir}/{name}"), sha);
        }
    }

    /// Where the host bundle of `dir` (a name from [`super::names::assign`]) is written.
    pub fn host_path(&self, dir: &str) -> PathBuf {
        self.staging.path().join(HOSTS_DIR).join(dir)
    }

    /// Writes the fleet assessment and `reports`, the manifest over everything and its
    /// signature, syncs the whole bundle once and renames it into place. Returns the top-level
    /// files written.
    pub fn finish(
        mut self,
        fleet: &FleetAssessment,
        reports: &[FleetReport<'_>],
        signer: Option<&Signer>,
    ) -> Result<Vec<String>, BundleError> {
        let root = self.staging.path();
        let render = |file: &str, e: RenderError| BundleError::Render {
            file: file.to_string(),
            source: e,
        };
        let json = serde_json::to_vec_pretty(fleet)
            .map_err(|e| render(bundle::ASSESSMENT_FILE, RenderError::Json(e)))?;
        let deferred = Durability::Deferred;
        let sha = bundle::write_new_file(&root.join(bundle::ASSESSMENT_FILE), &json, deferred)?;
        self.hashed.insert(bundle::ASSESSMENT_FILE.to_string(), sha);
        let mut files = vec![bundle::ASSESSMENT_FILE.to_string()];
        for (name, write) in reports {
            let bytes = write(fleet).map_err(|e| render(name, e))?;
            let sha = bundle::write_new_file(&root.join(name), &bytes, deferred)?;
            self.hashed.insert(name.to_string(), sha);
            files.push(name.to_string());
        }
        let manifest = manifest(root, &self.hashed)?;
        bundle::write_new_file(&root.join(MANIFEST), manifest.as_bytes(), deferred)?;
        files.push(MANIFEST.to_string());
        if let Some(signer) = signer {
            let signature = signer.sign(manifest.as_bytes())?;
            bundle::write_new_file(&root.join(SIGNATURE), signature.as_bytes(), deferred)?;
            files.push(SIGNATURE.to_string());
        }
        // Host bundles and fleet files were written unsynced: one flush for all of them, then
        // the rename that makes the bundle appear.
        bundle::sync_tree(root)?;
        bundle::commit(self.staging, &self.target)?;
        Ok(files)
    }
}

/// `sha256sum` lines for every file under `root`, sorted by path, `/`-separated. The listing
/// comes from the directory itself, so no file is left out; a file's hash is the one taken
/// while writing it when `hashed` has it, otherwise it is read.
fn manifest(root: &Path, hashed: &BTreeMap<String, String>) -> Result<String, BundleError> {
    let mut lines = Vec::new();
    for entry in walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| BundleError::Read {
            path: e.path().map(Path::to_path_buf).unwrap_or_default(),
            source: e.into(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        let Some(name) = bundle::manifest_name(root, entry.path()) else {
            continue;
        };
        let sha = match hashed.get(&name) {
            Some(sha) => sha.clone(),
            None => bundle::sha256_file(entry.path())?,
        };
        lines.push((name, sha));
    }
    lines.sort();
    Ok(lines
        .into_iter()
        .map(|(name, sha)| format!("{sha}  {name}\n"))
        .collect())
}
