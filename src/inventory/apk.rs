//! Alpine's apk database, `/lib/apk/db/installed`: one record per package, `X:value` lines,
//! records separated by blank lines. `P` name, `V` version, `A` architecture, `o` origin (the
//! source package advisories are filed under).

use super::{Package, PackageFormat};

/// Packages recorded in an apk `installed` file; `origin` names it in problems.
pub(super) fn parse(text: &str, origin: &str) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let mut record: Vec<(char, &str)> = Vec::new();
    let mut start = 1;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().chain(std::iter::once(&"")).enumerate() {
        if line.trim().is_empty() {
            if !record.is_empty() {
                let get = |k: char| record.iter().find(|(c, _)| *c == k).map(|(_, v)| *v);
                match (get('P'), get('V')) {
                    (Some(name), Some(version)) if !name.is_empty() && !version.is_empty() => {
                        packages.push(Package {
                            format: PackageFormat::Apk,
                            name: name.to_string(),
                            version: version.to_string(),
                            arch: get('A').map(str::to_string),
                            source_name: get('o').map(str::to_string),
                            source_version: None,
                        })
                    }
                    _ => problems.push(format!("{origin}:{start}: record lacks P: or V:")),
                }
                record.clear();
            }
            start = i + 2;
            continue;
        }
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(key), Some(':')) => record.push((key, &line[key.len_utf8() + 1..])),
            _ => problems.push(format!("{origin}:{}: line is not a `X:value` line", i + 1)),
        }
    }
    (packages, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_with_origin() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nT:the musl c library\n\n\
                    C:Q1def=\nP:libssl3\nV:3.1.4-r5\nA:x86_64\no:openssl\nF:lib\nR:libssl.so.3\n\n";
        let (pkgs, problems) = parse(text, "lib/apk/db/installed");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[1].name, "libssl3");
        assert_eq!(pkgs[1].version, "3.1.4-r5");
        assert_eq!(pkgs[1].advisory_name(), "openssl");
        assert_eq!(pkgs[0].arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn a_record_without_version_is_a_problem() {
        let (pkgs, problems) = parse("P:x\n\nP:y\nV:1-r0\n", "db");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(problems, ["db:1: record lacks P: or V:"]);
    }
}
