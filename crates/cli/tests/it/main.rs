//! End-to-end tests of the `reperage` binary on the committed sample data.

mod audit;
mod bad_extracts;
mod bailleurs;
mod campaigns;
mod crash;
mod discordances;
mod end_to_end;
mod help;
mod observatoire;
mod partitions;
mod privacy;
mod scheduler;
mod suivi;

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
/// Splits a `;` line whose fields may be quoted (motifs hold `;`).
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => out.push(String::new()),
            _ => out.last_mut().expect("field").push(c),
        }
    }
    out
}

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

/// Replaces the field `column` of a `;` CSV line.
pub fn with_field(header: &str, line: &str, column: &str, value: &str) -> String {
    let at = header.split(';').position(|h| h == column).expect("column");
    let mut fields: Vec<&str> = line.split(';').collect();
    fields[at] = value;
    fields.join(";")
}

/// Adds rows that validation refuses, spread over the partitions: a person id used in
/// the first and the last foyer (the first and last partitions), a resource of a person
/// who does not exist, a line with too few fields. The last two are appended, and
/// belong to partition 0 (no foyer; `F-…` sorts first), while the last foyer's
/// quarantined rows come earlier in the files: a merge that concatenated the
/// partitions' quarantines instead of ordering them by line would differ.
pub fn spoil(extract: &Path) {
    let personnes = extract.join("personnes.csv");
    let text = std::fs::read_to_string(&personnes).expect("personnes");
    let lines: Vec<&str> = text.lines().collect();
    let header = lines[0];
    let first_id =
        lines[1].split(';').nth(header.split(';').position(|h| h == "id_personne").expect("id")).expect("id");
    let duplicate = with_field(header, lines[lines.len() - 1], "id_personne", first_id);
    std::fs::write(&personnes, format!("{text}{duplicate}\n")).expect("write");

    let ressources = extract.join("ressources.csv");
    let text = std::fs::read_to_string(&ressources).expect("ressources");
    let (header, row) = {
        let mut l = text.lines();
        (l.next().expect("header"), l.next().expect("row"))
    };
    let orphan = with_field(header, row, "id_personne", "P-INCONNUE");
    std::fs::write(&ressources, format!("{text}{orphan}\n")).expect("write");

    let droits = extract.join("droits.csv");
    let text = std::fs::read_to_string(&droits).expect("droits");
    std::fs::write(&droits, format!("{text}F-TRONQUE;rsa\n")).expect("write");
}

/// Debian's Chromium (installed by .ci/run), or `$CHROMIUM`.
pub fn chromium() -> std::path::PathBuf {
    let path = std::env::var_os("CHROMIUM").map_or_else(|| std::path::PathBuf::from("/usr/bin/chromium"), Into::into);
    assert!(
        path.exists(),
        "{}: headless Chromium is needed to test the HTML pages (`apt-get install chromium`, as .ci/run does)",
        path.display()
    );
    path
}

pub fn headless(page: &Path, args: &[&str]) -> std::process::Output {
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    let profile = tempfile::tempdir().expect("tempdir");
    std::process::Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs")
}
