//! CEL's `matches()` with compiled patterns kept for reuse.
//!
//! The `cel` crate's own `matches` compiles its pattern on every call; the catalog's patterns are
//! literals evaluated once per resource, so at a thousand containers the same dozen patterns were
//! compiled tens of thousands of times (~7% of a full report). The crate's `regex` feature is
//! therefore off and this module registers `matches` in its place, with the same two forms
//! (`s.matches(re)` and `matches(s, re)`), the same RE2-like syntax (the `regex` crate, as
//! before) and the same error for an invalid pattern.

use std::cell::RefCell;
use std::collections::HashMap;

use cel::common::types::{CelBool, CelString};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

/// Patterns kept per thread. Patterns can come from evaluated data, not only from the catalog,
/// so the cache is bounded: when it is full it starts again empty.
const MAX_CACHED: usize = 256;

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// Registers `matches` on `env`, which must not already declare it.
pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>, id = "matches")?;
    cel::add_member_overload!(env, fn matches: (CelString, CelString) -> Result<CelBool>)?;
    Ok(())
}

fn matches(this: &CelString<'_>, re: &CelString<'_>) -> Result<CelBool, ExecutionError> {
    is_match(this.inner(), re.inner())
        .map(CelBool::from)
        .map_err(|message| ExecutionError::FunctionError {
            function: "matches".to_string(),
            message,
        })
}

/// Whether `pattern` matches anywhere in `text`; the error is cel's wording for a bad pattern.
pub(super) fn is_match(text: &str, pattern: &str) -> Result<bool, String> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(compiled) = cache.get(pattern) {
            return compiled
                .as_ref()
                .map(|re| re.is_match(text))
                .map_err(Clone::clone);
        }
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        let compiled =
            Regex::new(pattern).map_err(|err| format!("'{pattern}' not a valid regex:\n{err}"));
        let result = compiled
            .as_ref()
            .map(|re| re.is_match(text))
            .map_err(Clone::clone);
        cache.insert(pattern.to_string(), compiled);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_anywhere_unless_anchored_and_reuses_patterns() {
        assert_eq!(is_match("xrootx", "root"), Ok(true));
        assert_eq!(is_match("xrootx", "^root$"), Ok(false));
        assert_eq!(is_match("root:0", "^(|0|root)(:.*)?$"), Ok(true));
        assert_eq!(is_match("app", "^(|0|root)(:.*)?$"), Ok(false));
        CACHE.with(|c| assert!(c.borrow().contains_key("^(|0|root)(:.*)?$")));
    }

    #[test]
    fn bad_patterns_are_errors_every_time() {
        for _ in 0..2 {
            let err = is_match("foobar", "(foo").unwrap_err();
            assert!(err.starts_with("'(foo' not a valid regex:\n"), "{err}");
            assert!(err.contains("unclosed group"), "{err}");
        }
    }

    #[test]
    fn the_cache_stays_bounded() {
        for i in 0..(MAX_CACHED + 10) {
            assert_eq!(is_match("a1", &format!("a{i}")), Ok(i == 1));
        }
        CACHE.with(|c| assert!(c.borrow().len() <= MAX_CACHED));
    }
}
