//! The trend section of `report.pdf` (with `--history`): each framework's score over the
//! earlier scans and this one, as grouped bars, then a table of the figures. Left out when there
//! is no history.

use chrono::SecondsFormat;

use super::layout::{Face, Pages, BLACK, GREY, MARGIN, TEXT_W};
use super::sections::{columns, BODY, SMALL};
use super::table::{Cell, Table};
use crate::assessment::{score_label, Assessment, Status, TrendPoint};

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
            "Score per framework (share of applicable requirements satisfied) over the last {} \
             scans of this host, oldest first; the last is this scan.{}",
            points.len(),
            if hidden > 0 {
                format!(" {hidden} older scan(s) are not shown.")
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

    // Grouped bars: one group per scan, one bar per framework, 0–100 %.
    p.ensure(CHART_H + 30.0);
    let axis_w = 28.0;
    let base = p.y - CHART_H;
    for pct in [0.0, 50.0, 100.0] {
        let y = base + CHART_H * pct / 100.0;
        p.text_at(
            MARGIN,
            y - 3.0,
            Face::Sans,
            7.0,
            GREY,
            &format!("{pct:.0}%"),
        );
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
            let score = point
                .frameworks
                .iter()
                .find(|s| s.id == fw.id)
                .map(|s| s.score);
            if let Some(score) = score {
                let h = (CHART_H * score as f32 / 100.0).max(0.8);
                p.rect(
                    gx + i as f32 * bar_w,
                    base + h,
                    bar_w - 1.0,
                    h,
                    PALETTE[i % PALETTE.len()],
                );
            }
        }
        let day = point.collected_at.format("%m-%d").to_string();
        let time = point.collected_at.format("%H:%M").to_string();
        p.text_at(gx, base - 9.0, Face::Sans, 7.0, GREY, &day);
        p.text_at(gx, base - 17.0, Face::Sans, 7.0, GREY, &time);
    }
    p.y = base - 30.0;

    let mut spec: Vec<(&'static str, f32)> = vec![("Collected (UTC)", 110.0), ("Failed", 50.0)];
    let names: Vec<&'static str> = ["Score 1", "Score 2", "Score 3", "Score 4"]
        .into_iter()
        .take(a.frameworks.len().min(4))
        .collect();
    let w = (TEXT_W - 160.0) / names.len().max(1) as f32;
    spec.extend(names.iter().map(|n| (*n, w)));
    let mut t = Table::start(p, columns(&spec), SMALL);
    for point in points.iter().rev() {
        let mut cells = vec![
            Cell::plain(
                point
                    .collected_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
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
                .map_or("not evaluated".to_string(), |s| {
                    score_label(s.score, s.score_without_waivers)
                });
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
        .map(|(i, f)| format!("Score {}: {} {}", i + 1, f.name, f.version))
        .collect();
    p.paragraph(MARGIN, TEXT_W, Face::Sans, SMALL, &key.join("; "));
}
