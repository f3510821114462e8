//! The host × requirement grid of the fleet `report.pdf`, one per framework: a row per target
//! (worst first, those not assessed included and marked, out-of-scope hosts marked), a column per
//! requirement (numbered, with a key of the ids above each band), a short code per state in the
//! state's colour, and the fleet state of each requirement in the header row.
//!
//! The grid is paginated both ways: rows flow over as many pages as the fleet needs, with the
//! caption and both header rows repeated on every page; requirements that do not fit across the
//! page are split into column bands, each stating which requirements it holds. A cell is never
//! blank: a target that was not assessed shows `?`, a requirement not evaluated on an assessed
//! host `NE`. Host names pass through [`crate::text::terminal`] and are cut to their column, so
//! no text from a host can run outside its cell.

use super::layout::{leading, Face, Pages, BLACK, GREY, MARGIN, TEXT_W};
use super::requirement_color;
use super::sections::SMALL;
use super::table::{Cell, Table};
use crate::assessment::{RequirementState, Tone};
use crate::fleet::{FleetAssessment, FleetFramework, FleetState, HostEntry};

/// Size of the codes, numbers and host names in the grid.
const SIZE: f32 = 6.5;
/// Space between a cell's border and its text.
const PAD: f32 = 2.0;
const HOST_W: f32 = 112.0;
const SCOPE_W: f32 = 24.0;
/// Narrowest requirement column: wide enough for a two-letter code and a three-digit number.
const MIN_CELL_W: f32 = 14.0;
const HEADER_FILL: (f32, f32, f32) = (0.86, 0.88, 0.92);
const RULE: (f32, f32, f32) = (0.75, 0.77, 0.8);

/// Code of a target that was not assessed: nothing is known of any requirement on it.
pub(super) const NOT_ASSESSED: &str = "?";
/// Code of a requirement not evaluated on an assessed host (another catalog or selection).
pub(super) const NOT_EVALUATED: &str = "NE";

/// The short code of a host's requirement state in the grid. ASCII only, so it reads the same
/// in every viewer and in text extracted from the PDF.
pub(super) fn code(s: RequirementState) -> &'static str {
    use RequirementState as S;
    match s {
        S::NotInPlace => "X",
        S::AttestedNotInPlace => "AX",
        S::RiskAccepted => "RA",
        S::Incomplete => "E",
        S::ExcludedBySelection => "XS",
        S::AwaitingManualEvidence => "M",
        S::ConsistentWithInPlace => "C",
        S::AttestedInPlace => "A",
        S::AttestedCompensatingControl => "AC",
        S::AttestedAlternativeMeasure => "AM",
        S::AttestedNotReasonable => "AR",
        S::NotApplicablePerEvidence => "NA",
        S::NotApplicableDeclared => "ND",
        S::AttestedNotApplicable => "AN",
    }
}

/// The short code of a requirement's fleet state, in the grid's header.
pub(super) fn fleet_code(s: FleetState) -> &'static str {
    match s {
        FleetState::NotInPlace => "X",
        FleetState::Undetermined => "U",
        FleetState::Incomplete => "E",
        FleetState::AwaitingManualEvidence => "M",
        FleetState::ConsistentWithInPlace => "C",
        FleetState::NotApplicable => "NA",
    }
}

/// A colour lightened towards white, for a cell's background behind text in the colour itself.
fn tint((r, g, b): (f32, f32, f32)) -> (f32, f32, f32) {
    let t = |c: f32| 0.84 + 0.16 * c;
    (t(r), t(g), t(b))
}

/// `s` cut (with `…`) to at most `max` points in `face` at `size`.
fn fit(p: &Pages, face: Face, size: f32, s: &str, max: f32) -> String {
    if p.fonts.width(face, size, s) <= max {
        return s.to_string();
    }
    let mut cut: String = s.to_string();
    while !cut.is_empty() && p.fonts.width(face, size, &format!("{cut}…")) > max {
        cut.pop();
    }
    format!("{cut}…")
}

/// One grid cell: its code and the colour of its state (the background is a tint of it).
struct Mark {
    code: &'static str,
    color: (f32, f32, f32),
}

impl Mark {
    fn of(tone: Tone, code: &'static str) -> Self {
        Mark {
            code,
            color: requirement_color(tone),
        }
    }
}

/// The column layout of a framework's grid.
struct Geometry {
    cell_w: f32,
    per_band: usize,
    row_h: f32,
}

impl Geometry {
    fn of(p: &Pages, requirements: usize) -> Self {
        let widest = p
            .fonts
            .width(Face::Bold, SIZE, &requirements.max(1).to_string());
        let cell_w = (widest + 2.0 * PAD).max(MIN_CELL_W);
        let per_band = (((TEXT_W - HOST_W - SCOPE_W) / cell_w).floor() as usize).max(1);
        Geometry {
            cell_w,
            per_band,
            row_h: leading(SIZE) + 2.0 * PAD,
        }
    }
}

/// Draws the grid of `fw` over `fleet`'s targets, worst first, band by band.
pub(super) fn grid(p: &mut Pages, fleet: &FleetAssessment, fw: &FleetFramework) {
    let shown = |s: &str| crate::text::terminal(s).into_owned();
    let order = fleet.worst_first();
    let total = fw.requirements.len();
    let g = Geometry::of(p, total);
    let bands = total.div_ceil(g.per_band).max(1);
    let title = format!("{} {}: host × requirement grid", fw.name, fw.version);
    p.heading(&title, 13.0, Some(&format!("Grid: {}", fw.name)));
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        &format!(
            "One row per target, worst first; one column per requirement, numbered (the key above \
             each band gives the ids). The first row under the numbers is the requirement's \
             state across the fleet. {total} requirement(s) over {bands} band(s) of at most {} \
             columns; {} target(s). Codes are explained in the legend after the grid.",
            g.per_band,
            fleet.hosts.len()
        ),
    );
    p.gap(4.0);
    if total == 0 {
        p.body("The framework has no requirement.");
        return;
    }
    for (band, reqs) in fw.requirements.chunks(g.per_band).enumerate() {
        let first = band * g.per_band;
        let range = format!(
            "band {} of {bands}: requirements {}–{} of {total}",
            band + 1,
            first + 1,
            first + reqs.len()
        );
        let key: Vec<String> = reqs
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{}={}", first + i + 1, shown(&r.id)))
            .collect();
        let key = format!("Key: {}", key.join("  "));
        let key_lines = p.fonts.wrap(Face::Sans, SIZE, &key, TEXT_W);
        // The caption, the key, both header rows and a few hosts start together on a page.
        p.ensure(leading(SMALL) + key_lines.len() as f32 * leading(SIZE) + 6.0 * g.row_h + 8.0);
        p.gap(2.0);
        caption(p, fw, &range, false);
        p.lines(MARGIN, Face::Sans, SIZE, BLACK, &key_lines);
        p.gap(3.0);
        header(p, &g, first, reqs);
        for (n, &i) in order.iter().enumerate() {
            if p.ensure(g.row_h) {
                caption(p, fw, &range, true);
                header(p, &g, first, reqs);
            }
            row(p, &g, &fleet.hosts[i], reqs, n);
        }
        p.gap(10.0);
    }
}

/// The line naming the framework and the band, repeated on every page of the band.
fn caption(p: &mut Pages, fw: &FleetFramework, range: &str, continued: bool) {
    let text = format!(
        "{} {} grid, {range}{}",
        fw.name,
        fw.version,
        if continued { " (continued)" } else { "" }
    );
    let line = fit(p, Face::Bold, SMALL, &text, TEXT_W);
    p.lines(MARGIN, Face::Bold, SMALL, BLACK, &[line]);
    p.gap(2.0);
}

/// The column numbers and the fleet state of each requirement of the band.
fn header(p: &mut Pages, g: &Geometry, first: usize, reqs: &[crate::fleet::FleetRequirement]) {
    let width = HOST_W + SCOPE_W + g.cell_w * reqs.len() as f32;
    let top = p.y;
    p.rect(MARGIN, top, width, g.row_h, HEADER_FILL);
    let base = top - PAD - SIZE;
    p.text_at(MARGIN + PAD, base, Face::Bold, SIZE, BLACK, "Host");
    p.text_at(
        MARGIN + HOST_W + PAD,
        base,
        Face::Bold,
        SIZE,
        BLACK,
        "Scope",
    );
    for i in 0..reqs.len() {
        let label = (first + i + 1).to_string();
        centred(p, g, i, base, Face::Bold, BLACK, &label);
    }
    p.y = top - g.row_h;
    let top = p.y;
    p.rect(MARGIN, top, HOST_W + SCOPE_W, g.row_h, HEADER_FILL);
    let base = top - PAD - SIZE;
    p.text_at(MARGIN + PAD, base, Face::Bold, SIZE, BLACK, "Fleet state");
    for (i, r) in reqs.iter().enumerate() {
        let mark = Mark::of(r.state.tone(), fleet_code(r.state));
        cell(p, g, i, top, &mark);
    }
    p.y = top - g.row_h;
    p.rect(MARGIN, p.y, width, 0.8, GREY);
}

/// One target's row.
fn row(
    p: &mut Pages,
    g: &Geometry,
    host: &HostEntry,
    reqs: &[crate::fleet::FleetRequirement],
    n: usize,
) {
    let top = p.y;
    let width = HOST_W + SCOPE_W + g.cell_w * reqs.len() as f32;
    if n % 2 == 1 {
        p.rect(MARGIN, top, HOST_W + SCOPE_W, g.row_h, (0.955, 0.96, 0.97));
    }
    let base = top - PAD - SIZE;
    let name = crate::text::terminal(&host.name);
    let (face, color) = if host.assessed {
        (Face::Sans, BLACK)
    } else {
        (Face::Bold, requirement_color(Tone::Error))
    };
    let name = fit(p, face, SIZE, &name, HOST_W - 2.0 * PAD);
    p.text_at(MARGIN + PAD, base, face, SIZE, color, &name);
    let scope = if host.in_scope { "in" } else { "out" };
    let scope_color = if host.in_scope { BLACK } else { GREY };
    p.text_at(
        MARGIN + HOST_W + PAD,
        base,
        Face::Sans,
        SIZE,
        scope_color,
        scope,
    );
    for (i, r) in reqs.iter().enumerate() {
        let mark = if !host.assessed {
            Mark::of(Tone::Error, NOT_ASSESSED)
        } else {
            match r.hosts.get(&host.dir) {
                Some(s) => Mark::of(s.tone(), code(*s)),
                None => Mark::of(Tone::Error, NOT_EVALUATED),
            }
        };
        cell(p, g, i, top, &mark);
    }
    p.y = top - g.row_h;
    p.rect(MARGIN, p.y, width, 0.3, RULE);
}

/// A code centred in column `i`, on a background tinted with its colour.
fn cell(p: &mut Pages, g: &Geometry, i: usize, top: f32, mark: &Mark) {
    let x = MARGIN + HOST_W + SCOPE_W + g.cell_w * i as f32;
    p.rect(
        x + 0.5,
        top - 0.5,
        g.cell_w - 1.0,
        g.row_h - 1.0,
        tint(mark.color),
    );
    centred(p, g, i, top - PAD - SIZE, Face::Bold, mark.color, mark.code);
}

fn centred(
    p: &mut Pages,
    g: &Geometry,
    i: usize,
    baseline: f32,
    face: Face,
    color: (f32, f32, f32),
    s: &str,
) {
    let x = MARGIN + HOST_W + SCOPE_W + g.cell_w * i as f32;
    let w = p.fonts.width(face, SIZE, s);
    p.text_at(x + (g.cell_w - w) / 2.0, baseline, face, SIZE, color, s);
}

/// What every code of the grid means, in the framework's words, each in its colour.
pub(super) fn legend(p: &mut Pages, fw: &FleetFramework) {
    p.ensure(120.0);
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Bold,
        SMALL,
        &format!("Grid legend: {}", fw.name),
    );
    p.gap(2.0);
    let mut t = Table::start(
        p,
        super::sections::columns(&[("Code", 44.0), ("On a host", TEXT_W - 44.0)]),
        SMALL,
    );
    for s in RequirementState::ALL {
        t.row(
            p,
            &[
                Cell::styled(code(s), Face::Bold, requirement_color(s.tone())),
                Cell::plain(s.label(fw.vocabulary)),
            ],
        );
    }
    t.row(
        p,
        &[
            Cell::styled(NOT_ASSESSED, Face::Bold, requirement_color(Tone::Error)),
            Cell::plain(
                "Target not assessed: nothing is known of it (the reason is in the host list); \
                 it leaves every in-scope requirement undetermined",
            ),
        ],
    );
    t.row(
        p,
        &[
            Cell::styled(NOT_EVALUATED, Face::Bold, requirement_color(Tone::Error)),
            Cell::plain("Not evaluated on this host (another catalog or selection)"),
        ],
    );
    t.end(p);
    let mut t = Table::start(
        p,
        super::sections::columns(&[("Code", 44.0), ("Fleet state (header row)", TEXT_W - 44.0)]),
        SMALL,
    );
    for s in FleetState::ALL {
        t.row(
            p,
            &[
                Cell::styled(fleet_code(s), Face::Bold, requirement_color(s.tone())),
                Cell::plain(s.label()),
            ],
        );
    }
    t.end(p);
    p.paragraph(
        MARGIN,
        TEXT_W,
        Face::Sans,
        SMALL,
        "Scope: in, the host counts towards the fleet states; out, its role is out of scope and \
         it is shown for information only.",
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{FleetRequirement, HostSummary};
    use crate::text::terminal;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn every_state_has_its_own_short_code() {
        let mut seen = BTreeSet::new();
        for s in RequirementState::ALL {
            assert!(seen.insert(code(s)), "{s:?} shares its code");
        }
        assert!(seen.insert(NOT_ASSESSED) && seen.insert(NOT_EVALUATED));
        let fleet: BTreeSet<_> = FleetState::ALL.iter().map(|s| fleet_code(*s)).collect();
        assert_eq!(fleet.len(), FleetState::ALL.len());
        assert!(seen
            .iter()
            .chain(&fleet)
            .all(|c| c.len() <= 2 && c.is_ascii()));
    }

    fn fleet(hosts: usize, requirements: usize) -> FleetAssessment {
        let ids: Vec<String> = (0..requirements).map(|i| format!("1.{i}")).collect();
        let host = |i: usize| {
            let assessed = i % 7 != 3;
            let states: BTreeMap<String, RequirementState> = ids
                .iter()
                .map(|id| (id.clone(), RequirementState::ALL[i % 14]))
                .collect();
            HostEntry {
                name: format!("\u{202e}host-{i}-{}", "w".repeat(i % 60)),
                dir: format!("h{i}"),
                role: None,
                labels: Default::default(),
                in_scope: !i.is_multiple_of(5),
                source: "unix:///x".into(),
                assessed,
                reason: (!assessed).then(|| "cannot reach".into()),
                summary: assessed.then(|| HostSummary {
                    requirements: [("fw".to_string(), states)].into(),
                    ..HostSummary::default()
                }),
            }
        };
        let hosts: Vec<HostEntry> = (0..hosts).map(host).collect();
        let requirements = ids
            .iter()
            .map(|id| {
                let (state, not_in_place_on, missing) =
                    crate::fleet::state::requirement_state(&hosts, "fw", id);
                FleetRequirement {
                    id: id.clone(),
                    title: "t".into(),
                    state,
                    not_in_place_on,
                    missing,
                    hosts: hosts
                        .iter()
                        .filter_map(|h| {
                            let s = h.summary.as_ref()?.requirements["fw"][id];
                            Some((h.dir.clone(), s))
                        })
                        .collect(),
                }
            })
            .collect();
        FleetAssessment {
            schema_version: 1,
            kind: "fleet".into(),
            tool: crate::snapshot::ToolInfo::current(),
            generated_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            source: "snapshots".into(),
            notes: vec![],
            hosts,
            frameworks: vec![FleetFramework {
                id: "fw".into(),
                name: "Framework".into(),
                version: "1".into(),
                vocabulary: crate::assessment::Vocabulary::PciDss,
                requirements,
                counts: Default::default(),
            }],
        }
    }

    #[test]
    fn host_names_are_neutralised_and_cut_to_their_column() {
        let mut doc = printpdf::PdfDocument::new("t");
        let fonts = super::super::layout::Fonts::load(&mut doc).unwrap();
        let p = Pages::new(&fonts);
        let hostile = terminal(&format!("\u{202e}{}", "W".repeat(300))).into_owned();
        let cut = fit(&p, Face::Bold, SIZE, &hostile, HOST_W - 2.0 * PAD);
        assert!(cut.ends_with('…'));
        assert!(!cut.contains('\u{202e}'));
        assert!(fonts.width(Face::Bold, SIZE, &cut) <= HOST_W - 2.0 * PAD);
        assert_eq!(fit(&p, Face::Sans, SIZE, "web-1", HOST_W), "web-1");
    }

    #[test]
    fn a_large_fleet_paginates_in_bands_and_rows() {
        let f = fleet(130, 117);
        let mut doc = printpdf::PdfDocument::new("t");
        let fonts = super::super::layout::Fonts::load(&mut doc).unwrap();
        let mut p = Pages::new(&fonts);
        let g = Geometry::of(&p, 117);
        assert!(g.per_band < 117 && g.per_band >= 20, "{}", g.per_band);
        // Every column fits across the page.
        assert!(HOST_W + SCOPE_W + g.cell_w * g.per_band as f32 <= TEXT_W);
        grid(&mut p, &f, &f.frameworks[0]);
        let bands = 117usize.div_ceil(g.per_band);
        // 130 rows of a band do not fit on one page: at least two pages per band.
        assert!(p.page_number() >= 2 * bands, "{} pages", p.page_number());
        assert!(p.y >= 60.0 - 1.0);
    }

    #[test]
    fn the_fleet_pdf_is_reproducible_with_the_grid() {
        let f = fleet(45, 40);
        let a = super::super::fleet::render(&f).unwrap();
        let b = super::super::fleet::render(&f).unwrap();
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF"));
    }
}
