//! Writing a fleet bundle: host bundles under `hosts/<dir>/`, then the fleet files and one
//! `SHA256SUMS` over every file of the bundle (those of the host bundles included), signed with
//! the same key as the host manifests when one is given.
//!
//! Everything is assembled in one hidden staging directory beside the destination and renamed
//! into place at the end ([`crate::bundle::staging_dir`]), so a fleet bundle, like a host bundle,
//! is either complete or absent; an existing bundle is never overwritten.

use std::path::{Path, PathBuf};

use crate::bundle::{self, BundleError, MANIFEST, SIGNATURE};
use crate::render::RenderError;
use crate::sign::Signer;

use super::{FleetAssessment, HOSTS_DIR};

/// A fleet bundle being written.
pub struct FleetBundle {
    target: PathBuf,
    staging: tempfile::TempDir,
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
        })
    }

    /// Where the host bundle of `dir` (a name from [`super::names::assign`]) is written.
    pub fn host_path(&self, dir: &str) -> PathBuf {
        self.staging.path().join(HOSTS_DIR).join(dir)
    }

    /// Writes the fleet assessment and `reports`, the manifest over everything and its
    /// signature, and renames the bundle into place. Returns the top-level files written.
    pub fn finish(
        self,
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
        bundle::write_new_file(&root.join(bundle::ASSESSMENT_FILE), &json)?;
        let mut files = vec![bundle::ASSESSMENT_FILE.to_string()];
        for (name, write) in reports {
            let bytes = write(fleet).map_err(|e| render(name, e))?;
            bundle::write_new_file(&root.join(name), &bytes)?;
            files.push(name.to_string());
        }
        let manifest = manifest(root)?;
        bundle::write_new_file(&root.join(MANIFEST), manifest.as_bytes())?;
        files.push(MANIFEST.to_string());
        if let Some(signer) = signer {
            let signature = signer.sign(manifest.as_bytes())?;
            bundle::write_new_file(&root.join(SIGNATURE), signature.as_bytes())?;
            files.push(SIGNATURE.to_string());
        }
        bundle::commit(self.staging, &self.target)?;
        Ok(files)
    }
}

/// `sha256sum` lines for every file under `root`, sorted by path, `/`-separated.
fn manifest(root: &Path) -> Result<String, BundleError> {
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
        lines.push((name, bundle::sha256_file(entry.path())?));
    }
    lines.sort();
    Ok(lines
        .into_iter()
        .map(|(name, sha)| format!("{sha}  {name}\n"))
        .collect())
}
