//! The `SHA256SUMS` manifest of a bundle, read as GNU `sha256sum -c` reads it: `<hex>  <file>`
//! or `<hex> *<file>` per line, CRLF or LF line ends, blank lines ignored, `./` prefixes and
//! `\\`-escaped names. Paths that are absolute or climb out of the bundle are problems, never
//! opened. This module only parses text.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use super::verify::Problem;

/// One well-formed manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// 1-based line number in the manifest.
    pub line: usize,
    /// Expected SHA-256, lower-case hex.
    pub sha256: String,
    /// Path relative to the bundle, `/`-separated, with no `.` or `..` parts.
    pub path: String,
}

/// Parses a `sha256sum` manifest (`<hex>  <file>` or `<hex> *<file>` per line, CRLF or LF,
/// `\`-escaped names, blank lines ignored, as GNU `sha256sum -c` does). Returns the
/// well-formed entries and a problem, with its line number, for every other line.
pub fn parse_manifest(text: &str) -> (Vec<ManifestEntry>, Vec<Problem>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        return (entries, problems);
    }
    for (i, line) in body.split('\n').enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let entry = match parse_line(line) {
            Ok((sha256, path)) => (sha256, path),
            Err(reason) => {
                problems.push(Problem::Malformed { line: n, reason });
                continue;
            }
        };
        let Some(path) = normalise(&entry.1) else {
            problems.push(Problem::Escapes {
                line: n,
                path: entry.1,
            });
            continue;
        };
        if let Some(first) = seen.get(&path) {
            problems.push(Problem::Malformed {
                line: n,
                reason: format!("`{path}` is listed again (first on line {first})"),
            });
            continue;
        }
        seen.insert(path.clone(), n);
        entries.push(ManifestEntry {
            line: n,
            sha256: entry.0,
            path,
        });
    }
    (entries, problems)
}

fn parse_line(line: &str) -> Result<(String, String), String> {
    const EXPECTED: &str = "expected `<64 hex digits>  <file name>`";
    if line.trim().is_empty() {
        return Err(format!("a line of blanks; {EXPECTED}"));
    }
    // GNU's escaped form: a leading `\` says the name has `\\`, `\n` or `\r` in it.
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let b = line.as_bytes();
    if b.len() < 67 || !b[..64].iter().all(u8::is_ascii_hexdigit) {
        return Err(EXPECTED.to_string());
    }
    if b[64] != b' ' || (b[65] != b' ' && b[65] != b'*') {
        return Err(EXPECTED.to_string());
    }
    // The first 66 bytes are ASCII, so slicing there is on a character boundary.
    let name = &line[66..];
    let name = if escaped {
        unescape(name)?
    } else {
        name.to_string()
    };
    Ok((line[..64].to_ascii_lowercase(), name))
}

fn unescape(name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            _ => return Err("an escaped name with an unknown `\\` sequence".to_string()),
        }
    }
    Ok(out)
}

/// The path as `/`-joined plain components (`./a` and `a/./b` are `a` and `a/b`, the files
/// `sha256sum -c` opens for them), or `None` if it is absolute or climbs with `..`.
fn normalise(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn well_formed_lines_are_read_in_both_sha256sum_modes() {
        let text = format!("{H}  report.html\n{} *sub/data.bin\n", H.to_uppercase());
        let (entries, problems) = parse_manifest(&text);
        assert_eq!(problems, vec![]);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].path, "report.html");
        assert_eq!(entries[1].path, "sub/data.bin");
        assert_eq!(entries[1].sha256, H);
        assert_eq!(entries[1].line, 2);
    }

    #[test]
    fn malformed_lines_are_named_by_line_number() {
        let text = format!(
            "{H}  a\nnot a hash  b\n  \n{H}\tc\n{}  d\n\\{H}  e\\q\n",
            &H[..60]
        );
        let (entries, problems) = parse_manifest(&text);
        assert_eq!(entries.len(), 1);
        let lines: Vec<usize> = problems
            .iter()
            .map(|p| match p {
                Problem::Malformed { line, .. } => *line,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6]);
        assert!(problems[0]
            .to_string()
            .starts_with("malformed: SHA256SUMS line 2: expected"));
    }

    #[test]
    fn paths_leaving_the_bundle_are_rejected() {
        let text = ["../x", "/etc/passwd", "a/../../x", "a/.."]
            .iter()
            .map(|p| format!("{H}  {p}\n"))
            .collect::<String>();
        let (entries, problems) = parse_manifest(&text);
        assert_eq!(entries, vec![]);
        assert_eq!(problems.len(), 4);
        assert_eq!(
            problems[1],
            Problem::Escapes {
                line: 2,
                path: "/etc/passwd".into()
            }
        );
    }

    #[test]
    fn crlf_dot_slash_blank_and_escaped_lines_read_as_sha256sum_reads_them() {
        let text = format!("{H}  ./a\r\n\r\n{H}  b/./c\r\n\\{H}  new\\nline\\\\x\n\n");
        let (entries, problems) = parse_manifest(&text);
        assert_eq!(problems, vec![]);
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["a", "b/c", "new\nline\\x"]);
        assert_eq!(entries[1].line, 3);
    }

    #[test]
    fn a_file_listed_twice_is_malformed() {
        let (entries, problems) = parse_manifest(&format!("{H}  a\n{H}  a\n"));
        assert_eq!(entries.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "malformed: SHA256SUMS line 2: `a` is listed again (first on line 1)"
        );
    }
}
