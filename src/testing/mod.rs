//! Test support shared by the unit tests of several stages; compiled only for tests.
//!
//! [`fixture`] is a small but complete assessment with fixed timestamps and hostile host strings,
//! for the renderers and the diff.

pub(crate) mod fixture;
mod frameworks;

pub(crate) use fixture::{sample_assessment, waived_assessment, EVIL_NAME};
