//! Snapshot loader: arbitrary bytes as a snapshot file. Loading must end in a snapshot or a
//! `SnapshotError`; a snapshot that loads must also serialise and evaluate without panicking.

#![no_main]

use std::sync::OnceLock;

use dockproof::catalog::Catalog;
use dockproof::evaluate::{self, EvaluateOptions};
use dockproof::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(None).expect("the built-in catalog loads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(snapshot) = Snapshot::from_slice(data, "fuzz.json") else {
        return;
    };
    let mut out = Vec::new();
    snapshot
        .write_to(&mut out)
        .expect("a loaded snapshot serialises");
    let _ = snapshot.host_label();
    let catalog = catalog();
    let params = catalog
        .resolve_params(&[])
        .expect("default parameters resolve");
    let opts = EvaluateOptions {
        frameworks: Vec::new(),
        params,
        now: chrono::DateTime::UNIX_EPOCH,
    };
    let _ = evaluate::evaluate(&snapshot, "0", catalog, &opts);
});
