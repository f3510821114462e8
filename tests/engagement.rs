//! The engagement scope (`--scope`), run provenance and top risks, end to end through the real
//! binary: the PDF read back with poppler's `pdftotext` (Debian package `poppler-utils`), the
//! HTML and `assessment.json` parsed here independently of the renderers.
//!
//! Without poppler the PDF tests fail under `CI=true` and print SKIPPED otherwise.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const SCOPE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/scope.yaml");
const WAIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml");
const NO_SCOPE: &str = "No engagement scope was declared";

fn poppler_available() -> bool {
    let found = Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stderr.is_empty());
    if !found {
        let message = "pdftotext not found: install poppler-utils (apt-get install -y \
                       poppler-utils) to test report.pdf";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// Text of the PDF in content-stream order, pages separated by form feeds.
fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-raw")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success(), "{}", common::stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `dockproof report` on the insecure sample with `extra` arguments into `dir/bundle`.
fn report(dir: &Path, extra: &[&str]) -> (Output, std::path::PathBuf) {
    let bundle = dir.join("bundle");
    let mut args = vec!["report", INSECURE, "--format", "html,pdf,json", "--out"];
    let bundle_arg = bundle.to_string_lossy().into_owned();
    args.push(&bundle_arg);
    args.extend_from_slice(extra);
    (common::dockproof(&args), bundle)
}

fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_marking_and_entity_are_on_every_pdf_page_and_absent_scope_is_said() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, bundle) = report(dir.path(), &["--scope", SCOPE]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = pdf_text(&bundle.join("report.pdf"));
    let pages: Vec<&str> = text
        .split('\x0c')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() > 10, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        let page = flat(page);
        for needle in [
            "Confidential - prepared for Example Payments Ltd",
            "Example Payments Ltd",
        ] {
            assert!(page.contains(needle), "{needle:?} not on page {}", i + 1);
        }
    }
    let all = flat(&text);
    for needle in [
        "Assessed entity Example Payments Ltd",
        "Cardholder data environment (CDE)",
        "Dana Auditor, Example Assurance LLP",
        "EPL-2026-PCI-014",
        "2026-11-02 to 2026-12-11",
        "Run provenance",
    ] {
        assert!(all.contains(needle), "{needle:?} not in the PDF");
    }
    assert!(!all.contains(NO_SCOPE));
    // The executive summary comes before scope and method.
    let summary = all.find("Executive summary").expect("summary");
    let scope = all.find("Scope and method").expect("scope");
    assert!(summary < scope);

    let dir = tempfile::tempdir().expect("temp dir");
    let (out, bundle) = report(dir.path(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let all = flat(&pdf_text(&bundle.join("report.pdf")));
    assert!(all.contains(NO_SCOPE), "no-scope sentence missing");
    let html = std::fs::read_to_string(bundle.join("report.html")).expect("html");
    assert!(html.contains(NO_SCOPE));
    let json: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap())
            .expect("json");
    assert_eq!(json["scope"], Value::Null);
}

/// `(check id, resource kind, resource id)` of every unwaived critical or high failure, read
/// from assessment.json's results.
fn expected_risks(a: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = a["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["status"] == "fail" && r.get("waiver").is_none_or(Value::is_null))
        .filter(|r| r["severity"] == "critical" || r["severity"] == "high")
        .map(|r| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&r["check_id"]),
                s(&r["resource"]["kind"]),
                s(&r["resource"]["id"]),
            )
        })
        .collect();
    v.sort();
    v
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the tag text `tag`.
fn attr(tag: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let start = tag.find(&key).map(|i| i + key.len()).expect("attribute");
    let end = tag[start..].find('"').expect("closing quote") + start;
    unescape(&tag[start..end])
}

#[test]
fn top_risks_in_pdf_html_and_json_equal_the_unwaived_critical_and_high_failures() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, bundle) = report(dir.path(), &["--waivers", WAIVERS]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let a: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap()).unwrap();
    let expected = expected_risks(&a);
    assert!(expected.len() > 3, "{expected:?}");
    // The sample waives a critical failure: it must not be a top risk.
    let waived_critical =
        a["results"].as_array().unwrap().iter().any(|r| {
            r["status"] == "fail" && r["severity"] == "critical" && r["waiver"].is_string()
        });
    assert!(
        waived_critical,
        "the sample waivers cover a critical failure"
    );

    // assessment.json's own list.
    let mut stored: Vec<_> = a["top_risks"]
        .as_array()
        .expect("top_risks")
        .iter()
        .flat_map(|asset| {
            let kind = asset["resource"]["kind"].as_str().unwrap_or_default();
            let id = asset["resource"]["id"].as_str().unwrap_or_default();
            asset["risks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |r| {
                    (
                        r["check_id"].as_str().unwrap_or_default().to_string(),
                        kind.to_string(),
                        id.to_string(),
                    )
                })
        })
        .collect();
    stored.sort();
    assert_eq!(stored, expected);

    // The HTML rows.
    let html = std::fs::read_to_string(bundle.join("report.html")).expect("html");
    let mut rows: Vec<_> = html
        .match_indices("<tr data-top-risk ")
        .map(|(i, _)| {
            let tag = &html[i..i + html[i..].find('>').expect("tag end")];
            (
                attr(tag, "data-check"),
                attr(tag, "data-kind"),
                attr(tag, "data-resource"),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows, expected);
    assert!(html.find("id=\"top-risks\"") < html.find("id=\"run-provenance\""));

    // The PDF section: every check id named in it, as often as the JSON has failures of it.
    let text = pdf_text(&bundle.join("report.pdf"));
    let start = text.find("\nTop risks\n").expect("Top risks heading");
    let end = text[start..]
        .find("Requirement evidence states")
        .expect("legend after top risks")
        + start;
    let check_ids: Vec<&str> = a["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    let mut in_pdf: BTreeMap<String, usize> = BTreeMap::new();
    for word in text[start..end].split_whitespace() {
        if check_ids.contains(&word) {
            *in_pdf.entry(word.to_string()).or_default() += 1;
        }
    }
    let mut want: BTreeMap<String, usize> = BTreeMap::new();
    for (check, _, _) in &expected {
        *want.entry(check.clone()).or_default() += 1;
    }
    assert_eq!(in_pdf, want);
}

/// Runs `report` with `--scope FILE` and asserts exit 2, a message naming `file` (and `line`)
/// and no bundle.
fn refused(scope: &Path, line: Option<usize>, needle: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let scope_arg = scope.to_string_lossy().into_owned();
    let (out, bundle) = report(dir.path(), &["--scope", &scope_arg]);
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let named = match line {
        Some(n) => format!("{}:{n}:", scope.display()),
        None => scope.display().to_string(),
    };
    assert!(err.contains(&named), "{named:?} not in {err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    assert!(!bundle.exists(), "a bundle was written");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn scope_file_errors_exit_2_naming_the_file_and_line_and_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let unknown = write("unknown.yaml", "entity: X\nmarkng: Secret\n");
    refused(&unknown, Some(2), "unknown field `markng`");
    let role = write("role.yaml", "entity: X\nhost:\n  role: cde\n");
    refused(&role, Some(3), "unknown variant `cde`");
    let label = write(
        "label.yaml",
        "entity: X\nhost:\n  labels:\n    env: prod\n    'bad key': x\n",
    );
    refused(&label, Some(5), "label key \"bad key\"");
    refused(
        &dir.path().join("missing.yaml"),
        None,
        "cannot read the scope file",
    );
    refused(dir.path(), None, "is a directory");
    let fifo = dir.path().join("scope.fifo");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());
    refused(&fifo, None, "is a FIFO");
}

#[test]
fn the_recorded_command_line_never_holds_a_secret_given_on_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("id_secretname");
    let keygen = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(keygen.success());
    let key_arg = key.to_string_lossy().into_owned();
    let bundle = dir.path().join("bundle");
    let bundle_arg = bundle.to_string_lossy().into_owned();
    // The engine is unreachable, so the saved sample is reported: the command line still is
    // the one given.
    let out = common::dockproof(&[
        "scan",
        "-H",
        "tcp://admin:hunter2pw@127.0.0.1:9",
        "--fallback-snapshot",
        INSECURE,
        "--param",
        "trusted_registries=https://ci:s3cretpw@registry.example.com",
        "--sign",
        &key_arg,
        "--scope",
        SCOPE,
        "--format",
        "html,json",
        "--out",
        &bundle_arg,
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let a: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap()).unwrap();
    let line: Vec<&str> = a["provenance"]["command_line"]
        .as_array()
        .expect("command line")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let joined = line.join(" ");
    for secret in ["hunter2pw", "s3cretpw", "id_secretname"] {
        assert!(!joined.contains(secret), "{secret} in {joined}");
    }
    for kept in [
        "scan",
        "127.0.0.1:9",
        "trusted_registries=",
        "--sign",
        "--scope",
    ] {
        assert!(joined.contains(kept), "{kept} not in {joined}");
    }
    let html = std::fs::read_to_string(bundle.join("report.html")).expect("html");
    for secret in ["hunter2pw", "id_secretname"] {
        assert!(!html.contains(secret), "{secret} in report.html");
    }
    // The scope file is recorded with its hash.
    let inputs = a["provenance"]["inputs"].as_array().expect("inputs");
    let scope = inputs.iter().find(|i| i["role"] == "scope").expect("scope");
    let sha = Command::new("sha256sum")
        .arg(SCOPE)
        .output()
        .expect("sha256sum");
    let sha = String::from_utf8_lossy(&sha.stdout);
    assert_eq!(scope["sha256"].as_str(), sha.split_whitespace().next());
}

#[test]
fn an_overriding_catalog_is_named_hashed_and_flagged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let controls = dir.path().join("controls");
    std::fs::create_dir_all(controls.join("checks")).unwrap();
    let builtin = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/controls/checks/containers.yaml"
    );
    let copy = controls.join("checks/containers.yaml");
    std::fs::copy(builtin, &copy).unwrap();
    let controls_arg = controls.to_string_lossy().into_owned();
    let (out, bundle) = report(dir.path(), &["--controls", &controls_arg]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let a: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("assessment.json")).unwrap()).unwrap();
    let files = a["provenance"]["catalog_files"].as_array().expect("files");
    let custom: Vec<&Value> = files.iter().filter(|f| f["origin"] != "builtin").collect();
    assert_eq!(custom.len(), 1, "{custom:?}");
    assert_eq!(custom[0]["origin"], "overrides");
    assert_eq!(custom[0]["name"], copy.to_string_lossy().as_ref());
    let sha = Command::new("sha256sum")
        .arg(&copy)
        .output()
        .expect("sha256sum");
    let sha = String::from_utf8_lossy(&sha.stdout);
    assert_eq!(custom[0]["sha256"].as_str(), sha.split_whitespace().next());
    let html = std::fs::read_to_string(bundle.join("report.html")).expect("html");
    assert!(html.contains("class=\"override-warning\""));
    assert!(html.contains("OVERRIDES a built-in catalog"));
}

#[test]
fn a_live_collection_records_the_account_as_id_reports_it() {
    if !common::engine_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let snapshot = dir.path().join("snapshot.json");
    let snapshot_arg = snapshot.to_string_lossy().into_owned();
    let out = common::dockproof(&["collect", "--images", "none", "-o", &snapshot_arg]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let s: Value = serde_json::from_slice(&std::fs::read(&snapshot).unwrap()).unwrap();
    let account = &s["collection"]["account"];
    let id = |flag: &str| -> String {
        let out = Command::new("id").arg(flag).output().expect("id runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(account["uid"].to_string(), id("-u"));
    assert_eq!(account["gid"].to_string(), id("-g"));
    assert_eq!(account["user"].as_str(), Some(id("-un").as_str()));
    assert_eq!(account["root"], id("-u") == "0");
    let in_docker = id("-Gn").split_whitespace().any(|g| g == "docker");
    let has_docker_group = std::fs::read_to_string("/etc/group")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("docker:"));
    if has_docker_group {
        assert_eq!(account["docker_group"], in_docker);
    } else {
        assert!(account.get("docker_group").is_none());
    }
}

#[test]
fn printing_the_html_puts_the_marking_on_every_page() {
    let chromium = std::env::var_os("CHROMIUM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/usr/bin/chromium".into());
    if !chromium.exists() || !poppler_available() {
        let message =
            "chromium not found: install it (apt-get install -y chromium) to print report.html";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle");
    let bundle_arg = bundle.to_string_lossy().into_owned();
    let hardened = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/hardened-host.snapshot.json"
    );
    let out = common::dockproof(&[
        "report",
        hardened,
        "--format",
        "html",
        "--scope",
        SCOPE,
        "--out",
        &bundle_arg,
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let printed = dir.path().join("printed.pdf");
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", printed.display()))
        .arg(format!("file://{}", bundle.join("report.html").display()))
        .output()
        .expect("chromium runs");
    assert!(printed.is_file(), "{}", common::stderr(&status));
    let text = pdf_text(&printed);
    let pages: Vec<&str> = text
        .split('\x0c')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() > 3, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert!(
            flat(page).contains(
                "Confidential - prepared for Example Payments Ltd · Example Payments Ltd"
            ),
            "marking not on printed page {}",
            i + 1
        );
    }
}
