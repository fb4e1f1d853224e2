//! The one evaluation step that every command which evaluates reuses (`screen`,
//! `explain`, and the estimate, coverage and diff commands to come).
//!
//! The validated extract is cut into partitions of consecutive foyer ids; each
//! partition's situation is built and every rule evaluated, then handed to the caller,
//! before the next partition is built. The evaluation frame (one column per rule
//! variable, hundreds of them) is the largest object of a run, so its memory is now set
//! by the partition size rather than by the extract.
//!
//! Partitions are ranges of `id_foyer` in byte order, the order every output is sorted
//! in: each partition's frame is sorted by id and partitions come in id order, so a
//! caller that consumes them in turn sees exactly the rows of one whole evaluation, and
//! writes the same bytes whatever the partition count (tested in
//! crates/cli/tests/it/partitions.rs). Every rule reads one foyer's rows only (the
//! situation is built per foyer), which is what makes the cut exact.

use polars::prelude::*;
use reperage_rules::{Compiled, Mois, RuleSet};

use crate::extract::{Extract, Table};
use crate::screen::ScreenError;
use crate::situation;

/// Foyers per partition when the caller does not choose: the evaluation of 200,000
/// foyers holds about 1 GB (docs/performance.md, "Partitioned evaluation").
pub const FOYERS_PAR_PARTITION: usize = 200_000;

/// The partitions of an extract: `bornes[k]` is the first id of partition k + 1, so
/// partition k holds the ids in `[bornes[k - 1], bornes[k])` (open at both ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions {
    bornes: Vec<String>,
}

impl Partitions {
    /// Cuts the foyers of `extract` into `n` partitions of (nearly) equal counts; fewer
    /// when there are fewer foyers than `n`, and always at least one.
    pub fn new(extract: &Extract, n: usize) -> PolarsResult<Partitions> {
        let ids = extract.table(Table::Foyers).column("id_foyer")?.str()?.clone();
        let mut ids: Vec<&str> = ids.iter().flatten().collect();
        ids.sort_unstable();
        let n = n.clamp(1, ids.len().max(1));
        let bornes = (1..n).map(|k| ids[k * ids.len() / n].to_string()).collect();
        Ok(Partitions { bornes })
    }

    /// As many partitions as `FOYERS_PAR_PARTITION` asks for.
    pub fn automatic(extract: &Extract) -> PolarsResult<Partitions> {
        let foyers = extract.table(Table::Foyers).height();
        Partitions::new(extract, foyers.div_ceil(FOYERS_PAR_PARTITION))
    }

    /// How many partitions (at least one).
    pub fn count(&self) -> usize {
        self.bornes.len() + 1
    }

    /// Partition `k` as a filter on `id_foyer`.
    fn filter(&self, k: usize) -> Expr {
        let id = || col("id_foyer");
        let from = k.checked_sub(1).map(|i| id().gt_eq(lit(self.bornes[i].as_str())));
        let to = self.bornes.get(k).map(|b| id().lt(lit(b.as_str())));
        match (from, to) {
            (Some(a), Some(b)) => a.and(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => lit(true),
        }
    }
}

/// The rows of `extract` that belong to the foyers kept by `filter` (an expression on
/// `id_foyer`): the tables keyed by foyer are filtered, `ressources` is kept for the
/// persons of those foyers. Only the tables are carried; the counts, the quarantine and
/// the file list stay with the whole extract.
pub fn restrict(extract: &Extract, filter: Expr) -> PolarsResult<Extract> {
    let mut tables = std::collections::BTreeMap::new();
    for (table, df) in &extract.tables {
        if *table != Table::Ressources {
            tables.insert(*table, df.clone().lazy().filter(filter.clone()).collect()?);
        }
    }
    if let Some(ressources) = extract.tables.get(&Table::Ressources) {
        let personnes = tables[&Table::Personnes].clone().lazy().select([col("id_personne")]);
        // Row order kept: a foyer's resources are summed in the order of the file,
        // as in a whole evaluation (the same floating-point sums).
        let args = JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Semi) };
        let kept = ressources.clone().lazy().join(personnes, [col("id_personne")], [col("id_personne")], args);
        tables.insert(Table::Ressources, kept.collect()?);
    }
    Ok(Extract { tables, refus: Vec::new(), foyers_quarantaine: Vec::new(), comptes: Vec::new(), fichiers: Vec::new() })
}

/// Evaluates every rule for every evaluable foyer, partition after partition, and hands
/// each partition's frame (one row per foyer, sorted by `id_foyer`; the situation and
/// every rule column) to `each`, with its index. Returns the compiled rules.
pub fn evaluate(
    extract: &Extract,
    previous: Option<&Extract>,
    rules: &RuleSet,
    mois: Mois,
    partitions: &Partitions,
    mut each: impl FnMut(usize, &Compiled, DataFrame) -> Result<(), ScreenError>,
) -> Result<Compiled, ScreenError> {
    let compiled = Compiled::new(rules, mois, None)?;
    for k in 0..partitions.count() {
        let (part, prev) = if partitions.count() == 1 {
            (None, None)
        } else {
            let part = restrict(extract, partitions.filter(k))?;
            let prev = previous.map(|p| restrict(p, partitions.filter(k))).transpose()?;
            (Some(part), prev)
        };
        let this = part.as_ref().unwrap_or(extract);
        let before = if part.is_some() { prev.as_ref() } else { previous };
        let mut situation = situation::build(this, before, mois);
        compiled.check_schema(&*situation.collect_schema()?)?;
        let df = compiled.apply(situation).collect()?;
        each(k, &compiled, df)?;
    }
    Ok(compiled)
}

/// The evaluation of one foyer (for `explain`): the same step on a partition of one id.
pub fn evaluate_one(
    extract: &Extract,
    previous: Option<&Extract>,
    rules: &RuleSet,
    mois: Mois,
    id_foyer: &str,
) -> Result<(Compiled, DataFrame), ScreenError> {
    let one = || col("id_foyer").eq(lit(id_foyer));
    let part = restrict(extract, one())?;
    let prev = previous.map(|p| restrict(p, one())).transpose()?;
    let single = Partitions { bornes: Vec::new() };
    let mut frame = None;
    let compiled = evaluate(&part, prev.as_ref(), rules, mois, &single, |_, _, df| {
        frame = Some(df);
        Ok(())
    })?;
    let df = frame.ok_or_else(|| ScreenError::Polars(PolarsError::NoData("no partition evaluated".into())))?;
    Ok((compiled, df))
}
