//! The evaluation in partitions (crates/batch/src/evaluation.rs) writes the same bytes as
//! one whole evaluation: every output file, whatever the partition count and the input
//! format; the manifest differs only by the count it records.

use std::path::Path;

use super::{files_of, generate, read_manifest, sample, screen, spoil};

/// Screens `extract` in 1, 3 and 7 partitions and checks the outputs are identical.
fn same_outputs_whatever_the_partitions(extract: &Path, precedent: Option<&Path>) {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut runs = Vec::new();
    for n in ["1", "3", "7"] {
        let out = tmp.path().join(format!("out-{n}"));
        let mut extra = vec!["--partitions", n, "--format", "both"];
        if let Some(p) = precedent {
            extra.extend(["--precedent", p.to_str().expect("utf-8")]);
        }
        let run = screen(extract, "2025-03", &out, &extra, &[]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{n} partitions: {err}");
        // As many partitions as asked, or one per foyer when there are fewer.
        let manifest = read_manifest(&out);
        let foyers = manifest["foyers"]["lus"].as_u64().expect("count");
        let expected = n.parse::<u64>().expect("n").min(foyers);
        assert_eq!(manifest["partitions"], serde_json::json!(expected), "{err}");
        if expected > 1 {
            assert!(err.contains(&format!("evaluated in {expected} pieces")), "{err}");
        }
        runs.push((n, out));
    }
    let (_, whole) = &runs[0];
    let reference = files_of(whole);
    assert!(reference.contains_key("eligibilites.parquet") && reference.contains_key("signalements.csv"));
    let mut reference_manifest = read_manifest(whole);
    reference_manifest.as_object_mut().expect("object").remove("partitions");
    for (n, out) in &runs[1..] {
        let got = files_of(out);
        assert_eq!(got.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "{n} partitions: file list");
        for (name, bytes) in &reference {
            if name != "manifest.json" {
                assert!(&got[name] == bytes, "{n} partitions: {name} differs from the whole evaluation's");
            }
        }
        let mut manifest = read_manifest(out);
        manifest.as_object_mut().expect("object").remove("partitions");
        assert_eq!(manifest, reference_manifest, "{n} partitions: manifest");
    }
}

#[test]
fn a_generated_extract_gives_the_same_bytes_in_1_3_and_7_partitions_csv_and_parquet() {
    let tmp = tempfile::tempdir().expect("tmp");
    for format in ["csv", "parquet"] {
        let extract = tmp.path().join(format!("extrait-{format}"));
        let precedent = tmp.path().join(format!("precedent-{format}"));
        generate(&extract, "1500", &["--format", format, "--precedent", precedent.to_str().expect("utf-8")]);
        same_outputs_whatever_the_partitions(&extract, Some(&precedent));
    }
}

/// Rows refused across pieces — a person id in the first and the last foyer, a resource
/// of an unknown person, a broken line, each quarantining foyers in different pieces —
/// give the same quarantine, counts and outputs in 1, 3 and 7 pieces (rows spilled to
/// disk between reading and validation).
#[test]
fn refused_rows_across_pieces_give_the_same_bytes_in_1_3_and_7_pieces() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    let precedent = tmp.path().join("precedent");
    generate(&extract, "700", &["--precedent", precedent.to_str().expect("utf-8")]);
    spoil(&extract);
    same_outputs_whatever_the_partitions(&extract, Some(&precedent));
    let run = screen(&extract, "2025-03", &tmp.path().join("out"), &["--partitions", "3"], &[]);
    assert!(run.status.success());
    let refused = std::fs::read_to_string(tmp.path().join("out/quarantaine/personnes.csv")).expect("quarantine");
    assert!(refused.contains("identifiant en double (2 lignes)"), "{refused}");
}

/// The edge cases' extract quarantines rows and whole foyers: the quarantine and the
/// row accounting do not depend on the partitions either (with fewer foyers than
/// partitions, as many partitions as foyers, one each).
#[test]
fn the_edge_cases_give_the_same_bytes_in_1_3_and_7_partitions() {
    same_outputs_whatever_the_partitions(&sample("cas-limites"), Some(&sample("cas-limites-precedent")));
    same_outputs_whatever_the_partitions(&sample("synthetique"), None);
}

/// A memory budget even the smallest pieces exceed is said, with a warning, and the run
/// still writes the same outputs; a budget that is not a size is refused.
#[test]
fn the_memory_budget_is_reported_and_an_impossible_one_is_warned_about() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (tight, free) = (tmp.path().join("serre"), tmp.path().join("libre"));
    let run = screen(&sample("synthetique"), "2025-03", &tight, &["--memoire-max", "1M"], &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("memory budget 0.0 GiB: "), "{err}");
    assert!(err.contains("warning: even pieces of 10000 foyers do not fit in the memory budget"), "{err}");
    let run = screen(&sample("synthetique"), "2025-03", &free, &["--memoire-max", "64G"], &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("memory budget 64.0 GiB: 1 piece(s) of at most 50000 foyers"), "{err}");
    assert!(!err.contains("warning: even pieces"), "{err}");
    for file in ["eligibilites.csv", "signalements.csv"] {
        assert!(std::fs::read(tight.join(file)).expect("tight") == std::fs::read(free.join(file)).expect("free"));
    }
    let run = screen(&sample("synthetique"), "2025-03", &tmp.path().join("x"), &["--memoire-max", "6 parsecs"], &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(err.contains("unknown unit in \"6 parsecs\""), "{err}");
}

/// In a log (stderr not a terminal), each phase is announced once, not once per piece,
/// and progress notes come at most every 10 seconds.
#[test]
fn a_log_says_each_phase_once_however_many_pieces() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("synthetique"), "2025-03", &tmp.path().join("out"), &["--partitions", "7"], &[]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with('[')).collect();
    for phase in ["reading", "validation", "evaluation", "contact lists", "writing"] {
        let n = lines.iter().filter(|l| l.ends_with(&format!("] {phase}"))).count();
        assert_eq!(n, 1, "{phase}: {lines:#?}");
    }
    let notes: Vec<f64> = lines
        .iter()
        .filter(|l| l.contains("] evaluation: piece"))
        .filter_map(|l| l.trim_start_matches('[').split(" s]").next()?.trim().parse().ok())
        .collect();
    assert!(!notes.is_empty(), "{lines:#?}");
    assert!(notes.windows(2).all(|w| w[1] - w[0] >= 9.9), "{lines:#?}");
}
