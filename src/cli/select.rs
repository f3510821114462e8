//! Selection flags: which checks run and which containers they judge (see
//! [`dockproof::evaluate::Selection`] for the matching rules).

use clap::Args;

use dockproof::catalog::Catalog;
use dockproof::evaluate::Selection;

/// `--check`, `--skip` and `--filter`.
#[derive(Debug, Clone, Default, Args)]
pub struct SelectArgs {
    /// Evaluate only these checks: a check id (`container.privileged`), a glob (`container.*`)
    /// or a CIS Docker number (`5.5`, `2.*`; a number takes its sub-recommendations).
    /// Repeatable; comma lists are accepted. Requirements decided by a check left out are
    /// reported as not assessed (excluded by selection).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Leave these checks out (same forms as --check); applied after --check.
    #[arg(long = "skip", value_name = "ID")]
    pub skip: Vec<String>,
    /// Judge only the containers this filter keeps, as `docker ps --filter` does:
    /// `name=REGEX` (against the name with its leading `/`), `id=REGEX`, `label=KEY` or
    /// `label=KEY=VALUE`. Repeatable: name and id filters match when any does, label filters
    /// must all hold. Left-out containers are listed in every report.
    #[arg(long = "filter", value_name = "KEY=VALUE")]
    pub filters: Vec<String>,
}

impl SelectArgs {
    /// Resolves the selection against the catalogs; a pattern naming no check or a malformed
    /// filter is an input error.
    pub fn resolve(
        &self,
        catalog: &Catalog,
    ) -> Result<Selection, dockproof::evaluate::SelectionError> {
        Selection::new(&self.checks, &self.skip, &self.filters, catalog)
    }
}
