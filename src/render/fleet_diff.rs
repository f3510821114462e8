//! The `html` diff of two fleet bundles: one self-contained page (inline CSS, no script, nothing
//! fetched) for readers who get the comparison by mail rather than in a terminal.
//!
//! It shows both bundles, the hosts added and removed, the hosts whose assessed state changed
//! (with the reason), each framework's requirements whose fleet state changed with the hosts that
//! moved it, and each changed host's requirement changes and new and resolved failures. Every
//! value read from a bundle (names, directories, reasons, ids, titles) goes through
//! [`crate::text::html`]; the page itself never interprets them. It says what changed in the
//! technical evidence, never whether anything is compliant.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::assessment::{RequirementState, Status};
use crate::diff::FindingChange;
use crate::fleet::diff::{FleetDiff, FleetHeader, HostChange, HostRef};
use crate::fleet::FleetState;
use crate::text::html as h;

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",sans-serif;\
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2329}\
h1{font-size:1.4rem;margin-bottom:.2rem}h2{font-size:1.05rem;margin:1.6rem 0 .4rem;\
border-bottom:1px solid #d8dde3;padding-bottom:.2rem}h3{font-size:.95rem;margin:1.2rem 0 .3rem}\
.note{color:#5b6570;margin-top:0}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eceff2;vertical-align:top;\
overflow-wrap:anywhere}th{background:#f5f7f9;font-weight:600}\
td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}\
.sides th{width:10rem}.chips span{display:inline-block;margin:0 .4rem .4rem 0;\
padding:.15rem .55rem;border-radius:1rem;background:#eef1f4}.empty{color:#8a939c;\
font-style:italic}.unchanged{font-weight:600;color:#1f5f3f}\
.sev-critical{color:#8b0000;font-weight:700}.sev-high{color:#b3261e;font-weight:600}\
.sev-medium{color:#9a5b00}.sev-low{color:#3b6ea5}.sev-info{color:#5b6570}\
.tone-bad{color:#8a1c12;background:#fde8e6}.tone-accepted{color:#6b4400;background:#fff4d6}\
.tone-error{color:#4b2a8a;background:#efe8fb}.tone-pending{color:#0b4a8a;background:#e6f0fb}\
.tone-consistent{color:#1f5f3f}.tone-good{color:#1f5f3f;background:#e4f5e9}\
.tone-neutral{color:#555;background:#f1f3f5}@media print{body{margin:0;max-width:none}}";

/// Renders the page.
pub fn html(diff: &FleetDiff) -> Vec<u8> {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'\"><title>dockproof fleet diff</title>\
         <style>{STYLE}</style></head><body><h1>dockproof fleet diff</h1><p class=\"note\">\
         Technical evidence of two fleet assessments compared, old → new. Hosts are matched by \
         their directory under <code>hosts/</code>; a host assessed in one run only is listed \
         with the reason, never compared as if it were empty.</p>"
    );
    sides(&mut o, &diff.old, &diff.new);

    let names = names(diff);
    let name = |dir: &str| names.get(dir).copied().unwrap_or(dir).to_string();
    let by = |pick: fn(&HostChange) -> bool| diff.hosts.iter().filter(move |c| pick(c));
    let lost: Vec<&HostChange> = by(|c| c.old_assessed && !c.new_assessed).collect();
    let regained: Vec<&HostChange> = by(|c| !c.old_assessed && c.new_assessed).collect();
    let still: Vec<&HostChange> = by(|c| !c.old_assessed && !c.new_assessed).collect();
    let changed: Vec<&HostChange> = by(|c| c.old_assessed && c.new_assessed && c.changed).collect();
    let unchanged: Vec<&HostChange> =
        by(|c| c.old_assessed && c.new_assessed && !c.changed).collect();

    if diff.is_unchanged() {
        o.push_str(
            "<p class=\"unchanged\" id=\"unchanged\">No change: the same hosts, assessed as \
             before, with the same findings and the same requirement states.</p>",
        );
    }
    let new_failures: usize = diff.hosts.iter().map(|c| c.newly_failing.len()).sum();
    let resolved: usize = diff.hosts.iter().map(|c| c.resolved.len()).sum();
    o.push_str("<h2>Summary</h2><p class=\"chips\">");
    for (n, what) in [
        (diff.added.len(), "host(s) added"),
        (diff.removed.len(), "host(s) removed"),
        (lost.len(), "newly not assessed"),
        (regained.len(), "newly assessed"),
        (changed.len(), "host(s) changed"),
        (diff.requirements.len(), "fleet requirement states changed"),
        (new_failures, "newly failing findings"),
        (resolved, "resolved findings"),
    ] {
        let _ = write!(o, "<span>{n} {what}</span>");
    }
    o.push_str("</p>");

    let host_rows = |list: &[HostRef]| -> Vec<Vec<Cell>> {
        list.iter()
            .map(|x| {
                vec![
                    Cell::text(&x.name),
                    Cell::text(&format!("hosts/{}/", x.dir)),
                    if x.assessed {
                        Cell::text("assessed")
                    } else {
                        Cell::toned(
                            "error",
                            &format!("not assessed: {}", reason(x.reason.as_deref())),
                        )
                    },
                ]
            })
            .collect()
    };
    let columns = ["Host", "Directory", "State"];
    table(
        &mut o,
        2,
        "hosts-added",
        "Hosts added",
        &columns,
        host_rows(&diff.added),
    );
    table(
        &mut o,
        2,
        "hosts-removed",
        "Hosts removed",
        &columns,
        host_rows(&diff.removed),
    );
    let change_rows = |list: &[&HostChange], why: &str| -> Vec<Vec<Cell>> {
        list.iter()
            .map(|c| {
                vec![
                    Cell::text(&c.name),
                    Cell::text(&format!("hosts/{}/", c.dir)),
                    Cell::toned("error", &format!("{why}{}", reason(c.reason.as_deref()))),
                ]
            })
            .collect()
    };
    let columns = ["Host", "Directory", "Reason"];
    table(
        &mut o,
        2,
        "hosts-unassessed",
        "Hosts newly not assessed",
        &columns,
        change_rows(&lost, "not assessed: "),
    );
    table(
        &mut o,
        2,
        "hosts-reassessed",
        "Hosts newly assessed",
        &columns,
        change_rows(&regained, "was not assessed: "),
    );
    if !still.is_empty() {
        table(
            &mut o,
            2,
            "hosts-still-unassessed",
            "Hosts still not assessed",
            &columns,
            change_rows(&still, "not assessed: "),
        );
    }

    let mut frameworks: BTreeMap<&str, Vec<Vec<Cell>>> = BTreeMap::new();
    for r in &diff.requirements {
        let hosts = r
            .hosts
            .iter()
            .map(|c| {
                format!(
                    "{}: {} → {}",
                    name(&c.dir),
                    host_state(c.old),
                    host_state(c.new)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        frameworks.entry(&r.framework).or_default().push(vec![
            Cell::text(&r.requirement),
            Cell::text(&r.title),
            fleet_state(r.old),
            fleet_state(r.new),
            Cell::lines(&hosts),
        ]);
    }
    o.push_str("<h2 id=\"requirements\">Fleet requirement states changed</h2>");
    if frameworks.is_empty() {
        o.push_str("<p class=\"empty\">None.</p>");
    }
    for (fw, rows) in frameworks {
        table(
            &mut o,
            3,
            &format!("requirements-{fw}"),
            &format!("{fw}: requirements whose fleet state changed"),
            &[
                "Requirement",
                "Title",
                "Old",
                "New",
                "Hosts that changed it",
            ],
            rows,
        );
    }

    let _ = write!(
        o,
        "<h2 id=\"hosts-changed\">Hosts changed ({})</h2>",
        changed.len()
    );
    if changed.is_empty() {
        o.push_str("<p class=\"empty\">None.</p>");
    }
    for c in &changed {
        host(&mut o, c);
    }
    if !unchanged.is_empty() {
        let list = unchanged
            .iter()
            .map(|c| h(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            o,
            "<p class=\"note\" id=\"hosts-unchanged\">Unchanged ({}): {list}</p>",
            unchanged.len()
        );
    }
    o.push_str("</body></html>\n");
    o.into_bytes()
}

/// A table cell: escaped text, optionally with a tone or severity class.
struct Cell {
    class: Option<String>,
    html: String,
}

impl Cell {
    fn text(s: &str) -> Cell {
        Cell {
            class: None,
            html: h(s),
        }
    }

    /// Text whose line feeds are shown as line breaks.
    fn lines(s: &str) -> Cell {
        Cell {
            class: None,
            html: h(s).replace('\n', "<br>"),
        }
    }

    fn toned(tone: &str, s: &str) -> Cell {
        Cell {
            class: Some(format!("tone-{tone}")),
            html: h(s),
        }
    }
}

/// A titled table in its own section; `level` is the heading's (2 for a top-level section).
fn table(o: &mut String, level: u8, id: &str, title: &str, columns: &[&str], rows: Vec<Vec<Cell>>) {
    let _ = write!(
        o,
        "<section id=\"{}\"><h{level}>{} ({})</h{level}>",
        h(id),
        h(title),
        rows.len()
    );
    if rows.is_empty() {
        o.push_str("<p class=\"empty\">None.</p></section>");
        return;
    }
    o.push_str("<table><thead><tr>");
    for c in columns {
        let _ = write!(o, "<th scope=\"col\">{}</th>", h(c));
    }
    o.push_str("</tr></thead><tbody>");
    for row in rows {
        o.push_str("<tr>");
        for cell in row {
            match cell.class {
                Some(class) => {
                    let _ = write!(o, "<td class=\"{}\">{}</td>", h(&class), cell.html);
                }
                None => {
                    let _ = write!(o, "<td>{}</td>", cell.html);
                }
            }
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></section>");
}

fn sides(o: &mut String, old: &FleetHeader, new: &FleetHeader) {
    o.push_str(
        "<table class=\"sides\"><thead><tr><th scope=\"col\"></th><th scope=\"col\">Old</th>\
         <th scope=\"col\">New</th></tr></thead><tbody>",
    );
    let time = |x: &FleetHeader| x.generated_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let rows: [(&str, String, String); 5] = [
        ("Read from", old.source.clone(), new.source.clone()),
        ("Evaluated (UTC)", time(old), time(new)),
        ("Targets", old.hosts.to_string(), new.hosts.to_string()),
        (
            "Assessed",
            old.assessed.to_string(),
            new.assessed.to_string(),
        ),
        (
            "Not assessed",
            (old.hosts - old.assessed.min(old.hosts)).to_string(),
            (new.hosts - new.assessed.min(new.hosts)).to_string(),
        ),
    ];
    for (label, a, b) in rows {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{label}</th><td>{}</td><td>{}</td></tr>",
            h(&a),
            h(&b)
        );
    }
    o.push_str("</tbody></table>");
}

/// One changed host: its counts, requirement changes, new and resolved failures.
fn host(o: &mut String, c: &HostChange) {
    let _ = write!(
        o,
        "<section class=\"host\"><h3>{} <span class=\"note\">hosts/{}/</span></h3>",
        h(&c.name),
        h(&c.dir)
    );
    if let Some(s) = &c.summary {
        o.push_str("<p class=\"chips\">");
        for (n, what) in [
            (s.newly_failing, "newly failing"),
            (s.new_errors, "new errors"),
            (s.newly_passing, "newly passing"),
            (s.no_longer_failing, "no longer failing"),
            (s.errors_resolved, "errors resolved"),
            (s.still_failing, "still failing"),
            (s.requirements_changed, "requirements changed"),
        ] {
            let _ = write!(o, "<span>{n} {what}</span>");
        }
        o.push_str("</p>");
    }
    let rows = c
        .requirements
        .iter()
        .map(|r| {
            vec![
                Cell::text(&r.framework),
                Cell::text(&r.requirement),
                requirement_state(r.old),
                requirement_state(r.new),
            ]
        })
        .collect();
    let id = |what: &str| format!("host-{}-{what}", c.dir);
    table(
        o,
        4,
        &id("requirements"),
        "Requirement states changed",
        &["Framework", "Requirement", "Old", "New"],
        rows,
    );
    table(
        o,
        4,
        &id("newly-failing"),
        "Newly failing",
        &FINDING_COLUMNS,
        findings(&c.newly_failing),
    );
    table(
        o,
        4,
        &id("resolved"),
        "Failures resolved",
        &FINDING_COLUMNS,
        findings(&c.resolved),
    );
    o.push_str("</section>");
}

const FINDING_COLUMNS: [&str; 6] = ["Severity", "Check", "Kind", "Resource", "Old", "New"];

fn findings(list: &[FindingChange]) -> Vec<Vec<Cell>> {
    list.iter()
        .map(|f| {
            vec![
                Cell {
                    class: Some(format!("sev-{}", f.severity.as_str())),
                    html: h(f.severity.as_str()),
                },
                Cell::text(&f.check_id),
                Cell::text(f.resource.kind.as_str()),
                Cell::text(&f.resource.name),
                Cell::text(&status(f.old_status, f.old_waiver.as_deref())),
                Cell::text(&status(f.new_status, f.new_waiver.as_deref())),
            ]
        })
        .collect()
}

fn status(s: Option<Status>, waiver: Option<&str>) -> String {
    let base = s.map_or("absent", Status::as_str);
    match waiver {
        Some(id) => format!("{base} (waived {id})"),
        None => base.to_string(),
    }
}

fn reason(r: Option<&str>) -> &str {
    r.unwrap_or("unknown")
}

fn host_state(s: Option<RequirementState>) -> String {
    s.map_or("absent", RequirementState::as_str)
        .replace('_', " ")
}

fn requirement_state(s: Option<RequirementState>) -> Cell {
    match s {
        Some(s) => Cell::toned(s.tone().as_str(), &host_state(Some(s))),
        None => Cell::text("absent"),
    }
}

fn fleet_state(s: Option<FleetState>) -> Cell {
    match s {
        Some(s) => Cell::toned(s.tone().as_str(), &s.as_str().replace('_', " ")),
        None => Cell::text("absent"),
    }
}

/// Every host's name by directory, over both fleets.
fn names(diff: &FleetDiff) -> BTreeMap<&str, &str> {
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for x in diff.removed.iter().chain(&diff.added) {
        names.insert(&x.dir, &x.name);
    }
    for c in &diff.hosts {
        names.insert(&c.dir, &c.name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assessment::{ResourceKind, Severity};
    use crate::diff::{DiffSummary, Resource};
    use crate::fleet::diff::{HostRequirementChange, HostStateChange, StateChange};

    const HOSTILE: &str = "<script>alert(1)</script>\u{202e}evil";

    fn header(source: &str, hosts: usize, assessed: usize) -> FleetHeader {
        FleetHeader {
            source: source.into(),
            generated_at: chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap(),
            hosts,
            assessed,
        }
    }

    fn change(dir: &str, name: &str, old: bool, new: bool) -> HostChange {
        HostChange {
            dir: dir.into(),
            name: name.into(),
            old_assessed: old,
            new_assessed: new,
            reason: (!old || !new).then(|| "cannot reach <b>engine</b>".into()),
            changed: old != new,
            summary: None,
            newly_failing: Vec::new(),
            resolved: Vec::new(),
            requirements: Vec::new(),
        }
    }

    fn finding(
        check: &str,
        resource: &str,
        old: Option<Status>,
        new: Option<Status>,
    ) -> FindingChange {
        FindingChange {
            fingerprint: format!("{check}/{resource}"),
            check_id: check.into(),
            severity: Severity::High,
            resource: Resource {
                kind: ResourceKind::Container,
                name: resource.into(),
            },
            old_status: old,
            new_status: new,
            old_waiver: None,
            new_waiver: None,
        }
    }

    fn unchanged() -> FleetDiff {
        FleetDiff {
            schema_version: 1,
            kind: "fleet".into(),
            old: header("old", 1, 1),
            new: header("new", 1, 1),
            hosts_added: vec![],
            hosts_removed: vec![],
            hosts: vec![change("web", "web", true, true)],
            requirements: vec![],
            added: vec![],
            removed: vec![],
        }
    }

    fn changed() -> FleetDiff {
        let mut busy = change("_script_evil", HOSTILE, true, true);
        busy.changed = true;
        busy.summary = Some(DiffSummary {
            newly_failing: 1,
            newly_passing: 1,
            requirements_changed: 1,
            ..DiffSummary::default()
        });
        busy.newly_failing = vec![finding(
            "container.privileged",
            "<img src=x onerror=alert(2)>",
            Some(Status::Pass),
            Some(Status::Fail),
        )];
        busy.resolved = vec![finding(
            "container.host-pid",
            "agent",
            Some(Status::Fail),
            Some(Status::Pass),
        )];
        busy.requirements = vec![HostRequirementChange {
            framework: "pci-dss-4.0.1".into(),
            requirement: "2.2.6".into(),
            old: Some(RequirementState::ConsistentWithInPlace),
            new: Some(RequirementState::NotInPlace),
        }];
        FleetDiff {
            schema_version: 1,
            kind: "fleet".into(),
            old: header("old<i>", 4, 3),
            new: header("new", 4, 3),
            hosts_added: vec!["added".into()],
            hosts_removed: vec!["gone".into()],
            hosts: vec![
                busy,
                change("lost", "lost-host", true, false),
                change("back", "back-host", false, true),
            ],
            requirements: vec![StateChange {
                framework: "pci-dss-4.0.1".into(),
                requirement: "2.2.6".into(),
                title: "Secure <configuration>".into(),
                old: Some(FleetState::ConsistentWithInPlace),
                new: Some(FleetState::NotInPlace),
                hosts: vec![HostStateChange {
                    dir: "_script_evil".into(),
                    old: Some(RequirementState::ConsistentWithInPlace),
                    new: Some(RequirementState::NotInPlace),
                }],
            }],
            added: vec![HostRef {
                dir: "added".into(),
                name: "added-host".into(),
                assessed: false,
                reason: Some("timed out \"after\" 30 s".into()),
            }],
            removed: vec![HostRef {
                dir: "gone".into(),
                name: "gone-host".into(),
                assessed: true,
                reason: None,
            }],
        }
    }

    fn page(d: &FleetDiff) -> String {
        String::from_utf8(html(d)).unwrap()
    }

    /// The text of the section with `id`, up to its end.
    fn section<'a>(page: &'a str, id: &str) -> &'a str {
        let start = page
            .find(&format!("<section id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no section {id}"));
        let end = start + page[start..].find("</section>").unwrap();
        &page[start..end]
    }

    #[test]
    fn hostile_values_are_text_and_the_page_runs_nothing() {
        let p = page(&changed());
        assert!(!p.contains("<script"), "{p}");
        assert!(!p.contains("<img"), "{p}");
        assert!(!p.contains("<b>"), "{p}");
        assert!(!p.contains("<i>"), "{p}");
        assert!(!p.contains('\u{202e}'));
        assert!(p.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;[U+202E]evil"));
        assert!(p.contains("&lt;img src=x onerror=alert(2)&gt;"));
        assert!(p.contains("Secure &lt;configuration&gt;"));
        assert!(p.contains("default-src 'none'"));
        assert!(!p.contains("http://") && !p.contains("https://"));
    }

    #[test]
    fn each_kind_of_host_change_is_listed_with_its_reason() {
        let p = page(&changed());
        let added = section(&p, "hosts-added");
        assert!(added.contains("added-host"), "{added}");
        assert!(added.contains("not assessed: timed out &quot;after&quot; 30 s"));
        assert!(section(&p, "hosts-removed").contains("gone-host"));
        let lost = section(&p, "hosts-unassessed");
        assert!(lost.contains("lost-host") && lost.contains("cannot reach &lt;b&gt;engine"));
        assert!(!lost.contains("back-host"));
        let back = section(&p, "hosts-reassessed");
        assert!(back.contains("back-host") && !back.contains("lost-host"));
        assert!(!p.contains("id=\"unchanged\""));
    }

    #[test]
    fn requirement_changes_name_the_hosts_that_moved_them() {
        let p = page(&changed());
        let fleet = section(&p, "requirements-pci-dss-4.0.1");
        assert!(fleet.contains("<td class=\"tone-consistent\">consistent with in place</td>"));
        assert!(fleet.contains("<td class=\"tone-bad\">not in place</td>"));
        assert!(fleet.contains(
            "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;[U+202E]evil: consistent with in place → \
             not in place"
        ));
        let host = section(&p, "host-_script_evil-requirements");
        assert!(
            host.contains("2.2.6") && host.contains("tone-bad"),
            "{host}"
        );
        let failing = section(&p, "host-_script_evil-newly-failing");
        assert!(failing.contains("container.privileged") && failing.contains("sev-high"));
        let resolved = section(&p, "host-_script_evil-resolved");
        assert!(resolved.contains("container.host-pid") && resolved.contains(">pass<"));
    }

    #[test]
    fn nothing_changed_says_so_plainly() {
        let d = unchanged();
        assert!(d.is_unchanged());
        let p = page(&d);
        assert!(p.contains("id=\"unchanged\">No change"), "{p}");
        assert!(p.contains("Unchanged (1): web"));
        assert!(p.contains("<h2 id=\"hosts-changed\">Hosts changed (0)</h2>"));
    }
}
