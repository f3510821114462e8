//! Host facts: what the host's filesystem says about the Docker installation, read under the
//! host root (`/` on the host itself, `/host` when dockproof runs in a container with the host's
//! `/` mounted read-only).
//!
//! Paths recorded in the snapshot are host paths, without the root prefix. Symbolic links are
//! followed *inside* the root, as the kernel would if the root were `/`: an absolute link target
//! such as `/var/run -> /run` is looked up under the root again, never in the container running
//! dockproof ([`HostRoot::resolve`]). `/proc` must be the host's procfs (it is when the host's `/`
//! is bind-mounted recursively, Docker's default for `-v /:/host:ro`); otherwise dockerd and the
//! mounts are not found and gaps say so.
//!
//! Sources: the dockerd process and daemon.json ([`super::daemon`]), file ownership and modes
//! ([`super::files`]), audit rules ([`super::audit`]), the docker group ([`super::accounts`]) and
//! mount points (`/proc/1/mountinfo`, here). Whatever cannot be read becomes a `host:<path>` gap
//! and its field stays `None`. This module only reads; it never writes and never evaluates.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use crate::snapshot::{Gap, HostFacts};

use super::accounts::Accounts;
use super::identify::Served;
use super::{audit, daemon, files, gap, units};

/// Symbolic links followed while resolving one path before giving up (Linux uses 40).
const MAX_SYMLINK_HOPS: u32 = 40;

/// The host's filesystem as seen under the host root.
#[derive(Debug, Clone)]
pub(crate) struct HostRoot {
    root: PathBuf,
    /// For a staged copy of a remote host ([`super::ssh_stage`]): the host paths that were
    /// asked for. A path outside this set was never read from the remote host, so its absence
    /// from the copy says nothing: resolving it is an error, never "missing".
    asked: Option<std::sync::Arc<std::collections::BTreeSet<String>>>,
}

impl HostRoot {
    pub fn new(root: &Path) -> Self {
        HostRoot {
            root: root.to_path_buf(),
            asked: None,
        }
    }

    /// A staged copy of a remote host, where only the `asked` paths were read.
    pub fn staged(root: &Path, asked: std::collections::BTreeSet<String>) -> Self {
        HostRoot {
            root: root.to_path_buf(),
            asked: Some(std::sync::Arc::new(asked)),
        }
    }

    /// Whether the root is the real `/` (commands such as `auditctl` then see the same host).
    pub fn is_system_root(&self) -> bool {
        self.root == Path::new("/")
    }

    /// Joins a host path under the root for procfs reads (`/proc/<pid>/...`), which must not
    /// follow links: every component, the last included, must exist and not be a symbolic link.
    /// A link there (`<root>/proc -> /proc`, `<root>/proc/77/cmdline -> /tmp/x`) would attribute
    /// another machine's processes, or any file, to the host; it is an error naming the link.
    /// Callers that read a link's target (`exe`, `fd/N`) join its directory and append the name.
    pub fn join(&self, host_path: &str) -> io::Result<PathBuf> {
        let mut path = self.root.clone();
        let mut shown = PathBuf::from("/");
        for part in parts(Path::new(host_path)) {
            if part == ".." {
                return Err(io::Error::other(format!("`..` in host path {host_path}")));
            }
            path.push(&part);
            shown.push(&part);
            if std::fs::symlink_metadata(&path)?.file_type().is_symlink() {
                return Err(io::Error::other(format!(
                    "{} under the host root is a symbolic link; links in the host's /proc are \
                     not followed",
                    shown.display()
                )));
            }
        }
        Ok(path)
    }

    /// Resolves every symbolic link of a host path within the root and returns the real path
    /// under the root. Fails with `NotFound` for a missing path or a dangling link.
    pub fn resolve(&self, host_path: &str) -> io::Result<PathBuf> {
        match (self.resolve_within(host_path), &self.asked) {
            (Err(e), Some(asked)) if is_missing(&e) && !asked.contains(host_path) => {
                Err(io::Error::other(format!(
                    "{host_path} was not read from the remote host (dockproof does not fetch \
                     it over ssh), so whether it exists is unknown"
                )))
            }
            (result, _) => result,
        }
    }

    fn resolve_within(&self, host_path: &str) -> io::Result<PathBuf> {
        // Components still to walk, last one on top; `..` is kept as a literal name, which a
        // normal component can never be.
        let mut pending: Vec<OsString> = parts(Path::new(host_path));
        pending.reverse();
        let mut resolved = PathBuf::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                resolved.pop();
                continue;
            }
            let candidate = self.root.join(&resolved).join(&part);
            let meta = std::fs::symlink_metadata(&candidate)?;
            if !meta.file_type().is_symlink() {
                resolved.push(&part);
                continue;
            }
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(io::Error::other(format!(
                    "too many levels of symbolic links resolving {host_path}"
                )));
            }
            let target = std::fs::read_link(&candidate)?;
            if target.is_absolute() {
                resolved = PathBuf::new();
            }
            pending.extend(parts(&target).into_iter().rev());
        }
        Ok(self.root.join(resolved))
    }

    /// Reads a host file as text, following links within the root.
    pub fn read_to_string(&self, host_path: &str) -> io::Result<String> {
        read_regular(&self.resolve(host_path)?)
    }
}

/// Largest host file read as text. Every file dockproof reads (daemon.json, units, group and
/// passwd files, audit rules, mountinfo) is far smaller; anything larger is not the file it
/// claims to be.
pub(crate) const MAX_TEXT_FILE: u64 = 16 * 1024 * 1024;

/// Reads a file as text only if it is a regular file, and at most [`MAX_TEXT_FILE`] bytes of it.
///
/// A FIFO where a configuration file is expected would block the read forever and a device
/// (`/dev/zero` bind-mounted over a file) would never end; both are refused before opening.
pub(crate) fn read_regular(path: &Path) -> io::Result<String> {
    String::from_utf8(read_regular_bytes(path)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// The bytes of a regular file, with the limits of [`read_regular`].
pub(crate) fn read_regular_bytes(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "not a regular file but {}; refusing to read it",
            crate::input::kind_of(&meta)
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_TEXT_FILE + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TEXT_FILE {
        return Err(io::Error::other(format!(
            "larger than {} MiB; not read",
            MAX_TEXT_FILE / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

/// Normal components of a path, with `..` kept as a name and `/` and `.` dropped.
fn parts(path: &Path) -> Vec<OsString> {
    use std::path::Component;
    path.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}

/// Whether an I/O error means "there is nothing at this path" (a valid observation, not a gap).
pub(crate) fn is_missing(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Reads every host fact under `root`, for the daemon `served` (or, when it could not be
/// identified, the reason, which becomes the dockerd and daemon.json gaps: another daemon's
/// process or configuration is never read in its place). Never fails: what cannot be read
/// becomes a gap.
pub(crate) fn collect_host(
    root: HostRoot,
    served: &Result<Served, String>,
) -> (HostFacts, Vec<Gap>) {
    let mut gaps = Vec::new();
    let accounts = Accounts::load(&root, &mut gaps);
    let (dockerd, daemon_json_path, daemon_json) = match served {
        Ok(served) => {
            let path = served.config_path.clone();
            let json = daemon::read_daemon_json(&root, &path, &mut gaps);
            (Some(daemon::served_process(served)), path, json)
        }
        Err(why) => {
            gaps.push(gap(
                "host:/proc (dockerd)",
                format!("the daemon serving the engine was not identified: {why}"),
            ));
            gaps.push(gap(
                "host:daemon.json",
                "not read: which configuration file applies depends on the daemon serving the \
                 engine, which was not identified",
            ));
            (None, daemon::DEFAULT_DAEMON_JSON.to_string(), None)
        }
    };
    let args = dockerd.as_ref().map(|d| d.args.as_slice());
    let config = daemon_json.as_ref().and_then(|d| d.content.as_ref());
    let mut files = files::collect_files(
        &root,
        &accounts,
        &files::Sources {
            dockerd_args: args,
            daemon_json: config,
            daemon_json_path: &daemon_json_path,
        },
        &mut gaps,
    );
    if served.is_err() {
        // The default path may belong to another daemon; its file fact would be judged as this
        // engine's configuration file.
        files.retain(|f| f.role != "daemon.json");
    }
    let facts = HostFacts {
        audit_rules: audit::collect_audit_rules(&root, &mut gaps),
        docker_group: accounts.group_fact(
            &accounts.socket_group(
                args,
                config,
                units::merged_values(&root, "docker.socket", "Socket", "SocketGroup")
                    .and_then(|mut v| v.pop()),
            ),
        ),
        socket_activation: units::merged_values(&root, "docker.socket", "Socket", "ListenStream"),
        mounts: read_mounts(&root, &mut gaps),
        client_env: read_client_env(&root, &mut gaps),
        daemon_json,
        dockerd,
        files,
    };
    tracing::debug!(
        files = facts.files.len(),
        dockerd = facts.dockerd.is_some(),
        gaps = gaps.len(),
        "host facts collected"
    );
    (facts, gaps)
}

/// Why `--host-root DIR` cannot be used, if it cannot: it must be a directory holding `etc/` and
/// `usr/` or `proc/`, as every Linux root filesystem does. An empty or mistyped directory
/// would otherwise read as a host where every file is missing.
pub(crate) fn check_host_root(dir: &Path) -> Result<(), String> {
    let is_dir = |sub: &str| dir.join(sub).is_dir();
    match std::fs::metadata(dir) {
        Err(e) => return Err(format!("--host-root {}: {e}", dir.display())),
        Ok(m) if !m.is_dir() => {
            return Err(format!("--host-root {} is not a directory", dir.display()))
        }
        Ok(_) => {}
    }
    if is_dir("etc") && (is_dir("usr") || is_dir("proc")) {
        return Ok(());
    }
    Err(format!(
        "--host-root {} does not look like a root filesystem (it needs etc/ and usr/ or \
         proc/); mount the host's / there, e.g. docker run -v /:/host:ro ... --host-root /host",
        dir.display()
    ))
}

/// Mount points of the host's PID 1 mount namespace, in mountinfo order.
fn read_mounts(root: &HostRoot, gaps: &mut Vec<Gap>) -> Option<Vec<String>> {
    match root
        .join("/proc/1/mountinfo")
        .and_then(|path| read_regular(&path))
    {
        Ok(text) => Some(parse_mountinfo(&text)),
        Err(e) => {
            gaps.push(gap("host:/proc/1/mountinfo", e));
            None
        }
    }
}

/// Field 5 of each mountinfo line (the mount point), with `\040`-style escapes decoded.
fn parse_mountinfo(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(unescape_octal)
        .collect()
}

/// Decodes the kernel's `\ooo` escapes (space, tab, newline, backslash) in mountinfo fields.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(d)) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `DOCKER_CONTENT_TRUST*` settings from `/etc/environment`; empty when the file or the settings
/// are absent, `None` (with a gap) when the file cannot be read.
fn read_client_env(
    root: &HostRoot,
    gaps: &mut Vec<Gap>,
) -> Option<std::collections::BTreeMap<String, String>> {
    const PATH: &str = "/etc/environment";
    let text = match root.read_to_string(PATH) {
        Ok(t) => t,
        Err(e) if is_missing(&e) => String::new(),
        Err(e) => {
            gaps.push(gap(format!("host:{PATH}"), e));
            return None;
        }
    };
    Some(
        text.lines()
            .map(|l| l.trim().trim_start_matches("export ").trim())
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.trim().starts_with("DOCKER_CONTENT_TRUST"))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.trim().trim_matches(|c| c == '"' || c == '\'').to_string(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn proc_links_are_never_followed_out_of_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path());
        // `<root>/proc -> /proc` would pull in this machine's processes.
        std::os::unix::fs::symlink("/proc", dir.path().join("proc")).unwrap();
        let e = root.join("/proc/1/mountinfo").expect_err("a linked /proc");
        assert!(
            e.to_string()
                .contains("/proc under the host root is a symbolic link"),
            "{e}"
        );
        // `<root>/proc/77/cmdline -> /tmp/x` would make any file dockerd's arguments.
        std::fs::remove_file(dir.path().join("proc")).unwrap();
        std::fs::create_dir_all(dir.path().join("proc/77")).unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "dockerd\0--iptables=false\0").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("proc/77/cmdline")).unwrap();
        let e = root.join("/proc/77/cmdline").expect_err("a linked cmdline");
        assert!(
            e.to_string()
                .contains("/proc/77/cmdline under the host root"),
            "{e}"
        );
        // A real file is joined as it is.
        std::fs::write(dir.path().join("proc/77/comm"), "dockerd\n").unwrap();
        assert_eq!(
            root.join("/proc/77/comm").unwrap(),
            dir.path().join("proc/77/comm")
        );
    }

    #[test]
    fn absolute_links_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("run")).unwrap();
        fs::create_dir_all(r.join("var")).unwrap();
        fs::write(r.join("run/docker.sock"), "").unwrap();
        symlink("/run", r.join("var/run")).unwrap();
        symlink("../../run/docker.sock", r.join("run/rel")).unwrap();
        let root = HostRoot::new(r);
        assert_eq!(
            root.resolve("/var/run/docker.sock").unwrap(),
            r.join("run/docker.sock")
        );
        // `..` cannot climb out of the root.
        assert_eq!(root.resolve("/run/rel").unwrap(), r.join("run/docker.sock"));
        assert!(is_missing(&root.resolve("/var/run/none").unwrap_err()));
    }

    #[test]
    fn a_staged_copy_knows_missing_from_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let asked = ["/etc/docker/daemon.json".to_string()]
            .into_iter()
            .collect();
        let root = HostRoot::staged(dir.path(), asked);
        assert!(is_missing(
            &root.resolve("/etc/docker/daemon.json").unwrap_err()
        ));
        let err = root.resolve("/etc/docker/seccomp.json").unwrap_err();
        assert!(!is_missing(&err));
        assert!(
            err.to_string()
                .contains("was not read from the remote host"),
            "{err}"
        );
    }

    #[test]
    fn symlink_loops_are_reported_not_followed_forever() {
        let dir = tempfile::tempdir().unwrap();
        symlink("/b", dir.path().join("a")).unwrap();
        symlink("/a", dir.path().join("b")).unwrap();
        let err = HostRoot::new(dir.path()).resolve("/a").unwrap_err();
        assert!(err.to_string().contains("too many levels"), "{err}");
    }

    #[test]
    fn mountinfo_mount_points_are_unescaped() {
        let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                    30 22 0:25 / /mnt/my\\040disk rw - tmpfs tmpfs rw\n\
                    31 22 0:26 / /var/lib/docker rw - xfs /dev/sdb rw\n";
        assert_eq!(
            parse_mountinfo(text),
            vec!["/", "/mnt/my disk", "/var/lib/docker"]
        );
        assert_eq!(unescape_octal("a\\134b\\011c\\"), "a\\b\tc\\");
    }

    #[test]
    fn a_bare_root_yields_gaps_and_nones_never_empty_lists() {
        let dir = tempfile::tempdir().unwrap();
        let served = Err("test: no daemon".to_string());
        let (facts, gaps) = collect_host(HostRoot::new(dir.path()), &served);
        assert_eq!(facts.mounts, None);
        assert_eq!(facts.dockerd, None);
        assert_eq!(facts.docker_group, None);
        let sources: Vec<_> = gaps.iter().map(|g| g.source.as_str()).collect();
        for expected in [
            "host:/etc/passwd",
            "host:/etc/group",
            "host:/proc (dockerd)",
            "host:/proc/1/mountinfo",
        ] {
            assert!(
                sources.contains(&expected),
                "{expected} missing in {sources:?}"
            );
        }
        // Without an identified daemon, no daemon.json is attributed to the engine.
        assert_eq!(facts.daemon_json, None);
        assert!(sources.contains(&"host:daemon.json"), "{sources:?}");
        assert!(facts.files.iter().all(|f| f.role != "daemon.json"));
        let dockerd_gap = gaps
            .iter()
            .find(|g| g.source == "host:/proc (dockerd)")
            .unwrap();
        assert_eq!(
            dockerd_gap.error,
            "the daemon serving the engine was not identified: test: no daemon"
        );
    }

    #[test]
    fn a_host_root_must_look_like_a_root_filesystem() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_host_root(dir.path()).unwrap_err();
        assert!(
            err.contains("does not look like a root filesystem"),
            "{err}"
        );
        let err = check_host_root(&dir.path().join("typo")).unwrap_err();
        assert!(err.contains("No such file or directory"), "{err}");
        fs::create_dir_all(dir.path().join("etc")).unwrap();
        assert!(check_host_root(dir.path()).is_err());
        fs::create_dir_all(dir.path().join("proc")).unwrap();
        assert_eq!(check_host_root(dir.path()), Ok(()));
        assert_eq!(check_host_root(Path::new("/")), Ok(()));
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("etc/docker/daemon.json")).unwrap();
        let fifo = r.join("etc/group");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let root = HostRoot::new(r);
        // Reading a FIFO without a writer would block forever; it must fail at once.
        let err = root.read_to_string("/etc/group").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a regular file but a FIFO (named pipe); refusing to read it"
        );
        assert!(!is_missing(&err));
        let err = root.read_to_string("/etc/docker/daemon.json").unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let err = read_regular(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("a character device"), "{err}");
        fs::write(r.join("etc/bad"), b"ok\xff").unwrap();
        let err = root.read_to_string("/etc/bad").unwrap_err();
        assert_eq!(err.to_string(), "not UTF-8 text (invalid byte at offset 2)");
    }

    #[test]
    fn content_trust_settings_are_read_from_etc_environment() {
        let dir = tempfile::tempdir().unwrap();
        let root = HostRoot::new(dir.path());
        let mut gaps = Vec::new();
        assert_eq!(read_client_env(&root, &mut gaps), Some(Default::default()));
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/environment"),
            "PATH=/usr/bin\nexport DOCKER_CONTENT_TRUST=\"1\"\nDOCKER_HOST=tcp://x\n",
        )
        .unwrap();
        let env = read_client_env(&root, &mut gaps).unwrap();
        assert_eq!(
            env.into_iter().collect::<Vec<_>>(),
            vec![("DOCKER_CONTENT_TRUST".to_string(), "1".to_string())]
        );
        assert!(gaps.is_empty());
    }
}
