//! Rule evaluator: arbitrary text as a CEL expression, compiled and evaluated against one fixed
//! container document with the same variables a check sees. Compiling and evaluating must end
//! in a value or a `RuleError`.

#![no_main]

use std::sync::OnceLock;

use dockproof::rules::{self, Engine};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn resource() -> &'static Value {
    static RESOURCE: OnceLock<Value> = OnceLock::new();
    RESOURCE.get_or_init(|| {
        json!({
            "Id": "4f2c9e",
            "Name": "/web",
            "Config": {"Image": "nginx:1.27", "User": "", "Env": ["PATH=<redacted>"],
                       "Labels": {"owner": "team-a"}},
            "HostConfig": {"Privileged": false, "CapAdd": ["NET_ADMIN"], "Memory": 0,
                           "PidsLimit": null, "ReadonlyRootfs": false,
                           "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
            "Mounts": [{"Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock",
                        "RW": true}],
            "mode": 420,
            "ratio": 0.5
        })
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let engine = Engine::new();
    let Ok(expr) = engine.compile(source) else {
        return;
    };
    let params = json!({"allowed_capabilities": ["NET_BIND_SERVICE"], "max": 0, "paths": ["/etc"]});
    let ctx = engine.context(&[
        ("params", rules::from_json(&params)),
        ("host", rules::from_json(&json!({"mounts": ["/"]}))),
        ("daemon", rules::from_json(&json!({}))),
    ]);
    let scope = rules::bind(&ctx, &rules::from_json(resource()));
    let _ = expr.eval_bool(&scope);
    if let Ok(value) = expr.eval(&scope) {
        let _ = rules::to_json(&value);
    }
});
