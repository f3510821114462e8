//! Wiring of each command: library stages in order, errors mapped to exit codes.
//!
//! Exit codes: 0 done and nothing failed at or above `--fail-on`; 1 failures at or above
//! `--fail-on` (for `diff`: unwaived new failures at or above `--fail-on-new`); 2 usage,
//! catalog or input error; 3 engine unreachable or collection failed.
//! `verify` follows the same contract: 1 means it ran and the bundle did not verify (the
//! verification counterpart of "checks failed"), 2 that the bundle or key could not be read.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context as _};

use dockproof::assessment::Assessment;
use dockproof::bundle;
use dockproof::catalog::Catalog;
use dockproof::collect::{self, CollectOptions};
use dockproof::evaluate::{self, EvaluateOptions};
use dockproof::sign::{Signer, TrustedKeys};
use dockproof::snapshot::Snapshot;

use super::output;
use super::{
    Command, ControlsAction, DiffFormat, EvaluationArgs, FrameworksAction, OutputArgs, TargetArgs,
};

/// Usage, catalog or input error.
pub const EXIT_INPUT: u8 = 2;
/// Engine unreachable or collection failed.
pub const EXIT_COLLECT: u8 = 3;
/// Failures at or above `--fail-on`, or a bundle that does not verify.
pub const EXIT_FAILURES: u8 = 1;

/// An error with the exit code it maps to.
pub struct CliError {
    pub code: u8,
    pub error: anyhow::Error,
}

trait ExitCodeExt<T> {
    fn code(self, code: u8) -> Result<T, CliError>;
}

impl<T, E: Into<anyhow::Error>> ExitCodeExt<T> for Result<T, E> {
    fn code(self, code: u8) -> Result<T, CliError> {
        self.map_err(|e| CliError {
            code,
            error: e.into(),
        })
    }
}

pub fn run(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Scan {
            target,
            evaluation,
            output,
            fallback_snapshot,
        } => {
            // The key is read first: a bad key fails before the engine is contacted and
            // before anything is written.
            let signer = load_signer(&output)?;
            let catalog = load_catalog(evaluation.controls.as_deref())?;
            let decisions = load_decisions(&evaluation, &catalog)?;
            let (snapshot, bytes) = match collect_snapshot(&target) {
                Ok(s) => {
                    let bytes = snapshot_bytes(&s)?;
                    (s, bytes)
                }
                Err(e) if fallback_snapshot.is_some() && e.code == EXIT_COLLECT => {
                    let path = fallback_snapshot.unwrap_or_default();
                    let why = super::describe(&e.error);
                    eprintln!("warning: {}", dockproof::text::terminal(&why));
                    eprintln!(
                        "warning: reporting the saved snapshot {} instead of a live scan",
                        path.display()
                    );
                    let (mut snapshot, _) = read_snapshot(&path)?;
                    snapshot.target.fallback = Some(format!(
                        "not a live scan: the saved sample {} is reported because the engine \
                         could not be reached ({})",
                        path.display(),
                        super::describe(&e.error)
                    ));
                    let bytes = snapshot_bytes(&snapshot)?;
                    (snapshot, bytes)
                }
                Err(e) => return Err(e),
            };
            report(
                &snapshot,
                &bytes,
                &catalog,
                decisions,
                &evaluation,
                &output,
                signer.as_ref(),
            )
        }
        Command::Collect {
            target,
            output,
            every,
        } => {
            if let Some(interval) = every.every {
                return super::every::run(&target, &output, &every, interval);
            }
            let snapshot = collect_snapshot(&target)?;
            let bytes = snapshot_bytes(&snapshot)?;
            // Where it went is printed only for a file: on stdout or a stream (`/dev/stdout`)
            // the path would be appended to the snapshot itself.
            let to_file = matches!(
                dockproof::destination::Destination::of(&output),
                Ok(dockproof::destination::Destination::File(_))
            );
            write_output(&output, &bytes).code(EXIT_INPUT)?;
            if to_file {
                println!("{}", output.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            snapshot,
            evaluation,
            output,
        } => {
            let signer = load_signer(&output)?;
            let catalog = load_catalog(evaluation.controls.as_deref())?;
            let decisions = load_decisions(&evaluation, &catalog)?;
            let (snap, bytes) = read_snapshot(&snapshot)?;
            report(
                &snap,
                &bytes,
                &catalog,
                decisions,
                &evaluation,
                &output,
                signer.as_ref(),
            )
        }
        Command::Verify {
            bundle,
            key,
            identity,
        } => verify(&bundle, key.as_deref(), identity),
        Command::Diff {
            old,
            new,
            format,
            out,
            fail_on_new,
        } => diff(&old, &new, format, out.as_deref(), fail_on_new),
        Command::Controls { action } => controls(action),
        Command::Frameworks {
            action: FrameworksAction::List { controls },
        } => {
            let catalog = load_catalog(controls.as_deref())?;
            output::frameworks_table(&catalog, &mut std::io::stdout().lock()).code(EXIT_INPUT)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_signer(out: &OutputArgs) -> Result<Option<Signer>, CliError> {
    out.sign
        .as_deref()
        .map(Signer::load)
        .transpose()
        .context("--sign")
        .code(EXIT_INPUT)
}

fn verify(
    bundle: &Path,
    key: Option<&Path>,
    identity: Option<String>,
) -> Result<ExitCode, CliError> {
    let keys = key
        .map(TrustedKeys::load)
        .transpose()
        .context("--key")
        .code(EXIT_INPUT)?
        .map(|k| k.with_identity(identity));
    let result = bundle::verify(bundle, keys.as_ref()).code(EXIT_INPUT)?;
    print_verification(&result, bundle, &mut std::io::stdout().lock()).code(EXIT_INPUT)?;
    Ok(if result.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURES)
    })
}

/// One line per problem, the signature's state, then the verdict.
fn print_verification(
    v: &bundle::Verification,
    dir: &Path,
    w: &mut dyn Write,
) -> std::io::Result<()> {
    for problem in &v.problems {
        writeln!(w, "{problem}")?;
    }
    writeln!(w, "{}", v.signature)?;
    let dir = dockproof::text::terminal(&dir.display().to_string()).into_owned();
    if v.ok() {
        let signed = match v.signature {
            bundle::SignatureStatus::Good { .. } => "signature good",
            bundle::SignatureStatus::Absent => "unsigned",
            _ => "signature present, not checked",
        };
        writeln!(
            w,
            "VERIFIED: {dir}: {} files match {}; {signed}",
            v.matched,
            bundle::MANIFEST
        )
    } else {
        let mut reasons = Vec::new();
        if !v.problems.is_empty() {
            reasons.push(format!("{} problem(s) with the files", v.problems.len()));
        }
        if v.signature.is_failure() {
            reasons.push("signature not valid".to_string());
        }
        writeln!(w, "FAILED: {dir}: {}", reasons.join(", "))
    }
}

fn load_catalog(extra: Option<&Path>) -> Result<Catalog, CliError> {
    Catalog::load(extra).code(EXIT_INPUT)
}

/// Waivers and attestations, read and checked before any collection starts.
#[derive(Default)]
struct Decisions {
    waivers: Vec<evaluate::Waiver>,
    attestations: Vec<evaluate::Attestation>,
}

fn load_decisions(evaluation: &EvaluationArgs, catalog: &Catalog) -> Result<Decisions, CliError> {
    fn read(path: &Path, what: &'static str) -> Result<String, CliError> {
        dockproof::input::read_to_string(path, what, dockproof::input::MAX_DECISIONS)
            .code(EXIT_INPUT)
    }
    let mut decisions = Decisions::default();
    if let Some(path) = &evaluation.waivers {
        let name = path.display().to_string();
        decisions.waivers = evaluate::parse_waivers(&read(path, "waiver file")?, &name, catalog)
            .context("invalid waivers")
            .code(EXIT_INPUT)?;
    }
    if let Some(path) = &evaluation.attestations {
        let name = path.display().to_string();
        decisions.attestations =
            evaluate::parse_attestations(&read(path, "attestation file")?, &name, catalog)
                .context("invalid attestations")
                .code(EXIT_INPUT)?;
    }
    Ok(decisions)
}

pub(super) fn collect_snapshot(target: &TargetArgs) -> Result<Snapshot, CliError> {
    let opts = CollectOptions {
        docker_host: target.docker_host.clone(),
        context: target.context.clone(),
        host_root: target.host_root.clone(),
        ssh_config: target.ssh_config.clone(),
        include_stopped: target.include_stopped,
        concurrency: usize::from(target.concurrency),
        images: target.images,
        inventory_cache: target.inventory_cache.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .code(EXIT_COLLECT)?;
    let started = Instant::now();
    let snapshot = runtime.block_on(collect::collect(&opts)).map_err(|e| {
        let code = match e {
            collect::CollectError::Usage { .. } => EXIT_INPUT,
            _ => EXIT_COLLECT,
        };
        CliError {
            code,
            error: e.into(),
        }
    })?;
    eprintln!(
        "collected {} containers, {} images, {} networks, {} volumes from {} in {:.2} s ({} gaps)",
        snapshot.engine.containers.len(),
        snapshot.engine.images.len(),
        snapshot.engine.networks.len(),
        snapshot.engine.volumes.len(),
        snapshot.target.docker_host,
        started.elapsed().as_secs_f64(),
        snapshot.gaps.len(),
    );
    if !snapshot.inventories.is_empty() {
        eprintln!(
            "inventoried the OS packages of {} image(s)",
            snapshot.inventories.len()
        );
    }
    for gap in &snapshot.gaps {
        eprintln!(
            "  gap: {}: {}",
            dockproof::text::terminal(&gap.source),
            dockproof::text::terminal(&gap.error)
        );
    }
    Ok(snapshot)
}

pub(super) fn snapshot_bytes(snapshot: &Snapshot) -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    snapshot
        .write_to(&mut bytes)
        .context("cannot serialise the snapshot")
        .code(EXIT_COLLECT)?;
    Ok(bytes)
}

fn read_snapshot(path: &Path) -> Result<(Snapshot, Vec<u8>), CliError> {
    let bytes = dockproof::input::read(path, "snapshot", dockproof::input::MAX_SNAPSHOT)
        .code(EXIT_INPUT)?;
    let snapshot = Snapshot::from_slice(&bytes, &path.display().to_string()).code(EXIT_INPUT)?;
    Ok((snapshot, bytes))
}

/// Writes one output file where the user meant it: stdout for `-`, in place for a device,
/// FIFO or `/dev/stdout`, atomically replaced otherwise (see [`dockproof::destination`]).
fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(dockproof::destination::write(path, bytes)?)
}

fn report(
    snapshot: &Snapshot,
    bytes: &[u8],
    catalog: &Catalog,
    decisions: Decisions,
    evaluation: &EvaluationArgs,
    out: &OutputArgs,
    signer: Option<&Signer>,
) -> Result<ExitCode, CliError> {
    let params = catalog
        .resolve_params(&evaluation.params)
        .map_err(|e| CliError {
            code: EXIT_INPUT,
            error: anyhow!(e),
        })?;
    let opts = EvaluateOptions {
        frameworks: evaluation.frameworks.clone(),
        params,
        now: chrono::Utc::now(),
        waivers: decisions.waivers,
        attestations: decisions.attestations,
    };
    let sha = bundle::sha256_bytes(bytes);
    let (vulns, mut extra) = vulnerability_inputs(snapshot, evaluation)?;
    let mut assessment =
        evaluate::evaluate_with_vulnerabilities(snapshot, &sha, catalog, &opts, vulns.as_ref())
            .code(EXIT_INPUT)?;
    if let Some(dir) = &evaluation.history {
        let history = dockproof::history::load(dir, snapshot.target.hostname.as_deref(), &sha)
            .code(EXIT_INPUT)?;
        if history.other_hosts > 0 {
            eprintln!(
                "history: left out {} assessment(s) of other hosts in {}",
                history.other_hosts,
                dir.display()
            );
        }
        assessment.trend = history.points;
    }
    let target = out
        .out
        .clone()
        .unwrap_or_else(|| default_bundle_dir(snapshot, &assessment));
    report_leftovers(&target);
    extra.extend(
        dockproof::sbom::files(snapshot)
            .into_iter()
            .map(|(path, bytes)| bundle::ExtraFile { path, bytes }),
    );
    let files = bundle::write_with_files(&target, bytes, &extra, &assessment, &out.format, signer)
        .code(EXIT_INPUT)?;
    eprintln!("wrote {} ({})", target.display(), files.join(", "));
    output::summary(&assessment, &target, &mut std::io::stdout().lock()).code(EXIT_INPUT)?;
    match out.fail_on {
        Some(threshold) if assessment.has_failures_at_or_above(threshold) => {
            eprintln!(
                "failing: checks failed at or above severity {} and no waiver covers them",
                threshold.as_str()
            );
            Ok(ExitCode::from(EXIT_FAILURES))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Clears what killed runs left beside the bundle's destination, saying what was done.
fn report_leftovers(target: &Path) {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Names found in a directory are shown, never obeyed.
    let show = |p: &Path| dockproof::text::terminal(&p.display().to_string()).into_owned();
    for leftover in bundle::sweep_partials(parent) {
        match leftover {
            bundle::Leftover::Removed(p) => eprintln!(
                "removed {}, left by an earlier run that was killed",
                show(&p)
            ),
            bundle::Leftover::InUse(p, pid) => eprintln!(
                "note: {} belongs to a run still in progress (pid {pid}); left in place",
                show(&p)
            ),
            bundle::Leftover::Kept(p, why) => {
                eprintln!("note: {} left in place: {why}", show(&p))
            }
        }
    }
}

/// Reads `--vuln-report` and `--advisories`; returns the evidence and the report copies that go
/// into the bundle (each checked against the hash recorded when it was parsed).
fn vulnerability_inputs(
    snapshot: &Snapshot,
    evaluation: &EvaluationArgs,
) -> Result<
    (
        Option<dockproof::vuln::VulnEvidence>,
        Vec<bundle::ExtraFile>,
    ),
    CliError,
> {
    if evaluation.vuln_reports.is_empty() && evaluation.advisories.is_none() {
        return Ok((None, Vec::new()));
    }
    let evidence = dockproof::vuln::load(
        snapshot,
        &evaluation.vuln_reports,
        evaluation.advisories.as_deref(),
    )
    .code(EXIT_INPUT)?;
    let mut extra = Vec::new();
    for input in &evidence.inputs {
        let Some(bundle_path) = &input.bundle_path else {
            continue;
        };
        let bytes = std::fs::read(&input.path)
            .with_context(|| format!("cannot read {}", input.path))
            .code(EXIT_INPUT)?;
        if bundle::sha256_bytes(&bytes) != input.sha256 {
            return Err(anyhow!("{} changed while it was being read", input.path)).code(EXIT_INPUT);
        }
        extra.push(bundle::ExtraFile {
            path: bundle_path.clone(),
            bytes,
        });
    }
    for input in evidence.inputs.iter().filter(|i| i.images.is_empty()) {
        eprintln!(
            "warning: {} ({}) matches no image of this snapshot; {}",
            input.path,
            input.kind,
            input.note.as_deref().unwrap_or("listed as unmatched")
        );
    }
    Ok((Some(evidence), extra))
}

fn default_bundle_dir(snapshot: &Snapshot, assessment: &Assessment) -> PathBuf {
    let stamp = assessment.generated_at.format("%Y%m%dT%H%M%SZ");
    PathBuf::from(format!("dockproof-{}-{stamp}", snapshot.host_label()))
}

/// `diff`: load both assessments, compare, write the chosen format; `--fail-on-new` decides
/// the exit code.
fn diff(
    old: &Path,
    new: &Path,
    format: DiffFormat,
    out: Option<&Path>,
    fail_on_new: Option<dockproof::assessment::Severity>,
) -> Result<ExitCode, CliError> {
    let before = dockproof::diff::load(old).code(EXIT_INPUT)?;
    let after = dockproof::diff::load(new).code(EXIT_INPUT)?;
    let mut d = dockproof::diff::Diff::compute(&before, &after);
    d.old.source = old.display().to_string();
    d.new.source = new.display().to_string();
    if d.different_engines() {
        eprintln!(
            "warning: {} and {} were collected from different engines; every difference below \
             may be the other host, not a change",
            old.display(),
            new.display()
        );
    }
    let mut bytes = Vec::new();
    match format {
        DiffFormat::Text => dockproof::diff::text::render(&d, &mut bytes),
        DiffFormat::Json => d.write_json(&mut bytes),
        DiffFormat::Html => dockproof::diff::html::render(&d, &mut bytes),
    }
    .context("cannot render the diff")
    .code(EXIT_INPUT)?;
    write_output(out.unwrap_or(Path::new("-")), &bytes).code(EXIT_INPUT)?;
    if let Some(path) = out {
        eprintln!("wrote {}", path.display());
    }
    match fail_on_new {
        Some(threshold) => {
            let new_failures = d.new_failures_at_or_above(threshold);
            if new_failures.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "failing: {} finding(s) newly failing at or above severity {} with no waiver",
                new_failures.len(),
                threshold.as_str()
            );
            Ok(ExitCode::from(EXIT_FAILURES))
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn controls(action: ControlsAction) -> Result<ExitCode, CliError> {
    let mut stdout = std::io::stdout().lock();
    match action {
        ControlsAction::List {
            framework,
            controls,
        } => {
            let catalog = load_catalog(controls.as_deref())?;
            if let Some(id) = &framework {
                if catalog.framework(id).is_none() {
                    let known: Vec<_> = catalog
                        .frameworks
                        .iter()
                        .map(|f| f.meta.id.clone())
                        .collect();
                    return Err(anyhow!(
                        "unknown framework `{id}`; available: {}",
                        known.join(", ")
                    ))
                    .code(EXIT_INPUT);
                }
            }
            output::checks_table(&catalog, framework.as_deref(), &mut stdout).code(EXIT_INPUT)?;
        }
        ControlsAction::Show { id, controls } => {
            let catalog = load_catalog(controls.as_deref())?;
            let check = catalog
                .check(&id)
                .ok_or_else(|| anyhow!("no check `{id}`; `dockproof controls list` shows them all"))
                .code(EXIT_INPUT)?;
            output::check_detail(&catalog, check, &mut stdout).code(EXIT_INPUT)?;
        }
        ControlsAction::Lint { dir } => {
            let catalog = match &dir {
                Some(d) => Catalog::load_dir_only(d),
                None => Catalog::load(None),
            }
            .code(EXIT_INPUT)?;
            let findings = catalog.lint();
            for d in &findings {
                eprintln!("{}", dockproof::text::terminal(&d.to_string()));
            }
            if !findings.is_empty() {
                return Err(anyhow!("{} lint finding(s)", findings.len())).code(EXIT_INPUT);
            }
            writeln!(
                stdout,
                "ok: {} checks, {} frameworks, {} parameters",
                catalog.checks.len(),
                catalog.frameworks.len(),
                catalog.params.len()
            )
            .code(EXIT_INPUT)?;
            output::cost_bounds(&catalog, &mut stdout).code(EXIT_INPUT)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
