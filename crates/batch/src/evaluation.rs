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

/// Foyers per partition at most: partitions of this size evaluate faster than one
/// whole evaluation (32 s against 41 s per million foyers) and each holds about 0.8 GB
/// (docs/performance.md, "National scale").
pub const FOYERS_PAR_PARTITION: usize = 200_000;

/// Memory the evaluation of one foyer holds (its situation and every rule column), and
/// what the evaluation holds whatever the partition size (the output writers, the
/// campaign candidates, memory the allocator keeps), measured on 1,000,000 foyers
/// (docs/performance.md): 3.4 GiB resident once loaded, then a peak of 8.0 GB in one
/// partition and of 4.4 GB in twenty, i.e. about 3.8 KB a foyer over 0.8 GB; rounded up.
pub const OCTETS_PAR_FOYER_EVALUE: u64 = 4_000;
pub const OCTETS_FIXES_EVALUATION: u64 = 1 << 30;

/// How the partition count was chosen from a memory budget (`screen --memoire-max`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Budget {
    /// The budget, in bytes.
    pub budget: u64,
    /// The process's resident memory once the extract is loaded and validated.
    pub charge: u64,
    /// The process's peak resident memory until then (loading and validation).
    pub pic_chargement: u64,
    /// Foyers per partition that the rest of the budget allows.
    pub foyers_par_partition: usize,
    /// False when loading already went over the budget, or the loaded extract leaves
    /// too little of it: partitions are then as small as [`FOYERS_MIN_PAR_PARTITION`],
    /// and the budget is exceeded (loading in partitions is the next step,
    /// docs/architecture.md).
    pub tenu: bool,
}

/// The smallest partitions a budget can ask for: below, Polars' planning of each
/// partition's query outweighs its evaluation.
pub const FOYERS_MIN_PAR_PARTITION: usize = 10_000;

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

    /// Exactly `n` partitions (some empty when there are fewer foyers than `n`): the
    /// cut `screen --partition K/N` runs one of, computed the same way by every process
    /// of a partitioned run since each validates the same extract.
    pub fn exactly(extract: &Extract, n: usize) -> PolarsResult<Partitions> {
        let ids = extract.table(Table::Foyers).column("id_foyer")?.str()?.clone();
        let mut ids: Vec<&str> = ids.iter().flatten().collect();
        ids.sort_unstable();
        let borne = |k: usize| ids.get(k * ids.len() / n).copied().unwrap_or("").to_string();
        Ok(Partitions { bornes: (1..n.max(1)).map(borne).collect() })
    }

    /// The partition of a foyer id: the ranges cover every id, those of quarantined foyers
    /// included.
    pub fn of(&self, id_foyer: &str) -> usize {
        self.bornes.partition_point(|b| b.as_str() <= id_foyer)
    }

    /// As many partitions as `FOYERS_PAR_PARTITION` asks for.
    pub fn automatic(extract: &Extract) -> PolarsResult<Partitions> {
        let foyers = extract.table(Table::Foyers).height();
        Partitions::new(extract, foyers.div_ceil(FOYERS_PAR_PARTITION))
    }

    /// Partitions small enough for the evaluation to stay within `budget` bytes, given
    /// the `charge` (bytes) already resident once the extract is loaded; never larger
    /// than [`FOYERS_PAR_PARTITION`] foyers.
    pub fn within(
        extract: &Extract,
        budget: u64,
        memory: crate::memoire::Memory,
    ) -> PolarsResult<(Partitions, Budget)> {
        let foyers = extract.table(Table::Foyers).height();
        let (size, room) = partition_size(foyers, budget, memory.resident);
        let partitions = Partitions::new(extract, foyers.div_ceil(size))?;
        let tenu = room && memory.peak <= budget;
        Ok((
            partitions,
            Budget { budget, charge: memory.resident, pic_chargement: memory.peak, foyers_par_partition: size, tenu },
        ))
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

/// Foyers per partition for `budget` bytes when `charge` bytes are already held, and
/// whether the budget can be kept.
fn partition_size(foyers: usize, budget: u64, charge: u64) -> (usize, bool) {
    let allowed = (budget.saturating_sub(charge + OCTETS_FIXES_EVALUATION) / OCTETS_PAR_FOYER_EVALUE) as usize;
    let tenu = allowed >= FOYERS_MIN_PAR_PARTITION.min(foyers.max(1));
    (allowed.clamp(FOYERS_MIN_PAR_PARTITION, FOYERS_PAR_PARTITION), tenu)
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

/// Partition `k` of `extract` as an extract of its own: the rows of its foyers, the
/// refused rows that belong to them (a refused row that belongs to no known foyer is
/// counted in partition 0) and its quarantined foyers, with row counts that sum, over
/// the partitions, to the whole extract's. What `screen --partition K/N` writes.
pub fn share(extract: &Extract, partitions: &Partitions, k: usize) -> PolarsResult<Extract> {
    let in_k = |foyer: Option<&str>| foyer.map_or(0, |f| partitions.of(f)) == k;
    let mut part = restrict(extract, partitions.filter(k))?;
    part.refus = extract.refus.iter().filter(|r| in_k(r.rattache_a.as_deref())).cloned().collect();
    part.foyers_quarantaine = extract.foyers_quarantaine.iter().filter(|f| in_k(Some(&f.id_foyer))).cloned().collect();
    part.comptes = extract
        .comptes
        .iter()
        .map(|c| {
            let table = Table::ALL.into_iter().find(|t| t.name() == c.table);
            let utilises = table.map_or(0, |t| part.tables[&t].height() as u64);
            let lines: std::collections::BTreeSet<u64> =
                part.refus.iter().filter(|r| r.table.name() == c.table).map(|r| r.ligne).collect();
            let quarantaines = lines.len() as u64;
            crate::extract::TableCount { table: c.table, lus: utilises + quarantaines, utilises, quarantaines }
        })
        .collect();
    part.fichiers = extract.fichiers.clone();
    Ok(part)
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

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn the_budget_sets_the_partition_size_within_bounds() {
        // Plenty of memory: partitions of the fastest size, 200,000 foyers.
        assert_eq!(partition_size(14_000_000, 18 * GIB, 5 * GIB), (FOYERS_PAR_PARTITION, true));
        // 0.2 GB left beyond the fixed part: 50,000 foyers of 4 KB each.
        let charge = 3 * GIB;
        assert_eq!(partition_size(1_000_000, charge + OCTETS_FIXES_EVALUATION + 200_000_000, charge), (50_000, true));
        // Nothing left: the smallest partitions, and the budget cannot be kept.
        assert_eq!(partition_size(1_000_000, 4 * GIB, 5 * GIB), (FOYERS_MIN_PAR_PARTITION, false));
        assert_eq!(partition_size(1_000_000, 4 * GIB, 3 * GIB + GIB / 2), (FOYERS_MIN_PAR_PARTITION, false));
        // A small extract within a small remainder is kept.
        assert_eq!(partition_size(2_000, 2 * GIB + 10_000_000, GIB), (FOYERS_MIN_PAR_PARTITION, true));
    }
}
