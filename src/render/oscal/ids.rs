//! Identifiers of the OSCAL document: RFC 4122 version 5 UUIDs (SHA-1 name-based, in
//! [`NAMESPACE`]) of stable names (snapshot hash, check id, fingerprint, …), so the same
//! assessment always renders to the same bytes and any tool can recompute an id with
//! `Uuid::new_v5`; and OSCAL tokens made from requirement ids.

use uuid::Uuid;

use crate::assessment::{CheckResult, ResourceKind, WaiverRecord};

/// The namespace of every UUID dockproof writes: `uuid5(NAMESPACE_URL, "urn:dockproof:oscal")`.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x1dbc9582_368b_5e26_9077_603a1f46c052);

/// The version 5 UUID of `name` in [`NAMESPACE`], hyphenated and lower-case.
pub(crate) fn uuid(name: &str) -> String {
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// An OSCAL token (`[letter or _][letters, digits, . - _]*`) from any id.
pub(super) fn token(s: &str) -> String {
    let mut t: String = s
        .chars()
        .filter(|&c| c != ')')
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !t.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        t.insert(0, '_');
    }
    t
}

/// Ids shared by the parts of one document.
pub(super) struct Ids {
    pub(super) seed: String,
    pub(super) snapshot: String,
    pub(super) plan: String,
}

pub(super) fn component_uuid(kind: ResourceKind, id: &str) -> String {
    uuid(&format!("component|{}|{id}", kind.as_str()))
}

pub(super) fn observation_uuid(ids: &Ids, r: &CheckResult) -> String {
    uuid(&format!(
        "observation|{}|{}|{}|{}",
        ids.seed, r.check_id, r.fingerprint, r.resource.id
    ))
}

pub(super) fn risk_uuid(ids: &Ids, w: &WaiverRecord) -> String {
    uuid(&format!("risk|{}|{}", ids.seed, w.id))
}

pub(super) fn attestation_uuid(ids: &Ids, framework: &str, requirement: &str) -> String {
    uuid(&format!(
        "attestation|{}|{framework}|{requirement}",
        ids.seed
    ))
}

/// A party's UUID: the same person or organisation gets the same id in every document.
pub(super) fn party_uuid(kind: &str, name: &str) -> String {
    uuid(&format!("party|{kind}|{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_rfc_4122_version_5_in_the_project_namespace() {
        let ns = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:dockproof:oscal");
        assert_eq!(NAMESPACE, ns);
        let u = uuid("x");
        assert_eq!(u, uuid("x"));
        assert_ne!(u, uuid("y"));
        let parsed = Uuid::parse_str(&u).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 5);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(parsed, Uuid::new_v5(&ns, b"x"));
        // Python's uuid.uuid5(uuid.UUID("1dbc9582-368b-5e26-9077-603a1f46c052"), "x").
        assert_eq!(u, "fb7e6081-a4de-5913-8ad9-78056cbd6392");
    }

    #[test]
    fn tokens_are_valid_oscal_tokens() {
        assert_eq!(token("pci-dss-4.0.1_2.2.5"), "pci-dss-4.0.1_2.2.5");
        assert_eq!(token("hipaa_164.312(a)(1)"), "hipaa_164.312_a_1");
        assert_eq!(token("5.5"), "_5.5");
        assert_eq!(token("a b/c"), "a_b_c");
    }
}
