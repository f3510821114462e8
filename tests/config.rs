//! Configuration end to end: the file, `DOCKPROOF_*` variables and flags, one precedence
//! (flag > environment > file > default), recorded in the assessment.
//!
//! Every run here starts from a clean environment (no `DOCKPROOF_*`, no `DOCKER_*`), in its own
//! working directory, with `XDG_CONFIG_HOME` pointing into it, so that neither the developer's
//! own configuration nor the engine of the machine leaks in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CIS: &str = "cis-docker-1.6";
const PCI: &str = "pci-dss-4.0.1";
const HIPAA: &str = "hipaa-security-rule";

fn sample() -> String {
    format!("{ROOT}/samples/insecure-host.snapshot.json")
}

struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> &Path {
        self.tmp.path()
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs dockproof here with only `env` set (and PATH, HOME, XDG_CONFIG_HOME).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dockproof"));
        c.args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg"));
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("the dockproof binary runs")
    }

    fn assessment(&self, bundle: &str) -> Value {
        let text = std::fs::read_to_string(self.path().join(bundle).join("assessment.json"))
            .expect("assessment.json written");
        serde_json::from_str(&text).expect("assessment.json is JSON")
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn frameworks(a: &Value) -> Vec<String> {
    a["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// The recorded (source, origin) of a key, if recorded.
fn recorded(a: &Value, key: &str) -> Option<(String, Option<String>)> {
    a["configuration"]["values"]
        .as_array()?
        .iter()
        .find(|v| v["key"] == key)
        .map(|v| {
            (
                v["source"].as_str().unwrap().to_string(),
                v["origin"].as_str().map(str::to_string),
            )
        })
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    // Each layer names a different framework, so the one that won is plain in the assessment.
    for mask in 0..8u8 {
        let (flag, env, file) = (mask & 1 != 0, mask & 2 != 0, mask & 4 != 0);
        let d = Dir::new();
        if file {
            d.write(
                "dockproof.yaml",
                &format!("format: json\nframework: [{HIPAA}]\n"),
            );
        }
        let mut args = vec!["report", "--format", "json", "--out", "b"];
        let s = sample();
        args.insert(1, &s);
        if flag {
            args.extend(["--framework", CIS]);
        }
        let env_vars: Vec<(&str, &str)> = if env {
            vec![("DOCKPROOF_FRAMEWORK", PCI)]
        } else {
            vec![]
        };
        let o = d.run(&args, &env_vars);
        assert!(o.status.success(), "{mask}: {}", stderr(&o));
        let a = d.assessment("b");
        let (want, source, origin): (Vec<&str>, &str, Option<&str>) = if flag {
            (vec![CIS], "flag", None)
        } else if env {
            (vec![PCI], "environment", Some("DOCKPROOF_FRAMEWORK"))
        } else if file {
            (vec![HIPAA], "config_file", Some("dockproof.yaml:2"))
        } else {
            (vec![CIS, HIPAA, PCI], "", None)
        };
        let mut got = frameworks(&a);
        got.sort();
        assert_eq!(got, want, "flag={flag} env={env} file={file}");
        let rec = recorded(&a, "framework");
        if source.is_empty() {
            assert_eq!(rec, None, "no value, nothing recorded");
        } else {
            assert_eq!(
                rec,
                Some((source.to_string(), origin.map(str::to_string))),
                "flag={flag} env={env} file={file}"
            );
        }
        let file_ref = &a["configuration"]["file"];
        if file {
            assert_eq!(file_ref["path"], "dockproof.yaml");
            assert_eq!(file_ref["found_by"], "working directory");
            let bytes = std::fs::read(d.path().join("dockproof.yaml")).unwrap();
            let sha = sha256_hex(&bytes);
            assert_eq!(file_ref["sha256"], sha.as_str());
        } else {
            assert!(file_ref.is_null(), "{file_ref}");
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .expect("sha256sum runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn the_user_directory_is_read_after_the_working_directory_and_paths_are_its_own() {
    let d = Dir::new();
    d.write(
        "xdg/dockproof/config.yaml",
        &format!("framework: {PCI}\nwaivers: w.yaml\nformat: [json]\n"),
    );
    // Relative paths in the file are read beside the file, wherever dockproof runs.
    std::fs::copy(
        format!("{ROOT}/samples/waivers.yaml"),
        d.path().join("xdg/dockproof/w.yaml"),
    )
    .unwrap();
    let s = sample();
    let o = d.run(&["report", &s, "--out", "b"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a = d.assessment("b");
    assert_eq!(frameworks(&a), [PCI]);
    assert!(!a["waivers"].as_array().unwrap().is_empty(), "waivers read");
    assert_eq!(
        a["configuration"]["file"]["found_by"],
        "user configuration directory"
    );

    // A dockproof.yaml in the working directory comes first.
    d.write(
        "dockproof.yaml",
        &format!("framework: {HIPAA}\nformat: json\n"),
    );
    let o = d.run(&["report", &s, "--out", "c"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(frameworks(&d.assessment("c")), [HIPAA]);
}

#[test]
fn a_file_found_by_default_never_chooses_the_engine_or_the_catalogs() {
    let d = Dir::new();
    for (text, key) in [
        ("docker-host: tcp://127.0.0.1:9\n", "docker-host"),
        ("context: elsewhere\n", "context"),
        ("controls: ./mine\n", "controls"),
        ("host-root: ./fake\n", "host-root"),
        ("ssh-config: ./ssh\n", "ssh-config"),
    ] {
        d.write("dockproof.yaml", text);
        // `scan` takes all three; the unreachable engine of the environment shows whether it
        // was contacted.
        let o = d.run(
            &["scan", "--out", "b"],
            &[("DOCKER_HOST", "tcp://127.0.0.1:9")],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{key}: {err}");
        assert!(err.contains(&format!("dockproof.yaml:1: `{key}`")), "{err}");
        assert!(err.contains("--config"), "{err}");
        assert!(
            !err.contains("cannot reach"),
            "the engine was contacted: {err}"
        );
        assert!(!d.path().join("b").exists());
    }
    // `report` reaches no engine: the same file does not stop it.
    d.write(
        "dockproof.yaml",
        "docker-host: tcp://127.0.0.1:9\nformat: json\n",
    );
    let s = sample();
    let o = d.run(&["report", &s, "--out", "r"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Named explicitly, the same file chooses the engine: it is tried (and is unreachable).
    d.write("dockproof.yaml", "docker-host: tcp://127.0.0.1:9\n");
    for (args, env) in [
        (
            vec!["collect", "--config", "dockproof.yaml", "-o", "s.json"],
            vec![],
        ),
        (
            vec!["collect", "-o", "s.json"],
            vec![("DOCKPROOF_CONFIG", "dockproof.yaml")],
        ),
    ] {
        let o = d.run(&args, &env);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("127.0.0.1:9"), "{err}");
    }
    // DOCKER_HOST comes before the file, as the engine order says; a flag before both.
    let o = d.run(
        &["collect", "--config", "dockproof.yaml", "-o", "s.json"],
        &[("DOCKER_HOST", "tcp://127.0.0.1:7")],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("127.0.0.1:7") && !err.contains("127.0.0.1:9"),
        "{err}"
    );
    let o = d.run(
        &[
            "collect",
            "--config",
            "dockproof.yaml",
            "-H",
            "tcp://127.0.0.1:5",
            "-o",
            "s.json",
        ],
        &[("DOCKER_HOST", "tcp://127.0.0.1:7")],
    );
    let err = stderr(&o);
    assert!(err.contains("127.0.0.1:5"), "{err}");
}

/// File text, environment, and what the error must say.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_files_and_values_name_where_they_came_from() {
    let d = Dir::new();
    let s = sample();
    let cases: [Case; 6] = [
        (
            "format: json\n\nfial-on: high\n",
            &[],
            "dockproof.yaml:3: unknown key `fial-on`",
        ),
        (
            "fail-on: bogus\n",
            &[],
            "dockproof.yaml:1: fail-on: invalid value 'bogus'",
        ),
        (
            "include-stopped: maybe\n",
            &[],
            "dockproof.yaml:1: `include-stopped` expects true or false",
        ),
        ("format: [json\n", &[], "dockproof.yaml"),
        (
            "format: json\n",
            &[("DOCKPROOF_FAIL_ON", "bogus")],
            "DOCKPROOF_FAIL_ON: fail-on: invalid value",
        ),
        (
            "format: json\ncheck: [container.nope]\n",
            &[],
            "selection (--check from dockproof.yaml:2): --check `container.nope` matches no check",
        ),
    ];
    for (text, env, says) in cases {
        d.write("dockproof.yaml", text);
        let o = d.run(&["report", &s, "--out", "b"], env);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(says), "{text}: {err}");
        assert!(!d.path().join("b").exists());
    }
    // Read through the input rules: a size limit, and only regular files.
    let big = format!("# {}\n", "x".repeat(2 << 20));
    d.write("big.yaml", &big);
    let o = d.run(&["report", &s, "--config", "big.yaml", "--out", "b"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than"), "{}", stderr(&o));
    let o = d.run(&["report", &s, "--config", "/dev/zero", "--out", "b"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn verbose_prints_the_effective_configuration() {
    let d = Dir::new();
    d.write("dockproof.yaml", "format: json\nfail-on: critical\n");
    let s = sample();
    let o = d.run(
        &["-v", "report", &s, "--out", "b"],
        &[("DOCKPROOF_CHECK", "container.*,daemon.live-restore")],
    );
    let err = stderr(&o);
    assert!(
        err.contains("config: Configuration file: dockproof.yaml (via working directory; SHA-256 "),
        "{err}"
    );
    assert!(
        err.contains("config: fail-on = critical (config file, dockproof.yaml:2)"),
        "{err}"
    );
    assert!(
        err.contains(
            "config: check = container.*,daemon.live-restore (environment, DOCKPROOF_CHECK)"
        ),
        "{err}"
    );
    let a = d.assessment("b");
    assert_eq!(a["selection"]["checks"][1], "daemon.live-restore");
}
