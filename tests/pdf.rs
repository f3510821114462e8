//! End-to-end tests of `report.pdf` as a reader sees it: the real binary renders the insecure
//! sample (and a copy with a hostile container name), and poppler's `pdftotext` and `pdfinfo`
//! (Debian package `poppler-utils`) read the text, the word positions and the metadata back.
//!
//! Without poppler the test fails under `CI=true` and prints SKIPPED otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as BinCommand;
use serde_json::Value;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);

/// Whether the poppler tools can be run; fails under CI when they cannot.
fn poppler_available() -> bool {
    let found = ["pdftotext", "pdfinfo"].iter().all(|tool| {
        Command::new(tool)
            .arg("-v")
            .output()
            .map(|o| o.status.success() || !o.stderr.is_empty())
            .unwrap_or(false)
    });
    if !found {
        let message = "pdftotext/pdfinfo not found: install poppler-utils (apt-get install -y \
                       poppler-utils) to test report.pdf";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

fn run_tool(tool: &str, args: &[&str], pdf: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn insecure_sample_pdf_reads_back_with_poppler() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bundle");
    let out = BinCommand::cargo_bin("dockproof")
        .expect("binary built")
        .args(["report", INSECURE, "--format", "pdf,json", "--out"])
        .arg(&bundle)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf = bundle.join("report.pdf");
    assert!(pdf.is_file(), "report.pdf missing");

    let raw = run_tool("pdftotext", &["-layout"], &pdf);
    assert!(raw.contains("page 1 of"), "no page numbers in the footer");
    // Sentences wrap: compare with runs of whitespace collapsed.
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "Docker host assessment",
        "vm",
        "page 1 of",
        "not a statement of compliance",
        "CIS Docker Benchmark",
        "PCI DSS",
        "HIPAA Security Rule",
        "legacy-admin",
        "container.privileged",
    ] {
        assert!(text.contains(needle), "{needle:?} not in the PDF text");
    }
    let lower = text.to_lowercase();
    assert!(
        !lower
            .replace("not a statement of compliance", "")
            .contains("compliant"),
        "the PDF must not claim compliance"
    );

    // pdfinfo takes no "-" output argument.
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo");
    assert!(info.status.success(), "pdfinfo failed");
    let info = String::from_utf8_lossy(&info.stdout);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo output:\n{info}"));
    assert!(pages >= 3, "only {pages} pages");
    assert!(
        info.lines()
            .any(|l| l.starts_with("Title:") && l.contains("Docker host assessment: vm")),
        "title missing:\n{info}"
    );
    assert!(
        info.lines()
            .any(|l| l.starts_with("Creator:") && l.contains("dockproof")),
        "creator missing:\n{info}"
    );
}

/// Renders `snapshot` to a bundle with the PDF and the assessment in `dir`.
fn render(snapshot: &Path, dir: &Path) -> (PathBuf, Value) {
    let bundle = dir.join("bundle");
    let out = BinCommand::cargo_bin("dockproof")
        .expect("binary built")
        .arg("report")
        .arg(snapshot)
        .args(["--format", "pdf,json", "--out"])
        .arg(&bundle)
        .output()
        .expect("runs");
    assert!(
        bundle.join("report.pdf").is_file(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(bundle.join("assessment.json")).expect("assessment.json");
    (
        bundle.join("report.pdf"),
        serde_json::from_str(&json).expect("assessment is JSON"),
    )
}

/// `pdfinfo -isodates` as key/value pairs.
fn info(pdf: &Path) -> BTreeMap<String, String> {
    let out = Command::new("pdfinfo")
        .arg("-isodates")
        .arg(pdf)
        .output()
        .expect("pdfinfo");
    assert!(out.status.success(), "pdfinfo failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// The integers at the end of `line`, in order.
fn trailing_numbers(line: &str, n: usize) -> Vec<u64> {
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    nums[nums.len().saturating_sub(n)..].to_vec()
}

/// `label -> number` for the bar-chart lines between two headings of the layout text.
fn chart(text: &str, from: &str, to: &str) -> BTreeMap<String, u64> {
    let start = text
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} missing"))
        + from.len();
    let end = start
        + text[start..]
            .find(to)
            .unwrap_or_else(|| panic!("{to:?} missing"));
    text[start..end]
        .lines()
        .filter_map(|l| {
            let (label, n) = l.trim().rsplit_once(' ')?;
            Some((label.trim().to_string(), n.parse().ok()?))
        })
        .collect()
}

/// Requirement headings of the findings detail that end a page, away from their content.
fn orphaned_headings(layout_text: &str) -> Vec<String> {
    let heading = regex::Regex::new(
        r"^\S+ .+: (Not satisfied|Error|Partial|Manual|Satisfied|Not applicable)$",
    )
    .expect("regex");
    layout_text
        .split('\x0c')
        .filter_map(|page| {
            // The last line is the footer; the one above it ends the page's content.
            let lines: Vec<&str> = page
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let last = lines.len().checked_sub(2).map(|i| lines[i])?;
            heading.is_match(last).then(|| last.to_string())
        })
        .collect()
}

#[test]
fn summary_numbers_pages_and_metadata_match_the_assessment() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (pdf, a) = render(Path::new(INSECURE), dir.path());
    let raw = run_tool("pdftotext", &["-layout"], &pdf);
    let flat = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let summary = &a["summary"];
    let by_status = |k: &str| summary["by_status"][k].as_u64().unwrap_or(0);

    let sentence = format!(
        "{} results from {} checks: {} failed and {} could not be evaluated.",
        summary["total"],
        a["checks"].as_array().expect("checks").len(),
        by_status("fail"),
        by_status("error"),
    );
    assert_eq!(
        sentence,
        "220 results from 126 checks: 74 failed and 3 could not be evaluated."
    );
    assert!(flat.contains(&sentence), "{sentence:?} not in the summary");

    let statuses = chart(&raw, "Results by status", "Failed results by severity");
    let expected: BTreeMap<String, u64> = [
        ("Fail", "fail"),
        ("Error", "error"),
        ("Manual", "manual"),
        ("Pass", "pass"),
        ("Not applicable", "not_applicable"),
    ]
    .into_iter()
    .map(|(label, key)| (label.to_string(), by_status(key)))
    .collect();
    assert_eq!(statuses, expected);

    let severities = chart(
        &raw,
        "Failed results by severity",
        "Requirements per framework",
    );
    let expected: BTreeMap<String, u64> = ["critical", "high", "medium", "low", "info"]
        .into_iter()
        .map(|k| {
            let mut label = k.to_string();
            label[..1].make_ascii_uppercase();
            (
                label,
                summary["failed_by_severity"][k].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(severities, expected);

    // One row per framework: not satisfied, error, partial, manual, satisfied, not applicable.
    for fw in a["frameworks"].as_array().expect("frameworks") {
        let name = fw["name"].as_str().expect("name");
        let prefix: String = name.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let line = raw
            .lines()
            .find(|l| l.starts_with(&prefix) && l.split_whitespace().count() > 6)
            .unwrap_or_else(|| panic!("no summary row for {name}"));
        let counts: Vec<u64> = [
            "not_satisfied",
            "error",
            "partial",
            "manual",
            "satisfied",
            "not_applicable",
        ]
        .iter()
        .map(|k| fw["counts"][k].as_u64().unwrap_or(0))
        .collect();
        assert_eq!(trailing_numbers(line, 6), counts, "{name}: {line:?}");
    }

    // Every page's footer numbers it out of the page count pdfinfo reports.
    let meta = info(&pdf);
    let pages: usize = meta["Pages"].parse().expect("page count");
    assert_eq!(pages, 37);
    let texts: Vec<&str> = raw.split('\x0c').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(texts.len(), pages);
    for (i, page) in texts.iter().enumerate() {
        let footer = format!("page {} of {pages}", i + 1);
        assert!(page.contains(&footer), "{footer:?} not on page {}", i + 1);
    }
    assert_eq!(orphaned_headings(&raw), Vec::<String>::new());
    for heading in [
        "Scope and method",
        "Executive summary",
        "Requirement matrix: CIS Docker Benchmark 1.6.0",
        "Requirement matrix: HIPAA Security Rule",
        "Requirement matrix: PCI DSS 4.0.1",
        "Findings detail",
    ] {
        assert!(flat.contains(heading), "{heading:?} missing");
    }

    let version = a["tool"]["version"].as_str().expect("tool version");
    let generated = a["generated_at"].as_str().expect("generated_at");
    assert_eq!(meta["Title"], "Docker host assessment: vm");
    assert_eq!(meta["Creator"], format!("dockproof {version}"));
    assert_eq!(meta["Producer"], format!("dockproof {version} (printpdf)"));
    assert_eq!(
        meta["Subject"],
        "Technical evidence collected from a Docker host"
    );
    // The creation date is the assessment's, to the second: the file does not read the clock.
    assert_eq!(meta["CreationDate"], format!("{}Z", &generated[..19]));
    assert_eq!(meta["Page size"], "595.28 x 841.891 pts (A4)");

    // The three faces are embedded as subsets with a Unicode map (the text above extracted);
    // whole, they made the file about 1 MB.
    let size = std::fs::metadata(&pdf).expect("pdf").len();
    assert!(size < 200_000, "report.pdf is {size} bytes");
    let fonts = Command::new("pdffonts")
        .arg(&pdf)
        .output()
        .expect("pdffonts");
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    let faces: Vec<(String, Vec<&str>)> = fonts
        .lines()
        .skip(2)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (
                cols[0].to_string(),
                cols[cols.len() - 5..cols.len() - 2].to_vec(),
            )
        })
        .collect();
    let names: Vec<&str> = faces.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["DejaVuSans", "DejaVuSansBold", "DejaVuSansMono"]);
    for (name, flags) in &faces {
        // emb, sub, uni: printpdf does not tag subset names, so `sub` reads "no".
        assert_eq!(flags, &["yes", "no", "yes"], "{name}");
    }
}

/// A container name meant to break a layout: a right-to-left override, markup, several scripts
/// and a run of 120 characters with no space to wrap at.
fn hostile_name() -> String {
    format!(
        "\u{202e}gnp.exe-<script>alert(1)</script>-ünïcødé-Ωμέγα-Кириллица-{}",
        "x0123456789".repeat(11)
    )
}

#[test]
fn a_hostile_container_name_reads_back_whole_and_stays_on_the_page() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(INSECURE).expect("sample");
    let mut snap: Value = serde_json::from_str(&text).expect("sample is JSON");
    let ci = &mut snap["engine"]["containers"][0];
    assert_eq!(ci["Name"], "/ci-runner");
    let name = hostile_name();
    ci["Name"] = format!("/{name}").into();
    let snapshot = dir.path().join("hostile.snapshot.json");
    std::fs::write(&snapshot, snap.to_string()).expect("write snapshot");
    let (pdf, a) = render(&snapshot, dir.path());
    assert!(
        a["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|r| r["resource"]["name"] == name.as_str() && r["status"] == "fail"),
        "the hostile container has no failed result to list"
    );

    // The name is wrapped across lines (no space inside the long run), so compare without
    // whitespace: every character comes back, in order, including the override. Poppler
    // brackets right-to-left runs with embedding marks (U+202B … U+202C) of its own: drop those.
    let raw = run_tool("pdftotext", &["-raw"], &pdf);
    let squeezed: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{202b}' | '\u{202c}'))
        .collect();
    let wanted = format!("Fail:container{name}");
    assert!(
        squeezed.contains(&wanted),
        "{name:?} does not read back after \"Fail: container\""
    );

    let layout = run_tool("pdftotext", &["-layout"], &pdf);
    assert_eq!(orphaned_headings(&layout), Vec::<String>::new());

    // Every word lies between the margins of its page.
    let bbox = run_tool("pdftotext", &["-bbox"], &pdf);
    let attr = |tag: &str, key: &str| -> f64 {
        let at = tag.find(&format!("{key}=\"")).expect("attribute") + key.len() + 2;
        tag[at..at + tag[at..].find('"').expect("quote")]
            .parse()
            .expect("number")
    };
    let mut width = 0.0;
    let mut words = 0;
    let mut longest = 0.0f64;
    for tag in bbox.split('<') {
        if tag.starts_with("page ") {
            width = attr(tag, "width");
        } else if tag.starts_with("word ") {
            words += 1;
            let (x0, x1) = (attr(tag, "xMin"), attr(tag, "xMax"));
            longest = longest.max(x1 - x0);
            assert!(
                x0 >= 49.9 && x1 <= width - 49.9,
                "word outside the margins ({x0:.1}..{x1:.1} of {width:.1}): {tag}"
            );
        }
    }
    assert!(words > 10_000, "only {words} words");
    assert!(longest < width - 100.0, "a word as wide as the text column");
}

#[test]
fn the_appendix_lists_the_hashes_of_the_files_written_before_the_pdf() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (pdf, _) = render(Path::new(INSECURE), dir.path());
    let bundle = pdf.parent().expect("bundle dir");
    let sums = std::fs::read_to_string(bundle.join("SHA256SUMS")).expect("SHA256SUMS");
    let text = run_tool("pdftotext", &["-layout"], &pdf);
    let appendix = text
        .split("Bundle files")
        .nth(1)
        .expect("the appendix has a bundle files table");
    let mut listed = 0;
    for line in sums.lines() {
        let (sha, name) = line.split_once("  ").expect("manifest line");
        if name == "report.pdf" {
            assert!(!appendix.contains(sha), "a PDF cannot list its own hash");
            continue;
        }
        let row = appendix
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing from the appendix"));
        assert!(row.contains(sha), "{name}: {row}");
        listed += 1;
    }
    assert_eq!(listed, 2, "snapshot.json and assessment.json");
}
