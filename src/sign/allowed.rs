//! OpenSSH `allowed_signers` files, with the meaning `ssh-keygen -Y verify` gives them
//! (ssh-keygen(1), "ALLOWED SIGNERS").
//!
//! A line is `principals [options] keytype base64 [comment]`. Principals are a comma-separated
//! list of patterns (`*`, `?`, and `!` to exclude), optionally in double quotes. The options
//! understood are the four OpenSSH defines: `namespaces="pattern,..."`, `valid-after="time"`,
//! `valid-before="time"` (`YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, UTC when it ends in `Z`
//! or `UTC`, else local time) and `cert-authority`. A line whose options cannot be read never
//! matches, as in OpenSSH, and is named when nothing else matched.
//!
//! `cert-authority` marks a CA key: it trusts signatures made with certificates the CA issued,
//! never signatures made with the CA key itself. dockproof does not verify certificate
//! signatures; such a signature is refused with a message (see [`super::TrustedKeys::verify`]).
//!
//! A plain public key line (`ssh-ed25519 AAAA... comment`, no principal) trusts that key for any
//! signer name; it cannot be combined with `--identity`.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use ssh_key::PublicKey;

/// One usable line of a trust file.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// 1-based line number.
    pub line: usize,
    /// Principal patterns; `None` for a plain public key line.
    pub principals: Option<String>,
    pub cert_authority: bool,
    pub namespaces: Option<String>,
    pub valid_after: Option<DateTime<Utc>>,
    pub valid_before: Option<DateTime<Utc>>,
    pub key: PublicKey,
}

/// Reads every line; returns the usable entries and, for the others, the line number and why it
/// is ignored.
pub(super) fn parse(text: &str) -> (Vec<Entry>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut ignored = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_start_matches([' ', '\t']).trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, i + 1) {
            Ok(entry) => entries.push(entry),
            Err(why) => ignored.push((i + 1, why)),
        }
    }
    (entries, ignored)
}

fn parse_line(line: &str, n: usize) -> Result<Entry, String> {
    let plain = |key| Entry {
        line: n,
        principals: None,
        cert_authority: false,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key,
    };
    if let Some(key) = read_key(line) {
        return Ok(plain(key));
    }
    let (principals, rest) = token(line).ok_or("no principals")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut entry = match read_key(rest) {
        Some(key) => plain(key),
        None => {
            let (options, key_text) = split_options(rest)?;
            let key = read_key(key_text.trim_start_matches([' ', '\t']))
                .ok_or("no valid public key after the options")?;
            let mut entry = plain(key);
            apply_options(&mut entry, options)?;
            entry
        }
    };
    entry.principals = Some(principals);
    Ok(entry)
}

/// `keytype base64` at the start of `text`, as OpenSSH's `sshkey_read` takes it.
fn read_key(text: &str) -> Option<PublicKey> {
    let mut parts = text.split([' ', '\t']).filter(|p| !p.is_empty());
    let (kind, data) = (parts.next()?, parts.next()?);
    PublicKey::from_openssh(&format!("{kind} {data}")).ok()
}

/// The first whitespace-delimited token, or a double-quoted one, and the rest.
fn token(text: &str) -> Option<(String, &str)> {
    if let Some(quoted) = text.strip_prefix('"') {
        let end = quoted.find('"')?;
        let rest = &quoted[end + 1..];
        return rest
            .starts_with([' ', '\t'])
            .then(|| (quoted[..end].to_string(), rest));
    }
    let end = text.find([' ', '\t']).unwrap_or(text.len());
    if end == text.len() {
        return None;
    }
    Some((text[..end].to_string(), &text[end..]))
}

/// Options run to the first blank outside double quotes.
fn split_options(text: &str) -> Result<(&str, &str), String> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Ok((&text[..i], &text[i..])),
            _ => {}
        }
    }
    Err(if quoted {
        "an option's quotes are not closed".into()
    } else {
        "no public key after the options".into()
    })
}

fn apply_options(entry: &mut Entry, mut opts: &str) -> Result<(), String> {
    while !opts.is_empty() {
        let lower = opts.to_ascii_lowercase();
        if lower.starts_with("cert-authority") {
            entry.cert_authority = true;
            opts = &opts["cert-authority".len()..];
        } else if let Some(name) = ["namespaces", "valid-after", "valid-before"]
            .into_iter()
            .find(|name| lower.starts_with(&format!("{name}=")))
        {
            let (value, rest) = dequote(&opts[name.len() + 1..])
                .ok_or_else(|| format!("`{name}=` needs a value in double quotes"))?;
            opts = rest;
            match name {
                "namespaces" if entry.namespaces.is_none() => entry.namespaces = Some(value),
                "valid-after" if entry.valid_after.is_none() => {
                    entry.valid_after = Some(parse_time(&value).ok_or("invalid valid-after time")?)
                }
                "valid-before" if entry.valid_before.is_none() => {
                    entry.valid_before =
                        Some(parse_time(&value).ok_or("invalid valid-before time")?)
                }
                _ => return Err(format!("more than one `{name}` option")),
            }
        } else {
            return Err(format!(
                "unknown option `{}`",
                opts.split(',').next().unwrap_or(opts)
            ));
        }
        match opts.strip_prefix(',') {
            Some("") => return Err("options end in a comma".into()),
            Some(rest) => opts = rest,
            None if opts.is_empty() => {}
            None => return Err("unknown option text".into()),
        }
    }
    if let (Some(after), Some(before)) = (entry.valid_after, entry.valid_before) {
        if before <= after {
            return Err("valid-before is not after valid-after".into());
        }
    }
    Ok(())
}

/// A double-quoted value (`\"` inside is a quote) and what follows it.
fn dequote(text: &str) -> Option<(String, &str)> {
    let body = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => return None,
            },
            '"' => return Some((out, &body[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// OpenSSH's absolute time: `YYYYMMDD[HHMM[SS]]`, UTC with a `Z` or `UTC` suffix, else local.
pub(super) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let (digits, utc) = match text.strip_suffix('Z').or_else(|| text.strip_suffix("UTC")) {
        Some(d) => (d, true),
        None => (text, false),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = match digits.len() {
        8 => NaiveDate::parse_from_str(digits, "%Y%m%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?,
        12 => NaiveDateTime::parse_from_str(&format!("{digits}00"), "%Y%m%d%H%M%S").ok()?,
        14 => NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()?,
        _ => return None,
    };
    if utc {
        Some(Utc.from_utc_datetime(&naive))
    } else {
        Local
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// OpenSSH's `match_pattern_list`: true when some pattern matches and no `!pattern` does.
pub(super) fn match_list(value: &str, patterns: &str) -> bool {
    let mut matched = false;
    for pattern in patterns.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(value, negated) => return false,
            Some(_) => {}
            None if glob(value, pattern) => matched = true,
            None => {}
        }
    }
    matched
}

/// `*` any run of characters, `?` any one character; everything else literal.
fn glob(value: &str, pattern: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut vi, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            vi += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEX2eTkZ0ORe6nXuYXaP0kTkFmmmRMuL4Zn3NQoT8Pm8";

    #[test]
    fn patterns_match_as_openssh_does() {
        assert!(match_list("auditor@example.com", "*@example.com"));
        assert!(match_list("a", "b,a"));
        assert!(!match_list("eve@example.com", "*@example.com,!eve@*"));
        assert!(match_list("file", "fil?"));
        assert!(!match_list("git", "file"));
        assert!(!match_list("x", ""));
    }

    #[test]
    fn lines_with_options_quotes_and_plain_keys_are_read() {
        let text = format!(
            "# trust\n\nplain {KEY}\n\"a b\" namespaces=\"file,git\",valid-after=\"20240101Z\" {KEY} c\n\
             d cert-authority {KEY}\n{KEY} comment\ne bogus=\"1\" {KEY}\nf namespaces=file {KEY}\n\
             g valid-after=\"20250101Z\",valid-before=\"20240101Z\" {KEY}\n"
        );
        let (entries, ignored) = parse(&text);
        let lines: Vec<usize> = entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert_eq!(entries[1].principals.as_deref(), Some("a b"));
        assert_eq!(entries[1].namespaces.as_deref(), Some("file,git"));
        assert_eq!(
            entries[1].valid_after.map(|t| t.to_rfc3339()),
            Some("2024-01-01T00:00:00+00:00".into())
        );
        assert!(entries[2].cert_authority);
        assert_eq!(entries[3].principals, None);
        let ignored: Vec<usize> = ignored.iter().map(|(n, _)| *n).collect();
        assert_eq!(ignored, vec![7, 8, 9]);
    }

    #[test]
    fn times_are_read_in_openssh_forms() {
        let t = |s| parse_time(s).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(t("20240102Z").as_deref(), Some("2024-01-02 00:00:00"));
        assert_eq!(t("202401021304UTC").as_deref(), Some("2024-01-02 13:04:00"));
        assert_eq!(t("20240102130405Z").as_deref(), Some("2024-01-02 13:04:05"));
        assert_eq!(t("2024-01-02"), None);
        assert_eq!(t("20241302Z"), None);
    }
}
