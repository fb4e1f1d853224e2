//! End-to-end tests of the `reperage` binary on the committed sample data.

mod bad_extracts;
mod campaigns;
mod crash;
mod end_to_end;
mod partitions;
mod privacy;
mod scheduler;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn sample(name: &str) -> PathBuf {
    root().join("sample-data").join(name)
}

pub fn reperage(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reperage"));
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

pub fn screen(extract: &Path, mois: &str, out: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "screen",
        "--extract",
        extract.to_str().expect("utf-8 path"),
        "--mois",
        mois,
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    reperage(&args, envs)
}

/// Runs `reperage generate` for March 2025 into `out` (seed 7), failing the test if it fails.
pub fn generate(out: &Path, foyers: &str, extra: &[&str]) {
    let mut args =
        vec!["generate", "--foyers", foyers, "--mois", "2025-03", "--seed", "7", "--out", out.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    let run = reperage(&args, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

/// A CSV output of the screen, without its BOM, as lines.
pub fn read_output(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.trim_start_matches('\u{feff}').lines().map(str::to_string).collect()
}

/// Every file under `dir` (recursively), by path relative to it, with its bytes.
pub fn files_of(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").display().to_string();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

/// The `manifest.json` of a screen's output folder.
pub fn read_manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
    serde_json::from_str(&text).expect("json")
}
