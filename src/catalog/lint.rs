//! `controls lint`: the author-time rules a catalog must meet beyond loading. A catalog that
//! breaks them still evaluates, but what it would claim is not backed: a check nobody maps, an
//! automated check without evidence, a CIS reference that does not match the CIS framework
//! file, an `automated` requirement decided by a manual check, two requirements with one title,
//! an id that is not on the framework's closed list of real ids (`ids.rs`), a HIPAA level or PCI
//! service-provider flag that disagrees with that list, a requirement that waits for manual
//! evidence without saying whom to ask, and an automated check without a valid remediation key
//! (`fixes.rs`). Every finding names the file and line to fix.

use std::collections::{BTreeMap, BTreeSet};

use super::ids::{self, ClosedList, CIS_FRAMEWORK};
use super::{Catalog, Diagnostic, Framework, Location};
use crate::assessment::{AssessmentMode, CheckMode};

impl Catalog {
    /// Stricter checks for authors; an empty list means the catalog passes.
    pub fn lint(&self) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        self.lint_checks(&mut diags);
        self.lint_cis_references(&mut diags);
        for fw in &self.frameworks {
            self.lint_framework(fw, &mut diags);
        }
        diags.sort();
        diags.dedup();
        diags
    }

    /// Every check is used by a framework; every automated check shows evidence.
    fn lint_checks(&self, diags: &mut Vec<Diagnostic>) {
        let used: BTreeSet<&str> = self
            .frameworks
            .iter()
            .flat_map(|f| f.requirements.iter())
            .flat_map(|r| r.checks.iter().chain(r.supporting.iter()))
            .map(String::as_str)
            .collect();
        for check in &self.checks {
            super::fixes::lint_check_fix(check, diags);
            if !used.contains(check.def.id.as_str()) {
                diags.push(Diagnostic {
                    location: check.location.clone(),
                    message: format!("check `{}` is not used by any framework", check.def.id),
                });
            }
            if check.def.mode == CheckMode::Automated && check.evidence.is_empty() {
                diags.push(Diagnostic {
                    location: check.location.clone(),
                    message: format!(
                        "check `{}` shows no evidence: add an `evidence` map",
                        check.def.id
                    ),
                });
            }
        }
    }

    /// A check's `references.cis_docker` and the CIS framework file agree both ways: the
    /// recommendation a check cites lists the check (deciding or supporting), and a check listed
    /// under a recommendation cites it. Cited ids must be real CIS Docker 1.6.0 numbers.
    fn lint_cis_references(&self, diags: &mut Vec<Diagnostic>) {
        let closed = ids::for_framework(CIS_FRAMEWORK);
        let cis = self.framework(CIS_FRAMEWORK);
        let listed: BTreeMap<&str, BTreeSet<&str>> = cis
            .map(|fw| {
                fw.requirements
                    .iter()
                    .map(|r| {
                        let checks = r.checks.iter().chain(r.supporting.iter());
                        (r.id.as_str(), checks.map(String::as_str).collect())
                    })
                    .collect()
            })
            .unwrap_or_default();
        for check in &self.checks {
            let id = &check.def.id;
            for cited in &check.def.references.cis_docker {
                let at = |message: String| Diagnostic {
                    location: check.location.clone(),
                    message,
                };
                if let Some(list) = &closed {
                    if !list.contains(cited) {
                        diags.push(at(format!(
                            "check `{id}` cites CIS {cited}, which is not a {} (closed list {})",
                            list.what, list.file
                        )));
                        continue;
                    }
                }
                if cis.is_none() {
                    continue;
                }
                match listed.get(cited.as_str()) {
                    None => diags.push(at(format!(
                        "check `{id}` cites CIS {cited}, but {CIS_FRAMEWORK} has no requirement {cited}"
                    ))),
                    Some(checks) if !checks.contains(id.as_str()) => diags.push(at(format!(
                        "check `{id}` cites CIS {cited}, but {CIS_FRAMEWORK} requirement {cited} does not list it"
                    ))),
                    Some(_) => {}
                }
            }
        }
        let Some(fw) = cis else { return };
        for (req, location) in fw.requirements.iter().zip(&fw.requirement_locations) {
            for listed_id in req.checks.iter().chain(req.supporting.iter()) {
                let Some(check) = self.check(listed_id) else {
                    continue;
                };
                if !check.def.references.cis_docker.contains(&req.id) {
                    diags.push(requirement_diag(
                        fw,
                        &req.id,
                        location,
                        format!(
                            "lists check `{listed_id}`, which does not cite CIS {} in `references.cis_docker`",
                            req.id
                        ),
                    ));
                }
            }
        }
    }

    fn lint_framework(&self, fw: &Framework, diags: &mut Vec<Diagnostic>) {
        let closed = ids::for_framework(&fw.meta.id);
        let mut titles: BTreeMap<String, (&str, &Location)> = BTreeMap::new();
        for (req, location) in fw.requirements.iter().zip(&fw.requirement_locations) {
            let mut push = |message: String| {
                diags.push(requirement_diag(fw, &req.id, location, message));
            };
            if req.mode == AssessmentMode::Automated {
                for id in &req.checks {
                    if self
                        .check(id)
                        .is_some_and(|c| c.def.mode != CheckMode::Automated)
                    {
                        push(format!(
                            "automated, but deciding check `{id}` is manual: make the requirement partial or the check supporting"
                        ));
                    }
                }
            }
            let title_key = req
                .title
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if let Some((other, at)) = titles.get(&title_key) {
                push(format!(
                    "title \"{}\" is also the title of requirement {other} (line {}): give each requirement its own title",
                    req.title, at.line
                ));
            } else {
                titles.insert(title_key, (&req.id, location));
            }
            if req.mode != AssessmentMode::Automated
                && req
                    .evidence_owner
                    .as_deref()
                    .is_none_or(|o| o.trim().is_empty())
            {
                push(
                    "partial and manual requirements need an `evidence_owner` (who the assessor asks for the evidence)"
                        .into(),
                );
            }
            if let Some(list) = &closed {
                lint_against_closed_list(list, req, &mut push);
            }
        }
    }
}

/// Rule (d): the id is real, and the HIPAA level and the PCI service-provider flag are the
/// standard's own.
fn lint_against_closed_list(
    list: &ClosedList,
    req: &super::model::RequirementDef,
    push: &mut impl FnMut(String),
) {
    if !list.contains(&req.id) {
        push(format!(
            "`{}` is not a {} (closed list {})",
            req.id, list.what, list.file
        ));
        return;
    }
    if let Some(level) = list.level(&req.id) {
        match req.level.as_deref() {
            None => push(format!(
                "needs `level: {level}` (closed list {})",
                list.file
            )),
            Some(l) if l != level => push(format!(
                "level `{l}` differs from `{level}` on the closed list ({})",
                list.file
            )),
            Some(_) => {}
        }
    }
    let sp = list.has(&req.id, "service-provider");
    if sp && !req.service_provider_only {
        push(
            "the standard applies this requirement to service providers only: set `service_provider_only: true`"
                .into(),
        );
    } else if !sp && req.service_provider_only {
        push(
            "`service_provider_only` is set, but the standard applies this requirement to every entity"
                .into(),
        );
    }
}

fn requirement_diag(fw: &Framework, id: &str, location: &Location, message: String) -> Diagnostic {
    Diagnostic {
        location: location.clone(),
        message: format!("{} requirement {id}: {message}", fw.meta.id),
    }
}
