//! Everything `scan` and `report` read and check before the engine is contacted: the signing
//! key, the catalogs, `--framework`, `--param`, waivers, attestations, the other input files and
//! where the result goes. A mistake in any of them is an input error (exit 2) reported at once,
//! never after a collection that may take minutes or hang on a slow engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use serde_json::Value;

use dockproof::catalog::Catalog;
use dockproof::evaluate;
use dockproof::sign::Signer;
use dockproof::snapshot::Snapshot;

use super::commands::{CliError, ExitCodeExt, EXIT_INPUT};
use super::{EvaluationArgs, OutputArgs};

/// Where the result of `scan` or `report` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// A new bundle directory; `None` picks `dockproof-<host>-<UTC time>` once the host is known.
    Bundle(Option<PathBuf>),
    /// `--out -`: assessment.json on standard output, no bundle.
    Stdout,
}

/// The checked inputs of an evaluation.
pub struct Prepared {
    pub signer: Option<Signer>,
    pub catalog: Catalog,
    pub decisions: Decisions,
    pub params: BTreeMap<String, Value>,
    pub sink: Sink,
}

/// Waivers and attestations, read and checked against the catalog.
#[derive(Default)]
pub struct Decisions {
    pub waivers: Vec<evaluate::Waiver>,
    pub attestations: Vec<evaluate::Attestation>,
    pub selection: evaluate::Selection,
    pub scope: Option<dockproof::engagement::EngagementScope>,
    /// The decision files read, with their hashes, for the run provenance.
    pub inputs: Vec<dockproof::provenance::InputFile>,
}

/// Reads and checks every input of `scan` or `report` that does not come from the target.
pub fn prepare(evaluation: &EvaluationArgs, output: &OutputArgs) -> Result<Prepared, CliError> {
    let sink = sink(output)?;
    let signer = output
        .sign
        .as_deref()
        .map(Signer::load)
        .transpose()
        .context("--sign")
        .code(EXIT_INPUT)?;
    let catalog = load_catalog(evaluation.controls.as_deref())?;
    check_frameworks(&catalog, &evaluation.frameworks)?;
    let params = catalog
        .resolve_params(&evaluation.params)
        .map_err(|e| anyhow!("--param: {e}"))
        .code(EXIT_INPUT)?;
    let decisions = load_decisions(evaluation, &catalog)?;
    check_input_paths(evaluation)?;
    Ok(Prepared {
        signer,
        catalog,
        decisions,
        params,
        sink,
    })
}

/// `--out`: `-` streams, an existing path is refused (a bundle never replaces anything).
fn sink(output: &OutputArgs) -> Result<Sink, CliError> {
    match &output.out {
        Some(p) if p.as_os_str() == "-" => {
            if output.sign.is_some() {
                return Err(anyhow!(
                    "--sign needs a bundle to sign; `--out -` writes no bundle, only \
                     assessment.json on standard output"
                ))
                .code(EXIT_INPUT);
            }
            Ok(Sink::Stdout)
        }
        Some(p) if std::fs::symlink_metadata(p).is_ok() => Err(anyhow!(
            "--out {} already exists; a bundle never replaces anything: choose a new \
             directory name or remove the old one",
            dockproof::text::terminal(&p.display().to_string())
        ))
        .code(EXIT_INPUT),
        other => Ok(Sink::Bundle(other.clone())),
    }
}

/// Loads the built-in catalogs and those of `--controls`.
pub fn load_catalog(extra: Option<&Path>) -> Result<Catalog, CliError> {
    Catalog::load(extra).code(EXIT_INPUT)
}

/// Every `--framework` names a loaded framework.
pub fn check_frameworks(catalog: &Catalog, ids: &[String]) -> Result<(), CliError> {
    for id in ids {
        if catalog.framework(id).is_none() {
            let known: Vec<&str> = catalog
                .frameworks
                .iter()
                .map(|f| f.meta.id.as_str())
                .collect();
            return Err(anyhow!(
                "unknown framework `{}`; available: {} (`dockproof frameworks list`)",
                dockproof::text::terminal(id),
                known.join(", ")
            ))
            .code(EXIT_INPUT);
        }
    }
    Ok(())
}

fn load_decisions(evaluation: &EvaluationArgs, catalog: &Catalog) -> Result<Decisions, CliError> {
    fn read(path: &Path, what: &'static str) -> Result<String, CliError> {
        dockproof::input::read_to_string(path, what, dockproof::input::MAX_DECISIONS)
            .code(EXIT_INPUT)
    }
    let mut decisions = Decisions {
        selection: evaluation
            .selection
            .resolve(catalog)
            .map_err(|e| {
                // A pattern from the file or the environment is named with where it came from.
                let from: Vec<String> = (evaluation.config.effective.iter())
                    .flat_map(|c| &c.values)
                    .filter(|v| ["check", "skip", "filter"].contains(&v.key.as_str()))
                    .filter_map(|v| Some(format!("--{} from {}", v.key, v.origin.as_ref()?)))
                    .collect();
                match from.is_empty() {
                    true => anyhow!(e),
                    false => anyhow!(e).context(format!("selection ({})", from.join(", "))),
                }
            })
            .code(EXIT_INPUT)?,
        ..Decisions::default()
    };
    let mut record = |role: &str, path: &Path, text: &str| {
        decisions.inputs.push(dockproof::provenance::InputFile {
            role: role.to_string(),
            path: path.display().to_string(),
            sha256: dockproof::bundle::sha256_bytes(text.as_bytes()),
        })
    };
    let mut waivers = Vec::new();
    let mut attestations = Vec::new();
    if let Some(path) = &evaluation.waivers {
        let name = path.display().to_string();
        let text = read(path, "waiver file")?;
        record("waivers", path, &text);
        waivers = evaluate::parse_waivers(&text, &name, catalog)
            .context("invalid waivers")
            .code(EXIT_INPUT)?;
    }
    if let Some(path) = &evaluation.attestations {
        let name = path.display().to_string();
        let text = read(path, "attestation file")?;
        record("attestations", path, &text);
        attestations = evaluate::parse_attestations(&text, &name, catalog)
            .context("invalid attestations")
            .code(EXIT_INPUT)?;
    }
    // --- engagement scope (--scope) ---
    if let Some(path) = &evaluation.scope {
        let (parsed, input) = dockproof::engagement::EngagementScope::load(path)
            .context("invalid scope file")
            .code(EXIT_INPUT)?;
        decisions.scope = Some(parsed);
        decisions.inputs.push(input);
    }
    decisions.waivers = waivers;
    decisions.attestations = attestations;
    Ok(decisions)
}

/// The files and directories read after collection exist and are of the right kind now, so a
/// typo does not cost a scan. Their contents are read (and checked again) where they are used.
fn check_input_paths(evaluation: &EvaluationArgs) -> Result<(), CliError> {
    let show = |p: &Path| dockproof::text::terminal(&p.display().to_string()).into_owned();
    let dir = |flag: &str, p: &Path| -> Result<(), CliError> {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(anyhow!("{flag} {}: not a directory", show(p))).code(EXIT_INPUT),
            Err(e) => Err(anyhow!("{flag} {}: {e}", show(p))).code(EXIT_INPUT),
        }
    };
    if let Some(p) = &evaluation.history {
        dir("--history", p)?;
    }
    if let Some(p) = &evaluation.advisories {
        dir("--advisories", p)?;
    }
    for p in &evaluation.vuln_reports {
        match std::fs::metadata(p) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                return Err(anyhow!("--vuln-report {}: not a regular file", show(p)))
                    .code(EXIT_INPUT)
            }
            Err(e) => return Err(anyhow!("--vuln-report {}: {e}", show(p))).code(EXIT_INPUT),
        }
    }
    Ok(())
}

/// `report`'s argument, resolved to the snapshot it evaluates: a snapshot file; a bundle
/// directory (its `snapshot.json`); or a bundle's `assessment.json`, read with the loader
/// `diff` and `--history` use, then the `snapshot.json` beside it, which must be the very
/// snapshot the assessment was computed from (same SHA-256). Either way the evidence is
/// evaluated again with today's catalogs and options: a report is re-performed from evidence,
/// never copied from an earlier verdict.
pub fn report_snapshot(path: &Path) -> Result<(Snapshot, Vec<u8>), CliError> {
    let show = |p: &Path| dockproof::text::terminal(&p.display().to_string()).into_owned();
    if path.is_dir() {
        let inner = path.join(dockproof::bundle::SNAPSHOT_FILE);
        if !inner.exists() {
            return Err(anyhow!(
                "{} is a directory without {}: give a snapshot file, a bundle directory or a \
                 bundle's assessment.json",
                show(path),
                dockproof::bundle::SNAPSHOT_FILE
            ))
            .code(EXIT_INPUT);
        }
        return read_snapshot(&inner);
    }
    let bytes = dockproof::input::read(path, "snapshot", dockproof::input::MAX_SNAPSHOT)
        .code(EXIT_INPUT)?;
    let name = path.display().to_string();
    let snapshot_error = match Snapshot::from_slice(&bytes, &name) {
        Ok(snapshot) => return Ok((snapshot, bytes)),
        Err(e) => e,
    };
    let Ok(assessment) = dockproof::diff::load::from_slice(&bytes, &name) else {
        return Err(snapshot_error).code(EXIT_INPUT);
    };
    let beside = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(dockproof::bundle::SNAPSHOT_FILE);
    if !beside.exists() {
        return Err(anyhow!(
            "{} is an assessment; re-evaluating it needs the snapshot it was computed from, \
             expected at {}",
            show(path),
            show(&beside)
        ))
        .code(EXIT_INPUT);
    }
    let (snapshot, snapshot_bytes) = read_snapshot(&beside)?;
    let sha = dockproof::bundle::sha256_bytes(&snapshot_bytes);
    if sha != assessment.snapshot.sha256 {
        return Err(anyhow!(
            "{} was computed from a snapshot with SHA-256 {}, but {} has {}; give the snapshot \
             itself to report it",
            show(path),
            dockproof::text::terminal(&assessment.snapshot.sha256),
            show(&beside),
            sha
        ))
        .code(EXIT_INPUT);
    }
    Ok((snapshot, snapshot_bytes))
}

/// Reads a snapshot file.
pub fn read_snapshot(path: &Path) -> Result<(Snapshot, Vec<u8>), CliError> {
    let bytes = dockproof::input::read(path, "snapshot", dockproof::input::MAX_SNAPSHOT)
        .code(EXIT_INPUT)?;
    let snapshot = Snapshot::from_slice(&bytes, &path.display().to_string()).code(EXIT_INPUT)?;
    Ok((snapshot, bytes))
}

/// A single output file (`collect -o`) can be written: not a directory, and a new file's
/// directory exists. Returns whether it is a regular file (not stdout or a stream).
pub fn check_output_file(path: &Path) -> Result<bool, CliError> {
    use dockproof::destination::Destination;
    match Destination::of(path).code(EXIT_INPUT)? {
        Destination::File(file) => {
            let parent = match file.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            if !parent.is_dir() {
                return Err(anyhow!(
                    "cannot write {}: the directory {} does not exist",
                    dockproof::text::terminal(&path.display().to_string()),
                    dockproof::text::terminal(&parent.display().to_string())
                ))
                .code(EXIT_INPUT);
            }
            Ok(true)
        }
        Destination::Stdout | Destination::Stream(_) => Ok(false),
    }
}

/// `--out -` streams assessment.json and nothing else: formats asked for on the command line
/// besides `json` would be silently dropped, so they are a usage error instead.
/// Returns the subcommand's name with the message.
pub fn streamed_format_conflict(matches: &clap::ArgMatches) -> Option<(&str, String)> {
    let (name, sub) = matches.subcommand()?;
    if !matches!(name, "scan" | "report") {
        return None;
    }
    let streamed = sub
        .get_one::<PathBuf>("out")
        .is_some_and(|p| p.as_os_str() == "-");
    let given = sub.value_source("format") == Some(clap::parser::ValueSource::CommandLine);
    if !streamed || !given {
        return None;
    }
    let formats: Vec<&dockproof::render::Format> = sub
        .get_many::<dockproof::render::Format>("format")
        .map(Iterator::collect)
        .unwrap_or_default();
    let others: Vec<&str> = formats
        .iter()
        .filter(|f| ***f != dockproof::render::Format::Json)
        .map(|f| f.name())
        .collect();
    (!others.is_empty()).then(|| {
        let message = format!(
            "`--out -` writes only assessment.json to stdout; --format {} needs a bundle \
             directory (--out DIR)",
            others.join(",")
        );
        (name, message)
    })
}
