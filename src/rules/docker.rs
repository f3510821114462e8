//! Docker's own reading of settings, as CEL functions, so that a catalog rule cannot read a
//! value differently from the engine that applies it.
//!
//! Each function follows the code path of dockerd or the docker CLI that gives the setting its
//! effect (named in its doc comment) and is pure: JSON in, JSON out. A value Docker itself would
//! refuse (dockerd does not start, `docker create` fails) is an evaluation error with a message
//! naming the value, never a guess. Functions:
//!
//! * `dockerBool(v)`: a boolean daemon setting; a string there is a value dockerd refuses.
//! * `noNewPrivileges(securityOpt, daemonDefault)`: the container's effective no-new-privileges.
//! * `seccompState(securityOpt, privileged, info)`: `confined: ...` or
//!   `unconfined: ...`, with the reason.
//! * `isRootUser(user)`: whether a `--user` / `USER` value runs as UID 0.
//! * `capsBeyondDefault(capAdd, capDrop)`: the capabilities the container holds beyond Docker's
//!   default set; `effectiveCaps(capAdd, capDrop)`: all it holds.
//! * `addSteps(history)`: the ADD build steps other than a base image's root filesystem.
//! * `auditVerdict(auditRules, path)` / `auditWatched(auditRules, path)`: see [`audit`].

pub mod audit;

use std::sync::Arc;

use cel::common::types::{CelString, Kind, DYN_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{Context, ExecutionError, Value};
use serde_json::Value as Json;

use super::{from_json, to_json};

/// Registers every function of this module on `ctx`.
pub(super) fn register(ctx: &mut Context) {
    let results = [
        ctx.add_function("dockerBool", |v: Value| {
            wrap("dockerBool", docker_bool(&to_json(&v)).map(Json::Bool))
        }),
        ctx.add_function("noNewPrivileges", |opts: Value, default: Value| {
            wrap(
                "noNewPrivileges",
                no_new_privileges(&to_json(&opts), &to_json(&default)).map(Json::Bool),
            )
        }),
        ctx.add_function("isRootUser", |user: Arc<String>| {
            wrap("isRootUser", is_root_user(&user).map(Json::Bool))
        }),
        ctx.add_function("capsBeyondDefault", |add: Value, drop: Value| {
            wrap(
                "capsBeyondDefault",
                caps_beyond_default(&to_json(&add), &to_json(&drop))
                    .map(|c| Json::Array(c.into_iter().map(Json::String).collect())),
            )
        }),
        ctx.add_function("effectiveCaps", |add: Value, drop: Value| {
            wrap(
                "effectiveCaps",
                effective_caps(&to_json(&add), &to_json(&drop))
                    .map(|c| Json::Array(c.into_iter().map(Json::String).collect())),
            )
        }),
        ctx.add_function("addSteps", |history: Value| {
            wrap(
                "addSteps",
                add_steps(&to_json(&history))
                    .map(|c| Json::Array(c.into_iter().map(Json::String).collect())),
            )
        }),
        ctx.add_function("auditVerdict", |rules: Value, path: Arc<String>| {
            wrap(
                "auditVerdict",
                audit::verdict(&to_json(&rules), &path).map(|v| Json::String(v.describe())),
            )
        }),
        ctx.add_function("auditWatched", |rules: Value, path: Arc<String>| {
            wrap(
                "auditWatched",
                audit::watched(&to_json(&rules), &path).map(Json::Bool),
            )
        }),
    ];
    for r in results {
        if let Err(e) = r {
            tracing::warn!("CEL function registration failed: {e:?}");
        }
    }
}

/// Declares on `env` the functions whose arguments can be large: as overloads they receive
/// the interpreter's own values and copy out only what they read. (A context function gets
/// every argument copied whole into a [`Value`]: `seccompState(…, daemon.info)` copied the
/// engine's entire info once per container, more than a quarter of all evaluation time.)
pub(super) fn register_env(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    env.add_overload(
        "seccompState",
        "seccompState_dyn_dyn_dyn",
        vec![DYN_TYPE, DYN_TYPE, DYN_TYPE],
        seccomp_state_overload,
    )
}

/// The fields of the engine's info [`seccomp_state`] reads.
const SECCOMP_INFO_FIELDS: [&str; 2] = ["SecurityOptions", "ServerVersion"];

/// `seccompState(securityOpt, privileged, info)`, copying only [`SECCOMP_INFO_FIELDS`] of
/// `info`.
fn seccomp_state_overload<'b, 'v>(
    args: Vec<CowVal<'b, 'v>>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    const NAME: &str = "seccompState";
    let [opts, privileged, info] = args.as_slice() else {
        return Err(ExecutionError::function_error(
            NAME,
            format!("takes 3 arguments, not {}", args.len()),
        ));
    };
    let json = |v: &dyn Val| Value::try_from(v).map(|v| to_json(&v));
    let info = match info.get_type().kind() {
        // Only the fields read, so that a large info is not copied.
        Kind::Map => {
            let mut fields = serde_json::Map::new();
            for name in SECCOMP_INFO_FIELDS {
                let key = CelString::from(name);
                if let Some(Ok(value)) = info.as_indexer().map(|i| i.get(&key)) {
                    fields.insert(name.into(), json(value.as_ref())?);
                }
            }
            Json::Object(fields)
        }
        _ => json(info.as_ref())?,
    };
    let state = seccomp_state(&json(opts.as_ref())?, &json(privileged.as_ref())?, &info)
        .map_err(|message| ExecutionError::function_error(NAME, message))?;
    Ok(CowVal::owned(CelString::from(state)))
}

fn wrap(function: &str, result: Result<Json, String>) -> Result<Value, ExecutionError> {
    result
        .map(|v| from_json(&v))
        .map_err(|message| ExecutionError::function_error(function, message))
}

/// Go's `strconv.ParseBool`, which dockerd's flag parser and the docker CLI use.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A boolean option of the effective daemon settings, as dockerd takes it. Command-line flags
/// are already read with [`parse_bool`] into JSON booleans, so a string left here is a value
/// dockerd refuses: a flag value ParseBool rejects, or a string in daemon.json, where dockerd
/// accepts only a JSON boolean ("cannot unmarshal string into Go struct field").
pub fn docker_bool(v: &Json) -> Result<bool, String> {
    match v {
        Json::Bool(b) => Ok(*b),
        Json::String(s) if parse_bool(s).is_some() => Err(format!(
            "`{s}` is a string where daemon.json needs a JSON boolean; dockerd refuses to start with it"
        )),
        Json::String(s) => Err(format!(
            "`{s}` is not a boolean dockerd accepts (Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False); it refuses to start with it"
        )),
        other => Err(format!("`{other}` is not a boolean")),
    }
}

fn string_list(v: &Json, what: &str) -> Result<Vec<String>, String> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what}: `{i}` is not a string"))
            })
            .collect(),
        other => Err(format!("{what}: `{other}` is not a list")),
    }
}

/// One `--security-opt` entry split as dockerd's `parseSecurityOpt` splits it: the bare words
/// `no-new-privileges` and `disable`, else `key=value`, else the deprecated `key:value`.
fn split_security_opt(opt: &str) -> Option<(&str, &str)> {
    match opt {
        "no-new-privileges" => Some(("no-new-privileges", "true")),
        "disable" => Some(("label", "disable")),
        _ => opt.split_once('=').or_else(|| opt.split_once(':')),
    }
}

/// The container's no-new-privileges: the daemon default, replaced by each explicit
/// `no-new-privileges` entry in turn (dockerd's `parseSecurityOpt`; the last one wins).
pub fn no_new_privileges(opts: &Json, daemon_default: &Json) -> Result<bool, String> {
    let mut effective =
        docker_bool(daemon_default).map_err(|e| format!("daemon no-new-privileges: {e}"))?;
    for opt in string_list(opts, "SecurityOpt")? {
        if let Some(("no-new-privileges", value)) = split_security_opt(&opt) {
            effective = parse_bool(value).ok_or_else(|| {
                format!("SecurityOpt `{opt}`: `{value}` is not a boolean; dockerd refuses to create such a container")
            })?;
        }
    }
    Ok(effective)
}

/// Default actions of a seccomp profile that let every unlisted system call through.
const ALLOWING_ACTIONS: &[&str] = &["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"];
/// Default actions that deny or trap unlisted system calls.
const DENYING_ACTIONS: &[&str] = &[
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_NOTIFY",
];

/// Whether the container runs under a seccomp filter that confines it, following dockerd's
/// `WithSeccomp`: `unconfined` and privileged mean no filter; `builtin` is Docker's own profile
/// on Engine 23 and later (Engine 20.10 reads the word as a profile and refuses to start the
/// container: an error); an inline profile confines only if its `defaultAction` denies; without
/// an option the daemon's default applies (`info.SecurityOptions`). `info` is `GET /info`, of
/// which only [`SECCOMP_INFO_FIELDS`] may be read: rules pass it through an overload that copies
/// just those.
pub fn seccomp_state(opts: &Json, privileged: &Json, info: &Json) -> Result<String, String> {
    match privileged {
        Json::Bool(true) => {
            return Ok("unconfined: privileged containers run without seccomp".into())
        }
        Json::Bool(false) => {}
        other => return Err(format!("HostConfig.Privileged `{other}` is not a boolean")),
    }
    let chosen = string_list(opts, "SecurityOpt")?
        .into_iter()
        .filter_map(|o| {
            split_security_opt(&o)
                .filter(|(k, _)| *k == "seccomp")
                .map(|(_, v)| v.to_string())
        })
        .next_back();
    match chosen.as_deref() {
        Some("unconfined") => Ok("unconfined: seccomp=unconfined".into()),
        Some("builtin") => {
            let version = info.get("ServerVersion").and_then(Json::as_str).ok_or(
                "info.ServerVersion is missing: whether the engine knows seccomp=builtin is unknown",
            )?;
            match version.split('.').next().and_then(|m| m.parse::<u32>().ok()) {
                Some(major) if major >= 23 => {
                    Ok("confined: Docker's built-in profile (seccomp=builtin)".into())
                }
                _ => Err(format!(
                    "Engine {version} does not know seccomp=builtin: it reads it as a profile and refuses to start the container"
                )),
            }
        }
        Some(profile) => profile_state(profile),
        None => daemon_seccomp(
            info.get("SecurityOptions")
                .ok_or("info.SecurityOptions is missing")?,
        ),
    }
}

fn profile_state(profile: &str) -> Result<String, String> {
    let parsed: Json = serde_json::from_str(profile).map_err(|e| {
        format!("seccomp profile is not JSON Docker can load ({e}); the engine would refuse it")
    })?;
    let action = parsed
        .get("defaultAction")
        .and_then(Json::as_str)
        .ok_or("seccomp profile has no defaultAction; the runtime would refuse it")?;
    if ALLOWING_ACTIONS.contains(&action) {
        Ok(format!("unconfined: custom profile with defaultAction {action} allows every system call it does not list"))
    } else if DENYING_ACTIONS.contains(&action) {
        Ok(format!(
            "confined: custom profile with defaultAction {action}"
        ))
    } else {
        Err(format!(
            "seccomp profile defaultAction `{action}` is not an action Docker knows"
        ))
    }
}

fn daemon_seccomp(info: &Json) -> Result<String, String> {
    let options = string_list(info, "info.SecurityOptions")?;
    let Some(entry) = options.iter().find(|o| o.starts_with("name=seccomp")) else {
        return Ok("unconfined: the daemon reports no seccomp support (no name=seccomp in info.SecurityOptions)".into());
    };
    let profile = entry
        .split(',')
        .find_map(|p| p.strip_prefix("profile="))
        .unwrap_or("default");
    match profile {
        "default" | "builtin" => Ok(format!("confined: the daemon's default profile ({entry})")),
        "unconfined" => Ok(format!(
            "unconfined: the daemon's default is unconfined ({entry})"
        )),
        other => Err(format!(
            "the daemon's default seccomp profile is the file {other}, which is not collected: \
             examine its defaultAction (SCMP_ACT_ALLOW or SCMP_ACT_LOG confine nothing)"
        )),
    }
}

/// Whether a `--user` / `USER` value runs as UID 0. The user part is read as the runtime
/// reads it: empty means root, digits are a UID (`00` is 0), `root` is root. Any other name is
/// resolved from the image's /etc/passwd, which the Engine API does not show: an error.
pub fn is_root_user(user: &str) -> Result<bool, String> {
    let name = user.split(':').next().unwrap_or_default();
    if name.is_empty() || name == "root" {
        return Ok(true);
    }
    let digits = name.strip_prefix(['+', '-']).unwrap_or(name);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(digits.bytes().all(|b| b == b'0'));
    }
    Err(format!(
        "user `{name}` is a name whose UID comes from the image's /etc/passwd, which the Engine API does not show; \
         check it with `docker run --rm --entrypoint id IMAGE` or set a numeric UID"
    ))
}

/// Every capability the runtime knows, as Docker names them.
const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Docker's default capability set (Docker 20.10 and later).
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// `NormalizeLegacyCapabilities`: upper case, `CAP_` prefix, `ALL` kept; unknown names refused.
fn normalize_caps(v: &Json, what: &str) -> Result<Vec<String>, String> {
    string_list(v, what)?
        .into_iter()
        .map(|c| {
            let upper = c.to_uppercase();
            if upper == "ALL" {
                return Ok(upper);
            }
            let name = if upper.starts_with("CAP_") {
                upper
            } else {
                format!("CAP_{upper}")
            };
            if ALL_CAPS.contains(&name.as_str()) {
                Ok(name)
            } else {
                Err(format!(
                    "{what}: unknown capability `{c}`; Docker refuses to create such a container"
                ))
            }
        })
        .collect()
}

/// The capabilities a container holds beyond Docker's default set (see [`effective_caps`]).
pub fn caps_beyond_default(add: &Json, drop: &Json) -> Result<Vec<String>, String> {
    Ok(effective_caps(add, drop)?
        .into_iter()
        .filter(|c| !DEFAULT_CAPS.contains(&c.as_str()))
        .collect())
}

/// The capabilities a non-privileged container holds, sorted, computed as dockerd's
/// `TweakCapabilities` does: `ALL` in CapAdd adds every capability not dropped; `ALL` in
/// CapDrop leaves exactly CapAdd; otherwise the defaults minus CapDrop plus CapAdd.
pub fn effective_caps(add: &Json, drop: &Json) -> Result<Vec<String>, String> {
    let add = normalize_caps(add, "CapAdd")?;
    let drop = normalize_caps(drop, "CapDrop")?;
    let all = "ALL".to_string();
    let effective: Vec<String> = if add.contains(&all) {
        ALL_CAPS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    } else if drop.contains(&all) {
        add
    } else {
        DEFAULT_CAPS
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .chain(add)
            .collect()
    };
    let mut effective = effective;
    effective.sort();
    effective.dedup();
    Ok(effective)
}

/// The ADD steps of an image's history (`GET /images/{id}/history`, newest first), without the
/// base image's root filesystem: the oldest entry when it adds an archive or file at `/`, in the
/// spelling of the classic builder (`/bin/sh -c #(nop) ADD file:<hash> in / `) or of BuildKit
/// (`ADD alpine-minirootfs-3.21.3-x86_64.tar.gz / # buildkit`, `ADD rootfs.tar.xz /`).
pub fn add_steps(history: &Json) -> Result<Vec<String>, String> {
    let entries = match history {
        Json::Array(items) => items,
        other => return Err(format!("History: `{other}` is not a list")),
    };
    let steps: Vec<String> = entries
        .iter()
        .map(|h| match h.get("CreatedBy") {
            Some(Json::String(s)) => Ok(s.clone()),
            None if h.is_object() => Ok(String::new()),
            _ => Err(format!("History entry `{h}` has no CreatedBy text")),
        })
        .collect::<Result<_, _>>()?;
    let last = steps.len().saturating_sub(1);
    Ok(steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| instruction_args(s, "ADD").map(|args| (i, s, args)))
        .filter(|(i, _, args)| !(*i == last && adds_at_root(args)))
        .map(|(_, s, _)| s.clone())
        .collect())
}

/// The arguments of `instruction` when `created_by` is that Dockerfile instruction.
fn instruction_args<'a>(created_by: &'a str, instruction: &str) -> Option<&'a str> {
    let text = created_by.trim_start();
    let text = match text.find("#(nop)") {
        Some(i) if text.starts_with("/bin/sh -c") => text[i + 6..].trim_start(),
        _ => text,
    };
    let rest = text.strip_prefix(instruction)?;
    rest.starts_with(char::is_whitespace).then(|| rest.trim())
}

/// Whether ADD arguments put their source at the root of the filesystem.
fn adds_at_root(args: &str) -> bool {
    let args = args
        .split(" # ")
        .next()
        .unwrap_or(args)
        .trim_end_matches("# buildkit");
    let words: Vec<&str> = args
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    matches!(words.as_slice(), [_, "in", "/"] | [_, "/"])
}

#[cfg(test)]
mod tests;
