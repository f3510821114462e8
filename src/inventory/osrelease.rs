//! `os-release` parsing (the freedesktop.org format: `KEY=value` lines, values optionally quoted
//! in shell style).

use super::OsRelease;

/// Parses os-release text read from `path`. `None` when the file names no `ID`.
pub(super) fn parse(text: &str, path: &str) -> Option<OsRelease> {
    let mut os = OsRelease {
        path: path.to_string(),
        ..OsRelease::default()
    };
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = Some(value),
            "VERSION_CODENAME" => os.version_codename = Some(value),
            "PRETTY_NAME" => os.pretty_name = Some(value),
            "ID_LIKE" => os.id_like = value.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    (!os.id.is_empty()).then_some(os)
}

/// Removes one level of shell quoting: `"a \"b\""` → `a "b"`, `'x'` → `x`.
fn unquote(raw: &str) -> String {
    if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        return raw[1..raw.len() - 1].to_string();
    }
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        let inner = &raw[1..raw.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('"' | '\\' | '$' | '`')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    raw.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_buster_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\nNAME=\"Debian GNU/Linux\"\n\
                    VERSION_ID=\"10\"\nVERSION_CODENAME=buster\nID=debian\n";
        let os = parse(text, "usr/lib/os-release").unwrap();
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("10"));
        assert_eq!(os.version_codename.as_deref(), Some("buster"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 10 (buster)")
        );
    }

    #[test]
    fn quoting_and_id_like() {
        let text = "ID='rhel'\nID_LIKE=\"fedora centos\"\nPRETTY_NAME=\"say \\\"hi\\\"\"\n";
        let os = parse(text, "etc/os-release").unwrap();
        assert_eq!(os.id, "rhel");
        assert_eq!(os.id_like, vec!["fedora", "centos"]);
        assert_eq!(os.pretty_name.as_deref(), Some("say \"hi\""));
        assert!(parse("NAME=x\n", "etc/os-release").is_none());
    }
}
