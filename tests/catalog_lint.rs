//! `dockproof controls lint` end to end: the shipped catalogs pass every lint rule, and a copy of
//! them with one mapping broken per rule fails with exit code 2 and the file and line to fix.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn controls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("controls")
}

/// Copies the shipped catalog to a temporary directory, replacing `from` by `to` in one file.
fn broken_copy(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in walkdir::WalkDir::new(controls_dir()) {
        let entry = entry.expect("controls/ is readable");
        let rel = entry
            .path()
            .strip_prefix(controls_dir())
            .expect("under controls/");
        let target = dir.path().join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).expect("mkdir");
        } else if entry.path().extension().is_some_and(|e| e == "yaml") {
            let mut text = fs::read_to_string(entry.path()).expect("read");
            if rel == Path::new(file) {
                assert!(text.contains(from), "{file} has no `{from}`");
                text = text.replacen(from, to, 1);
            }
            fs::write(&target, text).expect("write");
        }
    }
    dir
}

fn lint(dir: Option<&Path>) -> (Option<i32>, String, String) {
    let mut cmd = Command::cargo_bin("dockproof").expect("binary built");
    cmd.args(["controls", "lint"]);
    if let Some(d) = dir {
        cmd.arg(d);
    }
    let out = cmd.output().expect("dockproof runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_shipped_catalogs_pass_lint() {
    let (code, stdout, stderr) = lint(None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(stdout.contains(" 3 frameworks"), "{stdout}");
    // The same files, read from disk rather than from the binary, pass too.
    let (code, _, stderr) = lint(Some(&controls_dir()));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn each_broken_mapping_fails_lint_with_its_file_and_line() {
    let cases = [
        (
            "frameworks/pci-dss-4.0.1.yaml",
            "  - id: \"1.4.3\"",
            "  - id: \"1.4.9\"",
            "pci-dss-4.0.1 requirement 1.4.9: `1.4.9` is not a PCI DSS v4.0.1 requirement",
        ),
        (
            "frameworks/pci-dss-4.0.1.yaml",
            "    title: \"Anti-spoofing measures detect and block forged source addresses\"",
            "    title: \"Only necessary services, protocols, daemons and functions enabled\"",
            "pci-dss-4.0.1 requirement 2.2.4: title \"Only necessary services, protocols, daemons and functions enabled\" is also the title of requirement 1.4.3",
        ),
        (
            "frameworks/pci-dss-4.0.1.yaml",
            "    service_provider_only: true\n",
            "",
            "pci-dss-4.0.1 requirement 3.6.1.1: the standard applies this requirement to service providers only",
        ),
        (
            "frameworks/pci-dss-4.0.1.yaml",
            "    checks: [container.privileged, container.capabilities-added, container.host-pid, container.host-userns, container.sensitive-mounts, container.docker-socket, container.root-user, container.host-devices]\n",
            "",
            "pci-dss-4.0.1 requirement 7.2.5: automated requirement lists no deciding `checks`",
        ),
        (
            "frameworks/hipaa-security-rule.yaml",
            "  - id: \"164.314(a)(1)\"",
            "  - id: \"164.314(a)-(b)\"",
            "hipaa-security-rule requirement 164.314(a)-(b): `164.314(a)-(b)` is not a HIPAA Security Rule",
        ),
        (
            "frameworks/cis-docker-1.6.yaml",
            "    checks: [container.privileged]",
            "    checks: [container.privileged, container.docker-socket]",
            "cis-docker-1.6 requirement 5.5: lists check `container.docker-socket`, which does not cite CIS 5.5",
        ),
    ];
    for (file, from, to, expected) in cases {
        let dir = broken_copy(file, from, to);
        let (code, _, stderr) = lint(Some(dir.path()));
        assert_eq!(code, Some(2), "{file}: {stderr}");
        let line = stderr
            .lines()
            .find(|l| l.contains(expected))
            .unwrap_or_else(|| panic!("no `{expected}` in:\n{stderr}"));
        let path = dir.path().join(file).display().to_string();
        assert!(line.trim_start().starts_with(&format!("{path}:")), "{line}");
    }
}

#[test]
fn an_automated_requirement_decided_by_a_manual_check_fails_lint() {
    let dir = broken_copy(
        "frameworks/pci-dss-4.0.1.yaml",
        "    checks: [container.privileged, container.capabilities-added",
        "    checks: [host.hardened, container.privileged, container.capabilities-added",
    );
    let (code, _, stderr) = lint(Some(dir.path()));
    assert_eq!(code, Some(2), "{stderr}");
    let path = dir.path().join("frameworks/pci-dss-4.0.1.yaml");
    let expected = format!(
        "{}:{}: pci-dss-4.0.1 requirement 2.2.6: automated, but deciding check `host.hardened` is manual: make the requirement partial or the check supporting",
        path.display(),
        line_of(&path, "  - id: \"2.2.6\"")
    );
    assert!(
        stderr.lines().any(|l| l == expected),
        "{expected}\n{stderr}"
    );
}

fn line_of(path: &Path, needle: &str) -> usize {
    fs::read_to_string(path)
        .expect("read")
        .lines()
        .position(|l| l == needle)
        .map(|i| i + 1)
        .expect("needle present")
}

#[test]
fn an_automated_check_without_a_valid_remediation_key_fails_lint_with_its_line() {
    let cases = [
        (
            "    fix: {remove_run_flag: \"--privileged\"}\n",
            "",
            "check `container.privileged`: automated check without a remediation key",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {remove_run_flag: \"--privilege\"}",
            "check `container.privileged`: fix `remove --privilege`: `--privilege` is not a docker run option",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {daemon_json: {key: inter-container-comms, value: false}}",
            "`inter-container-comms` is not a daemon.json key dockerd reads",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {audit_rule: \"-w {path} -p x -k docker\"}",
            "the watch does not record writes to /usr/bin/dockerd",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {audit_rule: \"-w /usr/bin/dockerd -q docker\"}",
            "`-q` is not an auditctl rule option",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {file_mode: \"0694\"}",
            "mode `0694` is not an octal mode",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {file_owner: \"root\"}",
            "owner `root` is not `user:group`",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {dockerfile: \"user 1000\"}",
            "`user` is not a Dockerfile instruction",
        ),
        (
            "    fix: {remove_run_flag: \"--privileged\"}",
            "    fix: {file_mode: \"644\"}",
            "names {path}, but the check has no `path` evidence",
        ),
    ];
    for (from, to, expected) in cases {
        let dir = broken_copy("checks/containers.yaml", from, to);
        let (code, _, stderr) = lint(Some(dir.path()));
        assert_eq!(code, Some(2), "{to}: {stderr}");
        let path = dir.path().join("checks/containers.yaml");
        let at = format!(
            "{}:{}: ",
            path.display(),
            line_of(&path, "  - id: container.privileged")
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.trim_start().starts_with(&at) && l.contains(expected)),
            "no `{at}… {expected}` in:\n{stderr}"
        );
    }
}

/// Runs `program args` and returns its stdout, or `None` when the program is not installed
/// (then the test fails under CI, where it must be).
fn help_text(program: &str, args: &[&str]) -> Option<String> {
    match std::process::Command::new(program).args(args).output() {
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{program} must be installed under CI: {e}"
            );
            None
        }
    }
}

fn listed(file: &str) -> Vec<String> {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .expect("closed list readable")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn the_run_flag_list_matches_the_docker_cli() {
    let Some(help) = help_text("docker", &["run", "--help"]) else {
        return;
    };
    let words: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',')
        .collect();
    let flags = listed("src/catalog/ids/docker-run-flags.txt");
    assert!(flags.len() > 90, "{flags:?}");
    for flag in flags {
        assert!(
            words.contains(&flag.as_str()),
            "`{flag}` is not in `docker run --help`"
        );
    }
}

#[test]
fn every_daemon_json_key_is_a_dockerd_flag_or_its_plural() {
    let Some(help) = help_text("dockerd", &["--help"]) else {
        return;
    };
    let flags: Vec<&str> = help
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| w.strip_prefix("--"))
        .collect();
    // Keys that exist only in the file, or whose flag has another name.
    let file_only = [
        "builder",
        "features",
        "runtimes",
        "hosts",
        "log-format",
        "default-address-pools",
        "default-ulimits",
        "authorization-plugins",
        "insecure-registries",
        "registry-mirrors",
        "node-generic-resources",
    ];
    for key in listed("src/catalog/ids/daemon-json-keys.txt") {
        let singular = key.strip_suffix('s').unwrap_or(&key);
        assert!(
            flags.contains(&key.as_str())
                || flags.contains(&singular)
                || file_only.contains(&key.as_str()),
            "daemon.json key `{key}` matches no dockerd flag"
        );
    }
}
