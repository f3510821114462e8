//! dpkg's database: `/var/lib/dpkg/status` and the one-file-per-package `status.d/` directory
//! that distroless images use instead.
//!
//! Both are deb822 paragraphs. A package counts as installed when its `Status` ends in
//! `installed` (`install ok installed`); `status.d` entries carry no `Status` and are installed
//! by construction. `Source: name (version)` gives a source version different from the binary
//! version (binNMUs, renamed library packages).

use super::{Package, PackageFormat};

/// Packages listed as installed in one dpkg status document. `origin` names the file in
/// problems; `status_required` is false for `status.d` files.
pub(super) fn parse(
    text: &str,
    origin: &str,
    status_required: bool,
) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let mut para: Vec<(String, String)> = Vec::new();
    let mut start_line = 1;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            finish(
                &mut para,
                start_line,
                &mut packages,
                &mut problems,
                origin,
                status_required,
            );
            start_line = n + 1;
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = para.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => para.push((k.trim().to_string(), v.trim().to_string())),
            None => problems.push(format!("{origin}:{n}: line is not a `Field: value` line")),
        }
    }
    finish(
        &mut para,
        start_line,
        &mut packages,
        &mut problems,
        origin,
        status_required,
    );
    (packages, problems)
}

fn finish(
    para: &mut Vec<(String, String)>,
    line: usize,
    packages: &mut Vec<Package>,
    problems: &mut Vec<String>,
    origin: &str,
    status_required: bool,
) {
    if para.is_empty() {
        return;
    }
    match paragraph(para, status_required) {
        Ok(Some(p)) => packages.push(p),
        Ok(None) => {}
        Err(what) => problems.push(format!("{origin}:{line}: {what}")),
    }
    para.clear();
}

fn paragraph(
    fields: &[(String, String)],
    status_required: bool,
) -> Result<Option<Package>, String> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    match get("Status") {
        Some(status) if status.split_whitespace().last() != Some("installed") => return Ok(None),
        None if status_required => {
            return Err(format!(
                "package {} has no Status field",
                get("Package").unwrap_or("(unnamed)")
            ))
        }
        _ => {}
    }
    let name = get("Package").filter(|v| !v.is_empty());
    let version = get("Version").filter(|v| !v.is_empty());
    let (Some(name), Some(version)) = (name, version) else {
        return Err("paragraph lacks Package or Version".to_string());
    };
    let (source_name, source_version) = match get("Source") {
        Some(src) => match src.split_once('(') {
            Some((n, v)) => (
                Some(n.trim().to_string()),
                Some(v.trim_end_matches(')').trim().to_string()),
            ),
            None => (Some(src.trim().to_string()), None),
        },
        None => (None, None),
    };
    Ok(Some(Package {
        format: PackageFormat::Deb,
        name: name.to_string(),
        version: version.to_string(),
        arch: get("Architecture").map(str::to_string),
        source_name,
        source_version,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "\
Package: bash
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Version: 4.2+dfsg-0.1+deb7u1
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.

Package: libssl1.0.0
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 1.0.1e-2+deb7u4

Package: removed-one
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: libc-bin
Status: install ok installed
Architecture: amd64
Source: glibc (2.13-38+deb7u1)
Version: 2.13-38+deb7u1+b1
";

    #[test]
    fn installed_packages_with_their_sources() {
        let (pkgs, problems) = parse(STATUS, "var/lib/dpkg/status", true);
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["bash", "libssl1.0.0", "libc-bin"]);
        assert_eq!(pkgs[0].version, "4.2+dfsg-0.1+deb7u1");
        assert_eq!(pkgs[0].advisory_name(), "bash");
        assert_eq!(pkgs[1].advisory_name(), "openssl");
        assert_eq!(pkgs[1].advisory_version(), "1.0.1e-2+deb7u4");
        assert_eq!(pkgs[2].source_name.as_deref(), Some("glibc"));
        assert_eq!(pkgs[2].advisory_version(), "2.13-38+deb7u1");
        assert_eq!(pkgs[2].arch.as_deref(), Some("amd64"));
    }

    #[test]
    fn malformed_paragraphs_are_named() {
        let (pkgs, problems) = parse(
            "Package: x\nStatus: install ok installed\n\ngarbage\n",
            "s",
            true,
        );
        assert!(pkgs.is_empty());
        assert_eq!(
            problems,
            [
                "s:1: paragraph lacks Package or Version",
                "s:4: line is not a `Field: value` line"
            ]
        );
        let (_, problems) = parse("Package: y\nVersion: 1\n", "s", true);
        assert_eq!(problems, ["s:1: package y has no Status field"]);
        let (pkgs, problems) = parse("Package: y\nVersion: 1\n", "status.d/y", false);
        assert!(problems.is_empty());
        assert_eq!(pkgs.len(), 1);
    }
}
