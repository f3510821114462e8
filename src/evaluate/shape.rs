//! Collections of the wrong kind in engine documents.
//!
//! A rule reads `HostConfig.SecurityOpt` as a list and `NetworkSettings.Ports` as a map. CEL's
//! macros run on lists and maps alike, and `size()` runs on strings too, so a damaged or forged
//! snapshot with `SecurityOpt: {}` would let `!SecurityOpt.exists(…unconfined…)` pass. Scalars
//! of the wrong type need no help here: CEL finds no overload and the rule ends in `error`.
//! This module names the collection fields whose kind is wrong; evaluation turns every verdict of
//! a check that reads one into an `error` naming the field.

use serde_json::Value;

use crate::assessment::ResourceKind;
use crate::catalog::Check;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    List,
    Map,
}

/// Collection fields the catalogs read, by JSON pointer, with the kind the Engine API gives
/// them (or `null`).
const CONTAINER: &[(&str, Kind)] = &[
    ("/Mounts", Kind::List),
    ("/Config/Env", Kind::List),
    ("/Config/Labels", Kind::Map),
    ("/Config/ExposedPorts", Kind::Map),
    ("/HostConfig/CapAdd", Kind::List),
    ("/HostConfig/CapDrop", Kind::List),
    ("/HostConfig/SecurityOpt", Kind::List),
    ("/HostConfig/Devices", Kind::List),
    ("/HostConfig/Binds", Kind::List),
    ("/HostConfig/Ulimits", Kind::List),
    ("/HostConfig/PortBindings", Kind::Map),
    ("/HostConfig/RestartPolicy", Kind::Map),
    ("/NetworkSettings/Ports", Kind::Map),
    ("/NetworkSettings/Networks", Kind::Map),
    ("/State", Kind::Map),
];

const IMAGE: &[(&str, Kind)] = &[
    ("/RepoTags", Kind::List),
    ("/RepoDigests", Kind::List),
    ("/Config/Env", Kind::List),
    ("/Config/Labels", Kind::Map),
    ("/History", Kind::List),
];

/// A field whose kind is wrong: its dotted path (`HostConfig.SecurityOpt`) and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Misshapen {
    pub path: String,
    pub expected: &'static str,
    pub found: &'static str,
}

impl Misshapen {
    /// Whether `check` reads this field: its rule or applicability condition names the field.
    pub(super) fn read_by(&self, check: &Check) -> bool {
        let name = self.path.rsplit('.').next().unwrap_or(&self.path);
        [check.def.rule.as_deref(), check.def.applies_if.as_deref()]
            .into_iter()
            .flatten()
            .any(|expr| mentions(expr, name))
    }

    pub(super) fn message(&self) -> String {
        format!(
            "`{}` in the snapshot is {}, not {}: no verdict is drawn from it",
            self.path, self.found, self.expected
        )
    }
}

/// Whether `expr` names the field `name` as a whole identifier.
fn mentions(expr: &str, name: &str) -> bool {
    expr.match_indices(name).any(|(i, _)| {
        let before = expr[..i].chars().next_back();
        let after = expr[i + name.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// The collection fields of one engine document whose kind is wrong.
pub(super) fn misshapen(kind: ResourceKind, doc: &Value) -> Vec<Misshapen> {
    let table = match kind {
        ResourceKind::Container => CONTAINER,
        ResourceKind::Image => IMAGE,
        _ => return Vec::new(),
    };
    table
        .iter()
        .filter_map(|(pointer, want)| {
            let v = doc.pointer(pointer)?;
            let ok = matches!(
                (want, v),
                (_, Value::Null) | (Kind::List, Value::Array(_)) | (Kind::Map, Value::Object(_))
            );
            (!ok).then(|| Misshapen {
                path: pointer.trim_start_matches('/').replace('/', "."),
                expected: if *want == Kind::List {
                    "a list"
                } else {
                    "a map"
                },
                found: kind_name(v),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_collections_of_the_wrong_kind_only() {
        let doc = json!({
            "Mounts": {},
            "Config": {"Env": null, "Labels": []},
            "HostConfig": {"SecurityOpt": "seccomp=unconfined", "CapAdd": ["NET_ADMIN"], "Privileged": "yes"},
        });
        let found: Vec<(String, &str)> = misshapen(ResourceKind::Container, &doc)
            .into_iter()
            .map(|m| (m.path, m.found))
            .collect();
        assert_eq!(
            found,
            vec![
                ("Mounts".to_string(), "a map"),
                ("Config.Labels".to_string(), "a list"),
                ("HostConfig.SecurityOpt".to_string(), "a string"),
            ]
        );
        assert!(misshapen(ResourceKind::Network, &doc).is_empty());
    }

    #[test]
    fn a_field_is_read_when_an_expression_names_it_whole() {
        assert!(mentions(
            "resource.HostConfig.?SecurityOpt.orValue([])",
            "SecurityOpt"
        ));
        assert!(mentions("size(resource.Mounts) > 0", "Mounts"));
        assert!(!mentions(
            "resource.HostConfig.SecurityOptions",
            "SecurityOpt"
        ));
        assert!(!mentions("resource.XMounts", "Mounts"));
    }
}
