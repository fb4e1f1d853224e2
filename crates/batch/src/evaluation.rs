//! The one evaluation step that every command which evaluates reuses (`screen`,
//! `explain`, and the estimate, coverage and diff commands to come).
//!
//! The extract is read once and dealt to pieces of consecutive foyer ids
//! (extract::routage, crate::partitions); each piece is then loaded, validated, its
//! situation built and every rule evaluated, and handed to the caller in piece order,
//! the next piece loaded and validated while one is evaluated (two at most in memory).
//! The memory of a run is set by the size of a piece, chosen from the memory budget,
//! not by the extract.
//!
//! Pieces are ranges of `id_foyer` in byte order, the order every output is sorted in:
//! each piece's frame is sorted by id and pieces come in id order, so a caller that
//! consumes them in turn sees exactly the rows of one whole evaluation, and writes the
//! same bytes whatever the piece count (tested in crates/cli/tests/it/partitions.rs).
//! Every rule reads one foyer's rows only (the situation is built per foyer), and
//! validation reads what spans pieces from the reading (routage.rs), which is what makes
//! the cut exact.

use polars::prelude::*;
use reperage_rules::compile::PlanCache;
use reperage_rules::{Compiled, Mois, RuleSet};

use crate::extract::routage::{self, Chargement};
use crate::extract::{Extract, ExtractError};
use crate::screen::ScreenError;
use crate::situation;

/// Foyers per piece at most: pieces of this size evaluate faster than one whole
/// evaluation (32 s against 41 s per million foyers) and each holds about 0.8 GB
/// (docs/performance.md, "National scale").
pub const FOYERS_PAR_PARTITION: usize = 50_000;

/// Memory one foyer of a piece holds: its rows loaded and validated (this month's and
/// last month's), its situation and every rule column; and what a run holds whatever
/// the piece size (the output writers, the campaign candidates, the index of persons,
/// memory the allocator keeps). Measured on 1,000,000 foyers (docs/performance.md),
/// rounded up.
pub const OCTETS_PAR_FOYER: u64 = 8_000;
pub const OCTETS_FIXES: u64 = 1 << 30;

/// The smallest pieces a budget can ask for: below, Polars' planning of each piece's
/// query outweighs its evaluation.
pub const FOYERS_MIN_PAR_PARTITION: usize = 10_000;

/// How the number of pieces was chosen from a memory budget (`screen --memoire-max`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Budget {
    /// The budget, in bytes.
    pub budget: u64,
    /// The process's resident memory before the extract is read.
    pub avant: u64,
    /// Foyers per piece that the budget allows.
    pub foyers_par_partition: usize,
    /// False when even the smallest pieces would not fit ([`FOYERS_MIN_PAR_PARTITION`]):
    /// the budget will be exceeded.
    pub tenu: bool,
}

impl Budget {
    /// The pieces `foyers` foyers need within `budget` bytes when `avant` bytes are
    /// already held.
    pub fn new(foyers: usize, budget: u64, avant: u64) -> Budget {
        let (foyers_par_partition, tenu) = partition_size(foyers, budget, avant);
        Budget { budget, avant, foyers_par_partition, tenu }
    }

    pub fn pieces(&self, foyers: usize) -> usize {
        foyers.div_ceil(self.foyers_par_partition).max(1)
    }
}

/// Foyers per piece for `budget` bytes when `avant` bytes are already held, and whether
/// the budget can be kept.
fn partition_size(foyers: usize, budget: u64, avant: u64) -> (usize, bool) {
    let allowed = (budget.saturating_sub(avant + OCTETS_FIXES) / OCTETS_PAR_FOYER) as usize;
    let tenu = allowed >= FOYERS_MIN_PAR_PARTITION.min(foyers.max(1));
    (allowed.clamp(FOYERS_MIN_PAR_PARTITION, FOYERS_PAR_PARTITION), tenu)
}

/// What a command does with each piece of the evaluation.
pub trait Etapes {
    /// Piece `k` is about to be loaded and validated.
    fn debut(&mut self, _k: usize) {}
    /// Piece `k` is loaded and validated (with last month's, when given): whether to
    /// evaluate it (`screen --strict` stops evaluating at the first refused row).
    fn validee(&mut self, k: usize, extract: &Extract, previous: Option<&Extract>) -> Result<bool, ScreenError>;
    /// Piece `k` could not be evaluated with Polars' common-subexpression elimination
    /// (`why`: its panic) and was evaluated without it: slower, the same result.
    fn sans_cse(&mut self, _k: usize, _why: &str) {}
    /// Piece `k` is evaluated: one row per evaluable foyer, sorted by `id_foyer`, the
    /// situation and every rule column.
    fn evaluee(&mut self, k: usize, compiled: &Compiled, extract: &Extract, eval: DataFrame)
    -> Result<(), ScreenError>;
}

/// Loads, validates and evaluates every piece of `current` in turn (with the same piece
/// of last month's extract, `previous`), handing each to `etapes` in piece order.
/// Returns the compiled rules.
///
/// The next piece is loaded and validated while this one is evaluated (one piece
/// ahead, no more): evaluating a piece of 50,000 foyers keeps two cores busy only part
/// of the time, and validation is the other part of the work.
pub fn evaluate(
    current: &mut Chargement,
    previous: Option<&mut Chargement>,
    rules: &RuleSet,
    mois: Mois,
    etapes: &mut dyn Etapes,
) -> Result<Compiled, ScreenError> {
    let compiled = Compiled::new(rules, mois, None)?;
    // The situation's query, planned for the first piece and kept for the others.
    let situation_plan = PlanCache::default();
    let pieces = current.pieces();
    std::thread::scope(|s| -> Result<(), ScreenError> {
        let mut next = (pieces > 0).then(|| s.spawn(move || load_piece(current, previous, 0, mois)));
        for k in 0..pieces {
            etapes.debut(k);
            let Some(loading) = next.take() else { break };
            let (current, previous, loaded) =
                loading.join().map_err(|_| ExtractError::Internal(format!("loading piece {} panicked", k + 1)))?;
            let (extract, prev) = loaded?;
            if k + 1 < pieces {
                next = Some(s.spawn(move || load_piece(current, previous, k + 1, mois)));
            }
            if etapes.validee(k, &extract, prev.as_ref())? {
                let df = evaluate_piece(&compiled, &situation_plan, &extract, prev.as_ref(), mois, k, etapes)?;
                etapes.evaluee(k, &compiled, &extract, df)?;
            }
        }
        Ok(())
    })?;
    Ok(compiled)
}

/// Piece `k` of this month's extract and of last month's, loaded and validated; and the
/// extracts, handed back for the next piece.
type Loaded<'c> = (&'c mut Chargement, Option<&'c mut Chargement>, Result<(Extract, Option<Extract>), ExtractError>);

fn load_piece<'c>(
    current: &'c mut Chargement,
    mut previous: Option<&'c mut Chargement>,
    k: usize,
    mois: Mois,
) -> Loaded<'c> {
    let loaded = routage::piece(current, k, mois).and_then(|extract| {
        let prev = match previous.as_deref_mut() {
            Some(p) => Some(routage::piece(p, k, mois.plus(-1))?),
            None => None,
        };
        Ok((extract, prev))
    });
    (current, previous, loaded)
}

/// One row per evaluable foyer of a validated piece: its situation and every rule column.
fn evaluate_piece(
    compiled: &Compiled,
    situation_plan: &PlanCache,
    extract: &Extract,
    prev: Option<&Extract>,
    mois: Mois,
    k: usize,
    etapes: &mut dyn Etapes,
) -> Result<DataFrame, ScreenError> {
    let situation = situation::build(extract, prev, mois, situation_plan)?;
    compiled.check_schema(situation.schema())?;
    // With Polars' common-subexpression elimination; should its optimiser fail on a rule
    // (it did, before expressions reading no column were folded: reperage_rules::compile),
    // the piece is evaluated again without it, and the caller told.
    let with_cse = || compiled.evaluate(situation.clone(), true);
    Ok(match crate::extract::reader::without_panic(with_cse) {
        Ok(result) => result?,
        Err(why) => {
            etapes.sans_cse(k, &why);
            compiled.evaluate(situation, false)?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn the_budget_sets_the_partition_size_within_bounds() {
        // Plenty of memory: pieces of the fastest size.
        assert_eq!(partition_size(14_000_000, 18 * GIB, 5 * GIB), (FOYERS_PAR_PARTITION, true));
        // 0.4 GB left beyond the fixed part: 50,000 foyers of 8 KB each.
        let charge = 3 * GIB;
        assert_eq!(partition_size(1_000_000, charge + OCTETS_FIXES + 400_000_000, charge), (50_000, true));
        // Nothing left: the smallest partitions, and the budget cannot be kept.
        assert_eq!(partition_size(1_000_000, 4 * GIB, 5 * GIB), (FOYERS_MIN_PAR_PARTITION, false));
        assert_eq!(partition_size(1_000_000, 4 * GIB, 3 * GIB + GIB / 2), (FOYERS_MIN_PAR_PARTITION, false));
        // A small extract within a small remainder is kept.
        assert_eq!(partition_size(2_000, 2 * GIB + 20_000_000, GIB), (FOYERS_MIN_PAR_PARTITION, true));
    }
}
