//! The host × requirement grid of the fleet `report.pdf`, read back with poppler: a fleet of 70
//! copies of the bundled samples (a few hardened, so requirement states differ between hosts)
//! is reported, and `pdftotext -bbox` gives every word with its position. Every host must have
//! a row in every band, the cell of a host and requirement must be that host's own state in
//! `hosts/<dir>/assessment.json`, the caption and header must repeat on continuation pages and
//! no word may be drawn outside the page's margins or a host name outside its column.
//! A scan of the local engine as two targets (one out of scope) and an unreachable one shows
//! the unreachable target's row as not assessed in every cell, never as a blank.
//! Without poppler or the engine the tests fail under `CI=true` and print SKIPPED otherwise.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::{dockproof, engine_available, stderr};

const INSECURE: &str = include_str!("../samples/insecure-host.snapshot.json");
const HARDENED: &str = include_str!("../samples/hardened-host.snapshot.json");
/// More hosts than one page holds, so every band continues on a second page.
const HOSTS: usize = 70;
/// Left and right page margin of the report, in points.
const MARGIN: f64 = 50.0;

fn poppler_available() -> bool {
    let found = ["pdftotext", "pdftoppm"].iter().all(|tool| {
        Command::new(tool)
            .arg("-v")
            .output()
            .map(|o| o.status.success() || !o.stderr.is_empty())
            .unwrap_or(false)
    });
    if !found {
        let message = "pdftotext/pdftoppm not found: install poppler-utils (apt-get install -y \
                       poppler-utils) to test the fleet report.pdf";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

fn run_tool(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

/// The grid's code of a host's requirement state (the legend printed after each grid).
fn code(state: &str) -> &'static str {
    match state {
        "not_in_place" => "X",
        "attested_not_in_place" => "AX",
        "risk_accepted" => "RA",
        "incomplete" => "E",
        "excluded_by_selection" => "XS",
        "awaiting_manual_evidence" => "M",
        "consistent_with_in_place" => "C",
        "attested_in_place" => "A",
        "attested_compensating_control" => "AC",
        "attested_alternative_measure" => "AM",
        "attested_not_reasonable" => "AR",
        "not_applicable_per_evidence" => "NA",
        "not_applicable_declared" => "ND",
        "attested_not_applicable" => "AN",
        other => panic!("unknown requirement state {other}"),
    }
}

/// One word of `pdftotext -bbox`, with y growing down the page.
#[derive(Debug, Clone)]
struct Word {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    text: String,
}

impl Word {
    fn centre(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }
}

struct Page {
    width: f64,
    height: f64,
    words: Vec<Word>,
}

fn attr(tag: &str, name: &str) -> f64 {
    let at = tag
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + name.len()
        + 2;
    let end = tag[at..].find('"').expect("closing quote") + at;
    tag[at..end].parse().expect("a number")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Every page of `pdftotext -bbox` output with its words.
fn pages(bbox: &str) -> Vec<Page> {
    bbox.split("<page ")
        .skip(1)
        .map(|chunk| {
            let head = &chunk[..chunk.find('>').expect("page tag")];
            let words = chunk
                .split("<word ")
                .skip(1)
                .map(|w| {
                    let close = w.find('>').expect("word tag");
                    let end = w.find("</word>").expect("word end");
                    let tag = &w[..close];
                    Word {
                        x0: attr(tag, "xMin"),
                        y0: attr(tag, "yMin"),
                        x1: attr(tag, "xMax"),
                        y1: attr(tag, "yMax"),
                        text: unescape(&w[close + 1..end]),
                    }
                })
                .collect();
            Page {
                width: attr(head, "width"),
                height: attr(head, "height"),
                words,
            }
        })
        .collect()
}

/// `grid-host-007` of a host name, whole or as the grid cuts it.
fn row_key(name: &str) -> String {
    name.chars().take("grid-host-000".len()).collect()
}

/// Words on the same line as `w`.
fn same_line<'a>(page: &'a Page, w: &Word) -> impl Iterator<Item = &'a Word> {
    let y = w.y0;
    page.words.iter().filter(move |o| (o.y0 - y).abs() < 1.5)
}

#[test]
fn the_fleet_pdf_grid_shows_every_host_and_its_own_states_on_every_page() {
    if !poppler_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let mut args = vec!["report".to_string()];
    // Host 7's name is far wider than its column: the grid cuts it.
    let names: Vec<String> = (0..HOSTS)
        .map(|i| match i {
            7 => format!("grid-host-{i:03}-{}", "w".repeat(80)),
            _ => format!("grid-host-{i:03}"),
        })
        .collect();
    for (i, name) in names.iter().enumerate() {
        let sample = if i % 10 == 3 { HARDENED } else { INSECURE };
        let mut snap: Value = serde_json::from_str(sample).unwrap();
        snap["target"]["hostname"] = name.as_str().into();
        let path = work.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec(&snap).unwrap()).unwrap();
        args.push(path.display().to_string());
    }
    let out = work.path().join("fleet");
    args.extend(["--format", "pdf,json", "--out"].map(String::from));
    args.push(out.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockproof(&args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let pdf = out.join("report.pdf");
    let pdf_arg = pdf.to_str().unwrap();
    let fleet = json(&out.join("assessment.json"));

    // A requirement whose state differs between the hardened and the insecure hosts.
    let cis = &fleet["frameworks"][0];
    assert_eq!(cis["id"], "cis-docker-1.6");
    let reqs = cis["requirements"].as_array().unwrap();
    let (index, req) = reqs
        .iter()
        .enumerate()
        .find(|(_, r)| {
            let states: BTreeSet<&str> = r["hosts"]
                .as_object()
                .unwrap()
                .values()
                .map(|s| s.as_str().unwrap())
                .collect();
            states.len() > 1
        })
        .expect("a requirement whose state differs between hosts");
    let column = (index + 1).to_string();
    let req_id = req["id"].as_str().unwrap();
    // Each host's own state of it, from its own bundle.
    let own: BTreeMap<String, String> = fleet["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let dir = h["dir"].as_str().unwrap();
            let a = json(&out.join("hosts").join(dir).join("assessment.json"));
            let state = a["frameworks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["id"] == "cis-docker-1.6")
                .and_then(|f| {
                    f["requirements"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|r| r["id"] == req_id)
                })
                .map(|r| r["state"].as_str().unwrap().to_string())
                .unwrap_or_else(|| panic!("{req_id} missing in hosts/{dir}"));
            (row_key(h["name"].as_str().unwrap()), state)
        })
        .collect();
    assert!(own.values().collect::<BTreeSet<_>>().len() > 1, "{own:?}");

    let all = pages(&run_tool("pdftotext", &["-bbox", pdf_arg, "-"]));
    assert!(all.len() > 10, "{} pages", all.len());
    // Nothing is drawn outside the margins, on any page.
    for (n, page) in all.iter().enumerate() {
        for w in &page.words {
            assert!(
                w.x0 >= MARGIN - 0.5
                    && w.x1 <= page.width - MARGIN + 0.5
                    && w.y0 >= 0.0
                    && w.y1 <= page.height,
                "page {}: {w:?} outside the page's text area",
                n + 1
            );
        }
    }

    let caption = "CIS Docker Benchmark 1.6.0 grid, band";
    let mut grid_pages = 0;
    let mut continued = 0;
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    for (n, page) in all.iter().enumerate() {
        let text = run_tool(
            "pdftotext",
            &[
                "-layout",
                "-f",
                &(n + 1).to_string(),
                "-l",
                &(n + 1).to_string(),
                pdf_arg,
                "-",
            ],
        );
        if !text.contains(caption) {
            continue;
        }
        grid_pages += 1;
        if text
            .lines()
            .any(|l| l.contains(caption) && l.contains("(continued)"))
        {
            continued += 1;
        }
        // Every page of the grid starts with its header: column numbers and the fleet state
        // row (a page may also hold the start of the next band, with its own header).
        let headers: Vec<&Word> = page.words.iter().filter(|w| w.text == "Scope").collect();
        assert!(!headers.is_empty(), "page {}: no header row\n{text}", n + 1);
        let first_host = page
            .words
            .iter()
            .filter(|w| w.text.starts_with("grid-host-"))
            .map(|w| w.y0)
            .fold(f64::MAX, f64::min);
        assert!(
            headers[0].y0 < first_host,
            "page {}: rows above the header",
            n + 1
        );
        for h in &headers {
            assert!(
                same_line(page, h).any(|w| w.text == "Host"),
                "page {}",
                n + 1
            );
            let fleet_row = page
                .words
                .iter()
                .find(|w| w.text == "Fleet" && w.y0 > h.y0 && w.y0 < h.y0 + 15.0);
            assert!(fleet_row.is_some(), "page {}: no fleet state row", n + 1);
        }
        for w in page
            .words
            .iter()
            .filter(|w| w.text.starts_with("grid-host-"))
        {
            // Host names are cut to their column, never overrunning the scope column.
            assert!(w.x1 < headers[0].x0, "page {}: {w:?}", n + 1);
            let header = headers
                .iter()
                .filter(|h| h.y0 < w.y0)
                .max_by(|a, b| a.y0.total_cmp(&b.y0))
                .expect("a header above every row");
            // The band holds the requirement when its number is in the header row.
            let Some(number) = same_line(page, header).find(|o| o.text == column) else {
                continue;
            };
            let key = row_key(&w.text);
            *rows.entry(key.clone()).or_default() += 1;
            let cell = same_line(page, w)
                .find(|o| (o.centre() - number.centre()).abs() < 4.0)
                .unwrap_or_else(|| panic!("page {}: no cell for {} at {number:?}", n + 1, w.text));
            assert_eq!(
                cell.text,
                code(&own[&key]),
                "page {}: {} {req_id}",
                n + 1,
                w.text
            );
        }
    }
    assert!(grid_pages >= 2, "{grid_pages} grid pages");
    assert!(continued >= 1, "no band continues on a second page");
    // Every host has exactly one row in the band holding the requirement.
    let expected: BTreeMap<String, usize> = names.iter().map(|n| (row_key(n), 1)).collect();
    assert_eq!(rows, expected);

    // The grid renders as an image too (the page is looked at, not only its text).
    let png = work.path().join("grid");
    run_tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "30",
            "-f",
            "1",
            "-l",
            "1",
            pdf_arg,
            png.to_str().unwrap(),
        ],
    );
    let rendered = std::fs::read_dir(work.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("grid"));
    assert!(rendered, "pdftoppm wrote no image");
}

#[test]
fn an_unreachable_target_fills_its_row_with_not_assessed_and_out_of_scope_hosts_are_marked() {
    if !poppler_available() || !engine_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let targets = work.path().join("targets.yaml");
    std::fs::write(
        &targets,
        format!(
            "targets:\n\
             \x20 - name: grid-system\n    docker_host: unix:///var/run/docker.sock\n\
             \x20 - name: grid-lab\n    docker_host: unix:///var/run/docker.sock\n    role: \
             out-of-scope\n\
             \x20 - name: grid-gone\n    docker_host: unix://{}/none.sock\n",
            work.path().display()
        ),
    )
    .unwrap();
    let out = work.path().join("fleet");
    let run = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--images",
        "none",
        "--format",
        "pdf,json",
        "--out",
        out.to_str().unwrap(),
    ]);
    // Not every target was assessed.
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    let pdf = out.join("report.pdf");
    let all = pages(&run_tool(
        "pdftotext",
        &["-bbox", pdf.to_str().unwrap(), "-"],
    ));
    let mut seen = BTreeSet::new();
    for (n, page) in all.iter().enumerate() {
        let Some(header) = page.words.iter().find(|w| w.text == "Scope") else {
            continue;
        };
        // Requirement columns start right of the scope column.
        let first_cell = header.x1 + 1.0;
        for w in page.words.iter().filter(|w| w.y0 > header.y0) {
            let row: Vec<&Word> = same_line(page, w).collect();
            let cells: Vec<&str> = row
                .iter()
                .filter(|o| o.x0 > first_cell)
                .map(|o| o.text.as_str())
                .collect();
            let scope = row
                .iter()
                .find(|o| o.x0 >= header.x0 - 0.5 && o.x1 <= first_cell)
                .map(|o| o.text.as_str());
            match w.text.as_str() {
                "grid-gone" => {
                    assert!(!cells.is_empty(), "page {}", n + 1);
                    assert!(cells.iter().all(|c| *c == "?"), "page {}: {cells:?}", n + 1);
                    assert_eq!(scope, Some("in"), "page {}", n + 1);
                }
                "grid-lab" => {
                    assert!(!cells.contains(&"?"), "page {}: {cells:?}", n + 1);
                    assert_eq!(scope, Some("out"), "page {}", n + 1);
                }
                "grid-system" => assert_eq!(scope, Some("in"), "page {}", n + 1),
                "Fleet" => {
                    // The missing in-scope target leaves nothing consistent across the fleet.
                    assert!(!cells.contains(&"C"), "page {}: {cells:?}", n + 1);
                }
                _ => continue,
            }
            seen.insert(w.text.clone());
        }
    }
    let expected: BTreeSet<String> = ["Fleet", "grid-gone", "grid-lab", "grid-system"]
        .map(String::from)
        .into();
    assert_eq!(seen, expected);
}
