//! Host facts of an `ssh://` engine's host, read through the same ssh connection.
//!
//! The remote host is never mixed with this machine: every fact comes from read-only commands
//! run on it by absolute path, each one ssh session on the scan's master connection:
//!
//! * `/usr/bin/id -u`: the login user (a daemon it owns may be a rootless one);
//! * `/usr/bin/pgrep -x dockerd`: the candidate daemons;
//! * `/usr/bin/stat -L -c '%f %u %g %n' -- PATH...`: type, mode and owner of every path the
//!   readers look at (the candidates' `/proc/PID`, units, sockets, binaries, configuration);
//! * `/bin/cat -- PATH`: the contents of text files (`/proc/PID/cmdline`, `/etc/passwd`,
//!   `/etc/group`, `/etc/environment`, `/proc/1/mountinfo`, unit files, daemon.json, audit
//!   rule files);
//! * `/usr/bin/find DIR -mindepth 1`: the entries of `/etc/docker/certs.d` and
//!   `/etc/audit/rules.d`.
//!
//! The daemon serving the engine is chosen by [`super::identify::choose`] (owner root or the
//! login user, data root equal to `/info` `DockerRootDir`). What the commands return is staged
//! in a private temporary directory laid out like the remote root, so the same readers as for a
//! local host (`files`, `audit`, `accounts`, `daemon`) interpret it; file types, modes and owners
//! are then taken from the remote `stat`, not from the staged copies. A path the login user may
//! not read (a root-only daemon.json, audit rules) becomes a gap with the remote error; the audit
//! rules are read from the rule files, since `auditctl -l` needs root. A path a reader looks
//! up that was never asked for (a reader newer than the lists here) is an error, not "missing"
//! ([`host::HostRoot::staged`]): extend the lists when a reader starts reading a new path.

use serde_json::Value;

use crate::snapshot::{Gap, HostFacts};

use super::identify::{self, Candidate, Served};
use super::ssh::SshSession;
use super::ssh_stage::{is_dir, overlay_stats, stage, Remote, RemoteStat};
use super::{daemon, gap, host};

const CAT: &str = "/bin/cat";
const STAT: &str = "/usr/bin/stat";
const FIND: &str = "/usr/bin/find";
const PGREP: &str = "/usr/bin/pgrep";
const ID: &str = "/usr/bin/id";

/// Text files whose contents the readers need, besides the daemon's own configuration.
const TEXT_FILES: [&str; 4] = [
    "/etc/passwd",
    "/etc/group",
    "/etc/environment",
    "/proc/1/mountinfo",
];
/// The paths `files` and `audit` look at whatever the daemon's configuration says; kept in step
/// with the module documentation of `files`.
const UNIT_DIRS: [&str; 3] = [
    "/etc/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];
const FIXED_PATHS: [&str; 9] = [
    "/etc/docker",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/etc/default/docker",
    "/etc/sysconfig/docker",
    "/etc/containerd/config.toml",
    "/etc/docker/certs.d",
    "/etc/audit/audit.rules",
    "/etc/audit/rules.d",
];
const BIN_DIRS: [&str; 5] = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"];
const PROGRAMS: [&str; 6] = [
    "dockerd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v1",
    "containerd-shim-runc-v2",
    "runc",
];

/// Reads the host facts of the ssh engine's host. Never fails: what cannot be read is a gap.
pub(crate) fn collect_remote(
    session: &SshSession,
    docker_root_dir: Option<&str>,
) -> (HostFacts, Vec<Gap>) {
    let mut gaps = Vec::new();
    let tree = match tempfile::Builder::new()
        .prefix("dockproof-remote-")
        .tempdir()
    {
        Ok(t) => t,
        Err(e) => {
            return (
                HostFacts::default(),
                vec![gap(
                    "host",
                    format!("cannot stage the remote host's files: {e}"),
                )],
            )
        }
    };
    // Rounds of commands that do not depend on each other run side by side (each round waits
    // for the one before, whose answers name the next paths).
    let mut remote = Remote::default();
    let served = identify_remote(session, &mut remote, docker_root_dir, &mut gaps);
    let mut paths: Vec<String> = Vec::new();
    for dir in UNIT_DIRS {
        for unit in ["docker.service", "docker.socket"] {
            paths.push(format!("{dir}/{unit}"));
            // Drop-in directories: systemd merges their `*.conf` files into the unit.
            paths.push(format!("{dir}/{unit}.d"));
        }
    }
    paths.extend(FIXED_PATHS.iter().map(|p| p.to_string()));
    for dir in BIN_DIRS {
        paths.extend(PROGRAMS.iter().map(|p| format!("{dir}/{p}")));
    }
    if let Ok(served) = &served {
        paths.push(served.config_path.clone());
        let config = remote
            .texts
            .get(&served.config_path)
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        paths.extend(configured_paths(&served.args, config.as_ref()));
    }
    stat_all(session, &mut remote, &paths, &mut gaps);

    let mut texts: Vec<String> = UNIT_DIRS
        .iter()
        .flat_map(|d| [format!("{d}/docker.socket"), format!("{d}/docker.service")])
        .filter(|unit| remote.stats.contains_key(unit))
        .collect();
    texts.push("/etc/audit/audit.rules".to_string());
    let dropin_dirs: Vec<String> = UNIT_DIRS
        .iter()
        .flat_map(|d| {
            [
                format!("{d}/docker.socket.d"),
                format!("{d}/docker.service.d"),
            ]
        })
        .collect();
    let dirs: Vec<&str> = ["/etc/docker/certs.d", "/etc/audit/rules.d"]
        .into_iter()
        .chain(dropin_dirs.iter().map(String::as_str))
        .filter(|d| remote.stats.get(*d).is_some_and(|s| is_dir(s.mode)))
        .collect();
    let listings: Vec<_> = std::thread::scope(|scope| {
        let jobs: Vec<_> = dirs
            .iter()
            .map(|dir| scope.spawn(move || (*dir, session.run(&[FIND, dir, "-mindepth", "1"]))))
            .collect();
        fetch_many(session, &mut remote, &texts, &mut gaps);
        jobs.into_iter().filter_map(|j| j.join().ok()).collect()
    });
    let mut entries = Vec::new();
    for (dir, listed) in listings {
        entries.extend(listing(dir, listed, &mut remote, &mut gaps));
    }
    for dir in UNIT_DIRS {
        let unit = format!("{dir}/docker.socket");
        entries.extend(listen_streams(remote.texts.get(&unit).map(String::as_str)));
    }
    let rules: Vec<String> = entries
        .iter()
        .filter(|e| {
            (e.starts_with("/etc/audit/rules.d/") && e.ends_with(".rules"))
                || (dropin_dirs.iter().any(|d| e.starts_with(&format!("{d}/")))
                    && e.ends_with(".conf"))
        })
        .cloned()
        .collect();
    std::thread::scope(|scope| {
        let stat = scope.spawn(|| {
            let mut part = Remote::default();
            let mut part_gaps = Vec::new();
            stat_all(session, &mut part, &entries, &mut part_gaps);
            (part, part_gaps)
        });
        fetch_many(session, &mut remote, &rules, &mut gaps);
        if let Ok((part, part_gaps)) = stat.join() {
            remote.stats.extend(part.stats);
            remote.errors.extend(part.errors);
            remote.asked.extend(part.asked);
            gaps.extend(part_gaps);
        }
    });

    stage(tree.path(), &remote, &mut gaps);
    let root = host::HostRoot::staged(tree.path(), remote.asked.clone());
    let (mut facts, reader_gaps) = host::collect_host(root, &served);
    gaps.extend(reader_gaps.into_iter().map(|mut g| {
        // A staged placeholder stands for a file the login user could not read.
        if let Some(remote_error) = g
            .source
            .strip_prefix("host:")
            .and_then(|p| remote.errors.get(p))
        {
            g.error = remote_error.clone();
        }
        g
    }));
    overlay_stats(tree.path(), &remote, &mut facts, &mut gaps);
    if let Some(audit) = &mut facts.audit_rules {
        audit.source = format!(
            "{} on {} (over ssh)",
            audit.source,
            session.target().display()
        );
    }
    (facts, gaps)
}

/// Finds the remote daemon that serves the engine; reads the common text files on the way.
fn identify_remote(
    session: &SshSession,
    remote: &mut Remote,
    docker_root_dir: Option<&str>,
    gaps: &mut Vec<Gap>,
) -> Result<Served, String> {
    let texts: Vec<String> = TEXT_FILES.iter().map(|p| p.to_string()).collect();
    let (login, listed) = std::thread::scope(|scope| {
        let login = scope.spawn(|| session.run(&[ID, "-u"]));
        let listed = scope.spawn(|| session.run(&[PGREP, "-x", "dockerd"]));
        fetch_many(session, remote, &texts, gaps);
        (login.join(), listed.join())
    });
    let login_uid = match login {
        Ok(Ok(out)) if out.success => String::from_utf8_lossy(&out.stdout).trim().parse().ok(),
        _ => None,
    };
    let pids: Vec<u32> = match listed {
        Ok(Ok(out)) => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect(),
        Ok(Err(e)) => return Err(format!("cannot list the remote dockerd processes: {e}")),
        Err(_) => return Err("cannot list the remote dockerd processes".into()),
    };
    let proc_dirs: Vec<String> = pids.iter().map(|p| format!("/proc/{p}")).collect();
    let cmdlines: Vec<String> = pids.iter().map(|p| format!("/proc/{p}/cmdline")).collect();
    std::thread::scope(|scope| {
        let stat = scope.spawn(|| {
            let mut part = Remote::default();
            let mut part_gaps = Vec::new();
            stat_all(session, &mut part, &proc_dirs, &mut part_gaps);
            (part, part_gaps)
        });
        fetch_many(session, remote, &cmdlines, gaps);
        if let Ok((part, part_gaps)) = stat.join() {
            remote.stats.extend(part.stats);
            remote.asked.extend(part.asked);
            gaps.extend(part_gaps);
        }
    });
    let passwd = remote.texts.get("/etc/passwd").cloned().unwrap_or_default();
    let candidates: Vec<Candidate> = pids
        .iter()
        .filter_map(|pid| {
            let stat = remote.stats.get(&format!("/proc/{pid}"))?;
            let cmdline = remote.texts.get(&format!("/proc/{pid}/cmdline"))?;
            Some(Candidate {
                pid: *pid,
                uid: stat.uid,
                args: daemon::split_cmdline(cmdline.as_bytes()),
                exe_name: None,
                home: identify::home_of(&passwd, stat.uid),
            })
        })
        .collect();
    let configs: Vec<String> = candidates.iter().map(Candidate::config_path).collect();
    fetch_many(session, remote, &configs, gaps);
    let remote = &*remote;
    let read_config = |path: &str| -> Result<Option<Value>, String> {
        if let Some(error) = remote.errors.get(path) {
            return Err(error.clone());
        }
        match remote.texts.get(path) {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("invalid JSON: {e}")),
        }
    };
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    identify::choose(&candidates, login_uid, docker_root_dir, &read_config, &same)
}

/// Paths named by the daemon's flags and daemon.json that `files` examines.
fn configured_paths(args: &[String], config: Option<&Value>) -> Vec<String> {
    let mut hosts = daemon::flag_values(args, &["-H", "--host"]);
    let text = |key: &str| {
        config
            .and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(list) = config
        .and_then(|c| c.get("hosts"))
        .and_then(Value::as_array)
    {
        hosts.extend(list.iter().filter_map(Value::as_str).map(str::to_string));
    }
    let mut paths: Vec<String> = hosts
        .iter()
        .filter_map(|h| h.strip_prefix("unix://"))
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    paths.extend(daemon::flag_values(args, &["--containerd"]));
    for (flag, key) in [
        ("--tlscacert", "tlscacert"),
        ("--tlscert", "tlscert"),
        ("--tlskey", "tlskey"),
    ] {
        paths.extend(daemon::flag_values(args, &[flag]));
        paths.extend(text(key));
    }
    paths.extend(text("containerd"));
    if let Some(argv0) = args.first().filter(|a| a.starts_with('/')) {
        paths.push(argv0.clone());
    }
    paths
}

/// Absolute `ListenStream=` paths of a socket unit.
fn listen_streams(unit: Option<&str>) -> Vec<String> {
    unit.unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ListenStream="))
        .map(str::trim)
        .filter(|p| p.starts_with('/'))
        .map(str::to_string)
        .collect()
}

fn is_missing_message(stderr: &str) -> bool {
    stderr.contains("No such file or directory") || stderr.contains("Not a directory")
}

/// `cat`s remote files side by side into `remote.texts`; a missing file is simply absent.
fn fetch_many(session: &SshSession, remote: &mut Remote, paths: &[String], gaps: &mut Vec<Gap>) {
    remote.asked.extend(paths.iter().cloned());
    let mut wanted: Vec<&String> = paths
        .iter()
        .filter(|p| !remote.texts.contains_key(*p) && !remote.errors.contains_key(*p))
        .collect();
    wanted.dedup();
    let results: Vec<_> = std::thread::scope(|scope| {
        let jobs: Vec<_> = wanted
            .iter()
            .map(|path| scope.spawn(move || (*path, session.run(&[CAT, "--", path]))))
            .collect();
        jobs.into_iter().filter_map(|j| j.join().ok()).collect()
    });
    for (path, result) in results {
        match result {
            Ok(out) if out.success => match String::from_utf8(out.stdout) {
                Ok(text) => {
                    remote.texts.insert(path.clone(), text);
                }
                Err(_) => {
                    remote.errors.insert(path.clone(), "not UTF-8 text".into());
                }
            },
            Ok(out) if is_missing_message(&out.stderr) => {}
            Ok(out) => {
                remote
                    .errors
                    .insert(path.clone(), format!("remote: {}", out.stderr.trim()));
            }
            Err(e) => gaps.push(gap(format!("host:{path}"), e)),
        }
    }
}

/// `stat`s remote paths in one command; results go to `remote.stats` or `remote.errors`.
fn stat_all(session: &SshSession, remote: &mut Remote, paths: &[String], gaps: &mut Vec<Gap>) {
    remote.asked.extend(paths.iter().cloned());
    let mut wanted: Vec<&str> = Vec::new();
    for p in paths {
        if p.contains('\n') || !p.starts_with('/') {
            gaps.push(gap(
                format!("host:{}", p.escape_debug()),
                "not an absolute one-line path; not examined",
            ));
        } else if !remote.stats.contains_key(p.as_str()) && !wanted.contains(&p.as_str()) {
            wanted.push(p);
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut argv = vec![STAT, "-L", "-c", "%f %u %g %n", "--"];
    argv.extend(wanted.iter().copied());
    let out = match session.run(&argv) {
        Ok(out) => out,
        Err(e) => {
            for p in wanted {
                gaps.push(gap(format!("host:{p}"), &e));
            }
            return;
        }
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut f = line.splitn(4, ' ');
        let (Some(mode), Some(uid), Some(gid), Some(path)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        if let (Ok(mode), Ok(uid), Ok(gid)) =
            (u32::from_str_radix(mode, 16), uid.parse(), gid.parse())
        {
            remote
                .stats
                .insert(path.to_string(), RemoteStat { mode, uid, gid });
        }
    }
    for p in wanted {
        if remote.stats.contains_key(p) {
            continue;
        }
        let said = out
            .stderr
            .lines()
            .find(|l| l.contains(&format!("'{p}'")) || l.contains(&format!("\u{2018}{p}\u{2019}")));
        match said {
            Some(line) if is_missing_message(line) => {}
            Some(line) => {
                remote
                    .errors
                    .insert(p.to_string(), format!("remote: {}", line.trim()));
            }
            None => {}
        }
    }
}

/// Entries of a remote directory from its `find` answer, as absolute paths.
fn listing(
    dir: &str,
    listed: Result<super::ssh::RemoteOutput, super::ssh::SshError>,
    remote: &mut Remote,
    gaps: &mut Vec<Gap>,
) -> Vec<String> {
    match listed {
        Ok(out) if out.success => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with(dir))
            .map(str::to_string)
            .collect(),
        Ok(out) => {
            remote
                .errors
                .insert(dir.to_string(), format!("remote: {}", out.stderr.trim()));
            Vec::new()
        }
        Err(e) => {
            gaps.push(gap(format!("host:{dir}"), e));
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_paths_cover_flags_and_daemon_json() {
        let args: Vec<String> = [
            "/usr/sbin/dockerd",
            "-H",
            "unix:///srv/d.sock",
            "--tlscacert=/srv/ca.pem",
            "--containerd",
            "/run/c.sock",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let config = serde_json::json!({"hosts": ["unix:///run/j.sock", "tcp://0.0.0.0:2376"], "tlskey": "/srv/key.pem"});
        let got = configured_paths(&args, Some(&config));
        for want in [
            "/srv/d.sock",
            "/run/j.sock",
            "/srv/ca.pem",
            "/srv/key.pem",
            "/run/c.sock",
            "/usr/sbin/dockerd",
        ] {
            assert!(got.contains(&want.to_string()), "{want} missing in {got:?}");
        }
        assert_eq!(
            listen_streams(Some(
                "[Socket]\nListenStream=/run/docker.sock\nListenStream=2375\n"
            )),
            ["/run/docker.sock"]
        );
    }
}
