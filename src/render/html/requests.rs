//! The "Evidence request list" section of `report.html`: every partial or manual requirement's
//! prompt, whom to ask and a tick column, from [`crate::render::evidence_requests::requests`]
//! (the list `evidence-requests.csv` and the PDF carry), each row linked to its matrix row.

use std::io::{self, Write};

use crate::assessment::Assessment;
use crate::render::evidence_requests::requests;

use super::index::Index;
use super::markup::Html;

pub(super) fn write(out: &mut dyn Write, a: &Assessment, ix: &Index) -> io::Result<()> {
    let list = requests(a);
    let mut h = Html::new(out);
    h.raw("<section id=\"evidence-requests\" aria-labelledby=\"requests-title\">\n<h2 id=\"requests-title\" class=\"new-page\">Evidence request list</h2>\n");
    if list.is_empty() {
        h.raw("<p class=\"muted\">No partial or manual requirement in the selected frameworks.</p>\n</section>\n");
        return h.finish();
    }
    h.raw("<p class=\"muted\">What to request from the client for the requirements technical evidence cannot settle, and whom to ask; also in the bundle as <code>evidence-requests.csv</code>. Tick a row when the evidence is received.</p>\n");
    h.raw("<table class=\"requests\"><colgroup><col class=\"r-tick\"><col class=\"r-id\"><col class=\"r-what\"><col class=\"r-owner\"></colgroup>\n<thead><tr><th scope=\"col\">Received</th><th scope=\"col\">Requirement</th><th scope=\"col\">What to request</th><th scope=\"col\">Ask</th></tr></thead><tbody>\n");
    for q in &list {
        let r = q.requirement;
        h.raw("<tr data-request data-fw=\"")
            .text(&ix.framework_slug(&q.framework.id))
            .raw("\" data-state=\"")
            .text(r.state.as_str())
            .raw("\" data-search=\"")
            .text(&format!("{} {} {}", r.id, r.title, q.prompt).to_lowercase())
            .raw("\"><td class=\"tick\">&#9744;</td><th scope=\"row\">");
        let anchor = ix
            .requirement_anchor
            .get(&(q.framework.id.as_str(), r.id.as_str()));
        match anchor {
            Some(anchor) => h
                .raw("<a class=\"mono\" href=\"#")
                .text(anchor)
                .raw("\">")
                .text(&r.id)
                .raw("</a>"),
            None => h.raw("<span class=\"mono\">").text(&r.id).raw("</span>"),
        };
        h.raw("<div class=\"provenance\">")
            .text(&q.framework.name)
            .raw("</div></th><td><strong>")
            .text(&r.title)
            .raw("</strong><p class=\"prompt\">")
            .text(q.prompt.trim_end())
            .raw("</p></td><td>")
            .text(q.owner())
            .raw("</td></tr>\n");
        h.flush_if_full()?;
    }
    h.raw("</tbody></table>\n</section>\n");
    h.finish()
}
