//! Catalog loader: arbitrary text as one catalog file, through `Catalog::from_texts`, the
//! function that `Catalog::load` (and so `--controls`) also ends in. The first byte picks the
//! file's role; the built-in params.yaml is laid under it so checks files can name parameters.
//! Loading must end in a catalog or a `CatalogError`; a catalog that loads must also lint.

#![no_main]

use dockproof::catalog::Catalog;
use libfuzzer_sys::fuzz_target;

const PARAMS: &str = include_str!("../../controls/params.yaml");

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let relative = match selector % 4 {
        0 => "checks/fuzz.yaml",
        1 => "frameworks/fuzz.yaml",
        2 => "params.yaml",
        _ => "elsewhere.yaml",
    };
    if let Ok(catalog) = Catalog::from_texts(&[("params.yaml", PARAMS), (relative, text)], false) {
        let _ = catalog.lint();
        let _ = catalog.resolve_params(&[("x".into(), "1".into())]);
    }
});
