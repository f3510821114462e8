//! Every format states the same evidence state for the same requirement.
//!
//! The real binary renders ONE assessment (the insecure sample with the sample waivers and
//! attestations) in every format. `assessment.json` is the reference; the test then reads each
//! other file back the way its consumer would and compares requirement by requirement:
//!
//! - `requirements.csv`: the `state` and `state_label` cells of every requirement;
//! - `results.sarif`: the `state` / `stateLabel` of every taxon, and the state each result's taxon
//!   reference carries;
//! - `oscal-assessment-results.json`: the `evidence-state` props of one finding per requirement,
//!   and `satisfied` only where an assessor attested;
//! - `report.html`: the `data-state` attribute and the label of each requirement matrix row;
//! - `report.pdf`: the state label on the requirement's matrix row, read back with poppler's
//!   `pdftotext -raw` (Debian `poppler-utils`);
//! - `junit.xml`: the `requirement` properties of each check's suite.
//!
//! HTML and PDF are checked at least for every requirement with technical evidence or excluded
//! by selection; the others for every requirement. CIS 5.16, whose only failure is waived by
//! W-2026-001, must read as waived (risk accepted, not in place, the waiver named) in all seven
//! formats. The same comparison runs again on a selection (`--skip`, `--filter`), where
//! requirements are `excluded_by_selection`, and each format must say what was left out.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use dockproof::assessment::{Assessment, RequirementState};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CIS: &str = "cis-docker-1.6";
const WAIVER: &str = "W-2026-001";

/// A requirement: (framework id, requirement id).
type Key = (String, String);

struct Rendered {
    _dir: tempfile::TempDir,
    path: PathBuf,
    assessment: Assessment,
}

impl Rendered {
    fn text(&self, name: &str) -> String {
        std::fs::read_to_string(self.path.join(name))
            .unwrap_or_else(|e| panic!("{name} not written: {e}"))
    }

    fn json(&self, name: &str) -> Value {
        serde_json::from_str(&self.text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Every requirement with its state and label, from `assessment.json`.
    fn expected(&self) -> BTreeMap<Key, (RequirementState, &'static str)> {
        let mut map = BTreeMap::new();
        for f in &self.assessment.frameworks {
            for q in &f.requirements {
                map.insert((f.id.clone(), q.id.clone()), (q.state, f.label(q.state)));
            }
        }
        map
    }

    /// Requirements on which technical evidence was collected or that the selection excluded,
    /// plus CIS 5.16.
    fn technical(&self) -> Vec<Key> {
        let mut keys = Vec::new();
        for f in &self.assessment.frameworks {
            for q in &f.requirements {
                if q.technical.collected()
                    || q.state == RequirementState::ExcludedBySelection
                    || (f.id == CIS && q.id == "5.16")
                {
                    keys.push((f.id.clone(), q.id.clone()));
                }
            }
        }
        keys
    }
}

fn render(extra: &[&str]) -> Rendered {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bundle");
    let out = Command::new(env!("CARGO_BIN_EXE_dockproof"))
        .arg("report")
        .arg(format!("{ROOT}/samples/insecure-host.snapshot.json"))
        .arg("--waivers")
        .arg(format!("{ROOT}/samples/waivers.yaml"))
        .arg("--attestations")
        .arg(format!("{ROOT}/samples/attestations.yaml"))
        .args([
            "--format",
            "html,pdf,json,csv,requirements-csv,sarif,junit,oscal",
        ])
        .args(extra)
        .arg("--out")
        .arg(&path)
        .output()
        .expect("the dockproof binary runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(path.join("assessment.json")).expect("assessment.json");
    let assessment: Assessment = serde_json::from_str(&text).expect("assessment.json parses");
    Rendered {
        _dir: dir,
        path,
        assessment,
    }
}

/// RFC 4180 records (quoted fields, doubled quotes, CRLF).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\r', false) if chars.peek() == Some(&'\n') => {
                chars.next();
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (c, _) => field.push(c),
        }
    }
    assert!(!quoted && field.is_empty(), "unterminated CSV");
    records
}

/// XML attribute value as text.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The HTML anchors' slug of a framework id (`cis-docker-1.6` → `cis-docker-1-6`).
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Text without any whitespace, so that wrapped table cells compare equal.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn every_format_states_the_same_evidence_state_for_every_requirement() {
    agree(&render(&[]));
}

/// The container a selection leaves out (privileged, failing CIS 5.5) and the check it skips.
const LEFT_OUT: &str = "legacy-admin";
const SKIPPED: &str = "container.read-only-rootfs";

#[test]
fn a_selection_reads_the_same_in_every_format_and_each_says_what_was_left_out() {
    // The filter keeps monitoring-agent, whose waived host-pid failure keeps CIS 5.16 waived.
    let r = render(&["--filter", "name=monitoring", "--skip", SKIPPED]);
    let excluded: Vec<Key> = r
        .expected()
        .into_iter()
        .filter(|(_, (s, _))| *s == RequirementState::ExcludedBySelection)
        .map(|(k, _)| k)
        .collect();
    assert!(
        excluded.contains(&(CIS.to_string(), "5.5".to_string())),
        "the filtered-out privileged container leaves CIS 5.5 excluded: {excluded:?}"
    );
    agree(&r);
    // What was left out, by name, in each format that carries provenance.
    let json = r.text("assessment.json");
    assert!(json.contains(LEFT_OUT) && json.contains(SKIPPED));
    for file in [
        "report.html",
        "results.sarif",
        "oscal-assessment-results.json",
        "junit.xml",
    ] {
        let text = r.text(file);
        assert!(text.contains(LEFT_OUT), "{file} does not name {LEFT_OUT}");
        assert!(text.contains(SKIPPED), "{file} does not name {SKIPPED}");
    }
    if pdftotext_available() {
        let out = Command::new("pdftotext")
            .arg("-raw")
            .arg(r.path.join("report.pdf"))
            .arg("-")
            .output()
            .expect("pdftotext runs");
        let text = squeeze(&String::from_utf8_lossy(&out.stdout));
        assert!(
            text.contains(LEFT_OUT),
            "report.pdf does not name {LEFT_OUT}"
        );
    }
}

fn agree(r: &Rendered) {
    let expected = r.expected();
    assert!(expected.len() > 300, "three frameworks: {}", expected.len());
    let waived_key = (CIS.to_string(), "5.16".to_string());
    let waived = r
        .assessment
        .frameworks
        .iter()
        .find(|f| f.id == CIS)
        .and_then(|f| f.requirements.iter().find(|q| q.id == "5.16"))
        .expect("CIS 5.16 in assessment.json");
    assert_eq!(waived.state, RequirementState::RiskAccepted);
    assert_eq!(waived.waivers, [WAIVER]);
    let note = r
        .assessment
        .waiver_note(waived)
        .expect("5.16 has a waiver note");
    assert!(note.contains("W-2026-001 (expires 2027-08-31)"), "{note}");

    check_requirements_csv(r, &expected, &note);
    check_sarif(r, &expected);
    check_oscal(r, &expected);
    check_html(r, &expected);
    check_junit(r, &expected, &waived_key);
    check_pdf(r, &expected);
}

fn check_requirements_csv(
    r: &Rendered,
    expected: &BTreeMap<Key, (RequirementState, &'static str)>,
    note: &str,
) {
    let records = csv_records(&r.text("requirements.csv"));
    let header = &records[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("requirements.csv has no {name} column"))
    };
    let (fw, id, state, label, waivers) = (
        col("framework"),
        col("requirement"),
        col("state"),
        col("state_label"),
        col("waivers"),
    );
    let mut seen = BTreeMap::new();
    for row in &records[1..] {
        assert_eq!(row.len(), header.len(), "{row:?}");
        seen.insert(
            (row[fw].clone(), row[id].clone()),
            (row[state].clone(), row[label].clone(), row[waivers].clone()),
        );
    }
    assert_eq!(seen.len(), records.len() - 1, "one row per requirement");
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, (s, l)) in expected {
        let (cs, cl, _) = &seen[key];
        assert_eq!((cs.as_str(), cl.as_str()), (s.as_str(), *l), "{key:?}");
    }
    let (_, _, w) = &seen[&(CIS.to_string(), "5.16".to_string())];
    assert_eq!(w, note, "requirements.csv names the waiver of CIS 5.16");
}

fn check_sarif(r: &Rendered, expected: &BTreeMap<Key, (RequirementState, &'static str)>) {
    let sarif = r.json("results.sarif");
    let run = &sarif["runs"][0];
    let mut seen = BTreeMap::new();
    for t in run["taxonomies"].as_array().expect("taxonomies") {
        let fw = t["name"].as_str().expect("taxonomy name");
        for x in t["taxa"].as_array().expect("taxa") {
            let key = (fw.to_string(), x["id"].as_str().expect("id").to_string());
            let state = x["properties"]["state"]
                .as_str()
                .expect("state")
                .to_string();
            let label = x["properties"]["stateLabel"].as_str().expect("label");
            seen.insert(key, (state, label.to_string()));
        }
    }
    assert_eq!(seen.len(), expected.len(), "one taxon per requirement");
    for (key, (s, l)) in expected {
        let (ts, tl) = seen
            .get(key)
            .unwrap_or_else(|| panic!("no SARIF taxon for {key:?}"));
        assert_eq!((ts.as_str(), tl.as_str()), (s.as_str(), *l), "{key:?}");
    }
    let mut references = 0;
    for result in run["results"].as_array().expect("results") {
        for t in result["taxa"].as_array().into_iter().flatten() {
            let key = (
                t["toolComponent"]["name"]
                    .as_str()
                    .expect("name")
                    .to_string(),
                t["id"].as_str().expect("id").to_string(),
            );
            assert_eq!(
                t["properties"]["state"],
                expected[&key].0.as_str(),
                "{key:?}"
            );
            references += 1;
        }
    }
    assert!(references > 0, "results reference the requirements' taxa");
    let host_pid = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|x| x["ruleId"] == "container.host-pid" && x.get("suppressions").is_some())
        .expect("the waived container.host-pid failure");
    assert_eq!(
        host_pid["suppressions"][0]["properties"]["waiverId"],
        WAIVER
    );
    assert!(host_pid["taxa"]
        .as_array()
        .expect("taxa")
        .iter()
        .any(|t| t["toolComponent"]["name"] == CIS
            && t["id"] == "5.16"
            && t["properties"]["state"] == "risk_accepted"));
    let cis = run["taxonomies"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == CIS))
        .expect("CIS taxonomy");
    let taxon = cis["taxa"]
        .as_array()
        .and_then(|t| t.iter().find(|x| x["id"] == "5.16"))
        .expect("5.16 taxon");
    assert_eq!(taxon["properties"]["waivers"], serde_json::json!([WAIVER]));
}

fn check_oscal(r: &Rendered, expected: &BTreeMap<Key, (RequirementState, &'static str)>) {
    let oscal = r.json("oscal-assessment-results.json");
    let result = &oscal["assessment-results"]["results"][0];
    let prop = |f: &Value, name: &str| -> String {
        f["props"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .and_then(|p| p["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let findings = result["findings"].as_array().expect("findings");
    assert_eq!(
        findings.len(),
        expected.len(),
        "one finding per requirement"
    );
    let mut seen = BTreeMap::new();
    for f in findings {
        let key = (prop(f, "framework"), prop(f, "requirement"));
        let state = prop(f, "evidence-state");
        let label = prop(f, "evidence-state-label");
        let target = f["target"]["status"]["state"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let risks: Vec<String> = f["related-risks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["risk-uuid"].as_str().map(str::to_string))
            .collect();
        seen.insert(key, (state, label, target, risks));
    }
    for (key, (s, l)) in expected {
        let (fs, fl, target, _) = seen
            .get(key)
            .unwrap_or_else(|| panic!("no OSCAL finding for {key:?}"));
        assert_eq!((fs.as_str(), fl.as_str()), (s.as_str(), *l), "{key:?}");
        let satisfied = s.is_attested() && !s.is_not_in_place();
        assert_eq!(target == "satisfied", satisfied, "{key:?}: {target}");
    }
    let (_, _, target, risks) = &seen[&(CIS.to_string(), "5.16".to_string())];
    assert_eq!(target, "not-satisfied", "a waived failure is not in place");
    let risk = result["risks"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|x| x["uuid"].as_str() == risks.first().map(String::as_str))
        })
        .expect("CIS 5.16 links its accepted risk");
    assert!(risk["props"].as_array().is_some_and(|p| p
        .iter()
        .any(|p| p["name"] == "waiver-id" && p["value"] == WAIVER)));
    assert_eq!(risk["status"], "deviation-approved");
}

fn check_html(r: &Rendered, expected: &BTreeMap<Key, (RequirementState, &'static str)>) {
    let html = r.text("report.html");
    let slugs: BTreeMap<String, &str> = r
        .assessment
        .frameworks
        .iter()
        .map(|f| (slug(&f.id), f.id.as_str()))
        .collect();
    let row_re = regex::Regex::new(
        r#"(?s)<tr id="req-([a-z0-9-]+)" data-state="([a-z_]+)"[^>]*>(.*?)</tr>"#,
    )
    .expect("regex");
    let th_re = regex::Regex::new(r"(?s)<th[^>]*>(.*?)</th>").expect("regex");
    // Ids carry <wbr> break hints between their parts.
    let tag_re = regex::Regex::new(r"<[^>]*>").expect("regex");
    let mut seen: BTreeMap<Key, (String, String)> = BTreeMap::new();
    for row in row_re.captures_iter(&html) {
        let anchor = &row[1];
        let Some(fw) = slugs
            .iter()
            .filter(|(s, _)| anchor.starts_with(&format!("{s}-")))
            .max_by_key(|(s, _)| s.len())
            .map(|(_, fw)| *fw)
        else {
            continue;
        };
        let id = th_re
            .captures(&row[3])
            .map(|c| unescape(tag_re.replace_all(&c[1], "").trim()))
            .unwrap_or_else(|| panic!("matrix row {anchor} has no id cell"));
        let state = row[2].to_string();
        seen.insert((fw.to_string(), id), (state, row[3].to_string()));
    }
    assert!(
        !seen.is_empty(),
        "no requirement matrix rows in report.html"
    );
    for (key, (state, row)) in &seen {
        let (s, label) = expected
            .get(key)
            .unwrap_or_else(|| panic!("report.html has a row for unknown {key:?}"));
        assert_eq!(state, s.as_str(), "report.html {key:?}");
        assert!(
            row.contains(&format!(">{label}<")),
            "report.html row {key:?} does not read `{label}`"
        );
    }
    for key in r.technical() {
        assert!(
            seen.contains_key(&key),
            "report.html has no matrix row for {key:?}"
        );
    }
    let (_, row) = &seen[&(CIS.to_string(), "5.16".to_string())];
    assert!(row.contains(WAIVER), "the 5.16 row names the waiver: {row}");
}

fn check_junit(
    r: &Rendered,
    expected: &BTreeMap<Key, (RequirementState, &'static str)>,
    waived: &Key,
) {
    let xml = r.text("junit.xml");
    let prop_re =
        regex::Regex::new(r#"<property name="requirement" value="([^"]*)"/>"#).expect("regex");
    let value_re = regex::Regex::new(r"^(\S+) (\S+) \((deciding|supporting)\): ([a-z_]+): (.*)$")
        .expect("regex");
    let mut seen: BTreeMap<Key, Vec<String>> = BTreeMap::new();
    for p in prop_re.captures_iter(&xml) {
        let value = unescape(&p[1]);
        let c = value_re
            .captures(&value)
            .unwrap_or_else(|| panic!("unexpected requirement property: {value}"));
        let key = (c[1].to_string(), c[2].to_string());
        let (s, l) = expected
            .get(&key)
            .unwrap_or_else(|| panic!("junit.xml names unknown {key:?}"));
        assert_eq!(&c[4], s.as_str(), "junit.xml {key:?}");
        assert!(c[5].starts_with(l), "junit.xml {key:?}: {value}");
        seen.entry(key).or_default().push(value);
    }
    for key in r.technical() {
        assert!(seen.contains_key(&key), "junit.xml never names {key:?}");
    }
    assert!(
        seen[waived].iter().any(|v| v.contains(WAIVER)),
        "{:?}",
        seen[waived]
    );
    assert!(
        xml.contains(&format!(
            "<skipped message=\"waived by {WAIVER} (verdict: fail) until 2027-08-31"
        )),
        "the waived failure is a skipped case naming its waiver"
    );
}

/// Whether the poppler tools can be run; fails under CI when they cannot.
fn pdftotext_available() -> bool {
    let found = Command::new("pdftotext")
        .arg("-v")
        .output()
        .map(|o| o.status.success() || !o.stderr.is_empty())
        .unwrap_or(false);
    if !found {
        let message = "pdftotext not found: install poppler-utils (apt-get install -y \
                       poppler-utils) to read report.pdf back";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED (PDF part): {message}");
    }
    found
}

fn check_pdf(r: &Rendered, expected: &BTreeMap<Key, (RequirementState, &'static str)>) {
    if !pdftotext_available() {
        return;
    }
    let pdf = r.path.join("report.pdf");
    let out = Command::new("pdftotext")
        .arg("-raw")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = squeeze(&String::from_utf8_lossy(&out.stdout));
    let technical = r.technical();
    for f in &r.assessment.frameworks {
        let heading = squeeze(&format!("Requirement matrix: {}", f.name));
        let start = text
            .find(&heading)
            .unwrap_or_else(|| panic!("report.pdf has no requirement matrix for {}", f.name));
        let end = text[start + heading.len()..]
            .find(&squeeze("Requirement matrix:"))
            .map_or(text.len(), |i| start + heading.len() + i);
        let section = &text[start..end];
        // Row starts, in matrix order: the id followed by the title.
        let mut from = 0;
        let mut starts = Vec::new();
        for q in &f.requirements {
            // A requirement no check gives evidence for, still awaiting a person, is condensed
            // into the list of ids after the table; its request is in the evidence request list.
            if q.checks.is_empty()
                && q.supporting.is_empty()
                && q.state == RequirementState::AwaitingManualEvidence
            {
                assert!(
                    section.contains(&q.id),
                    "report.pdf does not list {} {} as manual-only",
                    f.id,
                    q.id
                );
                continue;
            }
            let head = squeeze(&format!("{}{}", q.id, q.title));
            match section[from..].find(&head) {
                Some(i) => {
                    starts.push((q, from + i));
                    from += i + head.len();
                }
                None => {
                    let key = (f.id.clone(), q.id.clone());
                    assert!(
                        !technical.contains(&key),
                        "report.pdf has no matrix row for {key:?}"
                    );
                }
            }
        }
        for (i, (q, at)) in starts.iter().enumerate() {
            let until = starts.get(i + 1).map_or(section.len(), |(_, next)| *next);
            let row = &section[*at..until];
            let key = (f.id.clone(), q.id.clone());
            let (state, label) = expected[&key];
            assert!(
                row.contains(&squeeze(label)),
                "report.pdf row {key:?} lacks `{label}`: {row}"
            );
            // A shorter label must not stand for a longer one (`Fail` in a waived row).
            for other in RequirementState::ALL {
                let other_label = squeeze(f.label(other));
                if other != state
                    && other_label.len() > squeeze(label).len()
                    && other_label.contains(&squeeze(label))
                {
                    assert!(
                        !row.contains(&other_label),
                        "report.pdf row {key:?} reads `{}`, not `{label}`",
                        f.label(other)
                    );
                }
            }
            if f.id == CIS && q.id == "5.16" {
                assert!(row.contains(WAIVER), "the 5.16 row names the waiver: {row}");
            }
        }
    }
}

#[test]
fn the_requirements_file_is_a_format_of_its_own() {
    let r = render(&[]);
    let records = csv_records(&r.text("requirements.csv"));
    assert_eq!(
        records[0],
        [
            "framework",
            "requirement",
            "title",
            "section",
            "level",
            "mode",
            "state",
            "state_label",
            "technical_evidence",
            "deciding_checks",
            "supporting_checks",
            "results_fail",
            "results_waived",
            "results_error",
            "results_pass",
            "results_not_applicable",
            "waivers",
            "attestation",
            "evidence_owner",
            "prompt",
            "evidence_of",
        ]
    );
    let sums = std::fs::read_to_string(r.path.join("SHA256SUMS")).expect("SHA256SUMS");
    assert!(sums.contains("  requirements.csv\n"), "{sums}");
}
