//! The CSV table reader with the privacy guard and cell validation: the first byte picks
//! the table, the rest is the file.
use reperage_batch::extract::reader::read_csv_from;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some((&selector, rest)) = data.split_first() else { return };
        if let Ok(builder) = read_csv_from(rest, "fuzz.csv", reperage_fuzz::table(selector), &[]) {
            let _ = builder.finish();
        }
    });
}
