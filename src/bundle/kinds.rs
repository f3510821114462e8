//! The kinds of bundle and the files each must hold, defined once: the writer checks that it
//! wrote them and `verify` fails a bundle whose manifest does not list them.
//!
//! Today there is one kind, the host bundle. A fleet bundle (`hosts/<name>/` per target) and
//! image evidence (`sbom/`) add their mandatory files here, with the rule that recognises them
//! in [`BundleKind::of_listing`], and nowhere else.

use std::collections::BTreeSet;

/// Name of the assessment in a bundle.
pub const ASSESSMENT_FILE: &str = "assessment.json";

/// What a bundle is, recognised from the files its manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// One engine and its host: `dockproof scan` or `report`.
    Host,
}

impl BundleKind {
    /// The files every bundle of this kind holds; an empty or trimmed manifest that leaves one
    /// out does not verify.
    pub fn mandatory(self) -> &'static [&'static str] {
        match self {
            BundleKind::Host => &[super::SNAPSHOT_FILE, ASSESSMENT_FILE],
        }
    }

    /// The kind's name in messages.
    pub fn label(self) -> &'static str {
        match self {
            BundleKind::Host => "host bundle",
        }
    }

    /// The kind of a bundle whose manifest lists `files`. Every listing is at least a host
    /// bundle: nothing a manifest leaves out can make the checks weaker.
    pub fn of_listing(_files: &BTreeSet<String>) -> BundleKind {
        BundleKind::Host
    }

    /// The mandatory files of this kind missing from `files`.
    pub fn missing(self, files: &BTreeSet<String>) -> Vec<&'static str> {
        self.mandatory()
            .iter()
            .copied()
            .filter(|f| !files.contains(*f))
            .collect()
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
}
