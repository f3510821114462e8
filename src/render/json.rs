//! `assessment.json`: the assessment exactly as evaluated, pretty-printed.
//!
//! This file is the machine-readable record of a bundle and what `dockproof diff` reads, so it is
//! the [`Assessment`] serialised as is: no reshaping, no omitted fields, no derived values. It
//! must round-trip to an equal `Assessment`.

use std::io::Write;

use crate::assessment::Assessment;

use super::{RenderError, Renderer};

/// Writes the assessment as pretty JSON followed by a newline.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonRenderer;

impl Renderer for JsonRenderer {
    fn name(&self) -> &'static str {
        "json"
    }

    fn file_name(&self) -> &'static str {
        "assessment.json"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        super::write_json(out, assessment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_assessment;

    fn render(a: &Assessment) -> String {
        let mut buf = Vec::new();
        JsonRenderer.render(a, &mut buf).expect("render");
        String::from_utf8(buf).expect("utf-8")
    }

    #[test]
    fn round_trips_to_an_equal_assessment() {
        let a = sample_assessment();
        let text = render(&a);
        let back: Assessment = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, a);
    }

    #[test]
    fn is_pretty_and_ends_with_newline() {
        let text = render(&sample_assessment());
        assert!(
            text.starts_with("{\n  \"schema_version\": 2,\n"),
            "{}",
            &text[..40]
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn keeps_host_strings_verbatim() {
        let text = render(&sample_assessment());
        // JSON escapes quotes only; markup stays as observed (escaping is the HTML renderer's job).
        assert!(text.contains(r#""name": "<script>alert(1)</script>\"'&""#));
        assert!(text.contains(r#""not_applicable": 1"#));
    }
}
