//! Hostile strings in everything the engine lets a user name or label, carried through one real
//! scan into every output format of one bundle: markup and script, spreadsheet formulas, terminal
//! escape sequences and other control characters, right-to-left overrides and other unicode, a
//! 1 MB label value, and a secret in environment values. Docker refuses markup in image tags
//! and container names, so those are checked as refused; networks, labels, environment names and
//! mount paths take anything.
//!
//! A site check (`--controls`) shows every label as evidence, so the hostile values reach every
//! renderer (HTML, PDF, CSV, SARIF, JUnit, OSCAL), not only the snapshot.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const SECRET: &str = "hunter2-SECRET-xyz";
const ALL_FORMATS: &str = "html,pdf,json,csv,requirements-csv,evidence-requests,sarif,junit,oscal";

/// Networks, images and extra containers this test made, removed on drop.
#[derive(Default)]
struct Made {
    networks: Vec<String>,
    images: Vec<String>,
    containers: Vec<String>,
}

impl Drop for Made {
    fn drop(&mut self) {
        let run = |args: Vec<&str>| {
            let _ = Command::new("docker").args(args).output();
        };
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.containers.iter().map(String::as_str));
            run(args);
        }
        for n in &self.networks {
            run(vec!["network", "rm", "--", n]);
        }
        for i in &self.images {
            run(vec!["image", "rm", "-f", "--", i]);
        }
    }
}

/// `POST path` with a JSON body straight to the engine socket (the docker CLI cannot pass a
/// 1 MB label: one command-line argument is limited to 128 KiB). Returns the status line.
fn engine_post(path: &str, body: &serde_json::Value) -> String {
    let body = body.to_string();
    let mut s = UnixStream::connect("/var/run/docker.sock").unwrap();
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_string()
}

/// `len` bytes of pseudo-random lowercase words: text a renderer has to lay out and a
/// compressor cannot shrink, so a report that embeds it whole shows in its size.
fn incompressible_words(len: usize) -> String {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.push(if state.is_multiple_of(9) {
            ' '
        } else {
            char::from(b'a' + (state % 26) as u8)
        });
    }
    out
}

/// The cells of an RFC 4180 document.
fn csv_cells(text: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cell.is_empty() => quoted = true,
            (',', false) | ('\n', false) => cells.push(std::mem::take(&mut cell)),
            ('\r', false) if chars.peek() == Some(&'\n') => {}
            (c, _) => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

const SITE_CHECK: &str = r#"checks:
  - id: container.site-labels
    title: Container carries an owner label
    description: Shows every label, so that label values reach every report format.
    rationale: r
    severity: medium
    resource: container
    rule: "'owner' in resource.Config.?Labels.orValue({})"
    expectation: an owner label
    evidence:
      Labels: resource.Config.?Labels.orValue({})
    remediation: Add --label owner=TEAM.
"#;

#[test]
fn hostile_strings_from_the_engine_are_inert_in_every_format() {
    if !engine_available() {
        return;
    }
    ensure_image();
    let pid = std::process::id();
    let mut made = Made::default();
    let mut c = Containers::new("names");
    let dir = tempfile::tempdir().unwrap();

    // Docker itself keeps markup out of image references and container names.
    let refused = Command::new("docker")
        .args(["tag", IMAGE, &format!("dockproof-test/x{pid}:<script>")])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let refused = Command::new("docker")
        .args(["create", "--name", "<script>", IMAGE])
        .output()
        .unwrap();
    assert!(!refused.status.success());

    let script = "<script>alert('dp')</script>";
    let formulas = ["=cmd|' /C calc'!A0", "+1", "@SUM(A1:A9)", "-2+3"];
    // Network names take anything: each formula starts a CSV cell (the resource name).
    for (i, name) in [script]
        .iter()
        .chain(formulas.iter())
        .map(|n| format!("{n}-{pid}"))
        .chain([format!("\u{202e}gnp.exe-{pid}")])
        .enumerate()
    {
        docker_ok(&["network", "create", "--label", LABEL, "--", &name]);
        made.networks.push(name);
        assert_eq!(made.networks.len(), i + 1);
    }

    let mount_src = dir.path().join("<img src=x onerror=alert('src')>");
    std::fs::create_dir_all(&mount_src).unwrap();
    let mount = format!(
        "{}:/mnt/=cmd|' /C calc'!A0 <svg onload=alert('dst')>",
        mount_src.display()
    );
    let labels = [
        format!("html={script}"),
        "<b/onmouseover=alert('key')>=key".to_string(),
        format!("formula={}", formulas[0]),
        format!("plus={}", formulas[1]),
        format!("at={}", formulas[2]),
        format!("minus={}", formulas[3]),
        "esc=\u{1b}[31mred\u{1b}[0m\u{1b}]0;title\u{7}".to_string(),
        "ctrl=a\rb\tc\u{8}d\u{7f}e\u{1}f\nnext".to_string(),
        "rtl=\u{202e}gnp.exe".to_string(),
        "unicode=зеркало 鏡 🪞 \u{200b}\u{feff}x".to_string(),
        "cdata=]]><x/>".to_string(),
    ];
    let mut flags: Vec<String> = Vec::new();
    for l in &labels {
        flags.extend(["--label".to_string(), l.clone()]);
    }
    for e in [
        format!("PASSWORD={SECRET}"),
        format!("{script}_TOKEN={SECRET}"),
        format!("@SUM(1)_API_KEY={SECRET}"),
        format!("PLAIN=\u{1b}[2J{SECRET}"),
    ] {
        flags.extend(["-e".to_string(), e]);
    }
    flags.extend(["-v".to_string(), mount]);
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let hostile = c.run("hostile", &flag_refs, true);

    // An image carrying the same, committed from that container.
    let image = format!("dockproof-test/hostile-{pid}:v1.0-_");
    docker_ok(&[
        "commit",
        "--change",
        &format!("ENV PASSWORD={SECRET}"),
        "--change",
        &format!("LABEL html=\"{script}\" formula=\"{}\"", formulas[0]),
        &hostile,
        &image,
    ]);
    made.images.push(image.clone());

    // A 1 MB label value, created through the API.
    let big_name = format!("dpt-{pid}-names-big");
    let big = incompressible_words(1 << 20);
    let status = engine_post(
        &format!("/containers/create?name={big_name}"),
        &json!({
            "Image": IMAGE,
            "Labels": {"dockproof.test": "1", "big": big},
            "Env": [format!("DB_PASSWORD={SECRET}")],
        }),
    );
    made.containers.push(big_name.clone());
    assert!(status.contains(" 201 "), "create: {status}");
    docker_ok(&["start", &big_name]);

    let controls = dir.path().join("controls");
    std::fs::create_dir_all(controls.join("checks")).unwrap();
    std::fs::write(controls.join("checks/site.yaml"), SITE_CHECK).unwrap();
    let out_parent = dir.path().join("out");
    let bundle = out_parent.join("bundle");
    let started = Instant::now();
    let out = dockproof(&[
        "scan",
        "--format",
        ALL_FORMATS,
        "--controls",
        controls.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]);
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        elapsed < Duration::from_secs(60),
        "the scan took {elapsed:?}"
    );
    let parent: Vec<_> = std::fs::read_dir(&out_parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(parent, ["bundle"], "leftovers beside the bundle");

    let read = |f: &str| std::fs::read(bundle.join(f)).unwrap();
    let text = |f: &str| String::from_utf8(read(f)).unwrap();
    let files = [
        "report.html",
        "report.pdf",
        "assessment.json",
        "snapshot.json",
        "findings.csv",
        "requirements.csv",
        "evidence-requests.csv",
        "results.sarif",
        "junit.xml",
        "oscal-assessment-results.json",
        "SHA256SUMS",
    ];
    // The secret is in no file, in any form.
    for f in files {
        let bytes = read(f);
        assert!(
            !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret reached {f}"
        );
    }
    // Everything was collected: the 1 MB label and the hostile labels are in the snapshot.
    let snapshot: serde_json::Value = serde_json::from_str(&text("snapshot.json")).unwrap();
    let containers = snapshot["engine"]["containers"].as_array().unwrap();
    let big_doc = containers
        .iter()
        .find(|c| c["Name"] == format!("/{big_name}"))
        .unwrap();
    assert_eq!(
        big_doc["Config"]["Labels"]["big"].as_str().unwrap().len(),
        1 << 20
    );
    let hostile_doc = containers
        .iter()
        .find(|c| c["Name"] == format!("/{hostile}"))
        .unwrap();
    assert_eq!(hostile_doc["Config"]["Labels"]["html"], script);

    // JSON formats parse.
    for f in [
        "assessment.json",
        "results.sarif",
        "oscal-assessment-results.json",
    ] {
        serde_json::from_str::<serde_json::Value>(&text(f))
            .unwrap_or_else(|e| panic!("{f} is not JSON: {e}"));
    }
    let scan_results: serde_json::Value = serde_json::from_str(&text("assessment.json")).unwrap();
    let site = scan_results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check_id"] == "container.site-labels" && r["resource"]["name"] == hostile)
        .unwrap();
    assert_eq!(site["status"], "fail");
    assert_eq!(site["evidence"][0]["value"]["html"], script);

    // HTML: the values are there, escaped; no markup from the host is live.
    let html = text("report.html");
    assert!(
        html.contains("&lt;script&gt;alert("),
        "the script label is not shown"
    );
    for raw in [
        "<script>alert(",
        "<img src=x",
        "<b/onmouseover",
        "<svg onload",
        "<x/>",
    ] {
        assert!(!html.contains(raw), "unescaped `{raw}` in report.html");
    }

    // CSV: no cell starts a formula; the network named like one is shown as text.
    let csv = text("findings.csv");
    let cells = csv_cells(&csv);
    for cell in &cells {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "formula cell in findings.csv: {cell:?}"
        );
    }
    for f in formulas {
        let shown = format!("'{f}-{pid}");
        assert!(cells.contains(&shown), "no cell {shown:?}");
    }

    // JUnit is well-formed XML despite the control characters.
    let lint = Command::new("xmllint")
        .args(["--noout"])
        .arg(bundle.join("junit.xml"))
        .output()
        .expect("xmllint is installed (apt-get install libxml2-utils)");
    assert!(
        lint.status.success(),
        "junit.xml: {}",
        String::from_utf8_lossy(&lint.stderr)
    );

    // The 1 MB label does not blow up the PDF.
    let pdf = read("report.pdf");
    eprintln!(
        "scan in every format took {elapsed:.1?}; report.pdf is {} bytes",
        pdf.len()
    );
    // Nothing that a terminal would act on reaches a text file someone might `cat`.
    for f in [
        "report.html",
        "findings.csv",
        "requirements.csv",
        "junit.xml",
        "results.sarif",
    ] {
        assert!(!read(f).contains(&0x1b), "raw ESC in {f}");
    }
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.len() < 3 * 1024 * 1024,
        "report.pdf is {} bytes",
        pdf.len()
    );
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&bundle)
        .output()
        .unwrap();
    assert!(check.status.success());
    drop(c);
    drop(made);
    // Everything made here is gone again, even names that look like command-line options.
    let left = docker_ok(&[
        "network",
        "ls",
        "--filter",
        &format!("label={LABEL}"),
        "--format",
        "{{.Name}}",
    ]);
    let suffix = format!("-{pid}");
    assert!(
        !left.lines().any(|n| n.ends_with(&suffix)),
        "networks left: {left}"
    );
}
