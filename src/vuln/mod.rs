//! Vulnerability evidence for inventoried images, from offline inputs only: imported scanner
//! reports (Trivy and Grype JSON, bound to images by image id or repo digest) and a directory of
//! OSV advisories matched against the inventory by source package with each ecosystem's own
//! version ordering ([`version`]).
//!
//! This module reads its inputs and produces plain findings per image; it never talks to the
//! engine or a network, and never decides pass or fail (catalog checks do, on the image view).
//! Every input names where a finding's fix date comes from: an OSV advisory's `published` time
//! for the advisory that lists the fixed version; Trivy and Grype reports carry no fix release
//! date, so their findings have none and the fix-age check ends in `error` for them.

pub mod version;

#[cfg(test)]
mod tests;
