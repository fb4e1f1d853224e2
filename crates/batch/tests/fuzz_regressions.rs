//! Every input on which a fuzz target once crashed (fuzz/, docs/reliability.md), replayed
//! through the same code path: each must now end in a clear error or a result, never a
//! panic that escapes.

use std::path::PathBuf;

use reperage_batch::extract::reader::{read_csv_from, read_parquet_from};
use reperage_batch::extract::{ExtractError, Table};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).expect("read")))
        .collect();
    out.sort();
    out
}

/// The table a fuzz input is read as (fuzz/src/lib.rs): its first byte.
fn table(selector: u8) -> Table {
    Table::ALL[usize::from(selector) % Table::ALL.len()]
}

/// Reads one fuzz input as the Parquet target does and returns the file and message of
/// the "not a readable Parquet file" error it must end in; fails the test on any other
/// outcome, a panic escaping the reader included.
fn unreadable_parquet(name: &str, data: &[u8]) -> (String, String) {
    let (&selector, rest) = data.split_first().expect("non-empty");
    let read = std::panic::catch_unwind(|| {
        read_parquet_from(rest, name, table(selector), &[]).and_then(|b| b.finish()).map(|_| ())
    });
    match read {
        Ok(Err(ExtractError::Parquet { file, message })) => (file, message),
        Ok(Err(other)) => panic!("{name}: unexpected error kind: {other}"),
        Ok(Ok(())) => panic!("{name}: a malformed file was read as a table"),
        Err(_) => panic!("{name}: the panic escaped the reader"),
    }
}

#[test]
fn parquet_files_that_made_polars_panic_are_reported_as_unreadable() {
    let cases: Vec<_> = inputs("parquet").into_iter().filter(|(name, _)| name.starts_with("crash_")).collect();
    assert!(cases.len() >= 12, "the crashes found by the first fuzzing run are kept");
    for (name, data) in cases {
        let (file, message) = unreadable_parquet(&name, &data);
        assert_eq!(file, name);
        assert!(!message.is_empty());
    }
}

/// These files made Polars reserve 2^61 bytes and the allocator abort the whole process
/// (a page declaring a negative count). Without the page-header check this test does not
/// fail: it kills the test binary.
#[test]
fn parquet_files_that_made_polars_abort_are_refused_before_decoding() {
    let cases: Vec<_> = inputs("parquet").into_iter().filter(|(name, _)| name.starts_with("abort_")).collect();
    assert!(cases.len() >= 7, "the aborts found by the long fuzzing run are kept");
    for (name, data) in cases {
        let (_, message) = unreadable_parquet(&name, &data);
        assert!(message.contains("declares a negative"), "{name}: {message}");
    }
}

#[test]
fn csv_inputs_that_crashed_end_in_a_result_or_an_error() {
    for (name, data) in inputs("csv_table") {
        let (&selector, rest) = data.split_first().expect("non-empty");
        let read = std::panic::catch_unwind(|| {
            read_csv_from(rest, &name, table(selector), &[]).and_then(|b| b.finish()).map(|_| ())
        });
        assert!(read.is_ok(), "{name}: panic");
    }
}
