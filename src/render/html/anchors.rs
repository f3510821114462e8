//! Anchors for the report's internal links, derived from host and catalog strings.
//!
//! A container name or a requirement id can hold anything; an `id` attribute in the report holds
//! only `[a-z0-9-]`, so it is safe in `id`, `href="#…"` and `data-*` without further escaping,
//! and it is unique in the page.

use std::collections::HashSet;

/// Longest slug kept from one string; uniqueness suffixes come on top.
const MAX_SLUG: usize = 64;

/// Turns any string into `[a-z0-9-]+`: lower-cased ASCII letters and digits, every other run of
/// characters one `-`, no leading or trailing `-`; `x` when nothing is left.
pub(super) fn slug(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars().flat_map(char::to_lowercase) {
        if out.len() >= MAX_SLUG {
            break;
        }
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    match out.trim_end_matches('-') {
        "" => "x".to_string(),
        s => s.to_string(),
    }
}

/// Hands out anchors that are unique in the page, suffixing `-2`, `-3`… on collisions.
#[derive(Default)]
pub(super) struct Anchors(HashSet<String>);

impl Anchors {
    /// `prefix-slug(raw)`, made unique. `prefix` must already be a slug.
    pub(super) fn make(&mut self, prefix: &str, raw: &str) -> String {
        let base = format!("{prefix}-{}", slug(raw));
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.0.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_only_safe_characters() {
        assert_eq!(
            slug("<script>alert(1)</script>\"'&"),
            "script-alert-1-script"
        );
        assert_eq!(slug("164.312(a)(1)"), "164-312-a-1");
        assert_eq!(slug("Ünïcode/../"), "n-code");
        assert_eq!(slug("***"), "x");
        assert_eq!(slug(&"a".repeat(100)).len(), MAX_SLUG);
    }

    #[test]
    fn anchors_are_unique() {
        let mut a = Anchors::default();
        assert_eq!(a.make("res-container", "web"), "res-container-web");
        assert_eq!(a.make("res-container", "WEB!"), "res-container-web-2");
        assert_eq!(a.make("res-container", "web"), "res-container-web-3");
        assert_eq!(a.make("res-image", "web"), "res-image-web");
    }
}
