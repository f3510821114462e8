//! `diff --format html` on two fleet bundles, read in a real browser: two fleets reported from
//! the bundled samples (one host removed, one added under a hostile name, one changed from
//! insecure to hardened, one unchanged), the page loaded in headless Chromium, and the DOM it
//! builds checked for the host and requirement changes and for the hostile name staying text.
//! `--fail-on-new` and `--out` behave as for the text and json formats.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::{dockproof, stderr};

const INSECURE: &str = include_str!("../samples/insecure-host.snapshot.json");
const HARDENED: &str = include_str!("../samples/hardened-host.snapshot.json");
/// A host name with markup and a right-to-left override.
const HOSTILE: &str = "<script>alert(1)</script>\u{202e}evil";

/// The Chromium binary, or `None` (with a visible SKIPPED) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from));
    let found = candidates.into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        let message = "chromium not found: install it (apt-get install -y chromium) or set \
                       CHROMIUM to test the fleet diff page in a browser";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{message}");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// The DOM Chromium builds from `html`.
fn dom(chromium: &Path, html: &Path) -> String {
    let profile = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("wait for chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = reader.join().expect("reader thread");
    assert!(dom.contains("</html>"), "no DOM dumped:\n{dom}");
    dom
}

/// `report` over `snapshots` (sample, hostname) into the fleet bundle `out`.
fn fleet_report(work: &Path, out: &Path, snapshots: &[(&str, &str)]) {
    let mut args = vec!["report".to_string()];
    for (i, (sample, host)) in snapshots.iter().enumerate() {
        let mut snap: Value = serde_json::from_str(sample).unwrap();
        snap["target"]["hostname"] = (*host).into();
        let path = work.join(format!(
            "{}-{i}.json",
            out.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(&path, serde_json::to_vec(&snap).unwrap()).unwrap();
        args.push(path.display().to_string());
    }
    args.extend(["--format", "json", "--out"].map(String::from));
    args.push(out.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = dockproof(&args);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

/// The markup of the element that starts with `open`, up to the first `close` after it.
fn element<'a>(dom: &'a str, open: &str, close: &str) -> &'a str {
    let start = dom
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in\n{dom}"));
    let end = start + dom[start..].find(close).expect("closed");
    &dom[start..end]
}

#[test]
fn html_diff_of_two_fleets_shows_host_and_requirement_changes_and_hostile_names_as_text() {
    let Some(chromium) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let old = work.path().join("old");
    let new = work.path().join("new");
    fleet_report(
        work.path(),
        &old,
        &[
            (INSECURE, "web"),
            (INSECURE, "retired"),
            (HARDENED, "steady"),
        ],
    );
    fleet_report(
        work.path(),
        &new,
        &[(HARDENED, "web"), (HARDENED, HOSTILE), (HARDENED, "steady")],
    );
    let page = work.path().join("changes.html");
    let run = dockproof(&[
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(
        run.stdout.is_empty(),
        "--out writes the page, not stdout: {}",
        String::from_utf8_lossy(&run.stdout)
    );
    let dom = dom(&chromium, &page);

    // The page runs nothing and shows the hostile name as text, its bidi override made visible.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(!dom.contains('\u{202e}'));
    let shown = "&lt;script&gt;alert(1)&lt;/script&gt;[U+202E]evil";
    let added = element(&dom, "<section id=\"hosts-added\">", "</section>");
    assert!(added.contains("Hosts added (1)"), "{added}");
    assert!(added.contains(shown), "{added}");
    let removed = element(&dom, "<section id=\"hosts-removed\">", "</section>");
    assert!(removed.contains("Hosts removed (1)"), "{removed}");
    assert!(removed.contains("<td>retired</td>"), "{removed}");
    assert!(!removed.contains("web") && !removed.contains("steady"));

    // `web` went from insecure to hardened: its resolved failures and requirement changes.
    let changed = element(&dom, "<h2 id=\"hosts-changed\">", "</body>");
    assert!(changed.contains("Hosts changed (1)"), "{changed}");
    let web = element(
        &dom,
        "<section class=\"host\"><h3>web ",
        "id=\"hosts-unchanged\"",
    );
    let resolved = element(web, "<section id=\"host-web-resolved\">", "</section>");
    assert!(resolved.contains("container.privileged"), "{resolved}");
    let reqs = element(web, "<section id=\"host-web-requirements\">", "</section>");
    assert!(
        reqs.contains("<td class=\"tone-bad\">not in place</td>"),
        "{reqs}"
    );
    assert!(
        element(&dom, "id=\"hosts-unchanged\"", "</p>").contains("steady"),
        "the unchanged host is named"
    );

    // The fleet state of PCI DSS 2.2.6 moved from not in place once no host fails it, and the
    // page names the hosts that moved it: the changed, the removed and the added one.
    let pci = element(
        &dom,
        "<section id=\"requirements-pci-dss-4.0.1\">",
        "</section>",
    );
    let row = element(pci, "<td>2.2.6</td>", "</tr>");
    assert!(
        row.contains("<td class=\"tone-bad\">not in place</td>"),
        "{row}"
    );
    assert!(
        row.contains("<td class=\"tone-consistent\">consistent with in place</td>"),
        "{row}"
    );
    assert!(
        row.contains("web: not in place → consistent with in place"),
        "{row}"
    );
    assert!(row.contains("retired: not in place → absent"), "{row}");
    assert!(
        row.contains(&format!("{shown}: absent → consistent with in place")),
        "{row}"
    );
    assert!(!dom.contains("id=\"unchanged\""));
}

#[test]
fn html_diff_says_when_nothing_changed_and_fail_on_new_sets_the_exit_code() {
    let work = tempfile::tempdir().unwrap();
    let old = work.path().join("old");
    let new = work.path().join("new");
    fleet_report(work.path(), &old, &[(INSECURE, "web"), (HARDENED, "db")]);
    fleet_report(work.path(), &new, &[(HARDENED, "web"), (HARDENED, "db")]);
    let diff = |a: &Path, b: &Path, extra: &[&str]| {
        let mut args = vec![
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "html",
        ];
        args.extend(extra);
        dockproof(&args)
    };

    let same = diff(&new, &new, &["--fail-on-new", "info"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(text.contains("id=\"unchanged\">No change"), "{text}");

    // Hardened to insecure: critical findings newly fail on `web`.
    let page = work.path().join("worse.html");
    let worse = diff(
        &new,
        &old,
        &["--fail-on-new", "critical", "--out", page.to_str().unwrap()],
    );
    assert_eq!(worse.status.code(), Some(1), "{}", stderr(&worse));
    assert!(
        stderr(&worse).contains("newly failing at or above severity critical"),
        "{}",
        stderr(&worse)
    );
    let written = std::fs::read_to_string(&page).expect("the page is written before failing");
    assert!(written.contains("<section id=\"host-web-newly-failing\"><h4>Newly failing ("));
    assert!(written.contains("container.privileged"));

    // Insecure to hardened: the sample's hardened host still has low findings the insecure one
    // did not report, none critical.
    let better = diff(&old, &new, &["--fail-on-new", "critical"]);
    assert_eq!(better.status.code(), Some(0), "{}", stderr(&better));
    let better = diff(&old, &new, &["--fail-on-new", "low"]);
    assert_eq!(better.status.code(), Some(1), "{}", stderr(&better));
}

#[test]
fn hosts_that_stop_or_start_being_assessed_are_listed_with_the_reason() {
    let Some(chromium) = chromium() else { return };
    let work = tempfile::tempdir().unwrap();
    let reported = work.path().join("reported");
    fleet_report(
        work.path(),
        &reported,
        &[(INSECURE, "web"), (HARDENED, "db")],
    );
    // The same two hosts as targets whose engines cannot be reached: assessed before, not now.
    let targets = work.path().join("targets.yaml");
    let socket = |n: &str| work.path().join(n).display().to_string();
    std::fs::write(
        &targets,
        format!(
            "targets:\n  - name: web\n    docker_host: unix://{}\n  - name: db\n    \
             docker_host: unix://{}\n",
            socket("web.sock"),
            socket("db.sock")
        ),
    )
    .unwrap();
    let unreached = work.path().join("unreached");
    let run = dockproof(&[
        "scan",
        "--targets",
        targets.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        unreached.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));

    let page = work.path().join("lost.html");
    let run = dockproof(&[
        "diff",
        reported.to_str().unwrap(),
        unreached.to_str().unwrap(),
        "--format",
        "html",
        "--fail-on-new",
        "info",
        "--out",
        page.to_str().unwrap(),
    ]);
    // Nothing newly fails on a host nobody looked at; the loss is in the page, not hidden.
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let lost_dom = dom(&chromium, &page);
    let lost = element(&lost_dom, "<section id=\"hosts-unassessed\">", "</section>");
    assert!(lost.contains("Hosts newly not assessed (2)"), "{lost}");
    for host in ["web", "db"] {
        let row = element(lost, &format!("<td>{host}</td>"), "</tr>");
        assert!(
            row.contains("not assessed: cannot reach the Docker engine")
                && row.contains(&format!("{host}.sock")),
            "{row}"
        );
    }
    assert!(element(&lost_dom, "<section id=\"hosts-reassessed\">", "</section>").contains("(0)"));

    let page = work.path().join("back.html");
    let run = dockproof(&[
        "diff",
        unreached.to_str().unwrap(),
        reported.to_str().unwrap(),
        "--format",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let back_dom = dom(&chromium, &page);
    let back = element(&back_dom, "<section id=\"hosts-reassessed\">", "</section>");
    assert!(back.contains("Hosts newly assessed (2)"), "{back}");
    assert!(
        back.contains("was not assessed: cannot reach the Docker engine"),
        "{back}"
    );
}
