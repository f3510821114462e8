//! Version ordering compared with the real tools: every pair of a corpus of Debian versions
//! against `dpkg --compare-versions`, of rpm versions against rpm's own `rpm.vercmp`, and apk
//! ordering against apk-tools' test data (tests/data/versions/apk-version.data, from
//! alpinelinux/apk-tools `test/unit/version.data`).

use std::cmp::Ordering;
use std::process::Command;

use dockproof::vuln::version;

const DEB: &[&str] = &[
    "1.0",
    "1.0-0",
    "1.0-1",
    "1:1.0",
    "1:0.9",
    "2:0.1",
    "0:1.0",
    "1.0~rc1",
    "1.0~~",
    "1.0~",
    "1.0+dfsg",
    "1.0.1",
    "1.0a",
    "1.0+",
    "1.00",
    "1.0-1ubuntu1",
    "1.0-1+b1",
    "1.0-1~bpo1",
    "4.2+dfsg-0.1",
    "4.2+dfsg-0.1+deb7u1",
    "4.2+dfsg-0.1+deb7u3",
    "1.0.1e-2+deb7u4",
    "1.0.1e-2+deb7u5",
    "1.0.1e-2+deb7u13",
    "1.0.1e-2+deb7u5~bpo",
    "2.13-38+deb7u1+b1",
    "9.6.2+dfsg-1",
    "a",
    "1.2.3.4.5",
    "10",
    "9",
    "1.0-a",
    "1.0-10",
    "1.0-9",
    "0.0.0-0",
];

const RPM: &[&str] = &[
    "1.0-1",
    "1.0-2",
    "1:1.0-1",
    "2.0-1",
    "1.0a-1",
    "1.0~rc1-1",
    "1.0^git1-1",
    "1.0.2k-19.el7",
    "1.0.2k-16.el7",
    "1.0.2k-19.el7_9",
    "3.0.7-27.el9",
    "3.0.7-24.el9",
    "1:3.0.7-27.el9",
    "010-1",
    "10-1",
    "1.0",
    "1.0-1.fc38",
    "1.0-1.fc39",
    "2.17-326.el7_9",
    "2.17-317.el7",
    "5.1.8-6.el9_1",
    "0.9-1",
    "1.a-1",
    "1.1-1",
    "1.0.0-1",
    "4.4.20-4.el8_6",
    "4.4.20-1.el8",
];

fn dpkg_order(a: &str, b: &str) -> Ordering {
    let test = |op: &str| {
        Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .status()
            .expect("dpkg is installed")
            .success()
    };
    if test("lt") {
        Ordering::Less
    } else if test("eq") {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

#[test]
fn dpkg_ordering_matches_dpkg_compare_versions() {
    let mut checked = 0;
    for (i, a) in DEB.iter().enumerate() {
        for b in &DEB[i..] {
            assert_eq!(
                version::dpkg(a, b),
                dpkg_order(a, b),
                "{a} vs {b} differs from dpkg"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, DEB.len() * (DEB.len() + 1) / 2);
}

#[test]
fn rpm_ordering_matches_rpm_vercmp() {
    let mut pairs = Vec::new();
    for a in RPM {
        for b in RPM {
            pairs.push((*a, *b));
        }
    }
    let script: String = pairs
        .iter()
        .map(|(a, b)| format!("print(rpm.vercmp(\"{a}\", \"{b}\")) print(\"\\n\") "))
        .collect();
    let out = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: {script}}}"))
        .output()
        .expect("rpm is installed (apt-get install rpm)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let answers: Vec<i32> = text
        .split_whitespace()
        .map(|n| n.parse().expect("rpm.vercmp prints integers"))
        .collect();
    assert_eq!(answers.len(), pairs.len());
    for ((a, b), want) in pairs.iter().zip(answers) {
        assert_eq!(
            version::rpm(a, b),
            want.cmp(&0),
            "{a} vs {b} differs from rpm.vercmp"
        );
    }
}

#[test]
fn apk_ordering_matches_apk_tools_test_data() {
    let data = include_str!("data/versions/apk-version.data");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in data.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let ok = match parts.as_slice() {
            [a, op, b] => {
                let (invert, op) = match op.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, *op),
                };
                let fuzzy = op.contains('~');
                let got = version::apk(a, b, fuzzy);
                let hit = op.chars().any(|c| match c {
                    '<' => got == Ordering::Less,
                    '>' => got == Ordering::Greater,
                    '=' | '~' => got == Ordering::Equal,
                    _ => false,
                });
                hit != invert
            }
            [v] => match v.strip_prefix('!') {
                Some(bad) => !version::apk_valid(bad),
                None => version::apk_valid(v),
            },
            _ => panic!("unexpected line {line}"),
        };
        checked += 1;
        if !ok {
            failures.push(line.to_string());
        }
    }
    assert!(checked > 700, "only {checked} lines");
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
}
