//! Helpers shared by the benchmarks.

use polars::prelude::*;
use reperage_rules::compile::dtype;
use reperage_rules::{RuleSet, Type};

/// splitmix64: a small deterministic generator, enough for benchmark data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A situation frame of `rows` foyers with every declared input: plausible ranges,
/// 3 % unknown values, so every branch of the three-valued logic is exercised.
pub fn synthetic_situation(rs: &RuleSet, rows: usize, seed: u64) -> PolarsResult<DataFrame> {
    let mut rng = Rng(seed);
    let mut columns = Vec::new();
    for input in rs.inputs.values() {
        let name = PlSmallStr::from(input.name.as_str());
        let unknown = |rng: &mut Rng| rng.below(100) < 3;
        let series = match input.ty {
            Type::Nombre => {
                let max = if input.name.starts_with("age") {
                    1200
                } else if input.name.starts_with("nb") {
                    6
                } else {
                    9000
                };
                let v: Vec<Option<f64>> =
                    (0..rows).map(|_| (!unknown(&mut rng)).then(|| rng.below(max) as f64)).collect();
                Series::new(name, v)
            }
            Type::Booleen => {
                let v: Vec<Option<bool>> = (0..rows).map(|_| (!unknown(&mut rng)).then(|| rng.below(2) == 1)).collect();
                Series::new(name, v)
            }
            Type::Texte => {
                let values = input.valeurs.clone().unwrap_or_else(|| vec!["x".into()]);
                let v: Vec<Option<&str>> = (0..rows)
                    .map(|_| (!unknown(&mut rng)).then(|| values[rng.below(values.len() as u64) as usize].as_str()))
                    .collect();
                Series::new(name, v)
            }
            Type::Date => {
                // 2015-01-01 .. 2026-12-31
                let v: Vec<Option<i32>> =
                    (0..rows).map(|_| (!unknown(&mut rng)).then(|| 16_436 + rng.below(4_383) as i32)).collect();
                Series::new(name, v).cast(&dtype(Type::Date))?
            }
        };
        columns.push(series.into());
    }
    DataFrame::new_infer_height(columns)
}
