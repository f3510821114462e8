//! Page layout on top of printpdf's operations: embedded fonts with their advance widths, a
//! cursor that flows text down A4 pages, word wrapping, filled rectangles, bookmarks, and the
//! footer added once the page count is known.
//!
//! Coordinates are PDF points from the bottom-left corner of the page; the cursor `y` is the top
//! of the next thing to draw.

use printpdf::{
    Color, FontId, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage, Pt,
    Rect, Rgb, TextItem, TextMatrix,
};

use crate::render::RenderError;

const SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");

/// A4 in points.
pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN: f32 = 50.0;
/// Lowest y content may reach; the footer lives below it.
const BOTTOM: f32 = 60.0;
/// Width available between the margins.
pub(super) const TEXT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Width measured for characters the table below does not cover (wider than any Latin glyph).
const FALLBACK_EM: f32 = 1.0;
/// Codepoints whose widths are kept in a flat table (Latin, Latin-1, Latin Extended, Greek…).
const TABLE_CHARS: usize = 0x500;

/// Which embedded face to use.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Face {
    Sans,
    Bold,
    Mono,
}

/// Text colours used by the report.
pub(super) const BLACK: (f32, f32, f32) = (0.1, 0.1, 0.12);
pub(super) const GREY: (f32, f32, f32) = (0.4, 0.4, 0.45);
/// Colour of the confidentiality marking at the top of every page.
const MARKING: (f32, f32, f32) = (0.48, 0.11, 0.07);

struct FontEntry {
    id: FontId,
    /// The whole font file, from which the embedded subset is cut.
    bytes: &'static [u8],
    /// Advance widths in em for codepoints below `TABLE_CHARS`.
    widths: Vec<f32>,
    parsed: ParsedFont,
}

impl FontEntry {
    fn load(doc: &mut PdfDocument, bytes: &'static [u8], name: &str) -> Result<Self, RenderError> {
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or_else(|| {
            RenderError::Io(std::io::Error::other(format!(
                "embedded font {name} cannot be parsed (a dockproof bug)"
            )))
        })?;
        let upem = f32::from(parsed.units_per_em.max(1));
        let widths = (0..TABLE_CHARS as u32)
            .map(|cp| em_width(&parsed, cp, upem))
            .collect();
        // A fixed resource name (not `add_font`'s random one) keeps the output reproducible.
        let id = FontId(name.replace(' ', ""));
        doc.resources
            .fonts
            .map
            .insert(id.clone(), PdfFont::new(parsed.clone()));
        Ok(FontEntry {
            id,
            bytes,
            widths,
            parsed,
        })
    }

    /// Width of `s` in ems.
    fn width_em(&self, s: &str) -> f32 {
        s.chars().map(|c| self.em(c)).sum()
    }

    fn em(&self, c: char) -> f32 {
        match self.widths.get(c as usize) {
            Some(w) => *w,
            None => em_width(
                &self.parsed,
                c as u32,
                f32::from(self.parsed.units_per_em.max(1)),
            ),
        }
    }
}

fn em_width(font: &ParsedFont, cp: u32, upem: f32) -> f32 {
    font.lookup_glyph_index(cp)
        .and_then(|g| font.get_glyph_width(g))
        .map(|w| f32::from(w) / upem)
        .unwrap_or(FALLBACK_EM)
}

/// The three embedded faces.
pub(super) struct Fonts {
    sans: FontEntry,
    bold: FontEntry,
    mono: FontEntry,
}

impl Fonts {
    /// Parses the embedded fonts and registers them with `doc`.
    pub(super) fn load(doc: &mut PdfDocument) -> Result<Self, RenderError> {
        Ok(Fonts {
            sans: FontEntry::load(doc, SANS, "DejaVu Sans")?,
            bold: FontEntry::load(doc, SANS_BOLD, "DejaVu Sans Bold")?,
            mono: FontEntry::load(doc, MONO, "DejaVu Sans Mono")?,
        })
    }

    /// Each face's resource id, parsed font and whole font file, for subsetting.
    pub(super) fn faces(&self) -> [(&FontId, &ParsedFont, &'static [u8]); 3] {
        [&self.sans, &self.bold, &self.mono].map(|e| (&e.id, &e.parsed, e.bytes))
    }

    fn entry(&self, face: Face) -> &FontEntry {
        match face {
            Face::Sans => &self.sans,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }

    /// Width of `s` in points.
    pub(super) fn width(&self, face: Face, size: f32, s: &str) -> f32 {
        let e = self.entry(face);
        s.chars().map(|c| e.em(c)).sum::<f32>() * size
    }

    /// Splits `text` into lines no wider than `max` points. Breaks at spaces and newlines; a word
    /// wider than a line (a hash, a long path) is broken between characters.
    pub(super) fn wrap(&self, face: Face, size: f32, text: &str, max: f32) -> Vec<String> {
        let e = self.entry(face);
        let space = e.em(' ') * size;
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut line_w = 0.0;
            for word in para.split_whitespace() {
                let word_w = word.chars().map(|c| e.em(c)).sum::<f32>() * size;
                let sep = if line.is_empty() { 0.0 } else { space };
                if line_w + sep + word_w <= max {
                    if !line.is_empty() {
                        line.push(' ');
                    }
                    line.push_str(word);
                    line_w += sep + word_w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_w = 0.0;
                }
                if word_w <= max {
                    line.push_str(word);
                    line_w = word_w;
                    continue;
                }
                // Prefer to break a long word where it has parts (`164.308(a)` | `(1)(i)`,
                // `path/` | `rest`); between any two characters only when it has none.
                let mut soft: Option<usize> = None;
                for c in word.chars() {
                    let cw = e.em(c) * size;
                    if line_w + cw > max && !line.is_empty() {
                        let rest = match soft.take() {
                            Some(at) if at > 0 && at < line.len() => line.split_off(at),
                            _ => String::new(),
                        };
                        lines.push(std::mem::replace(&mut line, rest));
                        line_w = e.width_em(&line) * size;
                    }
                    if c == '(' {
                        soft = Some(line.len());
                    }
                    line.push(c);
                    line_w += cw;
                    if matches!(c, '/' | '-' | '_' | '.' | ',' | ':' | ')') {
                        soft = Some(line.len());
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// Line height for a font size.
pub(super) fn leading(size: f32) -> f32 {
    size * 1.3
}

fn rgb((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

/// Pages being written, with the cursor and the outline.
pub(super) struct Pages<'f> {
    pub(super) fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    /// Top of the next thing to draw on the last page.
    pub(super) y: f32,
    /// Outline entries: title and 1-based page number.
    bookmarks: Vec<(String, usize)>,
    /// The text section left open on the last page, with its font, size and colour: text
    /// drawn next with the same state adds only its position and string.
    text: Option<TextState>,
}

/// What a text section has set so far.
#[derive(Clone, Copy, PartialEq)]
struct TextState {
    face: Face,
    size: f32,
    color: (f32, f32, f32),
}

impl<'f> Pages<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Self {
        let mut p = Pages {
            fonts,
            pages: Vec::new(),
            y: 0.0,
            bookmarks: Vec::new(),
            text: None,
        };
        p.new_page();
        p
    }

    /// Starts a new page and puts the cursor at its top margin.
    pub(super) fn new_page(&mut self) {
        self.close_text();
        self.pages.push(Vec::new());
        self.y = PAGE_H - MARGIN;
    }

    /// Starts a new page unless `height` points still fit on this one. Returns whether it did.
    pub(super) fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// Number of the current page, from 1 (pages are only ever appended, so it is final).
    pub(super) fn page_number(&self) -> usize {
        self.pages.len().max(1)
    }

    /// Adds an outline entry pointing at the current page.
    pub(super) fn bookmark(&mut self, title: &str) {
        self.bookmarks.push((title.to_string(), self.pages.len()));
    }

    /// The last page's operations, for drawing outside a text section.
    fn ops(&mut self) -> &mut Vec<Op> {
        self.close_text();
        self.page_ops()
    }

    fn page_ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Ends the text section open on the last page, if any.
    fn close_text(&mut self) {
        if self.text.take().is_some() {
            self.page_ops().push(Op::EndTextSection);
        }
    }

    /// Draws one line of text with its baseline at `baseline`, without moving the cursor.
    pub(super) fn text_at(
        &mut self,
        x: f32,
        baseline: f32,
        face: Face,
        size: f32,
        color: (f32, f32, f32),
        s: &str,
    ) {
        if s.is_empty() {
            return;
        }
        // Consecutive strings share one text section, and the font and colour are set only
        // when they change: a page of a large report has thousands of strings, and printpdf's
        // serialisation and the stream compression cost follow the number of operations.
        // `Tm` places each string absolutely (`Td` would move relative to the previous one).
        let want = TextState { face, size, color };
        let open = self.text;
        let font = PdfFontHandle::External(self.fonts.entry(face).id.clone());
        let ops = self.page_ops();
        if open.is_none() {
            ops.push(Op::StartTextSection);
        }
        if open.is_none_or(|t| t.face != face || t.size != size) {
            ops.push(Op::SetFont {
                font,
                size: Pt(size),
            });
        }
        if open.is_none_or(|t| t.color != color) {
            ops.push(Op::SetFillColor { col: rgb(color) });
        }
        ops.extend([
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(s.to_string())],
            },
        ]);
        self.text = Some(want);
    }

    /// Fills a rectangle whose top-left corner is (`x`, `top`).
    pub(super) fn rect(&mut self, x: f32, top: f32, w: f32, h: f32, color: (f32, f32, f32)) {
        self.ops().extend([
            Op::SetFillColor { col: rgb(color) },
            Op::DrawRectangle {
                rectangle: Rect {
                    mode: Some(PaintMode::Fill),
                    ..Rect::from_xywh(Pt(x), Pt(top - h), Pt(w), Pt(h))
                },
            },
        ]);
    }

    /// Draws already wrapped `lines` from the cursor down, starting new pages as needed.
    pub(super) fn lines(
        &mut self,
        x: f32,
        face: Face,
        size: f32,
        color: (f32, f32, f32),
        lines: &[String],
    ) {
        let lh = leading(size);
        for line in lines {
            self.ensure(lh);
            self.text_at(x, self.y - size, face, size, color, line);
            self.y -= lh;
        }
    }

    /// Wraps `text` to `width` and draws it from the cursor down.
    /// A full-width paragraph of body text.
    pub(super) fn body(&mut self, text: &str) {
        self.paragraph(MARGIN, TEXT_W, Face::Sans, super::sections::BODY, text);
    }

    pub(super) fn paragraph(&mut self, x: f32, width: f32, face: Face, size: f32, text: &str) {
        let lines = self.fonts.wrap(face, size, text, width);
        self.lines(x, face, size, BLACK, &lines);
    }

    /// A section title: starts with some space (or a new page when little room is left) and adds
    /// an outline entry.
    pub(super) fn heading(&mut self, title: &str, size: f32, outline: Option<&str>) {
        // Keep a heading with at least a few lines of what follows it.
        self.ensure(size * 2.5 + 50.0);
        if self.y < PAGE_H - MARGIN - 1.0 {
            self.y -= size * 0.6;
        }
        if let Some(entry) = outline {
            self.bookmark(entry);
        }
        let lines = self.fonts.wrap(Face::Bold, size, title, TEXT_W);
        self.lines(MARGIN, Face::Bold, size, BLACK, &lines);
        self.y -= size * 0.3;
    }

    /// Moves the cursor down.
    pub(super) fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// Adds the footer ("page N of M" and `left`) and the `header` (the confidentiality marking
    /// and entity, wrapped to at most two lines) to every page and hands the pages and the
    /// outline to `doc`.
    pub(super) fn finish(mut self, doc: &mut PdfDocument, left: &str, header: Option<&str>) {
        self.close_text();
        let total = self.pages.len();
        let fonts = self.fonts;
        let size = 8.0;
        let mut pages = Vec::with_capacity(total);
        for (i, ops) in self.pages.into_iter().enumerate() {
            let mut footer = Pages {
                fonts,
                pages: vec![ops],
                y: 0.0,
                bookmarks: Vec::new(),
                text: None,
            };
            let label = format!("page {} of {total}", i + 1);
            let w = fonts.width(Face::Sans, size, &label);
            footer.rect(MARGIN, 44.0, TEXT_W, 0.5, GREY);
            footer.text_at(MARGIN, 32.0, Face::Sans, size, GREY, left);
            footer.text_at(PAGE_W - MARGIN - w, 32.0, Face::Sans, size, GREY, &label);
            if let Some(header) = header {
                let lines = fonts.wrap(Face::Bold, size, header, TEXT_W);
                for (n, line) in lines.iter().take(2).enumerate() {
                    let baseline = PAGE_H - 24.0 - n as f32 * leading(size);
                    footer.text_at(MARGIN, baseline, Face::Bold, size, MARKING, line);
                }
            }
            footer.close_text();
            let ops = footer.pages.pop().unwrap_or_default();
            pages.push(PdfPage::new(Pt(PAGE_W).into(), Pt(PAGE_H).into(), ops));
        }
        doc.with_pages(pages);
        for (title, page) in &self.bookmarks {
            doc.add_bookmark(title, *page);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text sections are balanced and hold only text operations; within one, the font and
    /// colour are set only when they change; every string is placed absolutely.
    #[test]
    fn strings_share_text_sections_that_hold_only_text() {
        let mut doc = PdfDocument::new("t");
        let fonts = Fonts::load(&mut doc).expect("fonts");
        let mut p = Pages::new(&fonts);
        p.text_at(10.0, 700.0, Face::Sans, 9.0, BLACK, "a");
        p.text_at(10.0, 690.0, Face::Sans, 9.0, BLACK, "b");
        p.text_at(10.0, 680.0, Face::Bold, 9.0, BLACK, "c");
        p.text_at(10.0, 670.0, Face::Bold, 9.0, GREY, "d");
        p.rect(10.0, 660.0, 100.0, 1.0, GREY);
        p.text_at(10.0, 650.0, Face::Bold, 9.0, GREY, "e");
        p.new_page();
        p.text_at(10.0, 700.0, Face::Mono, 8.0, BLACK, "f");
        p.finish(&mut doc, "footer", Some("header"));
        for (n, page) in doc.pages.iter().enumerate() {
            let (mut open, mut strings, mut placed) = (false, 0, 0);
            for op in &page.ops {
                match op {
                    Op::StartTextSection => {
                        assert!(!open, "page {n}: nested text section");
                        open = true;
                    }
                    Op::EndTextSection => {
                        assert!(open, "page {n}: unbalanced end");
                        open = false;
                    }
                    Op::SetFont { .. } | Op::SetFillColor { .. } if open => {}
                    Op::SetTextMatrix { .. } => {
                        assert!(open);
                        placed += 1;
                    }
                    Op::ShowText { .. } => {
                        assert!(open);
                        strings += 1;
                    }
                    other => assert!(!open, "page {n}: {other:?} inside a text section"),
                }
            }
            assert!(!open, "page {n}: text section left open");
            assert_eq!(placed, strings, "page {n}: a string without its position");
        }
        let first = &doc.pages[0].ops;
        let count = |f: fn(&Op) -> bool| first.iter().filter(|op| f(op)).count();
        // a, b, c, d in one section, e after the rectangle in another; then the footer's two
        // strings and the header's line share a third.
        assert_eq!(count(|op| matches!(op, Op::StartTextSection)), 3);
        assert_eq!(count(|op| matches!(op, Op::ShowText { .. })), 8);
        // Fonts: Sans (a, b), Bold (c, d), Bold again after the rectangle (e), then Sans and
        // Bold for the footer and header.
        assert_eq!(count(|op| matches!(op, Op::SetFont { .. })), 5);
    }

    #[test]
    fn long_words_break_between_their_parts() {
        let mut doc = PdfDocument::new("t");
        let fonts = Fonts::load(&mut doc).expect("fonts");
        let w = |s: &str| fonts.width(Face::Bold, 8.5, s);
        // Room for `164.308(a)(1)` but not for the whole id.
        let max = w("164.308(a)(1)") + 0.5;
        let lines = fonts.wrap(Face::Bold, 8.5, "164.308(a)(1)(ii)(B)", max);
        assert_eq!(lines, ["164.308(a)(1)", "(ii)(B)"]);
        let lines = fonts.wrap(
            Face::Bold,
            8.5,
            "164.308(a)(1)(ii)(B)",
            w("164.308(a)") + 0.5,
        );
        assert_eq!(lines, ["164.308(a)", "(1)(ii)(B)"]);
        // Without parts, a word still breaks between characters, and nothing is lost.
        let hash = "a".repeat(200);
        let lines = fonts.wrap(Face::Mono, 8.5, &hash, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), hash);
        assert!(lines
            .iter()
            .all(|l| fonts.width(Face::Mono, 8.5, l) <= 100.0));
    }
}
