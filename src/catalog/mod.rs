//! Control catalogs: loading, validation and lint of the checks and framework files.
//!
//! Catalogs are data (`controls/` in the repository, embedded in the binary at build time) and
//! may be extended or overridden with `--controls DIR`: a file in DIR with the same relative path
//! as a built-in one replaces it, any other file adds to the catalog. Everything a later stage
//! relies on is validated here, with the file and line of the offending entry: YAML syntax,
//! unknown fields, duplicate ids, expressions that do not compile, parameters that are not
//! declared, framework requirements that point at no check. This module never evaluates a rule
//! against data.

pub mod fixes;
mod ids;
mod lint;
pub mod model;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::assessment::{AssessmentMode, CheckMode, ResourceKind};
use crate::rules::{self, Expr};
use model::{
    CheckDef, ChecksFile, FrameworkFile, FrameworkMeta, ParamDef, ParamType, ParamsFile,
    RequirementDef,
};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_controls.rs"));
}

/// A place in a catalog file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One problem found in the catalogs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The catalogs could not be loaded; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) in the control catalogs:\n{}", .0.len(), render_list(.0))]
pub struct CatalogError(pub Vec<Diagnostic>);

fn render_list(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("  {d}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A validated check with its expressions compiled.
#[derive(Debug, Clone)]
pub struct Check {
    pub def: CheckDef,
    pub applies_if: Option<Expr>,
    pub rule: Option<Expr>,
    /// Evidence expressions, in label order.
    pub evidence: Vec<(String, Expr)>,
    pub location: Location,
}

/// A validated framework.
#[derive(Debug, Clone)]
pub struct Framework {
    pub meta: FrameworkMeta,
    pub requirements: Vec<RequirementDef>,
    pub location: Location,
    /// Where each requirement is written, parallel to `requirements`.
    pub requirement_locations: Vec<Location>,
}

/// The loaded, validated catalogs.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub checks: Vec<Check>,
    pub frameworks: Vec<Framework>,
    pub params: BTreeMap<String, ParamDef>,
    /// Files loaded, `builtin:` prefixed for those embedded in the binary.
    pub sources: Vec<String>,
    /// SHA-256 over every file's name and content, in load order.
    pub sha256: String,
    /// Every file loaded with its own hash and where it came from, in load order.
    pub files: Vec<CatalogFile>,
}

/// Where a catalog file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogOrigin {
    /// Shipped inside the binary.
    Builtin,
    /// Given with `--controls` in place of a built-in file of the same path: its checks can
    /// be made to pass whatever the host holds.
    Overrides,
    /// Given with `--controls` in addition to the built-in files.
    Added,
}

/// One catalog file as loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CatalogFile {
    /// `builtin:checks/containers.yaml` or the path given.
    pub name: String,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
    pub origin: CatalogOrigin,
}

/// A catalog file before parsing.
struct SourceFile {
    /// Path relative to the catalog root (`checks/containers.yaml`).
    relative: String,
    /// Name shown in messages (`builtin:checks/containers.yaml` or a real path).
    display: String,
    text: String,
}

impl Catalog {
    /// Loads the built-in catalogs, then those under `extra` (which may override built-in files).
    pub fn load(extra: Option<&Path>) -> Result<Catalog, CatalogError> {
        let mut files = builtin_files();
        if let Some(dir) = extra {
            overlay(&mut files, read_dir_files(dir)?);
        }
        Self::from_files(files)
    }

    /// Loads catalog texts held in memory, each as `(path relative to a catalog root, text)`,
    /// laid over the built-in catalogs when `over_builtin` exactly as files under `--controls`
    /// are, and validated the same way. Messages name the relative path. For tests and fuzzing.
    pub fn from_texts(texts: &[(&str, &str)], over_builtin: bool) -> Result<Catalog, CatalogError> {
        let mut files = if over_builtin {
            builtin_files()
        } else {
            Vec::new()
        };
        let extra = texts
            .iter()
            .map(|(relative, text)| SourceFile {
                relative: relative.to_string(),
                display: relative.to_string(),
                text: text.to_string(),
            })
            .collect();
        overlay(&mut files, extra);
        Self::from_files(files)
    }

    /// Loads only the catalogs under `dir`, without the built-in ones (used by `controls lint`
    /// on a catalog directory).
    pub fn load_dir_only(dir: &Path) -> Result<Catalog, CatalogError> {
        Self::from_files(read_dir_files(dir)?)
    }

    fn from_files(files: Vec<SourceFile>) -> Result<Catalog, CatalogError> {
        let engine = rules::Engine::new();
        let mut diags = Vec::new();
        let mut hasher = Sha256::new();
        let mut checks = Vec::new();
        let mut frameworks = Vec::new();
        let mut params = BTreeMap::new();
        let mut saw_params = false;
        // A checks file that does not parse would make every reference to its checks dangle;
        // those follow-on messages would only bury the real one.
        let mut checks_unreadable = false;
        for file in &files {
            hasher.update(file.relative.as_bytes());
            hasher.update([0]);
            hasher.update(file.text.as_bytes());
            hasher.update([0]);
            if file.relative == "params.yaml" {
                saw_params = true;
                match parse::<ParamsFile>(file) {
                    Ok(p) => params = p.params,
                    Err(d) => diags.push(d),
                }
            } else if file.relative.starts_with("checks/") {
                match parse::<ChecksFile>(file) {
                    Ok(parsed) => {
                        for def in parsed.checks {
                            checks.push(compile_check(&engine, file, def, &mut diags));
                        }
                    }
                    Err(d) => {
                        diags.push(d);
                        checks_unreadable = true;
                    }
                }
            } else if file.relative.starts_with("frameworks/") {
                match parse::<FrameworkFile>(file) {
                    Ok(parsed) => frameworks.push(Framework {
                        location: locate(file, "id", &parsed.framework.id),
                        requirement_locations: parsed
                            .requirements
                            .iter()
                            .map(|r| locate(file, "id", &r.id))
                            .collect(),
                        meta: parsed.framework,
                        requirements: parsed.requirements,
                    }),
                    Err(d) => diags.push(d),
                }
            } else {
                diags.push(Diagnostic {
                    location: Location { file: file.display.clone(), line: 1 },
                    message: "not a catalog file: expected params.yaml, checks/*.yaml or frameworks/*.yaml".into(),
                });
            }
        }
        if !saw_params {
            diags.push(Diagnostic {
                location: Location {
                    file: "params.yaml".into(),
                    line: 1,
                },
                message: "missing: the catalog has no params.yaml".into(),
            });
        }
        validate(
            &checks,
            &frameworks,
            &params,
            !checks_unreadable,
            &mut diags,
        );
        if !diags.is_empty() {
            diags.sort();
            diags.dedup();
            return Err(CatalogError(diags));
        }
        Ok(Catalog {
            checks,
            frameworks,
            params,
            files: files.iter().map(catalog_file).collect(),
            sources: files.into_iter().map(|f| f.display).collect(),
            sha256: hex::encode(hasher.finalize()),
        })
    }

    /// A check by id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.def.id == id)
    }

    /// A framework by id.
    pub fn framework(&self, id: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.meta.id == id)
    }

    /// Parameter values: declared defaults, overridden by `KEY=VALUE` pairs from the command
    /// line, parsed according to each parameter's type.
    pub fn resolve_params(
        &self,
        overrides: &[(String, String)],
    ) -> Result<BTreeMap<String, Value>, String> {
        let mut values: BTreeMap<String, Value> = self
            .params
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone()))
            .collect();
        for (key, raw) in overrides {
            let def = self.params.get(key).ok_or_else(|| {
                let known: Vec<&str> = self.params.keys().map(String::as_str).collect();
                format!(
                    "unknown parameter `{key}`; known parameters: {}",
                    known.join(", ")
                )
            })?;
            let value =
                match def.kind {
                    ParamType::String => Value::String(raw.clone()),
                    ParamType::Int => raw.trim().parse::<i64>().map(Value::from).map_err(|_| {
                        format!("parameter `{key}` takes a whole number, not `{raw}`")
                    })?,
                    ParamType::Bool => match raw.trim() {
                        "true" | "yes" | "1" => Value::Bool(true),
                        "false" | "no" | "0" => Value::Bool(false),
                        _ => {
                            return Err(format!(
                                "parameter `{key}` takes true or false, not `{raw}`"
                            ))
                        }
                    },
                    ParamType::List => Value::Array(
                        raw.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| Value::String(s.to_string()))
                            .collect(),
                    ),
                };
            values.insert(key.clone(), value);
        }
        Ok(values)
    }
}

/// The catalog files embedded in the binary.
fn builtin_files() -> Vec<SourceFile> {
    builtin::BUILTIN
        .iter()
        .map(|(rel, text)| SourceFile {
            relative: rel.to_string(),
            display: format!("builtin:{rel}"),
            text: text.to_string(),
        })
        .collect()
}

fn catalog_file(f: &SourceFile) -> CatalogFile {
    let origin = if f.display.starts_with("builtin:") {
        CatalogOrigin::Builtin
    } else if builtin::BUILTIN.iter().any(|(rel, _)| *rel == f.relative) {
        CatalogOrigin::Overrides
    } else {
        CatalogOrigin::Added
    };
    CatalogFile {
        name: f.display.clone(),
        sha256: hex::encode(Sha256::digest(f.text.as_bytes())),
        origin,
    }
}

/// Adds `extra` to `files`; a file with the relative path of an existing one replaces it.
fn overlay(files: &mut Vec<SourceFile>, extra: Vec<SourceFile>) {
    for file in extra {
        match files.iter_mut().find(|f| f.relative == file.relative) {
            Some(existing) => *existing = file,
            None => files.push(file),
        }
    }
}

fn read_dir_files(dir: &Path) -> Result<Vec<SourceFile>, CatalogError> {
    let io_err = |path: &Path, e: &dyn fmt::Display| {
        CatalogError(vec![Diagnostic {
            location: Location {
                file: path.display().to_string(),
                line: 0,
            },
            message: format!("cannot read: {e}"),
        }])
    };
    if !dir.is_dir() {
        return Err(io_err(dir, &"not a directory"));
    }
    let mut files = Vec::new();
    // Symbolic links are followed (a Kubernetes ConfigMap mount is all links; walkdir reports
    // loops). Hidden entries are left out: a ConfigMap keeps each version of its files in
    // `..<timestamp>/` and `..data/`, which would otherwise be read twice. A `.yaml` that is not
    // a regular file once followed (a FIFO, a device, a dangling link) is an error naming it.
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walk {
        let entry = entry.map_err(|e| io_err(dir, &e))?;
        let path = entry.path();
        let is_yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if entry.file_type().is_dir() || !is_yaml {
            continue;
        }
        let text = crate::input::read_to_string(path, "catalog file", crate::input::MAX_CATALOG)
            .map_err(|e| io_err(path, &e))?;
        let relative = path
            .strip_prefix(dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        files.push(SourceFile {
            relative,
            display: path.display().to_string(),
            text,
        });
    }
    Ok(files)
}

fn parse<T: serde::de::DeserializeOwned>(file: &SourceFile) -> Result<T, Diagnostic> {
    serde_yaml_ng::from_str(&file.text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(1);
        // The library appends "at line N column M"; the location already says it.
        let message = e.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        Diagnostic {
            location: Location {
                file: file.display.clone(),
                line,
            },
            message,
        }
    })
}

/// Finds the line of `key: value` (value optionally quoted) in a file; 1 when not found.
fn locate(file: &SourceFile, key: &str, value: &str) -> Location {
    let line = file
        .text
        .lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim();
            l.strip_prefix(key)
                .and_then(|rest| rest.trim_start().strip_prefix(':'))
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == value)
                .unwrap_or(false)
        })
        .map(|i| i + 1)
        .unwrap_or(1);
    Location {
        file: file.display.clone(),
        line,
    }
}

/// Finds the line of `key:` at or after `from` (the line of the entry's id).
fn locate_key_after(file: &SourceFile, from: usize, key: &str) -> usize {
    file.text
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(key) && t[key.len()..].trim_start().starts_with(':')
        })
        .map(|(i, _)| i + 1)
        .unwrap_or(from)
}

fn compile_check(
    engine: &rules::Engine,
    file: &SourceFile,
    def: CheckDef,
    diags: &mut Vec<Diagnostic>,
) -> Check {
    let location = locate(file, "id", &def.id);
    let mut compile = |what: &str, key: &str, src: &str| -> Option<Expr> {
        match engine.compile(src) {
            Ok(e) => Some(e),
            Err(e) => {
                let line = locate_key_after(file, location.line, key);
                diags.push(Diagnostic {
                    location: Location {
                        file: file.display.clone(),
                        line,
                    },
                    message: format!("check `{}`: {what} {e}", def.id),
                });
                None
            }
        }
    };
    let applies_if = def
        .applies_if
        .as_deref()
        .and_then(|s| compile("applies_if", "applies_if", s));
    let rule = def.rule.as_deref().and_then(|s| compile("rule", "rule", s));
    let evidence = def
        .evidence
        .iter()
        .filter_map(|(label, src)| {
            compile(&format!("evidence `{label}`"), label, src).map(|e| (label.clone(), e))
        })
        .collect();
    Check {
        def,
        applies_if,
        rule,
        evidence,
        location,
    }
}

fn params_read(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(pos) = rest.find("params.") {
        let before_ok = pos == 0
            || !rest[..pos].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
        let tail = &rest[pos + "params.".len()..];
        let name: String = tail
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if before_ok && !name.is_empty() {
            names.insert(name);
        }
        rest = tail;
    }
    names
}

fn is_valid_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let valid_part = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    parts.clone().count() >= 2 && parts.all(valid_part)
}

fn validate(
    checks: &[Check],
    frameworks: &[Framework],
    params: &BTreeMap<String, ParamDef>,
    check_references: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<&str, &Location> = HashMap::new();
    for check in checks {
        let def = &check.def;
        let at = |message: String| Diagnostic {
            location: check.location.clone(),
            message,
        };
        if let Some(first) = seen.insert(def.id.as_str(), &check.location) {
            diags.push(at(format!(
                "duplicate check id `{}` (first defined at {first})",
                def.id
            )));
        }
        if !is_valid_id(&def.id) {
            diags.push(at(format!(
                "check id `{}` must be dotted lowercase words, e.g. `container.privileged`",
                def.id
            )));
        }
        if def.file_role.is_some() && def.resource != ResourceKind::File {
            diags.push(at(format!(
                "check `{}`: `file_role` only applies to `resource: file`",
                def.id
            )));
        }
        match def.mode {
            CheckMode::Automated if def.rule.is_none() => {
                diags.push(at(format!("automated check `{}` has no `rule`", def.id)))
            }
            CheckMode::Manual if def.rule.is_some() => diags.push(at(format!(
                "manual check `{}` has a `rule`; make it automated or remove the rule",
                def.id
            ))),
            CheckMode::Manual if def.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) => diags
                .push(at(format!(
                    "manual check `{}` needs a `prompt` for the assessor",
                    def.id
                ))),
            _ => {}
        }
        let exprs = def
            .rule
            .iter()
            .chain(def.applies_if.iter())
            .chain(def.evidence.values());
        let declared: BTreeSet<&str> = def.params.iter().map(String::as_str).collect();
        for name in exprs.flat_map(|e| params_read(e)) {
            if !declared.contains(name.as_str()) {
                diags.push(at(format!(
                    "check `{}` reads params.{name} but does not list it under `params`",
                    def.id
                )));
            }
        }
        for name in &def.params {
            if !params.contains_key(name) {
                diags.push(at(format!(
                    "check `{}` uses parameter `{name}`, which params.yaml does not define",
                    def.id
                )));
            }
        }
    }
    let mut framework_ids: HashMap<&str, &Location> = HashMap::new();
    for fw in frameworks {
        let at = |message: String| Diagnostic {
            location: fw.location.clone(),
            message,
        };
        if let Some(first) = framework_ids.insert(fw.meta.id.as_str(), &fw.location) {
            diags.push(at(format!(
                "duplicate framework id `{}` (first defined at {first})",
                fw.meta.id
            )));
        }
        let mut req_ids = BTreeSet::new();
        for (req, location) in fw.requirements.iter().zip(&fw.requirement_locations) {
            let at = |message: String| Diagnostic {
                location: location.clone(),
                message: format!("{} requirement {}: {message}", fw.meta.id, req.id),
            };
            if !req_ids.insert(req.id.as_str()) {
                diags.push(at("duplicate requirement id".into()));
            }
            for id in req.checks.iter().chain(req.supporting.iter()) {
                if check_references && !seen.contains_key(id.as_str()) {
                    diags.push(at(format!("refers to check `{id}`, which does not exist")));
                }
            }
            let needs_prompt = req.mode != AssessmentMode::Automated;
            if needs_prompt && req.prompt.as_deref().is_none_or(|p| p.trim().is_empty()) {
                diags.push(at("partial and manual requirements need a `prompt` saying what evidence to collect".into()));
            }
            if req.mode == AssessmentMode::Automated && req.checks.is_empty() {
                diags.push(at("automated requirement lists no deciding `checks`".into()));
            }
            if let Some(level) = &req.level {
                if level != "required" && level != "addressable" {
                    diags.push(at(format!(
                        "level must be `required` or `addressable`, not `{level}`"
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
