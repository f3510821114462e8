//! The document around the result: metadata (title, the engagement's parties and roles, the
//! confidentiality marking), `import-ap` and the back-matter resources.
//!
//! The engagement scope maps onto OSCAL metadata as roles `assessed-entity`, `assessor` and
//! `operator`, each with its party (an organisation for the entity; a person, member of their
//! organisation where one is named, for the others), linked by `responsible-parties`; the
//! marking is the metadata prop `marking`. Without a scope the remarks say none was declared.

use serde_json::{json, Map, Value};

use crate::assessment::Assessment;
use crate::engagement::{EngagementScope, Party, NO_SCOPE};

use super::ids::{party_uuid, uuid, Ids};
use super::{result, time, OSCAL_VERSION};

pub(super) fn document(a: &Assessment) -> Value {
    let ids = Ids {
        seed: format!(
            "{}|{}|{}",
            a.snapshot.sha256,
            a.catalog.sha256,
            time(&a.generated_at)
        ),
        snapshot: uuid(&format!("resource|snapshot|{}", a.snapshot.sha256)),
        plan: uuid(&format!("resource|plan|{}", a.catalog.sha256)),
    };
    let host = a
        .snapshot
        .target
        .hostname
        .clone()
        .unwrap_or_else(|| a.snapshot.target.docker_host.clone());
    json!({
        "assessment-results": {
            "uuid": uuid(&format!("assessment-results|{}", ids.seed)),
            "metadata": metadata(a, &host),
            "import-ap": {
                "href": format!("#{}", ids.plan),
                "remarks": "dockproof writes no OSCAL assessment plan. This reference points at \
                            the back-matter resource that describes the implicit plan: the check \
                            catalog identified by its SHA-256.",
            },
            "results": [result(a, &ids, &host)],
            "back-matter": { "resources": [
                {
                    "uuid": ids.plan,
                    "title": "Implicit assessment plan: the dockproof check catalog",
                    "description": format!(
                        "Checks, rules and framework mappings from {} (catalog SHA-256 {}).",
                        a.catalog.sources.join(", "),
                        a.catalog.sha256
                    ),
                    "rlinks": [{ "href": "assessment.json", "media-type": "application/json" }],
                },
                {
                    "uuid": ids.snapshot,
                    "title": "snapshot.json",
                    "description": "The evidence collected from the host, as evaluated.",
                    "rlinks": [{
                        "href": "snapshot.json",
                        "media-type": "application/json",
                        "hashes": [{ "algorithm": "SHA-256", "value": a.snapshot.sha256 }],
                    }],
                },
            ]},
        }
    })
}

const DISCLAIMER: &str = "Technical evidence collected from one Docker host. This document does \
not state that the host is compliant with any framework: requirements assessed as partial or \
manual need evidence only a person can collect.";

fn metadata(a: &Assessment, host: &str) -> Value {
    let fallback = (a.snapshot.target.fallback.as_ref())
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert(
        "title".into(),
        json!(format!("dockproof assessment results for {host}{fallback}")),
    );
    m.insert("last-modified".into(), json!(time(&a.generated_at)));
    m.insert("version".into(), json!(a.tool.version));
    m.insert("oscal-version".into(), json!(OSCAL_VERSION));
    let Some(scope) = &a.scope else {
        m.insert("remarks".into(), json!(format!("{DISCLAIMER} {NO_SCOPE}")));
        return Value::Object(m);
    };
    if let Some(marking) = &scope.marking {
        m.insert(
            "props".into(),
            json!([{ "name": "marking", "value": one_line(marking) }]),
        );
    }
    let (roles, parties, responsible) = engagement_parties(scope);
    m.insert("roles".into(), Value::Array(roles));
    m.insert("parties".into(), Value::Array(parties));
    m.insert("responsible-parties".into(), Value::Array(responsible));
    let mut remarks = DISCLAIMER.to_string();
    if let Some(id) = &scope.report_id {
        remarks.push_str(&format!(" Report id: {}.", one_line(id)));
    }
    if let Some(p) = scope.period {
        remarks.push_str(&format!(" Engagement period: {} to {}.", p.start, p.end));
    }
    if let Some(role) = scope.host.role {
        remarks.push_str(&format!(" Host role: {}.", role.label()));
    }
    m.insert("remarks".into(), json!(remarks));
    Value::Object(m)
}

/// OSCAL strings carry no line breaks in titles and names.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Roles, parties and the links between them for the scope's entity, assessor and operator.
fn engagement_parties(scope: &EngagementScope) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let mut roles = Vec::new();
    let mut parties: Vec<Value> = Vec::new();
    let mut responsible = Vec::new();
    let organisation = |parties: &mut Vec<Value>, name: &str| -> String {
        let id = party_uuid("organization", name);
        if !parties.iter().any(|p| p["uuid"] == json!(id)) {
            parties.push(json!({ "uuid": id, "type": "organization", "name": one_line(name) }));
        }
        id
    };
    let entity = organisation(&mut parties, &scope.entity);
    roles.push(json!({ "id": "assessed-entity", "title": "Assessed entity" }));
    responsible.push(json!({ "role-id": "assessed-entity", "party-uuids": [entity] }));
    let people: [(&str, &str, &Option<Party>); 2] = [
        ("assessor", "Assessor", &scope.assessor),
        ("operator", "Operator of the assessed host", &scope.operator),
    ];
    for (role, title, party) in people {
        let Some(party) = party else { continue };
        let mut person = Map::new();
        let id = party_uuid(role, &party.name);
        person.insert("uuid".into(), json!(id));
        person.insert("type".into(), json!("person"));
        person.insert("name".into(), json!(one_line(&party.name)));
        if let Some(contact) = &party.contact {
            if contact.contains('@') && !contact.contains(char::is_whitespace) {
                person.insert("email-addresses".into(), json!([contact]));
            } else {
                person.insert(
                    "telephone-numbers".into(),
                    json!([{ "number": one_line(contact) }]),
                );
            }
        }
        if let Some(org) = &party.organisation {
            let org_id = organisation(&mut parties, org);
            person.insert("member-of-organizations".into(), json!([org_id]));
        }
        parties.push(Value::Object(person));
        roles.push(json!({ "id": role, "title": title }));
        responsible.push(json!({ "role-id": role, "party-uuids": [id] }));
    }
    (roles, parties, responsible)
}

#[cfg(test)]
mod tests {
    use crate::engagement::EngagementScope;
    use crate::testing::fixture::sample_assessment;

    #[test]
    fn the_scope_becomes_parties_roles_and_the_marking() {
        let mut a = sample_assessment();
        let doc = super::super::tests::render(&a);
        let remarks = doc["assessment-results"]["metadata"]["remarks"]
            .as_str()
            .unwrap();
        assert!(
            remarks.contains("No engagement scope was declared"),
            "{remarks}"
        );
        a.scope = Some(
            EngagementScope::parse(include_str!("../../../samples/scope.yaml"), "scope.yaml")
                .unwrap(),
        );
        let doc = super::super::tests::render(&a);
        let m = &doc["assessment-results"]["metadata"];
        assert_eq!(m["props"][0]["name"], "marking");
        assert_eq!(
            m["props"][0]["value"],
            "Confidential - prepared for Example Payments Ltd"
        );
        let roles: Vec<&str> = (m["roles"].as_array().unwrap().iter())
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["assessed-entity", "assessor", "operator"]);
        let parties = m["parties"].as_array().unwrap();
        let find =
            |uuid: &serde_json::Value| parties.iter().find(|p| &p["uuid"] == uuid).expect("party");
        for rp in m["responsible-parties"].as_array().unwrap() {
            let party = find(&rp["party-uuids"][0]);
            let name = party["name"].as_str().unwrap();
            match rp["role-id"].as_str().unwrap() {
                "assessed-entity" => assert_eq!(name, "Example Payments Ltd"),
                "assessor" => {
                    assert_eq!(name, "Dana Auditor");
                    assert_eq!(party["email-addresses"][0], "dana@assurance.example");
                    let org = find(&party["member-of-organizations"][0]);
                    assert_eq!(org["name"], "Example Assurance LLP");
                }
                "operator" => assert_eq!(name, "Platform team"),
                other => panic!("unexpected role {other}"),
            }
        }
        // The entity and the operator's organisation are one party, not two.
        let orgs = parties
            .iter()
            .filter(|p| p["name"] == "Example Payments Ltd")
            .count();
        assert_eq!(orgs, 1);
    }
}
