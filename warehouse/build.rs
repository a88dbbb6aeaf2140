//! Embeds every `queries/<name>.sql` of the workspace into the crate, so named queries ship inside
//! the binary and a missing or misnamed file fails the build rather than a dashboard at run time.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dir = manifest.join("..").join("queries");
    // A directory here makes cargo rerun the script when any file in it changes or appears.
    println!("cargo::rerun-if-changed={}", dir.display());

    let mut queries = Vec::new();
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.expect("readable queries/ entry").path();
            if path.extension().is_some_and(|e| e == "sql") {
                let name = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .expect("query file names are UTF-8")
                    .to_owned();
                assert!(
                    name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "query file name {name:?} must be lower_snake_case"
                );
                let path = path.canonicalize().expect("query file path resolves");
                queries.push((name, path));
            }
        }
    }
    queries.sort();

    let mut out = String::from("pub(crate) static NAMED_QUERIES: &[(&str, &str)] = &[\n");
    for (name, path) in &queries {
        writeln!(out, "    ({name:?}, include_str!({:?})),", path.display().to_string())
            .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");
    let target =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("named_queries.rs");
    fs::write(target, out).expect("OUT_DIR is writable");
}
