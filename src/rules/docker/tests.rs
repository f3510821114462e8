use serde_json::json;

use super::audit::{self, Verdict};
use super::*;

#[test]
fn booleans_are_read_as_go_parse_bool() {
    for s in ["1", "t", "T", "TRUE", "true", "True"] {
        assert_eq!(parse_bool(s), Some(true), "{s}");
    }
    for s in ["0", "f", "F", "FALSE", "false", "False"] {
        assert_eq!(parse_bool(s), Some(false), "{s}");
    }
    for s in ["yes", "no", "tRUE", "", "on", " true"] {
        assert_eq!(parse_bool(s), None, "{s}");
    }
    assert_eq!(docker_bool(&json!(false)), Ok(false));
    assert_eq!(docker_bool(&json!(true)), Ok(true));
    // Strings in the settings are values dockerd refuses: unparsable flags, or daemon.json
    // strings where it wants a JSON boolean.
    assert!(docker_bool(&json!("maybe"))
        .unwrap_err()
        .contains("ParseBool"));
    assert!(docker_bool(&json!("false"))
        .unwrap_err()
        .contains("JSON boolean"));
    assert!(docker_bool(&json!(1)).is_err());
}

#[test]
fn explicit_no_new_privileges_overrides_the_daemon_default() {
    let nnp = |opts: serde_json::Value, d: bool| no_new_privileges(&opts, &json!(d));
    assert_eq!(nnp(json!(["no-new-privileges=FALSE"]), true), Ok(false));
    assert_eq!(nnp(json!(["no-new-privileges:false"]), true), Ok(false));
    assert_eq!(nnp(json!(["no-new-privileges=True"]), false), Ok(true));
    assert_eq!(nnp(json!(["no-new-privileges=1"]), false), Ok(true));
    assert_eq!(nnp(json!(["no-new-privileges"]), false), Ok(true));
    assert_eq!(nnp(json!(["no-new-privileges:true"]), false), Ok(true));
    assert_eq!(nnp(json!(["label=disable"]), true), Ok(true));
    assert_eq!(nnp(json!(null), false), Ok(false));
    // The last explicit entry wins.
    assert_eq!(
        nnp(json!(["no-new-privileges", "no-new-privileges=f"]), true),
        Ok(false)
    );
    assert!(nnp(json!(["no-new-privileges=yes"]), true).is_err());
    assert!(no_new_privileges(&json!([]), &json!("maybe")).is_err());
    assert!(no_new_privileges(&json!([]), &json!("TRUE")).is_err());
}

#[test]
fn seccomp_is_judged_by_what_the_profile_does() {
    let info =
        |opts: &[&str], version: &str| json!({"SecurityOptions": opts, "ServerVersion": version});
    let default = info(&["name=seccomp,profile=default"], "20.10.24");
    let state = |opts: serde_json::Value, privileged: bool, info: &serde_json::Value| {
        seccomp_state(&opts, &json!(privileged), info)
    };
    let confined = |r: Result<String, String>| r.unwrap().starts_with("confined");
    assert!(confined(state(json!([]), false, &default)));
    let newer = info(&["name=seccomp,profile=builtin", "name=cgroupns"], "27.3.1");
    assert!(confined(state(json!(null), false, &newer)));
    assert!(!confined(state(json!([]), true, &default)));
    assert!(!confined(state(
        json!(["seccomp=unconfined"]),
        false,
        &default
    )));
    assert!(!confined(state(
        json!(["seccomp:unconfined"]),
        false,
        &default
    )));
    let newer_unconfined = info(&["name=seccomp,profile=unconfined"], "25.0.0");
    assert!(confined(state(
        json!(["seccomp=builtin"]),
        false,
        &newer_unconfined
    )));
    // Engine 20.10 reads `builtin` as a profile and refuses to start the container.
    let e = state(json!(["seccomp=builtin"]), false, &default).unwrap_err();
    assert!(e.contains("20.10.24"), "{e}");
    assert!(state(json!(["seccomp=default"]), false, &default).is_err());
    assert!(!confined(state(json!([]), false, &newer_unconfined)));
    assert!(!confined(state(
        json!([]),
        false,
        &info(&["name=apparmor"], "20.10.24")
    )));
    let allow = r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}"#;
    let r = state(json!([allow]), false, &default).unwrap();
    assert!(
        r.starts_with("unconfined") && r.contains("SCMP_ACT_ALLOW"),
        "{r}"
    );
    assert!(!confined(state(
        json!([r#"seccomp={"defaultAction": "SCMP_ACT_LOG"}"#]),
        false,
        &default
    )));
    assert!(confined(state(
        json!([r#"seccomp={"defaultAction":"SCMP_ACT_ERRNO"}"#]),
        false,
        &default
    )));
    assert!(state(json!(["seccomp={not json"]), false, &default).is_err());
    assert!(state(json!([r#"seccomp={"syscalls":[]}"#]), false, &default).is_err());
    let custom = info(&["name=seccomp,profile=/etc/docker/sec.json"], "20.10.24");
    assert!(state(json!([]), false, &custom).is_err());
    assert!(state(json!([]), false, &json!({"ServerVersion": "27.0.1"})).is_err());
    assert!(seccomp_state(&json!([]), &json!("yes"), &default).is_err());
}

#[test]
fn root_is_uid_zero_in_every_spelling() {
    for u in [
        "",
        "0",
        "00",
        "0:0",
        "root",
        "root:root",
        "0:1000",
        "000:users",
    ] {
        assert_eq!(is_root_user(u), Ok(true), "{u}");
    }
    for u in ["1000", "1000:1000", "65534:0", "10"] {
        assert_eq!(is_root_user(u), Ok(false), "{u}");
    }
    for u in ["app", "nobody:nogroup", "ROOT"] {
        let e = is_root_user(u).unwrap_err();
        assert!(e.contains("/etc/passwd"), "{e}");
    }
}

#[test]
fn capabilities_are_counted_against_dockers_default_set() {
    let caps = |a: serde_json::Value, d: serde_json::Value| caps_beyond_default(&a, &d);
    assert_eq!(
        caps(json!(["ALL"]), json!([])).unwrap().len(),
        ALL_CAPS.len() - 14
    );
    assert_eq!(
        caps(json!(["NET_BIND_SERVICE"]), json!(["ALL"])),
        Ok(vec![])
    );
    assert_eq!(caps(json!(["chown"]), json!(null)), Ok(vec![]));
    assert_eq!(caps(json!(["CAP_CHOWN"]), json!([])), Ok(vec![]));
    assert_eq!(
        caps(json!(["sys_admin", "CAP_NET_ADMIN"]), json!(["all"])),
        Ok(vec![
            "CAP_NET_ADMIN".to_string(),
            "CAP_SYS_ADMIN".to_string()
        ])
    );
    assert!(!caps(json!(["ALL"]), json!(["SYS_ADMIN"]))
        .unwrap()
        .contains(&"CAP_SYS_ADMIN".to_string()));
    assert!(caps(json!(["CAP_FLY"]), json!([])).is_err());
    assert_eq!(
        effective_caps(&json!(null), &json!(null)).unwrap().len(),
        14
    );
    assert_eq!(
        effective_caps(&json!(["NET_BIND_SERVICE"]), &json!(["ALL"])),
        Ok(vec!["CAP_NET_BIND_SERVICE".to_string()])
    );
    assert!(!effective_caps(&json!([]), &json!(["net_raw"]))
        .unwrap()
        .contains(&"CAP_NET_RAW".to_string()));
}

#[test]
fn base_layers_of_every_builder_are_not_add_steps() {
    let h = |steps: &[&str]| {
        json!(steps
            .iter()
            .map(|s| json!({"CreatedBy": s}))
            .collect::<Vec<_>>())
    };
    for base in [
        "/bin/sh -c #(nop) ADD file:4a1b2c3d in / ",
        "ADD file:9f86d081884c7d65 in / ",
        "ADD alpine-minirootfs-3.21.3-x86_64.tar.gz / # buildkit",
        "ADD rootfs.tar.xz / # buildkit",
        "ADD --chown=0:0 rootfs.tar.gz /",
    ] {
        assert_eq!(add_steps(&h(&["CMD [\"sh\"]", base])), Ok(vec![]), "{base}");
    }
    let later = "ADD https://example.com/app.tgz /opt/ # buildkit";
    assert_eq!(
        add_steps(&h(&[later, "ADD rootfs.tar.xz / # buildkit"])),
        Ok(vec![later.to_string()])
    );
    // A root-filesystem ADD that is not the oldest step is an ADD like any other.
    let mid = "/bin/sh -c #(nop) ADD file:abc in / ";
    assert_eq!(add_steps(&h(&[mid, "COPY a b"])), Ok(vec![mid.to_string()]));
    assert_eq!(add_steps(&h(&["RUN echo ADD x /"])), Ok(vec![]));
    assert!(add_steps(&json!([42])).is_err());
    assert!(add_steps(&json!([{"CreatedBy": 7}])).is_err());
}

fn rules(lines: &[&str], running: Option<bool>) -> serde_json::Value {
    let mut v = json!({"source": "test", "rules": lines});
    if let Some(r) = running {
        v["auditd_running"] = json!(r);
    }
    v
}

#[test]
fn audit_rules_apply_in_order_and_first_match_wins() {
    let p = "/usr/sbin/dockerd";
    let v = |lines: &[&str]| audit::verdict(&rules(lines, Some(true)), p).unwrap();
    assert!(matches!(
        v(&["-w /usr/sbin/dockerd -k docker"]),
        Verdict::Watched(_)
    ));
    assert!(matches!(v(&["-w /usr/sbin -p wa"]), Verdict::Watched(_)));
    assert!(matches!(
        v(&["-a always,exit -F path=/usr/sbin/dockerd -F perm=wa -k d"]),
        Verdict::Watched(_)
    ));
    assert!(matches!(
        v(&["-a exit,always -F dir=/usr/sbin -F perm=w"]),
        Verdict::Watched(_)
    ));
    assert!(matches!(
        v(&[
            "-a never,exit -F dir=/usr/sbin",
            "-w /usr/sbin/dockerd -k docker"
        ]),
        Verdict::Excluded(_)
    ));
    // -A puts the exclusion in front of a watch written before it.
    assert!(matches!(
        v(&[
            "-w /usr/sbin/dockerd -k docker",
            "-A exit,never -F path=/usr/sbin/dockerd"
        ]),
        Verdict::Excluded(_)
    ));
    // An exclusion after the watch comes too late.
    assert!(matches!(
        v(&[
            "-w /usr/sbin/dockerd -k docker",
            "-a never,exit -F dir=/usr/sbin"
        ]),
        Verdict::Watched(_)
    ));
    assert_eq!(v(&["-w /usr/sbin/dockerd -p x -k docker"]), Verdict::NoRule);
    assert_eq!(v(&["-w /usr/sbin/dockerd -p r"]), Verdict::NoRule);
    assert_eq!(
        v(&["-a always,exit -F path=/usr/sbin/dockerd -F perm=rx"]),
        Verdict::NoRule
    );
    assert_eq!(v(&["-w /usr/sbin/dockerd.bak -p wa"]), Verdict::NoRule);
    assert_eq!(
        v(&["-a always,exit -F path=/usr/sbin -F perm=wa"]),
        Verdict::NoRule
    );
    assert!(matches!(
        v(&["-w /usr/sbin/dockerd", "-e 0"]),
        Verdict::Disabled(_)
    ));
    assert!(matches!(
        v(&["-e 0", "-w /usr/sbin/dockerd", "-e 1"]),
        Verdict::Watched(_)
    ));
    assert!(matches!(
        v(&["-a task,never", "-w /usr/sbin/dockerd"]),
        Verdict::Disabled(_)
    ));
    assert!(matches!(
        v(&["-a never,exit", "-w /usr/sbin/dockerd"]),
        Verdict::Excluded(_)
    ));
    assert!(matches!(
        v(&["-a never,exit -F auid=4294967295", "-w /usr/sbin/dockerd"]),
        Verdict::Watched(_)
    ));
    assert!(matches!(
        v(&[
            "-a never,exit -F dir=/usr/sbin",
            "-D",
            "-w /usr/sbin/dockerd"
        ]),
        Verdict::Watched(_)
    ));
    assert!(matches!(
        v(&[
            "-a always,exclude -F msgtype=SYSCALL",
            "-w /usr/sbin/dockerd"
        ]),
        Verdict::Disabled(_)
    ));
}

#[test]
fn a_long_hostile_rule_list_is_judged_on_its_last_line() {
    let mut lines: Vec<String> = (0..200_000)
        .map(|i| format!("-A exit,always -F path=/x/{i} -F perm=r"))
        .collect();
    lines.push("-w /etc/docker -k docker".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    // 200,000 unrelated rules before the watch: the verdict still comes from the last line.
    // How long this takes is a benchmark's business, not a test's (a loaded machine is slow).
    let v = audit::verdict(&rules(&refs, Some(true)), "/etc/docker").unwrap();
    assert!(matches!(v, Verdict::Watched(_)));
}

#[test]
fn a_watch_counts_only_while_auditd_runs() {
    let lines = ["-w /etc/docker -k docker"];
    assert_eq!(
        audit::watched(&rules(&lines, Some(true)), "/etc/docker"),
        Ok(true)
    );
    assert_eq!(
        audit::watched(&rules(&lines, Some(false)), "/etc/docker"),
        Ok(false)
    );
    let e = audit::watched(&rules(&lines, None), "/etc/docker").unwrap_err();
    assert!(e.contains("auditd"), "{e}");
    assert_eq!(audit::watched(&rules(&[], None), "/etc/docker"), Ok(false));
}

/// `seccompState` called from a rule gives what the function gives on the same JSON, whatever
/// the shape of `info` (it reads only `SecurityOptions` from a map), errors included.
#[test]
fn seccomp_state_in_a_rule_reads_the_same_as_the_function() {
    let engine = crate::rules::Engine::new();
    let expr = engine
        .compile("seccompState(resource.opts, resource.privileged, resource.info)")
        .unwrap();
    let ctx = engine.context(&[]);
    let info =
        |opts: &[&str], version: &str| json!({"SecurityOptions": opts, "ServerVersion": version});
    let cases = [
        (
            json!(null),
            json!(false),
            info(&["name=seccomp,profile=default"], "20.10.24"),
        ),
        (
            json!(["seccomp=unconfined"]),
            json!(false),
            info(&["name=seccomp"], "27.3.1"),
        ),
        (
            json!([]),
            json!(true),
            info(&["name=seccomp,profile=default"], "20.10.24"),
        ),
        (
            json!([]),
            json!(false),
            info(&["name=apparmor"], "20.10.24"),
        ),
        (
            json!([]),
            json!(false),
            json!({"Plugins": {"Volume": ["local"]}}),
        ),
        (
            json!([]),
            json!(false),
            json!({"SecurityOptions": "name=seccomp"}),
        ),
        (json!([]), json!(false), json!(null)),
        (json!([]), json!("yes"), info(&["name=seccomp"], "20.10.24")),
        (
            json!(["seccomp=builtin"]),
            json!(false),
            info(&["name=seccomp"], "20.10.24"),
        ),
    ];
    for (opts, privileged, info) in cases {
        let resource = json!({"opts": opts, "privileged": privileged, "info": info});
        let scope = crate::rules::bind(&ctx, &crate::rules::from_json(&resource));
        let direct = seccomp_state(&opts, &privileged, &info);
        match (expr.eval(&scope), direct) {
            (Ok(Value::String(got)), Ok(want)) => assert_eq!(*got, want, "{resource}"),
            (Err(got), Err(want)) => assert!(got.to_string().contains(&want), "{got} / {want}"),
            (got, want) => panic!("{resource}: rule {got:?}, function {want:?}"),
        }
    }
}
