//! Differential tests: containers created on the real engine with each spelling of an option,
//! what the kernel actually applied to their process (`/proc/<pid>/status`), and dockproof's
//! verdict on the same containers. A verdict that disagrees with what Docker did is a failure.

mod common;

use std::collections::BTreeMap;

use common::*;

/// Docker's 14 default capabilities as a CapEff bit mask (bits by capability number).
const DEFAULT_CAPS_MASK: u64 = (1 << 0)  // CHOWN
    | (1 << 1)  // DAC_OVERRIDE
    | (1 << 3)  // FOWNER
    | (1 << 4)  // FSETID
    | (1 << 5)  // KILL
    | (1 << 6)  // SETGID
    | (1 << 7)  // SETUID
    | (1 << 8)  // SETPCAP
    | (1 << 10) // NET_BIND_SERVICE
    | (1 << 13) // NET_RAW
    | (1 << 18) // SYS_CHROOT
    | (1 << 27) // MKNOD
    | (1 << 29) // AUDIT_WRITE
    | (1 << 31); // SETFCAP

/// The `/proc/<pid>/status` fields of a running container's main process.
fn status_of(name: &str) -> BTreeMap<String, String> {
    let pid = docker_ok(&["inspect", "-f", "{{.State.Pid}}", name]);
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("status of {name} (pid {pid}): {e}"));
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn docker_refuses(args: &[&str]) -> bool {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    !out.status.success()
}

#[test]
fn option_spellings_get_the_verdict_of_what_the_engine_applied() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let daemon_nnp = docker_ok(&["info", "-f", "{{json .SecurityOptions}}"]);
    let mut c = Containers::new("semantics");

    // no-new-privileges in every spelling dockerd accepts.
    let nnp_spellings = [
        "no-new-privileges",
        "no-new-privileges=true",
        "no-new-privileges:true",
        "no-new-privileges=1",
        "no-new-privileges=True",
        "no-new-privileges=T",
        "no-new-privileges=FALSE",
        "no-new-privileges=f",
        "no-new-privileges:false",
    ];
    let mut nnp = Vec::new();
    for (i, s) in nnp_spellings.iter().enumerate() {
        nnp.push((*s, c.run(&format!("nnp{i}"), &["--security-opt", s], true)));
    }
    // Capabilities.
    let cap_cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "drop-all-add-bind",
            vec!["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"],
        ),
        ("add-default-chown", vec!["--cap-add", "CHOWN"]),
        ("add-lowercase-default", vec!["--cap-add", "cap_kill"]),
        ("add-net-admin", vec!["--cap-add", "cap_net_admin"]),
        (
            "drop-all-add-admin",
            vec!["--cap-drop", "all", "--cap-add", "SYS_ADMIN"],
        ),
        ("none", vec![]),
    ];
    let mut caps = Vec::new();
    for (short, flags) in &cap_cases {
        caps.push((*short, c.run(short, flags, true)));
    }
    // Users.
    let user_cases = ["00", "0:1000", "root", "root:0", "1000", "1000:0"];
    let mut users = Vec::new();
    for (i, u) in user_cases.iter().enumerate() {
        users.push((*u, c.run(&format!("user{i}"), &["--user", u], true)));
    }
    let named = c.run("named", &["--user", "app"], true);
    // Seccomp by default action.
    let dir = tempfile::tempdir().expect("temp dir");
    let allow = dir.path().join("allow.json");
    std::fs::write(
        &allow,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .expect("write profile");
    let deny = dir.path().join("deny.json");
    std::fs::write(
        &deny,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .expect("write profile");
    let seccomp_allow = c.run(
        "seccomp-allow",
        &["--security-opt", &format!("seccomp={}", allow.display())],
        true,
    );
    // Too strict for the runtime to start a process under: created only.
    let seccomp_deny = c.run(
        "seccomp-deny",
        &["--security-opt", &format!("seccomp={}", deny.display())],
        false,
    );
    let seccomp_off = c.run(
        "seccomp-off",
        &["--security-opt", "seccomp:unconfined"],
        true,
    );
    // `builtin` is Docker's profile on Engine 23+; 20.10 reads it as a profile and cannot start.
    let seccomp_builtin = c.run(
        "seccomp-builtin",
        &["--security-opt", "seccomp=builtin"],
        false,
    );
    let builtin_starts = !docker_refuses(&["start", &seccomp_builtin]);
    let major: u32 = docker_ok(&["version", "-f", "{{.Server.Version}}"])
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .expect("engine version");
    assert_eq!(
        builtin_starts,
        major >= 23,
        "seccomp=builtin on Engine {major}"
    );
    // CPU weight and device cgroup rules.
    let shares_default = c.run("shares1024", &["--cpu-shares", "1024"], true);
    let shares_set = c.run("shares512", &["--cpu-shares", "512"], true);
    let cgroup_rule = c.run("cgrouprule", &["--device-cgroup-rule", "c 1:3 mr"], true);

    // Spellings Docker refuses are refused here too (dockproof calls them errors).
    for bad in [
        vec!["--security-opt", "no-new-privileges=yes"],
        vec!["--cap-add", "CAP_FLY"],
    ] {
        let mut args = vec!["create", "--label", LABEL];
        args.extend(bad.iter().copied());
        args.push(IMAGE);
        assert!(docker_refuses(&args), "docker accepted {bad:?}");
    }

    let scan = run_to_bundle(&["scan", "--include-stopped", "--format", "json"]);
    assert!(scan.output.status.success(), "{}", stderr(&scan.output));

    let default_on = false;
    assert!(!daemon_nnp.contains("no-new-privileges"), "{daemon_nnp}");
    for (spelling, name) in &nnp {
        let applied = status_of(name)["NoNewPrivs"] == "1";
        let verdict = scan.verdict("container.no-new-privileges", name);
        let expected = if applied || default_on {
            "pass"
        } else {
            "fail"
        };
        assert_eq!(
            verdict.as_deref(),
            Some(expected),
            "{spelling}: kernel NoNewPrivs={applied}"
        );
    }
    for (short, name) in &caps {
        let eff = u64::from_str_radix(&status_of(name)["CapEff"], 16).expect("CapEff is hex");
        let beyond = eff & !DEFAULT_CAPS_MASK != 0;
        let verdict = scan.verdict("container.capabilities-added", name);
        let expected = if beyond { "fail" } else { "pass" };
        assert_eq!(
            verdict.as_deref(),
            Some(expected),
            "{short}: CapEff={eff:x}"
        );
    }
    for (user, name) in &users {
        let uid = status_of(name)["Uid"]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let verdict = scan.verdict("container.root-user", name);
        let expected = if uid == "0" { "fail" } else { "pass" };
        assert_eq!(
            verdict.as_deref(),
            Some(expected),
            "--user {user}: uid {uid}"
        );
    }
    // A named user is resolved inside the image; dockproof does not guess.
    assert_eq!(
        status_of(&named)["Uid"].split_whitespace().next(),
        Some("1000")
    );
    assert_eq!(
        scan.verdict("container.root-user", &named).as_deref(),
        Some("error")
    );

    // The allow-by-default profile is installed as a filter, yet confines nothing.
    assert_eq!(status_of(&seccomp_allow)["Seccomp"], "2");
    assert_eq!(
        scan.verdict("container.seccomp", &seccomp_allow).as_deref(),
        Some("fail")
    );
    assert_eq!(
        scan.verdict("container.seccomp", &seccomp_deny).as_deref(),
        Some("pass")
    );
    assert_eq!(status_of(&seccomp_off)["Seccomp"], "0");
    assert_eq!(
        scan.verdict("container.seccomp", &seccomp_builtin)
            .as_deref(),
        Some(if builtin_starts { "pass" } else { "error" })
    );
    assert_eq!(
        scan.verdict("container.seccomp", &seccomp_off).as_deref(),
        Some("fail")
    );
    let evidence = scan
        .results()
        .find(|r| {
            r["check_id"] == "container.seccomp" && r["resource"]["name"] == seccomp_allow.as_str()
        })
        .map(|r| r["evidence"].to_string())
        .unwrap_or_default();
    assert!(evidence.contains("SCMP_ACT_ALLOW"), "{evidence}");

    assert_eq!(
        scan.verdict("container.cpu-limit", &shares_default)
            .as_deref(),
        Some("fail")
    );
    assert_eq!(
        scan.verdict("container.cpu-limit", &shares_set).as_deref(),
        Some("pass")
    );
    assert_eq!(
        scan.verdict("container.host-devices", &cgroup_rule)
            .as_deref(),
        Some("fail")
    );
}
