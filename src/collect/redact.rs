//! The one redactor: secret-bearing fields are rewritten in memory right after each object is
//! read and before it is stored anywhere, so neither the snapshot nor any report derived from it
//! can hold them. A finding about a secret can then show where it is, never what it is.
//!
//! What is replaced (names are kept; values become [`REDACTED`] or [`REDACTED_CREDENTIAL`] through
//! [`redact_env`], [`looks_like_credential`] and the command-line rules of [`command`]):
//! * containers and images: `Config.Env` (every value); command lines (`Cmd`, `Entrypoint`,
//!   the container's `Path` + `Args`, `Healthcheck.Test`) and label values, where a value looks
//!   like a credential (`--password=...`, `-u user:pw` for curl, `-pSECRET` for mysql,
//!   `scheme://user:pw@`, cloud access keys, tokens, private keys; see [`command`]);
//! * images: the same in `ContainerConfig` on engines that still send it, and in the build
//!   history (`History[].CreatedBy`), read as a shell script; a step longer than
//!   [`MAX_STEP`] bytes is cut there, with a marker;
//! * plugins: `Settings.Env` and the `Value` of each `Config.Env` definition;
//! * swarm: `JoinTokens.Worker` / `JoinTokens.Manager` and `Spec.CAConfig.SigningCAKey`;
//! * volumes: in `Options` values of the form `k=v,k2=v2` (`o=` of CIFS/NFS volumes), the value
//!   of every key that looks like a credential (`password`, `pass`, `secret`, ...);
//! * daemon.json and the dockerd command line: the password of any `scheme://user:password@host`
//!   URL (proxy and mirror settings).
//!
//! Mounts and the remaining configuration are what the checks read and hold no secret values.
//!
//! This module never reads or writes anything; it only rewrites values it is handed.

mod command;

pub(crate) use command::text;

use serde_json::Value;

use crate::snapshot::{looks_like_credential, redact_env, REDACTED, REDACTED_CREDENTIAL};

/// Longest build step kept; the rest is cut at collection (the checks read a step's start).
pub const MAX_STEP: usize = 8 * 1024;

/// Redacts a container inspect document (`GET /containers/{id}/json`).
pub(crate) fn container(doc: &mut Value) {
    env_at(doc, &["Config", "Env"]);
    config_commands(doc, "Config");
    // `Path` + `Args` is the command line the container actually runs.
    let path = doc.get("Path").and_then(Value::as_str).map(str::to_string);
    if let (Some(path), Some(args)) = (path, doc.get_mut("Args")) {
        argv_pair(&mut vec![Value::String(path)], args);
    }
}

/// Redacts an image inspect document (`GET /images/{id}/json`).
pub(crate) fn image(doc: &mut Value) {
    env_at(doc, &["Config", "Env"]);
    env_at(doc, &["ContainerConfig", "Env"]);
    config_commands(doc, "Config");
    config_commands(doc, "ContainerConfig");
    if let Some(layers) = get_mut(doc, &["History"]).and_then(Value::as_array_mut) {
        for layer in layers {
            if let Some(Value::String(created_by)) = layer.get_mut("CreatedBy") {
                if let Some(redacted) = build_step(created_by) {
                    *created_by = redacted;
                }
            }
        }
    }
}

/// A build step (`History[].CreatedBy`) with its secrets replaced and cut at [`MAX_STEP`];
/// `None` when it is kept as it is.
pub(crate) fn build_step(text: &str) -> Option<String> {
    let cut = if text.len() > MAX_STEP {
        let mut end = MAX_STEP;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Some(format!(
            "{} <cut by dockproof: {} more bytes>",
            &text[..end],
            text.len() - end
        ))
    } else {
        None
    };
    let base = cut.as_deref().unwrap_or(text);
    command::script_text(base).or(cut)
}

/// `Cmd`, `Entrypoint`, `Healthcheck.Test` and `Labels` of a `Config` block.
fn config_commands(doc: &mut Value, block: &str) {
    let Some(config) = doc.get_mut(block).and_then(Value::as_object_mut) else {
        return;
    };
    let mut entrypoint = config
        .get("Entrypoint")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(cmd) = config.get_mut("Cmd") {
        argv_pair(&mut entrypoint, cmd);
    }
    if let Some(Value::Array(e)) = config.get_mut("Entrypoint") {
        *e = entrypoint;
    }
    if let Some(Value::Array(test)) = config
        .get_mut("Healthcheck")
        .and_then(|h| h.get_mut("Test"))
    {
        match test.first().and_then(Value::as_str) {
            Some("CMD-SHELL") => {
                for v in test.iter_mut().skip(1) {
                    if let Some(clean) = v.as_str().and_then(command::script_text) {
                        *v = Value::String(clean);
                    }
                }
            }
            Some("CMD") => {
                let mut prefix = vec![test.remove(0)];
                let mut rest = Value::Array(std::mem::take(test));
                argv_pair(&mut Vec::new(), &mut rest);
                prefix.extend(rest.as_array().cloned().unwrap_or_default());
                *test = prefix;
            }
            _ => {}
        }
    }
    if let Some(labels) = config.get_mut("Labels").and_then(Value::as_object_mut) {
        labels_in(labels);
    }
}

/// Redacts the values of secret-looking labels, keeping every key.
fn labels_in(labels: &mut serde_json::Map<String, Value>) {
    for (key, value) in labels.iter_mut() {
        let Some(text) = value.as_str() else { continue };
        if label_names_a_secret(key) && !text.is_empty() {
            *value = Value::String(REDACTED_CREDENTIAL.to_string());
        } else if let Some(clean) = command::text(text) {
            *value = Value::String(clean);
        }
    }
}

/// Whether a label's key says its value is a secret (`db.password`, `AWS_SECRET_ACCESS_KEY`,
/// `api-token`); narrower than the environment rule, because labels such as `auth.enabled` or
/// `traefik.http.middlewares.auth.basicauth.realm` are ordinary configuration.
fn label_names_a_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['.', '-'], "_");
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "credential",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// Redacts `head` + `tail` as one argv (an entrypoint and its command, a path and its
/// arguments) and writes each part back; non-string arrays are left alone.
fn argv_pair(head: &mut Vec<Value>, tail: &mut Value) {
    let Some(tail_items) = tail.as_array() else {
        return;
    };
    let words: Option<Vec<String>> = head
        .iter()
        .chain(tail_items.iter())
        .map(|v| v.as_str().map(str::to_string))
        .collect();
    let Some(mut words) = words else { return };
    if !command::argv(&mut words) {
        return;
    }
    let split = head.len();
    *head = words[..split].iter().cloned().map(Value::String).collect();
    *tail = Value::Array(words[split..].iter().cloned().map(Value::String).collect());
}

/// Redacts a plugin document (`GET /plugins` entry).
pub(crate) fn plugin(doc: &mut Value) {
    env_at(doc, &["Settings", "Env"]);
    if let Some(defs) = get_mut(doc, &["Config", "Env"]).and_then(Value::as_array_mut) {
        for def in defs {
            let name = def
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(value) = def.get_mut("Value") {
                let text = value.as_str().unwrap_or("");
                if !text.is_empty() {
                    *value = Value::String(marker(&name, text).to_string());
                }
            }
        }
    }
}

/// Redacts the swarm document (`GET /swarm`): join tokens and a CA signing key.
pub(crate) fn swarm(doc: &mut Value) {
    for path in [
        &["JoinTokens", "Worker"][..],
        &["JoinTokens", "Manager"][..],
        &["Spec", "CAConfig", "SigningCAKey"][..],
    ] {
        if let Some(v) = get_mut(doc, path) {
            if v.as_str().is_some_and(|s| !s.is_empty()) {
                *v = Value::String(REDACTED_CREDENTIAL.to_string());
            }
        }
    }
}

/// Redacts credential-like keys inside a volume's driver `Options`.
pub(crate) fn volume(doc: &mut Value) {
    let Some(options) = doc.get_mut("Options").and_then(Value::as_object_mut) else {
        return;
    };
    for (key, value) in options.iter_mut() {
        let Some(text) = value.as_str() else { continue };
        if looks_like_credential(key, text) {
            *value = Value::String(REDACTED_CREDENTIAL.to_string());
            continue;
        }
        let rewritten: Vec<String> = text
            .split(',')
            .map(|part| match part.split_once('=') {
                Some((k, v)) if looks_like_credential(k, v) || is_password_key(k) => {
                    format!("{k}={REDACTED_CREDENTIAL}")
                }
                _ => part.to_string(),
            })
            .collect();
        *value = Value::String(rewritten.join(","));
    }
}

/// Redacts URL passwords in every string of a JSON document (daemon.json).
pub(crate) fn url_credentials_in(doc: &mut Value) {
    match doc {
        Value::String(s) => {
            if let Some(clean) = url_credentials(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(url_credentials_in),
        Value::Object(map) => map.values_mut().for_each(url_credentials_in),
        _ => {}
    }
}

/// Returns `text` with every secret the text rules know replaced (the password of each
/// embedded `scheme://user:password@host`, tokens, keys), or `None` when there is none.
pub(crate) fn url_credentials(text: &str) -> Option<String> {
    command::text(text)
}

fn is_password_key(key: &str) -> bool {
    let k = key.trim().to_ascii_lowercase();
    k == "pass" || k.contains("password") || k.contains("passwd")
}

fn marker(name: &str, value: &str) -> &'static str {
    if looks_like_credential(name, value) {
        REDACTED_CREDENTIAL
    } else {
        REDACTED
    }
}

fn env_at(doc: &mut Value, path: &[&str]) {
    if let Some(entries) = get_mut(doc, path).and_then(Value::as_array_mut) {
        redact_env(entries);
    }
}

fn get_mut<'a>(doc: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(doc, |v, key| v.get_mut(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A trimmed `docker inspect` of a real container, with secrets in its environment.
    fn container_fixture() -> Value {
        json!({
            "Id": "4f1c2a",
            "Name": "/payments-api",
            "Args": ["serve"],
            "Config": {
                "Hostname": "4f1c2a",
                "User": "app",
                "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin",
                    "DB_PASSWORD=s3cr3t-Pa55",
                    "STRIPE_KEY=sk_live_51Habcdef",
                    "AWS_ID=AKIAIOSFODNN7EXAMPLE",
                    "EMPTY=",
                    "FLAG_ONLY"
                ],
                "Image": "payments:1.4"
            },
            "HostConfig": {"Privileged": false}
        })
    }

    #[test]
    fn container_env_values_never_survive() {
        let mut doc = container_fixture();
        container(&mut doc);
        assert_eq!(
            doc["Config"]["Env"],
            json!([
                "PATH=<redacted>",
                "DB_PASSWORD=<redacted:credential-like>",
                "STRIPE_KEY=<redacted>",
                "AWS_ID=<redacted:credential-like>",
                "EMPTY=<redacted>",
                "FLAG_ONLY=<redacted>"
            ])
        );
        let text = serde_json::to_string(&doc).unwrap();
        for secret in [
            "s3cr3t-Pa55",
            "sk_live_51Habcdef",
            "AKIAIOSFODNN7EXAMPLE",
            "/usr/local",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        // The rest of the document is untouched.
        assert_eq!(doc["Config"]["User"], "app");
        assert_eq!(doc["Name"], "/payments-api");
    }

    #[test]
    fn image_env_is_redacted_in_both_configs() {
        let mut doc = json!({
            "Id": "sha256:ab",
            "Config": {"Env": ["TOKEN=ghp_abc", "LANG=C.UTF-8"]},
            "ContainerConfig": {"Env": ["API_KEY=xyz"]}
        });
        image(&mut doc);
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains("ghp_abc") && !text.contains("xyz") && !text.contains("UTF-8"));
        assert_eq!(
            doc["ContainerConfig"]["Env"][0],
            "API_KEY=<redacted:credential-like>"
        );
    }

    #[test]
    fn plugin_swarm_and_volume_secrets_are_redacted() {
        let mut p = json!({
            "Settings": {"Env": ["DEBUG=1", "SECRET=abc"]},
            "Config": {"Env": [{"Name": "TOKEN", "Value": "t0k3n"}, {"Name": "X", "Value": ""}]}
        });
        plugin(&mut p);
        assert!(!serde_json::to_string(&p).unwrap().contains("t0k3n"));
        assert_eq!(p["Config"]["Env"][1]["Value"], "");

        let mut s = json!({"JoinTokens": {"Worker": "SWMTKN-1-w", "Manager": "SWMTKN-1-m"}});
        swarm(&mut s);
        assert!(!serde_json::to_string(&s).unwrap().contains("SWMTKN"));

        let mut v = json!({"Name": "share", "Options": {
            "type": "cifs", "device": "//srv/share", "o": "addr=srv,username=u,password=p4ss,vers=3.0"
        }});
        volume(&mut v);
        assert_eq!(
            v["Options"]["o"],
            "addr=srv,username=u,password=<redacted:credential-like>,vers=3.0"
        );
        assert_eq!(v["Options"]["device"], "//srv/share");
    }

    #[test]
    fn credential_assignments_in_build_history_are_redacted() {
        let mut img = serde_json::json!({"History": [
            {"CreatedBy": "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2 MODE=prod"},
            {"CreatedBy": "RUN |1 GITHUB_TOKEN='ghp_abc123' /bin/sh -c make && echo done"},
            {"CreatedBy": "/bin/sh -c apt-get update"}
        ]});
        image(&mut img);
        let h = &img["History"];
        assert_eq!(
            h[0]["CreatedBy"],
            "/bin/sh -c #(nop)  ENV DB_PASSWORD=<redacted:credential-like> MODE=prod"
        );
        assert_eq!(
            h[1]["CreatedBy"],
            "RUN |1 GITHUB_TOKEN=<redacted:credential-like> /bin/sh -c make && echo done"
        );
        assert_eq!(h[2]["CreatedBy"], "/bin/sh -c apt-get update");
    }

    #[test]
    fn command_lines_healthchecks_and_labels_keep_names_not_secrets() {
        let mut doc = json!({
            "Path": "mysql",
            "Args": ["-h", "db", "-pS3cret", "app"],
            "Config": {
                "Entrypoint": ["/app/run"],
                "Cmd": ["--password=hunter2", "--port", "8080"],
                "Healthcheck": {"Test": ["CMD-SHELL", "curl -fsu probe:pr0be http://localhost/"]},
                "Labels": {
                    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI",
                    "db.url": "postgres://app:pgpw@db:5432/app",
                    "auth.enabled": "true",
                    "com.example.port": "8080"
                }
            }
        });
        container(&mut doc);
        let text = serde_json::to_string(&doc).unwrap();
        for secret in ["S3cret", "hunter2", "pr0be", "wJalrXUtnFEMI", "pgpw"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let m = REDACTED_CREDENTIAL;
        assert_eq!(doc["Args"], json!(["-h", "db", format!("-p{m}"), "app"]));
        assert_eq!(
            doc["Config"]["Cmd"],
            json!([format!("--password={m}"), "--port", "8080"])
        );
        assert_eq!(doc["Config"]["Entrypoint"], json!(["/app/run"]));
        assert_eq!(doc["Config"]["Labels"]["auth.enabled"], "true");
        assert_eq!(doc["Config"]["Labels"]["com.example.port"], "8080");
        assert_eq!(
            doc["Config"]["Labels"]["db.url"],
            format!("postgres://app:{m}@db:5432/app")
        );
    }

    #[test]
    fn long_build_steps_are_cut_with_a_marker() {
        let step = format!("/bin/sh -c echo {}", "x".repeat(2 << 20));
        let cut = build_step(&step).unwrap();
        assert!(cut.len() < MAX_STEP + 64);
        assert!(cut.ends_with(&format!(
            " <cut by dockproof: {} more bytes>",
            step.len() - MAX_STEP
        )));
    }

    #[test]
    fn url_passwords_are_redacted_and_plain_urls_kept() {
        assert_eq!(
            url_credentials("http://bob:hunter2@proxy:3128/x").as_deref(),
            Some("http://bob:<redacted:credential-like>@proxy:3128/x")
        );
        assert_eq!(url_credentials("https://mirror.example/v2"), None);
        assert_eq!(url_credentials("http://bob@proxy"), None);
        let mut cfg = json!({"proxies": {"http-proxy": "http://u:pw@p:1"}, "debug": true});
        url_credentials_in(&mut cfg);
        assert_eq!(
            cfg["proxies"]["http-proxy"],
            "http://u:<redacted:credential-like>@p:1"
        );
    }
}
