//! View models of the waiver and attestation registers and of the trend chart: every entry
//! supplied, with its state, and each framework's score over earlier scans as SVG geometry
//! (computed here so the template only prints numbers). Host and file strings stay plain text;
//! the template escapes them.

use serde::Serialize;

use super::view::iso;
use crate::assessment::{Assessment, AttestationState, TrendPoint, WaiverState};

#[derive(Serialize)]
pub(super) struct WaiverView {
    id: String,
    /// Target of the "waived by" links in the findings.
    anchor: String,
    check_id: String,
    /// Scope as `key value` lines; empty means every resource the check applies to.
    scope: Vec<String>,
    justification: String,
    compensating_control: Option<String>,
    approved_by: Option<String>,
    granted: Option<String>,
    expires: Option<String>,
    risk: Option<&'static str>,
    ticket: Option<String>,
    source: String,
    state: &'static str,
    state_label: &'static str,
    covered: usize,
}

#[derive(Serialize)]
pub(super) struct AttestationView {
    framework: String,
    requirement: String,
    verdict: &'static str,
    attested_by: String,
    date: String,
    expires: Option<String>,
    evidence: String,
    /// The evidence as a link, when it is an `https://` URL.
    evidence_href: Option<String>,
    notes: Option<String>,
    source: String,
    state: &'static str,
    state_label: &'static str,
}

pub(super) fn waivers(a: &Assessment) -> Vec<WaiverView> {
    a.waivers
        .iter()
        .map(|w| WaiverView {
            id: w.id.clone(),
            anchor: super::findings::waiver_anchor(&w.id),
            check_id: w.check_id.clone(),
            scope: w.scope.lines(),
            justification: w.justification.clone(),
            compensating_control: w.compensating_control.clone(),
            approved_by: w.approved_by.clone(),
            granted: w.granted.map(|d| d.to_string()),
            expires: w.expires.map(|d| d.to_string()),
            risk: w.risk.map(|r| r.as_str()),
            ticket: w.ticket.clone(),
            source: w.source.clone(),
            state: w.state.as_str(),
            state_label: w.state.label(),
            covered: w.covered,
        })
        .collect()
}

pub(super) fn attestations(a: &Assessment) -> Vec<AttestationView> {
    a.attestations
        .iter()
        .map(|t| AttestationView {
            framework: t.framework.clone(),
            requirement: t.requirement.clone(),
            verdict: t.verdict.as_str(),
            attested_by: t.attested_by.clone(),
            date: t.date.to_string(),
            expires: t.expires.map(|d| d.to_string()),
            evidence: t.evidence.clone(),
            evidence_href: super::view::https_only(&t.evidence),
            notes: t.notes.clone(),
            source: t.source.clone(),
            state: t.state.as_str(),
            state_label: t.state.label(),
        })
        .collect()
}

/// Counts for the registers' headings.
#[derive(Serialize)]
pub(super) struct RegisterCounts {
    waivers_active: usize,
    waivers_flagged: usize,
    attestations_applied: usize,
}

pub(super) fn register_counts(a: &Assessment) -> RegisterCounts {
    RegisterCounts {
        waivers_active: a
            .waivers
            .iter()
            .filter(|w| w.state == WaiverState::Active)
            .count(),
        waivers_flagged: a
            .waivers
            .iter()
            .filter(|w| w.state != WaiverState::Active)
            .count(),
        attestations_applied: a
            .attestations
            .iter()
            .filter(|t| t.state == AttestationState::Applied)
            .count(),
    }
}

/// The trend chart: an SVG `WIDTH` × `HEIGHT` user units, one polyline per framework.
#[derive(Serialize)]
pub(super) struct TrendView {
    width: u32,
    height: u32,
    /// Text alternative for the chart.
    label: String,
    lines: Vec<TrendLine>,
    /// Horizontal grid lines at quarters of the largest count.
    grid: Vec<GridLine>,
    /// Where the catalogs changed between two scans: a dashed vertical line at each x, so that
    /// figures do not seem to move on their own.
    catalog_changes: Vec<u32>,
    /// One tick per scan, oldest first; the last is this scan.
    ticks: Vec<Tick>,
    /// The table under the chart, newest first.
    rows: Vec<TrendRow>,
    framework_names: Vec<String>,
}

#[derive(Serialize)]
struct TrendLine {
    name: String,
    class: String,
    points: String,
    dots: Vec<Dot>,
}

#[derive(Serialize)]
struct Dot {
    x: u32,
    y: u32,
    title: String,
}

#[derive(Serialize)]
struct GridLine {
    y: u32,
    label: String,
}

#[derive(Serialize)]
struct Tick {
    x: u32,
    /// `text-anchor`: the first and last labels are kept inside the chart.
    anchor: &'static str,
    label: String,
}

#[derive(Serialize)]
struct TrendRow {
    collected: String,
    source: String,
    failed: usize,
    waived: usize,
    /// Whether this scan used other catalogs than the scan before it.
    catalog_changed: bool,
    scores: Vec<String>,
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 240;
const LEFT: u32 = 48;
const RIGHT: u32 = 20;
const TOP: u32 = 12;
const PLOT_H: u32 = 190;

/// What the trend plots: requirements the evidence shows not in place (waived or not). A count,
/// lower is better; not a percentage, which manual requirements would drag down.
fn plotted(f: &crate::assessment::Figures) -> usize {
    f.not_in_place
}

/// The trend over the earlier scans and this one, or `None` without history.
pub(super) fn trend(a: &Assessment) -> Option<TrendView> {
    if a.trend.is_empty() {
        return None;
    }
    let mut points: Vec<TrendPoint> = a.trend.clone();
    points.push(a.trend_point("this scan"));
    let n = points.len();
    let span = WIDTH - LEFT - RIGHT;
    let x_of = |i: usize| -> u32 {
        if n == 1 {
            LEFT + span / 2
        } else {
            LEFT + (i as u32 * span) / (n as u32 - 1)
        }
    };
    let max = points
        .iter()
        .flat_map(|p| p.frameworks.iter().map(|s| plotted(&s.figures)))
        .max()
        .unwrap_or(0)
        .max(4);
    let y_of = |v: usize| TOP + PLOT_H - (v * PLOT_H as usize / max) as u32;
    let lines = a
        .frameworks
        .iter()
        .enumerate()
        .map(|(k, fw)| {
            let mut coords = Vec::new();
            let mut dots = Vec::new();
            for (i, p) in points.iter().enumerate() {
                if let Some(s) = p.frameworks.iter().find(|s| s.id == fw.id) {
                    let (x, y) = (x_of(i), y_of(plotted(&s.figures)));
                    coords.push(format!("{x},{y}"));
                    dots.push(Dot {
                        x,
                        y,
                        title: format!(
                            "{}: {} of {} requirements not in place on {}",
                            fw.name,
                            s.figures.not_in_place,
                            s.figures.requirements,
                            iso(&p.collected_at)
                        ),
                    });
                }
            }
            TrendLine {
                name: format!("{} {}", fw.name, fw.version),
                class: format!("series-{}", k % 4),
                points: coords.join(" "),
                dots,
            }
        })
        .collect();
    let grid = (0..=4)
        .map(|q| {
            let v = max * q / 4;
            GridLine {
                y: y_of(v),
                label: v.to_string(),
            }
        })
        .collect();
    let catalog_changes = (0..n)
        .filter(|&i| TrendPoint::catalog_changed(&points, i))
        .map(x_of)
        .collect();
    // Label at most about ten ticks so the dates stay legible.
    let every = n.div_ceil(10).max(1);
    let ticks = (0..n)
        .filter(|i| i % every == 0 || *i == n - 1)
        .map(|i| Tick {
            x: x_of(i),
            anchor: match i {
                0 if n > 1 => "start",
                i if i == n - 1 && n > 1 => "end",
                _ => "middle",
            },
            label: points[i].collected_at.format("%Y-%m-%d").to_string(),
        })
        .collect();
    let rows = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| TrendRow {
            catalog_changed: TrendPoint::catalog_changed(&points, i),
            collected: iso(&p.collected_at),
            source: p.source.clone(),
            failed: p
                .by_status
                .get(&crate::assessment::Status::Fail)
                .copied()
                .unwrap_or(0),
            waived: p.waived,
            scores: a
                .frameworks
                .iter()
                .map(|fw| {
                    p.frameworks
                        .iter()
                        .find(|s| s.id == fw.id)
                        .map_or("not evaluated".into(), |s| s.figures.short())
                })
                .collect(),
        })
        .collect();
    let label = format!(
        "Requirements not in place per evidence, per framework, over {n} scans, from {} to {}",
        iso(&points[0].collected_at),
        iso(&points[n - 1].collected_at)
    );
    Some(TrendView {
        width: WIDTH,
        height: HEIGHT,
        label,
        lines,
        grid,
        catalog_changes,
        ticks,
        rows,
        framework_names: a.frameworks.iter().map(|f| f.name.clone()).collect(),
    })
}
