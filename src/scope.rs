//! What an assessment covers: a host's role in the assessed environment and free labels.
//!
//! One schema serves both the engagement scope file (`--scope`, which describes the one host a
//! bundle is about) and fleet targets files (which describe each host of a fleet), so a host's
//! role reads the same wherever it was declared. Every value here comes from a file an operator
//! wrote and is treated as hostile: keys are restricted to a small alphabet, values are bounded
//! and single-line, and renderers still pass them through [`crate::text`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The part a host plays in the environment under assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostRole {
    /// Stores, processes or transmits cardholder data, or can affect its security (PCI DSS
    /// "CDE system component").
    CardholderDataEnvironment,
    /// Connected to the cardholder data environment or able to affect its security without
    /// being part of it (PCI DSS "connected-to" system).
    ConnectedTo,
    /// Creates, receives, maintains or transmits electronic protected health information
    /// (HIPAA § 164.306(a)).
    EphiSystem,
    /// Declared outside the assessed environment; assessed for information only.
    OutOfScope,
}

impl HostRole {
    /// Every role, in the order reports list them.
    pub const ALL: [HostRole; 4] = [
        HostRole::CardholderDataEnvironment,
        HostRole::ConnectedTo,
        HostRole::EphiSystem,
        HostRole::OutOfScope,
    ];

    /// The spelling used in YAML and JSON.
    pub fn id(self) -> &'static str {
        match self {
            HostRole::CardholderDataEnvironment => "cardholder-data-environment",
            HostRole::ConnectedTo => "connected-to",
            HostRole::EphiSystem => "ephi-system",
            HostRole::OutOfScope => "out-of-scope",
        }
    }

    /// Words for a report.
    pub fn label(self) -> &'static str {
        match self {
            HostRole::CardholderDataEnvironment => "Cardholder data environment (CDE)",
            HostRole::ConnectedTo => "Connected to the CDE",
            HostRole::EphiSystem => "System holding ePHI",
            HostRole::OutOfScope => "Out of scope",
        }
    }

    /// Whether findings on a host with this role count towards the environment's verdicts.
    pub fn in_scope(self) -> bool {
        self != HostRole::OutOfScope
    }
}

/// A role spelled other than as [`HostRole::id`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected one of cardholder-data-environment, connected-to, ephi-system, out-of-scope")]
pub struct UnknownRole(pub String);

impl FromStr for HostRole {
    type Err = UnknownRole;

    /// Reads the spelling of YAML and JSON, and nothing else: a flag and a file accept the
    /// same words.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostRole::ALL
            .into_iter()
            .find(|r| r.id() == s)
            .ok_or_else(|| UnknownRole(crate::text::terminal(s).into_owned()))
    }
}

impl fmt::Display for HostRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Free labels (`env: prod`, `team: payments`), kept sorted so every output lists them in the
/// same order.
pub type Labels = BTreeMap<String, String>;

/// How a host is described in a scope or targets file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostProfile {
    /// The host's role; `None` when the file does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<HostRole>,
    /// Free labels, shown in reports and usable to filter them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
}

/// Longest label key, as Kubernetes allows for a label name.
pub const MAX_LABEL_KEY: usize = 63;
/// Longest label value.
pub const MAX_LABEL_VALUE: usize = 256;
/// Most labels on one host.
pub const MAX_LABELS: usize = 64;

/// Why a profile was refused; the caller adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("label key {0:?} must be 1 to 63 characters of letters, digits, `.`, `_`, `-` and `/`, starting with a letter or digit")]
    BadKey(String),
    #[error("label {key:?}: the value must be one line of at most 256 characters without control or invisible formatting characters")]
    BadValue { key: String },
    #[error("{0} labels given; at most 64 are allowed")]
    TooMany(usize),
}

/// Why a profile given by flags (`--role`, `--label KEY=VALUE`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("expected KEY=VALUE, got {0:?}")]
    NotKeyValue(String),
    #[error("label {0:?} is given twice")]
    Repeated(String),
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

impl HostProfile {
    /// Checks the labels; the role is already closed by its type.
    pub fn validate(&self) -> Result<(), ProfileError> {
        validate_labels(&self.labels)
    }

    /// Whether the host counts towards the environment's verdicts. A host whose role is not
    /// declared counts: leaving a host out must be said, never assumed.
    pub fn in_scope(&self) -> bool {
        self.role.is_none_or(HostRole::in_scope)
    }
}

/// Checks label keys and values (see [`ProfileError`]).
pub fn validate_labels(labels: &Labels) -> Result<(), ProfileError> {
    if labels.len() > MAX_LABELS {
        return Err(ProfileError::TooMany(labels.len()));
    }
    for (key, value) in labels {
        if !valid_key(key) {
            return Err(ProfileError::BadKey(key.clone()));
        }
        if value.chars().count() > MAX_LABEL_VALUE || value.chars().any(crate::text::is_hidden) {
            return Err(ProfileError::BadValue { key: key.clone() });
        }
    }
    Ok(())
}

/// Parses one `KEY=VALUE` label as given on a command line (`collect --label env=prod`),
/// checked as a label of a scope or targets file is. The value may hold `=`; it may be empty.
pub fn parse_label(text: &str) -> Result<(String, String), FlagError> {
    let shown = || crate::text::terminal(text).into_owned();
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| FlagError::NotKeyValue(shown()))?;
    let one: Labels = [(key.to_string(), value.to_string())].into();
    validate_labels(&one).map_err(|e| match e {
        ProfileError::BadKey(_) => ProfileError::BadKey(crate::text::terminal(key).into_owned()),
        other => other,
    })?;
    Ok((key.to_string(), value.to_string()))
}

impl HostProfile {
    /// The profile given by flags (`--role`, repeated `--label`): a key given twice is refused
    /// rather than one value silently winning, and the whole is checked as a file's would be.
    pub fn from_flags(
        role: Option<HostRole>,
        labels: &[(String, String)],
    ) -> Result<HostProfile, FlagError> {
        let mut map = Labels::new();
        for (key, value) in labels {
            if map.insert(key.clone(), value.clone()).is_some() {
                return Err(FlagError::Repeated(key.clone()));
            }
        }
        let profile = HostProfile { role, labels: map };
        profile.validate()?;
        Ok(profile)
    }

    /// Whether the profile says anything (a role or a label).
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.labels.is_empty()
    }

    /// `role cardholder-data-environment, labels env=prod` for notes; `nothing` when empty.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(role) = self.role {
            parts.push(format!("role {role}"));
        }
        if !self.labels.is_empty() {
            let labels: Vec<String> = self
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            parts.push(format!("labels {}", labels.join(" ")));
        }
        if parts.is_empty() {
            "no role and no labels".to_string()
        } else {
            parts.join(", ")
        }
    }
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    first_ok
        && key.len() <= MAX_LABEL_KEY
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

/// Parses a `KEY=VALUE` label selector as used by `--filter label=…` and report filters:
/// `KEY` alone matches any value.
pub fn label_matches(labels: &Labels, selector: &str) -> bool {
    match selector.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
        None => labels.contains_key(selector),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(yaml: &str) -> Result<HostProfile, serde_yaml_ng::Error> {
        serde_yaml_ng::from_str(yaml)
    }

    #[test]
    fn roles_round_trip_in_their_documented_spelling() {
        for role in HostRole::ALL {
            let yaml = format!("role: {}\n", role.id());
            let parsed = profile(&yaml).unwrap();
            assert_eq!(parsed.role, Some(role));
            let json = serde_json::to_string(&parsed).unwrap();
            assert!(json.contains(role.id()), "{json}");
        }
    }

    #[test]
    fn an_unknown_role_or_field_is_refused() {
        assert!(profile("role: cde\n").is_err());
        assert!(profile("rol: connected-to\n").is_err());
    }

    #[test]
    fn only_out_of_scope_leaves_a_host_out() {
        assert!(HostProfile::default().in_scope());
        for role in HostRole::ALL {
            let p = HostProfile {
                role: Some(role),
                ..HostProfile::default()
            };
            assert_eq!(p.in_scope(), role != HostRole::OutOfScope);
        }
    }

    #[test]
    fn labels_are_checked() {
        let ok = profile("labels: {env: prod, example.com/team: payments}\n").unwrap();
        ok.validate().unwrap();
        for bad in [
            "labels: {'-env': prod}\n",
            "labels: {'env key': prod}\n",
            "labels: {'': prod}\n",
            "labels: {env: \"a\\nb\"}\n",
            "labels: {env: \"\\u202e\"}\n",
        ] {
            let p = profile(bad).unwrap();
            assert!(p.validate().is_err(), "{bad}");
        }
        let long = format!("labels: {{{}: x}}\n", "k".repeat(64));
        assert!(profile(&long).unwrap().validate().is_err());
    }

    #[test]
    fn a_role_flag_reads_only_the_documented_spelling() {
        for role in HostRole::ALL {
            assert_eq!(role.id().parse::<HostRole>(), Ok(role));
        }
        let err = "cde".parse::<HostRole>().unwrap_err().to_string();
        assert!(err.contains("unknown role \"cde\""), "{err}");
        assert!(err.contains("cardholder-data-environment"), "{err}");
        assert!("Out-Of-Scope".parse::<HostRole>().is_err());
    }

    #[test]
    fn label_flags_are_checked_as_file_labels_are() {
        assert_eq!(
            parse_label("env=prod").unwrap(),
            ("env".to_string(), "prod".to_string())
        );
        assert_eq!(
            parse_label("example.com/url=a=b").unwrap(),
            ("example.com/url".to_string(), "a=b".to_string())
        );
        assert_eq!(parse_label("empty=").unwrap().1, "");
        assert_eq!(
            parse_label("env"),
            Err(FlagError::NotKeyValue("env".to_string()))
        );
        let refused = |text: &str| match parse_label(text) {
            Err(FlagError::Profile(e)) => e,
            other => panic!("{text:?} gave {other:?}"),
        };
        assert!(matches!(refused("-env=x"), ProfileError::BadKey(_)));
        assert!(matches!(refused("=x"), ProfileError::BadKey(_)));
        assert!(matches!(
            refused("env=a\u{200b}b"),
            ProfileError::BadValue { .. }
        ));
        assert!(matches!(refused("env=a\nb"), ProfileError::BadValue { .. }));
        let long = format!("env={}", "x".repeat(MAX_LABEL_VALUE + 1));
        assert!(parse_label(&long).is_err());
        // A hidden character in a refused key is shown escaped, never raw.
        let err = parse_label("e\u{202e}v=x").unwrap_err().to_string();
        assert!(!err.contains('\u{202e}'), "{err}");
    }

    #[test]
    fn flags_give_a_profile_and_refuse_a_repeated_key() {
        let labels = vec![
            ("env".to_string(), "prod".to_string()),
            ("team".to_string(), "payments".to_string()),
        ];
        let p =
            HostProfile::from_flags(Some(HostRole::CardholderDataEnvironment), &labels).unwrap();
        assert_eq!(p.labels.len(), 2);
        assert_eq!(
            p.describe(),
            "role cardholder-data-environment, labels env=prod team=payments"
        );
        let twice = vec![
            ("env".to_string(), "prod".to_string()),
            ("env".to_string(), "dev".to_string()),
        ];
        assert_eq!(
            HostProfile::from_flags(None, &twice),
            Err(FlagError::Repeated("env".to_string()))
        );
        let many: Vec<(String, String)> = (0..=MAX_LABELS)
            .map(|i| (format!("k{i}"), String::new()))
            .collect();
        assert_eq!(
            HostProfile::from_flags(None, &many),
            Err(FlagError::Profile(ProfileError::TooMany(MAX_LABELS + 1)))
        );
        assert!(HostProfile::from_flags(None, &[]).unwrap().is_empty());
    }

    #[test]
    fn selectors_match_key_or_key_and_value() {
        let labels: Labels = [("env".to_string(), "prod".to_string())].into();
        assert!(label_matches(&labels, "env"));
        assert!(label_matches(&labels, "env=prod"));
        assert!(!label_matches(&labels, "env=dev"));
        assert!(!label_matches(&labels, "role"));
    }
}
