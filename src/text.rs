//! The one text neutraliser: every string that comes from a host, a bundle, a catalog or any
//! other input passes through here before it is written to a terminal, an HTML page, a CSV cell
//! or an XML document.
//!
//! Two kinds of character are never passed through as they are:
//! * control characters (C0, DEL, C1): an `ESC [2J` in a file name clears the terminal and can
//!   paint a fake verdict; a newline forges a whole line of output;
//! * invisible formatting characters that change how text reads: bidirectional controls
//!   (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), the line and paragraph separators
//!   (U+2028, U+2029), zero-width characters and the byte-order mark. A container named
//!   `\u{202E}gnp.exe` would otherwise read as `exe.png`.
//!
//! Each is written as a visible `[U+XXXX]`, the same in every output, so a reader sees what is
//! there and can search for it. Each output kind has its own function, which adds that format's
//! own escaping on top: [`terminal`], [`html`] / [`html_into`], [`csv_field`], [`xml_text`] /
//! [`xml_attr`]. Characters a format carries safely (tab and line breaks in a quoted CSV field or
//! in XML character data) are kept where the format needs them.
//!
//! This module only transforms strings; it never writes anywhere.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown as `[U+XXXX]` rather than written: control characters and the
/// invisible characters that change how surrounding text reads.
pub fn is_hidden(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible_format(c)
}

/// Unicode bidirectional controls: embeddings, overrides, isolates and the directional marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2028}' | '\u{2029}' | '\u{2060}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
    )
}

fn visible(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, "[U+{:04X}]", u32::from(c));
}

/// Replaces every character `keep` does not accept and [`is_hidden`] flags by its visible form;
/// borrows when nothing needs replacing (the common case).
fn neutralise(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hidden(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_hidden(c) && !keep(c) {
            visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for a terminal or a log line: every control and invisible formatting character,
/// newlines and tabs included, is made visible, so one value is always one line and can never
/// move the cursor, change colours or reorder what follows it.
pub fn terminal(s: &str) -> Cow<'_, str> {
    neutralise(s, |_| false)
}

/// Multi-line text for a terminal (a check's description in `controls show`): as [`terminal`],
/// but line feeds are kept so paragraphs stay paragraphs.
pub fn terminal_lines(s: &str) -> Cow<'_, str> {
    neutralise(s, |c| c == '\n')
}

/// Text for HTML element content and quoted attribute values: the six replacements of
/// `tera::escape_html` (OWASP's rule: `& < > " ' /`), with hidden characters made visible.
/// Tab and line breaks are kept: HTML renders them as spaces.
pub fn html_into(out: &mut String, s: &str) {
    out.reserve(s.len());
    let bytes = s.as_bytes();
    // Runs of text that need no change are copied as slices. ASCII, nearly all of what hosts
    // and catalogs hold, is classified a byte at a time; only a non-ASCII byte decodes its
    // character (every hidden character outside ASCII starts with one).
    let (mut run, mut i) = (0, 0);
    while i < bytes.len() {
        let b = bytes[i];
        let c = if b.is_ascii() {
            if !HTML_ASCII_SPECIAL[usize::from(b)] {
                i += 1;
                continue;
            }
            char::from(b)
        } else {
            // `i` is always on a character boundary: it only moves by whole characters.
            let c = s[i..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
            if !is_hidden(c) {
                i += c.len_utf8();
                continue;
            }
            c
        };
        out.push_str(&s[run..i]);
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2F;"),
            c => visible(out, c),
        }
        i += c.len_utf8();
        run = i;
    }
    out.push_str(&s[run..]);
}

/// ASCII bytes [`html_into`] replaces: the six HTML specials and the control characters other
/// than tab and line breaks.
const HTML_ASCII_SPECIAL: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8 as char;
        table[b] = matches!(c, '&' | '<' | '>' | '"' | '\'' | '/')
            || (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r'));
        b += 1;
    }
    table
};

/// [`html_into`] as a new string (Tera's `set_escape_fn` takes this shape).
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    html_into(&mut out, s);
    out
}

/// The text of one CSV field, before the CSV writer quotes it: hidden characters made visible
/// (line breaks and tab kept, a quoted field carries them), and a leading `'` before a first
/// character a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, TAB, CR).
pub fn csv_field(s: &str) -> Cow<'_, str> {
    let shown = neutralise(s, |c| matches!(c, '\t' | '\n' | '\r'));
    if shown.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{shown}"))
    } else {
        shown
    }
}

/// XML 1.0 character data: `& < > " '` escaped, CR as `&#13;` (a parser would fold it into a
/// line feed), hidden characters made visible, including those XML cannot hold at all
/// (U+FFFE, U+FFFF), tab and line feed kept.
pub fn xml_text(s: &str) -> String {
    xml(s, false)
}

/// An XML attribute value (double- or single-quoted): as [`xml_text`], and tab and line feed
/// escaped too, because attribute normalisation would turn them into spaces.
pub fn xml_attr(s: &str) -> String {
    xml(s, true)
}

fn xml(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            '\u{FFFE}' | '\u{FFFF}' => visible(&mut out, c),
            c if is_hidden(c) => visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_makes_every_control_and_bidi_character_visible() {
        assert_eq!(terminal("plain name"), "plain name");
        assert!(matches!(terminal("plain"), Cow::Borrowed(_)));
        assert_eq!(
            terminal("\u{1b}[2J\rVERIFIED\n"),
            "[U+001B][2J[U+000D]VERIFIED[U+000A]"
        );
        assert_eq!(terminal("a\tb\u{7f}\u{9b}"), "a[U+0009]b[U+007F][U+009B]");
        assert_eq!(terminal("\u{202E}gnp.exe"), "[U+202E]gnp.exe");
        assert_eq!(
            terminal("x\u{2066}\u{200B}\u{2028}\u{FEFF}"),
            "x[U+2066][U+200B][U+2028][U+FEFF]"
        );
        assert_eq!(terminal_lines("a\nb\u{1b}"), "a\nb[U+001B]");
        // Letters of right-to-left scripts are text like any other.
        assert_eq!(terminal("שלום مرحبا 日本"), "שלום مرحبا 日本");
    }

    /// The escaping as first written, one character at a time: the slice-copying version
    /// must give the same output for every kind of character.
    fn html_by_char(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#x27;"),
                '/' => out.push_str("&#x2F;"),
                '\t' | '\n' | '\r' => out.push(c),
                c if is_hidden(c) => visible(&mut out, c),
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn html_copying_runs_gives_what_escaping_each_character_gives() {
        let pieces = [
            "",
            "a",
            "plain text",
            "<script>",
            "&amp;",
            "a/b",
            "'\"",
            "\t\n\r",
            "\u{0}",
            "\u{7f}",
            "\u{202E}",
            "\u{200B}",
            "\u{FEFF}",
            "é",
            "日本",
            "🦀",
            "\u{85}",
            "x",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let s = format!("{a}{b}{c}");
                    assert_eq!(html(&s), html_by_char(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn html_classifies_every_character_as_the_per_character_escaping_does() {
        // Every ASCII byte (the table), and the non-ASCII blocks holding hidden characters.
        let blocks = [0..0x300, 0x600..0x700, 0x2000..0x2100, 0xFE00..0x10000];
        for c in blocks.into_iter().flatten().filter_map(char::from_u32) {
            let s = format!("a{c}b{c}");
            assert_eq!(html(&s), html_by_char(&s), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn html_escapes_exactly_like_tera_for_ordinary_text() {
        for s in [
            "",
            "plain",
            "<script>alert(1)</script>\"'&",
            "a/b & c > d < e",
            "ünïcödé / 日本 <b>",
            "&amp; already",
            "two\nlines\tand tab",
        ] {
            assert_eq!(html(s), tera::escape_html(s), "{s:?}");
        }
        assert_eq!(
            html("a\u{2066}<b>\u{2069}\u{200F}\u{1b}"),
            "a[U+2066]&lt;b&gt;[U+2069][U+200F][U+001B]"
        );
    }

    #[test]
    fn csv_fields_are_guarded_and_shown() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "a,b");
        assert_eq!(csv_field("two\nlines"), "two\nlines");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("\rx"), "'\rx");
        assert_eq!(csv_field("\u{1b}]0;x\u{7}"), "[U+001B]]0;x[U+0007]");
        assert_eq!(csv_field("\u{202E}=cmd"), "[U+202E]=cmd");
    }

    #[test]
    fn xml_escapes_and_shows_what_xml_cannot_hold() {
        assert_eq!(xml_text("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(
            xml_text("bell\u{7}nul\u{0}end"),
            "bell[U+0007]nul[U+0000]end"
        );
        assert_eq!(xml_text("tab\tlf\ncr\r"), "tab\tlf\ncr&#13;");
        assert_eq!(xml_attr("tab\tlf\ncr\r"), "tab&#9;lf&#10;cr&#13;");
        assert_eq!(
            xml_text("x\u{FFFE}\u{FFFF}y\u{1F600}\u{202D}"),
            "x[U+FFFE][U+FFFF]y\u{1F600}[U+202D]"
        );
    }
}
