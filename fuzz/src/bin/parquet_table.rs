//! The Parquet table reader (Polars' reader, then our cell parser and privacy guard): the
//! first byte picks the table, the rest is the file.
use reperage_batch::extract::reader::read_parquet_from;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&selector, rest)) = data.split_first() else { return };
        let cursor = std::io::Cursor::new(rest);
        if let Ok(builder) = read_parquet_from(cursor, "fuzz.parquet", reperage_fuzz::table(selector), &[]) {
            let _ = builder.finish();
        }
    });
}
