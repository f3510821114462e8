//! Evidence in the short forms several formats share. Lives apart from any one renderer so
//! that formats do not borrow helpers from each other.

use crate::assessment::Evidence;

/// Evidence on one line: `label=value; label=value`, each value as compact JSON (`null` when the
/// value was absent). The caller neutralises it for its own format.
pub(crate) fn compact_evidence(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| format!("{}={}", e.label, e.value))
        .collect::<Vec<_>>()
        .join("; ")
}
