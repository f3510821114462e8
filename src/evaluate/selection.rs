//! Selection: which checks run and which containers they judge (`--check`, `--skip`,
//! `--filter`).
//!
//! A check pattern is a check id (`container.privileged`), a glob over check ids
//! (`container.*`), or a CIS Docker Benchmark number (`5.4`, which also takes its
//! sub-recommendations such as `5.4.1`, or a glob such as `2.*`): the checks that reference the
//! number and those the benchmark's recommendation lists. A pattern that names no check
//! of the catalogs is an error, so a typo never quietly runs nothing.
//!
//! Container filters follow `docker ps --filter` exactly, so that a selection can be checked
//! against the docker CLI:
//! - `name=RE`: the regular expression matches anywhere in the container's name as the engine
//!   stores it (with its leading `/`, so `name=^/web$` is an exact name); several `name`
//!   filters match when any does;
//! - `id=RE`: the same over the full container id (a prefix of the id matches);
//! - `label=KEY` or `label=KEY=VALUE`: the label is set (with that exact value); several
//!   `label` filters must all hold;
//! - different keys must all hold.
//!
//! Unlike the engine, which treats a regular expression it cannot compile as matching nothing,
//! a malformed filter is an error here: a selection that silently keeps nothing would read as a
//! clean host.
//!
//! Selection never launders results: what it leaves out is recorded (see
//! [`crate::assessment::SelectionRecord`]) and a requirement whose deciding evidence it narrowed
//! is `excluded_by_selection`, never consistent with in place (see `rollup`).

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use crate::catalog::Catalog;

/// Why a selection was refused.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error(
        "{flag} `{pattern}` matches no check id, glob or CIS number of the catalogs; \
         `dockproof controls list` lists them"
    )]
    NoSuchCheck { flag: &'static str, pattern: String },
    #[error("{flag} `{pattern}` is not a usable pattern: {why}")]
    BadPattern {
        flag: &'static str,
        pattern: String,
        why: String,
    },
    #[error("--filter `{filter}`: {why}")]
    BadFilter { filter: String, why: String },
}

/// One container filter, in `docker ps --filter` form.
#[derive(Debug, Clone)]
enum Filter {
    Name(Regex),
    Id(Regex),
    Label { key: String, value: Option<String> },
}

/// The checks to run and the containers to judge. The default selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--check` patterns as given.
    pub checks: Vec<String>,
    /// `--skip` patterns as given.
    pub skip: Vec<String>,
    /// `--filter` expressions as given.
    pub filters: Vec<String>,
    /// Ids of the catalog checks left out (not asked for, or skipped), sorted.
    skipped: BTreeSet<String>,
    parsed: Vec<Filter>,
}

impl Selection {
    /// Resolves the patterns against `catalog` and parses the filters. Comma lists are split.
    pub fn new(
        checks: &[String],
        skip: &[String],
        filters: &[String],
        catalog: &Catalog,
    ) -> Result<Selection, SelectionError> {
        let checks = split_commas(checks);
        let skip = split_commas(skip);
        let mut wanted: BTreeSet<&str> = if checks.is_empty() {
            catalog.checks.iter().map(|c| c.def.id.as_str()).collect()
        } else {
            BTreeSet::new()
        };
        for p in &checks {
            wanted.extend(matching(catalog, p, "--check")?);
        }
        for p in &skip {
            for id in matching(catalog, p, "--skip")? {
                wanted.remove(id);
            }
        }
        let skipped = catalog
            .checks
            .iter()
            .map(|c| c.def.id.as_str())
            .filter(|id| !wanted.contains(id))
            .map(str::to_string)
            .collect();
        let parsed = filters
            .iter()
            .map(|f| parse_filter(f))
            .collect::<Result<_, _>>()?;
        Ok(Selection {
            checks,
            skip,
            filters: filters.to_vec(),
            skipped,
            parsed,
        })
    }

    /// Whether anything was asked for: without it the run assessed everything.
    pub fn is_active(&self) -> bool {
        !self.checks.is_empty() || !self.skip.is_empty() || !self.filters.is_empty()
    }

    /// Whether the check runs.
    pub fn runs(&self, check_id: &str) -> bool {
        !self.skipped.contains(check_id)
    }

    /// The checks left out, sorted.
    pub fn skipped(&self) -> impl Iterator<Item = &str> {
        self.skipped.iter().map(String::as_str)
    }

    /// Whether a container (its inspect document) is kept, as `docker ps --filter` decides.
    pub fn keeps_container(&self, inspect: &Value) -> bool {
        let text = |key: &str| inspect.get(key).and_then(Value::as_str).unwrap_or_default();
        let any = |pick: fn(&Filter) -> Option<&Regex>, source: &str| {
            let mut given = self.parsed.iter().filter_map(pick).peekable();
            given.peek().is_none() || given.any(|re| re.is_match(source))
        };
        let name_ok = any(
            |f| match f {
                Filter::Name(re) => Some(re),
                _ => None,
            },
            text("Name"),
        );
        let id_ok = any(
            |f| match f {
                Filter::Id(re) => Some(re),
                _ => None,
            },
            text("Id"),
        );
        let labels = inspect.pointer("/Config/Labels").and_then(Value::as_object);
        let labels_ok = self.parsed.iter().all(|f| match f {
            Filter::Label { key, value } => {
                match labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
                    None => false,
                    Some(v) => value.as_deref().is_none_or(|want| want == v),
                }
            }
            _ => true,
        });
        name_ok && id_ok && labels_ok
    }
}

fn split_commas(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// The ids of the checks `pattern` names; an error when it names none.
fn matching<'a>(
    catalog: &'a Catalog,
    pattern: &str,
    flag: &'static str,
) -> Result<Vec<&'a str>, SelectionError> {
    let glob = if pattern.contains(['*', '?']) {
        let source = format!(
            "^{}$",
            regex::escape(pattern)
                .replace(r"\*", ".*")
                .replace(r"\?", ".")
        );
        Some(Regex::new(&source).map_err(|e| SelectionError::BadPattern {
            flag,
            pattern: pattern.to_string(),
            why: e.to_string(),
        })?)
    } else {
        None
    };
    let cis = |number: &str| match &glob {
        Some(re) => re.is_match(number),
        None => {
            number == pattern
                || number
                    .strip_prefix(pattern)
                    .is_some_and(|rest| rest.starts_with('.'))
        }
    };
    // The checks a benchmark's matching recommendations name, besides the checks' own references.
    let by_benchmark: BTreeSet<&str> = catalog
        .frameworks
        .iter()
        .filter(|f| f.meta.vocabulary == crate::assessment::Vocabulary::Benchmark)
        .flat_map(|f| &f.requirements)
        .filter(|r| cis(&r.id))
        .flat_map(|r| r.checks.iter().chain(&r.supporting))
        .map(String::as_str)
        .collect();
    let ids: Vec<&str> = catalog
        .checks
        .iter()
        .filter(|c| {
            let id_matches = match &glob {
                Some(re) => re.is_match(&c.def.id),
                None => c.def.id == pattern,
            };
            id_matches
                || by_benchmark.contains(c.def.id.as_str())
                || c.def.references.cis_docker.iter().any(|n| cis(n))
        })
        .map(|c| c.def.id.as_str())
        .collect();
    if ids.is_empty() {
        return Err(SelectionError::NoSuchCheck {
            flag,
            pattern: pattern.to_string(),
        });
    }
    Ok(ids)
}

fn parse_filter(filter: &str) -> Result<Filter, SelectionError> {
    let bad = |why: String| SelectionError::BadFilter {
        filter: filter.to_string(),
        why,
    };
    let Some((key, value)) = filter.split_once('=') else {
        return Err(bad(
            "expected KEY=VALUE with KEY one of name, label, id (as `docker ps --filter`)".into(),
        ));
    };
    let regex =
        |value: &str| Regex::new(value).map_err(|e| bad(format!("not a regular expression: {e}")));
    match key.trim() {
        "name" => Ok(Filter::Name(regex(value)?)),
        "id" => Ok(Filter::Id(regex(value)?)),
        "label" => {
            let (key, value) = match value.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (value, None),
            };
            if key.is_empty() {
                return Err(bad(
                    "a label filter needs a key: label=KEY or label=KEY=VALUE".into(),
                ));
            }
            Ok(Filter::Label {
                key: key.to_string(),
                value,
            })
        }
        other => Err(bad(format!(
            "unknown filter key `{other}`; dockproof filters containers by name, label and id"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog() -> Catalog {
        Catalog::load(None).unwrap()
    }

    fn select(checks: &[&str], skip: &[&str], filters: &[&str]) -> Selection {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Selection::new(&s(checks), &s(skip), &s(filters), &catalog()).unwrap()
    }

    #[test]
    fn ids_globs_and_cis_numbers_pick_checks() {
        let s = select(&["container.privileged"], &[], &[]);
        assert!(s.runs("container.privileged"));
        assert!(!s.runs("daemon.live-restore"));
        let s = select(&["container.*"], &["container.privileged"], &[]);
        assert!(s.runs("container.memory-limit"));
        assert!(!s.runs("container.privileged"));
        assert!(!s.runs("image.healthcheck"));
        // CIS 4.6 is the image health check, 5.5 privileged containers; a comma list takes both.
        let s = select(&["4.6,5.5"], &[], &[]);
        assert!(s.runs("image.healthcheck"));
        assert!(s.runs("container.privileged"));
        assert!(!s.runs("container.memory-limit"));
    }

    #[test]
    fn a_cis_number_also_takes_the_checks_its_recommendation_lists() {
        // A site catalog whose check does not carry the number itself.
        let mut c = catalog();
        for check in &mut c.checks {
            check.def.references.cis_docker.retain(|n| n != "5.5");
        }
        let s = Selection::new(&["5.5".to_string()], &[], &[], &c).unwrap();
        assert!(s.runs("container.privileged"));
        assert!(!s.runs("container.memory-limit"));
    }

    #[test]
    fn a_pattern_naming_nothing_is_refused() {
        let none: Vec<String> = vec![];
        for (checks, skip) in [
            (vec!["9.99".to_string()], none.clone()),
            (none, vec!["nope.*".into()]),
        ] {
            let e = Selection::new(&checks, &skip, &[], &catalog()).unwrap_err();
            assert!(matches!(e, SelectionError::NoSuchCheck { .. }), "{e}");
        }
    }

    #[test]
    fn filters_follow_docker_ps() {
        let c = json!({"Id": "abc123def", "Name": "/web-1",
                       "Config": {"Labels": {"tier": "front", "empty": ""}}});
        let keeps = |f: &[&str]| select(&[], &[], f).keeps_container(&c);
        assert!(keeps(&[]));
        assert!(keeps(&["name=web"]));
        assert!(keeps(&["name=^/web-1$"]));
        assert!(!keeps(&["name=^web"]));
        assert!(keeps(&["name=db", "name=web"]));
        assert!(keeps(&["id=abc1"]));
        assert!(!keeps(&["id=zzz"]));
        assert!(keeps(&["label=tier", "label=tier=front", "label=empty="]));
        assert!(!keeps(&["label=tier", "label=other"]));
        assert!(!keeps(&["label=tier=back"]));
        assert!(!keeps(&["name=web", "label=tier=back"]));
    }

    #[test]
    fn malformed_filters_are_refused() {
        for f in ["name", "status=running", "name=(", "label="] {
            let e = Selection::new(&[], &[], &[f.to_string()], &catalog()).unwrap_err();
            assert!(matches!(e, SelectionError::BadFilter { .. }), "{f}: {e}");
        }
    }
}
