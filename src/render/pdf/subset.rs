//! Font subsetting: replaces each embedded face with a font holding only the glyphs the finished
//! pages draw, which takes `report.pdf` from about 1 MB of DejaVu to a few tens of kilobytes.
//!
//! printpdf subsets fonts itself only with its `text_layout` feature, which brings in a layout
//! engine and font discovery dockproof does not use. Its subsetter, allsorts, is a dependency
//! either way; this module calls it directly once the pages are laid out. The subset keeps a
//! Unicode cmap, so printpdf maps characters to the new glyph ids and writes the same
//! `/ToUnicode` table as before: the text stays extractable and searchable.
//!
//! Runs after layout and never changes it: a subset has the same advance widths as the whole
//! font. If a face cannot be subset, it is embedded whole.

use std::collections::{BTreeMap, BTreeSet};

use allsorts::binary::read::ReadScope;
use allsorts::font_data::FontData;
use allsorts::subset::{subset, CmapTarget, SubsetProfile};
use printpdf::{FontId, Op, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, TextItem};

use super::layout::Fonts;

/// Swaps every face of `fonts` registered in `doc` for a subset of the glyphs its pages use.
pub(super) fn subset_fonts(doc: &mut PdfDocument, fonts: &Fonts) {
    let used = used_chars(doc);
    for (id, parsed, bytes) in fonts.faces() {
        let Some(chars) = used.get(id) else {
            continue;
        };
        if let Some(small) = subset_face(parsed, bytes, chars) {
            doc.resources
                .fonts
                .map
                .insert(id.clone(), PdfFont::new(small));
        }
    }
}

/// The characters drawn with each font, from the text operations of every page.
pub(super) fn used_chars(doc: &PdfDocument) -> BTreeMap<FontId, BTreeSet<char>> {
    let mut used: BTreeMap<FontId, BTreeSet<char>> = BTreeMap::new();
    for page in &doc.pages {
        let mut current: Option<&FontId> = None;
        for op in &page.ops {
            match op {
                Op::SetFont {
                    font: PdfFontHandle::External(id),
                    ..
                } => current = Some(id),
                Op::ShowText { items } => {
                    let Some(id) = current else { continue };
                    let set = used.entry(id.clone()).or_default();
                    for item in items {
                        if let TextItem::Text(s) = item {
                            set.extend(s.chars());
                        }
                    }
                }
                _ => {}
            }
        }
    }
    used
}

/// A font with glyph 0 (`.notdef`) and the glyphs of `chars` only, or `None` if allsorts or
/// printpdf cannot handle the result.
fn subset_face(parsed: &ParsedFont, bytes: &[u8], chars: &BTreeSet<char>) -> Option<ParsedFont> {
    let glyphs: BTreeSet<u16> = chars
        .iter()
        .filter_map(|c| parsed.lookup_glyph_index(u32::from(*c)))
        .filter(|g| *g != 0)
        .collect();
    // allsorts requires .notdef first and no duplicates.
    let ids: Vec<u16> = std::iter::once(0).chain(glyphs).collect();
    let data = ReadScope::new(bytes).read::<FontData<'_>>().ok()?;
    let provider = data.table_provider(0).ok()?;
    let small = subset(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode).ok()?;
    let font = ParsedFont::from_bytes(&small, 0, &mut Vec::new())?;
    // Every character that had a glyph must still have one.
    let complete = chars.iter().all(|c| {
        parsed.lookup_glyph_index(u32::from(*c)).is_none()
            || font.lookup_glyph_index(u32::from(*c)).is_some()
    });
    complete.then_some(font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subset_keeps_the_used_characters_and_their_widths_only() {
        let mut doc = PdfDocument::new("t");
        let fonts = Fonts::load(&mut doc).expect("fonts load");
        let (_, whole, bytes) = fonts.faces()[0];
        let chars: BTreeSet<char> = "Ab é Ж".chars().collect();
        let small = subset_face(whole, bytes, &chars).expect("subsets");
        assert!(small.original_bytes.len() * 20 < bytes.len(), "not smaller");
        for c in ['A', 'b', ' ', 'é', 'Ж'] {
            let (g0, g1) = (
                whole.lookup_glyph_index(c.into()).expect("in DejaVu"),
                small.lookup_glyph_index(c.into()).expect("in the subset"),
            );
            assert_eq!(whole.get_glyph_width(g0), small.get_glyph_width(g1), "{c}");
        }
        assert_eq!(small.lookup_glyph_index('Z'.into()), None);
    }
}
