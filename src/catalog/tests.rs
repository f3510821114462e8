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
        "mode: manual\n    prompt: Ask.",
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
