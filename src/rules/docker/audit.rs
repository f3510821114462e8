//! Whether the kernel's audit rules record changes to a path, read as auditd applies them.
//!
//! The rule list is taken in the order the kernel evaluates it: `-D` empties what came before,
//! `-A` puts a rule at the front, `-a` and `-w` append. For a write to the path the first rule
//! that matches decides: a `never` rule on the exit list whose `dir=`/`path=` covers the path
//! (or that has no filter at all) excludes it, so a later watch records nothing; a watch or
//! `always` rule matches only if its permissions include writes or attribute changes (`-p x`
//! alone records runs, not changes). `-a never,task` without fields switches syscall auditing
//! off for every task, an exclude rule on SYSCALL or PATH records drops what watches write, and
//! the last `-e 0` disables auditing. A watch then only takes effect while auditd runs
//! (`auditd_running`, from the host's /proc); when that was not collected the answer is an
//! error, not a guess.

use std::collections::VecDeque;

use serde_json::Value as Json;

/// The outcome for one path.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Watched(String),
    Excluded(String),
    Disabled(String),
    NoRule,
}

impl Verdict {
    pub fn describe(&self) -> String {
        match self {
            Verdict::Watched(r) => format!("watched by `{r}`"),
            Verdict::Excluded(r) => format!(
                "not recorded: `{r}` matches first and excludes it (auditd applies the first matching rule)"
            ),
            Verdict::Disabled(r) => format!("not recorded: auditing is switched off by `{r}`"),
            Verdict::NoRule => "not recorded: no rule watches it for writes or attribute changes".into(),
        }
    }
}

/// One parsed rule.
struct Rule<'a> {
    text: &'a str,
    /// `(list, action)` of `-a`/`-A`; `-w` is `("exit", "always")`.
    list: String,
    action: String,
    watch: Option<&'a str>,
    fields: Vec<(&'a str, &'a str)>,
    perms: Option<&'a str>,
    syscalls: bool,
}

fn parse(text: &str) -> Option<(bool, Rule<'_>)> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut rule = Rule {
        text,
        list: String::new(),
        action: String::new(),
        watch: None,
        fields: Vec::new(),
        perms: None,
        syscalls: false,
    };
    let mut prepend = false;
    let mut i = 0;
    while i < tokens.len() {
        let value = tokens.get(i + 1).copied();
        match tokens[i] {
            "-w" => {
                rule.watch = value;
                rule.list = "exit".into();
                rule.action = "always".into();
            }
            "-a" | "-A" => {
                prepend = tokens[i] == "-A";
                let (a, b) = value?.split_once(',')?;
                let (list, action) = if matches!(a, "always" | "never") {
                    (b, a)
                } else {
                    (a, b)
                };
                rule.list = list.to_string();
                rule.action = action.to_string();
            }
            "-F" => {
                if let Some((k, v)) = value.and_then(|v| v.split_once('=')) {
                    if k == "perm" {
                        rule.perms = Some(v);
                    } else {
                        rule.fields.push((k, v));
                    }
                }
            }
            "-p" => rule.perms = value,
            "-S" => rule.syscalls = value != Some("all"),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    (!rule.list.is_empty()).then_some((prepend, rule))
}

fn covers(dir: &str, target: &str) -> bool {
    super::super::path_below_or_equal(target, dir, true)
}

/// The verdict for writes to `path` under the rules of `audit` (`{rules, ...}`).
pub fn verdict(audit: &Json, path: &str) -> Result<Verdict, String> {
    let lines: Vec<&str> = audit
        .get("rules")
        .and_then(Json::as_array)
        .ok_or("audit_rules has no rule list")?
        .iter()
        .map(|r| r.as_str().ok_or("audit rule is not a string"))
        .collect::<Result<_, _>>()?;
    // A deque, so that a hostile list of many `-A` rules stays linear.
    let mut ordered: VecDeque<Rule> = VecDeque::new();
    let mut disabled: Option<&str> = None;
    for line in lines {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        match tokens.as_slice() {
            ["-D", ..] => ordered.clear(),
            ["-e", level, ..] => disabled = (*level == "0").then_some(line),
            _ => {
                if let Some((prepend, rule)) = parse(line) {
                    if prepend {
                        ordered.push_front(rule);
                    } else {
                        ordered.push_back(rule);
                    }
                }
            }
        }
    }
    if let Some(rule) = disabled {
        return Ok(Verdict::Disabled(rule.to_string()));
    }
    for rule in &ordered {
        let all_events = rule.fields.iter().all(|(k, _)| *k == "arch") && !rule.syscalls;
        match (rule.list.as_str(), rule.action.as_str()) {
            ("task", "never") if rule.fields.is_empty() => {
                return Ok(Verdict::Disabled(rule.text.to_string()))
            }
            ("exclude", "always" | "never")
                if rule.fields.is_empty()
                    || rule.fields.iter().any(|(k, v)| {
                        *k == "msgtype" && matches!(*v, "SYSCALL" | "PATH" | "CWD")
                    }) =>
            {
                return Ok(Verdict::Disabled(rule.text.to_string()))
            }
            ("exit", action) => {
                let on_path = rule.watch.is_some_and(|w| covers(w, path))
                    || rule.fields.iter().any(|(k, v)| {
                        (*k == "dir" && covers(v, path)) || (*k == "path" && *v == path)
                    });
                let has_path_filter = rule.watch.is_some()
                    || rule
                        .fields
                        .iter()
                        .any(|(k, _)| matches!(*k, "dir" | "path"));
                if action == "never" && (on_path || (!has_path_filter && all_events)) {
                    return Ok(Verdict::Excluded(rule.text.to_string()));
                }
                let writes = match rule.perms {
                    Some(p) => p.contains('w') || p.contains('a'),
                    None => rule.watch.is_some() || !rule.syscalls,
                };
                if action == "always" && on_path && writes {
                    return Ok(Verdict::Watched(rule.text.to_string()));
                }
            }
            _ => {}
        }
    }
    Ok(Verdict::NoRule)
}

/// Whether writes to `path` are recorded: a watching rule and auditd running. Unknown auditd
/// state is an error when it is all that decides.
pub fn watched(audit: &Json, path: &str) -> Result<bool, String> {
    match verdict(audit, path)? {
        Verdict::Watched(_) => match audit.get("auditd_running").and_then(Json::as_bool) {
            Some(running) => Ok(running),
            None => Err(format!(
                "a rule watches {path}, but whether auditd runs was not collected (snapshot without auditd_running)"
            )),
        },
        _ => Ok(false),
    }
}
