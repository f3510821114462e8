//! Wiring of each command: library stages in order, errors mapped to exit codes.
//!
//! Exit codes: 0 done and nothing failed at or above `--fail-on`; 1 failures at or above
//! `--fail-on` (for `diff`: unwaived new failures at or above `--fail-on-new`); 2 usage,
//! catalog or input error; 3 engine unreachable or collection failed; 4 a fleet bundle was
//! written but some of its targets were not assessed (this takes precedence over 1: evidence
//! missing for a host outweighs failures found on the others, which the bundle still shows).
//! `verify` follows the same contract: 1 means it ran and the bundle did not verify (the
//! verification counterpart of "checks failed"), 2 that the bundle or key could not be read.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context as _};

use dockproof::bundle;
use dockproof::catalog::Catalog;
use dockproof::collect::{self, CollectOptions};
use dockproof::sign::TrustedKeys;
use dockproof::snapshot::Snapshot;

use super::terminal::{self, note};
use super::{assess, docs, lookup, output, prepare, progress};
use super::{Command, ControlsAction, DiffFormat, FrameworksAction, TargetArgs};

/// Usage, catalog or input error.
pub const EXIT_INPUT: u8 = 2;
/// Engine unreachable or collection failed.
pub const EXIT_COLLECT: u8 = 3;
/// Failures at or above `--fail-on`, or a bundle that does not verify.
pub const EXIT_FAILURES: u8 = 1;
/// A fleet bundle was written, but some targets could not be assessed.
pub const EXIT_UNASSESSED: u8 = 4;

/// An error with the exit code it maps to.
pub struct CliError {
    pub code: u8,
    pub error: anyhow::Error,
}

pub trait ExitCodeExt<T> {
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

/// Runs one command; `verbose` is the count of `-v`.
pub fn run(command: Command, verbose: u8) -> Result<ExitCode, CliError> {
    match command {
        Command::Scan {
            target,
            evaluation,
            output,
            fallback_snapshot,
            fleet,
        } => {
            if let Some(file) = &fleet.targets {
                return super::fleet::scan(file, &fleet, &target, &evaluation, &output);
            }
            // Every input is read and checked before the engine is contacted.
            let prepared = prepare::prepare(&evaluation, &output)?;
            // The fallback is read now too: a broken one must not wait for an outage to show.
            let fallback = fallback_snapshot
                .map(|path| prepare::read_snapshot(&path).map(|(s, _)| (path, s)))
                .transpose()?;
            let (snapshot, bytes) = match collect_snapshot(&target, verbose) {
                Ok(s) => {
                    let bytes = snapshot_bytes(&s)?;
                    (s, bytes)
                }
                Err(e) if fallback.is_some() && e.code == EXIT_COLLECT => {
                    let Some((path, mut snapshot)) = fallback else {
                        return Err(e);
                    };
                    let why = super::describe(&e.error);
                    note!("warning: {}", dockproof::text::terminal(&why));
                    note!(
                        "warning: reporting the saved snapshot {} instead of a live scan",
                        path.display()
                    );
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
            assess::evaluate_and_write(&snapshot, &bytes, prepared, &evaluation, &output)
        }
        Command::Collect {
            target,
            output,
            profile,
            every,
            ..
        } => {
            let profile = declared_profile(&profile)?;
            if let Some(interval) = every.every {
                return super::every::run(&target, &output, &every, interval, &profile, verbose);
            }
            // Where the snapshot goes is checked before the engine is contacted.
            let to_file = prepare::check_output_file(&output)?;
            let mut snapshot = collect_snapshot(&target, verbose)?;
            snapshot.profile = profile;
            let bytes = snapshot_bytes(&snapshot)?;
            // Where it went is printed only for a file: on stdout or a stream (`/dev/stdout`)
            // the path would be appended to the snapshot itself.
            write_output(&output, &bytes).code(EXIT_INPUT)?;
            if to_file && !terminal::quiet() {
                let _ = writeln!(terminal::stdout(), "{}", output.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report {
            snapshots,
            host_profiles,
            evaluation,
            output,
        } => {
            // One snapshot, a bundle or an assessment.json gives a host bundle; several
            // snapshots or a directory of them give a fleet bundle.
            let snapshot = match snapshots.as_slice() {
                [one] if !one.is_dir() || one.join(dockproof::bundle::SNAPSHOT_FILE).exists() => {
                    one
                }
                _ => {
                    return super::fleet::report(
                        &snapshots,
                        host_profiles.as_deref(),
                        &evaluation,
                        &output,
                    )
                }
            };
            if host_profiles.is_some() {
                return Err(anyhow!(
                    "--host-profiles gives the hosts of a fleet their roles and labels; one                      host's role is declared in its --scope file"
                ))
                .code(EXIT_INPUT);
            }
            let prepared = prepare::prepare(&evaluation, &output)?;
            let (snap, bytes) = prepare::report_snapshot(snapshot)?;
            assess::evaluate_and_write(&snap, &bytes, prepared, &evaluation, &output)
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
            let catalog = prepare::load_catalog(controls.as_deref())?;
            output::frameworks_table(&catalog, &mut terminal::stdout()).code(EXIT_INPUT)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Frameworks {
            action: FrameworksAction::Show { id, controls },
        } => {
            let catalog = prepare::load_catalog(controls.as_deref())?;
            prepare::check_frameworks(&catalog, std::slice::from_ref(&id))?;
            if let Some(f) = catalog.framework(&id) {
                lookup::framework(f, &mut terminal::stdout()).code(EXIT_INPUT)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            docs::completions(shell, &mut terminal::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: None } => {
            docs::man(&mut terminal::stdout())
                .context("cannot write the man page")
                .code(EXIT_INPUT)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { dir: Some(dir) } => {
            docs::man_pages(&dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))
                .code(EXIT_INPUT)?;
            note!("wrote the man pages into {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
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
    print_verification(&result, bundle, &mut terminal::stdout()).code(EXIT_INPUT)?;
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

/// The role and labels `collect` records in the snapshot; `None` when none were given.
/// Checked before the engine is contacted.
fn declared_profile(
    args: &super::ProfileArgs,
) -> Result<Option<dockproof::scope::HostProfile>, CliError> {
    let profile = dockproof::scope::HostProfile::from_flags(args.role, &args.labels)
        .context("invalid --label")
        .code(EXIT_INPUT)?;
    Ok((!profile.is_empty()).then_some(profile))
}

/// The collection options the target flags give.
pub(super) fn collect_options(target: &TargetArgs) -> CollectOptions {
    CollectOptions {
        docker_host: target.docker_host.clone(),
        context: target.context.clone(),
        host_root: target.host_root.clone(),
        ssh_config: target.ssh_config.clone(),
        include_stopped: target.include_stopped,
        concurrency: usize::from(target.concurrency),
        images: target.images,
        inventory_cache: target.inventory_cache.clone(),
        tls: collect::TlsSource::Environment,
    }
}

pub(super) fn collect_snapshot(target: &TargetArgs, verbose: u8) -> Result<Snapshot, CliError> {
    let opts = collect_options(target);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .code(EXIT_COLLECT)?;
    let started = Instant::now();
    let endpoint = target
        .docker_host
        .clone()
        .or_else(|| target.context.as_ref().map(|c| format!("context {c}")))
        .unwrap_or_else(|| "the default engine".to_string());
    let show_progress =
        !terminal::quiet() && (verbose > 0 || terminal::is_terminal(terminal::Stream::Stderr));
    let snapshot = runtime
        .block_on(progress::while_waiting(
            collect::collect(&opts),
            &endpoint,
            show_progress,
        ))
        .map_err(|e| {
            let code = match e {
                collect::CollectError::Usage { .. } => EXIT_INPUT,
                _ => EXIT_COLLECT,
            };
            CliError {
                code,
                error: e.into(),
            }
        })?;
    note!(
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
        note!(
            "inventoried the OS packages of {} image(s)",
            snapshot.inventories.len()
        );
    }
    for gap in &snapshot.gaps {
        note!(
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

/// Writes one output file where the user meant it: stdout for `-`, in place for a device,
/// FIFO or `/dev/stdout`, atomically replaced otherwise (see [`dockproof::destination`]).
/// Standard output goes through [`terminal::stdout`], so a reader that stops early (`| head`)
/// ends the output quietly instead of failing the command.
pub fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.as_os_str() == "-" {
        let mut out = terminal::stdout();
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .context("cannot write to standard output")?;
        return Ok(());
    }
    Ok(dockproof::destination::write(path, bytes)?)
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
    use dockproof::diff::Loaded;
    let (before, after) = match (
        dockproof::diff::load_any(old).code(EXIT_INPUT)?,
        dockproof::diff::load_any(new).code(EXIT_INPUT)?,
    ) {
        (Loaded::Host(a), Loaded::Host(b)) => (*a, *b),
        (Loaded::Fleet(a), Loaded::Fleet(b)) => {
            return super::fleet::diff(&a, old, &b, new, format, out, fail_on_new)
        }
        _ => {
            return Err(anyhow!(
                "{} and {} are not of the same kind: compare two host bundles or two fleet \
                 bundles (a fleet's host bundles are under its hosts/ directory)",
                dockproof::text::terminal(&old.display().to_string()),
                dockproof::text::terminal(&new.display().to_string())
            ))
            .code(EXIT_INPUT)
        }
    };
    // A narrowed scan reads as many changes that are only what it left out: say so first.
    for (path, a) in [(old, &before), (new, &after)] {
        if let Some(selection) = &a.selection {
            note!(
                "warning: {} was narrowed by a selection: {}",
                dockproof::text::terminal(&path.display().to_string()),
                dockproof::text::terminal(&selection.summary())
            );
        }
    }
    let mut d = dockproof::diff::Diff::compute(&before, &after);
    d.old.source = old.display().to_string();
    d.new.source = new.display().to_string();
    if d.different_engines() {
        note!(
            "warning: {} and {} were collected from different engines; every difference below \
             may be the other host, not a change",
            old.display(),
            new.display()
        );
    }
    let renderer: &dyn dockproof::diff::DiffRenderer = match format {
        DiffFormat::Text => &dockproof::diff::TextDiff,
        DiffFormat::Json => &dockproof::diff::JsonDiff,
        DiffFormat::Html => &dockproof::diff::HtmlDiff,
    };
    let mut bytes = Vec::new();
    renderer
        .render(&d, &mut bytes)
        .context("cannot render the diff")
        .code(EXIT_INPUT)?;
    let new_failures = fail_on_new.map(|t| (t, d.new_failures_at_or_above(t).len()));
    finish_diff(&bytes, out, new_failures)
}

/// Writes a rendered diff where `--out` says (stdout without it) and maps the new failures at
/// or above `--fail-on-new` (the threshold and their number) to the exit code. Host and fleet
/// diffs end the same way.
pub(super) fn finish_diff(
    bytes: &[u8],
    out: Option<&Path>,
    new_failures: Option<(dockproof::assessment::Severity, usize)>,
) -> Result<ExitCode, CliError> {
    write_output(out.unwrap_or(Path::new("-")), bytes).code(EXIT_INPUT)?;
    if let Some(path) = out {
        note!("wrote {}", path.display());
    }
    match new_failures {
        Some((threshold, n)) if n > 0 => {
            note!(
                "failing: {n} finding(s) newly failing at or above severity {} with no waiver",
                threshold.as_str()
            );
            Ok(ExitCode::from(EXIT_FAILURES))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn controls(action: ControlsAction) -> Result<ExitCode, CliError> {
    let mut stdout = terminal::stdout();
    match action {
        ControlsAction::List {
            framework,
            controls,
        } => {
            let catalog = prepare::load_catalog(controls.as_deref())?;
            prepare::check_frameworks(&catalog, framework.as_slice())?;
            output::checks_table(&catalog, framework.as_deref(), &mut stdout).code(EXIT_INPUT)?;
        }
        ControlsAction::Show {
            id,
            framework,
            controls,
        } => {
            let catalog = prepare::load_catalog(controls.as_deref())?;
            prepare::check_frameworks(&catalog, framework.as_slice())?;
            match lookup::find(&catalog, &id, framework.as_deref()) {
                lookup::Found::Check(check) => {
                    output::check_detail(&catalog, check, &mut stdout).code(EXIT_INPUT)?
                }
                lookup::Found::Requirement(f, r) => {
                    lookup::requirement(f, r, &mut stdout).code(EXIT_INPUT)?;
                    for check in r.checks.iter().filter_map(|c| catalog.check(c)) {
                        writeln!(stdout).code(EXIT_INPUT)?;
                        output::check_detail(&catalog, check, &mut stdout).code(EXIT_INPUT)?;
                    }
                }
                lookup::Found::Ambiguous(matches) => {
                    lookup::ambiguous(&id, &matches, &mut terminal::stderr()).code(EXIT_INPUT)?;
                    return Ok(ExitCode::from(EXIT_INPUT));
                }
                lookup::Found::Nothing => {
                    return Err(anyhow!(
                        "nothing is called `{}`: not a check id, CIS number or requirement id{}; \
                         `dockproof controls list` and `dockproof frameworks show ID` list them",
                        dockproof::text::terminal(&id),
                        framework
                            .map(|f| format!(" of {}", dockproof::text::terminal(&f)))
                            .unwrap_or_default()
                    ))
                    .code(EXIT_INPUT)
                }
            }
        }
        ControlsAction::Lint { dir } => {
            let catalog = match &dir {
                Some(d) => Catalog::load_dir_only(d),
                None => Catalog::load(None),
            }
            .code(EXIT_INPUT)?;
            let findings = catalog.lint();
            // Findings are the errors of this command: printed even with --quiet.
            for d in &findings {
                let _ = writeln!(
                    terminal::stderr(),
                    "{}",
                    dockproof::text::terminal(&d.to_string())
                );
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
