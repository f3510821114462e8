//! Embeds every file under `controls/` into the binary, so the shipped catalogs need no files
//! at run time and adding a check means adding YAML only.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(
                path.strip_prefix(base)
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
            );
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let controls = root.join("controls");
    println!("cargo:rerun-if-changed=controls");
    let mut files = Vec::new();
    collect(&controls, &controls, &mut files);
    files.sort();
    let mut code = String::from("/// Catalog files shipped in the binary: (path under controls/, content).\npub const BUILTIN: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f.to_string_lossy().replace('\\', "/");
        let abs = controls.join(f);
        println!("cargo:rerun-if-changed={}", abs.display());
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("builtin_controls.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
