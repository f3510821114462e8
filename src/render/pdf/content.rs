//! Page content streams written here rather than by printpdf.
//!
//! printpdf turns every operation into lopdf objects (each number, name and glyph string boxed,
//! each glyph id formatted through `fmt`) and then encodes those into the stream: for a report of
//! a few hundred pages that was a fifth of the whole assessment's time. The layout uses only
//! seven operations, and each has one plain encoding, written here straight into bytes.
//!
//! printpdf still writes everything else: fonts, their widths and `/ToUnicode` maps, pages,
//! outline, metadata. Its font serialisation learns which glyphs are used from the text on the
//! pages, so [`carrier`] gives it one text section drawing every character each face draws; the
//! page holding it has its stream replaced like every other, so the carrier is never shown.
//!
//! Glyph ids are the ones printpdf itself would write: the character's glyph in the embedded
//! (subset) font's own cmap, 0 (`.notdef`) for a character the font lacks, two bytes each
//! (`Identity-H`). A document holding any operation this writer does not know is left to
//! printpdf whole.

use std::collections::HashMap;

use printpdf::{
    Color, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, Pt, TextItem, TextMatrix,
    WindingOrder,
};

/// Each page's content stream, in page order; `None` when a page holds an operation (or a font)
/// this writer does not encode.
pub(super) fn encode_pages(doc: &PdfDocument) -> Option<Vec<Vec<u8>>> {
    let mut glyphs = Glyphs::new(doc);
    doc.pages
        .iter()
        .map(|page| encode(&page.ops, &mut glyphs))
        .collect()
}

/// One text section drawing, in each embedded face, every character the pages draw with it.
pub(super) fn carrier(doc: &PdfDocument) -> Vec<Op> {
    let used = super::subset::used_chars(doc);
    let mut ops = vec![Op::StartTextSection];
    for (id, chars) in used {
        ops.push(Op::SetFont {
            font: PdfFontHandle::External(id),
            size: Pt(1.0),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(chars.into_iter().collect())],
        });
    }
    ops.push(Op::EndTextSection);
    ops
}

/// Glyph ids of the document's embedded fonts, looked up once per character.
struct Glyphs<'d> {
    fonts: HashMap<&'d str, FontGlyphs<'d>>,
}

struct FontGlyphs<'d> {
    font: &'d ParsedFont,
    /// Glyph ids of ASCII characters, the bulk of every report.
    ascii: [u16; 128],
    other: HashMap<char, u16>,
}

impl<'d> Glyphs<'d> {
    fn new(doc: &'d PdfDocument) -> Self {
        let fonts = doc
            .resources
            .fonts
            .map
            .iter()
            .map(|(id, font)| {
                let font = &font.parsed_font;
                let mut ascii = [0; 128];
                for (cp, gid) in (0u32..).zip(ascii.iter_mut()) {
                    *gid = font.lookup_glyph_index(cp).unwrap_or(0);
                }
                let glyphs = FontGlyphs {
                    font,
                    ascii,
                    other: HashMap::new(),
                };
                (id.0.as_str(), glyphs)
            })
            .collect();
        Glyphs { fonts }
    }
}

impl FontGlyphs<'_> {
    fn gid(&mut self, c: char) -> u16 {
        if let Some(gid) = self.ascii.get(c as usize) {
            return *gid;
        }
        let font = self.font;
        *self
            .other
            .entry(c)
            .or_insert_with(|| font.lookup_glyph_index(u32::from(c)).unwrap_or(0))
    }
}

/// One page's operations as content stream bytes.
fn encode(ops: &[Op], glyphs: &mut Glyphs) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(ops.len() * 24);
    let mut font: Option<&str> = None;
    for op in ops {
        match op {
            Op::StartTextSection => out.extend_from_slice(b"BT\n"),
            Op::EndTextSection => out.extend_from_slice(b"ET\n"),
            Op::SetFont {
                font: PdfFontHandle::External(id),
                size,
            } => {
                let name = id.0.as_str();
                if !glyphs.fonts.contains_key(name) || !is_plain_name(name) {
                    return None;
                }
                font = Some(name);
                out.push(b'/');
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
                number(&mut out, size.0);
                out.extend_from_slice(b" Tf\n");
            }
            Op::SetFillColor {
                col: Color::Rgb(rgb),
            } if rgb.icc_profile.is_none() => {
                numbers(&mut out, &[rgb.r, rgb.g, rgb.b]);
                out.extend_from_slice(b" rg\n");
            }
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(x, y),
            } => {
                numbers(&mut out, &[1.0, 0.0, 0.0, 1.0, x.0, y.0]);
                out.extend_from_slice(b" Tm\n");
            }
            Op::ShowText { items } => {
                let face = glyphs.fonts.get_mut(font?)?;
                let [TextItem::Text(text)] = items.as_slice() else {
                    return None;
                };
                hex_glyphs(&mut out, face, text);
                out.extend_from_slice(b" Tj\n");
            }
            Op::DrawRectangle { rectangle: r }
                if r.mode == Some(PaintMode::Fill)
                    && matches!(r.winding_order, None | Some(WindingOrder::NonZero)) =>
            {
                numbers(&mut out, &[r.x.0, r.y.0, r.width.0, r.height.0]);
                out.extend_from_slice(b" re\nf\n");
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A resource name that needs no `#` escape in a PDF name.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `text` as a hexadecimal string of two-byte glyph ids.
fn hex_glyphs(out: &mut Vec<u8>, face: &mut FontGlyphs, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'<');
    for c in text.chars() {
        let gid = face.gid(c);
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((gid >> shift) & 0xF)]);
        }
    }
    out.push(b'>');
}

fn numbers(out: &mut Vec<u8>, values: &[f32]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        number(out, *v);
    }
}

/// A number to a thousandth, without trailing zeros (`12`, `0.4`, `-3.125`): a thousandth of a
/// point is far below what any printer or screen resolves.
fn number(out: &mut Vec<u8>, v: f32) {
    let milli = (f64::from(v) * 1000.0).round();
    // Coordinates and sizes on an A4 page; anything else (or NaN) is written as 0.
    let milli = if milli.is_finite() && milli.abs() < 1e12 {
        milli as i64
    } else {
        0
    };
    if milli < 0 {
        out.push(b'-');
    }
    let milli = milli.unsigned_abs();
    integer(out, milli / 1000);
    let mut frac = milli % 1000;
    if frac != 0 {
        out.push(b'.');
        let mut digits = 3;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        for place in (0..digits).rev() {
            out.push(b'0' + digit(frac / 10u64.pow(place)));
        }
    }
}

fn integer(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + digit(n);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[at..]);
}

/// The last decimal digit of `n`.
fn digit(n: u64) -> u8 {
    // A value below ten always fits.
    (n % 10) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use printpdf::FontId;

    fn num(v: f32) -> String {
        let mut out = Vec::new();
        number(&mut out, v);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn numbers_are_plain_decimals_to_a_thousandth() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(0.4), "0.4");
        assert_eq!(num(0.12), "0.12");
        assert_eq!(num(595.28), "595.28");
        assert_eq!(num(-3.125), "-3.125");
        assert_eq!(num(0.0004), "0");
        assert_eq!(num(-0.0004), "0");
        assert_eq!(num(1.0006), "1.001");
        assert_eq!(num(0.05), "0.05");
        assert_eq!(num(f32::NAN), "0");
    }

    /// The operations of a content stream, each operand a number (to a thousandth) or the
    /// bytes of a name or string.
    fn decoded(stream: &[u8]) -> Vec<(String, Vec<String>)> {
        let content = lopdf::content::Content::decode(stream).expect("content stream parses");
        content
            .operations
            .into_iter()
            .map(|op| {
                let operands = op
                    .operands
                    .iter()
                    .map(|o| match o {
                        lopdf::Object::Integer(i) => format!("{:.3}", *i as f64),
                        lopdf::Object::Real(r) => format!("{:.3}", f64::from(*r)),
                        lopdf::Object::Name(n) => format!("/{}", String::from_utf8_lossy(n)),
                        lopdf::Object::String(bytes, _) => hex::encode(bytes),
                        other => format!("{other:?}"),
                    })
                    .collect();
                (op.operator, operands)
            })
            .collect()
    }

    /// Every page of a laid-out report, as printpdf writes it (the reference) and as written
    /// here: the same operations with the same operands, glyph ids included.
    #[test]
    fn pages_read_the_same_as_printpdf_writes_them() {
        for a in [
            crate::testing::fixture::sample_assessment(),
            crate::testing::fixture::waived_assessment(),
        ] {
            let doc = super::super::document(&a, &[]).expect("layout");
            let ours = encode_pages(&doc).expect("every operation has an encoding");
            let opts = printpdf::PdfSaveOptions {
                optimize: false,
                ..printpdf::PdfSaveOptions::default()
            };
            let reference = doc.to_lopdf_document(&opts, &mut Vec::new());
            let pages = reference.get_pages();
            assert_eq!(pages.len(), ours.len());
            assert!(ours.len() > 5, "{} pages", ours.len());
            for ((n, page), mine) in pages.into_iter().zip(&ours) {
                let theirs = reference.get_page_content(page);
                assert_eq!(decoded(mine), decoded(&theirs), "page {n}");
            }
        }
    }

    #[test]
    fn unknown_operations_leave_the_page_to_printpdf() {
        let doc = PdfDocument::new("t");
        let mut glyphs = Glyphs::new(&doc);
        assert_eq!(encode(&[Op::SaveGraphicsState], &mut glyphs), None);
        // Text in a font the document does not hold cannot be encoded either.
        let font = Op::SetFont {
            font: PdfFontHandle::External(FontId("Missing".into())),
            size: Pt(9.0),
        };
        assert_eq!(encode(&[Op::StartTextSection, font], &mut glyphs), None);
        assert_eq!(
            encode(&[Op::StartTextSection, Op::EndTextSection], &mut glyphs),
            Some(b"BT\nET\n".to_vec())
        );
    }
}
