//! Package inventory of an image: the operating system and the OS packages installed in it, read
//! from the image export stream (`GET /images/{name}/get`).
//!
//! This module owns the inventory model stored in the snapshot and the pure reading of an export
//! stream ([`read_export`]): it takes any `Read` of the tar the engine writes and never talks to
//! the engine itself (`collect` streams the export into it). The stream is read once, front to
//! back; metadata documents are small and kept in memory (each at most [`MAX_METADATA`]), layers
//! are hashed and scanned as they pass, and only the few files the inventory needs (os-release
//! and package databases) are spooled to a private temporary directory. Memory therefore stays
//! bounded whatever the image size.
//!
//! What the inventory covers: OS packages recorded by dpkg, apk and rpm (sqlite and Berkeley DB
//! databases; not SUSE's ndb). It
//! never reads language packages (jars, wheels, node modules, Go binaries): a vulnerability in
//! those needs an imported scanner report. Every database or layer that could not be read is a
//! gap on the inventory, and an inventory with gaps is incomplete, never taken for "no packages".

mod apk;
mod bdb;
mod dpkg;
mod export;
mod layers;
mod osrelease;
mod rpm;

use serde::{Deserialize, Serialize};

pub use export::{read_export, Expected, ExportError};

/// Largest metadata document (manifest, index, image config) read from an export.
pub const MAX_METADATA: u64 = 4 * 1024 * 1024;
/// Largest single file (package database, os-release) spooled out of a layer.
pub const MAX_CAPTURED_FILE: u64 = 256 * 1024 * 1024;

/// What the inventory reads and what it leaves out, for reports.
pub const COVERAGE: &str = "OS packages recorded by dpkg, apk and rpm (sqlite and Berkeley DB); \
    language packages (jars, Python, Node.js, Go modules) are not read, so vulnerabilities in \
    them need an imported scanner report";

/// The package inventory of one image.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImageInventory {
    /// Image id (`sha256:...`) as the engine reports it.
    pub image_id: String,
    /// Tags of the image at collection time.
    #[serde(default)]
    pub repo_tags: Vec<String>,
    /// Registry digests of the image at collection time (`name@sha256:...`).
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// Export layout the engine wrote: `docker-save` (Engine before 25) or `oci`.
    pub layout: Option<String>,
    /// Uncompressed layer digests applied, bottom first (the image's `RootFS.Layers`).
    #[serde(default)]
    pub layers: Vec<String>,
    /// The operating system named by `/etc/os-release` (or `/usr/lib/os-release`).
    pub os: Option<OsRelease>,
    /// Package databases found and read.
    #[serde(default)]
    pub databases: Vec<PackageDb>,
    /// Installed packages, sorted by format, name, architecture and version.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// What could not be read (a layer missing from the export, a database in a format that is
    /// not read, a malformed record). Non-empty means the inventory is incomplete.
    #[serde(default)]
    pub gaps: Vec<String>,
}

impl ImageInventory {
    /// Whether everything the inventory looked for was read.
    pub fn complete(&self) -> bool {
        self.gaps.is_empty()
    }

    /// A short name for people and file names: the first tag, else the short id.
    pub fn display_name(&self) -> String {
        self.repo_tags
            .iter()
            .find(|t| t.as_str() != "<none>:<none>")
            .cloned()
            .unwrap_or_else(|| short_id(&self.image_id).to_string())
    }
}

/// The first 12 hex digits of an image id.
pub fn short_id(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

/// The fields of os-release that identify a distribution and its release.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OsRelease {
    /// `ID` (`debian`, `alpine`, `rhel`, ...).
    pub id: String,
    /// `VERSION_ID` (`10`, `3.19.1`, `8.9`).
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`buster`).
    pub version_codename: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split on spaces.
    #[serde(default)]
    pub id_like: Vec<String>,
    /// Path the file was read from (after following symlinks).
    pub path: String,
}

/// Which package manager recorded a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageFormat {
    /// Debian and derivatives (`/var/lib/dpkg`).
    Deb,
    /// Alpine (`/lib/apk/db/installed`).
    Apk,
    /// Red Hat family and SUSE (`rpmdb.sqlite`).
    Rpm,
}

impl PackageFormat {
    /// The package URL type (`deb`, `apk`, `rpm`), which is also the serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageFormat::Deb => "deb",
            PackageFormat::Apk => "apk",
            PackageFormat::Rpm => "rpm",
        }
    }
}

/// One package database that was read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PackageDb {
    pub format: PackageFormat,
    /// Path inside the image (after following symlinks).
    pub path: String,
    /// Packages it listed as installed.
    pub packages: usize,
}

/// One installed OS package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub format: PackageFormat,
    /// Binary package name (`libssl1.0.0`).
    pub name: String,
    /// Installed version as the package manager prints it (dpkg `1:2.3-4`, apk `1.2.3-r0`,
    /// rpm `[epoch:]version-release`).
    pub version: String,
    /// Architecture (`amd64`, `x86_64`, `all`, `noarch`).
    pub arch: Option<String>,
    /// Source package the binary was built from (dpkg `Source:`, apk origin, rpm source RPM
    /// name); advisories are filed under it.
    pub source_name: Option<String>,
    /// Version of the source package, when it differs from `version` or is known separately.
    pub source_version: Option<String>,
}

impl Package {
    /// The name advisories use for this package: the source package, else the binary name.
    pub fn advisory_name(&self) -> &str {
        self.source_name.as_deref().unwrap_or(&self.name)
    }

    /// The version advisories compare against: the source version, else the binary version.
    pub fn advisory_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

#[cfg(test)]
mod tests;
