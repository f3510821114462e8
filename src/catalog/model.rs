//! The YAML shapes of the control catalogs, exactly as written in `controls/`.
//!
//! Every struct denies unknown fields, so a misspelt key is an error with its file and line
//! rather than a silently ignored setting. `controls/README.md` documents these shapes for
//! catalog authors; keep the two in step.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::assessment::{AssessmentMode, CheckMode, References, ResourceKind, Severity};

/// A file under `controls/checks/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksFile {
    pub checks: Vec<CheckDef>,
}

/// One technical check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    /// Stable id, `<kind>.<topic>` (e.g. `container.privileged`). Never reused or renumbered.
    pub id: String,
    pub title: String,
    pub description: String,
    pub rationale: String,
    pub severity: Severity,
    /// Resource kind the check is evaluated on, once per resource of that kind.
    pub resource: ResourceKind,
    #[serde(default)]
    pub mode: CheckMode,
    /// For `resource: file` checks: the file role the check is about (`daemon.json`,
    /// `docker.sock`, ...). Only files of that role are evaluated; when the host has none, the
    /// check gets a single `not_applicable` result saying so.
    #[serde(default)]
    pub file_role: Option<String>,
    /// CEL expression; when false the result is `not_applicable`.
    #[serde(default)]
    pub applies_if: Option<String>,
    /// CEL expression that is true when the resource complies. Required for automated checks.
    #[serde(default)]
    pub rule: Option<String>,
    /// What a compliant resource looks like, in words.
    pub expectation: String,
    /// Label → CEL expression of an observed value shown with every result.
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
    pub remediation: String,
    /// Machine-readable remediation key; `controls lint` requires one on every automated check.
    /// Written as a one-key map (`fix: {run_flag: "--read-only"}`).
    #[serde(default, with = "serde_yaml_ng::with::singleton_map")]
    pub fix: Option<crate::assessment::fix::Fix>,
    /// Site parameters the expressions read (`params.<name>`).
    #[serde(default)]
    pub params: Vec<String>,
    /// For manual checks: what the assessor should examine.
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub references: References,
}

/// A file under `controls/frameworks/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkFile {
    pub framework: FrameworkMeta,
    pub requirements: Vec<RequirementDef>,
}

/// Identity of a framework and version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkMeta {
    /// Stable id including the version (`pci-dss-4.0.1`); the file is named after it.
    pub id: String,
    pub name: String,
    pub version: String,
    pub publisher: String,
    #[serde(default)]
    pub url: Option<String>,
    pub description: String,
    /// Whose words requirement states are shown in (`benchmark`, `pci-dss`, `hipaa`, `generic`).
    #[serde(default)]
    pub vocabulary: crate::assessment::Vocabulary,
}

/// One requirement (PCI DSS), standard or implementation specification (HIPAA), or
/// recommendation (CIS).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementDef {
    /// The official identifier, copied exactly.
    pub id: String,
    /// Short paraphrase of the requirement; never the official wording.
    pub title: String,
    #[serde(default)]
    pub section: Option<String>,
    /// HIPAA only: `required` or `addressable`.
    #[serde(default)]
    pub level: Option<String>,
    pub mode: AssessmentMode,
    /// Checks whose results decide the requirement's status.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Checks shown as supporting evidence; they never decide the status.
    #[serde(default)]
    pub supporting: Vec<String>,
    /// What manual evidence to collect; required for partial and manual requirements.
    #[serde(default)]
    pub prompt: Option<String>,
    /// PCI DSS: the requirement applies only to service providers. Unless the site parameter
    /// `service_provider` is true, it is not applicable to the assessed entity.
    #[serde(default)]
    pub service_provider_only: bool,
    /// Who the assessor asks for the manual evidence (`security officer`, `platform team`,
    /// `network team`, `HR`, ...); `controls lint` requires it on partial and manual
    /// requirements.
    #[serde(default)]
    pub evidence_owner: Option<String>,
}

/// `controls/params.yaml`: site parameters with their defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsFile {
    pub params: BTreeMap<String, ParamDef>,
}

/// One site parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub default: Value,
    pub description: String,
}

/// Type of a site parameter; `--param` values are parsed accordingly.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Int,
    Bool,
    /// Comma-separated on the command line.
    List,
}
