//! `report.html` as a person sees it: the page is loaded in headless Chromium (Debian package
//! `chromium`) and the assertions read the DOM after the report's own script has run.
//!
//! The main bundle is built offline from a copy of the insecure sample whose container names,
//! user and environment carry script payloads; one more case builds its bundle from the real
//! engine. To drive the filters, a test script is appended to a *copy* of the report: it sets
//! the form controls, dispatches the events a person's input would, and writes what is visible
//! into a `<pre id="dp-results">` that `--dump-dom` prints. The report itself is never changed.
//!
//! Without Chromium the tests fail under `CI=true` and print SKIPPED otherwise.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const INSECURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/insecure-host.snapshot.json"
);

/// Sets `document.title` if an event handler in a host value ever runs.
const IMG: &str = r##"ci-runner<img src=x onerror="document.title='PWNED'">"##;
/// Breaks out of an attribute and sets a body attribute if the markup is ever parsed.
const SVG: &str = r##"monitoring"><svg onload="document.body.setAttribute('data-pwned','svg')">"##;
/// A script element in the user field.
const SCRIPT_USER: &str = "<script>document.body.setAttribute('data-pwned','user')</script>";
/// A script element as the name of an environment variable that looks like a credential.
const SCRIPT_ENV: &str = "<script>document.body.setAttribute('data-pwned','env')</script>_TOKEN";

/// The Chromium binary, or `None` (with a visible SKIPPED) when it is missing outside CI.
fn chromium() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
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
                let message = "chromium not found: install it (apt-get install -y chromium) or \
                               set CHROMIUM to test report.html in a browser";
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("{message}");
                }
                eprintln!("SKIPPED: {message}");
            }
            found
        })
        .clone()
}

/// A rendered bundle and its assessment.
struct Bundle {
    _dir: tempfile::TempDir,
    html: PathBuf,
    assessment: Value,
}

/// Writes a copy of the insecure sample with payloads in host-derived values and runs
/// `dockproof report` on it. Built once and shared by the offline tests.
fn hostile_bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = std::fs::read_to_string(INSECURE).expect("sample snapshot");
        let mut snap: Value = serde_json::from_str(&text).expect("sample is JSON");
        let containers = snap["engine"]["containers"]
            .as_array_mut()
            .expect("sample has containers");
        let names: Vec<&str> = containers
            .iter()
            .map(|c| c["Name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            names,
            [
                "/ci-runner",
                "/legacy-admin",
                "/monitoring-agent",
                "/web-frontend"
            ]
        );
        containers[0]["Name"] = format!("/{IMG}").into();
        containers[0]["Config"]["Labels"]["note"] = SCRIPT_USER.into();
        containers[2]["Name"] = format!("/{SVG}").into();
        containers[3]["Config"]["User"] = SCRIPT_USER.into();
        let env = containers[3]["Config"]["Env"]
            .as_array_mut()
            .expect("web-frontend has an environment");
        // Snapshots store variables redacted; the marker is what the credential check reads.
        env.push(format!("{SCRIPT_ENV}=<redacted:credential-like>").into());
        let snapshot = dir.path().join("hostile.snapshot.json");
        std::fs::write(&snapshot, snap.to_string()).expect("write snapshot");
        let bundle = dir.path().join("bundle");
        let out = Command::new(common::bin())
            .arg("report")
            .arg(&snapshot)
            .args(["--format", "html,json", "--out"])
            .arg(&bundle)
            .output()
            .expect("dockproof runs");
        assert!(
            bundle.join("report.html").is_file(),
            "no report.html: {}",
            common::stderr(&out)
        );
        let assessment =
            std::fs::read_to_string(bundle.join("assessment.json")).expect("assessment.json");
        Bundle {
            html: bundle.join("report.html"),
            assessment: serde_json::from_str(&assessment).expect("assessment is JSON"),
            _dir: dir,
        }
    })
}

/// Loads `html` (a copy, with `harness` appended to the body when given) in headless Chromium
/// and returns the DOM after scripts ran, plus what the harness published.
fn load(chromium: &Path, html: &Path, harness: Option<&str>) -> (String, Value) {
    load_sized(chromium, html, harness, "1280,1024")
}

/// Like [`load`], in a window of `size` (`width,height` in CSS pixels).
fn load_sized(chromium: &Path, html: &Path, harness: Option<&str>, size: &str) -> (String, Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut page = std::fs::read_to_string(html).expect("report.html");
    if let Some(js) = harness {
        let at = page.rfind("</body>").expect("report has a body");
        page.insert_str(at, &format!("<script>\n{HELPERS}\n{js}\n</script>\n"));
    }
    let copy = dir.path().join("report.html");
    std::fs::write(&copy, page).expect("write copy");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--window-size={size}"))
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("file://{}", copy.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().expect("wait for chromium").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = reader.join().expect("reader thread");
    assert!(dom.contains("</html>"), "no DOM dumped:\n{dom}");
    let results = match harness {
        None => Value::Null,
        Some(_) => {
            let start = dom
                .find("<pre id=\"dp-results\">")
                .map(|i| i + "<pre id=\"dp-results\">".len())
                .unwrap_or_else(|| panic!("the harness published nothing"));
            let end = start + dom[start..].find("</pre>").expect("closed pre");
            let v: Value = serde_json::from_str(&dom[start..end]).expect("harness JSON");
            assert!(v.get("error").is_none(), "harness failed: {}", v["error"]);
            v
        }
    };
    (dom, results)
}

/// Helpers shared by the harness scripts. `publish` escapes everything outside printable ASCII
/// (and `<`, `>`, `&`) as `\uXXXX`, so the dumped DOM carries the JSON unchanged.
const HELPERS: &str = r##"
function dpVisible(el) { return el.getClientRects().length > 0; }
function dpRows(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel + " [data-finding]")); }
function dpWait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
function dpSet(id, value, type) {
  var el = document.getElementById(id);
  el.value = value;
  el.dispatchEvent(new Event(type, { bubbles: true }));
}
function dpState() {
  var all = dpRows("body");
  var res = dpRows("#by-resource").filter(dpVisible).map(function (r) {
    return { status: r.dataset.status, severity: r.dataset.severity, kind: r.dataset.kind,
             resource: r.closest("details").querySelector("summary .sum-title").textContent };
  });
  /* The resources named by the visible entries under requirements. */
  var reqRes = dpRows("#by-requirement").filter(dpVisible).map(function (r) {
    return r.querySelector("td:nth-child(2) a").textContent;
  });
  return { visible: all.filter(dpVisible).length, total: all.length, resource_rows: res,
           requirement_resources: Array.from(new Set(reqRes)).sort(), requirement_rows: reqRes.length,
           statuses: Array.from(new Set(all.filter(dpVisible).map(function (r) { return r.dataset.status; }))).sort(),
           fw_sections: Array.prototype.slice.call(document.querySelectorAll("[data-fw-section]"))
             .filter(dpVisible).map(function (s) { return s.dataset.fwSection; }),
           count: document.getElementById("f-count").textContent };
}
function dpPublish(v) {
  var pre = document.createElement("pre");
  pre.id = "dp-results";
  pre.textContent = JSON.stringify(v).replace(/[^\x20-\x7e]|[<>&]/g, function (c) {
    return "\\u" + ("0000" + c.charCodeAt(0).toString(16)).slice(-4);
  });
  document.body.appendChild(pre);
}
function dpRun(main) {
  window.addEventListener("load", function () {
    main().then(dpPublish, function (e) { dpPublish({ error: String(e && e.stack || e) }); });
  });
}
"##;

/// `v` as a JavaScript literal that can sit inside a `<script>` element (`</script>` in a payload
/// would otherwise end the harness).
fn js_literal(v: &Value) -> String {
    v.to_string().replace('<', "\\u003c")
}

fn results(a: &Value) -> &Vec<Value> {
    a["results"].as_array().expect("results")
}

/// Framework ids each check maps to, from the assessment's catalogue.
fn check_frameworks(a: &Value) -> BTreeMap<String, Vec<String>> {
    a["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            let fws = c["mappings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["framework"].as_str().map(str::to_string))
                .collect();
            (c["id"].as_str().unwrap_or_default().to_string(), fws)
        })
        .collect()
}

fn count_where(a: &Value, pred: impl Fn(&Value) -> bool) -> usize {
    results(a).iter().filter(|r| pred(r)).count()
}

#[test]
fn host_values_show_as_text_and_no_payload_runs() {
    let Some(chromium) = chromium() else { return };
    let b = hostile_bundle();
    let title = "Docker host assessment: vm";

    // The page as loaded, untouched: the dumped DOM after the report's script and any handler.
    let (dom, _) = load(&chromium, &b.html, None);
    assert!(
        dom.contains(&format!("<title>{title}</title>")),
        "title changed"
    );
    // The payloads' own text mentions PWNED and data-pwned; nothing else may.
    assert_eq!(
        dom.matches("PWNED").count(),
        dom.matches("document.title='PWNED'").count(),
        "PWNED appears outside the payload text"
    );
    assert!(!dom.contains("data-pwned="), "a payload set data-pwned");
    assert!(!dom.contains("<img"), "an <img> element exists");
    assert!(
        !dom.contains("<svg onload"),
        "an <svg onload> element exists"
    );

    let (_, v) = load(
        &chromium,
        &b.html,
        Some(&format!(
            r##"dpRun(async function () {{
  await dpWait(500);
  var text = document.body.textContent;
  var payloads = {payloads};
  return {{
    title: document.title,
    body_attributes: Array.prototype.map.call(document.body.attributes, function (a) {{ return a.name; }}),
    handlers: document.querySelectorAll("img, iframe, object, embed, [onerror], [onload]").length,
    scripts: document.scripts.length,
    as_text: payloads.map(function (p) {{ return text.indexOf(p) >= 0; }}),
    summaries: payloads.map(function (p) {{
      return Array.prototype.filter.call(document.querySelectorAll("#by-resource summary .sum-title"),
        function (s) {{ return s.textContent === p; }}).length;
    }})
  }};
}});"##,
            payloads = js_literal(&serde_json::json!([IMG, SVG, SCRIPT_USER, SCRIPT_ENV]))
        )),
    );
    assert_eq!(v["title"], title);
    assert_eq!(v["body_attributes"], serde_json::json!([]));
    assert_eq!(v["handlers"], 0, "elements that could run a handler");
    assert_eq!(v["scripts"], 2, "the report's script and the harness only");
    assert_eq!(v["as_text"], serde_json::json!([true, true, true, true]));
    // Each hostile container name is the visible title of exactly one resource entry.
    assert_eq!(v["summaries"], serde_json::json!([1, 1, 0, 0]));
}

#[test]
fn filters_show_exactly_the_matching_rows() {
    let Some(chromium) = chromium() else { return };
    let b = hostile_bundle();
    let a = &b.assessment;
    let total = results(a).len();
    let fws = check_frameworks(a);

    let (_, v) = load(
        &chromium,
        &b.html,
        Some(
            r##"dpRun(async function () {
  var out = { initial: dpState() };
  function reset() { document.getElementById("f-reset").click(); }
  dpSet("f-status", "fail", "change"); out.fail = dpState(); reset();
  dpSet("f-status", "fail", "change"); dpSet("f-severity", "critical", "change");
  out.fail_critical = dpState(); reset();
  dpSet("f-kind", "image", "change"); out.image = dpState(); reset();
  var pci = Array.prototype.filter.call(document.getElementById("f-fw").options,
    function (o) { return o.textContent.indexOf("PCI DSS") === 0; });
  if (pci.length !== 1) { throw new Error("no single PCI DSS option"); }
  dpSet("f-fw", pci[0].value, "change"); out.pci = dpState(); out.pci_slug = pci[0].value; reset();
  function dpReqs() {
    var vis = function (sel) {
      return Array.prototype.slice.call(document.querySelectorAll(sel)).filter(dpVisible);
    };
    return { rows: vis("#matrix tr[data-state]").map(function (r) { return r.dataset.state; }),
             groups: vis("#by-requirement details[data-state]").map(function (r) { return r.dataset.state; }),
             heads: vis("#matrix tr[data-section-head]").length, state: dpState() };
  }
  out.reqs_initial = dpReqs();
  dpSet("f-state", "not_in_place", "change"); out.nip = dpReqs(); reset();
  dpSet("f-fw", pci[0].value, "change"); dpSet("f-state", "not_in_place", "change");
  out.pci_nip = dpReqs(); reset();
  dpSet("f-text", "LEGACY-admin", "input"); out.search_now = dpState();
  await dpWait(400); out.search = dpState();
  reset(); out.reset = dpState();
  dpSet("f-text", "2.2.6", "input"); await dpWait(400); out.req_search = dpState(); reset();
  return out;
});"##,
        ),
    );
    let rows = |k: &str| v[k]["resource_rows"].as_array().expect("rows").clone();
    let field = |rows: &[Value], f: &str| -> Vec<String> {
        let mut s: Vec<String> = rows
            .iter()
            .map(|r| r[f].as_str().unwrap_or_default().to_string())
            .collect();
        s.sort();
        s.dedup();
        s
    };

    // Before any filter: the form is shown and every result is listed once per resource; the
    // counter counts results, not the rows that repeat them under requirements.
    assert_eq!(v["initial"]["count"], format!("{total} results"));
    assert_eq!(rows("initial").len(), total);

    let fail = count_where(a, |r| r["status"] == "fail");
    // The sample's 74 failures, less the root-user failure the hostile `User` value turns into
    // a pass (a non-empty user that is not root).
    assert_eq!(fail, 73);
    assert_eq!(rows("fail").len(), fail);
    assert_eq!(v["fail"]["statuses"], serde_json::json!(["fail"]));
    assert_eq!(
        v["fail"]["count"],
        format!("{fail} of {total} results match")
    );

    let critical = count_where(a, |r| r["status"] == "fail" && r["severity"] == "critical");
    assert_eq!(critical, 4);
    assert_eq!(rows("fail_critical").len(), critical);
    assert_eq!(field(&rows("fail_critical"), "severity"), ["critical"]);

    let images = count_where(a, |r| r["resource"]["kind"] == "image");
    assert!(images > 0);
    assert_eq!(rows("image").len(), images);
    assert_eq!(field(&rows("image"), "kind"), ["image"]);

    let pci = count_where(a, |r| {
        fws[r["check_id"].as_str().unwrap_or_default()]
            .iter()
            .any(|f| f == "pci-dss-4.0.1")
    });
    assert!(pci > 0 && pci < total, "{pci} of {total}");
    assert_eq!(rows("pci").len(), pci);
    // Only the chosen framework's sections stay on screen.
    let slugs: Vec<String> = v["pci"]["fw_sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s.as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!slugs.is_empty());
    assert!(
        slugs
            .iter()
            .all(|s| Some(s.as_str()) == v["pci_slug"].as_str()),
        "{slugs:?}"
    );

    // The requirement-state filter narrows the matrix and the requirement groups to that state,
    // keeps only the section headings with a row left, and leaves the results alone.
    let requirements: Vec<(String, String, String)> = (a["frameworks"].as_array())
        .expect("frameworks")
        .iter()
        .flat_map(|f| {
            f["requirements"]
                .as_array()
                .expect("requirements")
                .iter()
                .map(move |r| {
                    (
                        f["id"].as_str().unwrap_or_default().to_string(),
                        r["section"].as_str().unwrap_or_default().to_string(),
                        r["state"].as_str().unwrap_or_default().to_string(),
                    )
                })
        })
        .collect();
    let in_state = |fw: Option<&str>| {
        requirements
            .iter()
            .filter(|(f, _, s)| s == "not_in_place" && fw.is_none_or(|fw| fw == f))
            .collect::<Vec<_>>()
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        v["reqs_initial"]["rows"].as_array().map(Vec::len),
        Some(requirements.len())
    );
    let nip = in_state(None);
    assert!(!nip.is_empty() && nip.len() < requirements.len());
    assert_eq!(strings(&v["nip"]["rows"]), vec!["not_in_place"; nip.len()]);
    assert_eq!(
        strings(&v["nip"]["groups"]),
        vec!["not_in_place"; nip.len()]
    );
    let sections: std::collections::BTreeSet<(&String, &String)> =
        nip.iter().map(|(f, s, _)| (f, s)).collect();
    assert_eq!(v["nip"]["heads"], sections.len());
    assert_eq!(
        v["nip"]["state"]["resource_rows"].as_array().map(Vec::len),
        Some(total)
    );
    assert_eq!(
        v["nip"]["state"]["count"],
        format!("{total} results; {} requirements in this state", nip.len())
    );
    let pci_nip = in_state(Some("pci-dss-4.0.1"));
    assert!(!pci_nip.is_empty() && pci_nip.len() < nip.len());
    assert_eq!(
        strings(&v["pci_nip"]["rows"]),
        vec!["not_in_place"; pci_nip.len()]
    );
    assert_eq!(
        v["pci_nip"]["state"]["count"],
        format!(
            "{pci} of {total} results match; {} requirements in this state",
            pci_nip.len()
        )
    );

    // The search box waits for typing to pause, then narrows (case-insensitively).
    assert_eq!(rows("search_now").len(), total, "filtered before the pause");
    let legacy = count_where(a, |r| r["resource"]["name"] == "legacy-admin");
    assert!(legacy > 0);
    assert_eq!(rows("search").len(), legacy);
    assert_eq!(field(&rows("search"), "resource"), ["legacy-admin"]);
    // Entries under requirements search the text of their row under the resource.
    assert_eq!(
        v["search"]["requirement_resources"],
        serde_json::json!(["legacy-admin"])
    );
    assert!(v["search"]["requirement_rows"].as_u64() > Some(0));
    assert!(v["reset"]["requirement_rows"].as_u64() > v["search"]["requirement_rows"].as_u64());

    assert_eq!(rows("reset").len(), total);
    // A requirement id finds the results of the checks that bear on it.
    let on_226 = count_where(a, |r| {
        let check = (a["checks"].as_array().expect("checks").iter())
            .find(|c| c["check_id"] == r["check_id"] || c["id"] == r["check_id"])
            .expect("check of the result");
        (check["mappings"].as_array().into_iter().flatten()).any(|m| m["requirement"] == "2.2.6")
    });
    assert!(on_226 > 0 && on_226 < total, "{on_226}");
    assert_eq!(rows("req_search").len(), on_226);
    assert_eq!(v["reset"]["count"], format!("{total} results"));
}

#[test]
fn page_fetches_nothing_and_every_control_and_link_is_usable_by_keyboard() {
    let Some(chromium) = chromium() else { return };
    let b = hostile_bundle();
    let html = std::fs::read_to_string(&b.html).expect("report.html");
    for external in ["src=\"http", "src=\"//", "<link", "@import", "url("] {
        assert!(!html.contains(external), "{external:?} in report.html");
    }

    let (_, v) = load(
        &chromium,
        &b.html,
        Some(
            r##"dpRun(async function () {
  var controls = Array.prototype.slice.call(document.querySelectorAll("#filters select, #filters input, #filters button"));
  var unlabelled = controls.filter(function (c) {
    var name = c.tagName === "BUTTON" ? c.textContent : (c.labels.length ? c.labels[0].textContent : "");
    return !name.trim();
  }).map(function (c) { return c.id; });
  var unfocusable = controls.filter(function (c) { c.focus(); return document.activeElement !== c; })
    .map(function (c) { return c.id; });
  var links = Array.prototype.slice.call(document.querySelectorAll("a[href^='#']"));
  var broken = links.filter(function (l) {
    return !document.getElementById(decodeURIComponent(l.getAttribute("href").slice(1)));
  }).map(function (l) { return l.getAttribute("href"); });
  var rowLinks = dpRows("body").map(function (r) { return r.querySelectorAll("a[href^='#']").length; });
  return {
    form_visible: dpVisible(document.getElementById("filters")),
    controls: controls.map(function (c) { return c.id; }),
    unlabelled: unlabelled, unfocusable: unfocusable,
    internal_links: links.length, broken: broken,
    rows_without_links: rowLinks.filter(function (n) { return n < 1; }).length,
    fetched: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
    external_resources: document.querySelectorAll("[src], link[href], iframe, object, embed").length
  };
});"##,
        ),
    );
    assert_eq!(
        v["form_visible"], true,
        "filters hidden after the script ran"
    );
    assert_eq!(
        v["controls"],
        serde_json::json!([
            "f-fw",
            "f-status",
            "f-state",
            "f-severity",
            "f-kind",
            "f-text",
            "f-reset",
            "f-expand",
            "f-collapse"
        ])
    );
    assert_eq!(v["unlabelled"], serde_json::json!([]));
    assert_eq!(v["unfocusable"], serde_json::json!([]));
    assert!(v["internal_links"].as_u64().expect("links") > 1000);
    assert_eq!(
        v["broken"],
        serde_json::json!([]),
        "links to missing anchors"
    );
    // Every finding row links to its resource or its check; all links resolve (above).
    assert_eq!(v["rows_without_links"], 0);
    assert_eq!(v["fetched"], serde_json::json!([]));
    assert_eq!(v["external_resources"], 0);
}

#[test]
fn engine_values_with_markup_stay_text_in_the_browser() {
    let Some(chromium) = chromium() else { return };
    if !common::engine_available() {
        return;
    }
    common::ensure_image();
    let mut c = common::Containers::new("dom");
    let name = c.run(
        "xss",
        &[
            "-e",
            &format!("{SCRIPT_ENV}=not-a-real-secret"),
            "-e",
            r##"<img src=x onerror="document.title='PWNED'">_PASSWORD=x"##,
        ],
        true,
    );
    let scan = common::run_to_bundle(&["scan", "--format", "html,json"]);
    assert!(
        scan.output.status.success(),
        "{}",
        common::stderr(&scan.output)
    );
    assert_eq!(
        scan.verdict("container.env-credentials", &name).as_deref(),
        Some("fail")
    );
    let html = scan.bundle.join("report.html");
    let (dom, _) = load(&chromium, &html, None);
    assert!(!dom.contains("PWNED</title>"), "a payload set the title");
    assert!(!dom.contains("data-pwned="), "a payload set data-pwned");
    let (_, v) = load(
        &chromium,
        &html,
        Some(&format!(
            r##"dpRun(async function () {{
  await dpWait(500);
  return {{ title: document.title, handlers: document.querySelectorAll("img, [onerror], [onload]").length,
           text: document.body.textContent.indexOf({env}) >= 0 }};
}});"##,
            env = js_literal(&serde_json::json!(SCRIPT_ENV))
        )),
    );
    assert!(
        v["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("Docker host assessment: ")),
        "{}",
        v["title"]
    );
    assert_eq!(v["handlers"], 0);
    assert_eq!(v["text"], true, "the variable name is not shown as text");
}

/// Ids of the requirement rows of the matrix a search leaves on screen, as `framework-slug id`.
const MATRIX_SEARCH: &str = r##"dpRun(async function () {
  function visibleRows() {
    return Array.prototype.slice.call(document.querySelectorAll("#matrix tr[data-state]"))
      .filter(dpVisible).map(function (r) {
        return r.closest("[data-fw-section]").dataset.fwSection + " " + r.querySelector("th").textContent;
      });
  }
  var out = { all: visibleRows().length, width: document.documentElement.scrollWidth,
              viewport: window.innerWidth };
  dpSet("f-text", "2.2.6", "input"); await dpWait(400); out.s226 = visibleRows();
  out.requests226 = Array.prototype.slice.call(document.querySelectorAll("#evidence-requests tr[data-request]"))
    .filter(dpVisible).length;
  dpSet("f-text", "5.32", "input"); await dpWait(400); out.s532 = visibleRows();
  out.findings532 = dpState().resource_rows.length;
  document.getElementById("f-reset").click(); out.reset = visibleRows().length;
  return out;
});"##;

#[test]
fn search_finds_requirement_and_cis_ids_in_the_matrix_and_the_page_fits_1280_px() {
    let Some(chromium) = chromium() else { return };
    let b = hostile_bundle();
    let (_, v) = load_sized(&chromium, &b.html, Some(MATRIX_SEARCH), "1280,900");
    let rows = |k: &str| -> Vec<String> {
        v[k].as_array()
            .expect("rows")
            .iter()
            .map(|r| r.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let all = v["all"].as_u64().expect("all");
    assert!(all > 300, "{all}");
    // "2.2.6" is PCI DSS 2.2.6 (and no CIS or HIPAA id contains it).
    let s226 = rows("s226");
    assert_eq!(s226.len(), 1, "{s226:?}");
    assert!(
        s226[0].contains("pci-dss") && s226[0].ends_with(" 2.2.6"),
        "{s226:?}"
    );
    // "5.32" is CIS 5.32, and its Docker-socket findings stay listed.
    let s532 = rows("s532");
    assert_eq!(s532.len(), 1, "{s532:?}");
    assert!(
        s532[0].contains("cis-docker") && s532[0].ends_with(" 5.32"),
        "{s532:?}"
    );
    assert!(v["findings532"].as_u64().expect("findings") > 0);
    assert_eq!(v["reset"].as_u64(), Some(all));
    // No horizontal scrolling at 1280 px.
    assert_eq!(v["viewport"].as_u64(), Some(1280));
    assert!(
        v["width"].as_u64().expect("width") <= 1280,
        "the page is {} px wide at 1280 px",
        v["width"]
    );
}

#[test]
fn printing_the_report_keeps_every_matrix_column() {
    let Some(chromium) = chromium() else { return };
    let b = hostile_bundle();
    let dir = tempfile::tempdir().expect("temp dir");
    let pdf = dir.path().join("printed.pdf");
    let status = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", b.html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("chromium runs");
    assert!(
        status.success() && pdf.is_file(),
        "chromium printed nothing"
    );
    let out = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    // Table headers print in capitals (CSS text-transform): compare without case.
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    // The last column of the matrix, its header and a value, and of the request list.
    for needle in [
        "results of the deciding checks",
        "no results",
        "what to request",
        "exact line",
    ] {
        assert!(
            flat.contains(needle),
            "{needle:?} not in the printed report"
        );
    }
    // A4 pages, as the print stylesheet asks.
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Page size:") && l.ends_with("(A4)")),
        "{info}"
    );
}
