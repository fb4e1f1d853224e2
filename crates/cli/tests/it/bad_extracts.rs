//! Every folder of `sample-data/mauvais/` is a deliberately bad extract: the hand-written
//! edge cases of `sample-data/cas-limites/` with some files replaced (same name), added,
//! or deleted (listed in `SUPPRIMER`). Its `attendu.txt` says what must happen:
//!
//! ```text
//! exit 1                                    the exit code
//! stderr: required column `role`            stderr contains this text
//! pas dans stderr: 185057800608491          stderr does not contain this text
//! quarantaine personnes 4: ligne de 17      quarantaine/personnes.csv has line 4 with this reason
//! exclu CL003: aucun allocataire            the foyer is excluded (reason contains the text)
//! signalement CL002 aspa                    signalements has this foyer and rule
//! ```
//! Whatever the case: never a panic, and when the screen ran, the row accounting holds.

use std::path::Path;

use crate::{read_manifest, read_output, root, sample, screen};

fn prepare(case: &Path, into: &Path) {
    for entry in std::fs::read_dir(sample("cas-limites")).expect("cas-limites") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "csv") {
            std::fs::copy(&p, into.join(p.file_name().expect("name"))).expect("copy");
        }
    }
    for entry in std::fs::read_dir(case).expect("case") {
        let p = entry.expect("entry").path();
        let name = p.file_name().expect("name").to_string_lossy().to_string();
        match name.as_str() {
            "attendu.txt" => {}
            "SUPPRIMER" => {
                for f in std::fs::read_to_string(&p).expect("list").lines().filter(|l| !l.trim().is_empty()) {
                    std::fs::remove_file(into.join(f.trim())).expect("listed file exists");
                }
            }
            _ => {
                std::fs::copy(&p, into.join(&name)).expect("copy");
            }
        }
    }
}

#[test]
fn every_bad_extract_ends_in_a_clear_message_or_a_quarantine() {
    let dir = sample("mauvais");
    let mut cases: Vec<_> = std::fs::read_dir(&dir).expect("mauvais").map(|e| e.expect("entry").path()).collect();
    cases.sort();
    assert!(cases.len() >= 15, "at least 15 kinds of bad input, found {}", cases.len());
    for case in cases {
        let name = case.file_name().expect("name").to_string_lossy().to_string();
        let extract = tempfile::tempdir().expect("tmp");
        let out = tempfile::tempdir().expect("tmp");
        prepare(&case, extract.path());
        let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
        let stderr = String::from_utf8_lossy(&run.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{name}: panic\n{stderr}");
        let expected = std::fs::read_to_string(case.join("attendu.txt")).expect("attendu.txt");
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(code) = line.strip_prefix("exit ") {
                let code: i32 = code.trim().parse().expect("exit code");
                assert_eq!(run.status.code(), Some(code), "{name}: exit code\n{stderr}");
            } else if let Some(text) = line.strip_prefix("pas dans stderr: ") {
                assert!(!stderr.contains(text), "{name}: stderr must not show «{text}»\n{stderr}");
            } else if let Some(text) = line.strip_prefix("stderr: ") {
                assert!(stderr.contains(text), "{name}: stderr should contain «{text}»\n{stderr}");
            } else if let Some(rest) = line.strip_prefix("quarantaine ") {
                let (table, rest) = rest.split_once(' ').expect("table");
                let (ligne, motif) = rest.split_once(": ").expect("line: reason");
                let rows = read_output(&out.path().join(format!("quarantaine/{table}.csv")));
                let found = rows.iter().skip(1).any(|r| {
                    let f: Vec<&str> = r.split(';').collect();
                    f.get(1) == Some(&ligne) && r.contains(motif)
                });
                assert!(
                    found,
                    "{name}: quarantaine/{table}.csv should hold line {ligne} «{motif}»:\n{}",
                    rows.join("\n")
                );
            } else if let Some(rest) = line.strip_prefix("exclu ") {
                let (foyer, motif) = rest.split_once(": ").unwrap_or((rest, ""));
                let rows = read_output(&out.path().join("quarantaine/foyers_exclus.csv"));
                assert!(
                    rows.iter().any(|r| r.starts_with(&format!("{foyer};")) && r.contains(motif)),
                    "{name}: {foyer} should be excluded ({motif}):\n{}",
                    rows.join("\n")
                );
                let flagged = read_output(&out.path().join("signalements.csv"));
                assert!(
                    !flagged.iter().any(|r| r.starts_with(&format!("{foyer};"))),
                    "{name}: an excluded foyer is never flagged"
                );
            } else if let Some(rest) = line.strip_prefix("signalement ") {
                let (foyer, rule) = rest.split_once(' ').expect("foyer rule");
                let rows = read_output(&out.path().join("signalements.csv"));
                assert!(
                    rows.iter().any(|r| r.starts_with(&format!("{foyer};{rule};"))),
                    "{name}: {foyer} {rule} flagged"
                );
            } else {
                panic!("{name}: unknown expectation «{line}»");
            }
        }
        if run.status.success() {
            let manifest: serde_json::Value = read_manifest(out.path());
            for c in manifest["lignes"].as_array().expect("counts") {
                let (lus, used, q) = (c["lus"].as_u64(), c["utilises"].as_u64(), c["quarantaines"].as_u64());
                assert_eq!(lus, Some(used.unwrap_or(0) + q.unwrap_or(0)), "{name}: accounting {c}");
                let table = c["table"].as_str().expect("table");
                let file = extract.path().join(format!("{table}.csv"));
                if file.exists() {
                    let data_lines = std::fs::read_to_string(&file)
                        .map(|t| t.lines().skip(1).filter(|l| !l.trim().is_empty()).count() as u64)
                        .unwrap_or(0);
                    assert_eq!(lus, Some(data_lines), "{name}: every line of {table}.csv is read");
                }
            }
        } else {
            let left: Vec<_> = std::fs::read_dir(out.path()).expect("ls").collect();
            assert!(left.is_empty(), "{name}: a failed run writes nothing: {left:?}");
        }
    }
}

#[test]
fn strict_mode_fails_on_any_quarantine() {
    let extract = tempfile::tempdir().expect("tmp");
    let out = tempfile::tempdir().expect("tmp");
    prepare(&sample("mauvais/06_montant_negatif"), extract.path());
    let run = screen(extract.path(), "2025-03", out.path(), &["--strict"], &[]);
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.path().join("quarantaine/ressources.csv").exists());
    assert!(!out.path().join("signalements.csv").exists(), "a strict failure writes no flags");
    assert_eq!(read_manifest(out.path())["statut"], "arret_strict", "the manifest says the run stopped");
    let clean = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("cas-limites"), "2025-03", clean.path(), &["--strict"], &[]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
}

/// Runs `screen` on the sample with `personnes` replaced by a fuzz input kept as a
/// regression test (its first byte chose the table; the rest is the file). Returns the
/// exit code and stderr, after checking that nothing was written.
fn screen_with_hostile_parquet(input: &str) -> (Option<i32>, String) {
    let extract = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(sample("synthetique")).expect("sample") {
        let p = entry.expect("entry").path();
        if p.file_name().is_some_and(|n| n != "personnes.csv") {
            std::fs::copy(&p, extract.path().join(p.file_name().expect("name"))).expect("copy");
        }
    }
    let input = std::fs::read(root().join("crates/batch/tests/fuzz_regressions/parquet").join(input)).expect("input");
    std::fs::write(extract.path().join("personnes.parquet"), &input[1..]).expect("write");
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
    assert_eq!(std::fs::read_dir(out.path()).expect("ls").count(), 0, "nothing written");
    (run.status.code(), String::from_utf8_lossy(&run.stderr).to_string())
}

/// A Parquet file on which Polars' reader panics (found by fuzzing: here, in its
/// metadata decoding) is reported as unreadable, with exit 1 and without Polars' panic
/// text on the terminal.
#[test]
fn a_parquet_file_that_makes_the_reader_panic_is_reported_as_unreadable() {
    let (code, err) = screen_with_hostile_parquet("crash_02.bin");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("personnes.parquet: not a readable Parquet file: the Parquet reader failed"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A Parquet file with a page declaring a negative count made Polars' decoder reserve
/// 2^61 bytes and the process abort; the page headers are now checked first.
#[test]
fn a_parquet_file_that_made_polars_abort_is_refused_with_a_message() {
    let (code, err) = screen_with_hostile_parquet("abort_07.bin");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("personnes.parquet: not a readable Parquet file: row group 0, column"), "{err}");
    assert!(err.contains("declares a negative number of values"), "{err}");
    assert!(!err.contains("memory allocation"), "{err}");
}
