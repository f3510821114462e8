//! Command-line definitions. This module only parses: it turns flags into plain option values
//! and hands them to [`commands`], which wires the library stages together.

mod assess;
mod commands;
mod config;
mod docs;
mod every;
mod fleet;
mod lookup;
mod output;
mod pool;
mod prepare;
mod progress;
mod select;
mod summary;
mod terminal;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use dockproof::assessment::Severity;
use dockproof::render::Format;
use dockproof::scope::HostRole;

/// Audits a Docker host against the CIS Docker Benchmark 1.6.0 and writes compliance evidence
/// for PCI DSS v4.0.1 and the HIPAA Security Rule.
#[derive(Debug, Parser)]
#[command(
    name = "dockproof",
    version,
    long_about = None,
    after_help = docs::MAIN_AFTER_HELP,
    after_long_help = docs::MAIN_AFTER_LONG_HELP
)]
pub struct Cli {
    /// More detail on stderr (repeat for more); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only errors: no summary, progress, notes or warnings. Results written to stdout
    /// (`--out -`, `collect -o -`, `diff`, listings) are still written.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect from the engine and host, evaluate and write an evidence bundle.
    ///
    /// With --targets FILE, collect many engines into one fleet bundle (a host bundle per
    /// target under hosts/). Exit status: 0 done; 1 unwaived failures at or above --fail-on;
    /// 2 usage, catalog or input error (nothing contacted or written); 3 the engine could not
    /// be reached; 4 a fleet bundle was written but some targets were not assessed (4 is
    /// given before 1).
    #[command(after_long_help = docs::SCAN_AFTER_LONG_HELP)]
    Scan {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        evaluation: EvaluationArgs,
        #[command(flatten)]
        output: OutputArgs,
        /// If the engine cannot be reached, report this snapshot instead (and say so) rather
        /// than fail. Meant for demonstrations; scheduled scans should not use it.
        #[arg(long, value_name = "SNAPSHOT")]
        fallback_snapshot: Option<PathBuf>,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Collect evidence only and write the snapshot.
    Collect {
        #[command(flatten)]
        target: TargetArgs,
        /// Where to write the snapshot (`-` for stdout). An existing file is replaced
        /// atomically. With --every: the directory that receives a new snapshot each round.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        profile: ProfileArgs,
        #[command(flatten)]
        config: config::ConfigArgs,
        #[command(flatten)]
        every: every::EveryArgs,
    },
    /// Evaluate snapshots offline and write an evidence bundle.
    ///
    /// One snapshot file, a bundle directory or a bundle's assessment.json gives a host bundle.
    /// Several snapshot files, or a directory of `<node>-<UTC time>.snapshot.json` files (the
    /// newest per node is reported), give one fleet bundle with a host bundle per snapshot
    /// under hosts/.
    #[command(after_long_help = docs::REPORT_AFTER_LONG_HELP)]
    Report {
        /// A snapshot written by `collect`, a bundle directory or a bundle's assessment.json;
        /// or several snapshots, or directories of them, for a fleet.
        #[arg(required = true, value_name = "INPUT")]
        snapshots: Vec<PathBuf>,
        /// Fleets only: YAML file giving gathered hosts their role and labels (`hosts:` list of
        /// name, role, labels; names as the fleet names hosts: the node of a directory's
        /// snapshot files, else the snapshot's hostname). An entry replaces what `collect
        /// --role/--label` recorded; an entry naming no gathered host is a note, not an error.
        #[arg(long, value_name = "FILE")]
        host_profiles: Option<PathBuf>,
        #[command(flatten)]
        evaluation: EvaluationArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Check a bundle against its SHA256SUMS manifest and, with --key, its signature.
    ///
    /// Names every file that was changed, added or removed since the bundle was written, one
    /// line each, then prints a verdict. Exit status: 0 when everything verifies; 1 when
    /// verification fails (a file differs, the manifest is malformed, or --key was given and
    /// SHA256SUMS.sig is missing or does not verify); 2 when BUNDLE_DIR or the key file cannot
    /// be read.
    Verify {
        /// The bundle directory.
        #[arg(value_name = "BUNDLE_DIR")]
        bundle: PathBuf,
        /// Public keys trusted to have signed the bundle: an OpenSSH public key file
        /// (`ssh-ed25519 AAAA... comment`) or an allowed_signers file, read as
        /// `ssh-keygen -Y verify` reads it (principals, namespaces=, valid-after=,
        /// valid-before=, cert-authority). Without it the signature is reported but not checked.
        #[arg(long, value_name = "PUBKEY")]
        key: Option<PathBuf>,
        /// The signer's principal, as `ssh-keygen -Y verify -I`: the allowed_signers line that
        /// verifies must list it. Without it any principal of a matching line is accepted.
        #[arg(long, short = 'I', value_name = "PRINCIPAL", requires = "key")]
        identity: Option<String>,
    },
    /// Compare two assessments (bundle directories or assessment.json files) of the same host.
    Diff {
        /// The earlier scan: a bundle directory or its assessment.json.
        old: PathBuf,
        /// The later scan: a bundle directory or its assessment.json.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
        /// Write the diff to FILE instead of stdout (replaced atomically).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit with status 1 when a finding newly fails at or above this severity and no
        /// waiver covers it in NEW.
        #[arg(long, value_name = "SEVERITY")]
        fail_on_new: Option<Severity>,
    },
    /// Inspect the control catalogs.
    Controls {
        #[command(subcommand)]
        action: ControlsAction,
    },
    /// List the frameworks and their coverage, or show one requirement by requirement.
    Frameworks {
        #[command(subcommand)]
        action: FrameworksAction,
    },
    /// Print a shell completion script (e.g. `dockproof completions bash >
    /// /etc/bash_completion.d/dockproof`, `dockproof completions zsh > ~/.zfunc/_dockproof`).
    Completions {
        #[arg(value_enum)]
        shell: docs::Shell,
    },
    /// Print the man page (roff), or write one page per command into DIR.
    Man {
        /// Write `dockproof.1`, `dockproof-scan.1`, ... into this existing directory.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Formats `diff` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Plain text for a terminal or a log (no colour).
    Text,
    /// The documented diff document (`schema_version`ed).
    Json,
    /// One self-contained page.
    Html,
}

#[derive(Debug, Subcommand)]
pub enum ControlsAction {
    /// List the checks.
    List {
        /// Only checks that give evidence for this framework.
        #[arg(long)]
        framework: Option<String>,
        /// Extra or overriding catalog directory.
        #[arg(long, value_name = "DIR")]
        controls: Option<PathBuf>,
    },
    /// Show a check in full, by check id (`container.privileged`), CIS number (`5.5`) or any
    /// framework's requirement id (`2.2.5`); an id several frameworks use is listed with each
    /// match (exit 2) until --framework picks one.
    Show {
        id: String,
        /// Look the id up in this framework only.
        #[arg(long, value_name = "ID")]
        framework: Option<String>,
        #[arg(long, value_name = "DIR")]
        controls: Option<PathBuf>,
    },
    /// Validate catalogs: the built-in ones, or those in DIR (`checks/`, `frameworks/`,
    /// `params.yaml`) on their own.
    Lint { dir: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum FrameworksAction {
    /// List frameworks with requirement counts per assessment mode.
    List {
        #[arg(long, value_name = "DIR")]
        controls: Option<PathBuf>,
    },
    /// Show one framework: each requirement with its assessment mode, the checks that decide
    /// it and who provides its manual evidence.
    Show {
        /// Framework id, as `frameworks list` prints it (e.g. `pci-dss-4.0.1`).
        id: String,
        #[arg(long, value_name = "DIR")]
        controls: Option<PathBuf>,
    },
}

/// Which engine and host to read.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Engine endpoint: unix:///PATH, tcp://HOST:PORT, ssh://[USER@]HOST[:PORT] and the other
    /// forms `docker -H` accepts. Without it (and without --context) the docker CLI's choice
    /// applies: DOCKER_HOST, DOCKER_CONTEXT, the current docker context, the local socket.
    /// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are honoured as by the docker CLI.
    #[arg(long, short = 'H', value_name = "URL")]
    pub docker_host: Option<String>,
    /// Docker context to scan (as `docker --context`); its TLS material is used.
    #[arg(long, short = 'c', value_name = "NAME")]
    pub context: Option<String>,
    /// Directory the host's files are read under; `/host` when running in a container with
    /// the host's root mounted read-only. Must look like a root filesystem (etc/ and usr/ or
    /// proc/). Default `/` for a local engine whose serving dockerd is identified; ssh://
    /// engines have their host's files read over ssh.
    #[arg(long, value_name = "DIR")]
    pub host_root: Option<PathBuf>,
    /// ssh client configuration file for ssh:// engines (passed as `ssh -F`); default: ssh's
    /// own (~/.ssh/config, /etc/ssh/ssh_config).
    #[arg(long, value_name = "FILE", env = "DOCKPROOF_SSH_CONFIG")]
    pub ssh_config: Option<PathBuf>,
    /// Include stopped containers.
    #[arg(long)]
    pub include_stopped: bool,
    /// Maximum concurrent inspect requests to the engine.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Images whose OS packages are inventoried (read from the image export stream):
    /// `in-use` (images of the collected containers), `all`, or `none`.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "in-use")]
    pub images: dockproof::collect::ImageSelection,
    /// Directory that caches package inventories by image id between runs.
    #[arg(long, value_name = "DIR")]
    pub inventory_cache: Option<PathBuf>,
}

/// The collected host's declared part in the assessed environment, recorded in its snapshot.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// This host's role, recorded in the snapshot for `report` over many snapshots:
    /// cardholder-data-environment, connected-to, ephi-system or out-of-scope (the spelling
    /// of targets and scope files). An out-of-scope host is shown but not counted in fleet
    /// states.
    #[arg(long, value_name = "ROLE", env = "DOCKPROOF_ROLE", value_parser = parse_role)]
    pub role: Option<HostRole>,
    /// A free label recorded in the snapshot (repeatable), checked as a targets file's labels
    /// are: KEY of letters, digits, `.`, `_`, `-`, `/`; VALUE one line, at most 256
    /// characters.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

fn parse_role(s: &str) -> Result<HostRole, String> {
    s.parse()
        .map_err(|e: dockproof::scope::UnknownRole| e.to_string())
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    dockproof::scope::parse_label(s).map_err(|e| e.to_string())
}

/// Many engines in one assessment.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// YAML file listing the fleet's engines (name, docker_host or context, tls, host_root,
    /// role, labels); writes one fleet bundle with a host bundle per target under hosts/.
    /// A target that cannot be reached or collected is listed as not assessed and the exit
    /// status is 4 (taking precedence over 1 from --fail-on).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["docker_host", "context", "host_root", "fallback_snapshot"]
    )]
    pub targets: Option<PathBuf>,
    /// Most targets collected at the same time (each also limited by --concurrency).
    #[arg(long, default_value_t = 8, value_name = "N", requires = "targets",
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub fleet_concurrency: u16,
    /// Seconds one target's collection may take before it is recorded as not assessed.
    #[arg(long, default_value_t = 300, value_name = "SECS", requires = "targets",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub target_timeout: u64,
}

/// What to evaluate against.
#[derive(Debug, Args)]
pub struct EvaluationArgs {
    /// Framework to report on (repeatable); default: every bundled framework.
    #[arg(long = "framework", value_name = "ID")]
    pub frameworks: Vec<String>,
    /// Directory with extra or overriding catalogs.
    #[arg(long, value_name = "DIR")]
    pub controls: Option<PathBuf>,
    /// Site parameter, e.g. `trusted_registries=registry.example.com,ghcr.io` (repeatable).
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,
    /// YAML file of waivers: accepted failures, scoped to resources, with an expiry.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// YAML file of attestations: a person's verdict on manual requirements.
    #[arg(long, value_name = "FILE")]
    pub attestations: Option<PathBuf>,
    /// Directory of earlier bundles of this host; adds a trend of results and figures per
    /// framework over time to the reports.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Trivy or Grype JSON report of an image (repeatable); bound to the snapshot's images by
    /// image id or repo digest and copied into the bundle.
    #[arg(long = "vuln-report", value_name = "FILE")]
    pub vuln_reports: Vec<PathBuf>,
    /// Directory of OSV advisories (JSON records, e.g. osv.dev's Debian or Alpine export) to
    /// match against the image inventories, offline.
    #[arg(long, value_name = "DIR")]
    pub advisories: Option<PathBuf>,
    #[command(flatten)]
    pub selection: select::SelectArgs,
    #[command(flatten)]
    pub config: config::ConfigArgs,
    /// YAML file declaring the engagement: assessed entity, environment, this host's role and
    /// labels, assessor, operator, report id, period, confidentiality marking and notes
    /// (see samples/scope.yaml). Every report carries it; without it each says that no scope
    /// was declared.
    #[arg(long, value_name = "FILE")]
    pub scope: Option<PathBuf>,
}

/// Where and what to write.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Bundle directory; default `dockproof-<host>-<UTC time>`. An existing path is refused.
    /// `-` writes assessment.json to stdout instead of a bundle (`--sign` and formats other
    /// than `json` are refused) and moves the summary to stderr.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report formats, comma-separated. `snapshot.json` and `assessment.json` are always written.
    #[arg(long, value_delimiter = ',', default_value = "html,pdf,json")]
    pub format: Vec<Format>,
    /// Exit with status 1 when a check fails at or above this severity and no waiver covers it.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,
    /// Sign SHA256SUMS with this unencrypted OpenSSH ed25519 private key, writing
    /// SHA256SUMS.sig (SSHSIG, namespace `file`, checkable with `ssh-keygen -Y verify`).
    #[arg(long, value_name = "KEYFILE")]
    pub sign: Option<PathBuf>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

/// The error and its causes on one line, leaving out a cause whose text the message before it
/// already quotes (many errors name their cause in their own message).
pub(crate) fn describe(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Parses the command line, runs the command and maps the outcome to the documented exit codes.
pub fn main() -> ExitCode {
    let (cli, matches) = match config::parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            report_error(&e);
            return ExitCode::from(e.code);
        }
    };
    // Checked on the final matches, so a format set by the configuration file or the
    // environment is refused with `--out -` as one typed on the command line.
    if let Some((name, message)) = prepare::streamed_format_conflict(&matches) {
        let mut cmd = docs::command();
        cmd.build();
        // The usage line shown is the subcommand's own.
        let mut sub = cmd.find_subcommand(name).cloned().unwrap_or(cmd);
        sub.error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit();
    }
    terminal::set_quiet(cli.quiet);
    output::init_logging(cli.verbose, cli.quiet);
    match commands::run(cli.command, cli.verbose) {
        Ok(code) => code,
        Err(e) => {
            report_error(&e);
            ExitCode::from(e.code)
        }
    }
}

/// Writes an error to stderr, each line neutralised: errors quote paths, host names and
/// catalog text.
fn report_error(e: &commands::CliError) {
    let text = describe(&e.error);
    for (i, line) in text.split('\n').enumerate() {
        let prefix = if i == 0 { "error: " } else { "" };
        let _ = writeln!(
            terminal::stderr(),
            "{prefix}{}",
            dockproof::text::terminal(line)
        );
    }
}
