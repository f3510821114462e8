//! dockproof: audits a Docker host and writes compliance evidence.
//!
//! The pipeline runs one way: [`collect`] reads the engine and the host into a
//! [`snapshot::Snapshot`]; [`evaluate`] applies the [`catalog`] (checks whose rules run on the
//! [`rules`] engine, and framework mappings) to produce an [`assessment::Assessment`]; [`render`]
//! turns that into report formats and [`bundle`] writes them, with a manifest, atomically.
//! A later stage never calls an earlier one.

pub mod assessment;
pub mod bundle;
pub mod catalog;
pub mod collect;
pub mod destination;
pub mod diff;
pub mod engagement;
pub mod evaluate;
pub mod fleet;
pub mod history;
pub mod input;
pub mod inventory;
pub mod provenance;
pub mod render;
pub mod rules;
pub mod sbom;
pub mod schedule;
pub mod scope;
pub mod sign;
pub mod snapshot;
#[cfg(test)]
mod testing;
pub mod text;
pub mod vuln;
