//! End-to-end tests of what a person at a terminal sees: the failing-check summary, colour only
//! on a terminal (a real pseudo-terminal through `script`), `--quiet`, `--out -`, inputs checked
//! before the engine is contacted, quiet ends on closed pipes, and `report` of a bundle.

mod common;

use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const WAIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml");

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `cmd` and kills it if it has not finished after `limit`; returns its output and
/// whether it finished by itself.
fn run_within(mut cmd: Command, limit: Duration) -> (std::process::Output, bool) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dockproof starts");
    let started = Instant::now();
    let finished = loop {
        if child.try_wait().expect("wait").is_some() {
            break true;
        }
        if started.elapsed() > limit {
            child.kill().expect("kill");
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (child.wait_with_output().expect("output"), finished)
}

/// A unix socket that accepts every connection and never answers: an engine that hangs.
fn hanging_engine(dir: &Path) -> String {
    let path = dir.join("hung.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("unix://{}", path.display())
}

/// Every kind of bad argument is an input error (2) reported before the engine is contacted:
/// against a missing socket it is not "unreachable" (3), and against an engine that never
/// answers the command still returns at once.
#[test]
fn bad_arguments_are_refused_before_the_engine_is_contacted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).expect("mkdir");
    let hung = hanging_engine(dir.path());
    let existing = existing.to_str().expect("utf-8").to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--framework", "nope"], "unknown framework `nope`"),
        (vec!["--param", "nope=1"], "unknown parameter `nope`"),
        (vec!["--out", &existing], "already exists"),
        (vec!["--waivers", "/nonexistent/waivers.yaml"], "waiver"),
        (vec!["--attestations", "/nonexistent/a.yaml"], "attestation"),
        (
            vec!["--controls", "/nonexistent/controls"],
            "/nonexistent/controls",
        ),
        (vec!["--history", "/nonexistent/history"], "--history"),
        (
            vec!["--vuln-report", "/nonexistent/trivy.json"],
            "--vuln-report",
        ),
        (vec!["--format", "docx"], "docx"),
        (vec!["--out", "-", "--sign", "/nonexistent/key"], "--sign"),
        (
            vec!["--out", "-", "--format", "json,sarif"],
            "--format sarif",
        ),
    ];
    for (args, needle) in &cases {
        for endpoint in ["unix:///nonexistent/docker.sock", hung.as_str()] {
            let mut cmd = Command::new(bin());
            cmd.current_dir(dir.path())
                .args(["scan", "-H", endpoint])
                .args(args);
            let started = Instant::now();
            let (out, finished) = run_within(cmd, Duration::from_secs(10));
            assert!(finished, "{args:?} against {endpoint} hung");
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{args:?} against {endpoint} took {:?}",
                started.elapsed()
            );
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stderr).contains(needle),
                "{args:?}: expected `{needle}` in {}",
                text(&out.stderr)
            );
            assert!(!text(&out.stderr).contains("collected"), "{args:?}");
        }
    }
    // Nothing was written beside the inputs.
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["existing", "hung.sock"]);
}

/// While the engine does not answer, stderr says what the scan is waiting for (with -v, since
/// stderr is not a terminal here).
#[test]
fn a_silent_engine_is_named_while_the_scan_waits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hung = hanging_engine(dir.path());
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir.path())
        .args(["scan", "-v", "-H", &hung, "--format", "json"]);
    let (out, finished) = run_within(cmd, Duration::from_secs(6));
    assert!(!finished, "the hung engine answered: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("still waiting for {hung} to answer (2 s)")),
        "{err}"
    );
    // Without -v and without a terminal, nothing is said.
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir.path())
        .args(["scan", "-H", &hung, "--format", "json"]);
    let (out, finished) = run_within(cmd, Duration::from_secs(6));
    assert!(!finished);
    assert!(
        !text(&out.stderr).contains("still waiting"),
        "{}",
        text(&out.stderr)
    );
}

/// The summary lists the failing checks worst first with their assets, fix and exact edit,
/// every line within 80 columns when stdout is not a terminal, and no colour.
#[test]
fn the_summary_shows_failing_checks_worst_first_with_assets_and_fixes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["report", INSECURE, "--format", "json", "--out", "b"])
        .args(["--waivers", WAIVERS])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(!stdout.contains('\x1b'), "colour in a pipe: {stdout}");
    for line in stdout.lines().take_while(|l| !l.starts_with("target:")) {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(
        stdout.contains(
            "CRITICAL container.privileged  Container does not run privileged [CIS 5.5]\n  \
             on:  legacy-admin\n  fix: Run the container without --privileged"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  on:  ci-runner, legacy-admin, monitoring-agent, web-frontend\n"),
        "{stdout}"
    );
    // The exact edit follows the prose: the flag to remove, the audit line with the path the
    // host showed, the daemon.json key and value.
    assert!(
        stdout.contains("\n  edit: remove --privileged\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  edit: -w /usr/sbin/dockerd -k docker\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\n  edit: daemon.json \"userns-remap\": "),
        "{stdout}"
    );
    // Worst first: no severity appears after a lower one.
    let order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"];
    let ranks: Vec<usize> = stdout
        .lines()
        .filter_map(|l| order.iter().position(|s| l.starts_with(&format!("{s:<8}"))))
        .collect();
    assert!(ranks.len() > 20, "{stdout}");
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // The waived failure (CIS 5.16 on the sample) is not listed as failing.
    assert!(!stdout.contains("container.host-pid  "), "{stdout}");
    // Checks without evidence are named as such, never as passes.
    assert!(stdout.contains("could not evaluate 3 check(s)"), "{stdout}");
}

fn in_pty(command: &str, no_color: bool) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", command, "/dev/null"])
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "");
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) is installed");
    assert!(out.status.success(), "{command}: {}", text(&out.stdout));
    text(&out.stdout)
}

/// On a terminal the summary is coloured and fitted to the terminal's width; NO_COLOR (even
/// empty) removes every escape, from the summary and the `-v` logs alike.
#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |out: &str| {
        format!(
            "stty cols 120; {} report {INSECURE} --format json -vv --out {}",
            bin().display(),
            dir.path().join(out).display()
        )
    };
    let coloured = in_pty(&run("a"), false);
    assert!(
        coloured.contains("\x1b[1;31mCRITICAL\x1b[0m \x1b[1mcontainer.privileged\x1b[0m"),
        "{coloured}"
    );
    let widest = coloured
        .lines()
        .filter(|l| l.starts_with("  fix: "))
        .map(|l| l.trim_end_matches('\r').chars().count())
        .max()
        .expect("fix lines");
    assert!(widest > 80 && widest <= 120, "widest fix line {widest}");
    let plain = in_pty(&run("b"), true);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("CRITICAL container.privileged"), "{plain}");
    // clap's own help follows the same rule.
    let help = format!("{} --help", bin().display());
    assert!(in_pty(&help, false).contains('\x1b'));
    assert!(!in_pty(&help, true).contains('\x1b'));
}

/// The `-v` logs follow the same rule: coloured on a terminal, plain with NO_COLOR.
#[test]
fn verbose_logs_are_coloured_only_on_a_terminal() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |out: &str| {
        format!(
            "{} scan -vv --images none --format json --out {}",
            bin().display(),
            dir.path().join(out).display()
        )
    };
    let coloured = in_pty(&run("a"), false);
    assert!(coloured.contains("\x1b[34mDEBUG\x1b[0m"), "{coloured}");
    let plain = in_pty(&run("b"), true);
    assert!(plain.contains(" DEBUG "), "{plain}");
    assert!(!plain.contains('\x1b'), "{plain}");
}

#[test]
fn quiet_prints_only_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["report", INSECURE, "--format", "json", "--out", "b", "-q"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "");
    assert!(dir.path().join("b/assessment.json").is_file());
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["report", INSECURE, "--out", "b", "--quiet"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error: --out b already exists"));
}

/// `--out -` writes assessment.json to stdout, the summary to stderr, and no directory.
#[test]
fn out_dash_streams_the_assessment_and_writes_no_bundle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["report", INSECURE, "--out", "-"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let streamed = dockproof::diff::load::from_slice(&out.stdout, "stdout").expect("an assessment");
    assert!(text(&out.stderr).contains("failing checks, worst first"));
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    // The same results as the bundle's assessment.json.
    let bundle = dir.path().join("b");
    let made = Command::new(bin())
        .args(["report", INSECURE, "--format", "json", "-q", "--out"])
        .arg(&bundle)
        .output()
        .expect("runs");
    assert!(made.status.success());
    let written = dockproof::diff::load(&bundle).expect("bundle");
    assert_eq!(
        serde_json::to_value(&streamed.results).expect("json"),
        serde_json::to_value(&written.results).expect("json")
    );
}

/// Against the real engine, `scan --out -` streams too.
#[test]
fn scan_out_dash_streams_a_live_assessment() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bin())
        .current_dir(dir.path())
        .args(["scan", "--images", "none", "--out", "-"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let a = dockproof::diff::load::from_slice(&out.stdout, "stdout").expect("an assessment");
    assert!(!a.results.is_empty());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// Spawns `args` with the chosen stream's reading end closed before the command writes.
fn with_closed(stream: &str, args: &[&str], cwd: &Path) -> (Option<i32>, String) {
    let mut cmd = Command::new(bin());
    cmd.current_dir(cwd).args(args).stdin(Stdio::null());
    let (out, err) = if stream == "stdout" {
        (Stdio::piped(), Stdio::piped())
    } else {
        (Stdio::null(), Stdio::piped())
    };
    let mut child = cmd.stdout(out).stderr(err).spawn().expect("spawn");
    let mut other = String::new();
    if stream == "stdout" {
        drop(child.stdout.take());
        child
            .stderr
            .take()
            .expect("stderr")
            .read_to_string(&mut other)
            .expect("read");
    } else {
        drop(child.stderr.take());
    }
    let status = child.wait().expect("wait");
    (status.code(), other)
}

/// A reader that goes away early ends the output quietly: no panic (101), no "Broken pipe",
/// and the exit code the work decided.
#[test]
fn a_closed_stdout_or_stderr_ends_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let made = Command::new(bin())
        .current_dir(dir.path())
        .args(["report", INSECURE, "--format", "json", "-q", "--out", "a"])
        .output()
        .expect("runs");
    assert!(made.status.success());
    let (code, err) = with_closed("stdout", &["diff", "a", "a"], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    let (code, err) = with_closed("stdout", &["report", INSECURE, "--out", "-"], dir.path());
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    let args = ["report", INSECURE, "--format", "json", "--out", "b"];
    let (code, _) = with_closed("stdout", &args, dir.path());
    assert_eq!(code, Some(0));
    let args = ["report", INSECURE, "--format", "json", "--fail-on", "high"];
    let (code, _) = with_closed("stderr", &[&args[..], &["--out", "c"]].concat(), dir.path());
    assert_eq!(code, Some(1), "the exit code stays what --fail-on decided");
    for b in ["b", "c"] {
        let verify = dockproof(&["verify", dir.path().join(b).to_str().expect("utf-8")]);
        assert!(verify.status.success(), "{b}: {}", stderr(&verify));
    }
    for args in [
        &["controls", "list"][..],
        &["--help"],
        &["completions", "bash"],
        &["man"],
        &["frameworks", "show", "pci-dss-4.0.1"],
    ] {
        let (code, err) = with_closed("stdout", args, dir.path());
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
    }
}

/// `report` takes a bundle directory or its assessment.json and re-evaluates the bundle's
/// snapshot; an assessment beside a different snapshot is refused.
#[test]
fn report_takes_a_bundle_or_its_assessment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        Command::new(bin())
            .current_dir(dir.path())
            .args(args)
            .args(["--format", "json", "-q"])
            .output()
            .expect("runs")
    };
    assert!(run(&["report", INSECURE, "--out", "a"]).status.success());
    let first = dockproof::diff::load(&dir.path().join("a")).expect("a");
    for (input, out) in [("a", "b"), ("a/assessment.json", "c")] {
        let res = run(&["report", input, "--out", out]);
        assert!(res.status.success(), "{input}: {}", stderr(&res));
        let again = dockproof::diff::load(&dir.path().join(out)).expect("bundle");
        assert_eq!(again.snapshot.sha256, first.snapshot.sha256, "{input}");
        assert_eq!(
            serde_json::to_value(&again.results).expect("json"),
            serde_json::to_value(&first.results).expect("json"),
            "{input}"
        );
    }
    // An assessment whose neighbour is another snapshot.
    let odd = dir.path().join("odd");
    std::fs::create_dir(&odd).expect("mkdir");
    std::fs::copy(
        dir.path().join("a/assessment.json"),
        odd.join("assessment.json"),
    )
    .expect("cp");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/hardened-host.snapshot.json"
        ),
        odd.join("snapshot.json"),
    )
    .expect("cp");
    let res = run(&["report", "odd/assessment.json", "--out", "d"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        stderr(&res).contains("was computed from a snapshot with SHA-256"),
        "{}",
        stderr(&res)
    );
    // A directory that is no bundle.
    std::fs::remove_file(odd.join("snapshot.json")).expect("rm");
    let res = run(&["report", "odd", "--out", "d"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(
        stderr(&res).contains("is a directory without snapshot.json"),
        "{}",
        stderr(&res)
    );
    assert!(!dir.path().join("d").exists());
}

/// `collect -o` into a directory, or into a directory that does not exist, is refused before
/// the engine is contacted.
#[test]
fn collect_checks_its_output_before_the_engine() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hung = hanging_engine(dir.path());
    let dir_str = dir.path().to_str().expect("utf-8").to_string();
    let missing = format!("{dir_str}/no/such/dir/host.json");
    for (output, needle) in [
        (dir_str.as_str(), "is a directory"),
        (missing.as_str(), "does not exist"),
    ] {
        let mut cmd = Command::new(bin());
        cmd.args(["collect", "-H", &hung, "-o", output]);
        let (out, finished) = run_within(cmd, Duration::from_secs(10));
        assert!(finished, "{output}: hung");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{output}: {}",
            text(&out.stderr)
        );
        assert!(text(&out.stderr).contains(needle), "{}", text(&out.stderr));
    }
}

/// A broken fallback snapshot is an input error before the engine is contacted, not a surprise
/// during the next outage.
#[test]
fn a_broken_fallback_snapshot_is_refused_up_front() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hung = hanging_engine(dir.path());
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"schema_version\": 1,").expect("write");
    let mut cmd = Command::new(bin());
    cmd.current_dir(dir.path())
        .args(["scan", "-H", &hung, "--fallback-snapshot"])
        .arg(&broken);
    let (out, finished) = run_within(cmd, Duration::from_secs(10));
    assert!(finished, "hung");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("broken.json"),
        "{}",
        text(&out.stderr)
    );
}
