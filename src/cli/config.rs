//! Configuration: a YAML file and `DOCKPROOF_*` environment variables under the flags.
//!
//! One precedence for every setting: a flag wins over the environment, which wins over the
//! configuration file, which wins over the default. The file is `--config FILE`, else
//! `DOCKPROOF_CONFIG`, else `dockproof.yaml` in the working directory, else
//! `$XDG_CONFIG_HOME/dockproof/config.yaml` (`~/.config/dockproof/config.yaml`). Its keys are
//! the long flag names (`fail-on: high`, `framework: [pci-dss-4.0.1]`); relative paths are
//! read from the file's directory. An unknown key is an input error naming the file and line.
//!
//! The engine endpoint keeps the docker CLI's order (README, "Choosing the target"): the
//! file's `docker-host` / `context` apply only when neither flag is given and neither
//! `DOCKER_HOST` nor `DOCKER_CONTEXT` is set. A file found by default (working directory, user
//! directory) may not choose the engine, how it is reached, where host files are read, or add
//! catalogs (`docker-host`, `context`, `ssh-config`, `host-root`, `controls`): a file someone
//! left in a directory must never decide which host is judged or by which rules (and an ssh
//! configuration can run commands), so such a file is refused until it is named with `--config`
//! or `DOCKPROOF_CONFIG`.
//!
//! Values from the file and the environment are handed to clap as if they had been typed, so
//! they are checked by the same parsers as flags; an error names where the value came from.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource as ClapSource;
use clap::{ArgMatches, Args, FromArgMatches};
use dockproof::provenance::redact_setting;
use serde_yaml_ng::Value;

use dockproof::assessment::{ConfigFileRef, ConfigValue, Configuration, ValueSource};

use super::commands::{CliError, EXIT_INPUT};
use super::{Cli, Command};

/// `--config`, and the effective configuration once resolved.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Configuration file (YAML, keys are long flag names: `fail-on: high`). Default:
    /// `dockproof.yaml` in the working directory, else
    /// `$XDG_CONFIG_HOME/dockproof/config.yaml` (`~/.config/dockproof/config.yaml`); also
    /// DOCKPROOF_CONFIG. Flags win over DOCKPROOF_* variables, which win over the file. A file
    /// found by default may not set docker-host, context, ssh-config, host-root or controls.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The effective configuration, filled in after parsing.
    #[arg(skip)]
    pub effective: Option<Configuration>,
}

/// Largest configuration file read; real ones are a few hundred bytes.
const MAX_CONFIG: u64 = 1 << 20;

/// The file name looked for in the working directory.
pub const LOCAL_FILE: &str = "dockproof.yaml";

/// How a setting is written in the file and the environment.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// A switch: `true` gives the flag, `false` leaves it out.
    Switch,
    /// One value.
    One,
    /// One path, relative to the file's directory.
    Path,
    /// A list (a YAML sequence, or a comma list in the environment).
    List,
    /// A list of paths.
    Paths,
    /// A list whose items may hold commas: one item per environment variable.
    Items,
}

/// Every setting the file and the environment may give, by long flag name.
const KEYS: &[(&str, Kind)] = &[
    ("docker-host", Kind::One),
    ("context", Kind::One),
    ("host-root", Kind::Path),
    ("ssh-config", Kind::Path),
    ("include-stopped", Kind::Switch),
    ("concurrency", Kind::One),
    ("images", Kind::One),
    ("inventory-cache", Kind::Path),
    ("framework", Kind::List),
    ("controls", Kind::Path),
    ("param", Kind::Items),
    ("waivers", Kind::Path),
    ("attestations", Kind::Path),
    ("history", Kind::Path),
    ("vuln-report", Kind::Paths),
    ("advisories", Kind::Path),
    ("check", Kind::List),
    ("skip", Kind::List),
    ("filter", Kind::Items),
    ("format", Kind::List),
    ("fail-on", Kind::One),
];

/// Keys that choose the engine; their environment is the docker CLI's own.
const ENGINE_KEYS: &[&str] = &["docker-host", "context"];
const ENGINE_ENV: &[&str] = &["DOCKER_HOST", "DOCKER_CONTEXT"];
/// Keys a file found by default may not set: they choose the engine, how it is reached (an ssh
/// configuration can run commands), where the host's files are read, or the rules.
const GUARDED_KEYS: &[&str] = &[
    "docker-host",
    "context",
    "ssh-config",
    "host-root",
    "controls",
];

/// The environment variable of a key (`fail-on` → `DOCKPROOF_FAIL_ON`).
pub fn env_name(key: &str) -> String {
    format!("DOCKPROOF_{}", key.replace('-', "_").to_uppercase())
}

/// A value found for a key outside the command line, with where it came from.
struct Found {
    key: &'static str,
    args: Vec<String>,
    source: ValueSource,
    origin: String,
}

/// The configuration file chosen and how.
struct File {
    path: PathBuf,
    found_by: &'static str,
}

fn input_error(message: String) -> CliError {
    CliError {
        code: EXIT_INPUT,
        error: anyhow::anyhow!(message),
    }
}

/// Parses the command line, lays the environment and the configuration file under it, and
/// records the effective configuration in the command. Prints it to stderr with `-v`.
pub fn parse() -> Result<(Cli, clap::ArgMatches), CliError> {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let command = super::docs::command();
    let matches = command.clone().get_matches_from(&argv);
    let Some((name, sub)) = matches.subcommand() else {
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        return Ok((cli, matches));
    };
    if !matches!(name, "scan" | "collect" | "report") {
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        return Ok((cli, matches));
    }
    let sub_command = command
        .find_subcommand(name)
        .expect("the parsed subcommand is defined");
    let takes = |key: &str| {
        sub_command
            .get_arguments()
            .find(|a| a.get_long() == Some(key))
            .map(|a| a.get_id().as_str().to_string())
    };
    let from_command_line = |key: &str| {
        takes(key).is_some_and(|id| {
            matches!(
                sub.value_source(&id),
                Some(ClapSource::CommandLine | ClapSource::EnvVariable)
            )
        })
    };

    let file = locate(sub)?;
    let mut found: Vec<Found> = Vec::new();
    for &(key, kind) in KEYS {
        if takes(key).is_none() || from_command_line(key) || ENGINE_KEYS.contains(&key) {
            continue;
        }
        let var = env_name(key);
        if let Some(value) = std::env::var_os(&var) {
            let value = value
                .into_string()
                .map_err(|_| input_error(format!("{var} is not valid UTF-8")))?;
            found.push(Found {
                key,
                args: env_args(key, kind, &value, &var)?,
                source: ValueSource::Environment,
                origin: var,
            });
        }
    }
    let mut file_ref = None;
    if let Some(file) = &file {
        let text = dockproof::input::read_to_string(&file.path, "configuration file", MAX_CONFIG)
            .map_err(|e| input_error(e.to_string()))?;
        let engine_given = ENGINE_KEYS.iter().any(|k| from_command_line(k))
            || ENGINE_ENV
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
        for (key, args, line) in file_values(&file.path, &text)? {
            let origin = format!("{}:{line}", file.path.display());
            // Only where the command would use it: `report` reaches no engine.
            if GUARDED_KEYS.contains(&key)
                && takes(key).is_some()
                && file.found_by != "--config"
                && file.found_by != "DOCKPROOF_CONFIG"
            {
                return Err(input_error(format!(
                    "{origin}: `{key}` in a configuration file found by default ({}) is not \
                     used: it would choose the engine, the host or the rules unasked. Name the file with \
                     --config {} (or DOCKPROOF_CONFIG), or give --{key} on the command line",
                    file.found_by,
                    file.path.display()
                )));
            }
            let overridden = found.iter().any(|f| f.key == key)
                || from_command_line(key)
                || (ENGINE_KEYS.contains(&key) && engine_given);
            if takes(key).is_none() || overridden {
                continue;
            }
            found.push(Found {
                key,
                args,
                source: ValueSource::ConfigFile,
                origin,
            });
        }
        file_ref = Some(ConfigFileRef {
            path: file.path.display().to_string(),
            sha256: dockproof::bundle::sha256_bytes(text.as_bytes()),
            found_by: file.found_by.to_string(),
        });
    }

    // The values found are inserted right after the subcommand, as if typed there.
    let at = argv
        .iter()
        .position(|a| a == name)
        .map_or(argv.len(), |i| i + 1);
    let mut full: Vec<OsString> = argv[..at].to_vec();
    for f in &found {
        full.extend(f.args.iter().map(OsString::from));
    }
    full.extend(argv[at..].iter().cloned());
    let final_matches = match super::docs::command().try_get_matches_from(&full) {
        Ok(m) => m,
        Err(e) => {
            let text = e.render().to_string();
            let culprit = found.iter().find(|f| {
                text.contains(&format!("'--{} ", f.key)) || text.contains(&format!("'--{}'", f.key))
            });
            let Some(f) = culprit else { e.exit() };
            let first = text.lines().next().unwrap_or_default();
            return Err(input_error(format!(
                "{}: {}: {}",
                f.origin,
                f.key,
                first.trim_start_matches("error: ")
            )));
        }
    };
    let mut cli = Cli::from_arg_matches(&final_matches).unwrap_or_else(|e| e.exit());
    let (_, final_sub) = final_matches.subcommand().expect("a subcommand");

    let mut values = Vec::new();
    for &(key, _) in KEYS {
        let Some(id) = takes(key) else { continue };
        let raw: Vec<String> = final_sub
            .get_raw(&id)
            .into_iter()
            .flatten()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let injected = found.iter().find(|f| f.key == key);
        let (source, origin) = match (injected, sub.value_source(&id)) {
            (Some(f), _) => (f.source, Some(f.origin.clone())),
            (None, Some(ClapSource::CommandLine)) => (ValueSource::Flag, None),
            (None, Some(ClapSource::EnvVariable)) => {
                (ValueSource::Environment, Some(env_name(key)))
            }
            (None, _) if ENGINE_KEYS.contains(&key) => {
                // The docker CLI's own variables choose the engine when no flag does.
                let var = ENGINE_ENV[ENGINE_KEYS.iter().position(|k| *k == key).unwrap_or(0)];
                match std::env::var(var) {
                    Ok(v) if !v.is_empty() => {
                        values.push(ConfigValue {
                            key: key.to_string(),
                            value: redact_setting(key, &v),
                            source: ValueSource::Environment,
                            origin: Some(var.to_string()),
                        });
                    }
                    _ => {}
                }
                continue;
            }
            (None, _) => (ValueSource::Default, None),
        };
        if raw.is_empty() || (key == "include-stopped" && raw == ["false"]) {
            continue;
        }
        values.push(ConfigValue {
            key: key.to_string(),
            // Recorded in every report: credentials in values never are.
            value: raw
                .iter()
                .map(|v| redact_setting(key, v))
                .collect::<Vec<_>>()
                .join(","),
            source,
            origin,
        });
    }
    let configuration = Configuration {
        file: file_ref,
        values,
    };
    if cli.verbose > 0 {
        for line in configuration.lines() {
            let _ = writeln!(
                super::terminal::stderr(),
                "config: {}",
                dockproof::text::terminal(&line)
            );
        }
    }
    match &mut cli.command {
        Command::Scan { evaluation, .. } | Command::Report { evaluation, .. } => {
            evaluation.config.effective = Some(configuration);
        }
        Command::Collect { config, .. } => config.effective = Some(configuration),
        _ => {}
    }
    Ok((cli, final_matches))
}

/// The configuration file: `--config`, `DOCKPROOF_CONFIG`, the working directory, the user's
/// configuration directory; `None` when there is none.
fn locate(sub: &ArgMatches) -> Result<Option<File>, CliError> {
    if let Some(path) = sub.get_one::<PathBuf>("config") {
        return Ok(Some(File {
            path: path.clone(),
            found_by: "--config",
        }));
    }
    if let Some(path) = std::env::var_os("DOCKPROOF_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(Some(File {
            path: PathBuf::from(path),
            found_by: "DOCKPROOF_CONFIG",
        }));
    }
    let local = PathBuf::from(LOCAL_FILE);
    if local.exists() {
        return Ok(Some(File {
            path: local,
            found_by: "working directory",
        }));
    }
    let dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    Ok(dir
        .map(|d| d.join("dockproof").join("config.yaml"))
        .filter(|p| p.exists())
        .map(|path| File {
            path,
            found_by: "user configuration directory",
        }))
}

/// The flags an environment variable stands for.
fn env_args(key: &str, kind: Kind, value: &str, var: &str) -> Result<Vec<String>, CliError> {
    let flag = format!("--{key}");
    Ok(match kind {
        Kind::Switch => match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => vec![flag],
            "" | "0" | "false" | "no" | "off" => vec![],
            other => {
                return Err(input_error(format!(
                    "{var}={other}: expected true or false"
                )))
            }
        },
        Kind::One | Kind::Path | Kind::Items => vec![flag, value.to_string()],
        Kind::List | Kind::Paths => value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .flat_map(|v| [flag.clone(), v.to_string()])
            .collect(),
    })
}

/// One setting of a file: its key, the flags it stands for, its line.
type FileSetting = (&'static str, Vec<String>, usize);

/// The settings of a configuration file, in file order.
fn file_values(path: &Path, text: &str) -> Result<Vec<FileSetting>, CliError> {
    let name = path.display();
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}", l.line()))
            .unwrap_or_default();
        input_error(format!("{name}{at}: not valid YAML: {e}"))
    })?;
    let map = match doc {
        Value::Mapping(m) => m,
        Value::Null => return Ok(Vec::new()),
        _ => {
            return Err(input_error(format!(
                "{name}: expected a mapping of settings (`fail-on: high`)"
            )))
        }
    };
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (k, v) in map {
        let key_text = match &k {
            Value::String(s) => s.clone(),
            other => format!("{other:?}"),
        };
        let line = line_of(text, &key_text);
        let Some(&(key, kind)) = KEYS.iter().find(|(name, _)| *name == key_text) else {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            return Err(input_error(format!(
                "{name}:{line}: unknown key `{key_text}`; known keys: {}",
                known.join(", ")
            )));
        };
        let wrong = |want: &str| input_error(format!("{name}:{line}: `{key}` expects {want}"));
        let scalar = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        };
        let resolve = |p: String| -> String {
            let p = PathBuf::from(p);
            if p.is_relative() {
                base.join(p).display().to_string()
            } else {
                p.display().to_string()
            }
        };
        let flag = format!("--{key}");
        let args = match kind {
            Kind::Switch => match v {
                Value::Bool(true) => vec![flag],
                Value::Bool(false) => vec![],
                _ => return Err(wrong("true or false")),
            },
            Kind::One => vec![flag, scalar(&v).ok_or_else(|| wrong("one value"))?],
            Kind::Path => vec![flag, resolve(scalar(&v).ok_or_else(|| wrong("a path"))?)],
            Kind::List | Kind::Paths | Kind::Items => {
                let items: Vec<String> = match &v {
                    Value::Sequence(s) => s
                        .iter()
                        .map(|i| scalar(i).ok_or_else(|| wrong("a list of values")))
                        .collect::<Result<_, _>>()?,
                    Value::Mapping(m) if key == "param" => m
                        .iter()
                        .map(|(k, v)| {
                            let k = scalar(k).ok_or_else(|| wrong("NAME: value pairs"))?;
                            let v = match v {
                                Value::Sequence(s) => s
                                    .iter()
                                    .map(|i| scalar(i).ok_or_else(|| wrong("NAME: value pairs")))
                                    .collect::<Result<Vec<_>, _>>()?
                                    .join(","),
                                v => scalar(v).ok_or_else(|| wrong("NAME: value pairs"))?,
                            };
                            Ok(format!("{k}={v}"))
                        })
                        .collect::<Result<_, _>>()?,
                    v => vec![scalar(v).ok_or_else(|| wrong("a value or a list"))?],
                };
                items
                    .into_iter()
                    .map(|i| if kind == Kind::Paths { resolve(i) } else { i })
                    .flat_map(|i| [flag.clone(), i])
                    .collect()
            }
        };
        out.push((key, args, line));
    }
    Ok(out)
}

/// The line of a top-level key (1-based); 1 when it cannot be told.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start_matches(['"', '\'']);
            l.starts_with(key)
                && l[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .trim_start()
                    .starts_with(':')
        })
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_flags_and_environment_names_follow_them() {
        assert_eq!(env_name("fail-on"), "DOCKPROOF_FAIL_ON");
        let cli = super::super::docs::command();
        for name in ["scan", "report", "collect"] {
            let sub = cli.find_subcommand(name).unwrap();
            assert!(
                sub.get_arguments().any(|a| a.get_long() == Some("config")),
                "{name}"
            );
        }
        let scan = cli.find_subcommand("scan").unwrap();
        for (key, _) in KEYS {
            assert!(
                scan.get_arguments().any(|a| a.get_long() == Some(key)),
                "`{key}` is not a flag of scan"
            );
        }
    }

    #[test]
    fn file_values_become_flags_with_paths_from_the_file() {
        let text = "fail-on: high\nframework: [cis-docker-1.6, pci-dss-4.0.1]\n\
                    waivers: w.yaml\ninclude-stopped: true\nparam:\n  trusted_registries: [a, b]\n";
        let v = file_values(Path::new("/etc/site/dockproof.yaml"), text)
            .unwrap_or_else(|e| panic!("{}", e.error));
        let flat: Vec<FileSetting> = v;
        assert_eq!(
            flat[0],
            ("fail-on", vec!["--fail-on".into(), "high".into()], 1)
        );
        assert_eq!(flat[1].1.len(), 4);
        assert_eq!(flat[2].1[1], "/etc/site/w.yaml");
        assert_eq!(flat[3].1, ["--include-stopped"]);
        assert_eq!(
            flat[4],
            (
                "param",
                vec!["--param".into(), "trusted_registries=a,b".into()],
                5
            )
        );
    }

    #[test]
    fn an_unknown_key_names_file_and_line() {
        let Err(e) = file_values(Path::new("c.yaml"), "fail-on: high\n\nfial-on: low\n") else {
            panic!("an unknown key is refused");
        };
        let text = e.error.to_string();
        assert!(
            text.starts_with("c.yaml:3: unknown key `fial-on`"),
            "{text}"
        );
    }
}
