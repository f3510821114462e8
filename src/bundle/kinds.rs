//! The kinds of bundle and the files each must hold, defined once: the writer checks that it
//! wrote them and `verify` fails a bundle whose manifest does not list them.
//!
//! A host bundle holds its snapshot and assessment. A fleet bundle is recognised by the host
//! bundles its manifest lists under `hosts/`; it holds the fleet assessment, and every host
//! directory it lists must list that host's snapshot, assessment and manifest too, so a trimmed
//! fleet manifest cannot hide a host's evidence while keeping the host.

use std::collections::BTreeSet;

/// Name of the assessment in a bundle.
pub const ASSESSMENT_FILE: &str = "assessment.json";

/// Where a fleet bundle keeps its host bundles.
const HOSTS_PREFIX: &str = "hosts/";

/// What a bundle is, recognised from the files its manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// One engine and its host: `dockproof scan` or `report`.
    Host,
    /// Many hosts: `scan --targets` or `report` over several snapshots.
    Fleet,
}

impl BundleKind {
    /// The files every bundle of this kind holds; an empty or trimmed manifest that leaves one
    /// out does not verify.
    pub fn mandatory(self) -> &'static [&'static str] {
        match self {
            BundleKind::Host => &[super::SNAPSHOT_FILE, ASSESSMENT_FILE],
            BundleKind::Fleet => &[ASSESSMENT_FILE],
        }
    }

    /// The kind's name in messages.
    pub fn label(self) -> &'static str {
        match self {
            BundleKind::Host => "host bundle",
            BundleKind::Fleet => "fleet bundle",
        }
    }

    /// The kind of a bundle whose manifest lists `files`: a fleet when it lists anything under
    /// `hosts/`, otherwise a host bundle. Nothing a manifest leaves out can make the checks
    /// weaker: without `hosts/` entries the host bundle's files are required.
    pub fn of_listing(files: &BTreeSet<String>) -> BundleKind {
        if files.iter().any(|f| f.starts_with(HOSTS_PREFIX)) {
            BundleKind::Fleet
        } else {
            BundleKind::Host
        }
    }

    /// The mandatory files of this kind missing from `files`; for a fleet, also each listed
    /// host's own mandatory files and manifest.
    pub fn missing(self, files: &BTreeSet<String>) -> Vec<String> {
        let mut missing: Vec<String> = self
            .mandatory()
            .iter()
            .filter(|f| !files.contains(**f))
            .map(|f| f.to_string())
            .collect();
        if self == BundleKind::Fleet {
            let hosts: BTreeSet<&str> = files
                .iter()
                .filter_map(|f| f.strip_prefix(HOSTS_PREFIX)?.split_once('/'))
                .map(|(host, _)| host)
                .collect();
            for host in hosts {
                for file in BundleKind::Host
                    .mandatory()
                    .iter()
                    .chain([&super::MANIFEST])
                {
                    let path = format!("{HOSTS_PREFIX}{host}/{file}");
                    if !files.contains(&path) {
                        missing.push(path);
                    }
                }
            }
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_bundle_needs_its_snapshot_and_assessment() {
        let listed: BTreeSet<String> = ["snapshot.json".to_string(), "report.html".to_string()]
            .into_iter()
            .collect();
        let kind = BundleKind::of_listing(&listed);
        assert_eq!(kind, BundleKind::Host);
        assert_eq!(kind.missing(&listed), vec!["assessment.json"]);
        assert_eq!(
            kind.missing(&BTreeSet::new()),
            vec!["snapshot.json", "assessment.json"]
        );
    }

    #[test]
    fn a_fleet_bundle_needs_its_assessment_and_each_host_its_own_files() {
        let listed: BTreeSet<String> = [
            "assessment.json",
            "hosts/a/snapshot.json",
            "hosts/a/assessment.json",
            "hosts/a/SHA256SUMS",
            "hosts/b/report.html",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let kind = BundleKind::of_listing(&listed);
        assert_eq!(kind, BundleKind::Fleet);
        assert_eq!(
            kind.missing(&listed),
            vec![
                "hosts/b/snapshot.json",
                "hosts/b/assessment.json",
                "hosts/b/SHA256SUMS"
            ]
        );
    }
}
