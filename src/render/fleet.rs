//! The fleet `report.html`: one self-contained page over every host of a fleet bundle.
//!
//! It shows every target (hosts worst first, those not assessed first of all, with the reason),
//! each framework's requirements with their fleet state and the hosts that decide it, and a host
//! × requirement matrix. A label filter hides the hosts whose labels do not match; without
//! JavaScript every row stays visible. Like the host report it has no external resources, escapes
//! everything that came from a host or a targets file (`crate::text::html`), and describes
//! technical evidence collected, never compliance.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::assessment::RequirementState;
use crate::fleet::{FleetAssessment, FleetState, HostEntry};
use crate::text::html as h;

use super::RenderError;

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1a1a1f}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccd;padding:3px 6px;\
text-align:left;vertical-align:top}th{background:#eef}\
.tone-bad{color:#8a1c12;background:#fde8e6}.tone-accepted{color:#6b4400;background:#fff4d6}\
.tone-error{color:#4b2a8a;background:#efe8fb}.tone-pending{color:#0b4a8a;background:#e6f0fb}\
.tone-consistent{color:#1f5f3f;background:#fff}.tone-good{color:#1f5f3f;background:#e4f5e9}\
.tone-neutral{color:#555;background:#f1f3f5}\
.matrix td{padding:1px 3px;font-size:11px;text-align:center}.matrix th.r{writing-mode:vertical-rl;\
font-size:11px}.note{color:#555}";

const SCRIPT: &str =
    "document.getElementById('label-filter').addEventListener('input',function(e){\
var q=e.target.value.trim();document.querySelectorAll('tr[data-labels]').forEach(function(r){\
var ls=r.getAttribute('data-labels').split('\\n');var ok=q===''||ls.some(function(l){\
return q.indexOf('=')<0?l.split('=')[0]===q:l===q;});r.hidden=!ok;});\
document.getElementById('filter-state').textContent=q===''?'':'showing hosts with label '+q;});";

/// Renders the page.
pub fn html(fleet: &FleetAssessment) -> Result<Vec<u8>, RenderError> {
    let mut o = String::new();
    let assessed = fleet.hosts.iter().filter(|x| x.assessed).count();
    let names: BTreeMap<&str, &str> = fleet
        .hosts
        .iter()
        .map(|x| (x.dir.as_str(), x.name.as_str()))
        .collect();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Docker fleet assessment</title><style>{STYLE}</style></head><body>\
         <h1>Docker fleet assessment</h1><p>Technical evidence collected from {assessed} of {} \
         target(s) by {} {} at {}. It records what was observed; an assessor decides what it \
         means for each requirement.</p>",
        fleet.hosts.len(),
        h(&fleet.tool.name),
        h(&fleet.tool.version),
        fleet.generated_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    for note in &fleet.notes {
        let _ = write!(o, "<p class=\"note\">{}</p>", h(note));
    }
    let missing = fleet.unassessed().count();
    if missing > 0 {
        let _ = write!(
            o,
            "<p class=\"tone-error\"><strong>{missing} target(s) not assessed.</strong> Every \
             requirement they could change is undetermined across the fleet.</p>"
        );
    }
    o.push_str(
        "<p><label>Filter hosts by label (<code>key</code> or <code>key=value</code>): \
         <input id=\"label-filter\" type=\"search\"></label> <span id=\"filter-state\"></span></p>",
    );

    let order = fleet.worst_first();
    o.push_str(
        "<h2 id=\"hosts\">Hosts, worst first</h2><table><thead><tr><th>Host</th><th>Role</th>\
         <th>Labels</th><th>Source</th><th>State</th><th>Not in place</th><th>Unwaived \
         failures</th><th>Errors</th><th>Gaps</th></tr></thead><tbody>",
    );
    for &i in &order {
        host_row(&mut o, &fleet.hosts[i]);
    }
    o.push_str("</tbody></table>");

    if fleet.frameworks.is_empty() {
        o.push_str(
            "<p class=\"tone-error\">No target was assessed: no requirement has evidence.</p>",
        );
    }
    for fw in &fleet.frameworks {
        let _ = write!(
            o,
            "<h2 id=\"fw-{}\">{} {}</h2><p>",
            h(&fw.id),
            h(&fw.name),
            h(&fw.version)
        );
        for s in FleetState::ALL {
            if let Some(n) = fw.counts.get(&s) {
                let _ = write!(
                    o,
                    "<span class=\"tone-{}\">{n} {}</span> · ",
                    s.tone().as_str(),
                    h(s.label())
                );
            }
        }
        o.push_str(
            "</p><table><thead><tr><th>Requirement</th><th>Fleet state</th><th>Not in place \
             on</th><th>Not assessed</th></tr></thead><tbody>",
        );
        let list = |dirs: &[String]| {
            dirs.iter()
                .map(|d| h(names.get(d.as_str()).copied().unwrap_or(d)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for r in &fw.requirements {
            let _ = write!(
                o,
                "<tr><td><strong>{}</strong> {}</td><td class=\"tone-{}\">{}</td><td>{}</td>\
                 <td>{}</td></tr>",
                h(&r.id),
                h(&r.title),
                r.state.tone().as_str(),
                h(r.state.label()),
                list(&r.not_in_place_on),
                list(&r.missing),
            );
        }
        o.push_str("</tbody></table>");

        // The matrix: one row per host (worst first), one column per requirement.
        let _ = write!(
            o,
            "<h3>{}: host × requirement</h3><table class=\"matrix\"><thead><tr><th>Host</th>",
            h(&fw.name)
        );
        for r in &fw.requirements {
            let _ = write!(
                o,
                "<th class=\"r\" title=\"{}\">{}</th>",
                h(&r.title),
                h(&r.id)
            );
        }
        o.push_str("</tr></thead><tbody>");
        for &i in &order {
            let host = &fleet.hosts[i];
            let _ = write!(
                o,
                "<tr data-labels=\"{}\"><th>{}</th>",
                h(&labels_attr(host)),
                h(&host.name)
            );
            for r in &fw.requirements {
                match r.hosts.get(&host.dir) {
                    Some(s) => {
                        let _ = write!(
                            o,
                            "<td class=\"tone-{}\" title=\"{}\">{}</td>",
                            s.tone().as_str(),
                            h(s.label(fw.vocabulary)),
                            cell(*s)
                        );
                    }
                    None => o.push_str("<td title=\"not assessed\">?</td>"),
                }
            }
            o.push_str("</tr>");
        }
        o.push_str(
            "</tbody></table><p class=\"note\">✗ not in place · ! incomplete or risk accepted · \
             M awaiting manual evidence · ✓ consistent with in place or attested · – not \
             applicable · ? not assessed</p>",
        );
    }
    let _ = write!(o, "<script>{SCRIPT}</script></body></html>");
    Ok(o.into_bytes())
}

/// A host's labels as `key=value` lines, for the filter script.
fn labels_attr(host: &HostEntry) -> String {
    host.labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One character per requirement state in the matrix.
fn cell(s: RequirementState) -> &'static str {
    use crate::assessment::Tone;
    match s.tone() {
        Tone::Bad => "✗",
        Tone::Accepted | Tone::Error => "!",
        Tone::Pending => "M",
        Tone::Consistent | Tone::Good => "✓",
        Tone::Neutral => "–",
    }
}

fn host_row(o: &mut String, host: &HostEntry) {
    let role = host.role.map(|r| r.label()).unwrap_or("not declared");
    let scope = if host.in_scope { "" } else { " (not counted)" };
    let labels = labels_attr(host);
    let _ = write!(
        o,
        "<tr data-labels=\"{}\"><td>{}",
        h(&labels),
        h(&host.name)
    );
    if host.assessed {
        let _ = write!(
            o,
            "<br><a href=\"hosts/{0}/report.html\">hosts/{0}/</a>",
            h(&host.dir)
        );
    }
    let _ = write!(
        o,
        "</td><td>{}{scope}</td><td>{}</td><td>{}</td>",
        h(role),
        h(&labels).replace('\n', "<br>"),
        h(&host.source)
    );
    match (&host.summary, &host.reason) {
        (Some(s), _) => {
            let errors = s
                .by_status
                .get(&crate::assessment::Status::Error)
                .copied()
                .unwrap_or(0);
            let _ = write!(
                o,
                "<td>assessed</td><td>{}</td><td>{}</td><td>{errors}</td><td>{}</td></tr>",
                s.not_in_place,
                s.failed_by_severity.values().sum::<usize>(),
                s.gaps
            );
        }
        (None, reason) => {
            let _ = write!(
                o,
                "<td class=\"tone-error\" colspan=\"5\">not assessed: {}</td></tr>",
                h(reason.as_deref().unwrap_or("unknown"))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::{FleetAssessment, HostEntry, HostSummary};

    fn fleet() -> FleetAssessment {
        let host = |name: &str, dir: &str, summary: Option<HostSummary>| HostEntry {
            name: name.into(),
            dir: dir.into(),
            role: None,
            labels: [("env".to_string(), "<prod>".to_string())].into(),
            in_scope: true,
            source: "unix:///x".into(),
            assessed: summary.is_some(),
            reason: summary.is_none().then(|| "cannot reach <b>".into()),
            summary,
        };
        FleetAssessment {
            schema_version: 1,
            kind: "fleet".into(),
            tool: crate::snapshot::ToolInfo::current(),
            generated_at: chrono::Utc::now(),
            source: "targets".into(),
            notes: vec![],
            hosts: vec![
                host("ok\u{202e}", "ok_", Some(HostSummary::default())),
                host("<script>gone", "_script_gone", None),
            ],
            frameworks: vec![],
        }
    }

    #[test]
    fn hosts_are_escaped_and_the_unassessed_come_first_with_their_reason() {
        let page = String::from_utf8(html(&fleet()).unwrap()).unwrap();
        assert!(!page.contains("<script>gone"));
        assert!(!page.contains('\u{202e}'));
        assert!(page.contains("not assessed: cannot reach &lt;b&gt;"));
        let gone = page.find("&lt;script&gt;gone").unwrap();
        let ok = page.find("hosts&#x2F;ok_&#x2F;").unwrap_or(usize::MAX);
        assert!(gone < ok, "the unassessed host is listed first");
        assert_eq!(page.matches("<script>").count(), 1);
        assert!(page.contains("1 target(s) not assessed"));
    }
}
