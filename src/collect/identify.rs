//! Which dockerd serves the engine that was scanned, so the host facts judged are that daemon's.
//!
//! For a local unix socket: a probe connection's peer credentials (`SO_PEERCRED`) name the
//! process that listened. That is dockerd itself, or, under systemd socket activation (or any
//! wrapper that listens and hands the socket over with `LISTEN_FDS`), the activator. In the
//! second case the listening socket's inode is looked up in `/proc/net/unix` by its path, and the
//! processes holding that inode are found through `/proc/*/fd`. Over ssh the candidates are the
//! remote `dockerd` processes ([`super::ssh_host`]).
//!
//! A candidate is accepted only if it runs a `dockerd` executable, is owned by root or by the
//! socket's owner (a rootless daemon), and its data root (`--data-root`, else daemon.json
//! `data-root`, else `/var/lib/docker`, or `~/.local/share/docker` for a rootless daemon) equals
//! the engine's own `/info` `DockerRootDir`. Exactly one must be accepted; otherwise the reason
//! is returned and the caller records a gap: host facts of another daemon are never used.
//! This module only reads `/proc` and the candidate's configuration file.

use serde_json::Value;

use super::daemon::{flag_values, DEFAULT_DAEMON_JSON};
use super::host::{is_missing, read_regular_bytes, HostRoot};

/// A process that may serve the engine, as read from `/proc`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub pid: u32,
    /// Owner of the process.
    pub uid: u32,
    /// Its command line.
    pub args: Vec<String>,
    /// Base name of `/proc/PID/exe`, when it could be read (root, or the same user).
    pub exe_name: Option<String>,
    /// Home directory of the owner, from the host's passwd (rootless defaults).
    pub home: Option<String>,
}

/// The daemon that serves the engine, with the paths it uses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Served {
    pub pid: u32,
    pub args: Vec<String>,
    /// daemon.json it reads: `--config-file`, else the default for its owner.
    pub config_path: String,
    /// Whether it runs as a user other than root.
    pub rootless: bool,
}

impl Candidate {
    fn rootless(&self) -> bool {
        self.uid != 0
    }

    /// The daemon.json the candidate reads.
    pub fn config_path(&self) -> String {
        if let Some(path) = flag_values(&self.args, &["--config-file"]).pop() {
            return path;
        }
        match (&self.home, self.rootless()) {
            (Some(home), true) => {
                format!("{}/.config/docker/daemon.json", home.trim_end_matches('/'))
            }
            _ => DEFAULT_DAEMON_JSON.to_string(),
        }
    }

    /// The data root the candidate uses, given its parsed daemon.json (if any).
    pub fn data_root(&self, config: Option<&Value>) -> Option<String> {
        if let Some(root) = flag_values(&self.args, &["--data-root", "-g", "--graph"]).pop() {
            return Some(root);
        }
        for key in ["data-root", "graph"] {
            if let Some(root) = config.and_then(|c| c.get(key)).and_then(Value::as_str) {
                return Some(root.to_string());
            }
        }
        if self.rootless() {
            let home = self.home.as_deref()?;
            return Some(format!(
                "{}/.local/share/docker",
                home.trim_end_matches('/')
            ));
        }
        Some("/var/lib/docker".to_string())
    }

    fn is_dockerd(&self) -> bool {
        let argv0 = self.args.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        match &self.exe_name {
            Some(exe) => exe == "dockerd",
            None => argv0 == Some("dockerd"),
        }
    }
}

/// Picks the one candidate that serves the engine. `read_config` reads a daemon.json path on the
/// candidate's host (`Ok(None)` when it does not exist); `same_dir` compares two host paths.
pub(crate) fn choose(
    candidates: &[Candidate],
    socket_owner: Option<u32>,
    docker_root_dir: Option<&str>,
    read_config: &dyn Fn(&str) -> Result<Option<Value>, String>,
    same_dir: &dyn Fn(&str, &str) -> bool,
) -> Result<Served, String> {
    let Some(want) = docker_root_dir else {
        return Err(
            "the engine did not report its DockerRootDir (/info), so the daemon \
                    serving it cannot be matched"
                .into(),
        );
    };
    if candidates.is_empty() {
        return Err("no process holding the engine's socket was found".into());
    }
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for c in candidates {
        if !c.is_dockerd() {
            rejected.push(format!("pid {} is not a dockerd executable", c.pid));
            continue;
        }
        if c.uid != 0 && Some(c.uid) != socket_owner {
            rejected.push(format!(
                "pid {} runs as uid {}, neither root nor the socket's owner",
                c.pid, c.uid
            ));
            continue;
        }
        let config_path = c.config_path();
        // A configuration file that cannot be read now (edited since the daemon started) leaves
        // the flags and the default to name the data root; its own gap is recorded when it is
        // read as the daemon's configuration.
        let config = read_config(&config_path).unwrap_or_else(|e| {
            tracing::debug!(pid = c.pid, %config_path, %e, "configuration unreadable");
            None
        });
        match c.data_root(config.as_ref()) {
            Some(root) if same_dir(&root, want) => accepted.push(Served {
                pid: c.pid,
                args: c.args.clone(),
                config_path,
                rootless: c.rootless(),
            }),
            Some(root) => rejected.push(format!(
                "pid {} uses data root {root}, the engine reports {want}",
                c.pid
            )),
            None => rejected.push(format!("pid {}: data root unknown", c.pid)),
        }
    }
    match accepted.len() {
        1 => Ok(accepted.remove(0)),
        0 => Err(format!("no candidate serves it ({})", rejected.join("; "))),
        n => Err(format!(
            "{n} dockerd processes match it (pids {}); refusing to guess",
            accepted
                .iter()
                .map(|s| s.pid.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The peer pid of a probe connection to a unix socket (`SO_PEERCRED`).
pub(crate) async fn peer_pid(socket: &str) -> Result<u32, String> {
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| format!("probe connection to {socket} failed: {e}"))?;
    let cred = stream
        .peer_cred()
        .map_err(|e| format!("cannot read the peer credentials of {socket}: {e}"))?;
    match cred.pid() {
        Some(pid) if pid > 0 => u32::try_from(pid).map_err(|e| e.to_string()),
        _ => Err(format!(
            "the process listening on {socket} is in another PID namespace (a forwarded \
             socket or a container without --pid=host)"
        )),
    }
}

/// Identifies the daemon behind a local unix socket; `peer` is the probe's result.
pub(crate) fn identify_local(
    root: &HostRoot,
    socket: &str,
    peer: Result<u32, String>,
    docker_root_dir: Option<&str>,
) -> Result<Served, String> {
    let peer = peer?;
    let passwd = root.read_to_string("/etc/passwd").unwrap_or_default();
    let first = read_candidate(root, peer, &passwd)
        .ok_or_else(|| format!("the listening process (pid {peer}) is not visible in /proc"))?;
    let candidates = if first.is_dockerd() {
        vec![first]
    } else {
        // An activator listened (systemd, a wrapper): find who else holds that socket.
        let inodes = listening_inodes(root, socket)?;
        let holders = socket_holders(root, &inodes);
        tracing::debug!(
            peer,
            ?inodes,
            ?holders,
            "socket activated; looking for dockerd"
        );
        let found: Vec<Candidate> = holders
            .into_iter()
            .filter(|pid| *pid != peer)
            .filter_map(|pid| read_candidate(root, pid, &passwd))
            .filter(|c| c.is_dockerd())
            .collect();
        if found.is_empty() {
            return Err(format!(
                "the process listening on it (pid {peer}, {}) is not dockerd, and no dockerd \
                 holds the socket",
                first
                    .args
                    .first()
                    .map(String::as_str)
                    .unwrap_or("no command line")
            ));
        }
        found
    };
    let socket_owner = root
        .resolve(socket)
        .and_then(std::fs::metadata)
        .ok()
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    let read_config = |path: &str| match root.read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("invalid JSON: {e}")),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(e.to_string()),
    };
    let same_dir = |a: &str, b: &str| {
        let real = |p: &str| {
            root.resolve(p)
                .map(|r| r.display().to_string())
                .unwrap_or_else(|_| p.trim_end_matches('/').to_string())
        };
        a.trim_end_matches('/') == b.trim_end_matches('/') || real(a) == real(b)
    };
    choose(
        &candidates,
        socket_owner,
        docker_root_dir,
        &read_config,
        &same_dir,
    )
}

fn read_candidate(root: &HostRoot, pid: u32, passwd: &str) -> Option<Candidate> {
    use std::os::unix::fs::MetadataExt;
    let proc_dir = root.join(&format!("/proc/{pid}")).ok()?;
    let uid = std::fs::metadata(&proc_dir).ok()?.uid();
    let raw = read_regular_bytes(&root.join(&format!("/proc/{pid}/cmdline")).ok()?).ok()?;
    let args = super::daemon::split_cmdline(&raw);
    let exe_name = std::fs::read_link(proc_dir.join("exe")).ok().and_then(|p| {
        let name = p.file_name()?.to_str()?.to_string();
        // A replaced binary reads as "dockerd (deleted)"; it is still dockerd that runs.
        Some(name.trim_end_matches(" (deleted)").to_string())
    });
    Some(Candidate {
        pid,
        uid,
        args,
        exe_name,
        home: home_of(passwd, uid),
    })
}

/// Home directory of a uid in passwd text.
pub(crate) fn home_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[2].parse::<u32>().ok() == Some(uid))
            .then(|| fields[5].to_string())
    })
}

/// Inodes of listening sockets bound to `socket`, from `/proc/net/unix`.
fn listening_inodes(root: &HostRoot, socket: &str) -> Result<Vec<u64>, String> {
    let table = root
        .read_to_string("/proc/net/unix")
        .map_err(|e| format!("cannot read /proc/net/unix: {e}"))?;
    // Socket paths resolve inside the host root like every host path.
    let real = root.resolve(socket).ok();
    let inodes: Vec<u64> = parse_unix_table(&table)
        .into_iter()
        .filter(|(_, path)| {
            path == socket
                || real
                    .as_ref()
                    .is_some_and(|r| root.resolve(path).ok().as_ref() == Some(r))
        })
        .map(|(inode, _)| inode)
        .collect();
    if inodes.is_empty() {
        return Err(format!(
            "no listening socket bound to {socket} in /proc/net/unix (another network \
             namespace?)"
        ));
    }
    Ok(inodes)
}

/// `(inode, path)` of listening sockets (`__SO_ACCEPTCON`) that are bound to a path.
fn parse_unix_table(table: &str) -> Vec<(u64, String)> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let flags = u32::from_str_radix(f.get(3)?, 16).ok()?;
            let inode = f.get(6)?.parse().ok()?;
            let path = f.get(7)?;
            (flags & 0x0001_0000 != 0 && path.starts_with('/')).then(|| (inode, path.to_string()))
        })
        .collect()
}

/// Processes with an open descriptor on one of the socket inodes.
fn socket_holders(root: &HostRoot, inodes: &[u64]) -> Vec<u32> {
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    let Some(entries) = root
        .join("/proc")
        .ok()
        .and_then(|p| std::fs::read_dir(p).ok())
    else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let fds = root
                .join(&format!("/proc/{pid}/fd"))
                .and_then(std::fs::read_dir);
            let Ok(fds) = fds else {
                return false;
            };
            fds.filter_map(Result::ok).any(|fd| {
                std::fs::read_link(fd.path())
                    .ok()
                    .and_then(|t| t.to_str().map(str::to_string))
                    .is_some_and(|t| wanted.contains(&t))
            })
        })
        .collect();
    pids.sort_unstable();
    pids
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cand(pid: u32, uid: u32, args: &[&str]) -> Candidate {
        Candidate {
            pid,
            uid,
            args: args.iter().map(|s| s.to_string()).collect(),
            exe_name: Some("dockerd".into()),
            home: Some(format!("/home/u{uid}")),
        }
    }

    fn no_config(_: &str) -> Result<Option<Value>, String> {
        Ok(None)
    }

    fn eq(a: &str, b: &str) -> bool {
        a == b
    }

    #[test]
    fn the_daemon_whose_data_root_matches_is_chosen() {
        let system = cand(10, 0, &["/usr/bin/dockerd", "-H", "fd://"]);
        let second = cand(
            20,
            0,
            &[
                "dockerd",
                "--data-root",
                "/srv/d2",
                "--config-file",
                "/srv/d2.json",
            ],
        );
        let got = choose(
            &[system.clone(), second.clone()],
            Some(0),
            Some("/srv/d2"),
            &no_config,
            &eq,
        )
        .unwrap();
        assert_eq!((got.pid, got.config_path.as_str()), (20, "/srv/d2.json"));
        let got = choose(
            &[system, second],
            Some(0),
            Some("/var/lib/docker"),
            &no_config,
            &eq,
        )
        .unwrap();
        assert_eq!(
            (got.pid, got.config_path.as_str()),
            (10, DEFAULT_DAEMON_JSON)
        );
    }

    #[test]
    fn data_root_from_daemon_json_and_rootless_defaults() {
        let c = cand(5, 0, &["dockerd"]);
        let cfg = |_: &str| Ok(Some(json!({"data-root": "/data/docker"})));
        assert_eq!(
            choose(&[c], None, Some("/data/docker"), &cfg, &eq)
                .unwrap()
                .pid,
            5
        );
        // A configuration that cannot be read now leaves the default data root.
        let broken = |_: &str| Err("invalid JSON".to_string());
        let c = cand(6, 0, &["dockerd"]);
        assert_eq!(
            choose(&[c], None, Some("/var/lib/docker"), &broken, &eq)
                .unwrap()
                .pid,
            6
        );
        let rootless = cand(7, 1000, &["dockerd"]);
        assert_eq!(
            rootless.config_path(),
            "/home/u1000/.config/docker/daemon.json"
        );
        let got = choose(
            &[rootless],
            Some(1000),
            Some("/home/u1000/.local/share/docker"),
            &no_config,
            &eq,
        )
        .unwrap();
        assert!(got.rootless);
    }

    #[test]
    fn strangers_impostors_and_ties_are_refused() {
        let mut impostor = cand(3, 0, &["dockerd"]);
        impostor.exe_name = Some("python3".into());
        let stranger = cand(4, 1001, &["dockerd"]);
        let err = choose(
            &[impostor, stranger],
            Some(0),
            Some("/var/lib/docker"),
            &no_config,
            &eq,
        )
        .unwrap_err();
        assert!(err.contains("pid 3 is not a dockerd executable"), "{err}");
        assert!(
            err.contains("pid 4 runs as uid 1001, neither root nor the socket's owner"),
            "{err}"
        );
        let twins = [cand(1, 0, &["dockerd"]), cand(2, 0, &["dockerd"])];
        let err = choose(&twins, Some(0), Some("/var/lib/docker"), &no_config, &eq).unwrap_err();
        assert!(
            err.contains("2 dockerd processes match it (pids 1, 2)"),
            "{err}"
        );
        let err = choose(&twins, Some(0), None, &no_config, &eq).unwrap_err();
        assert!(err.contains("DockerRootDir"), "{err}");
    }

    #[test]
    fn listening_sockets_are_read_from_proc_net_unix() {
        let table = "Num       RefCount Protocol Flags    Type St Inode Path\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 2345 /run/docker.sock\n\
            0000000000000000: 00000003 00000000 00000000 0001 03 2346 /run/docker.sock\n\
            0000000000000000: 00000002 00000000 00010000 0001 01 2347 @abstract\n";
        assert_eq!(
            parse_unix_table(table),
            vec![(2345, "/run/docker.sock".to_string())]
        );
        let passwd = "root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n";
        assert_eq!(home_of(passwd, 1000).as_deref(), Some("/home/u"));
        assert_eq!(home_of(passwd, 7), None);
    }
}
