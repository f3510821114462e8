//! Keeping one SARIF run within what a code-scanning service accepts.
//!
//! GitHub code scanning rejects an upload with more than 25,000 results in a run or a file over
//! 10 MB once gzipped. A host with a thousand containers can exceed either, and a rejected upload
//! shows nothing at all, so the run is cut down instead: results are ranked (unwaived failures by
//! severity, then waived failures, then errors, each most severe first, the assessment's order
//! breaking ties), the first that fit are kept, and the run states what was left out and where
//! the full list is. Nothing is cut when the run fits; the results then keep the assessment's
//! order.
//!
//! This module decides how many results fit; it never changes a result.

use std::cmp::Reverse;
use std::io::{self, Write};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::assessment::{CheckResult, Severity, Status};

/// The most a run may hold to be accepted as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Results in the run.
    pub max_results: usize,
    /// Size of the whole file once gzipped, in bytes.
    pub max_gzip_bytes: u64,
}

impl Limits {
    /// GitHub code scanning's upload limits: 25,000 results per run, 10 MB gzipped (read as
    /// 10,000,000 bytes, the stricter reading).
    pub const GITHUB: Limits = Limits {
        max_results: 25_000,
        max_gzip_bytes: 10_000_000,
    };
}

/// Where a result ranks when not every result fits; lower ranks are kept first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Rank {
    /// 0 unwaived failure, 1 waived failure, 2 error.
    class: u8,
    severity: Reverse<Severity>,
}

impl Rank {
    /// The rank of one reported result (a failure or an error).
    pub(super) fn of(r: &CheckResult) -> Rank {
        let class = match (r.status, r.waiver.is_some()) {
            (Status::Fail, false) => 0,
            (Status::Fail, true) => 1,
            _ => 2,
        };
        Rank {
            class,
            severity: Reverse(r.severity),
        }
    }
}

/// What a cut-down run left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Truncation {
    /// Results the assessment reports (failures and errors).
    pub total: usize,
    /// Results written to the run.
    pub kept: usize,
    /// The limits that forced the cut.
    pub limits: Limits,
}

impl Truncation {
    /// Results left out of the run.
    pub fn omitted(&self) -> usize {
        self.total - self.kept
    }
}

/// The items in the order they are kept when only some fit: by rank, ties in the order given
/// (the sort is stable).
pub(super) fn by_priority<T>(mut items: Vec<(Rank, T)>) -> Vec<T> {
    items.sort_by_key(|(rank, _)| *rank);
    items.into_iter().map(|(_, item)| item).collect()
}

/// How many results to try after a file of `gzip_bytes` holding `kept` results was too large:
/// proportionally fewer, with a margin so the next try usually fits, and always fewer than now.
pub(super) fn fewer(kept: usize, gzip_bytes: u64, limits: Limits) -> usize {
    let ratio = limits.max_gzip_bytes as f64 / gzip_bytes.max(1) as f64;
    let estimate = (kept as f64 * ratio * 0.95).floor() as usize;
    estimate.min(kept.saturating_sub(1))
}

/// Whether `bytes` stay within the gzip limit. A file no larger than the limit always does
/// (gzip's own overhead is below the margin kept), so only larger files are compressed; the
/// fast level gives a size at least as large as the default level a service would use.
pub(super) fn gzip_size_within(bytes: &[u8], limits: Limits) -> io::Result<Option<u64>> {
    const GZIP_OVERHEAD: u64 = 64;
    if bytes.len() as u64 + GZIP_OVERHEAD <= limits.max_gzip_bytes {
        return Ok(None);
    }
    let mut encoder = GzEncoder::new(ByteCount(0), Compression::fast());
    encoder.write_all(bytes)?;
    let size = encoder.finish()?.0;
    Ok((size > limits.max_gzip_bytes).then_some(size))
}

/// A writer that only counts what it is given.
struct ByteCount(u64);

impl Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::sarif::render_within;
    use crate::testing::sample_assessment;
    use serde_json::Value;

    const NO_SIZE_LIMIT: u64 = u64::MAX;

    fn render(limits: Limits) -> (Vec<u8>, Value) {
        let mut bytes = Vec::new();
        render_within(&sample_assessment(), limits, &mut bytes).expect("render");
        let doc = serde_json::from_slice(&bytes).expect("JSON");
        (bytes, doc)
    }

    fn rule_ids(doc: &Value) -> Vec<(String, String)> {
        doc["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().into(),
                    r["level"].as_str().unwrap().into(),
                )
            })
            .collect()
    }

    #[test]
    fn a_run_within_the_limits_is_whole_and_says_nothing_of_a_cut() {
        let (_, doc) = render(Limits::GITHUB);
        assert_eq!(rule_ids(&doc).len(), 5);
        assert!(doc["runs"][0].get("invocations").is_none());
        assert!(doc["runs"][0]["properties"].get("truncation").is_none());
    }

    #[test]
    fn above_the_result_limit_failures_are_kept_first_and_the_cut_is_stated() {
        let limits = Limits {
            max_results: 3,
            max_gzip_bytes: NO_SIZE_LIMIT,
        };
        let (_, doc) = render(limits);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            rule_ids(&doc),
            vec![
                s("container.privileged", "error"),
                s("container.privileged", "error"),
                s("daemon.icc", "warning"),
            ]
        );
        let run = &doc["runs"][0];
        let t = &run["properties"]["truncation"];
        assert_eq!(t["resultsReported"], 5);
        assert_eq!(t["resultsWritten"], 3);
        assert_eq!(t["resultsOmitted"], 2);
        assert_eq!(t["maxResults"], 3);
        assert_eq!(t["fullResults"], "assessment.json and findings.csv");
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "warning");
        assert!(note["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("2 of 5 results were left out of this run"));
        // Low before error: the failure outranks the error of a higher severity.
        let limits = Limits {
            max_results: 4,
            max_gzip_bytes: NO_SIZE_LIMIT,
        };
        let (_, doc) = render(limits);
        assert_eq!(rule_ids(&doc)[3], s("image.trusted-registry", "note"));
    }

    #[test]
    fn above_the_size_limit_results_are_dropped_until_the_file_fits() {
        let (whole, _) = render(Limits::GITHUB);
        let measure = |bytes: &[u8]| {
            let none = Limits {
                max_results: 0,
                max_gzip_bytes: 0,
            };
            gzip_size_within(bytes, none).unwrap().expect("measured")
        };
        let whole_size = measure(&whole);
        let limits = Limits {
            max_results: 25_000,
            max_gzip_bytes: whole_size - 50,
        };
        let (bytes, doc) = render(limits);
        assert!(measure(&bytes) <= limits.max_gzip_bytes);
        let kept = rule_ids(&doc).len();
        assert!((1..5).contains(&kept), "{kept}");
        let t = &doc["runs"][0]["properties"]["truncation"];
        assert_eq!(t["resultsWritten"], kept);
        assert_eq!(t["resultsOmitted"], 5 - kept);
        assert_eq!(t["maxGzipBytes"], whole_size - 50);
    }

    fn rank(status: Status, waived: bool, severity: Severity) -> Rank {
        let class = match (status, waived) {
            (Status::Fail, false) => 0,
            (Status::Fail, true) => 1,
            _ => 2,
        };
        Rank {
            class,
            severity: Reverse(severity),
        }
    }

    #[test]
    fn failures_rank_before_waived_failures_and_errors_most_severe_first() {
        let ranks = [
            rank(Status::Error, false, Severity::Critical),
            rank(Status::Fail, false, Severity::Low),
            rank(Status::Fail, true, Severity::Critical),
            rank(Status::Fail, false, Severity::Critical),
            rank(Status::Fail, false, Severity::Low),
            rank(Status::Error, false, Severity::Medium),
        ];
        let items = ranks.into_iter().zip(0..).collect();
        assert_eq!(by_priority(items), vec![3, 1, 4, 2, 0, 5]);
    }

    #[test]
    fn small_files_are_not_compressed_and_large_ones_are_measured() {
        let limits = Limits {
            max_results: 10,
            max_gzip_bytes: 1_000,
        };
        assert_eq!(gzip_size_within(&[b'a'; 900], limits).unwrap(), None);
        // Repetitive text compresses far below the limit.
        assert_eq!(gzip_size_within(&[b'a'; 50_000], limits).unwrap(), None);
        // Bytes that do not repeat stay about their size.
        let noise: Vec<u8> = (0u32..5_000)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let size = gzip_size_within(&noise, limits)
            .unwrap()
            .expect("too large");
        assert!(size > 1_000, "{size}");
    }

    #[test]
    fn fewer_always_shrinks() {
        let limits = Limits {
            max_results: 10,
            max_gzip_bytes: 1_000,
        };
        assert_eq!(fewer(100, 2_000, limits), 47);
        assert_eq!(fewer(1, 1_001, limits), 0);
        assert_eq!(fewer(10, 1_001, limits), 9);
    }
}
