//! Resource views: the JSON each check's `resource`, `daemon` and `host` variables hold.
//!
//! Views are derived from the snapshot by pure functions, so re-evaluating an old snapshot with
//! a newer dockproof also gets the newer derivations (for example a better dockerd flag parser).
//! The shapes are documented for catalog authors in `controls/README.md`:
//! * container, image, network, volume, plugin: the snapshot document as collected;
//! * file: one [`crate::snapshot::FileFact`];
//! * swarm: `info.Swarm`;
//! * daemon: `{info, version, config, args, settings, listeners}` where `settings` merges
//!   daemon.json with the dockerd command line, keyed by daemon.json option names (boolean flags
//!   read as Go's `strconv.ParseBool`), and is absent when either could not be read; `listeners`
//!   are the API endpoints with socket activation (`fd://`) resolved;
//! * host: `{docker_group, audit_rules, mounts, client_env, data_root, files}`, each absent when not
//!   collected.

use serde_json::{json, Map, Value};

use crate::assessment::{ResourceKind, ResourceRef};
use crate::snapshot::Snapshot;

/// One thing a check can be evaluated on.
#[derive(Debug, Clone)]
pub struct Resource {
    pub reference: ResourceRef,
    /// Where in the snapshot it was read.
    pub source: String,
    /// Identity that survives the resource being recreated, for fingerprints.
    pub identity: String,
    pub view: Value,
}

/// Gap sources that mean "the whole list of this kind is unknown".
pub fn listing_gap(kind: ResourceKind) -> Option<&'static str> {
    match kind {
        ResourceKind::Container => Some("engine:/containers/json"),
        ResourceKind::Image => Some("engine:/images/json"),
        ResourceKind::Network => Some("engine:/networks"),
        ResourceKind::Volume => Some("engine:/volumes"),
        ResourceKind::Plugin => Some("engine:/plugins"),
        _ => None,
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// Every resource of `kind` in the snapshot, in a stable order.
pub fn resources(snapshot: &Snapshot, kind: ResourceKind) -> Vec<Resource> {
    let engine = &snapshot.engine;
    let hostname = snapshot
        .target
        .hostname
        .clone()
        .unwrap_or_else(|| "docker host".into());
    let single = |id: &str, name: String, source: &str, view: Value| {
        vec![Resource {
            reference: ResourceRef {
                kind,
                id: id.into(),
                name,
            },
            source: source.into(),
            identity: id.into(),
            view,
        }]
    };
    match kind {
        ResourceKind::Daemon => single(
            "daemon",
            format!("dockerd on {hostname}"),
            "engine.info, host.daemon_json, host.dockerd",
            daemon_view(snapshot),
        ),
        ResourceKind::Host => single("host", hostname.clone(), "host", host_view(snapshot)),
        ResourceKind::Swarm => {
            let view = engine
                .info
                .as_ref()
                .and_then(|i| i.get("Swarm"))
                .cloned()
                .unwrap_or(Value::Null);
            single(
                "swarm",
                format!("swarm membership of {hostname}"),
                "engine.info.Swarm",
                view,
            )
        }
        ResourceKind::File => snapshot
            .host
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| Resource {
                reference: ResourceRef {
                    kind,
                    id: format!("{}:{}", f.role, f.path),
                    name: f.path.clone(),
                },
                source: format!("host.files[{i}]"),
                identity: format!("{}:{}", f.role, f.path),
                view: serde_json::to_value(f).unwrap_or(Value::Null),
            })
            .collect(),
        ResourceKind::Container => engine
            .containers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let id = str_field(c, "Id").unwrap_or_default().to_string();
                let name = str_field(c, "Name")
                    .map(|n| n.trim_start_matches('/').to_string())
                    .unwrap_or_else(|| short_id(&id));
                let image = c
                    .pointer("/Config/Image")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Resource {
                    identity: format!("{name}@{image}"),
                    reference: ResourceRef { kind, id, name },
                    source: format!("engine.containers[{i}]"),
                    view: c.clone(),
                }
            })
            .collect(),
        ResourceKind::Image => engine
            .images
            .iter()
            .enumerate()
            .map(|(i, img)| {
                let id = str_field(img, "Id").unwrap_or_default().to_string();
                let first = |key: &str| {
                    img.get(key)
                        .and_then(Value::as_array)
                        .and_then(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .find(|t| !t.starts_with("<none>"))
                        })
                        .map(str::to_string)
                };
                let name = first("RepoTags")
                    .or_else(|| first("RepoDigests"))
                    .unwrap_or_else(|| short_id(&id));
                Resource {
                    identity: name.clone(),
                    reference: ResourceRef { kind, id, name },
                    source: format!("engine.images[{i}]"),
                    view: img.clone(),
                }
            })
            .collect(),
        ResourceKind::Network | ResourceKind::Volume | ResourceKind::Plugin => {
            let (list, label, id_key) = match kind {
                ResourceKind::Network => (&engine.networks, "networks", "Id"),
                ResourceKind::Volume => (&engine.volumes, "volumes", "Name"),
                _ => (&engine.plugins, "plugins", "Id"),
            };
            list.iter()
                .enumerate()
                .map(|(i, v)| {
                    let name = str_field(v, "Name").unwrap_or_default().to_string();
                    let id = str_field(v, id_key)
                        .map(str::to_string)
                        .unwrap_or_else(|| name.clone());
                    Resource {
                        identity: name.clone(),
                        reference: ResourceRef { kind, id, name },
                        source: format!("engine.{label}[{i}]"),
                        view: v.clone(),
                    }
                })
                .collect()
        }
    }
}

/// The host view; keys whose facts were not collected are left out, so rules reading them
/// end in `error`.
pub fn host_view(snapshot: &Snapshot) -> Value {
    let host = &snapshot.host;
    let mut view = Map::new();
    if let Some(g) = &host.docker_group {
        view.insert(
            "docker_group".into(),
            serde_json::to_value(g).unwrap_or(Value::Null),
        );
    }
    if let Some(a) = &host.audit_rules {
        view.insert(
            "audit_rules".into(),
            serde_json::to_value(a).unwrap_or(Value::Null),
        );
    }
    if let Some(m) = &host.mounts {
        view.insert("mounts".into(), json!(m));
    }
    if let Some(env) = &host.client_env {
        view.insert("client_env".into(), json!(env));
    }
    if let Some(root) = snapshot
        .engine
        .info
        .as_ref()
        .and_then(|i| i.get("DockerRootDir"))
    {
        view.insert("data_root".into(), root.clone());
    }
    // An empty list means the host files were not collected at all; the key is left out then
    // so that rules reading it end in error.
    if !host.files.is_empty() {
        view.insert(
            "files".into(),
            serde_json::to_value(&host.files).unwrap_or(Value::Null),
        );
    }
    Value::Object(view)
}

/// The daemon view; see the module documentation.
pub fn daemon_view(snapshot: &Snapshot) -> Value {
    let mut view = Map::new();
    if let Some(info) = &snapshot.engine.info {
        view.insert("info".into(), info.clone());
    }
    if let Some(version) = &snapshot.engine.version {
        view.insert("version".into(), version.clone());
    }
    let config = snapshot.host.daemon_json.as_ref().and_then(|d| {
        if !d.exists {
            Some(Value::Object(Map::new()))
        } else {
            d.content.clone()
        }
    });
    if let Some(c) = &config {
        view.insert("config".into(), c.clone());
    }
    if let Some(p) = &snapshot.host.dockerd {
        view.insert("args".into(), json!(p.args));
    }
    if let (Some(Value::Object(config)), Some(p)) = (&config, &snapshot.host.dockerd) {
        let mut settings = config.clone();
        for (key, value) in parse_dockerd_flags(&p.args) {
            match (settings.get_mut(&key), value) {
                (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
                (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
                (_, value) => {
                    settings.insert(key, value);
                }
            }
        }
        if let Some(listeners) = listeners(&settings, snapshot.host.socket_activation.as_deref()) {
            view.insert("listeners".into(), json!(listeners));
        }
        view.insert("settings".into(), Value::Object(settings));
    }
    Value::Object(view)
}

/// Where dockerd accepts API connections: `settings.hosts` (the unix socket when none is set),
/// with each `fd://` replaced by the docker.socket unit's `ListenStream=` values, written as
/// `unix://PATH` or `tcp://ADDRESS:PORT` (a bare port listens on every address). `None` when
/// dockerd is socket-activated and the unit's listeners were not collected.
fn listeners(settings: &Map<String, Value>, activated: Option<&[String]>) -> Option<Vec<String>> {
    let hosts: Vec<String> = match settings.get("hosts").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|h| {
                h.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| h.to_string())
            })
            .collect(),
        _ => vec!["unix:///var/run/docker.sock".to_string()],
    };
    let mut out = Vec::new();
    for host in hosts {
        if !host.starts_with("fd://") {
            out.push(host);
            continue;
        }
        for stream in activated? {
            out.push(if stream.starts_with('/') || stream.starts_with('@') {
                format!("unix://{stream}")
            } else if stream.bytes().all(|b| b.is_ascii_digit()) {
                format!("tcp://0.0.0.0:{stream}")
            } else if stream.contains(':') && !stream.starts_with("vsock:") {
                format!("tcp://{stream}")
            } else {
                stream.clone()
            });
        }
    }
    Some(out)
}

/// Flags that take no value (`--flag` means true; `--flag=false` is the only way to say false).
const BOOL_FLAGS: &[&str] = &[
    "debug",
    "icc",
    "iptables",
    "ip6tables",
    "ip-forward",
    "ip-masq",
    "live-restore",
    "userland-proxy",
    "no-new-privileges",
    "tls",
    "tlsverify",
    "selinux-enabled",
    "experimental",
    "ipv6",
    "raw-logs",
    "init",
    "validate",
];

/// Repeatable flags and the daemon.json list option each fills.
const LIST_FLAGS: &[(&str, &str)] = &[
    ("host", "hosts"),
    ("insecure-registry", "insecure-registries"),
    ("authorization-plugin", "authorization-plugins"),
    ("storage-opt", "storage-opts"),
    ("registry-mirror", "registry-mirrors"),
    ("dns", "dns"),
    ("exec-opt", "exec-opts"),
    ("label", "labels"),
];

/// Repeatable `name=value` flags and the daemon.json map option each fills.
const MAP_FLAGS: &[(&str, &str)] = &[
    ("log-opt", "log-opts"),
    ("default-ulimit", "default-ulimits"),
];

/// Short flags and their long names.
const SHORT_FLAGS: &[(&str, &str)] = &[
    ("H", "host"),
    ("D", "debug"),
    ("l", "log-level"),
    ("G", "group"),
    ("g", "data-root"),
    ("p", "pidfile"),
];

/// Parses a dockerd command line into daemon.json option names and values.
pub fn parse_dockerd_flags(args: &[String]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut iter = args.iter().skip(1).peekable();
    while let Some(arg) = iter.next() {
        let Some(stripped) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            continue;
        };
        let (name, inline) = match stripped.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (stripped, None),
        };
        let name = SHORT_FLAGS
            .iter()
            .find(|(s, _)| *s == name)
            .map(|(_, l)| *l)
            .unwrap_or(name);
        if name == "config-file" {
            if inline.is_none() {
                iter.next();
            }
            continue;
        }
        if BOOL_FLAGS.contains(&name) {
            // dockerd reads `--flag=VALUE` with Go's strconv.ParseBool; a value it refuses is
            // kept as text, which `dockerBool()` in a rule turns into an error.
            let value = match inline {
                None => Value::Bool(true),
                Some(v) => crate::rules::docker::parse_bool(&v)
                    .map(Value::Bool)
                    .unwrap_or(Value::String(v)),
            };
            out.push((name.to_string(), value));
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => match iter.peek() {
                Some(next) if !next.starts_with('-') => iter.next().cloned().unwrap_or_default(),
                _ => String::new(),
            },
        };
        if let Some((_, key)) = LIST_FLAGS.iter().find(|(f, _)| *f == name) {
            out.push((key.to_string(), json!([value])));
        } else if let Some((_, key)) = MAP_FLAGS.iter().find(|(f, _)| *f == name) {
            let (k, v) = value.split_once('=').unwrap_or((value.as_str(), ""));
            out.push((key.to_string(), json!({ k: v })));
        } else {
            out.push((name.to_string(), Value::String(value)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn flags_map_to_daemon_json_names() {
        let parsed = parse_dockerd_flags(&args(
            "/usr/bin/dockerd -H fd:// --host=tcp://0.0.0.0:2376 --icc=false --tlsverify --log-level debug \
             --insecure-registry a.example --default-ulimit nofile=100:200 --config-file /etc/d.json -D",
        ));
        assert_eq!(
            parsed,
            vec![
                ("hosts".into(), json!(["fd://"])),
                ("hosts".into(), json!(["tcp://0.0.0.0:2376"])),
                ("icc".into(), json!(false)),
                ("tlsverify".into(), json!(true)),
                ("log-level".into(), json!("debug")),
                ("insecure-registries".into(), json!(["a.example"])),
                ("default-ulimits".into(), json!({"nofile": "100:200"})),
                ("debug".into(), json!(true)),
            ]
        );
    }

    #[test]
    fn a_bool_flag_never_swallows_the_next_argument() {
        let parsed = parse_dockerd_flags(&args("dockerd --live-restore --userland-proxy=false"));
        assert_eq!(
            parsed,
            vec![
                ("live-restore".into(), json!(true)),
                ("userland-proxy".into(), json!(false))
            ]
        );
    }

    #[test]
    fn bool_flags_are_read_as_go_parse_bool() {
        let parsed = parse_dockerd_flags(&args(
            "dockerd --iptables=False --icc=F --no-new-privileges=TRUE --live-restore=1 --userland-proxy=maybe",
        ));
        assert_eq!(
            parsed,
            vec![
                ("iptables".into(), json!(false)),
                ("icc".into(), json!(false)),
                ("no-new-privileges".into(), json!(true)),
                ("live-restore".into(), json!(true)),
                ("userland-proxy".into(), json!("maybe")),
            ]
        );
    }

    #[test]
    fn socket_activation_listeners_replace_fd() {
        let settings = |hosts: Value| {
            let mut m = Map::new();
            m.insert("hosts".into(), hosts);
            m
        };
        let streams: Vec<String> = ["/run/docker.sock", "2375", "0.0.0.0:2376", "[::]:2377"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            listeners(
                &settings(json!(["fd://", "tcp://127.0.0.1:2380"])),
                Some(&streams)
            ),
            Some(vec![
                "unix:///run/docker.sock".to_string(),
                "tcp://0.0.0.0:2375".to_string(),
                "tcp://0.0.0.0:2376".to_string(),
                "tcp://[::]:2377".to_string(),
                "tcp://127.0.0.1:2380".to_string(),
            ])
        );
        assert_eq!(listeners(&settings(json!(["fd://"])), None), None);
        assert_eq!(
            listeners(&Map::new(), None),
            Some(vec!["unix:///var/run/docker.sock".to_string()])
        );
    }
}
