//! Users and groups of the host, parsed from `<root>/etc/passwd` and `<root>/etc/group`.
//!
//! The files are parsed directly instead of asking the C library (NSS): under a host root the
//! running process's NSS would answer for the wrong machine. Accounts that live only in LDAP or
//! SSSD are therefore not seen; names are left `None` for ids not found in the files, and the
//! docker group's members are those listed in the files. This module reads those two files and
//! nothing else; it never evaluates.

use crate::snapshot::{Gap, GroupFact};

use super::gap;
use super::host::HostRoot;

/// One `/etc/passwd` entry, as far as collection needs it.
#[derive(Debug, Clone, PartialEq)]
struct User {
    name: String,
    uid: u32,
    gid: u32,
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq)]
struct Group {
    name: String,
    gid: u32,
    members: Vec<String>,
}

/// The host's local accounts; `None` when the file could not be read (and a gap says why).
#[derive(Debug, Clone, Default)]
pub(crate) struct Accounts {
    users: Option<Vec<User>>,
    groups: Option<Vec<Group>>,
}

impl Accounts {
    /// Reads both files, recording a gap for each one that cannot be read.
    pub fn load(root: &HostRoot, gaps: &mut Vec<Gap>) -> Self {
        let mut read = |path: &str| match root.read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                gaps.push(gap(format!("host:{path}"), e));
                None
            }
        };
        Accounts {
            users: read("/etc/passwd").map(|t| parse_passwd(&t)),
            groups: read("/etc/group").map(|t| parse_group(&t)),
        }
    }

    /// User name of a uid, when the host's passwd knows it.
    pub fn user_name(&self, uid: u32) -> Option<String> {
        let users = self.users.as_ref()?;
        users.iter().find(|u| u.uid == uid).map(|u| u.name.clone())
    }

    /// Group name of a gid, when the host's group file knows it.
    pub fn group_name(&self, gid: u32) -> Option<String> {
        let groups = self.groups.as_ref()?;
        groups.iter().find(|g| g.gid == gid).map(|g| g.name.clone())
    }

    /// Members of a group: those listed in `/etc/group` plus users whose primary group it is.
    ///
    /// `None` when either file could not be read: a member list built from half the data would
    /// read as "no other members" and let a check pass by omission.
    pub fn group_fact(&self, name: &str) -> Option<GroupFact> {
        let (users, groups) = (self.users.as_ref()?, self.groups.as_ref()?);
        let Some(group) = groups.iter().find(|g| g.name == name) else {
            return Some(GroupFact {
                name: name.to_string(),
                exists: false,
                gid: None,
                members: Vec::new(),
            });
        };
        let mut members: Vec<String> = group.members.clone();
        members.extend(
            users
                .iter()
                .filter(|u| u.gid == group.gid)
                .map(|u| u.name.clone()),
        );
        members.sort();
        members.dedup();
        Some(GroupFact {
            name: name.to_string(),
            exists: true,
            gid: Some(group.gid),
            members,
        })
    }

    /// The group dockerd's unix sockets belong to, as dockerd and systemd decide it: with socket
    /// activation (`-H fd://`) the socket unit's `SocketGroup=` (`root` when unset); otherwise the
    /// last `-G`/`--group`, else daemon.json `group`, else `docker`. A numeric value is a GID and is
    /// named from /etc/group when it can be.
    pub(crate) fn socket_group(
        &self,
        args: Option<&[String]>,
        config: Option<&serde_json::Value>,
        activated_group: Option<String>,
    ) -> String {
        let flag = |names: &[&str]| {
            args.map(|a| super::daemon::flag_values(a, names))
                .unwrap_or_default()
        };
        let mut hosts = flag(&["-H", "--host"]);
        if let Some(list) = config
            .and_then(|c| c.get("hosts"))
            .and_then(|h| h.as_array())
        {
            hosts.extend(list.iter().filter_map(|h| h.as_str()).map(str::to_string));
        }
        let group = if hosts.iter().any(|h| h.starts_with("fd://")) {
            activated_group.unwrap_or_else(|| "root".to_string())
        } else {
            flag(&["-G", "--group"])
                .pop()
                .or_else(|| {
                    config
                        .and_then(|c| c.get("group"))
                        .and_then(|g| g.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "docker".to_string())
        };
        match group.parse::<u32>() {
            Ok(gid) => self.group_name(gid).unwrap_or(group),
            Err(_) => group,
        }
    }
}

/// The account this process runs as: ids from `/proc/self/status`, names from this machine's
/// own `/etc/passwd` and `/etc/group` (not the host root's: the collector runs here). `None`
/// when the status file cannot be read.
pub(crate) fn running_account() -> Option<crate::snapshot::CollectorAccount> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let users = std::fs::read_to_string("/etc/passwd")
        .map(|t| parse_passwd(&t))
        .unwrap_or_default();
    let groups = std::fs::read_to_string("/etc/group")
        .map(|t| parse_group(&t))
        .unwrap_or_default();
    account_from(&status, &users, &groups)
}

fn account_from(
    status: &str,
    users: &[User],
    groups: &[Group],
) -> Option<crate::snapshot::CollectorAccount> {
    let field = |name: &str| -> Option<Vec<u32>> {
        let line = status.lines().find_map(|l| l.strip_prefix(name))?;
        Some(
            line.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect(),
        )
    };
    // Real, effective, saved, filesystem: the effective id decides access.
    let uid = *field("Uid:")?.get(1)?;
    let gid = *field("Gid:")?.get(1)?;
    let supplementary = field("Groups:").unwrap_or_default();
    let user = users.iter().find(|u| u.uid == uid).map(|u| u.name.clone());
    let name_of = |g: u32| {
        groups
            .iter()
            .find(|e| e.gid == g)
            .map_or_else(|| g.to_string(), |e| e.name.clone())
    };
    let docker_group = groups.iter().find(|g| g.name == "docker").map(|d| {
        gid == d.gid
            || supplementary.contains(&d.gid)
            || user.as_ref().is_some_and(|u| d.members.contains(u))
    });
    Some(crate::snapshot::CollectorAccount {
        uid,
        user,
        gid,
        groups: supplementary.into_iter().map(name_of).collect(),
        root: uid == 0,
        docker_group,
    })
}

/// Lines of a colon-separated account file, skipping blanks, comments and NIS `+`/`-` entries.
fn records(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(['+', '-']))
        .map(|l| l.split(':').collect::<Vec<_>>())
}

fn parse_passwd(text: &str) -> Vec<User> {
    records(text)
        .filter_map(|f| {
            Some(User {
                name: f.first()?.to_string(),
                uid: f.get(2)?.parse().ok()?,
                gid: f.get(3)?.parse().ok()?,
            })
        })
        .collect()
}

fn parse_group(text: &str) -> Vec<Group> {
    records(text)
        .filter_map(|f| {
            Some(Group {
                name: f.first()?.to_string(),
                gid: f.get(2)?.parse().ok()?,
                members: f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          # comment\n\
                          alice:x:1000:1000::/home/alice:/bin/bash\n\
                          ci:x:1001:998::/home/ci:/bin/sh\n\
                          broken-line\n";
    const GROUP: &str = "root:x:0:\nalice:x:1000:\ndocker:x:998:alice, bob\nadm:x:4:syslog\n";

    fn root_with(passwd: Option<&str>, group: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        if let Some(p) = passwd {
            fs::write(dir.path().join("etc/passwd"), p).unwrap();
        }
        if let Some(g) = group {
            fs::write(dir.path().join("etc/group"), g).unwrap();
        }
        dir
    }

    #[test]
    fn the_socket_group_is_the_one_dockerd_or_systemd_gives_the_socket() {
        let dir = root_with(Some(PASSWD), Some(GROUP));
        let mut gaps = Vec::new();
        let acc = Accounts::load(&HostRoot::new(dir.path()), &mut gaps);
        let args = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
        let cfg = serde_json::json!({"group": "ops"});
        assert_eq!(acc.socket_group(None, None, None), "docker");
        assert_eq!(
            acc.socket_group(Some(&args("dockerd -G adm")), None, None),
            "adm"
        );
        assert_eq!(
            acc.socket_group(Some(&args("dockerd --group=4")), None, None),
            "adm"
        );
        assert_eq!(
            acc.socket_group(Some(&args("dockerd")), Some(&cfg), None),
            "ops"
        );
        // The flag wins over daemon.json, as dockerd's flags override the file.
        assert_eq!(
            acc.socket_group(Some(&args("dockerd -G adm")), Some(&cfg), None),
            "adm"
        );
        // Socket activation: systemd creates the socket with SocketGroup=, root when unset.
        let fd = args("dockerd -H fd:// -G adm");
        assert_eq!(
            acc.socket_group(Some(&fd), None, Some("docker".into())),
            "docker"
        );
        assert_eq!(acc.socket_group(Some(&fd), None, None), "root");
    }

    #[test]
    fn docker_group_members_include_primary_group_users() {
        let dir = root_with(Some(PASSWD), Some(GROUP));
        let mut gaps = Vec::new();
        let acc = Accounts::load(&HostRoot::new(dir.path()), &mut gaps);
        assert!(gaps.is_empty());
        let fact = acc.group_fact("docker").unwrap();
        assert_eq!(
            fact,
            GroupFact {
                name: "docker".into(),
                exists: true,
                gid: Some(998),
                members: vec!["alice".into(), "bob".into(), "ci".into()],
            }
        );
        assert_eq!(acc.user_name(1000).as_deref(), Some("alice"));
        assert_eq!(acc.group_name(4).as_deref(), Some("adm"));
        assert_eq!(acc.user_name(4242), None);
    }

    #[test]
    fn missing_group_is_an_observation_not_a_gap() {
        let dir = root_with(Some(PASSWD), Some("root:x:0:\n"));
        let mut gaps = Vec::new();
        let fact = Accounts::load(&HostRoot::new(dir.path()), &mut gaps)
            .group_fact("docker")
            .unwrap();
        assert!(!fact.exists);
        assert!(fact.members.is_empty());
        assert!(gaps.is_empty());
    }

    #[test]
    fn unreadable_passwd_leaves_the_group_unknown() {
        let dir = root_with(None, Some(GROUP));
        let mut gaps = Vec::new();
        let acc = Accounts::load(&HostRoot::new(dir.path()), &mut gaps);
        assert_eq!(acc.group_fact("docker"), None);
        assert_eq!(acc.group_name(998).as_deref(), Some("docker"));
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].source, "host:/etc/passwd");
    }

    #[test]
    fn the_running_account_takes_the_effective_ids_and_names_the_docker_group() {
        let status =
            "Name:\tx\nUid:\t1000\t1001\t1001\t1001\nGid:\t100\t100\t100\t100\nGroups:\t27 999 \n";
        let users = parse_passwd("alice:x:1000:100::/:/bin/sh\nbob:x:1001:100::/:/bin/sh\n");
        let groups = parse_group("sudo:x:27:\ndocker:x:999:\n");
        let a = account_from(status, &users, &groups).unwrap();
        assert_eq!(a.uid, 1001);
        assert_eq!(a.user.as_deref(), Some("bob"));
        assert_eq!(a.groups, ["sudo", "docker"]);
        assert_eq!(a.docker_group, Some(true));
        assert!(!a.root);
        let none = parse_group("sudo:x:27:\n");
        assert_eq!(
            account_from(status, &users, &none).unwrap().docker_group,
            None
        );
        assert!(account_from("Name: x\n", &users, &groups).is_none());
    }
}
