//! The fleet `report.pdf`: every target (worst first, those not assessed first with the
//! reason) and, per framework, each requirement's fleet state with the hosts that decide it,
//! then the host × requirement grid ([`super::fleet_grid`]).
//! Laid out with the host report's pages, tables and fonts; reproducible like it (dated by the
//! fleet's `generated_at`). Names, labels and reasons pass through [`crate::text::terminal`], so
//! a bidirectional control in a hostname is shown, never obeyed.

use printpdf::PdfDocument;

use super::layout::{Face, Fonts, Pages, MARGIN, TEXT_W};
use super::requirement_color;
use super::sections::{columns, SMALL};
use super::table::{Cell, Table};
use crate::fleet::FleetAssessment;
use crate::render::RenderError;

/// Text from targets files and hosts, with control and invisible characters made visible.
fn shown(s: &str) -> String {
    crate::text::terminal(s).into_owned()
}

/// Lays out and serialises the fleet document.
pub fn render(fleet: &FleetAssessment) -> Result<Vec<u8>, RenderError> {
    let title = "Docker fleet assessment";
    let mut doc = PdfDocument::new(title);
    let fonts = Fonts::load(&mut doc)?;
    let mut p = Pages::new(&fonts);
    let assessed = fleet.hosts.iter().filter(|h| h.assessed).count();
    let names: std::collections::BTreeMap<&str, &str> = fleet
        .hosts
        .iter()
        .map(|h| (h.dir.as_str(), h.name.as_str()))
        .collect();

    p.heading(title, 18.0, Some("Summary"));
    p.body(&format!(
        "Technical evidence collected from {assessed} of {} target(s) by {} {} at {}. It records \
         what was observed; an assessor decides what it means for each requirement. A \
         requirement is consistent with in place across the fleet only when it is so on every \
         in-scope host and every in-scope target was assessed.",
        fleet.hosts.len(),
        fleet.tool.name,
        fleet.tool.version,
        fleet.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
    ));
    for note in &fleet.notes {
        p.body(&shown(note));
    }
    p.gap(6.0);

    p.heading("Hosts, worst first", 13.0, Some("Hosts"));
    let mut t = Table::start(
        &mut p,
        columns(&[
            ("Host", 130.0),
            ("Role and labels", 120.0),
            ("State", TEXT_W - 330.0),
            ("Not in place", 80.0),
        ]),
        SMALL,
    );
    for i in fleet.worst_first() {
        let host = &fleet.hosts[i];
        let mut profile = host
            .role
            .map(|r| r.label())
            .unwrap_or("role not declared")
            .to_string();
        if !host.in_scope {
            profile.push_str(" (not counted)");
        }
        for (k, v) in &host.labels {
            profile.push_str(&format!("\n{}={}", shown(k), shown(v)));
        }
        let (state, tone, bad) = match &host.summary {
            Some(s) => (
                format!(
                    "assessed: {} results, {} unwaived failures, {} gaps\nhosts/{}/",
                    s.results,
                    s.failed_by_severity.values().sum::<usize>(),
                    s.gaps,
                    host.dir
                ),
                crate::assessment::Tone::Neutral,
                s.not_in_place.to_string(),
            ),
            None => (
                format!(
                    "NOT ASSESSED: {}",
                    shown(host.reason.as_deref().unwrap_or("unknown"))
                ),
                crate::assessment::Tone::Error,
                "-".to_string(),
            ),
        };
        t.row(
            &mut p,
            &[
                Cell::styled(shown(&host.name), Face::Bold, super::layout::BLACK),
                Cell::plain(profile),
                Cell::styled(state, Face::Sans, requirement_color(tone)),
                Cell::plain(bad),
            ],
        );
    }
    t.end(&mut p);

    if fleet.frameworks.is_empty() {
        p.body("No target was assessed: no requirement has evidence.");
    }
    for fw in &fleet.frameworks {
        p.new_page();
        let heading = format!("{} {}", fw.name, fw.version);
        p.heading(&heading, 13.0, Some(&heading));
        let counts: Vec<String> = fw
            .counts
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str().replace('_', " ")))
            .collect();
        p.paragraph(MARGIN, TEXT_W, Face::Sans, SMALL, &counts.join(" · "));
        p.gap(4.0);
        let mut t = Table::start(
            &mut p,
            columns(&[
                ("Requirement", 150.0),
                ("Fleet state", 130.0),
                ("Not in place on", (TEXT_W - 280.0) / 2.0),
                ("Not assessed", (TEXT_W - 280.0) / 2.0),
            ]),
            SMALL,
        );
        let list = |dirs: &[String]| {
            dirs.iter()
                .map(|d| shown(names.get(d.as_str()).copied().unwrap_or(d)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for r in &fw.requirements {
            t.row(
                &mut p,
                &[
                    Cell::plain(format!("{} {}", r.id, r.title)),
                    Cell::styled(
                        r.state.label(),
                        Face::Bold,
                        requirement_color(r.state.tone()),
                    ),
                    Cell::plain(list(&r.not_in_place_on)),
                    Cell::plain(list(&r.missing)),
                ],
            );
        }
        t.end(&mut p);
        p.new_page();
        super::fleet_grid::grid(&mut p, fleet, fw);
        super::fleet_grid::legend(&mut p, fw);
    }

    let footer = format!("{title} · {} {}", fleet.tool.name, fleet.tool.version);
    p.finish(&mut doc, &footer, None);
    super::subset::subset_fonts(&mut doc, &fonts);
    let info = &mut doc.metadata.info;
    info.creator = format!("dockproof {}", fleet.tool.version);
    info.producer = format!("dockproof {} (printpdf)", fleet.tool.version);
    info.subject = "Technical evidence collected from a fleet of Docker hosts".to_string();
    if let Ok(date) = printpdf::OffsetDateTime::from_unix_timestamp(fleet.generated_at.timestamp())
    {
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
    }
    super::save(doc)
}
