//! Run provenance: how an assessment was produced, so a reader can judge what it is worth.
//!
//! It records the account that collected the evidence and its privilege, the command line with
//! every secret removed, each catalog file with its hash and whether it was built in, added or
//! put in place of a built-in one with `--controls` (an overriding catalog can make a check pass
//! whatever the host holds, so reports flag it), the frameworks selected and the decision files
//! (scope, waivers, attestations) with their hashes. The command-line layer builds it; the
//! renderers only show it.
//!
//! This module never reads files and never prints.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, CatalogFile, CatalogOrigin};
use crate::snapshot::{CollectorAccount, REDACTED_CREDENTIAL};

/// How an assessment was produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The account that collected the evidence, as the snapshot records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<CollectorAccount>,
    /// The command line of the evaluating run, secrets replaced by a marker.
    pub command_line: Vec<String>,
    /// Every catalog file with its hash and origin.
    pub catalog_files: Vec<CatalogFile>,
    /// Frameworks asked for with `--framework`; empty when all were reported.
    #[serde(default)]
    pub frameworks: Vec<String>,
    /// Input files that shaped the verdicts or the report, with their hashes.
    #[serde(default)]
    pub inputs: Vec<InputFile>,
}

/// One input file of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// `scope`, `waivers` or `attestations`.
    pub role: String,
    /// The path given.
    pub path: String,
    /// SHA-256 of the bytes read, hex.
    pub sha256: String,
}

/// Flags whose value is never recorded: a key file's name tells an attacker where to look.
const HIDDEN_VALUES: [&str; 2] = ["--sign", "--key"];

impl Provenance {
    /// Provenance of a run with command line `args` (program name first) over `catalog`.
    pub fn new(
        args: &[String],
        catalog: &Catalog,
        collector: Option<CollectorAccount>,
        frameworks: &[String],
        inputs: Vec<InputFile>,
    ) -> Self {
        Provenance {
            collector,
            command_line: redact_command_line(args),
            catalog_files: catalog.files.clone(),
            frameworks: frameworks.to_vec(),
            inputs,
        }
    }

    /// Catalog files given with `--controls`, overriding ones first.
    pub fn custom_catalogs(&self) -> Vec<&CatalogFile> {
        let mut files: Vec<_> = (self.catalog_files.iter())
            .filter(|f| f.origin != CatalogOrigin::Builtin)
            .collect();
        files.sort_by_key(|f| f.origin != CatalogOrigin::Overrides);
        files
    }

    /// The command line as one line, each word quoted where it has spaces.
    pub fn command_text(&self) -> String {
        (self.command_line.iter())
            .map(|w| {
                if w.is_empty() || w.contains(char::is_whitespace) {
                    format!("'{w}'")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Label and value lines for a report's provenance block.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        let mut rows = vec![(
            "Collecting account",
            self.collector.as_ref().map_or_else(
                || "not recorded in the snapshot".to_string(),
                CollectorAccount::describe,
            ),
        )];
        rows.push(("Command line", self.command_text()));
        rows.push((
            "Frameworks",
            if self.frameworks.is_empty() {
                "all bundled".to_string()
            } else {
                self.frameworks.join(", ")
            },
        ));
        let custom = self.custom_catalogs();
        rows.push((
            "Custom catalogs",
            if custom.is_empty() {
                "none: built-in catalogs only".to_string()
            } else {
                (custom.iter())
                    .map(|f| {
                        format!(
                            "{} ({}) sha256:{}",
                            f.name,
                            origin_label(f.origin),
                            f.sha256
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            },
        ));
        for input in &self.inputs {
            rows.push((
                input_label(&input.role),
                format!("{} sha256:{}", input.path, input.sha256),
            ));
        }
        rows
    }
}

/// Words for a catalog file's origin; an override says what it can do.
pub fn origin_label(o: CatalogOrigin) -> &'static str {
    match o {
        CatalogOrigin::Builtin => "built in",
        CatalogOrigin::Overrides => {
            "OVERRIDES a built-in catalog: its checks may not test what the built-in ones do"
        }
        CatalogOrigin::Added => "added",
    }
}

fn input_label(role: &str) -> &'static str {
    match role {
        "scope" => "Scope file",
        "waivers" => "Waiver file",
        "attestations" => "Attestation file",
        _ => "Input file",
    }
}

/// The command line with secrets removed: the values of `--sign` and `--key`, `--param`
/// values whose key or value looks like a credential, and passwords in URLs or `NAME=value`
/// words anywhere.
pub fn redact_command_line(args: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut hide_next = false;
    let mut param_next = false;
    for arg in args {
        if hide_next {
            out.push(REDACTED_CREDENTIAL.to_string());
            hide_next = false;
            continue;
        }
        if param_next {
            out.push(redact_param(arg));
            param_next = false;
            continue;
        }
        if let Some((flag, value)) = arg.split_once('=').filter(|(f, _)| f.starts_with("--")) {
            if HIDDEN_VALUES.contains(&flag) {
                out.push(format!("{flag}={REDACTED_CREDENTIAL}"));
            } else if flag == "--param" {
                out.push(format!("{flag}={}", redact_param(value)));
            } else {
                out.push(format!("{flag}={}", redact_word(value)));
            }
            continue;
        }
        hide_next = HIDDEN_VALUES.contains(&arg.as_str());
        param_next = arg == "--param";
        out.push(redact_word(arg));
    }
    out
}

/// One setting's value as it may be recorded (`key` is the long flag's name without `--`):
/// redacted exactly as that flag's value on the command line is.
pub fn redact_setting(key: &str, value: &str) -> String {
    let args = [format!("--{key}"), value.to_string()];
    redact_command_line(&args).pop().unwrap_or_default()
}

/// `KEY=VALUE` of `--param`: the key stays, the value goes when either looks like a secret.
fn redact_param(pair: &str) -> String {
    match pair.split_once('=') {
        Some((key, value))
            if crate::snapshot::looks_like_credential(key, value)
                || redact_word(value) != value =>
        {
            format!("{key}={REDACTED_CREDENTIAL}")
        }
        _ => redact_word(pair),
    }
}

fn redact_word(word: &str) -> String {
    crate::collect::redact_text(word).unwrap_or_else(|| word.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn settings_are_redacted_as_their_flags_are() {
        assert_eq!(
            redact_setting("docker-host", "tcp://admin:pw1@h:2376"),
            redact_command_line(&args(&["-H", "tcp://admin:pw1@h:2376"]))[1]
        );
        assert!(!redact_setting("docker-host", "tcp://admin:pw1@h:2376").contains("pw1"));
        assert!(!redact_setting("sign", "/k/id_secret").contains("id_secret"));
        assert!(!redact_setting("param", "token=abc").contains("abc"));
        assert_eq!(redact_setting("framework", "cis"), "cis");
    }

    #[test]
    fn secrets_never_reach_the_recorded_command_line() {
        let line = redact_command_line(&args(&[
            "dockproof",
            "scan",
            "-H",
            "tcp://admin:hunter2@10.0.0.5:2376",
            "--param",
            "registry_password=s3cr3t-value",
            "--param=api_token=abc123abc123",
            "--param",
            "trusted_registries=ghcr.io",
            "--sign",
            "/keys/id_ed25519",
            "--key=/keys/other",
            "--out",
            "bundle",
        ]));
        let joined = line.join(" ");
        for secret in [
            "hunter2",
            "s3cr3t-value",
            "abc123abc123",
            "id_ed25519",
            "other",
        ] {
            assert!(!joined.contains(secret), "{secret} in {joined}");
        }
        assert!(joined.contains("trusted_registries=ghcr.io"), "{joined}");
        assert!(joined.contains("registry_password="), "{joined}");
        assert!(joined.contains("10.0.0.5:2376"), "{joined}");
        assert_eq!(line.last().map(String::as_str), Some("bundle"));
    }
}
