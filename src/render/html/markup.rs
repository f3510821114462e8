//! A small HTML writer for the sections written outside Tera: markup is appended as is, text is
//! escaped the way Tera's auto-escape does, and the buffer goes to the output in chunks so the
//! page never has to be held whole.

use std::fmt::Write as _;
use std::io::{self, Write};

/// Flush the buffer once it holds this much.
const CHUNK: usize = 64 * 1024;

pub(super) struct Html<'o> {
    buf: String,
    out: &'o mut dyn Write,
}

impl<'o> Html<'o> {
    pub(super) fn new(out: &'o mut dyn Write) -> Self {
        Html {
            buf: String::with_capacity(CHUNK + CHUNK / 4),
            out,
        }
    }

    /// Appends markup written by dockproof itself, never host or catalog data.
    pub(super) fn raw(&mut self, markup: &str) -> &mut Self {
        self.buf.push_str(markup);
        self
    }

    /// Appends text, escaped for element content and quoted attribute values.
    pub(super) fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.buf, text);
        self
    }

    pub(super) fn num(&mut self, n: usize) -> &mut Self {
        // Writing to a String cannot fail.
        let _ = write!(self.buf, "{n}");
        self
    }

    pub(super) fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is left; the caller owns (and flushes) the output.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.out.write_all(self.buf.as_bytes())?;
        self.buf.clear();
        Ok(())
    }
}

/// Escapes `text` for HTML with the shared neutraliser ([`crate::text::html_into`]): Tera's
/// six replacements plus bidirectional and control characters made visible. The template uses
/// the same function (see [`escape`]), so output written here and by Tera escapes identically.
pub(super) fn escape_into(out: &mut String, text: &str) {
    crate::text::html_into(out, text);
}

/// [`escape_into`] as a new string, for Tera's `set_escape_fn`.
pub(super) fn escape(text: &str) -> String {
    crate::text::html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_like_tera() {
        for s in [
            "",
            "plain",
            "<script>alert(1)</script>\"'&",
            "a/b & c > d < e",
            "ünïcödé / 日本 <b>",
            "&amp; already",
        ] {
            let mut out = String::new();
            escape_into(&mut out, s);
            assert_eq!(out, tera::escape_html(s), "{s:?}");
        }
    }

    #[test]
    fn bidirectional_controls_are_shown_not_obeyed() {
        assert_eq!(escape("\u{202E}gnp.exe"), "[U+202E]gnp.exe");
        assert_eq!(
            escape("a\u{2066}<b>\u{2069}\u{200F}"),
            "a[U+2066]&lt;b&gt;[U+2069][U+200F]"
        );
        // Right-to-left letters are text like any other and stay as they are.
        assert_eq!(escape("שלום مرحبا"), "שלום مرحبا");
    }

    #[test]
    fn writes_everything_on_finish_and_chunks_before() {
        let mut sink = Vec::new();
        {
            let mut h = Html::new(&mut sink);
            h.raw("<p>").text("a<b").raw("</p>").num(42);
            h.flush_if_full().expect("write");
            h.finish().expect("write");
        }
        assert_eq!(String::from_utf8(sink).expect("utf-8"), "<p>a&lt;b</p>42");
    }
}
