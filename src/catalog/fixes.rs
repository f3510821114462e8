//! `controls lint` of remediation keys (`fix:`): every automated check carries one, and the key
//! says something the target program accepts. A daemon.json key is one dockerd reads
//! (`ids/daemon-json-keys.txt`), a run flag is a `docker run` option (`ids/docker-run-flags.txt`),
//! an audit rule parses as an `auditctl` rule and, for a watch, makes the check's own audit
//! reading (`rules::docker::audit`) record the path, a mode is octal, an owner is `user:group`,
//! a Dockerfile line starts with an instruction. This module only judges; it never rewrites.

use std::collections::BTreeSet;

use super::{Check, Diagnostic};
use crate::assessment::fix::{Fix, PATH_PLACEHOLDER};
use crate::assessment::CheckMode;

const DAEMON_JSON_KEYS: &str = include_str!("ids/daemon-json-keys.txt");
const RUN_FLAGS: &str = include_str!("ids/docker-run-flags.txt");

/// Dockerfile instructions (Dockerfile reference).
const DOCKERFILE_INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

/// The entries of a closed list file: one a line, `#` comments.
pub fn closed_list(text: &'static str) -> BTreeSet<&'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// The daemon.json keys dockerd reads.
pub fn daemon_json_keys() -> BTreeSet<&'static str> {
    closed_list(DAEMON_JSON_KEYS)
}

/// The options of `docker run`.
pub fn docker_run_flags() -> BTreeSet<&'static str> {
    closed_list(RUN_FLAGS)
}

/// Lint findings of one check's `fix`.
pub fn lint_check_fix(check: &Check, diags: &mut Vec<Diagnostic>) {
    let id = &check.def.id;
    let mut push = |message: String| {
        diags.push(Diagnostic {
            location: check.location.clone(),
            message: format!("check `{id}`: {message}"),
        })
    };
    let Some(fix) = &check.def.fix else {
        if check.def.mode == CheckMode::Automated {
            push(
                "automated check without a remediation key: add `fix:` (daemon_json, run_flag, remove_run_flag, audit_rule, file_mode, file_owner, dockerfile, host_command or environment)"
                    .into(),
            );
        }
        return;
    };
    if check.def.mode == CheckMode::Manual {
        push("manual checks have no `fix`: the assessor decides what to change".into());
    }
    if let Err(message) = validate(fix) {
        push(format!("fix `{}`: {message}", fix.text()));
    }
    if fix.text().contains(PATH_PLACEHOLDER) && !check.evidence.iter().any(|(l, _)| l == "path") {
        push(format!(
            "fix `{}` names {PATH_PLACEHOLDER}, but the check has no `path` evidence to fill it from",
            fix.text()
        ));
    }
}

/// Whether a fix says something its target program accepts; the message says why not.
pub fn validate(fix: &Fix) -> Result<(), String> {
    match fix {
        Fix::DaemonJson { key, .. } => {
            if daemon_json_keys().contains(key.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "`{key}` is not a daemon.json key dockerd reads (closed list src/catalog/ids/daemon-json-keys.txt)"
                ))
            }
        }
        Fix::RunFlag(flag) | Fix::RemoveRunFlag(flag) => {
            let first = flag.split_whitespace().next().unwrap_or("");
            let name = first.split('=').next().unwrap_or("");
            if docker_run_flags().contains(name) {
                Ok(())
            } else {
                Err(format!(
                    "`{name}` is not a docker run option (closed list src/catalog/ids/docker-run-flags.txt)"
                ))
            }
        }
        Fix::AuditRule(rule) => validate_audit_rule(rule),
        Fix::FileMode(mode) => {
            let octal =
                (3..=4).contains(&mode.len()) && mode.bytes().all(|b| (b'0'..=b'7').contains(&b));
            if octal {
                Ok(())
            } else {
                Err(format!(
                    "mode `{mode}` is not an octal mode of 3 or 4 digits (e.g. 0644)"
                ))
            }
        }
        Fix::FileOwner(owner) => match owner.split_once(':') {
            Some((u, g)) if is_account_name(u) && is_account_name(g) => Ok(()),
            _ => Err(format!("owner `{owner}` is not `user:group`")),
        },
        Fix::Dockerfile(line) => {
            let first = line.split_whitespace().next().unwrap_or("");
            if DOCKERFILE_INSTRUCTIONS.contains(&first) {
                Ok(())
            } else {
                Err(format!("`{first}` is not a Dockerfile instruction"))
            }
        }
        Fix::HostCommand(cmd) => {
            if cmd.trim().is_empty() || cmd.contains('\n') {
                Err("a host command is one non-empty line".into())
            } else {
                Ok(())
            }
        }
        Fix::Environment(line) => match line.split_once('=') {
            Some((name, _))
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                    && !name.as_bytes()[0].is_ascii_digit() =>
            {
                Ok(())
            }
            _ => Err(format!("`{line}` is not a NAME=value line")),
        },
    }
}

fn is_account_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// An `auditctl` rule line: a watch (`-w PATH [-p rwxa] [-k KEY]`) or a syscall rule
/// (`-a|-A LIST,ACTION [-S SYSCALL] [-F FIELD=VALUE] [-k KEY]`). A watch must also be one the
/// audit checks count: with the path filled in and auditd running, it records writes to it.
pub fn validate_audit_rule(rule: &str) -> Result<(), String> {
    let tokens: Vec<&str> = rule.split_whitespace().collect();
    let mut watch = None;
    let mut syscall_rule = false;
    let mut i = 0;
    while i < tokens.len() {
        let option = tokens[i];
        let Some(value) = tokens.get(i + 1).copied() else {
            return Err(format!("option `{option}` has no value"));
        };
        match option {
            "-w" => {
                if !(value.starts_with('/') || value == PATH_PLACEHOLDER) {
                    return Err(format!("watch path `{value}` is not absolute"));
                }
                watch = Some(value);
            }
            "-p" => {
                if value.is_empty() || !value.bytes().all(|b| b"rwxa".contains(&b)) {
                    return Err(format!("permissions `{value}` are not a subset of rwxa"));
                }
            }
            "-k" => {
                if value.len() > 31 {
                    return Err(format!("key `{value}` is longer than 31 characters"));
                }
            }
            "-a" | "-A" => {
                let ok = value.split_once(',').is_some_and(|(a, b)| {
                    let lists = ["task", "exit", "user", "exclude", "filesystem"];
                    let actions = ["always", "never"];
                    (lists.contains(&a) && actions.contains(&b))
                        || (actions.contains(&a) && lists.contains(&b))
                });
                if !ok {
                    return Err(format!("`{option} {value}` is not LIST,ACTION"));
                }
                syscall_rule = true;
            }
            "-S" => {}
            "-F" => {
                let ops = ["!=", ">=", "<=", "&=", "=", ">", "<", "&"];
                if !ops
                    .iter()
                    .any(|op| value.split_once(op).is_some_and(|(f, _)| !f.is_empty()))
                {
                    return Err(format!("field `{value}` is not FIELD=VALUE"));
                }
            }
            other => return Err(format!("`{other}` is not an auditctl rule option")),
        }
        i += 2;
    }
    match (watch, syscall_rule) {
        (Some(_), true) => {
            Err("a rule is either a watch (-w) or a syscall rule (-a), not both".into())
        }
        (None, false) => Err("neither a watch (-w) nor a syscall rule (-a)".into()),
        (None, true) => Ok(()),
        (Some(_), false) => {
            let sample = "/usr/bin/dockerd";
            let audit = serde_json::json!({
                "rules": [rule.replace(PATH_PLACEHOLDER, sample)],
                "auditd_running": true,
            });
            let path = watch
                .map(|w| w.replace(PATH_PLACEHOLDER, sample))
                .unwrap_or_default();
            match crate::rules::docker::audit::watched(&audit, &path) {
                Ok(true) => Ok(()),
                _ => Err(format!("the watch does not record writes to {path}")),
            }
        }
    }
}
