//! Trust boundaries, end to end through the real binary: output paths that are devices or
//! FIFOs, input files that are not regular files or are too large, terminal escapes in bundle
//! file names and host names, catalog rules that would run for minutes, symlinked catalogs,
//! evidence permissions, leftovers of killed runs, signing keys others can read, manifests as
//! `sha256sum -c` reads them, and secrets that must never reach a bundle (real engine).

mod common;

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);
const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);

/// Runs the binary, killing it if it takes longer than `limit`: a hang is a failure.
fn dockproof_within(args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "dockproof {args:?} still running after {limit:?}; stderr: {}",
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn bundle_of(sample: &str, dir: &Path) -> PathBuf {
    let b = dir.join("b");
    let out = dockproof(&[
        "report",
        sample,
        "--format",
        "json",
        "--out",
        b.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "report failed: {}", stderr(&out));
    b
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// A FIFO with a reader thread that returns everything written to it.
fn fifo_reader(path: &Path) -> std::thread::JoinHandle<Vec<u8>> {
    mkfifo(path);
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::fs::File::open(p)
            .expect("open fifo")
            .read_to_end(&mut buf)
            .expect("read fifo");
        buf
    })
}

#[test]
fn diff_output_to_a_character_device_or_fifo_writes_into_it_and_leaves_it_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle_of(HARDENED, dir.path());
    // A real character device (/dev/null's numbers) made in a temp dir: run as root, a rename
    // over it would replace the device with a regular file.
    let dev = dir.path().join("null");
    let made = Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success(), "mknod needs root");
    let out = dockproof(&[
        "diff",
        b.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        dev.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::metadata(&dev)
        .unwrap()
        .file_type()
        .is_char_device());

    let fifo = dir.path().join("pipe");
    let reader = fifo_reader(&fifo);
    let out = dockproof_within(
        &[
            "diff",
            b.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            fifo.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(reader.join().unwrap()).unwrap();
    assert!(text.starts_with("dockproof diff"), "{text}");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // No temporary file was left beside them.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(names, Vec::<String>::new());
}

#[test]
fn collect_to_a_device_a_fifo_or_dev_stdout_never_replaces_it() {
    if !engine_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("null");
    assert!(Command::new("mknod")
        .arg(&dev)
        .args(["c", "1", "3"])
        .status()
        .unwrap()
        .success());
    let out = dockproof(&["collect", "-o", dev.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::metadata(&dev)
        .unwrap()
        .file_type()
        .is_char_device());

    let fifo = dir.path().join("pipe");
    let reader = fifo_reader(&fifo);
    let out = dockproof_within(
        &["collect", "-o", fifo.to_str().unwrap()],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let snapshot: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(snapshot["schema_version"], 1);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // /dev/stdout is a link into /proc: the snapshot goes to stdout, the link stays.
    let out = dockproof(&["collect", "-o", "/dev/stdout"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Exactly the snapshot, nothing appended.
    let snapshot: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(snapshot["schema_version"], 1);
    assert!(std::fs::symlink_metadata("/dev/stdout")
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn a_file_name_with_escape_sequences_cannot_paint_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle_of(HARDENED, dir.path());
    std::fs::write(b.join("\u{1b}[2J\u{1b}[HVERIFIED: all good\u{202e}"), "x").unwrap();
    let out = dockproof(&["verify", b.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{202e}'),
        "{stdout:?}"
    );
    assert!(stdout.contains(
        "added: [U+001B][2J[U+001B][HVERIFIED: all good[U+202E] (in the bundle, not in SHA256SUMS)"
    ));
    assert!(stdout.lines().last().unwrap().starts_with("FAILED: "));
}

#[test]
fn a_hostile_host_name_is_shown_not_obeyed_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(HARDENED).unwrap()).unwrap();
    doc["target"]["hostname"] = "web\u{1b}]0;owned\u{7}\r\nVERIFIED".into();
    let snap = dir.path().join("s.json");
    std::fs::write(&snap, doc.to_string()).unwrap();
    let out = dockproof(&[
        "report",
        snap.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        !stdout.chars().any(|c| c.is_control() && c != '\n'),
        "{stdout:?}"
    );
    assert!(stdout.contains("target: web[U+001B]]0;owned[U+0007][U+000D][U+000A]VERIFIED (engine"));
}

fn check_yaml(id: &str, rule: &str) -> String {
    format!(
        "  - id: {id}\n    title: t\n    description: d\n    rationale: r\n    severity: low\n    \
         resource: container\n    rule: \"{rule}\"\n    expectation: e\n    evidence:\n      \
         Name: resource.Name\n    remediation: r\n"
    )
}

#[test]
fn a_rule_that_would_take_gigabytes_is_refused_at_load_and_by_lint() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    let l = format!("[{}]", vec!["1"; 100].join(","));
    let rule = format!("size({l}.map(a, {l}.map(b, {l}.map(c, {l}.map(d, {l}.map(e, 1)))))) > 0");
    write_checks(
        &controls,
        &format!("checks:\n{}", check_yaml("container.huge", &rule)),
    );
    for args in [
        vec!["controls", "lint", controls.to_str().unwrap()],
        vec![
            "report",
            INSECURE,
            "--controls",
            controls.to_str().unwrap(),
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ],
    ] {
        let out = dockproof_within(&args, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("check `container.huge`: rule does not compile: cannot be bounded: its cost grows as "),
            "{err}"
        );
    }
    assert!(!dir.path().join("b").exists());
    // The built-in catalog passes, and lint states the bounds it checked.
    let out = dockproof(&["controls", "lint"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout.contains("\nrule cost bounds (n = longest list in the data): "),
        "{stdout}"
    );
    assert!(stdout.contains("\ncostliest rule: "), "{stdout}");
}

#[test]
fn a_rule_that_would_run_for_minutes_is_stopped_and_is_an_error_naming_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    // 150³ = 3.4 million iterations: within the static bound, beyond the runtime budget.
    let l = format!(
        "[{}]",
        (0..150)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let rule = format!("{l}.exists(a, {l}.exists(b, {l}.exists(c, a + b + c < 0)))");
    write_checks(
        &controls,
        &format!(
            "checks:\n{}{}",
            check_yaml("container.slow", &rule),
            check_yaml("container.fine", "resource.Name != ''")
        ),
    );
    let started = Instant::now();
    let dir2 = tempfile::tempdir().unwrap();
    let b = dir2.path().join("b");
    let out = dockproof_within(
        &[
            "report",
            INSECURE,
            "--controls",
            controls.to_str().unwrap(),
            "--format",
            "json",
            "--out",
            b.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("assessment.json")).unwrap()).unwrap();
    let results: Vec<&serde_json::Value> = a["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["check_id"] == "container.slow")
        .collect();
    assert_eq!(results.len(), 4);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["status"], "error", "{r}");
        let m = r["message"].as_str().unwrap();
        // Three resources pay the budget; after that the rule is not run again.
        let expected = if i < 3 {
            "rule of check `container.slow` stopped: evaluation "
        } else {
            "rule of check `container.slow` not evaluated: it ran out of its budget on 3 earlier resources"
        };
        assert!(m.starts_with(expected), "{m}");
    }
    assert!(a["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["check_id"] == "container.fine" && r["status"] == "pass"));
    eprintln!("over-budget report took {:?}", started.elapsed());
}

#[test]
fn history_that_is_a_fifo_or_a_device_is_refused_by_name_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    std::fs::create_dir(&history).unwrap();
    mkfifo(&history.join("old-assessment.json"));
    let out = dockproof_within(
        &[
            "report",
            HARDENED,
            "--history",
            history.to_str().unwrap(),
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("old-assessment.json is a FIFO (named pipe), not a regular file"),
        "{err}"
    );

    std::fs::remove_file(history.join("old-assessment.json")).unwrap();
    std::fs::create_dir(history.join("bundle-1")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", history.join("bundle-1/assessment.json")).unwrap();
    let out = dockproof_within(
        &[
            "report",
            HARDENED,
            "--history",
            history.to_str().unwrap(),
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bundle-1/assessment.json is a character device"),
        "{err}"
    );
    assert!(!dir.path().join("b").exists());
}

#[test]
fn inputs_that_are_devices_or_too_large_are_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dockproof_within(
        &[
            "report",
            "/dev/zero",
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("the snapshot /dev/zero is a character device"));

    // A million waivers would take gigabytes; the file is refused by size before parsing.
    let waivers = dir.path().join("waivers.yaml");
    let f = std::fs::File::create(&waivers).unwrap();
    f.set_len(17 << 20).unwrap();
    let out = dockproof_within(
        &[
            "report",
            HARDENED,
            "--waivers",
            waivers.to_str().unwrap(),
            "--out",
            dir.path().join("b").to_str().unwrap(),
        ],
        Duration::from_secs(30),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is larger than 4194304 bytes"), "{err}");
}

#[test]
fn a_configmap_style_catalog_of_symlinks_loads() {
    let dir = tempfile::tempdir().unwrap();
    let controls = dir.path().join("controls");
    let version = controls.join("..2026_11_30_00_00_00.1");
    std::fs::create_dir_all(version.join("checks")).unwrap();
    std::fs::write(
        version.join("checks/site.yaml"),
        format!(
            "checks:\n{}",
            check_yaml("container.site-named", "resource.Name != ''")
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink("..2026_11_30_00_00_00.1", controls.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/checks", controls.join("checks")).unwrap();
    let out = dockproof(&["controls", "list", "--controls", controls.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout.matches("container.site-named").count(),
        1,
        "{stdout}"
    );
}

#[test]
fn bundles_are_private_whatever_the_umask_and_leftovers_of_killed_runs_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join(".dockproof-partial-999999999-1-abcdef");
    std::fs::create_dir(&gone).unwrap();
    std::fs::write(gone.join("snapshot.json"), "{}").unwrap();
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_string();
    let alive = dir
        .path()
        .join(format!(".dockproof-partial-{pid}-{start}-xyz"));
    std::fs::create_dir(&alive).unwrap();

    let b = dir.path().join("b");
    let out = Command::new("sh")
        .args(["-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(bin())
        .args(["report", HARDENED, "--format", "json,csv", "--out"])
        .arg(&b)
        .output()
        .unwrap();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        std::fs::metadata(&b).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for entry in std::fs::read_dir(&b).unwrap() {
        let entry = entry.unwrap();
        assert_eq!(
            entry.metadata().unwrap().permissions().mode() & 0o777,
            0o600,
            "{:?}",
            entry.file_name()
        );
    }
    assert!(!gone.exists(), "{err}");
    assert!(err.contains(&format!(
        "removed {}, left by an earlier run",
        gone.display()
    )));
    assert!(alive.exists());
    assert!(
        err.contains(&format!("belongs to a run still in progress (pid {pid})")),
        "{err}"
    );
}

#[test]
fn a_signing_key_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("id");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen");
    assert!(made.success());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let b = dir.path().join("b");
    let out = dockproof(&[
        "report",
        HARDENED,
        "--sign",
        key.to_str().unwrap(),
        "--out",
        b.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{} is readable by others (mode 0644); a signing key must be private",
            key.display()
        )),
        "{err}"
    );
    assert!(!b.exists());
}

#[test]
fn manifests_read_as_sha256sum_reads_them_and_an_empty_one_fails() {
    let dir = tempfile::tempdir().unwrap();
    let b = bundle_of(HARDENED, dir.path());
    let manifest = b.join("SHA256SUMS");
    let original = std::fs::read_to_string(&manifest).unwrap();
    // CRLF line ends and `./` prefixes: sha256sum -c accepts them, and so does verify.
    let crlf: String = original
        .lines()
        .map(|l| format!("{}  ./{}\r\n", &l[..64], &l[66..]))
        .collect();
    std::fs::write(&manifest, &crlf).unwrap();
    let reference = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&b)
        .output()
        .unwrap();
    assert!(reference.status.success(), "{}", stderr(&reference));
    let out = dockproof(&["verify", b.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("VERIFIED: "), "{stdout}");

    std::fs::write(&manifest, "").unwrap();
    let out = dockproof(&["verify", b.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(
        "missing: snapshot.json is not listed in SHA256SUMS; every host bundle holds it"
    ));
    assert!(stdout.contains(
        "missing: assessment.json is not listed in SHA256SUMS; every host bundle holds it"
    ));
    assert!(
        stdout.lines().last().unwrap().starts_with("FAILED: "),
        "{stdout}"
    );
}

#[test]
fn secrets_in_build_steps_commands_healthchecks_and_labels_never_reach_a_bundle() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let dir = tempfile::tempdir().unwrap();
    let tag = format!("dockproof-test/secret-steps:{}", std::process::id());
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {IMAGE}\nLABEL dockproof.test=1\n\
             RUN true || curl -u admin:Pw0rd1 --password hunter22 https://bob:tok3n9@git.example/r\n"
        ),
    )
    .unwrap();
    docker_ok(&["build", "-q", "-t", &tag, dir.path().to_str().unwrap()]);
    struct Cleanup(String, String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("docker").args(["rm", "-f", &self.1]).output();
            let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
        }
    }
    let name = format!("dpt-{}-secrets", std::process::id());
    let _cleanup = Cleanup(tag.clone(), name.clone());
    docker_ok(&[
        "create",
        "--label",
        LABEL,
        "--label",
        "db.password=LabelPw77",
        "--name",
        &name,
        "--health-cmd",
        "wget -q --password=HealthPw55 http://localhost/",
        &tag,
        "/bin/sleep",
        "--db-password",
        "CmdPw33",
    ]);
    let scan = run_to_bundle(&[
        "scan",
        "--include-stopped",
        "--format",
        "json,html,csv,sarif,junit,oscal",
    ]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));
    // Every file of the bundle, the SBOMs under sbom/ included.
    for entry in walkdir::WalkDir::new(&scan.bundle) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path().to_path_buf();
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in [
            "Pw0rd1",
            "hunter22",
            "tok3n9",
            "LabelPw77",
            "HealthPw55",
            "CmdPw33",
        ] {
            assert!(!text.contains(secret), "{secret} in {}", path.display());
        }
    }
    // The check still finds the step, and says where: the masked step, names kept.
    let image_result = scan
        .results()
        .find(|r| {
            r["check_id"] == "image.history-secrets"
                && r["resource"]["name"]
                    .as_str()
                    .is_some_and(|n| n.contains("secret-steps"))
        })
        .cloned()
        .expect("history-secrets result for the image");
    assert_eq!(image_result["status"], "fail", "{image_result}");
    assert!(image_result
        .to_string()
        .contains("--password <redacted:credential-like>"));
}

#[test]
fn the_diff_shows_escape_and_bidi_characters_in_text_and_html() {
    let dir = tempfile::tempdir().unwrap();
    let old = bundle_of(INSECURE, dir.path());
    let new = dir.path().join("new-assessment.json");
    let mut a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(old.join("assessment.json")).unwrap())
            .unwrap();
    let evil = "web\u{1b}[31m\u{202e}gnp.exe";
    for r in a["results"].as_array_mut().unwrap() {
        if r["resource"]["name"] == "web-frontend" {
            r["resource"]["name"] = evil.into();
        }
    }
    std::fs::write(&new, a.to_string()).unwrap();
    let out = dockproof(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
    assert!(text.contains("web[U+001B][31m[U+202E]gnp.exe"), "{text}");
    let out = dockproof(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "html",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
    assert!(html.contains("web[U+001B][31m[U+202E]gnp.exe"));
}
