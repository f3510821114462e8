//! The right target, end to end: engine selection against the docker CLI on this machine, and a
//! second real dockerd beside the system one (own socket, config file, data root, bridge),
//! selected by contexts, socket-activated, and on TCP with TLS.

mod common;
#[path = "support/dockerd.rs"]
mod dockerd;
#[path = "support/target_env.rs"]
mod target_env;

use serde_json::Value;

use common::{engine_available, stderr};
use dockerd::{Options, SecondDaemon};
use target_env::{collect, docker_env, dockproof_env};

/// The endpoint dockproof resolved: from the snapshot when it connected, else from its
/// "cannot reach the Docker engine at X:" message; `exit 2` for a usage error.
fn dockproof_endpoint(host: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let run = dockproof_env(
        &[
            "collect",
            "-o",
            out.to_str().unwrap(),
            "--docker-host",
            host,
        ],
        &[],
    );
    match run.status.code() {
        Some(0) => {
            let s: Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
            s["target"]["docker_host"].as_str().unwrap().to_string()
        }
        Some(2) => "exit 2".to_string(),
        Some(3) => {
            let text = stderr(&run);
            let rest = text
                .split("cannot reach the Docker engine at ")
                .nth(1)
                .unwrap_or_else(|| panic!("{host}: unexpected message {text}"));
            rest.split(": ").next().unwrap().to_string()
        }
        other => panic!("{host}: exit {other:?}: {}", stderr(&run)),
    }
}

#[test]
fn endpoint_forms_resolve_as_the_docker_cli_resolves_them() {
    if !engine_available() {
        return;
    }
    // Forms both accept: the normalised endpoint must be the same.
    for host in [
        "127.0.0.1:1",
        "localhost:1",
        "tcp://:1",
        "tcp://127.0.0.1:1/",
        "tcp://user@127.0.0.1:1",
        "unix://",
        "unix:///var/run/docker.sock",
        " unix:///var/run/docker.sock ",
        "tcp://[::1]:1",
    ] {
        let docker = docker_env(
            &[
                "-H",
                host,
                "context",
                "inspect",
                "--format",
                "{{.Endpoints.docker.Host}}",
            ],
            &[],
        );
        assert!(docker.status.success(), "docker refused {host}");
        let want = String::from_utf8_lossy(&docker.stdout)
            .trim()
            .trim_end_matches('/')
            .to_string();
        assert_eq!(dockproof_endpoint(host), want, "{host}");
    }
    // Forms docker refuses are usage errors (exit 2) for dockproof too.
    for host in [
        "http://h",
        "ftp://h",
        "tcp://h:abc",
        "unix:///a://b",
        "ssh://u:pw@h",
        "ssh://h?x=1",
    ] {
        let docker = docker_env(&["-H", host, "version"], &[]);
        assert!(!docker.status.success(), "docker accepted {host}");
        assert_eq!(dockproof_endpoint(host), "exit 2", "{host}");
    }
    // Deliberate differences, documented in the README: dockproof refuses instead of guessing.
    for host in [
        "/var/run/docker.sock",
        "tcp://h/path",
        "fd://",
        "tcp://h:99999",
    ] {
        assert_eq!(dockproof_endpoint(host), "exit 2", "{host}");
    }
    let run = dockproof_env(&["collect", "-o", "-", "-H", "/var/run/docker.sock"], &[]);
    let text = stderr(&run);
    assert!(
        text.contains("did you mean unix:///var/run/docker.sock?"),
        "{text}"
    );
    assert!(!text.to_lowercase().contains("unable to parse"), "{text}");
}

#[test]
fn context_selection_errors_are_usage_errors_like_the_docker_cli() {
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path().to_str().unwrap();
    let env = [("DOCKER_CONFIG", cfg)];
    let run = dockproof_env(
        &["collect", "-o", "-", "-H", "unix:///x", "--context", "a1"],
        &env,
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("--docker-host and --context cannot both be given"));
    let docker = docker_env(&["-H", "unix:///x", "--context", "a1", "version"], &env);
    assert!(!docker.status.success());

    let run = dockproof_env(
        &["collect", "-o", "-"],
        &[("DOCKER_CONFIG", cfg), ("DOCKER_CONTEXT", "nope")],
    );
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("context \"nope\" (from DOCKER_CONTEXT) does not exist"),
        "{}",
        stderr(&run)
    );
    std::fs::write(config.path().join("config.json"), "{\"currentContext\": 5}").unwrap();
    let run = dockproof_env(&["collect", "-o", "-"], &env);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(stderr(&run).contains("config.json"), "{}", stderr(&run));
}

fn log_level_and_iptables(scan_args: &[&str], env: &[(&str, &str)]) -> (String, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    let mut args = vec!["scan", "--format", "json", "--out", out.to_str().unwrap()];
    args.extend(scan_args);
    let run = dockproof_env(&args, env);
    assert!(run.status.code() == Some(0), "{}", stderr(&run));
    let a: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("assessment.json")).unwrap())
            .unwrap();
    let verdict = |id: &str| {
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["check_id"] == id)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("snapshot.json")).unwrap()).unwrap();
    (
        verdict("daemon.log-level"),
        verdict("daemon.iptables"),
        snap,
    )
}

#[test]
fn the_second_daemon_is_judged_by_its_own_flags_and_config_and_selected_by_contexts() {
    if !engine_available() || !dockerd::available() {
        return;
    }
    let second = SecondDaemon::start(&Options {
        daemon_json: serde_json::json!({"log-level": "debug"}),
        ..Options::default()
    });
    // CIS 2.3 (daemon.log-level) and 2.4 (daemon.iptables): the second daemon runs with
    // --iptables=false and log-level debug; the system one with neither.
    let (level, iptables, snap) = log_level_and_iptables(&["--docker-host", &second.url()], &[]);
    assert_eq!((level.as_str(), iptables.as_str()), ("fail", "fail"));
    assert_eq!(snap["host"]["dockerd"]["pid"], second.dockerd_pid());
    assert_eq!(
        snap["host"]["daemon_json"]["path"],
        second.config_file.display().to_string()
    );
    assert_eq!(
        snap["engine"]["info"]["DockerRootDir"],
        second.data_root.display().to_string()
    );
    let (level, iptables, system) = log_level_and_iptables(&[], &[]);
    assert_eq!((level.as_str(), iptables.as_str()), ("pass", "pass"));
    assert_ne!(system["host"]["dockerd"]["pid"], second.dockerd_pid());
    assert_eq!(
        system["host"]["daemon_json"]["path"],
        "/etc/docker/daemon.json"
    );

    // Contexts: created with the docker CLI, selected three ways; the engine dockproof reads
    // is the one the docker CLI reaches through the same selection (told apart by their data
    // roots: both daemons share /etc/docker/key.json and so the engine ID).
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path().to_str().unwrap();
    let env = [("DOCKER_CONFIG", cfg)];
    let created = docker_env(
        &[
            "context",
            "create",
            "dp-second",
            "--docker",
            &format!("host={}", second.url()),
        ],
        &env,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let want_id = second.docker(&["info", "--format", "{{.DockerRootDir}}"]);
    let docker_id = |env: &[(&str, &str)], args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["info", "--format", "{{.DockerRootDir}}"]);
        let out = docker_env(&all, env);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };

    let via_env = [("DOCKER_CONFIG", cfg), ("DOCKER_CONTEXT", "dp-second")];
    let snap = collect(&[], &via_env);
    assert_eq!(snap["engine"]["info"]["DockerRootDir"], want_id.as_str());
    assert_eq!(docker_id(&via_env, &[]), want_id);
    assert_eq!(snap["target"]["selected_by"], "DOCKER_CONTEXT");
    assert_eq!(snap["target"]["context"], "dp-second");
    assert_eq!(snap["host"]["dockerd"]["pid"], second.dockerd_pid());

    let snap = collect(&["--context", "dp-second"], &env);
    assert_eq!(snap["engine"]["info"]["DockerRootDir"], want_id.as_str());
    assert_eq!(docker_id(&env, &["--context", "dp-second"]), want_id);
    assert_eq!(snap["target"]["selected_by"], "--context");

    let used = docker_env(&["context", "use", "dp-second"], &env);
    assert!(used.status.success());
    let snap = collect(&[], &env);
    assert_eq!(snap["engine"]["info"]["DockerRootDir"], want_id.as_str());
    assert_eq!(docker_id(&env, &[]), want_id);
    assert_eq!(snap["target"]["selected_by"], "config.json currentContext");
    // DOCKER_HOST outranks the current context, for both.
    let system_id = docker_id(&[], &[]);
    let over = [
        ("DOCKER_CONFIG", cfg),
        ("DOCKER_HOST", "unix:///var/run/docker.sock"),
    ];
    assert_eq!(
        collect(&[], &over)["engine"]["info"]["DockerRootDir"],
        system_id.as_str()
    );
    assert_eq!(docker_id(&over, &[]), system_id);
    assert_ne!(system_id, want_id);
}

#[test]
fn a_socket_activated_daemon_is_still_found_behind_its_activator() {
    if !engine_available() || !dockerd::available() {
        return;
    }
    let second = SecondDaemon::start(&Options {
        daemon_json: serde_json::json!({"log-level": "warn"}),
        socket_activation: true,
        ..Options::default()
    });
    assert_ne!(second.started_pid(), second.dockerd_pid());
    let snap = collect(&["--docker-host", &second.url()], &[]);
    assert_eq!(snap["host"]["dockerd"]["pid"], second.dockerd_pid());
    let args = snap["host"]["dockerd"]["args"].as_array().unwrap();
    assert!(args.iter().any(|a| a == "fd://"), "{args:?}");
    assert_eq!(snap["host"]["daemon_json"]["content"]["log-level"], "warn");
}

#[test]
fn tcp_with_tls_works_plain_tcp_gets_a_hint_and_host_facts_are_a_gap() {
    if !engine_available() || !dockerd::available() {
        return;
    }
    let second = SecondDaemon::start(&Options {
        daemon_json: serde_json::json!({}),
        tls_tcp: true,
        ..Options::default()
    });
    let tls = second.tls.clone().unwrap();
    let url = format!("tcp://127.0.0.1:{}", tls.port);
    let certs = tls.client_dir.to_str().unwrap();
    let want_id = second.docker(&["info", "--format", "{{.DockerRootDir}}"]);

    let snap = collect(
        &["--docker-host", &url],
        &[("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", certs)],
    );
    assert_eq!(snap["engine"]["info"]["DockerRootDir"], want_id.as_str());
    assert_eq!(snap["host"]["dockerd"], Value::Null);
    let gap = snap["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["source"] == "host")
        .unwrap();
    assert!(
        gap["error"]
            .as_str()
            .unwrap()
            .contains("is not a local socket"),
        "{gap}"
    );

    // The same through a context holding the TLS material.
    let config = tempfile::tempdir().unwrap();
    let cfg = config.path().to_str().unwrap();
    let created = docker_env(
        &[
            "context",
            "create",
            "dp-tls",
            "--docker",
            &format!("host={url},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"),
        ],
        &[("DOCKER_CONFIG", cfg)],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let snap = collect(&["--context", "dp-tls"], &[("DOCKER_CONFIG", cfg)]);
    assert_eq!(snap["engine"]["info"]["DockerRootDir"], want_id.as_str());

    let run = dockproof_env(&["collect", "-o", "-", "--docker-host", &url], &[]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("expects TLS but the connection was plain HTTP"),
        "{}",
        stderr(&run)
    );
}
