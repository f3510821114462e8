//! The "Grouped fixes" section of `report.html`: the unwaived failures grouped by the edit that
//! clears them ([`crate::assessment::fix::fix_groups`]), each exact line with the findings it
//! clears, linked to the check and the resource. The PDF prints the same groups.

use std::io::{self, Write};

use crate::assessment::fix::fix_groups;
use crate::assessment::Assessment;

use super::index::Index;
use super::markup::Html;

/// Writes the section; a host without an unwaived failure that has a fix gets one sentence.
pub(super) fn write(out: &mut dyn Write, a: &Assessment, ix: &Index) -> io::Result<()> {
    let groups = fix_groups(a);
    let mut h = Html::new(out);
    h.raw("<section id=\"fixes\" aria-labelledby=\"fixes-title\">\n<h2 id=\"fixes-title\">Grouped fixes</h2>\n");
    if groups.is_empty() {
        h.raw("<p class=\"muted\">No unwaived failure has a remediation key: there is nothing to group.</p>\n</section>\n");
        return h.finish();
    }
    h.raw("<p class=\"muted\">Unwaived failures grouped by the edit that clears them. Each line is the exact text to write; words in capitals are values to choose. Waived failures are left out.</p>\n");
    for g in &groups {
        h.raw("<div class=\"panel fix-group\" data-fix-group=\"")
            .text(g.target.as_str())
            .raw("\">\n<h3>")
            .text(g.target.heading())
            .raw(" <span class=\"muted\">(clears ")
            .num(g.cleared())
            .raw(" finding")
            .raw(if g.cleared() == 1 { "" } else { "s" })
            .raw(")</span></h3>\n<table class=\"fixes\"><thead><tr><th scope=\"col\">Exact line</th><th scope=\"col\">Clears</th></tr></thead><tbody>\n");
        for line in &g.lines {
            h.raw("<tr data-fix-line><td><pre class=\"rule\"><code>")
                .text(&line.text)
                .raw("</code></pre></td><td><ul class=\"plain\">");
            for c in &line.clears {
                h.raw("<li data-clears=\"")
                    .text(&c.check_id)
                    .raw(" ")
                    .text(&c.resource_id)
                    .raw("\">");
                match ix.check_anchor(&c.check_id) {
                    Some(anchor) => h
                        .raw("<a class=\"mono\" href=\"#")
                        .text(anchor)
                        .raw("\">")
                        .text(&c.check_id)
                        .raw("</a>"),
                    None => h
                        .raw("<span class=\"mono\">")
                        .text(&c.check_id)
                        .raw("</span>"),
                };
                if !c.cis.is_empty() {
                    h.raw(" <span class=\"muted\">CIS ")
                        .text(&c.cis.join(", "))
                        .raw("</span>");
                }
                h.raw(" on ").text(&c.asset).raw("</li>");
            }
            h.raw("</ul></td></tr>\n");
            h.flush_if_full()?;
        }
        h.raw("</tbody></table>\n</div>\n");
    }
    h.raw("</section>\n");
    h.finish()
}
