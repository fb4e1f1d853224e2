//! The privacy guard, end to end: every row of every table is examined, a certain
//! identifier is refused at its first occurrence (exit 3) without its value being shown,
//! ambiguous shapes are weighed against chance, and `--colonne-autorisee` is logged and
//! recorded.

use std::path::Path;

use polars::prelude::*;

use crate::{generate, read_manifest, sample, screen};

const EXIT_PRIVACY: i32 = 3;

/// A valid NIR (15 digits, key = 97 − body mod 97) for a varying body.
fn nir(i: u64) -> String {
    // Sex 1, born 1985-05, department 78, commune 006, order 100 + i.
    let body = 1_850_578_006_000 + 100 + i % 900;
    format!("{body}{:02}", 97 - body % 97)
}

fn copy_sample(name: &str, into: &Path) {
    for entry in std::fs::read_dir(sample(name)).expect("sample") {
        let p = entry.expect("entry").path();
        if p.is_file() {
            std::fs::copy(&p, into.join(p.file_name().expect("name"))).expect("copy");
        }
    }
}

/// Adds a column to a `;` CSV table, its value for each data row given by `value(row)`
/// (row 1 is the first line after the header).
fn add_column(file: &Path, name: &str, value: impl Fn(usize) -> String) {
    let text = std::fs::read_to_string(file).expect("read");
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let cell = if i == 0 { name.to_string() } else { value(i) };
        out.push_str(&format!("{line};{cell}\n"));
    }
    std::fs::write(file, out).expect("write");
}

fn stderr(run: &std::process::Output) -> String {
    String::from_utf8_lossy(&run.stderr).to_string()
}

#[test]
fn a_nir_in_one_row_in_twenty_five_of_an_extra_column_is_refused() {
    let extract = tempfile::tempdir().expect("tmp");
    copy_sample("synthetique", extract.path());
    let personnes = extract.path().join("personnes.csv");
    add_column(&personnes, "ref_externe", |row| {
        if row % 25 == 0 { nir(row as u64) } else { format!("R{:07}", 4_821_931 + row) }
    });
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    // Data row 25 is line 26 (the header is line 1).
    assert!(err.contains("table `personnes`, column `ref_externe`, line 26: numéro de sécurité sociale"), "{err}");
    assert!(!err.contains(&nir(25)), "the identifier is never copied into a message");
    assert_eq!(std::fs::read_dir(out.path()).expect("ls").count(), 0, "nothing written");

    // The caisse vouches for the column: the run goes on, says so, and records it.
    let run = screen(extract.path(), "2025-03", out.path(), &["--colonne-autorisee", "personnes.ref_externe"], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(err.contains("column personnes.ref_externe is vouched for by --colonne-autorisee"), "{err}");
    let manifest = read_manifest(out.path());
    assert_eq!(
        manifest["colonnes_autorisees"],
        serde_json::json!([{ "table": "personnes", "colonne": "ref_externe" }])
    );
    // Authorising another column does not let this one through.
    let run = screen(extract.path(), "2025-03", out.path(), &["--colonne-autorisee", "foyers.ref_externe"], &[]);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{}", stderr(&run));
}

/// `synthetique`'s contacts table grown to 200,000 rows with a pseudonymous
/// `ref_dossier`; `at` (a data row) holds `value` instead.
fn big_contacts(into: &Path, at: usize, column: &str, value: &str) {
    copy_sample("synthetique", into);
    let file = into.join("contacts.csv");
    let text = std::fs::read_to_string(&file).expect("read");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut out = format!("{header};{column}\n");
    for i in 1..=200_000 {
        let cell = if i == at { value.to_string() } else { format!("D{i:07}") };
        out.push_str(&format!("{};{cell}\n", rows[i % rows.len()]));
    }
    std::fs::write(&file, out).expect("write");
}

#[test]
fn every_row_is_examined_not_a_sample() {
    let extract = tempfile::tempdir().expect("tmp");
    big_contacts(extract.path(), 150_000, "ref_dossier", &nir(7));
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    assert!(err.contains("table `contacts`, column `ref_dossier`, line 150001: numéro de sécurité sociale"), "{err}");

    // The same 200,000 rows with a pseudonymous id in place of the NIR are accepted.
    let clean = tempfile::tempdir().expect("tmp");
    big_contacts(clean.path(), 150_000, "ref_dossier", "D9999999");
    let run = screen(clean.path(), "2025-03", out.path(), &[], &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

#[test]
fn an_iban_in_free_text_is_refused() {
    let extract = tempfile::tempdir().expect("tmp");
    copy_sample("synthetique", extract.path());
    // FR76 3000 6000 0112 3456 7890 189: a valid IBAN (check digits 76).
    add_column(&extract.path().join("contacts.csv"), "commentaire", |row| {
        if row == 2 { "virement refusé sur FR76 3000 6000 0112 3456 7890 189, rappeler".into() } else { "RAS".into() }
    });
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    assert!(err.contains("table `contacts`, column `commentaire`, line 3: IBAN"), "{err}");
    assert!(!err.contains("0112"), "{err}");
}

#[test]
fn keyless_nirs_are_weighed_against_chance() {
    // Every person with a 13-digit NIR (no key): far above the ~50 % chance gives.
    let extract = tempfile::tempdir().expect("tmp");
    copy_sample("synthetique", extract.path());
    add_column(&extract.path().join("personnes.csv"), "ref_externe", |row| nir(row as u64)[..13].to_string());
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract.path(), "2025-03", out.path(), &[], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    assert!(err.contains("column `ref_externe`, line 2: numéros de sécurité sociale sans clé"), "{err}");
    assert!(err.contains("le hasard en donnerait 50 %"), "{err}");

    // Random 13-digit pseudonymous ids: about half have a NIR's shape, as chance gives.
    let random = tempfile::tempdir().expect("tmp");
    copy_sample("synthetique", random.path());
    add_column(&random.path().join("personnes.csv"), "ref_externe", |row| {
        let x = (row as u64).wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        format!("{:013}", (x >> 11) % 10_000_000_000_000)
    });
    let run = screen(random.path(), "2025-03", out.path(), &[], &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

#[test]
fn parquet_tables_are_guarded_the_same_way() {
    let extract = tempfile::tempdir().expect("tmp");
    let dir = extract.path().join("x");
    generate(&dir, "50", &["--format", "parquet"]);
    let file = dir.join("personnes.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&file).expect("open")).finish().expect("parquet");
    let n = df.height();
    let refs: Vec<String> = (0..n).map(|i| if i == 6 { nir(1) } else { format!("R{i:07}") }).collect();
    df.with_column(Column::new("ref_externe".into(), refs)).expect("column");
    ParquetWriter::new(std::fs::File::create(&file).expect("create")).finish(&mut df).expect("write");
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(&dir, "2025-03", out.path(), &[], &[]);
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    assert!(err.contains("table `personnes`, column `ref_externe`, line 7"), "{err}");
}

#[test]
fn the_previous_extract_is_guarded_too() {
    let extract = tempfile::tempdir().expect("tmp");
    copy_sample("synthetique-precedent", extract.path());
    add_column(&extract.path().join("foyers.csv"), "contact", |row| {
        if row == 3 { "jean.dupont@example.fr".into() } else { String::new() }
    });
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(
        &sample("synthetique"),
        "2025-03",
        out.path(),
        &["--precedent", extract.path().to_str().expect("utf-8")],
        &[],
    );
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(EXIT_PRIVACY), "{err}");
    assert!(err.contains("table `foyers`, column `contact`, line 4: adresse e-mail"), "{err}");
    assert!(!err.contains("dupont"), "{err}");
}
