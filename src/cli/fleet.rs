//! Wiring of the fleet commands: `scan --targets FILE` and `report` over several snapshots.
//!
//! Each host is evaluated and written as soon as its snapshot is available, on one of a few
//! worker threads (one per core), then dropped: only its [`HostSummary`] stays for the fleet
//! report. Exit status: 2 for a bad targets file or input (nothing contacted, nothing
//! written), 4 when the fleet bundle was written but a target was not assessed, otherwise 1 or
//! 0 from `--fail-on` over every assessed host.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use serde_json::Value;

use dockproof::assessment::FrameworkResult;
use dockproof::bundle::{self, Durability};
use dockproof::catalog::Catalog;
use dockproof::fleet::diff::FleetDiff;
use dockproof::fleet::names::Namer;
use dockproof::fleet::profiles::HostProfiles;
use dockproof::fleet::writer::{FleetBundle, FleetReport};
use dockproof::fleet::{self, FleetAssessment, HostEntry, HostSummary};
use dockproof::render::{Format, RenderError};
use dockproof::scope::HostProfile;
use dockproof::sign::Signer;
use dockproof::snapshot::{Snapshot, ToolInfo};

use super::assess::{evaluate_host, report_leftovers};
use super::commands::{
    collect_options, finish_diff, snapshot_bytes, CliError, ExitCodeExt, EXIT_FAILURES, EXIT_INPUT,
    EXIT_UNASSESSED,
};
use super::pool;
use super::prepare::{self as checked, read_snapshot, Decisions, Prepared};
use super::terminal::{self, note};
use super::{DiffFormat, EvaluationArgs, FleetArgs, OutputArgs, TargetArgs};

/// What every host of the fleet is evaluated and written with, shared by the worker threads.
struct Shared<'a> {
    catalog: Catalog,
    params: BTreeMap<String, Value>,
    decisions: Decisions,
    evaluation: &'a EvaluationArgs,
    output: &'a OutputArgs,
    signer: Option<Signer>,
}

/// One host to evaluate and write: its snapshot and where its bundle goes.
struct Job {
    index: usize,
    name: String,
    dir: String,
    path: PathBuf,
    snapshot: Snapshot,
    bytes: Vec<u8>,
}

/// What a worker hands back of one host: nothing of its results beyond the summary.
struct Done {
    index: usize,
    summary: HostSummary,
    /// The host's frameworks with only the identity of each requirement.
    frameworks: Vec<FrameworkResult>,
    /// The files of its bundle with the SHA-256 taken while writing them.
    files: Vec<(String, String)>,
}

impl Shared<'_> {
    /// Evaluates one host and writes its bundle under hosts/ (unsynced: the fleet bundle is
    /// synced once at the end).
    fn host(&self, job: Job) -> Result<Done, CliError> {
        let (mut assessment, extra) = evaluate_host(
            &job.snapshot,
            &job.bytes,
            &self.catalog,
            &self.params,
            &self.decisions,
            self.evaluation,
        )?;
        drop(job.snapshot);
        if let Some(dir) = &self.evaluation.history {
            // The host's own earlier bundles in earlier fleet bundles, by its directory.
            let history =
                dockproof::history::load_fleet_host(dir, &job.dir, &assessment.snapshot.sha256)
                    .code(EXIT_INPUT)?;
            assessment.trend = history.points;
        }
        let files = bundle::write_hashed(
            &job.path,
            &job.bytes,
            &extra,
            &assessment,
            &self.output.format,
            self.signer.as_ref(),
            Durability::Deferred,
        )
        .with_context(|| format!("host {}", job.name))
        .code(EXIT_INPUT)?;
        let summary = HostSummary::of(&assessment);
        note!(
            "assessed {}: {} results, {} requirement(s) not in place",
            dockproof::text::terminal(&job.name),
            summary.results,
            summary.not_in_place
        );
        let mut frameworks = assessment.frameworks;
        for fw in &mut frameworks {
            for r in &mut fw.requirements {
                // Only the identity of each requirement is kept for the fleet.
                r.checks.clear();
                r.supporting.clear();
                r.prompt = None;
            }
        }
        Ok(Done {
            index: job.index,
            summary,
            frameworks,
            files,
        })
    }
}

/// How many hosts are evaluated and written at once: one per core, at most [`MAX_WORKERS`].
/// Each holds one host's assessment and reports in memory.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, MAX_WORKERS)
}

/// The most hosts evaluated at once, whatever the number of cores: memory grows with it.
const MAX_WORKERS: usize = 4;

/// A fleet run: the shared settings and the books.
struct Run<'a> {
    shared: Shared<'a>,
    books: Books,
}

/// The bundle being written and what is known of each host, kept by the feeding thread.
struct Books {
    bundle: FleetBundle,
    hosts: Vec<HostEntry>,
    /// The frameworks as evaluated on the assessed host listed first, with its index: the
    /// fleet's requirement lists, the same whichever host finishes first.
    frameworks: Option<(usize, Vec<FrameworkResult>)>,
}

/// The feeding thread's side of the worker pool: the books, and hosts handed to the workers.
type Feeder<'s> = pool::Feeder<'s, Job, Done, Books>;

impl Run<'_> {
    /// Runs `feed` on this thread while [`workers`] threads evaluate and write the hosts it
    /// submits (see [`pool`]). Returns `feed`'s error, else the first host's.
    fn pooled(
        &mut self,
        feed: impl FnOnce(&mut Feeder<'_>) -> Result<(), CliError>,
    ) -> Result<(), CliError> {
        let shared = &self.shared;
        pool::run(
            workers(),
            &mut self.books,
            Books::record,
            &|job| shared.host(job),
            feed,
        )
    }
}

impl Books {
    /// The job of the host listed at `index`.
    fn job(&self, index: usize, snapshot: Snapshot, bytes: Vec<u8>) -> Job {
        let host = &self.hosts[index];
        Job {
            index,
            name: host.name.clone(),
            dir: host.dir.clone(),
            path: self.bundle.host_path(&host.dir),
            snapshot,
            bytes,
        }
    }

    /// Keeps what the fleet needs of a host a worker finished.
    fn record(&mut self, done: Done) {
        let host = &mut self.hosts[done.index];
        self.bundle.record_host(&host.dir, done.files);
        host.assessed = true;
        host.summary = Some(done.summary);
        if self
            .frameworks
            .as_ref()
            .is_none_or(|(i, _)| done.index < *i)
        {
            self.frameworks = Some((done.index, done.frameworks));
        }
    }

    fn not_assessed(&mut self, index: usize, reason: String) {
        let host = &mut self.hosts[index];
        note!(
            "not assessed: {}: {}",
            dockproof::text::terminal(&host.name),
            dockproof::text::terminal(&reason)
        );
        host.assessed = false;
        host.reason = Some(reason);
    }
}

impl Run<'_> {
    /// Writes the fleet files, prints the outcome and maps it to the exit status.
    fn finish(self, target: &Path, source: &str, notes: Vec<String>) -> Result<ExitCode, CliError> {
        let Run { shared, books } = self;
        // With no host assessed, the requirements come from the catalog, so that each is
        // listed as undetermined, naming every target, instead of the fleet listing none.
        let frameworks = match books.frameworks {
            Some((_, frameworks)) => frameworks,
            None => dockproof::evaluate::requirement_outline(
                &shared.catalog,
                &shared.evaluation.frameworks,
                &shared.params,
            )
            .code(EXIT_INPUT)?,
        };
        let frameworks = frameworks
            .iter()
            .map(|fw| fleet::state::framework(fw, &books.hosts))
            .collect();
        let fleet = FleetAssessment {
            schema_version: fleet::SCHEMA_VERSION,
            kind: fleet::KIND.to_string(),
            tool: ToolInfo::current(),
            generated_at: chrono::Utc::now(),
            source: source.to_string(),
            notes,
            hosts: books.hosts,
            frameworks,
        };
        let html = |f: &FleetAssessment| dockproof::render::fleet::html(f);
        let pdf = |f: &FleetAssessment| dockproof::render::pdf::fleet(f);
        let mut reports: Vec<FleetReport<'_>> = Vec::new();
        if shared.output.format.contains(&Format::Html) {
            reports.push((
                "report.html",
                &html as &dyn Fn(&_) -> Result<Vec<u8>, RenderError>,
            ));
        }
        if shared.output.format.contains(&Format::Pdf) {
            reports.push(("report.pdf", &pdf));
        }
        let files = books
            .bundle
            .finish(&fleet, &reports, shared.signer.as_ref())
            .code(EXIT_INPUT)?;
        let assessed = fleet.hosts.iter().filter(|h| h.assessed).count();
        note!("wrote {} ({})", target.display(), files.join(", "));
        let _ = writeln!(
            terminal::stdout(),
            "{}: {assessed} of {} host(s) assessed",
            target.display(),
            fleet.hosts.len()
        );
        for host in fleet.unassessed() {
            let _ = writeln!(
                terminal::stdout(),
                "  not assessed: {}: {}",
                dockproof::text::terminal(&host.name),
                dockproof::text::terminal(host.reason.as_deref().unwrap_or("unknown"))
            );
        }
        for fw in &fleet.frameworks {
            let counts: Vec<String> = fw
                .counts
                .iter()
                .map(|(s, n)| format!("{n} {}", s.as_str().replace('_', " ")))
                .collect();
            let _ = writeln!(terminal::stdout(), "  {}: {}", fw.id, counts.join(", "));
        }
        if fleet.unassessed().next().is_some() {
            note!("incomplete: not every target was assessed (exit status {EXIT_UNASSESSED})");
            return Ok(ExitCode::from(EXIT_UNASSESSED));
        }
        match shared.output.fail_on {
            Some(threshold) if fleet.fails_at_or_above(threshold) => {
                note!(
                    "failing: checks failed at or above severity {} on at least one host and no \
                     waiver covers them",
                    threshold.as_str()
                );
                Ok(ExitCode::from(EXIT_FAILURES))
            }
            _ => Ok(ExitCode::SUCCESS),
        }
    }
}

/// Everything a fleet run reads before it contacts an engine or writes a file.
fn prepare<'a>(
    evaluation: &'a EvaluationArgs,
    output: &'a OutputArgs,
    default_name: &str,
) -> Result<(Run<'a>, PathBuf), CliError> {
    let Prepared {
        signer,
        catalog,
        decisions,
        params,
        sink,
    } = checked::prepare(evaluation, output)?;
    let checked::Sink::Bundle(out) = sink else {
        return Err(anyhow!(
            "`--out -` streams one host's assessment.json; a fleet needs a bundle directory \
             (--out DIR)"
        ))
        .code(EXIT_INPUT);
    };
    let target = out.unwrap_or_else(|| {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        PathBuf::from(format!("dockproof-{default_name}-{stamp}"))
    });
    report_leftovers(&target);
    let bundle = FleetBundle::create(&target).code(EXIT_INPUT)?;
    Ok((
        Run {
            shared: Shared {
                catalog,
                params,
                decisions,
                evaluation,
                output,
                signer,
            },
            books: Books {
                bundle,
                hosts: Vec::new(),
                frameworks: None,
            },
        },
        target,
    ))
}

fn entry(name: String, dir: String, profile: HostProfile, source: String) -> HostEntry {
    HostEntry {
        name,
        dir,
        in_scope: profile.in_scope(),
        role: profile.role,
        labels: profile.labels,
        source,
        assessed: false,
        reason: None,
        summary: None,
    }
}

/// `scan --targets FILE`.
pub fn scan(
    file: &Path,
    args: &FleetArgs,
    target: &TargetArgs,
    evaluation: &EvaluationArgs,
    output: &OutputArgs,
) -> Result<ExitCode, CliError> {
    let text =
        dockproof::input::read_to_string(file, "targets file", dockproof::input::MAX_DECISIONS)
            .code(EXIT_INPUT)?;
    let base = collect_options(target);
    let dir = file.parent().unwrap_or(Path::new("."));
    let targets = fleet::targets::parse(&text, &file.display().to_string(), dir, &base)
        .context("invalid targets file")
        .code(EXIT_INPUT)?;
    let (mut run, out) = prepare(evaluation, output, "fleet")?;
    let mut namer = Namer::default();
    run.books.hosts = targets
        .iter()
        .map(|t| {
            entry(
                t.name.clone(),
                namer.next(&t.name),
                t.profile.clone(),
                t.endpoint(),
            )
        })
        .collect();
    let options: Vec<_> = targets.iter().map(|t| t.options(&base)).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .code(EXIT_INPUT)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let collection = runtime.spawn(fleet::scan::collect_all(
        options,
        usize::from(args.fleet_concurrency),
        Duration::from_secs(args.target_timeout),
        tx,
    ));
    // Hosts are evaluated and written by the workers while others are being collected.
    run.pooled(|feeder| {
        while let Some(done) = rx.blocking_recv() {
            match done.result {
                Ok(snapshot) => {
                    let bytes = snapshot_bytes(&snapshot)?;
                    let job = feeder.state.job(done.index, snapshot, bytes);
                    feeder.submit(job)?;
                }
                Err(reason) => feeder.state.not_assessed(done.index, reason),
            }
        }
        Ok(())
    })?;
    runtime
        .block_on(collection)
        .context("the collection of the fleet was aborted")
        .code(EXIT_INPUT)?;
    run.finish(&out, "targets", Vec::new())
}

/// `report SNAPSHOT...` with several snapshots or a directory of them.
pub fn report(
    paths: &[PathBuf],
    host_profiles: Option<&Path>,
    evaluation: &EvaluationArgs,
    output: &OutputArgs,
) -> Result<ExitCode, CliError> {
    // Read and checked before anything is read or written: a bad file leaves no bundle.
    let mut profiles = HostProfiles::load(host_profiles).code(EXIT_INPUT)?;
    let gathered = fleet::snapshots::gather(paths).code(EXIT_INPUT)?;
    for note in &gathered.notes {
        note!("note: {}", dockproof::text::terminal(note));
    }
    let (mut run, out) = prepare(evaluation, output, "fleet")?;
    let mut namer = Namer::default();
    let mut notes = gathered.notes;
    let gathered_notes = notes.len();
    run.pooled(|feeder| {
        for (index, input) in gathered.inputs.iter().enumerate() {
            let shown = input.path.display().to_string();
            // A snapshot that cannot be read is an input error, as for a single host: the
            // operator named it, so nothing is written rather than a fleet without it.
            let (snapshot, bytes) = read_snapshot(&input.path)?;
            let name = match &input.node {
                Some(node) => node.clone(),
                None => snapshot
                    .target
                    .hostname
                    .clone()
                    .unwrap_or_else(|| shown.clone()),
            };
            let dir = namer.next(&name);
            let (profile, replaced) = profiles.resolve(&name, snapshot.profile.as_ref());
            notes.extend(replaced);
            feeder.state.hosts.push(entry(name, dir, profile, shown));
            let job = feeder.state.job(index, snapshot, bytes);
            feeder.submit(job)?;
        }
        Ok(())
    })?;
    notes.extend(profiles.unused());
    for note in &notes[gathered_notes..] {
        note!("note: {}", dockproof::text::terminal(note));
    }
    run.finish(&out, "snapshots", notes)
}

/// `diff OLD NEW` on two fleet bundles.
pub fn diff(
    old: &FleetAssessment,
    old_path: &Path,
    new: &FleetAssessment,
    new_path: &Path,
    format: DiffFormat,
    out: Option<&Path>,
    fail_on_new: Option<dockproof::assessment::Severity>,
) -> Result<ExitCode, CliError> {
    let dir = |p: &Path| {
        if p.is_dir() {
            p.to_path_buf()
        } else {
            p.parent().map(Path::to_path_buf).unwrap_or_default()
        }
    };
    let d = FleetDiff::compute(old, &dir(old_path), new, &dir(new_path)).code(EXIT_INPUT)?;
    let mut bytes = Vec::new();
    match format {
        DiffFormat::Text => d.write_text(&mut bytes),
        DiffFormat::Json => d.write_json(&mut bytes),
        DiffFormat::Html => bytes.write_all(&dockproof::render::fleet_diff::html(&d)),
    }
    .context("cannot render the diff")
    .code(EXIT_INPUT)?;
    let new_failures = fail_on_new.map(|t| (t, d.new_failures_at_or_above(t)));
    finish_diff(&bytes, out, new_failures)
}
