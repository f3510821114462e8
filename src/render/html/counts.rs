//! Counts as people read them: display labels of statuses and severities, count chips, and the
//! geometry of the summary's inline SVG charts (computed here so the template only prints numbers).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::assessment::{RequirementState, Severity, Status, Vocabulary};

/// A label with its count, for legends and badges.
#[derive(Serialize)]
pub(super) struct Chip {
    pub(super) key: &'static str,
    pub(super) label: &'static str,
    pub(super) count: usize,
}

/// A horizontal bar chart, in SVG user units (the SVG is `CHART_WIDTH` wide).
#[derive(Serialize)]
pub(super) struct Chart {
    height: u32,
    /// Text alternative: every label with its count.
    label: String,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    key: &'static str,
    label: &'static str,
    count: usize,
    y: u32,
    width: u32,
    text_x: u32,
}

/// One segment of a stacked bar whose SVG is 1000 units wide.
#[derive(Serialize)]
pub(super) struct Segment {
    /// The state (`risk_accepted`).
    key: &'static str,
    /// Its colour family (`accepted`).
    tone: &'static str,
    label: &'static str,
    count: usize,
    /// `12 of 280`: a count with its denominator, never a bare percentage.
    of_total: String,
    x: u32,
    width: u32,
}

/// Where bars start (labels are right-aligned before it) and how long the longest bar is.
const LABEL_WIDTH: u32 = 120;
const BAR_MAX: u32 = 360;
const ROW: u32 = 26;
/// Shortest bar drawn for a non-zero count, so it is never read as zero.
const BAR_MIN: u32 = 3;

/// Chips for the non-zero counts, in [`Status::ALL`] order (what needs attention first).
pub(super) fn status_chips(counts: &BTreeMap<Status, usize>) -> Vec<Chip> {
    Status::ALL
        .iter()
        .filter_map(|s| {
            let count = counts.get(s).copied().unwrap_or(0);
            (count > 0).then(|| Chip {
                key: s.as_str(),
                label: s.label(),
                count,
            })
        })
        .collect()
}

/// Result counts by status, every status shown.
pub(super) fn status_chart(counts: &BTreeMap<Status, usize>) -> Chart {
    let rows = Status::ALL.iter().map(|s| {
        let n = counts.get(s).copied().unwrap_or(0);
        (s.as_str(), s.label(), n)
    });
    chart("Results by status", rows.collect())
}

/// Failed result counts by severity, every severity shown.
pub(super) fn severity_chart(counts: &BTreeMap<Severity, usize>) -> Chart {
    let rows = Severity::ALL.iter().map(|s| {
        let n = counts.get(s).copied().unwrap_or(0);
        (s.as_str(), s.label(), n)
    });
    chart("Failed results by severity", rows.collect())
}

fn chart(name: &str, rows: Vec<(&'static str, &'static str, usize)>) -> Chart {
    let max = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1) as u64;
    let label = rows
        .iter()
        .map(|(_, l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let bars: Vec<Bar> = rows
        .into_iter()
        .zip(0u32..)
        .map(|((key, label, count), i)| {
            let width = match count as u64 {
                0 => 0,
                n => ((n * u64::from(BAR_MAX) / max) as u32).max(BAR_MIN),
            };
            Bar {
                key,
                label,
                count,
                y: i * ROW + 4,
                width,
                text_x: LABEL_WIDTH + width + 6,
            }
        })
        .collect();
    Chart {
        height: bars.len() as u32 * ROW + 8,
        label: format!("{name}: {label}"),
        bars,
    }
}

/// Requirement counts as a stacked bar, in [`RequirementState::ALL`] order, coloured by tone and
/// labelled in the framework's words. Segment edges are rounded from cumulative counts, so the
/// segments always tile the full width without gaps.
pub(super) fn requirement_segments(
    counts: &BTreeMap<RequirementState, usize>,
    total: usize,
    vocabulary: Vocabulary,
) -> Vec<Segment> {
    let edge = |n: usize| (n * 1000).checked_div(total).unwrap_or(0) as u32;
    let mut cumulative = 0;
    RequirementState::ALL
        .iter()
        .map(|s| {
            let count = counts.get(s).copied().unwrap_or(0);
            let x = edge(cumulative);
            cumulative += count;
            Segment {
                key: s.as_str(),
                tone: s.tone().as_str(),
                label: s.label(vocabulary),
                count,
                of_total: format!("{count} of {total}"),
                x,
                width: edge(cumulative) - x,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_count_and_keep_small_ones_visible() {
        let counts = BTreeMap::from([(Status::Fail, 1000), (Status::Pass, 1)]);
        let c = status_chart(&counts);
        let widths: Vec<(&str, u32)> = c.bars.iter().map(|b| (b.key, b.width)).collect();
        assert_eq!(
            widths,
            [
                ("fail", 360),
                ("error", 0),
                ("manual", 0),
                ("pass", 3),
                ("not_applicable", 0)
            ]
        );
        assert_eq!(c.height, 5 * ROW + 8);
        assert_eq!(
            c.label,
            "Results by status: Fail 1000, Error 0, Manual 0, Pass 1, Not applicable 0"
        );
    }

    #[test]
    fn segments_tile_the_width() {
        let counts = BTreeMap::from([
            (RequirementState::NotInPlace, 1),
            (RequirementState::ConsistentWithInPlace, 1),
            (RequirementState::AwaitingManualEvidence, 1),
        ]);
        let s = requirement_segments(&counts, 3, Vocabulary::PciDss);
        let total: u32 = s.iter().map(|s| s.width).sum();
        assert_eq!(total, 1000);
        assert_eq!(s[0].of_total, "1 of 3");
        assert_eq!((s[0].key, s[0].tone), ("not_in_place", "bad"));
        let s = requirement_segments(
            &BTreeMap::from([(RequirementState::RiskAccepted, 1)]),
            6,
            Vocabulary::Benchmark,
        );
        assert_eq!(s[2].of_total, "1 of 6");
        assert_eq!((s[2].key, s[2].tone), ("risk_accepted", "accepted"));
        assert!(
            requirement_segments(&BTreeMap::new(), 0, Vocabulary::Generic)
                .iter()
                .all(|s| s.width == 0)
        );
    }
}
