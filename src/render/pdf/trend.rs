//! The trend section of `report.pdf` (with `--history`): each framework's count of requirements
//! not in place over the earlier scans and this one, as grouped bars, then a table of the
//! figures with a mark where the catalogs changed. Left out when there is no history.

use chrono::SecondsFormat;

use super::layout::{Face, Pages, BLACK, GREY, MARGIN, TEXT_W};
use super::sections::{columns, BODY, SMALL};
use super::table::{Cell, Table};
use crate::assessment::{Assessment, Status, TrendPoint};

/// Scans shown in the chart and the table; older ones are counted.
const SHOWN: usize = 12;
const PALETTE: [(f32, f32, f32); 4] = [
    (0.16, 0.36, 0.62),
    (0.55, 0.35, 0.0),
    (0.18, 0.55, 0.34),
    (0.5, 0.25, 0.55),
];
const CHART_H: f32 = 120.0;

pub(super) fn trend(p: &mut Pages, a: &Assessment) {
    if a.trend.is_empty() {
        return;
    }
    let mut points: Vec<TrendPoint> = a.trend.clone();
    points.push(a.trend_point("this scan"));
    let hidden = points.len().saturating_sub(SHOWN);
    let points = &points[hidden..];

    p.new_page();
    p.heading("Trend", 16.0, Some("Trend"));
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        BODY,
        &format!(
            "Requirements not in place per evidence (waived or not), per framework, over the last \
             {} scans of this host, oldest first; the last is this scan. Scans marked * were \
             evaluated with other catalogs than the scan before them, so their figures may move \
             because the catalog did.{}",
            points.len(),
            if hidden > 0 {
                format!(
                    " {} not shown.",
                    super::counted(hidden, "older scan is", "older scans are")
                )
            } else {
                String::new()
            }
        ),
    );
    p.gap(10.0);

    // Legend.
    let mut x = MARGIN;
    for (i, fw) in a.frameworks.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        p.rect(x, p.y - 1.0, 8.0, 8.0, color);
        p.text_at(x + 11.0, p.y - 8.0, Face::Sans, SMALL, BLACK, &fw.name);
        x += 14.0 + p.fonts.width(Face::Sans, SMALL, &fw.name) + 12.0;
    }
    p.gap(16.0);

    // Grouped bars: one group per scan, one bar per framework, 0 to the largest count.
    let max = points
        .iter()
        .flat_map(|p| p.frameworks.iter().map(|s| s.figures.not_in_place))
        .max()
        .unwrap_or(0)
        .max(2);
    p.ensure(CHART_H + 30.0);
    let axis_w = 28.0;
    let base = p.y - CHART_H;
    for v in [0, max / 2, max] {
        let y = base + CHART_H * v as f32 / max as f32;
        p.text_at(MARGIN, y - 3.0, Face::Sans, 7.0, GREY, &v.to_string());
        p.rect(
            MARGIN + axis_w,
            y + 0.25,
            TEXT_W - axis_w,
            0.5,
            (0.8, 0.8, 0.82),
        );
    }
    let group_w = (TEXT_W - axis_w) / points.len() as f32;
    let bar_w = ((group_w - 6.0) / a.frameworks.len().max(1) as f32).min(14.0);
    for (g, point) in points.iter().enumerate() {
        let gx = MARGIN + axis_w + g as f32 * group_w + 3.0;
        for (i, fw) in a.frameworks.iter().enumerate() {
            let count = point
                .frameworks
                .iter()
                .find(|s| s.id == fw.id)
                .map(|s| s.figures.not_in_place);
            if let Some(count) = count {
                let h = (CHART_H * count as f32 / max as f32).max(0.8);
                p.rect(
                    gx + i as f32 * bar_w,
                    base + h,
                    bar_w - 1.0,
                    h,
                    PALETTE[i % PALETTE.len()],
                );
            }
        }
        let mut day = point.collected_at.format("%m-%d").to_string();
        if TrendPoint::catalog_changed(points, g) {
            day.push('*');
        }
        let time = point.collected_at.format("%H:%M").to_string();
        p.text_at(gx, base - 9.0, Face::Sans, 7.0, GREY, &day);
        p.text_at(gx, base - 17.0, Face::Sans, 7.0, GREY, &time);
    }
    p.y = base - 30.0;

    let mut spec: Vec<(&'static str, f32)> = vec![("Collected (UTC)", 110.0), ("Failed", 50.0)];
    let names: Vec<&'static str> = ["Framework 1", "Framework 2", "Framework 3", "Framework 4"]
        .into_iter()
        .take(a.frameworks.len().min(4))
        .collect();
    let w = (TEXT_W - 160.0) / names.len().max(1) as f32;
    spec.extend(names.iter().map(|n| (*n, w)));
    let mut t = Table::start(p, columns(&spec), SMALL);
    for (i, point) in points.iter().enumerate().rev() {
        let mut when = point
            .collected_at
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        if TrendPoint::catalog_changed(points, i) {
            when.push_str(" *");
        }
        let mut cells = vec![
            Cell::plain(when),
            Cell::plain(
                point
                    .by_status
                    .get(&Status::Fail)
                    .copied()
                    .unwrap_or(0)
                    .to_string(),
            ),
        ];
        for fw in a.frameworks.iter().take(4) {
            let text = point
                .frameworks
                .iter()
                .find(|s| s.id == fw.id)
                .map_or("not evaluated".to_string(), |s| s.figures.short());
            cells.push(Cell::plain(text));
        }
        t.row(p, &cells);
    }
    t.end(p);
    p.gap(4.0);
    let key: Vec<String> = a
        .frameworks
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, f)| format!("Framework {}: {} {}", i + 1, f.name, f.version))
        .collect();
    p.paragraph(MARGIN, TEXT_W, Face::Sans, SMALL, &key.join("; "));
}
