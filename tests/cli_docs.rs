//! What the binary says about itself: help with examples and exit codes, the long version,
//! completions, the man page, `controls show` by any id, `frameworks show`, and the README's
//! command reference checked against the help of every command.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;

fn ok(args: &[&str]) -> String {
    let out = dockproof(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn help_names_cis_and_shows_examples_and_exit_codes() {
    let short = ok(&["-h"]);
    assert!(short.contains("CIS Docker Benchmark 1.6.0"), "{short}");
    assert!(short.contains("Exit codes: 0 done, 1 failures"), "{short}");
    let long = ok(&["--help"]);
    assert!(long.contains("Examples:\n  dockproof scan "), "{long}");
    assert!(
        long.contains("  2  usage, catalog or input error; nothing was collected or written"),
        "{long}"
    );
    let scan = ok(&["scan", "--help"]);
    assert!(
        scan.contains("dockproof scan --out - > assessment.json"),
        "{scan}"
    );
    let report = ok(&["report", "--help"]);
    assert!(report.contains("a bundle's\nassessment.json") || report.contains("assessment.json"));
    assert!(
        report.contains("dockproof report old-bundle/assessment.json"),
        "{report}"
    );
}

/// The long version names the built-in catalogs and the hash every assessment records.
#[test]
fn the_long_version_carries_the_catalog_hash_reports_record() {
    let version = ok(&["--version"]);
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("b");
    let out = Command::new(bin())
        .args([
            "report",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/samples/insecure-host.snapshot.json"
            ),
        ])
        .args(["--format", "json", "-q", "--out"])
        .arg(&bundle)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let a = dockproof::diff::load(&bundle).expect("assessment");
    assert!(
        version.contains(&format!("catalog sha256: {}\n", a.catalog.sha256)),
        "{version}"
    );
    assert!(version.starts_with(&format!("dockproof {}\n", env!("CARGO_PKG_VERSION"))));
    for id in ["cis-docker-1.6", "pci-dss-4.0.1", "hipaa-security-rule"] {
        assert!(version.contains(&format!("\n  {id} (")), "{version}");
    }
    assert_eq!(
        ok(&["-V"]),
        format!("dockproof {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// Each shell's script is generated; bash's is valid bash and completes the subcommands.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = ok(&["completions", shell]);
        for word in ["scan", "frameworks", "fail-on"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dockproof.bash");
    std::fs::write(&file, ok(&["completions", "bash"])).expect("write");
    let words = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(dockproof fr); COMP_CWORD=1; _dockproof dockproof fr dockproof; \
             echo \"${{COMPREPLY[@]}}\"",
            file.display()
        ))
        .output()
        .expect("bash runs");
    assert!(words.status.success(), "{}", stderr(&words));
    assert_eq!(String::from_utf8_lossy(&words.stdout).trim(), "frameworks");
    assert_eq!(dockproof(&["completions", "tcsh"]).status.code(), Some(2));
}

/// The man page is roff that groff formats, with the options of the commands.
#[test]
fn the_man_page_is_generated_from_the_flags() {
    let page = ok(&["man"]);
    assert!(page.contains(".TH dockproof 1"), "{page}");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dockproof(&["man", "--dir", dir.path().to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let scan = dir.path().join("dockproof-scan.1");
    let formatted = Command::new("groff")
        .args(["-man", "-Tascii", "-P-c", "-P-b", "-P-u"])
        .arg(&scan)
        .output()
        .expect("groff is installed");
    assert!(formatted.status.success(), "{}", stderr(&formatted));
    let text = String::from_utf8_lossy(&formatted.stdout);
    for flag in ["--fail-on", "--docker-host", "--out"] {
        assert!(
            text.contains(flag),
            "{flag} missing from the scan page:\n{text}"
        );
    }
    for page in [
        "dockproof.1",
        "dockproof-controls-show.1",
        "dockproof-frameworks-show.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}");
    }
}

#[test]
fn controls_show_takes_a_check_id_a_cis_number_or_a_requirement_id() {
    let by_id = ok(&["controls", "show", "container.privileged"]);
    assert!(by_id.starts_with("container.privileged — "), "{by_id}");
    let by_cis = ok(&["controls", "show", "5.5"]);
    assert!(
        by_cis.starts_with("CIS Docker Benchmark 5.5 — "),
        "{by_cis}"
    );
    assert!(
        by_cis.contains("decided by:  container.privileged\n"),
        "{by_cis}"
    );
    assert!(by_cis.contains("\ncontainer.privileged — "), "{by_cis}");
    let hipaa = ok(&["controls", "show", "164.312(b)"]);
    assert!(hipaa.contains("level:       "), "{hipaa}");

    // CIS 1.1.1 and PCI DSS 1.1.1: both listed, exit 2, until --framework picks one.
    let both = dockproof(&["controls", "show", "1.1.1"]);
    assert_eq!(both.status.code(), Some(2));
    let err = stderr(&both);
    assert!(err.contains("`1.1.1` names 2 requirements:"), "{err}");
    assert!(err.contains("  cis-docker-1.6 "), "{err}");
    assert!(err.contains("  pci-dss-4.0.1 "), "{err}");
    let pci = ok(&["controls", "show", "1.1.1", "--framework", "pci-dss-4.0.1"]);
    assert!(pci.starts_with("PCI DSS 1.1.1 — "), "{pci}");
    assert!(pci.contains("mode:        manual\n"), "{pci}");
    assert!(pci.contains("evidence owner: security officer"), "{pci}");

    let none = dockproof(&["controls", "show", "9.9.9.9"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("nothing is called `9.9.9.9`"));
    let bad = dockproof(&["controls", "show", "1.1.1", "--framework", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown framework `nope`"));
}

#[test]
fn frameworks_show_lists_requirements_with_mode_checks_and_owner() {
    let pci = ok(&["frameworks", "show", "pci-dss-4.0.1"]);
    assert!(pci.starts_with("PCI DSS 4.0.1 (pci-dss-4.0.1)\n"), "{pci}");
    let line = pci
        .lines()
        .find(|l| l.starts_with("2.2.5 "))
        .expect("2.2.5 listed");
    assert!(
        line.contains(" partial ") || line.contains(" automated "),
        "{line}"
    );
    assert!(pci.contains(" decided by: "), "{pci}");
    assert!(pci.contains(" evidence owner: "), "{pci}");
    assert!(pci.trim_end().ends_with(" requirements"), "{pci}");
    let bad = dockproof(&["frameworks", "show", "sox"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("available: cis-docker-1.6"),
        "{}",
        stderr(&bad)
    );
}

/// Subcommands and long flags of one help text.
fn help_items(args: &[&str]) -> (Vec<String>, BTreeSet<String>) {
    let mut full = args.to_vec();
    full.push("--help");
    let help = ok(&full);
    let mut subcommands = Vec::new();
    let mut flags = BTreeSet::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line == "Commands:" {
            in_commands = true;
            continue;
        }
        if in_commands {
            match line.strip_prefix("  ") {
                Some(rest) if !rest.starts_with(' ') => {
                    let name = rest.split_whitespace().next().unwrap_or_default();
                    if name != "help" {
                        subcommands.push(name.to_string());
                    }
                }
                Some(_) => {}
                None => in_commands = false,
            }
        }
        // A flag's own line: `  -x, --name <VALUE>` or `      --name`.
        let trimmed = line.trim_start();
        if line.starts_with("  ") && trimmed.starts_with('-') {
            for word in trimmed.split([' ', ',']) {
                if let Some(name) = word.strip_prefix("--").map(|n| n.trim_end_matches('.')) {
                    if !name.is_empty() && name != "help" && name != "version" {
                        flags.insert(format!("--{name}"));
                    }
                }
            }
        }
    }
    (subcommands, flags)
}

/// Every subcommand and every flag the help lists appears in the README's reference (the
/// commands block and the option lists after it), so the README cannot fall behind the CLI.
#[test]
fn the_readme_names_every_command_and_flag_of_the_help() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let mut missing = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = queue.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let (subs, flags) = help_items(&args);
        for sub in subs {
            let mut next = path.clone();
            next.push(sub);
            let line = format!("dockproof {}", next.join(" "));
            // `dockproof controls list`, or the family line `dockproof controls  list | show`.
            let family = next.len() > 1
                && readme.lines().any(|l| {
                    l.starts_with(&format!("dockproof {}", next[0]))
                        && l.contains(&next[1..].join(" "))
                });
            if !readme.contains(&line) && !family {
                missing.push(line);
            }
            queue.push(next);
        }
        for flag in flags {
            if !seen.insert(flag.clone()) {
                continue;
            }
            if !readme.contains(&format!("`{flag}")) && !readme.contains(&format!("{flag} ")) {
                missing.push(format!("{} {flag}", args.join(" ")));
            }
        }
    }
    assert!(missing.is_empty(), "not in README.md: {missing:#?}");
}
