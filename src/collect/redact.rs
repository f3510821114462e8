//! Redaction of secret-bearing fields, applied in memory right after each object is read and
//! before it is stored anywhere.
//!
//! What is replaced (names are kept; values become [`REDACTED`] or [`REDACTED_CREDENTIAL`] through
//! [`redact_env`] and [`looks_like_credential`]):
//! * containers: `Config.Env`;
//! * images: `Config.Env` and, on engines that still send it, `ContainerConfig.Env`; in the
//!   build history (`History[].CreatedBy`), the value of every `NAME=value` assignment that looks
//!   like a credential (`ENV DB_PASSWORD=...`, `ARG TOKEN=...`, `RUN TOKEN=... make`);
//! * plugins: `Settings.Env` and the `Value` of each `Config.Env` definition;
//! * swarm: `JoinTokens.Worker` / `JoinTokens.Manager` and `Spec.CAConfig.SigningCAKey`;
//! * volumes: in `Options` values of the form `k=v,k2=v2` (`o=` of CIFS/NFS volumes), the value
//!   of every key that looks like a credential (`password`, `pass`, `secret`, ...);
//! * daemon.json and the dockerd command line: the password of any `scheme://user:password@host`
//!   URL (proxy and mirror settings).
//!
//! What is not touched: command lines of containers (`Cmd`, `Args`, `Entrypoint`, healthchecks),
//! labels and mounts are configuration the checks read; a secret passed there is a finding for a
//! human, not something this module can recognise reliably.
//!
//! This module never reads or writes anything; it only rewrites values it is handed.

use serde_json::Value;

use crate::snapshot::{looks_like_credential, redact_env, REDACTED, REDACTED_CREDENTIAL};

/// Redacts a container inspect document (`GET /containers/{id}/json`).
pub(crate) fn container(doc: &mut Value) {
    env_at(doc, &["Config", "Env"]);
}

/// Redacts an image inspect document (`GET /images/{id}/json`).
pub(crate) fn image(doc: &mut Value) {
    env_at(doc, &["Config", "Env"]);
    env_at(doc, &["ContainerConfig", "Env"]);
    if let Some(layers) = get_mut(doc, &["History"]).and_then(Value::as_array_mut) {
        for layer in layers {
            if let Some(Value::String(created_by)) = layer.get_mut("CreatedBy") {
                if let Some(redacted) = history_assignments(created_by) {
                    *created_by = redacted;
                }
            }
        }
    }
}

/// Replaces the values of credential-looking `NAME=value` assignments in a build step; `None`
/// when there is nothing to replace.
pub(crate) fn history_assignments(text: &str) -> Option<String> {
    static ASSIGNMENT: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = ASSIGNMENT
        .get_or_init(|| {
            regex::Regex::new(r#"([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|[^\s;&|]+)"#).ok()
        })
        .as_ref()?;
    let mut changed = false;
    let out = re.replace_all(text, |c: &regex::Captures<'_>| {
        let (name, value) = (&c[1], c[2].trim_matches(|q| q == '"' || q == '\''));
        if looks_like_credential(name, value) {
            changed = true;
            format!("{name}={REDACTED_CREDENTIAL}")
        } else {
            c[0].to_string()
        }
    });
    changed.then(|| out.into_owned())
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

/// Returns `text` with the password of an embedded `scheme://user:password@host` replaced, or
/// `None` when there is none.
pub(crate) fn url_credentials(text: &str) -> Option<String> {
    let scheme_end = text.find("://")? + 3;
    let authority_end = text[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| scheme_end + i);
    let at = text[scheme_end..authority_end].rfind('@')? + scheme_end;
    let colon = text[scheme_end..at].find(':')? + scheme_end;
    Some(format!(
        "{}{}{}",
        &text[..=colon],
        REDACTED_CREDENTIAL,
        &text[at..]
    ))
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
