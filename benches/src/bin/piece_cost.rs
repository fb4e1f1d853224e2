//! What evaluating the compiled rules costs per piece whatever its size: the shipped
//! rules evaluated on synthetic situations of a few sizes, many times each, so that
//! the part that does not grow with the rows (Polars planning the query) shows.
//!
//!   cargo run --release -p reperage-benches --bin piece_cost [-- REPEATS [FOYERS…]]
//!
//! Prints, per size, the mean wall time of one evaluation; docs/performance.md reads it.

use std::time::Instant;

use polars::prelude::*;
use reperage_benches::synthetic_situation;
use reperage_rules::{Compiled, Mois, check, source};

fn main() -> PolarsResult<()> {
    let repeats: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let files = source::embedded();
    let mois = Mois::parse("2025-06").expect("month");
    let rs = check(&files, mois).ruleset.expect("rules check");
    let compiled = Compiled::new(&rs, mois, None).expect("compiles");
    let sizes: Vec<usize> = std::env::args().skip(2).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1, 1_000, 50_000] } else { sizes };
    for rows in sizes {
        let situation = synthetic_situation(&rs, rows, 42)?;
        for cse in [true, false] {
            // One evaluation first, outside the measure (allocator, thread pool).
            compiled.evaluate(situation.clone(), cse)?;
            let started = Instant::now();
            for _ in 0..repeats {
                compiled.evaluate(situation.clone(), cse)?;
            }
            let each = started.elapsed().as_secs_f64() / f64::from(repeats);
            println!("{rows:>7} foyers, cse {cse:<5}: {:>8.1} ms per evaluation", each * 1000.0);
        }
    }
    Ok(())
}
