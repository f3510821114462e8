//! Reading the files that hold people's decisions: waivers (`--waivers`) and attestations
//! (`--attestations`). Both are YAML lists under one top-level key; every problem is reported
//! with the file and the line of the entry it concerns, and all problems are listed at once.
//!
//! This module only parses and validates text it is given; it never opens a file.

use std::fmt;

use serde::de::DeserializeOwned;

/// One problem in a waiver or attestation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A waiver or attestation file could not be used; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("{}", render(.0))]
pub struct DecisionFileError(pub Vec<Problem>);

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Entries that parsed, each with the line it starts on, and the problems of those that did
/// not (so the caller can add its own and report them all at once).
pub(crate) type Parsed<T> = (Vec<(usize, T)>, Vec<Problem>);

/// The entries under `key` in `text`. A file whose shape is wrong as a whole is an error.
pub(crate) fn entries<T: DeserializeOwned>(
    text: &str,
    file: &str,
    key: &'static str,
) -> Result<Parsed<T>, DecisionFileError> {
    let problem = |line: usize, message: String| {
        DecisionFileError(vec![Problem {
            file: file.to_string(),
            line,
            message,
        }])
    };
    // Any other top-level key is rejected: a misspelt `waiver:` would otherwise silently waive
    // nothing.
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(1);
        problem(line, strip_location(&e.to_string()))
    })?;
    let mapping = match value {
        serde_yaml_ng::Value::Mapping(m) => m,
        serde_yaml_ng::Value::Null => {
            return Err(problem(1, format!("the file is empty; expected `{key}:`")))
        }
        _ => return Err(problem(1, format!("expected a mapping with `{key}:`"))),
    };
    let mut list = None;
    for (k, v) in mapping {
        match k.as_str() {
            Some(k) if k == key => list = Some(v),
            other => {
                let name = other.unwrap_or("(non-string key)");
                return Err(problem(
                    line_of_key(text, name),
                    format!("unknown top-level key `{name}`; expected `{key}:`"),
                ));
            }
        }
    }
    let Some(list) = list else {
        return Err(problem(1, format!("no `{key}:` list")));
    };
    let items = match list {
        serde_yaml_ng::Value::Sequence(items) => items,
        serde_yaml_ng::Value::Null => Vec::new(),
        _ => {
            return Err(problem(
                line_of_key(text, key),
                format!("`{key}` must be a list"),
            ))
        }
    };
    let lines = item_lines(text, key);
    let mut out = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let line = lines
            .get(i)
            .copied()
            .unwrap_or_else(|| line_of_key(text, key));
        match serde_yaml_ng::from_value::<T>(item) {
            Ok(entry) => out.push((line, entry)),
            Err(e) => problems.push(Problem {
                file: file.to_string(),
                line,
                message: format!("entry {}: {}", i + 1, strip_location(&e.to_string())),
            }),
        }
    }
    Ok((out, problems))
}

/// serde_yaml_ng appends "at line N column M"; the problem's location already says it.
fn strip_location(message: &str) -> String {
    message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_string()
}

/// Line of the first `key:` at the start of a line; 1 when not found.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(1, |i| i + 1)
}

/// The line each item of the block list under `key:` starts on. Items are the lines that
/// begin with `- ` at the indentation of the first one.
fn item_lines(text: &str, key: &str) -> Vec<usize> {
    let start = line_of_key(text, key);
    let mut indent = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate().skip(start) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match indent {
            None if is_item => {
                indent = Some(depth);
                lines.push(i + 1);
            }
            None => break,
            Some(d) if depth == d && is_item => lines.push(i + 1),
            Some(d) if depth < d || (depth == d && !is_item) => break,
            Some(_) => {}
        }
    }
    lines
}

/// Whether `text` matches the glob `pattern` (`*` any run, `?` one character, otherwise
/// literal and case-sensitive).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        name: String,
    }

    #[test]
    fn entries_carry_the_line_they_start_on() {
        let text = "# header\nitems:\n  - name: a\n\n  # note\n  - name: b\n";
        let (got, problems): Parsed<Item> = entries(text, "f.yaml", "items").unwrap();
        assert!(problems.is_empty());
        assert_eq!(got[0].0, 3);
        assert_eq!(got[1].0, 6);
        assert_eq!(got[1].1.name, "b");
    }

    #[test]
    fn every_bad_entry_is_named_by_line() {
        let text = "items:\n- name: a\n- nmae: b\n- name: c\n  extra: 1\n";
        let (ok, problems) = entries::<Item>(text, "f.yaml", "items").unwrap();
        assert_eq!(ok.len(), 1);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(problems[0].message.contains("nmae"));
        assert!(problems[0].to_string().starts_with("f.yaml:3: entry 2"));
    }

    #[test]
    fn a_misspelt_top_level_key_is_an_error_not_an_empty_list() {
        let err = entries::<Item>("item:\n- name: a\n", "f.yaml", "items").unwrap_err();
        assert_eq!(err.0[0].line, 1);
        assert!(err.0[0].message.contains("unknown top-level key `item`"));
    }

    #[test]
    fn broken_yaml_names_its_line() {
        let err = entries::<Item>("items:\n  - name: [a\n", "f.yaml", "items").unwrap_err();
        assert!(err.0[0].line >= 2, "{err}");
    }

    #[test]
    fn globs() {
        assert!(glob("web-*", "web-1"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(glob("*/node-exporter:*", "prom/node-exporter:v1.8"));
        assert!(!glob("web-*", "api-1"));
        assert!(!glob("web", "web-1"));
        assert!(glob("*a*b", "xxaxxb"));
        assert!(!glob("*a*b", "xxaxxbx"));
    }
}
