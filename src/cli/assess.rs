//! The second half of `scan` and `report`: evaluate the snapshot with the checked inputs, write
//! the bundle (or stream assessment.json), print the terminal summary, and map `--fail-on` to
//! the exit code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use serde_json::Value;

use dockproof::assessment::Assessment;
use dockproof::bundle;
use dockproof::catalog::Catalog;
use dockproof::evaluate::{self, EvaluateOptions};
use dockproof::render::Format;
use dockproof::snapshot::Snapshot;

use super::commands::{write_output, CliError, ExitCodeExt, EXIT_FAILURES, EXIT_INPUT};
use super::terminal::{self, note};
use super::{output, prepare, summary, EvaluationArgs, OutputArgs};

/// Evaluates the snapshot, writes the result where `--out` says (a bundle, or assessment.json
/// on stdout), prints the summary and decides the exit code from `--fail-on`.
pub fn evaluate_and_write(
    snapshot: &Snapshot,
    bytes: &[u8],
    prepared: prepare::Prepared,
    evaluation: &EvaluationArgs,
    out: &OutputArgs,
) -> Result<ExitCode, CliError> {
    let (mut assessment, mut extra) = evaluate_host(
        snapshot,
        bytes,
        &prepared.catalog,
        &prepared.params,
        &prepared.decisions,
        evaluation,
    )?;
    if let Some(dir) = &evaluation.history {
        let sha = &assessment.snapshot.sha256;
        let history = dockproof::history::load(dir, snapshot.target.hostname.as_deref(), sha)
            .code(EXIT_INPUT)?;
        if history.other_hosts > 0 {
            note!(
                "history: left out {} assessment(s) of other hosts in {}",
                history.other_hosts,
                dir.display()
            );
        }
        assessment.trend = history.points;
    }
    // The summary goes where it does not mix with the result: stdout beside a bundle, stderr
    // when assessment.json itself is streamed to stdout.
    let summary_stream = match &prepared.sink {
        prepare::Sink::Stdout => {
            // Streamed alone: the SBOMs and report copies belong to a bundle.
            extra.clear();
            let mut json = Vec::new();
            Format::Json
                .renderer()
                .render(&assessment, &mut json)
                .context("cannot render assessment.json")
                .code(EXIT_INPUT)?;
            write_output(Path::new("-"), &json).code(EXIT_INPUT)?;
            terminal::Stream::Stderr
        }
        prepare::Sink::Bundle(dir) => {
            let target = dir
                .clone()
                .unwrap_or_else(|| default_bundle_dir(snapshot, &assessment));
            report_leftovers(&target);
            let files = bundle::write_with_files(
                &target,
                bytes,
                &extra,
                &assessment,
                &out.format,
                prepared.signer.as_ref(),
            )
            .code(EXIT_INPUT)?;
            note!("wrote {} ({})", target.display(), files.join(", "));
            if !terminal::quiet() {
                print_summary(&assessment, Some(&target), terminal::Stream::Stdout)?;
            }
            terminal::Stream::Stdout
        }
    };
    if summary_stream == terminal::Stream::Stderr && !terminal::quiet() {
        print_summary(&assessment, None, terminal::Stream::Stderr)?;
    }
    match out.fail_on {
        Some(threshold) if assessment.has_failures_at_or_above(threshold) => {
            note!(
                "failing: checks failed at or above severity {} and no waiver covers them",
                threshold.as_str()
            );
            Ok(ExitCode::from(EXIT_FAILURES))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Evaluates one snapshot with the checked inputs, records the configuration, scope and run
/// provenance, and gathers the data files that go into its bundle beside the reports
/// (vulnerability report copies, SBOMs). Used for a single host and for each host of a fleet.
pub fn evaluate_host(
    snapshot: &Snapshot,
    bytes: &[u8],
    catalog: &Catalog,
    params: &BTreeMap<String, Value>,
    decisions: &prepare::Decisions,
    evaluation: &EvaluationArgs,
) -> Result<(Assessment, Vec<bundle::ExtraFile>), CliError> {
    let opts = EvaluateOptions {
        frameworks: evaluation.frameworks.clone(),
        params: params.clone(),
        now: chrono::Utc::now(),
        waivers: decisions.waivers.clone(),
        attestations: decisions.attestations.clone(),
        selection: decisions.selection.clone(),
    };
    let sha = bundle::sha256_bytes(bytes);
    let (vulns, mut extra) = vulnerability_inputs(snapshot, evaluation)?;
    let mut assessment =
        evaluate::evaluate_with_vulnerabilities(snapshot, &sha, catalog, &opts, vulns.as_ref())
            .code(EXIT_INPUT)?;
    // Recorded so that a report says where each setting came from.
    assessment.configuration = evaluation.config.effective.clone();
    if let Some(selection) = &assessment.selection {
        note!("{}", dockproof::text::terminal(&selection.summary()));
        for name in selection.excluded_names() {
            note!("  left out: {}", dockproof::text::terminal(&name));
        }
    }
    // --- engagement scope and run provenance ---
    assessment.scope = decisions.scope.clone();
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assessment.provenance = Some(dockproof::provenance::Provenance::new(
        &args,
        catalog,
        snapshot.collection.account.clone(),
        &evaluation.frameworks,
        decisions.inputs.clone(),
    ));
    extra.extend(
        dockproof::sbom::files(snapshot)
            .into_iter()
            .map(|(path, bytes)| bundle::ExtraFile { path, bytes }),
    );
    Ok((assessment, extra))
}

/// The failing checks, then the counts, fitted to the terminal behind `stream`.
fn print_summary(
    assessment: &Assessment,
    bundle: Option<&Path>,
    stream: terminal::Stream,
) -> Result<(), CliError> {
    let style = summary::Style {
        colour: terminal::colour(stream),
        width: terminal::width(stream),
    };
    let mut w = match stream {
        terminal::Stream::Stdout => terminal::stdout(),
        terminal::Stream::Stderr => terminal::stderr(),
    };
    summary::failing_checks(assessment, style, &mut w)
        .and_then(|()| output::counts(assessment, bundle, &mut w))
        .context("cannot write the summary")
        .code(EXIT_INPUT)
}

/// Clears what killed runs left beside the bundle's destination, saying what was done.
pub fn report_leftovers(target: &Path) {
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // Names found in a directory are shown, never obeyed.
    let show = |p: &Path| dockproof::text::terminal(&p.display().to_string()).into_owned();
    for leftover in bundle::sweep_partials(parent) {
        match leftover {
            bundle::Leftover::Removed(p) => note!(
                "removed {}, left by an earlier run that was killed",
                show(&p)
            ),
            bundle::Leftover::InUse(p, pid) => note!(
                "note: {} belongs to a run still in progress (pid {pid}); left in place",
                show(&p)
            ),
            bundle::Leftover::Kept(p, why) => {
                note!("note: {} left in place: {why}", show(&p))
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
        note!(
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
