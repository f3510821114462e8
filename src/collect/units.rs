//! systemd unit files as systemd reads them: the unit, then its drop-ins merged in order.
//!
//! systemd looks for the unit in `/etc/systemd/system`, `/run/systemd/system`,
//! `/lib/systemd/system` and `/usr/lib/systemd/system` (first found wins), and for drop-ins in
//! `NAME.d/*.conf` under every one of those directories. Drop-ins are applied in file-name
//! order; a file in a higher-priority directory hides one of the same name lower down. For
//! list settings such as `ListenStream=` and `ExecStart=` every assignment appends and an empty
//! assignment empties the list.

use super::host::{is_missing, HostRoot};

/// Unit directories, highest priority first.
pub(crate) const UNIT_SEARCH_PATH: [&str; 4] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// The values of `key` in `[section]` of `unit` after its drop-ins; `None` when a file that
/// exists could not be read. A unit that does not exist has no values.
pub(crate) fn merged_values(
    root: &HostRoot,
    unit: &str,
    section: &str,
    key: &str,
) -> Option<Vec<String>> {
    let mut texts = Vec::new();
    if let Some(path) = UNIT_SEARCH_PATH
        .iter()
        .map(|d| format!("{d}/{unit}"))
        .find(|p| !matches!(root.resolve(p).and_then(std::fs::metadata), Err(e) if is_missing(&e)))
    {
        texts.push(root.read_to_string(&path).ok()?);
    }
    let mut dropins: Vec<(String, String)> = Vec::new();
    for dir in UNIT_SEARCH_PATH {
        let d = format!("{dir}/{unit}.d");
        let entries = match root.resolve(&d).and_then(std::fs::read_dir) {
            Ok(entries) => entries,
            Err(e) if is_missing(&e) => continue,
            Err(_) => return None,
        };
        for entry in entries.filter_map(Result::ok) {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if name.ends_with(".conf") && !dropins.iter().any(|(n, _)| *n == name) {
                dropins.push((name.clone(), format!("{d}/{name}")));
            }
        }
    }
    dropins.sort();
    for (_, path) in dropins {
        texts.push(root.read_to_string(&path).ok()?);
    }
    Some(merge(&texts, section, key))
}

/// The program docker.service starts: the first word of its last `ExecStart=` after drop-ins
/// (systemd's `-@:+!` prefixes removed), when it is an absolute path.
pub(crate) fn exec_start_program(root: &HostRoot) -> Option<String> {
    let line = merged_values(root, "docker.service", "Service", "ExecStart")?.pop()?;
    let program = line
        .trim_start_matches(['-', '@', ':', '+', '!'])
        .split_whitespace()
        .next()?;
    program.starts_with('/').then(|| program.to_string())
}

/// Applies the assignments of `key` in `[section]` of each text in turn.
pub(crate) fn merge(texts: &[String], section: &str, key: &str) -> Vec<String> {
    let mut values = Vec::new();
    for text in texts {
        let mut current = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                current = name.trim().to_string();
                continue;
            }
            if current != section {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            if k.trim() != key {
                continue;
            }
            let v = v.trim();
            if v.is_empty() {
                values.clear();
            } else {
                values.push(v.to_string());
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &std::path::Path, path: &str, text: &str) {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn dropins_append_and_an_empty_assignment_resets() {
        let unit =
            "[Unit]\nDescription=x\n[Socket]\nListenStream=/run/docker.sock\nSocketMode=0660\n";
        assert_eq!(
            merge(&[unit.to_string()], "Socket", "ListenStream"),
            ["/run/docker.sock"]
        );
        let texts = [
            unit.to_string(),
            "[Socket]\nListenStream=\nListenStream=2375\n".to_string(),
            "[Socket]\nListenStream=[::]:2376\n# ListenStream=9\n[Install]\nListenStream=1\n"
                .to_string(),
        ];
        assert_eq!(
            merge(&texts, "Socket", "ListenStream"),
            ["2375", "[::]:2376"]
        );
    }

    #[test]
    fn dropins_are_read_in_name_order_across_directories() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        write(
            r,
            "/lib/systemd/system/docker.socket",
            "[Socket]\nListenStream=/run/docker.sock\n",
        );
        write(
            r,
            "/etc/systemd/system/docker.socket.d/20-tcp.conf",
            "[Socket]\nListenStream=0.0.0.0:2375\n",
        );
        write(
            r,
            "/lib/systemd/system/docker.socket.d/10-reset.conf",
            "[Socket]\nListenStream=\n",
        );
        // Hidden by the /etc file of the same name.
        write(
            r,
            "/lib/systemd/system/docker.socket.d/20-tcp.conf",
            "[Socket]\nListenStream=9999\n",
        );
        write(
            r,
            "/etc/systemd/system/docker.socket.d/notes.txt",
            "[Socket]\nListenStream=1\n",
        );
        let root = HostRoot::new(r);
        assert_eq!(
            merged_values(&root, "docker.socket", "Socket", "ListenStream"),
            Some(vec!["0.0.0.0:2375".to_string()])
        );
        assert_eq!(
            merged_values(&root, "missing.socket", "Socket", "ListenStream"),
            Some(vec![])
        );
    }

    #[test]
    fn an_empty_exec_start_in_a_dropin_replaces_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let root = HostRoot::new(r);
        assert_eq!(exec_start_program(&root), None);
        write(
            r,
            "/lib/systemd/system/docker.service",
            "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n",
        );
        assert_eq!(
            exec_start_program(&root).as_deref(),
            Some("/usr/bin/dockerd")
        );
        write(
            r,
            "/etc/systemd/system/docker.service.d/override.conf",
            "[Service]\nExecStart=\nExecStart=-/opt/docker/bin/dockerd --config-file /etc/d.json\n",
        );
        assert_eq!(
            exec_start_program(&root).as_deref(),
            Some("/opt/docker/bin/dockerd")
        );
    }
}
