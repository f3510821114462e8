//! The closed lists of real requirement ids of the frameworks dockproof ships: PCI DSS v4.0.1,
//! the HIPAA Security Rule and CIS Docker Benchmark v1.6.0, compiled into the binary from
//! `ids/*.txt` (each file says where its list comes from). `controls lint` checks framework files
//! and check references against them, so a made-up or mistyped id cannot reach a report.

use std::collections::BTreeMap;

/// Framework id of the CIS Docker Benchmark file, the one check references point into.
pub const CIS_FRAMEWORK: &str = "cis-docker-1.6";

/// One framework's list of real ids, each with the extra words of its line (the HIPAA level,
/// the PCI service-provider marker).
#[derive(Debug)]
pub struct ClosedList {
    /// Name of the source file, for messages (`src/catalog/ids/pci-dss-4.0.1.txt`).
    pub file: &'static str,
    /// What the ids are, for messages (`PCI DSS v4.0.1 requirement`).
    pub what: &'static str,
    pub entries: BTreeMap<&'static str, Vec<&'static str>>,
}

impl ClosedList {
    fn parse(file: &'static str, what: &'static str, text: &'static str) -> ClosedList {
        let entries = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut words = l.split_whitespace();
                words.next().map(|id| (id, words.collect()))
            })
            .collect();
        ClosedList {
            file,
            what,
            entries,
        }
    }

    /// Whether `id` is on the list.
    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Whether the line of `id` carries `word` (e.g. `service-provider`, `addressable`).
    pub fn has(&self, id: &str, word: &str) -> bool {
        self.entries
            .get(id)
            .is_some_and(|words| words.contains(&word))
    }

    /// The HIPAA level (`required` or `addressable`) of a citation.
    pub fn level(&self, id: &str) -> Option<&'static str> {
        self.entries.get(id).and_then(|words| {
            words
                .iter()
                .copied()
                .find(|w| *w == "required" || *w == "addressable")
        })
    }
}

/// The closed list of a framework id, if dockproof ships one for it.
pub fn for_framework(framework_id: &str) -> Option<ClosedList> {
    match framework_id {
        "pci-dss-4.0.1" => Some(ClosedList::parse(
            "src/catalog/ids/pci-dss-4.0.1.txt",
            "PCI DSS v4.0.1 requirement",
            include_str!("ids/pci-dss-4.0.1.txt"),
        )),
        "hipaa-security-rule" => Some(ClosedList::parse(
            "src/catalog/ids/hipaa-security-rule.txt",
            "HIPAA Security Rule standard or implementation specification",
            include_str!("ids/hipaa-security-rule.txt"),
        )),
        CIS_FRAMEWORK => Some(ClosedList::parse(
            "src/catalog/ids/cis-docker-1.6.txt",
            "CIS Docker Benchmark v1.6.0 recommendation",
            include_str!("ids/cis-docker-1.6.txt"),
        )),
        _ => None,
    }
}
