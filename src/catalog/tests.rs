use super::*;
use std::fs;

const PARAMS: &str = "params:\n  trusted_registries:\n    type: list\n    default: []\n    description: Registries images may come from.\n";

const CHECKS: &str = r#"checks:
  - id: container.privileged
    title: Not privileged
    description: d
    rationale: r
    severity: critical
    resource: container
    rule: "!resource.HostConfig.Privileged"
    expectation: HostConfig.Privileged is false
    evidence:
      Privileged: resource.HostConfig.Privileged
    remediation: Remove --privileged.
    fix: {remove_run_flag: "--privileged"}
    references:
      cis_docker: ["5.5"]
"#;

const FRAMEWORK: &str = r#"framework:
  id: test-fw
  name: Test
  version: "1"
  publisher: Nobody
  description: d
requirements:
  - id: "1.1"
    title: t
    mode: automated
    checks: [container.privileged]
"#;

fn catalog_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn errors(files: &[(&str, &str)]) -> Vec<String> {
    let dir = catalog_dir(files);
    match Catalog::load_dir_only(dir.path()) {
        Ok(_) => vec![],
        Err(CatalogError(diags)) => diags
            .iter()
            .map(|d| {
                let file = Path::new(&d.location.file)
                    .strip_prefix(dir.path())
                    .unwrap()
                    .display()
                    .to_string();
                format!("{file}:{}: {}", d.location.line, d.message)
            })
            .collect(),
    }
}

#[test]
fn a_valid_catalog_loads() {
    let dir = catalog_dir(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", CHECKS),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    let catalog = Catalog::load_dir_only(dir.path()).unwrap();
    assert_eq!(catalog.checks.len(), 1);
    assert_eq!(catalog.checks[0].location.line, 2);
    assert_eq!(catalog.frameworks[0].requirements[0].id, "1.1");
    assert!(catalog.lint().is_empty());
    assert_eq!(catalog.sha256.len(), 64);
}

#[test]
fn broken_yaml_names_file_and_line() {
    let broken = CHECKS.replace("    severity: critical\n", "    severity: [critical\n");
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", &broken),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("checks/c.yaml:"), "{errs:?}");
}

#[test]
fn unknown_field_is_an_error_with_its_line() {
    let typo = CHECKS.replace("    remediation:", "    remediaton: x\n    remediation:");
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", &typo),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("checks/c.yaml:12:"), "{errs:?}");
    assert!(errs[0].contains("unknown field `remediaton`"), "{errs:?}");
}

#[test]
fn duplicate_ids_are_reported() {
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/a.yaml", CHECKS),
        ("checks/b.yaml", CHECKS),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("checks/b.yaml:2: duplicate check id `container.privileged`"),
        "{errs:?}"
    );
}

#[test]
fn rule_that_does_not_compile_points_at_the_rule_line() {
    let bad = CHECKS.replace(
        "\"!resource.HostConfig.Privileged\"",
        "\"resource.HostConfig.(\"",
    );
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", &bad),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("checks/c.yaml:8: check `container.privileged`: rule does not compile"),
        "{errs:?}"
    );
}

#[test]
fn dangling_framework_reference_is_reported() {
    let fw = FRAMEWORK.replace(
        "checks: [container.privileged]",
        "checks: [container.privileged, container.nope]",
    );
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", CHECKS),
        ("frameworks/test-fw.yaml", &fw),
    ]);
    assert_eq!(
        errs,
        vec!["frameworks/test-fw.yaml:8: test-fw requirement 1.1: refers to check `container.nope`, which does not exist"]
    );
}

#[test]
fn undeclared_parameters_are_reported() {
    let reads = CHECKS.replace(
        "\"!resource.HostConfig.Privileged\"",
        "\"!resource.HostConfig.Privileged && size(params.trusted_registries) >= 0\"",
    );
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", &reads),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("reads params.trusted_registries but does not list it"),
        "{errs:?}"
    );
}

#[test]
fn manual_checks_need_a_prompt_and_no_rule() {
    let manual = CHECKS.replace(
        "    severity: critical\n",
        "    severity: critical\n    mode: manual\n",
    );
    let errs = errors(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", &manual),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("manual check `container.privileged` has a `rule`"),
        "{errs:?}"
    );
}

#[test]
fn unused_check_is_a_lint_finding() {
    let fw = FRAMEWORK.replace(
        "mode: automated\n    checks: [container.privileged]",
        "mode: manual\n    prompt: Ask.\n    evidence_owner: platform team",
    );
    let dir = catalog_dir(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", CHECKS),
        ("frameworks/test-fw.yaml", &fw),
    ]);
    let catalog = Catalog::load_dir_only(dir.path()).unwrap();
    let lint: Vec<String> = catalog.lint().iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        lint,
        vec!["check `container.privileged` is not used by any framework"]
    );
}

#[test]
fn params_are_parsed_by_type() {
    let dir = catalog_dir(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", CHECKS),
        ("frameworks/test-fw.yaml", FRAMEWORK),
    ]);
    let catalog = Catalog::load_dir_only(dir.path()).unwrap();
    let values = catalog
        .resolve_params(&[(
            "trusted_registries".into(),
            "registry.example.com, ghcr.io".into(),
        )])
        .unwrap();
    assert_eq!(
        values["trusted_registries"],
        serde_json::json!(["registry.example.com", "ghcr.io"])
    );
    let err = catalog
        .resolve_params(&[("nope".into(), "1".into())])
        .unwrap_err();
    assert!(err.starts_with("unknown parameter `nope`"), "{err}");
}

#[test]
fn the_shipped_catalog_loads_and_lints_clean() {
    let catalog = Catalog::load(None).unwrap_or_else(|e| panic!("{e}"));
    let lint = catalog.lint();
    assert!(lint.is_empty(), "{}", render_list(&lint));
    for id in ["cis-docker-1.6", "pci-dss-4.0.1", "hipaa-security-rule"] {
        assert!(catalog.framework(id).is_some(), "framework {id} missing");
    }
    assert!(
        catalog.checks.len() >= 30,
        "only {} checks",
        catalog.checks.len()
    );
}

#[test]
fn texts_in_memory_load_like_files_and_override_built_in_ones() {
    let catalog = Catalog::from_texts(
        &[
            ("params.yaml", PARAMS),
            ("checks/c.yaml", CHECKS),
            ("frameworks/f.yaml", FRAMEWORK),
        ],
        false,
    )
    .unwrap();
    assert_eq!(catalog.checks.len(), 1);
    assert_eq!(
        catalog.sources,
        ["params.yaml", "checks/c.yaml", "frameworks/f.yaml"]
    );

    // Laid over the built-in catalog, a file with a built-in's path replaces it.
    let built_in = Catalog::load(None).unwrap();
    let replaced = Catalog::from_texts(&[("params.yaml", PARAMS)], true);
    let err = replaced.unwrap_err().to_string();
    assert!(err.contains("which params.yaml does not define"), "{err}");
    assert!(built_in.params.len() > 1);

    let err = Catalog::from_texts(&[("checks/c.yaml", "checks: [")], false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("checks/c.yaml:2: did not find expected node content"),
        "{err}"
    );
}

// ---- `controls lint` rules: each crafted catalog breaks one rule and gets its exact message.

const MANUAL_CHECK: &str = r#"  - id: host.hardened
    title: Host hardened
    description: d
    rationale: r
    severity: medium
    resource: host
    mode: manual
    expectation: e
    remediation: r
    prompt: Ask for the baseline.
"#;

fn framework(id: &str, requirements: &str) -> String {
    format!("framework:\n  id: {id}\n  name: N\n  version: \"1\"\n  publisher: P\n  description: d\nrequirements:\n{requirements}")
}

/// Lint findings of a catalog written to disk, as `file:line: message` relative to its root.
fn lint_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = catalog_dir(files);
    let catalog = Catalog::load_dir_only(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    catalog
        .lint()
        .iter()
        .map(|d| {
            let file = Path::new(&d.location.file)
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string();
            format!("{file}:{}: {}", d.location.line, d.message)
        })
        .collect()
}

fn with_cis(cis_requirements: &str, checks: &str) -> Vec<String> {
    lint_of(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", checks),
        (
            "frameworks/cis.yaml",
            &framework("cis-docker-1.6", cis_requirements),
        ),
    ])
}

#[test]
fn lint_cis_reference_must_match_the_cis_framework_file() {
    let ok =
        "  - id: \"5.5\"\n    title: t\n    mode: automated\n    checks: [container.privileged]\n";
    assert_eq!(with_cis(ok, CHECKS), Vec::<String>::new());

    let supporting =
        "  - id: \"5.5\"\n    title: t\n    mode: manual\n    supporting: [container.privileged]\n    prompt: p\n    evidence_owner: o\n";
    assert_eq!(with_cis(supporting, CHECKS), Vec::<String>::new());

    let wrong =
        "  - id: \"5.4\"\n    title: t\n    mode: automated\n    checks: [container.privileged]\n";
    assert_eq!(
        with_cis(wrong, CHECKS),
        vec![
            "checks/c.yaml:2: check `container.privileged` cites CIS 5.5, but cis-docker-1.6 has no requirement 5.5",
            "frameworks/cis.yaml:8: cis-docker-1.6 requirement 5.4: lists check `container.privileged`, which does not cite CIS 5.4 in `references.cis_docker`",
        ]
    );

    let unlisted = format!("{ok}  - id: \"5.4\"\n    title: u\n    mode: manual\n    prompt: p\n    evidence_owner: o\n");
    let cites_both = CHECKS.replace("[\"5.5\"]", "[\"5.5\", \"5.4\"]");
    assert_eq!(
        with_cis(&unlisted, &cites_both),
        vec!["checks/c.yaml:2: check `container.privileged` cites CIS 5.4, but cis-docker-1.6 requirement 5.4 does not list it"]
    );

    let made_up = CHECKS.replace("[\"5.5\"]", "[\"5.5\", \"5.33\"]");
    assert_eq!(
        with_cis(ok, &made_up),
        vec!["checks/c.yaml:2: check `container.privileged` cites CIS 5.33, which is not a CIS Docker Benchmark v1.6.0 recommendation (closed list src/catalog/ids/cis-docker-1.6.txt)"]
    );
}

#[test]
fn lint_automated_requirement_needs_automated_deciding_checks() {
    let checks = format!("{CHECKS}{MANUAL_CHECK}");
    let fw = FRAMEWORK.replace(
        "checks: [container.privileged]",
        "checks: [container.privileged, host.hardened]",
    );
    assert_eq!(
        lint_of(&[("params.yaml", PARAMS), ("checks/c.yaml", &checks), ("frameworks/f.yaml", &fw)]),
        vec!["frameworks/f.yaml:8: test-fw requirement 1.1: automated, but deciding check `host.hardened` is manual: make the requirement partial or the check supporting"]
    );
    // As supporting evidence, or under a partial requirement, the manual check is fine.
    let supporting = FRAMEWORK.replace(
        "checks: [container.privileged]",
        "checks: [container.privileged]\n    supporting: [host.hardened]",
    );
    assert_eq!(
        lint_of(&[
            ("params.yaml", PARAMS),
            ("checks/c.yaml", &checks),
            ("frameworks/f.yaml", &supporting)
        ]),
        Vec::<String>::new()
    );
}

#[test]
fn lint_titles_are_unique_within_a_framework() {
    let fw = format!("{FRAMEWORK}  - id: \"1.2\"\n    title: \"T \"\n    mode: automated\n    checks: [container.privileged]\n");
    assert_eq!(
        lint_of(&[("params.yaml", PARAMS), ("checks/c.yaml", CHECKS), ("frameworks/f.yaml", &fw)]),
        vec!["frameworks/f.yaml:12: test-fw requirement 1.2: title \"T \" is also the title of requirement 1.1 (line 8): give each requirement its own title"]
    );
}

#[test]
fn lint_manual_and_partial_requirements_name_an_evidence_owner() {
    let fw = FRAMEWORK.replace("mode: automated", "mode: partial\n    prompt: Ask.");
    assert_eq!(
        lint_of(&[("params.yaml", PARAMS), ("checks/c.yaml", CHECKS), ("frameworks/f.yaml", &fw)]),
        vec!["frameworks/f.yaml:8: test-fw requirement 1.1: partial and manual requirements need an `evidence_owner` (who the assessor asks for the evidence)"]
    );
}

fn closed_list_lint(framework_id: &str, requirements: &str) -> Vec<String> {
    let used = "  - id: \"uses\"\n    title: uses the check\n    mode: automated\n    checks: [container.privileged]\n";
    lint_of(&[
        ("params.yaml", PARAMS),
        ("checks/c.yaml", CHECKS),
        ("frameworks/f.yaml", &framework(framework_id, requirements)),
        ("frameworks/u.yaml", &framework("user-fw", used)),
    ])
}

#[test]
fn lint_pci_ids_and_service_provider_flags_follow_the_standard() {
    let manual = |id: &str, title: &str, extra: &str| {
        format!("  - id: \"{id}\"\n    title: {title}\n    mode: manual\n{extra}    prompt: p\n    evidence_owner: o\n")
    };
    let reqs = [
        manual("1.2.1", "a", ""),
        manual("1.2.9", "b", ""),
        manual("8.2.3", "c", ""),
        manual("8.2.4", "d", "    service_provider_only: true\n"),
        manual("A1.2.3", "e", "    service_provider_only: true\n"),
    ]
    .concat();
    assert_eq!(
        closed_list_lint("pci-dss-4.0.1", &reqs),
        vec![
            "frameworks/f.yaml:13: pci-dss-4.0.1 requirement 1.2.9: `1.2.9` is not a PCI DSS v4.0.1 requirement (closed list src/catalog/ids/pci-dss-4.0.1.txt)",
            "frameworks/f.yaml:18: pci-dss-4.0.1 requirement 8.2.3: the standard applies this requirement to service providers only: set `service_provider_only: true`",
            "frameworks/f.yaml:23: pci-dss-4.0.1 requirement 8.2.4: `service_provider_only` is set, but the standard applies this requirement to every entity",
        ]
    );
}

#[test]
fn lint_hipaa_citations_and_levels_follow_the_rule() {
    let manual = |id: &str, title: &str, level: &str| {
        format!("  - id: \"{id}\"\n    title: {title}\n{level}    mode: manual\n    prompt: p\n    evidence_owner: o\n")
    };
    let reqs = [
        manual("164.312(c)(2)", "a", "    level: addressable\n"),
        manual("164.314(a)-(b)", "b", "    level: required\n"),
        manual("164.312(e)(2)(ii)", "c", "    level: required\n"),
        manual("164.308(a)(2)", "d", ""),
    ]
    .concat();
    assert_eq!(
        closed_list_lint("hipaa-security-rule", &reqs),
        vec![
            "frameworks/f.yaml:14: hipaa-security-rule requirement 164.314(a)-(b): `164.314(a)-(b)` is not a HIPAA Security Rule standard or implementation specification (closed list src/catalog/ids/hipaa-security-rule.txt)",
            "frameworks/f.yaml:20: hipaa-security-rule requirement 164.312(e)(2)(ii): level `required` differs from `addressable` on the closed list (src/catalog/ids/hipaa-security-rule.txt)",
            "frameworks/f.yaml:26: hipaa-security-rule requirement 164.308(a)(2): needs `level: required` (closed list src/catalog/ids/hipaa-security-rule.txt)",
        ]
    );
}

#[test]
fn closed_lists_hold_the_published_counts() {
    let count = |id: &str| ids::for_framework(id).map(|l| l.entries.len());
    assert_eq!(count("cis-docker-1.6"), Some(117));
    let pci = ids::for_framework("pci-dss-4.0.1").unwrap();
    let sp: Vec<&str> = pci
        .entries
        .keys()
        .copied()
        .filter(|id| pci.has(id, "service-provider"))
        .collect();
    assert_eq!(sp.len(), 23, "{sp:?}");
    assert!(pci.contains("12.10.7") && pci.contains("A3.5.1") && !pci.contains("12.11.1"));
    let hipaa = ids::for_framework("hipaa-security-rule").unwrap();
    assert_eq!(hipaa.level("164.308(a)(3)(ii)(B)"), Some("addressable"));
    assert_eq!(hipaa.level("164.310(d)(2)(ii)"), Some("required"));
    assert!(ids::for_framework("test-fw").is_none());
}

#[test]
fn shipped_frameworks_mark_every_service_provider_requirement_and_hipaa_level() {
    let catalog = Catalog::load(None).unwrap_or_else(|e| panic!("{e}"));
    let pci = catalog.framework("pci-dss-4.0.1").unwrap();
    let marked: Vec<&str> = pci
        .requirements
        .iter()
        .filter(|r| r.service_provider_only)
        .map(|r| r.id.as_str())
        .collect();
    let list = ids::for_framework("pci-dss-4.0.1").unwrap();
    let all_sp: Vec<&str> = list
        .entries
        .keys()
        .copied()
        .filter(|id| list.has(id, "service-provider"))
        .collect();
    let mut marked_sorted = marked.clone();
    marked_sorted.sort();
    assert_eq!(marked_sorted, all_sp);
    let hipaa = catalog.framework("hipaa-security-rule").unwrap();
    assert!(hipaa.requirements.iter().all(|r| r.level.is_some()));
    assert!(hipaa.requirements.iter().any(|r| r.id == "164.314(a)(1)"));
}
