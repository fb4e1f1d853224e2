//! What building the situation of one piece costs, apart from reading and the rules: an
//! extract (and last month's) loaded and validated once, the situation then built many
//! times, timed as a whole and by part (the resource sums, the rights sums, the query).
//!
//!   reperage generate --foyers 50000 --mois 2025-03 --seed 1 --out /tmp/s/extrait --precedent /tmp/s/precedent
//!   cargo run --release -p reperage-benches --bin situation_cost -- /tmp/s/extrait /tmp/s/precedent 2025-03 [REPEATS]
//!
//! Prints the mean wall time of each; docs/performance.md reads it.

use std::path::Path;
use std::time::Instant;

use reperage_batch::extract::{self, Table};
use reperage_batch::situation;
use reperage_rules::Mois;
use reperage_rules::compile::PlanCache;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, precedent, mois, ..] = args.as_slice() else {
        return Err("usage: situation_cost EXTRACT PRECEDENT YYYY-MM [REPEATS]".into());
    };
    let repeats: u32 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let mois = Mois::parse(mois).ok_or("the month is YYYY-MM")?;
    let current = extract::load(Path::new(dir), mois)?;
    let previous = extract::load_tables(Path::new(precedent), mois.plus(-1), &extract::TABLES_PRECEDENT, &[])?;
    println!(
        "{} foyers, {} persons, {} resource rows",
        current.table(Table::Foyers).height(),
        current.table(Table::Personnes).height(),
        current.table(Table::Ressources).height()
    );
    let plans = PlanCache::default();
    // Once outside the measure: the plan, the allocator, the thread pool.
    situation::build(&current, Some(&previous), mois, &plans)?;
    let mut parts = situation::Temps::default();
    let started = Instant::now();
    for _ in 0..repeats {
        situation::build_timed(&current, Some(&previous), mois, &plans, &mut parts)?;
    }
    let each = |s: f64| s * 1000.0 / f64::from(repeats);
    println!("situation: {:>7.1} ms per build", each(started.elapsed().as_secs_f64()));
    println!("  resource sums {:>7.1} ms", each(parts.ressources.as_secs_f64()));
    println!("  rights sums   {:>7.1} ms", each(parts.droits.as_secs_f64()));
    println!("  comparison    {:>7.1} ms", each(parts.precedent.as_secs_f64()));
    println!("  query         {:>7.1} ms", each(parts.requete.as_secs_f64()));
    // The same without last month's extract: what comparing the two months costs.
    let plans = PlanCache::default();
    situation::build(&current, None, mois, &plans)?;
    let started = Instant::now();
    for _ in 0..repeats {
        situation::build(&current, None, mois, &plans)?;
    }
    println!("without last month's: {:>7.1} ms per build", each(started.elapsed().as_secs_f64()));
    Ok(())
}
