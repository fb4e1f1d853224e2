//! The floor a screen is compared with: Polars' own scan of the same extract files,
//! reading every column the screen reads (all of them: the privacy guard examines
//! every column) and computing one aggregate per column, so that every value is
//! decoded. CSV is scanned as text (`;`), Parquet as stored.
//!
//!   cargo run --release -p reperage-benches --bin bare_scan -- DIR [DIR…]
//!
//! Prints the wall time per file and in all; benches/screen_1m.sh compares it with the
//! screen of the same folders.

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

fn scan(path: &Path) -> PolarsResult<LazyFrame> {
    let pl = PlRefPath::try_from_path(path)?;
    if path.extension().is_some_and(|e| e == "parquet") {
        LazyFrame::scan_parquet(pl, ScanArgsParquet::default())
    } else {
        LazyCsvReader::new(pl).with_separator(b';').with_infer_schema_length(Some(0)).finish()
    }
}

fn main() -> PolarsResult<()> {
    let started = Instant::now();
    let mut rows = 0usize;
    for dir in std::env::args().skip(1) {
        let mut files: Vec<_> = std::fs::read_dir(&dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "parquet")) {
            let t = Instant::now();
            let mut lf = scan(path)?;
            let names: Vec<PlSmallStr> = lf.collect_schema()?.iter_names().cloned().collect();
            // One aggregate per column: its maximum, which compares every value.
            let mut aggs: Vec<Expr> = names.iter().map(|n| col(n.clone()).max()).collect();
            aggs.push(len().alias("__lignes"));
            let out = lf.select(aggs).collect()?;
            let n = out.column("__lignes")?.get(0)?.extract::<usize>().unwrap_or(0);
            rows += n;
            eprintln!("{}: {n} rows, {} columns, {:.2} s", path.display(), names.len(), t.elapsed().as_secs_f64());
        }
    }
    println!("bare scan: {rows} rows in {:.2} s", started.elapsed().as_secs_f64());
    Ok(())
}
