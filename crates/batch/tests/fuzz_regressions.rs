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

#[test]
fn parquet_files_that_made_polars_panic_are_reported_as_unreadable() {
    let cases = inputs("parquet");
    assert!(cases.len() >= 12, "the crashes found by the first fuzzing run are kept");
    for (name, data) in cases {
        let (&selector, rest) = data.split_first().expect("non-empty");
        let read = std::panic::catch_unwind(|| {
            read_parquet_from(std::io::Cursor::new(rest), &name, table(selector), &[]).and_then(|b| b.finish())
        });
        match read {
            Ok(Err(ExtractError::Parquet { file, message })) => {
                assert_eq!(file, name);
                assert!(!message.is_empty());
            }
            Ok(Err(other)) => panic!("{name}: unexpected error kind: {other}"),
            Ok(Ok(_)) => panic!("{name}: a malformed file was read as a table"),
            Err(_) => panic!("{name}: the panic escaped the reader"),
        }
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
