//! Vulnerability evidence end to end: offline test images whose package databases list real
//! vulnerable and fixed Debian versions (Shellshock, Heartbleed, POODLE), matched against OSV
//! records of the real advisories (tests/data/advisories) and imported Trivy and Grype reports
//! (tests/data/scanners, their documented JSON formats, bound to the image by its id).

mod common;
#[path = "support/images.rs"]
mod images;

use std::path::{Path, PathBuf};

use common::{dockproof, engine_available, run_to_bundle, stderr};
use images::{ensure_images, image_id, Running, ALPINE, DATA, FIXED, VULNERABLE};
use serde_json::Value;

/// A scanner fixture with `@IMAGE_ID@` replaced, written under `dir`.
fn report_for(dir: &Path, fixture: &str, id: &str) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(DATA).join("scanners").join(fixture)).unwrap();
    let out = dir.join(fixture);
    std::fs::write(&out, text.replace("@IMAGE_ID@", id)).unwrap();
    out
}

fn findings(assessment: &Value, id: &str) -> Vec<String> {
    assessment["images"]["vulnerabilities"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image_id"] == id)
        .map(|i| {
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{} {} {} {} fix={} named={} from={}",
                        f["severity"].as_str().unwrap(),
                        f["id"].as_str().unwrap(),
                        f["package"].as_str().unwrap(),
                        f["installed_version"].as_str().unwrap(),
                        f["fixed_version"].as_str().unwrap_or("-"),
                        f["named"].as_str().unwrap_or("-"),
                        f["input"].as_str().unwrap().split(':').next().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn osv_and_scanner_reports_find_shellshock_and_heartbleed_only_where_unfixed() {
    if !engine_available() {
        return;
    }
    ensure_images();
    let _running = Running::start("vuln", &[VULNERABLE, FIXED, ALPINE]);
    let tmp = tempfile::tempdir().unwrap();
    let vulnerable = image_id(VULNERABLE);
    let trivy = report_for(tmp.path(), "trivy.json", &vulnerable);
    let grype = report_for(tmp.path(), "grype.json", &vulnerable);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let unmatched = report_for(
        &elsewhere,
        "trivy.json",
        &format!("sha256:{}", "0".repeat(64)),
    );
    let advisories = Path::new(DATA).join("advisories");
    let args: Vec<String> = [
        "scan",
        "--format",
        "json,html,pdf",
        "--advisories",
        &advisories.display().to_string(),
        "--vuln-report",
        &trivy.display().to_string(),
        "--vuln-report",
        &grype.display().to_string(),
        "--vuln-report",
        &unmatched.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let scan = run_to_bundle(&args);
    assert!(
        stderr(&scan.output).contains("matches no image of this snapshot"),
        "{}",
        stderr(&scan.output)
    );

    assert_eq!(
        findings(&scan.assessment, &vulnerable),
        [
            "critical CVE-2014-6271 bash 4.2+dfsg-0.1 fix=4.2+dfsg-0.1+deb7u1 named=Shellshock from=vuln-reports/1-trivy.json",
            "critical DSA-3032-1 bash 4.2+dfsg-0.1 fix=4.2+dfsg-0.1+deb7u1 named=Shellshock from=osv",
            "critical DSA-3035-1 bash 4.2+dfsg-0.1 fix=4.2+dfsg-0.1+deb7u3 named=Shellshock from=osv",
            "high CVE-2014-0160 libssl1.0.0 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u5 named=Heartbleed from=vuln-reports/1-trivy.json",
            "high DSA-2896-1 libssl1.0.0 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u5 named=Heartbleed from=osv",
            "high DSA-3053-1 libssl1.0.0 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u13 named=POODLE from=osv",
            "high DSA-2896-1 openssl 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u5 named=Heartbleed from=osv",
            "high DSA-3053-1 openssl 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u13 named=POODLE from=osv",
            "low CVE-2014-3566 openssl 1.0.1e-2+deb7u4 fix=1.0.1e-2+deb7u13 named=POODLE from=vuln-reports/2-grype.json",
        ]
    );
    assert_eq!(
        findings(&scan.assessment, &image_id(FIXED)),
        Vec::<String>::new()
    );
    assert_eq!(
        findings(&scan.assessment, &image_id(ALPINE)),
        [
            "medium DOCKPROOF-TEST-0001 libcrypto3 3.1.4-r5 fix=3.1.4-r10 named=- from=osv",
            "medium DOCKPROOF-TEST-0001 libssl3 3.1.4-r5 fix=3.1.4-r10 named=- from=osv"
        ]
    );

    for (check, image, want) in [
        ("image.critical-fix-age", VULNERABLE, "fail"),
        ("image.critical-fix-age", FIXED, "pass"),
        ("image.critical-fix-age", ALPINE, "pass"),
        ("image.unresolved-high-vulnerabilities", VULNERABLE, "fail"),
        ("image.unresolved-high-vulnerabilities", FIXED, "pass"),
        ("image.unresolved-high-vulnerabilities", ALPINE, "pass"),
        ("image.package-inventory", VULNERABLE, "pass"),
        ("image.package-inventory", ALPINE, "pass"),
    ] {
        assert_eq!(
            scan.verdict(check, image).as_deref(),
            Some(want),
            "{check} on {image}"
        );
    }

    // Every report is in the bundle, hashed, and named in the assessment; the unmatched one too.
    let manifest = scan.file("SHA256SUMS");
    for name in [
        "vuln-reports/1-trivy.json",
        "vuln-reports/2-grype.json",
        "vuln-reports/3-trivy.json",
    ] {
        assert!(
            manifest.contains(&format!("  {name}\n")),
            "{name} not in\n{manifest}"
        );
    }
    let inputs = scan.assessment["images"]["vulnerabilities"]["inputs"]
        .as_array()
        .unwrap();
    assert_eq!(inputs.len(), 4);
    assert_eq!(inputs[2]["images"], serde_json::json!([]));
    assert_eq!(
        inputs[2]["note"],
        "unmatched: dockproof-test/wheezy-vulnerable:1"
    );
    assert_eq!(inputs[3]["kind"], "osv");
    assert_eq!(inputs[3]["note"], "5 advisories");
    let verify = dockproof(&["verify", &scan.bundle.display().to_string()]);
    assert!(verify.status.success(), "{}", stderr(&verify));

    // The report calls the well-known ones out by name, per image.
    let html = scan.file("report.html");
    let panel = |tag: &str| {
        let id = image_id(tag);
        let start = html
            .find(&format!("data-image-id=\"{id}\""))
            .unwrap_or_else(|| panic!("no panel for {tag}"));
        let end = html[start..].find("</div>").unwrap() + start;
        html[start..end].to_string()
    };
    let vulnerable_panel = panel(VULNERABLE);
    assert!(
        vulnerable_panel.contains(
            "<li data-named=\"Shellshock\"><strong>Shellshock</strong>: CVE-2014-6271 in bash \
             4.2+dfsg-0.1, DSA-3032-1 in bash 4.2+dfsg-0.1, DSA-3035-1 in bash 4.2+dfsg-0.1</li>"
        ),
        "{vulnerable_panel}"
    );
    assert!(vulnerable_panel.contains("<li data-named=\"Heartbleed\">"));
    assert!(vulnerable_panel.contains("<li data-named=\"POODLE\">"));
    assert!(vulnerable_panel.contains("data-severity=\"critical\">3 critical</span>"));
    let pdf = std::process::Command::new("pdftotext")
        .args([
            "-layout",
            &scan.bundle.join("report.pdf").display().to_string(),
            "-",
        ])
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&pdf.stdout);
    assert!(text.contains("What is inside the images"), "{text}");
    assert!(
        text.contains("Well-known: Shellshock (CVE-2014-6271, DSA-3032-1, DSA-3035-1)"),
        "{text}"
    );
    assert!(text.contains("Well-known: Heartbleed (CVE-2014-0160, DSA-2896-1)"));
    let fixed_panel = panel(FIXED);
    assert!(fixed_panel.contains("No known vulnerability found by the inputs."));
    assert!(!fixed_panel.contains("data-named"));
}

#[test]
fn a_scanner_report_alone_gives_no_fix_date_so_the_fix_age_check_errors() {
    if !engine_available() {
        return;
    }
    ensure_images();
    let _running = Running::start("trivyonly", &[VULNERABLE, FIXED]);
    let tmp = tempfile::tempdir().unwrap();
    // Only the Shellshock finding: no fix date, nothing else deciding.
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(report_for(tmp.path(), "trivy.json", &image_id(VULNERABLE)))
            .unwrap(),
    )
    .unwrap();
    doc["Results"][0]["Vulnerabilities"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    let path = tmp.path().join("only-shellshock.json");
    std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let scan = run_to_bundle(&[
        "scan",
        "--format",
        "json",
        "--vuln-report",
        &path.display().to_string(),
    ]);
    let result = scan
        .results()
        .find(|r| r["check_id"] == "image.critical-fix-age" && r["resource"]["name"] == VULNERABLE)
        .unwrap();
    assert_eq!(result["status"], "error");
    let message = result["message"].as_str().unwrap();
    assert!(
        message.contains("no fix release date for CVE-2014-6271 in bash (none: Trivy reports carry no fix release date)"),
        "{message}"
    );
    // The fixed image is covered by no input: missing evidence is an error, never a pass.
    assert_eq!(
        scan.verdict("image.critical-fix-age", FIXED).as_deref(),
        Some("error")
    );
}

#[test]
fn a_malformed_report_or_advisory_is_an_input_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.json");
    std::fs::write(
        &bad,
        b"{\"SchemaVersion\": 2, \"ArtifactName\": \"x\", \"Results\": 7}",
    )
    .unwrap();
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/hardened-host.snapshot.json"
    );
    let out_dir = tmp.path().join("bundle");
    let out = dockproof(&[
        "report",
        sample,
        "--format",
        "json",
        "--vuln-report",
        &bad.display().to_string(),
        "--out",
        &out_dir.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{}: Results is not a list", bad.display())),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());

    let dir = tmp.path().join("osv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("x.json"), b"{\"affected\": []}").unwrap();
    let out = dockproof(&[
        "report",
        sample,
        "--format",
        "json",
        "--advisories",
        &dir.display().to_string(),
        "--out",
        &out_dir.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("x.json: OSV record without an `id`"),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
}
