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

/// The same six replacements as `tera::escape_html` (OWASP's rule for HTML text and quoted
/// attributes), so that output written here and by the template escapes identically.
pub(super) fn escape_into(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            b'/' => "&#x2F;",
            _ => continue,
        };
        // Every byte matched is ASCII, so `i` is a char boundary.
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
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
