//! Running dockproof and the docker CLI with a controlled engine selection: the selection
//! variables (`DOCKER_HOST`, `DOCKER_CONTEXT`, `DOCKER_CONFIG`, TLS) are cleared, then the
//! test's own are set. Shared by the target tests.

#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

use super::common::{bin, stderr};

/// Runs dockproof with extra environment, with the selection variables cleared first.
pub fn dockproof_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    for var in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_CONFIG",
        "DOCKER_TLS_VERIFY",
        "DOCKER_TLS",
        "DOCKER_CERT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("dockproof runs")
}

/// `collect` into a temp file; returns the snapshot (panics with stderr on failure).
pub fn collect(args: &[&str], env: &[(&str, &str)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.json");
    let mut all = vec!["collect", "-o", out.to_str().unwrap()];
    all.extend(args);
    let run = dockproof_env(&all, env);
    assert!(
        run.status.success(),
        "collect {args:?} failed: {}",
        stderr(&run)
    );
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// `docker` with the same cleared environment plus `env`.
pub fn docker_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("docker");
    for var in [
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "DOCKER_TLS_VERIFY",
        "DOCKER_CERT_PATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("docker runs")
}
