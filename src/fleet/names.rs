//! Directory names for the hosts of a fleet bundle.
//!
//! Host names come from hostile input (a targets file, a snapshot's reported hostname), so each
//! becomes one safe path component: ASCII letters, digits, `.`, `_` and `-`, every other
//! character `_`, no leading dot (so never `.`, `..` or hidden), at most 64 characters, `host`
//! when nothing is left. Names are then made unique in the order given: cloned hosts share
//! hostnames, and `a/b` and `a_b` would otherwise meet. A repeat gets `-2`, `-3`, … (the first
//! free suffix), compared without case so the bundle unpacks the same on case-insensitive
//! filesystems. The same names in the same order always give the same directories.

use std::collections::HashSet;

/// Longest directory name.
pub const MAX_LEN: usize = 64;

/// One name as a safe path component (not yet unique).
pub fn sanitise(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed: String = mapped
        .trim_start_matches('.')
        .chars()
        .take(MAX_LEN)
        .collect();
    if trimmed.is_empty() {
        "host".to_string()
    } else {
        trimmed
    }
}

/// Hands out unique directory names, one at a time, in the order asked.
#[derive(Debug, Default)]
pub struct Namer {
    taken: HashSet<String>,
}

impl Namer {
    /// A safe directory name for `name` that no earlier call returned.
    pub fn next(&mut self, name: &str) -> String {
        let base = sanitise(name);
        let mut candidate = base.clone();
        let mut n = 2usize;
        while self.taken.contains(&candidate.to_ascii_lowercase()) {
            let suffix = format!("-{n}");
            let keep = MAX_LEN.saturating_sub(suffix.len());
            candidate = format!("{}{suffix}", &base[..base.len().min(keep)]);
            n += 1;
        }
        self.taken.insert(candidate.to_ascii_lowercase());
        candidate
    }
}

/// Unique safe directory names for `names`, in their order.
pub fn assign<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut namer = Namer::default();
    names.into_iter().map(|n| namer.next(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_one_plain_component() {
        assert_eq!(sanitise("../x"), "_x");
        assert_eq!(sanitise("a/b"), "a_b");
        assert_eq!(sanitise("."), "host");
        assert_eq!(sanitise(".."), "host");
        assert_eq!(sanitise(""), "host");
        assert_eq!(sanitise(".hidden"), "hidden");
        assert_eq!(sanitise("web\u{202e}1"), "web_1");
        assert_eq!(sanitise("b\\c\n"), "b_c_");
        assert_eq!(sanitise(&"x".repeat(300)).len(), MAX_LEN);
        for name in ["../x", "a/b", ".", "\u{202e}", "web-1.example.com"] {
            let s = sanitise(name);
            assert!(
                !s.starts_with('.') && !s.contains('/') && s.is_ascii(),
                "{s}"
            );
        }
    }

    #[test]
    fn repeats_get_the_first_free_suffix_in_order() {
        assert_eq!(
            assign(["web", "web", "a/b", "a_b", "WEB", "web-2"]),
            vec!["web", "web-2", "a_b", "a_b-2", "WEB-3", "web-2-2"]
        );
        let long = "y".repeat(80);
        let names = assign([long.as_str(), long.as_str()]);
        assert_eq!(names[1].len(), MAX_LEN);
        assert!(names[1].ends_with("-2"));
        assert_ne!(names[0], names[1]);
    }

    #[test]
    fn the_same_input_gives_the_same_names() {
        let input = ["node", "node", ".", "\u{202e}"];
        assert_eq!(assign(input), assign(input));
    }
}
