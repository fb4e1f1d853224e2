//! The Parquet table reader (Polars' reader, then our cell parser and privacy guard): the
//! first byte picks the table, the rest is the file. Without afl's abort-on-panic hook: a
//! panic the reader catches (and reports as an unreadable file) is not a crash; one that
//! escapes is.
use reperage_batch::extract::reader::read_parquet_from;

fn main() {
    afl::fuzz_nohook!(|data: &[u8]| {
        let Some((&selector, rest)) = data.split_first() else { return };
        if let Ok(builder) = read_parquet_from(rest, "fuzz.parquet", reperage_fuzz::table(selector), &[]) {
            let _ = builder.finish();
        }
    });
}
