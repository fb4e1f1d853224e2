//! Rule-language benchmarks: checking and compiling the whole shipped `rules/` folder,
//! and evaluating the compiled rules over 1,000,000 synthetic foyers.
//!
//! Run: `cargo bench -p reperage-benches --bench rules` (release profile).
//! Results and the machine they were measured on: docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use reperage_benches::synthetic_situation;
use reperage_rules::{Compiled, Mois, check, source};

fn bench(c: &mut Criterion) {
    let files = source::embedded();
    let mois = Mois::parse("2025-06").expect("month");

    c.bench_function("check_and_compile_all_rules", |b| {
        b.iter(|| {
            let rs = check(&files, mois).ruleset.expect("rules check");
            Compiled::new(&rs, mois, None).expect("compiles")
        })
    });

    let rs = check(&files, mois).ruleset.expect("rules check");
    let compiled = Compiled::new(&rs, mois, None).expect("compiles");
    let rows = 1_000_000;
    let situation = synthetic_situation(&rs, rows, 42).expect("synthetic frame");
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(10);
    group.throughput(criterion::Throughput::Elements(rows as u64));
    group.bench_function("all_rules_1m_foyers", |b| {
        b.iter(|| compiled.evaluate(situation.clone(), true).expect("evaluates"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
