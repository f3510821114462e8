//! What the command line says about itself: the help epilogues (examples and exit codes), the
//! long `--version` with the catalogs it carries, shell completions and the man page. The last
//! two are generated from the clap definitions, so they never drift from the flags.

use std::io::{self, Write};

use clap::CommandFactory;

use super::Cli;

/// After `dockproof --help`: examples, then the exit codes.
pub const MAIN_AFTER_LONG_HELP: &str = "\
Examples:
  dockproof scan                              scan the engine the docker CLI would use
  dockproof scan -H ssh://admin@db1 --framework pci-dss-4.0.1 --fail-on high
  dockproof scan --out - | jq .summary        assessment.json on stdout, no bundle
  dockproof collect -o host.json              evidence only, evaluate later
  dockproof report host.json --format html,csv
  dockproof report dockproof-db1-20261201T000000Z   re-evaluate an earlier bundle
  dockproof diff OLD_BUNDLE NEW_BUNDLE --fail-on-new high
  dockproof verify BUNDLE --key signer.pub
  dockproof controls show 5.5 --framework cis-docker-1.6
  dockproof completions bash > /etc/bash_completion.d/dockproof

Exit codes:
  0  done; nothing failed at or above --fail-on
  1  unwaived failures at or above --fail-on (diff: --fail-on-new; verify: not verified)
  2  usage, catalog or input error; nothing was collected or written
  3  the engine could not be reached or collection failed
  4  a fleet bundle was written but some targets were not assessed (before 1)";

/// After `dockproof -h`: where the rest is.
pub const MAIN_AFTER_HELP: &str =
    "Exit codes: 0 done, 1 failures at or above --fail-on, 2 usage or input error, 3 engine \
     unreachable, 4 fleet targets not assessed. `--help` shows examples.";

/// After `dockproof scan --help`.
pub const SCAN_AFTER_LONG_HELP: &str = "\
Examples:
  dockproof scan
  dockproof scan -H tcp://10.0.0.5:2376 --out evidence/db1 --format html,pdf,json,sarif
  dockproof scan --framework cis-docker-1.6 --fail-on high --quiet
  dockproof scan --waivers waivers.yaml --attestations attestations.yaml --sign key
  dockproof scan --out - > assessment.json
  dockproof scan --targets targets.yaml --out evidence/fleet

Output: the bundle's path and a summary (failing checks worst first, with their assets and
fixes, then counts) go to stdout; progress and notes go to stderr. With `--out -` stdout carries
assessment.json only and the summary goes to stderr. `--quiet` leaves only errors.

Exit codes: 0 done, 1 failures at or above --fail-on, 2 usage or input error (before the engine
is contacted), 3 engine unreachable or collection failed, 4 a fleet bundle was written but
some targets were not assessed (given before 1).";

/// After `dockproof report --help`.
pub const REPORT_AFTER_LONG_HELP: &str = "\
Examples:
  dockproof report host.json
  dockproof report dockproof-db1-20261201T000000Z --framework pci-dss-4.0.1
  dockproof report old-bundle/assessment.json --out new-bundle
  dockproof report host.json --out - | jq '.summary'
  dockproof report /snapshots/ --out evidence/fleet

INPUT is a snapshot (`collect -o`), a bundle directory (its snapshot.json) or a bundle's
assessment.json (the snapshot.json beside it, which must be the one it was computed from). The
evidence is always evaluated again with this version's catalogs and the options given. Several
snapshots, or a directory of them, give one fleet bundle.

Exit codes: 0 done, 1 failures at or above --fail-on, 2 usage or input error, 4 a fleet
snapshot could not be assessed.";

/// The shells `completions` writes for.
pub type Shell = clap_complete::Shell;

/// The command line as clap sees it. The long version loads the catalogs to name them, so it
/// is filled in only when `--version` was asked for; the leaked text lives as long as the
/// process, which ends right after printing it.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    // clap's own help and errors follow the same colour rule as everything else: NO_COLOR set
    // to any value, the empty string included, means none.
    if std::env::var_os("NO_COLOR").is_some() {
        cmd = cmd.color(clap::ColorChoice::Never);
    }
    if std::env::args_os().skip(1).any(|a| a == "--version") {
        let text: &'static str = Box::leak(long_version().into_boxed_str());
        return cmd.long_version(text);
    }
    cmd
}

/// `--version`: the program, then the catalogs built into it and their hash (the hash each
/// assessment records, so a report can be tied to the binary that made it).
fn long_version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_string();
    match dockproof::catalog::Catalog::load(None) {
        Ok(catalog) => {
            text.push_str("\ncatalogs:");
            for f in &catalog.frameworks {
                text.push_str(&format!(
                    "\n  {} ({} {})",
                    f.meta.id, f.meta.name, f.meta.version
                ));
            }
            text.push_str(&format!(
                "\n  {} checks, {} site parameters\ncatalog sha256: {}",
                catalog.checks.len(),
                catalog.params.len(),
                catalog.sha256
            ));
        }
        Err(e) => text.push_str(&format!("\ncatalogs: cannot be loaded: {e}")),
    }
    text
}

/// `completions SHELL`: the completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut command(), "dockproof", out);
}

/// `man`: the roff page of `dockproof` itself on `out`, listing the subcommands.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(command()).render(out)
}

/// `man --dir DIR`: one page per command and subcommand (`dockproof.1`, `dockproof-scan.1`,
/// ...), written into `dir`, which must exist.
pub fn man_pages(dir: &std::path::Path) -> io::Result<()> {
    clap_mangen::generate_to(command(), dir)
}
