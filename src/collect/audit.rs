//! Audit rules: the rules the kernel enforces, or failing that the rules configured on disk.
//!
//! When the host root is `/`, `auditctl -l` is run (with a [`AUDITCTL_TIMEOUT`]) because it shows
//! the rules actually loaded. When it is missing, fails (no `CAP_AUDIT_CONTROL`, as in most
//! containers) or the host root is elsewhere, the rule files are read instead:
//! `/etc/audit/audit.rules`, then every `/etc/audit/rules.d/*.rules` in name order. Blank and
//! comment lines are dropped and exact duplicates (audit.rules is usually generated from
//! rules.d) kept once. `source` says which of these was used and why.
//!
//! With `auditctl -l`, `auditctl -s` adds whether auditing is on, as the rule `-e N`. Whether an
//! `auditd` process runs is read from the host's `/proc` (`auditd_running`): rules
//! that nobody writes to a log record nothing.
//!
//! No rule file at all is an observation ("auditing not configured": `Some` with no rules); a
//! file that exists but cannot be read is a gap and `None`. This module runs no command but
//! `auditctl -l` and `auditctl -s`, and writes nothing.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::snapshot::{AuditRules, Gap};

use super::gap;
use super::host::{is_missing, HostRoot};

/// Longest wait for `auditctl -l`.
const AUDITCTL_TIMEOUT: Duration = Duration::from_secs(5);

const AUDIT_RULES: &str = "/etc/audit/audit.rules";
const RULES_D: &str = "/etc/audit/rules.d";

/// Reads the audit rules in effect (or configured) on the host.
pub(crate) fn collect_audit_rules(root: &HostRoot, gaps: &mut Vec<Gap>) -> Option<AuditRules> {
    let mut audit = rules_in_force(root, gaps)?;
    audit.auditd_running = auditd_running(root);
    Some(audit)
}

/// Whether a process named `auditd` runs, from the host's `/proc`; `None` when `/proc` cannot
/// be listed or shows no process at all (not the host's own).
fn auditd_running(root: &HostRoot) -> Option<bool> {
    let entries = std::fs::read_dir(root.join("/proc").ok()?).ok()?;
    let mut seen = false;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        seen = true;
        let comm = root
            .join(&format!("/proc/{pid}/comm"))
            .and_then(|p| super::host::read_regular(&p));
        if let Ok(comm) = comm {
            if comm.trim_end() == "auditd" {
                return Some(true);
            }
        }
    }
    seen.then_some(false)
}

fn rules_in_force(root: &HostRoot, gaps: &mut Vec<Gap>) -> Option<AuditRules> {
    let mut why_not_auditctl = None;
    if root.is_system_root() {
        match run_auditctl("-l") {
            Ok(out) => {
                let mut rules: Vec<String> = rule_lines(&out)
                    .into_iter()
                    .filter(|l| l != "No rules")
                    .collect();
                // `-l` does not show whether auditing is on; `-s` does, as the line a rule
                // file would use for it (`-e N`), so the rules are judged with it.
                let source = match run_auditctl("-s").map(|s| enabled_flag(&s)) {
                    Ok(Some(n)) => {
                        rules.push(format!("-e {n}"));
                        format!("auditctl -l; auditctl -s (enabled {n})")
                    }
                    Ok(None) => "auditctl -l (auditctl -s shows no enabled flag)".to_string(),
                    Err(why) => format!("auditctl -l (auditctl -s unavailable: {why})"),
                };
                return Some(AuditRules {
                    source,
                    rules,
                    auditd_running: None,
                });
            }
            Err(why) => {
                tracing::debug!(%why, "auditctl unavailable; reading rule files");
                why_not_auditctl = Some(why);
            }
        }
    }
    let mut audit = read_rule_files(root, gaps)?;
    if let Some(why) = why_not_auditctl {
        audit.source = format!("{} (auditctl -l unavailable: {why})", audit.source);
    }
    Some(audit)
}

fn read_rule_files(root: &HostRoot, gaps: &mut Vec<Gap>) -> Option<AuditRules> {
    let mut candidates = vec![AUDIT_RULES.to_string()];
    match root.resolve(RULES_D).and_then(std::fs::read_dir) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.ends_with(".rules"))
                .collect();
            names.sort();
            candidates.extend(names.into_iter().map(|n| format!("{RULES_D}/{n}")));
        }
        Err(e) if is_missing(&e) => {}
        Err(e) => {
            gaps.push(gap(format!("host:{RULES_D}"), e));
            return None;
        }
    }
    let mut read = Vec::new();
    let mut rules: Vec<String> = Vec::new();
    for path in candidates {
        match root.read_to_string(&path) {
            Ok(text) => {
                for rule in rule_lines(&text) {
                    if !rules.contains(&rule) {
                        rules.push(rule);
                    }
                }
                read.push(path);
            }
            Err(e) if is_missing(&e) => {}
            Err(e) => {
                gaps.push(gap(format!("host:{path}"), e));
                return None;
            }
        }
    }
    let source = if read.is_empty() {
        format!(
            "no audit rule files ({AUDIT_RULES}, {RULES_D}/*.rules): auditing is not configured"
        )
    } else {
        format!("files: {}", read.join(", "))
    };
    Some(AuditRules {
        source,
        rules,
        auditd_running: None,
    })
}

/// Non-empty, non-comment lines.
fn rule_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The `enabled` value of `auditctl -s` output: `enabled 1` (current auditctl) or
/// `AUDIT_STATUS: enabled=1 flag=1 ...` (older versions).
fn enabled_flag(status: &str) -> Option<u8> {
    status.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        match words.as_slice() {
            ["enabled", n, ..] => n.parse().ok(),
            _ => words
                .iter()
                .find_map(|w| w.strip_prefix("enabled="))
                .and_then(|n| n.parse().ok()),
        }
    })
}

/// Runs `auditctl ARG` and returns its output; the error says why its answer cannot be used.
/// Where Debian, Ubuntu, RHEL and SUSE install auditctl. It is called by absolute path, never
/// looked up through `$PATH`, which the invoking user controls.
const AUDITCTL_PATHS: [&str; 2] = ["/sbin/auditctl", "/usr/sbin/auditctl"];

fn run_auditctl(arg: &str) -> Result<String, String> {
    let program = AUDITCTL_PATHS
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or_else(|| "auditctl is not installed".to_string())?;
    let mut child = Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "auditctl is not installed".to_string(),
            _ => format!("cannot run auditctl: {e}"),
        })?;
    // Drain the pipes on threads so a long rule list cannot block the child.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + AUDITCTL_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "auditctl {arg} did not finish within {} s",
                    AUDITCTL_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("cannot wait for auditctl: {e}")),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("auditctl {arg} failed ({status}): {}", err.trim()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_enabled_flag_is_read_from_auditctl_status() {
        let status = "enabled 0\nfailure 1\npid 0\nrate_limit 0\nbacklog_limit 8192\n";
        assert_eq!(enabled_flag(status), Some(0));
        assert_eq!(enabled_flag("enabled 2\n"), Some(2));
        assert_eq!(enabled_flag("AUDIT_STATUS: enabled=1 flag=1"), Some(1));
        assert_eq!(enabled_flag("enabled\n"), None);
        assert_eq!(enabled_flag(""), None);
    }

    #[test]
    fn rule_files_are_read_in_order_without_comments_or_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("etc/audit/rules.d")).unwrap();
        fs::write(
            r.join("etc/audit/audit.rules"),
            "## generated\n-D\n-w /usr/bin/dockerd -k docker\n",
        )
        .unwrap();
        fs::write(
            r.join("etc/audit/rules.d/50-docker.rules"),
            "# docker\n\n-w /usr/bin/dockerd -k docker\n-w /var/lib/docker -k docker\n",
        )
        .unwrap();
        fs::write(r.join("etc/audit/rules.d/10-base.rules"), "-b 8192\n").unwrap();
        fs::write(r.join("etc/audit/rules.d/README"), "-w /ignored\n").unwrap();
        let mut gaps = Vec::new();
        let got = collect_audit_rules(&HostRoot::new(r), &mut gaps).unwrap();
        assert_eq!(
            got.rules,
            [
                "-D",
                "-w /usr/bin/dockerd -k docker",
                "-b 8192",
                "-w /var/lib/docker -k docker"
            ]
        );
        assert_eq!(
            got.source,
            "files: /etc/audit/audit.rules, /etc/audit/rules.d/10-base.rules, \
             /etc/audit/rules.d/50-docker.rules"
        );
        assert!(gaps.is_empty());
    }

    #[test]
    fn no_rule_files_is_an_observation_with_no_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut gaps = Vec::new();
        let got = collect_audit_rules(&HostRoot::new(dir.path()), &mut gaps).unwrap();
        assert!(got.rules.is_empty());
        assert!(got.source.contains("auditing is not configured"));
        assert!(gaps.is_empty());
    }

    #[test]
    fn an_unreadable_rule_file_is_a_gap_and_none() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("etc/audit/rules.d/x.rules")).unwrap();
        fs::create_dir_all(dir.path().join("etc/audit/audit.rules")).unwrap();
        let mut gaps = Vec::new();
        assert_eq!(
            collect_audit_rules(&HostRoot::new(dir.path()), &mut gaps),
            None
        );
        assert_eq!(gaps[0].source, "host:/etc/audit/audit.rules");
    }
}
