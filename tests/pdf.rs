//! End-to-end tests of `report.pdf` as a reader sees it: the real binary renders the insecure
//! sample (and a copy with a hostile container name), and poppler's `pdftotext` and `pdfinfo`
//! (Debian package `poppler-utils`) read the text, the word positions and the metadata back.
//!
//! Without poppler the test fails under `CI=true` and prints SKIPPED otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as BinCommand;
use dockproof::assessment::{Assessment, RequirementState, Vocabulary};
use serde_json::Value;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);
const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);
const WAIVERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/waivers.yaml");
const ATTESTATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/attestations.yaml");

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

    // The file is not PDF/X and claims no PDF/X version; poppler reads it without a complaint.
    let bytes = std::fs::read(&pdf).expect("read pdf");
    assert!(
        !bytes.windows(8).any(|w| w == b"GTS_PDFX"),
        "a PDF/X claim the file does not meet"
    );
    // pdfinfo takes no "-" output argument.
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo");
    assert!(info.status.success(), "pdfinfo failed");
    assert!(
        info.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
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
    render_with(snapshot, dir, &[])
}

/// Like [`render`], with more arguments for `report` (waivers, attestations).
fn render_with(snapshot: &Path, dir: &Path, args: &[&str]) -> (PathBuf, Value) {
    let bundle = dir.join("bundle");
    let out = BinCommand::cargo_bin("dockproof")
        .expect("binary built")
        .arg("report")
        .arg(snapshot)
        .args(args)
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

/// Every label a requirement state can have, in every framework's words.
fn state_labels() -> Vec<&'static str> {
    let mut labels: Vec<&str> = RequirementState::ALL
        .iter()
        .flat_map(|s| {
            [
                Vocabulary::Benchmark,
                Vocabulary::PciDss,
                Vocabulary::Hipaa,
                Vocabulary::Generic,
            ]
            .map(|v| s.label(v))
        })
        .collect();
    labels.sort_unstable();
    labels.dedup();
    labels
}

/// Requirement headings of the findings detail that end a page, away from their content.
fn orphaned_headings(layout_text: &str) -> Vec<String> {
    let alternatives: Vec<String> = state_labels().iter().map(|l| regex::escape(l)).collect();
    // `5.16 Host PID ns not shared: Fail`: an id, a title, the state.
    let heading = regex::Regex::new(&format!(r"^\d[\w.()]* .+: ({})$", alternatives.join("|")))
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
        "232 results from 129 checks: 74 failed and 3 could not be evaluated."
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

    // Each framework's figures, each with its denominator, in the words every report uses.
    let assessment: Assessment = serde_json::from_value(a.clone()).expect("assessment reads");
    for fw in &assessment.frameworks {
        let heading = format!("{} {}", fw.name, fw.version);
        let at = flat
            .find(&format!("{heading} Technical evidence on"))
            .unwrap_or_else(|| panic!("no figures for {heading}"));
        let mut rest = &flat[at + heading.len() + 1..];
        for line in fw.figures.lines() {
            assert!(
                rest.starts_with(&line),
                "{heading}: {line:?} not next in {rest:.200}"
            );
            rest = rest[line.len()..].trim_start();
        }
    }
    assert_eq!(
        assessment.frameworks[0].figures.lines()[..2],
        [
            "Technical evidence on 74 of 117 requirements: 30 of 74 consistent with in place",
            "Not in place per evidence: 44 of 117",
        ]
    );
    assert!(!flat.contains('%'), "a percentage in the PDF");

    // Every page's footer numbers it out of the page count pdfinfo reports.
    let meta = info(&pdf);
    let pages: usize = meta["Pages"].parse().expect("page count");
    assert_eq!(pages, 57);
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
    // 52 pages, with the manual-evidence checklist, come to about 190 kB.
    assert!(size < 250_000, "report.pdf is {size} bytes");
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

/// The cells of the matrix rows (laid out in columns, unlike the findings headings) whose
/// id starts with `id` and whose first line holds `first`: the
/// row's lines (up to the empty line that ends it) cut to the column where `first` starts.
fn matrix_cells(layout_text: &str, id: &str, first: &str) -> Vec<String> {
    let lines: Vec<&str> = layout_text.lines().collect();
    let starts = (0..lines.len())
        .filter(|&i| {
            (lines[i].starts_with(&format!("{id} ")) && lines[i].contains("   "))
                || lines[i].starts_with(&format!("{id}("))
        })
        .filter(|&i| lines[i].contains(first));
    starts
        .map(|start| {
            let column = lines[start].find(first).expect("cell start");
            let mut cell = Vec::new();
            for (i, line) in lines[start..].iter().enumerate() {
                if i > 0 && line.trim().is_empty() {
                    break;
                }
                let part: String = line.chars().skip(column).collect();
                // The cell ends where the next column's text starts (two spaces or more).
                let part = part.split("  ").next().unwrap_or_default().trim();
                if !part.is_empty() {
                    cell.push(part.to_string());
                }
            }
            cell.join(" ")
        })
        .collect()
}

#[test]
fn the_hardened_sample_shows_counts_with_denominators_and_no_percentage() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (pdf, a) = render(Path::new(HARDENED), dir.path());
    let raw = run_tool("pdftotext", &["-layout"], &pdf);
    let flat = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    // What once read "PCI 0.0%, HIPAA 0.0%".
    assert!(
        !flat.contains("0.0%") && !flat.contains('%'),
        "a percentage"
    );
    assert!(!flat.to_lowercase().contains("satisfied"));
    assert!(!flat.contains("Score"));
    let assessment: Assessment = serde_json::from_value(a).expect("assessment reads");
    let figures = |id: &str| {
        (assessment.frameworks.iter())
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("{id}"))
            .figures
            .lines()
    };
    assert_eq!(
        figures("pci-dss-4.0.1"),
        [
            "Technical evidence on 7 of 180 requirements: 6 of 7 consistent with in place",
            "Not in place per evidence: 0 of 180",
            // 6.3.3: no vulnerability evidence was supplied, so its deciding check is an error.
            "Evidence incomplete: 1 of 180",
            "Awaiting manual evidence: 154 of 180",
            "Attested by an assessor: 0 of 180",
            "Not applicable: 23 of 180",
        ]
    );
    assert_eq!(
        figures("hipaa-security-rule")[2],
        "Awaiting manual evidence: 60 of 60"
    );
    for fw in &assessment.frameworks {
        for line in fw.figures.lines() {
            assert!(flat.contains(&line), "{line:?} not in the PDF");
        }
    }
    // The cover gives each framework's figures in one line.
    let pci = (assessment.frameworks.iter())
        .find(|f| f.id == "pci-dss-4.0.1")
        .expect("pci");
    assert_eq!(
        pci.figures.compact(),
        "6/7 with technical evidence consistent, 0 not in place, 1 incomplete, 154 awaiting \
         manual evidence, 0 attested, 23 not applicable, of 180 requirements"
    );
    let cover = raw.split('\x0c').next().expect("cover page");
    let cover = cover.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        cover.contains(&format!("PCI DSS 4.0.1 {}", pci.figures.compact())),
        "{cover}"
    );
    // The legend explains the states the figures count.
    for needle in [
        "Requirement evidence states",
        "Awaiting manual evidence A person has to supply evidence",
    ] {
        assert!(flat.contains(needle), "{needle:?} not in the PDF");
    }
    // Each state in its row, its label wrapped in the narrow first column.
    for row in [
        r"(?m)^Evidence indicates not in +A deciding check failed on at least one resource",
        r"(?m)^Not in place: risk accepted +Every deciding failure is covered by an active waiver",
        r"(?m)^Not applicable as declared +The requirement applies only to service providers",
    ] {
        let re = regex::Regex::new(row).expect("regex");
        assert!(re.is_match(&raw), "{row:?} not in the legend");
    }
}

#[test]
fn the_waived_5_16_reads_risk_accepted_under_its_waiver_and_hipaa_rows_show_their_level() {
    if !poppler_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (pdf, a) = render_with(
        Path::new(INSECURE),
        dir.path(),
        &["--waivers", WAIVERS, "--attestations", ATTESTATIONS],
    );
    let raw = run_tool("pdftotext", &["-layout"], &pdf);
    let flat = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let cis = (a["frameworks"].as_array().expect("frameworks").iter())
        .find(|f| f["id"] == "cis-docker-1.6")
        .expect("cis");
    let row = (cis["requirements"].as_array().expect("requirements").iter())
        .find(|r| r["id"] == "5.16")
        .expect("5.16");
    assert_eq!(row["state"], "risk_accepted");
    assert_eq!(row["waivers"], serde_json::json!(["W-2026-001"]));

    // The matrix cell: the state in the benchmark's words, then the waiver with its expiry.
    assert_eq!(
        matrix_cells(&raw, "5.16", "Fail, risk"),
        [
            "Fail, risk accepted under waiver 1 failure(s) waived: risk accepted under waiver \
          W-2026-001 (expires 2027-08-31)"
        ]
    );
    // The findings heading says the same, with the waiver right under it.
    assert!(
        flat.contains(
            "5.16 Host PID ns not shared: Fail, risk accepted under waiver 1 failure(s) waived: \
             risk accepted under waiver W-2026-001 (expires 2027-08-31)"
        ),
        "findings heading of 5.16"
    );
    assert!(!flat.contains("5.16 Host PID ns not shared: Pass"));
    assert!(!flat.to_lowercase().contains("satisfied"));

    // HIPAA specifications carry their level; a requirement awaiting manual evidence shows
    // what its deciding checks found.
    // 164.308(a)(1)(i) and (ii)(A), (ii)(B), (ii)(C), (ii)(D): all Required. The three with
    // technical evidence keep their matrix row; the two only a person can settle are condensed
    // and carry their level in the evidence request list.
    assert_eq!(
        matrix_cells(&raw, "164.308(a)(1)", "Required"),
        ["Required"; 3]
    );
    let manual_only = (a["frameworks"].as_array().expect("frameworks").iter())
        .filter(|f| f["id"] == "hipaa-security-rule")
        .flat_map(|f| f["requirements"].as_array().expect("requirements"))
        .filter(|r| {
            r["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("164.308(a)(1)"))
                && r["checks"].as_array().is_some_and(|c| c.is_empty())
                && r["supporting"].as_array().is_none_or(|c| c.is_empty())
        })
        .count();
    assert_eq!(manual_only, 2);
    assert_eq!(
        matrix_cells(&raw, "164.312(d)", "Awaiting"),
        ["Awaiting manual evidence Technical evidence: applied to nothing"]
    );
    // In the benchmark's words: 4.4 needs a scan report, and its image-age check passed.
    assert_eq!(
        matrix_cells(&raw, "4.4", "Manual"),
        ["Manual Technical evidence: passed"]
    );
    assert!(raw.contains("Addressable"), "no Addressable specification");
    // The evidence request list: every partial or manual requirement's request, whom to ask,
    // and a box to tick (tests/fixes_requests.rs compares every prompt with the catalog).
    assert!(flat.contains("Evidence request list"));
    let requests = |id: &str| {
        let fw = (a["frameworks"].as_array().expect("frameworks").iter())
            .find(|f| f["id"] == id)
            .expect("framework");
        (fw["requirements"].as_array().expect("requirements").iter())
            .filter(|r| r["mode"] != "automated" && r["prompt"].is_string())
            .count()
    };
    assert!(requests("pci-dss-4.0.1") > 150);
    for (heading, id) in [
        ("CIS Docker Benchmark 1.6.0", "cis-docker-1.6"),
        ("PCI DSS 4.0.1", "pci-dss-4.0.1"),
    ] {
        let line = format!("{heading}: {} requests", requests(id));
        assert!(flat.contains(&line), "{line:?} not in the PDF");
    }
    // -raw keeps each cell's lines together.
    let raw_order = run_tool("pdftotext", &["-raw"], &pdf);
    let raw_flat = raw_order.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(raw_flat.contains(
        "\u{2610} 5.19 ulimit overridden only if needed Obtain the reason for each ulimit \
         this container overrides and check it against the workload's needs. platform team"
    ));
    // A check detailed earlier is referred to by its page, and its detail is on that page.
    let pages: Vec<&str> = raw.split('\x0c').collect();
    let refs = regex::Regex::new(
        r"\(([a-z]+\.[a-z0-9-]+)\): (\d+) failed or errored results?, detailed under [^()]+ \(page (\d+)\)",
    )
    .expect("regex");
    let mut checked = 0;
    for m in refs.captures_iter(&flat) {
        let page: usize = m[3].parse().expect("page number");
        let detail = pages[page - 1]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            detail.contains(&format!("({}) Severity:", &m[1])),
            "{} is not detailed on page {page}",
            &m[1]
        );
        assert_eq!(&m[2] == "1", m[0].contains(" result,"), "{}", &m[0]);
        checked += 1;
    }
    assert!(checked > 10, "only {checked} cross-references");
    // The attested PCI requirement uses the ROC's words, as the assessor's finding.
    assert!(flat.contains("In Place (assessor finding)"));
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
    assert!(words > 9_000, "only {words} words");
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
