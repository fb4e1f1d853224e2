//! Comparison with last month's extract (`screen --precedent DIR`): changes the
//! `evenements` table may have missed, as situation inputs (docs/situation.md):
//! a child who joined the foyer, a conjoint who left, a change of commune, a right that
//! was in payment last month and is not any more.
//!
//! Pseudonymous ids are stable from one month to the next (docs/extract.md). A foyer
//! absent from the previous extract has no comparison: its inputs are unknown, as they
//! are for every foyer when no previous extract is given.
//!
//! Computed in one pass over each table's rows, one row per row of `foyers` (like the
//! resource and rights sums), not as a Polars query: its three anti-joins and four
//! joins on text ids cost a third of the situation's query (docs/performance.md). The
//! query it replaces is kept in the tests as the reference it is checked against.

use polars::prelude::*;
use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};
use reperage_rules::Mois;

use super::{Rangs, days, strings};
use crate::extract::mois::{is_alive_on, is_in_payment};
use crate::extract::{Extract, Table};

const ID: &str = "id_foyer";

/// The situation inputs a comparison gives, all booleans.
pub const INPUTS: [&str; 4] =
    ["precedent_nouvel_enfant", "precedent_depart_conjoint", "precedent_changement_commune", "precedent_droit_arrete"];

/// The (id_foyer, id_personne) of the members of `role` alive on the first day of
/// `mois`, in row order; `None` where an id is absent.
fn members<'a>(extract: &'a Extract, role: &str, mois: Mois) -> PolarsResult<Vec<Option<(&'a str, &'a str)>>> {
    let personnes = extract.table(Table::Personnes);
    let deces = days(personnes, "date_deces")?;
    let rows = strings(personnes, ID)?
        .iter()
        .zip(strings(personnes, "id_personne")?.iter())
        .zip(strings(personnes, "role")?.iter())
        .zip(deces.iter());
    Ok(rows
        .filter(|(((_, _), r), deces)| *r == Some(role) && is_alive_on(*deces, mois))
        .map(|(((f, p), _), _)| Some((f?, p?)))
        .collect())
}

/// The (id_foyer, prestation) of the rights in payment for `mois`; `None` where an id
/// or the code is absent.
fn rights(extract: &Extract, mois: Mois) -> PolarsResult<Vec<Option<(&str, &str)>>> {
    let droits = extract.table(Table::Droits);
    let (debut, fin) = (days(droits, "date_debut")?, days(droits, "date_fin")?);
    let rows = strings(droits, ID)?.iter().zip(strings(droits, "prestation")?.iter()).zip(debut.iter().zip(fin.iter()));
    Ok(rows.filter(|(_, (d, f))| is_in_payment(*d, *f, mois)).map(|((f, p), _)| Some((f?, p?))).collect())
}

/// The first elements of the pairs of `rows` that are not among `others` (a pair with
/// an absent part matches nothing, as in a join).
fn not_among<'a>(rows: &[Option<(&'a str, &'a str)>], others: &[Option<(&str, &str)>]) -> Vec<Option<&'a str>> {
    let others: HashSet<(&str, &str)> = others.iter().flatten().copied().collect();
    rows.iter().filter(|r| r.is_none_or(|pair| !others.contains(&pair))).map(|r| r.map(|(f, _)| f)).collect()
}

/// Per row of this month's `foyers` (in its order: `rangs`), the columns of [`INPUTS`];
/// all unknown without last month's extract, and for a foyer it does not have.
pub(super) fn inputs(
    current: &Extract,
    previous: Option<&Extract>,
    mois: Mois,
    rangs: &Rangs,
) -> PolarsResult<DataFrame> {
    let n = rangs.len();
    let Some(previous) = previous else {
        let unknown = |c: &str| Column::full_null(c.into(), n, &DataType::Boolean);
        return DataFrame::new(n, INPUTS.map(unknown).into());
    };
    let before = mois.plus(-1);
    // Last month's foyers and their commune.
    let foyers_avant = previous.table(Table::Foyers);
    let commune_avant: HashMap<&str, Option<&str>> = strings(foyers_avant, ID)?
        .iter()
        .zip(strings(foyers_avant, "commune")?.iter())
        .filter_map(|(f, c)| Some((f?, c)))
        .collect();
    // Foyers flagged for each change, by row of `foyers` (indexed as INPUTS; the
    // commune is compared below).
    let mut flags = vec![[false; INPUTS.len()]; n];
    let mut flag = |foyers: Vec<Option<&str>>, which: usize| {
        let mut rang = rangs.recherche();
        for f in foyers.into_iter().flatten() {
            if let Some(r) = rang.rang(f) {
                flags[r as usize][which] = true;
            }
        }
    };
    // A child of the foyer now who was not a member of it last month.
    flag(not_among(&members(current, "enfant", mois)?, &members(previous, "enfant", before)?), 0);
    // Last month's conjoint is no longer the conjoint.
    flag(not_among(&members(previous, "conjoint", before)?, &members(current, "conjoint", mois)?), 1);
    // A right in payment last month that is not in payment this month.
    flag(not_among(&rights(previous, before)?, &rights(current, mois)?), 3);

    let foyers = rangs.foyers();
    let known: Vec<Option<Option<&str>>> =
        strings(foyers, ID)?.iter().map(|f| f.and_then(|f| commune_avant.get(f).copied())).collect();
    let changed = |k: usize| -> BooleanChunked {
        flags.iter().zip(&known).map(|(f, known)| known.map(|_| f[k])).collect_ca_trusted(INPUTS[k].into())
    };
    let commune: BooleanChunked = strings(foyers, "commune")?
        .iter()
        .zip(&known)
        .map(|(now, before)| match (now, before) {
            (Some(now), Some(Some(before))) => Some(now != *before),
            _ => None,
        })
        .collect_ca_trusted(INPUTS[2].into());
    let columns =
        vec![changed(0).into_column(), changed(1).into_column(), commune.into_column(), changed(3).into_column()];
    DataFrame::new(n, columns)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::extract::mois::{alive_on, in_payment};

    /// The tables of one month's extract a comparison reads, as lazy frames.
    struct Tables {
        foyers: LazyFrame,
        personnes: LazyFrame,
        droits: LazyFrame,
    }

    impl Tables {
        fn of(extract: &Extract) -> Tables {
            Tables {
                foyers: extract.table(Table::Foyers).clone().lazy(),
                personnes: extract.table(Table::Personnes).clone().lazy(),
                droits: extract.table(Table::Droits).clone().lazy(),
            }
        }
    }

    // The comparison as the Polars query it was (a reference written apart from `inputs`).

    /// Members of `role` alive on the first day of `mois`: (id_foyer, id_personne).
    fn members(tables: &Tables, role: &str, mois: Mois) -> LazyFrame {
        tables
            .personnes
            .clone()
            .filter(col("role").eq(lit(role)).and(alive_on(mois)))
            .select([col(ID), col("id_personne")])
    }

    /// Prestation codes in payment for `mois`: (id_foyer, prestation), one row each.
    fn rights(tables: &Tables, mois: Mois) -> LazyFrame {
        tables
            .droits
            .clone()
            .filter(in_payment(mois))
            .select([col(ID), col("prestation")])
            .unique(None, UniqueKeepStrategy::Any)
    }

    /// Per foyer of the current extract: `id_foyer` and the columns of [`INPUTS`], unknown
    /// for a foyer the previous extract does not have.
    fn compare(current: &Tables, previous: &Tables, mois: Mois) -> LazyFrame {
        let before = mois.plus(-1);
        let anti = || JoinArgs::new(JoinType::Anti);
        let left = || JoinArgs::new(JoinType::Left);
        let flag = |lf: LazyFrame, name: &str| {
            lf.select([col(ID)]).unique(None, UniqueKeepStrategy::Any).with_column(lit(true).alias(name))
        };

        // A child of the foyer now who was not a member of it last month.
        let new_child = members(current, "enfant", mois).join(
            members(previous, "enfant", before),
            [col(ID), col("id_personne")],
            [col(ID), col("id_personne")],
            anti(),
        );
        // Last month's conjoint is no longer the conjoint.
        let conjoint_left = members(previous, "conjoint", before).join(
            members(current, "conjoint", mois),
            [col(ID), col("id_personne")],
            [col(ID), col("id_personne")],
            anti(),
        );
        // A right in payment last month that is not in payment this month.
        let stopped = rights(previous, before).join(
            rights(current, mois),
            [col(ID), col("prestation")],
            [col(ID), col("prestation")],
            anti(),
        );
        let previous_foyers = previous.foyers.clone().select([
            col(ID),
            col("commune").alias("_commune_precedente"),
            lit(true).alias("_connu"),
        ]);

        let known = col("_connu").fill_null(lit(false));
        let or_unknown = |c: &str| {
            when(known.clone()).then(col(c).fill_null(lit(false))).otherwise(lit(NULL).cast(DataType::Boolean))
        };
        current
            .foyers
            .clone()
            .select([col(ID), col("commune")])
            .join(previous_foyers, [col(ID)], [col(ID)], left())
            .join(flag(new_child, "_enfant"), [col(ID)], [col(ID)], left())
            .join(flag(conjoint_left, "_conjoint"), [col(ID)], [col(ID)], left())
            .join(flag(stopped, "_droit"), [col(ID)], [col(ID)], left())
            .select([
                col(ID),
                or_unknown("_enfant").alias(INPUTS[0]),
                or_unknown("_conjoint").alias(INPUTS[1]),
                when(known.clone())
                    .then(col("commune").neq(col("_commune_precedente")))
                    .otherwise(lit(NULL).cast(DataType::Boolean))
                    .alias(INPUTS[2]),
                or_unknown("_droit").alias(INPUTS[3]),
            ])
    }

    /// Sets the date column `name` of `table` to `day(i)` on the rows `i` where it is some.
    fn set_days(
        tables: &mut std::collections::BTreeMap<Table, DataFrame>,
        table: Table,
        name: &str,
        day: impl Fn(usize) -> Option<i32>,
    ) {
        let df = tables.get_mut(&table).expect("table");
        let old = days(df, name).expect("dates");
        let new: Int32Chunked = old.iter().enumerate().map(|(i, v)| day(i).or(v)).collect();
        let new = new.into_column().cast(&DataType::Date).expect("dates").with_name(name.into());
        df.with_column(new).expect("replaced");
    }

    /// The comparison by [`inputs`] equals the reference query's, foyer by foyer, on
    /// the samples and on a generated month and its previous one (children born and
    /// leaving, conjoints leaving, moves, rights ending), with deaths and ends of rights
    /// at the months' bounds, the rows of `foyers` reversed.
    #[test]
    fn the_comparison_is_the_reference_query() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = Mois::parse("2025-03").expect("month");
        crate::generate::generate(3000, mois, 7, &tmp.path().join("e"), Some(&tmp.path().join("p")), false)
            .expect("generate");
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-data");
        let pairs = [
            (samples.join("cas-limites"), samples.join("cas-limites-precedent")),
            (samples.join("synthetique"), samples.join("synthetique-precedent")),
            (tmp.path().join("e"), tmp.path().join("p")),
        ];
        for (now, before) in pairs {
            let current = crate::extract::load(&now, mois).expect("loads");
            let previous = crate::extract::load(&before, mois.plus(-1)).expect("loads");
            let (mut current, mut previous) = (current, previous);
            // Deaths and the ends of rights at the bounds of the months compared.
            let (first, last) = (mois.first_day().to_days(), mois.last_day().to_days());
            let day_before = first - 1;
            let tables = &mut current.tables;
            set_days(tables, Table::Personnes, "date_deces", |i| [first - 40, first].get(i % 9).copied());
            set_days(tables, Table::Droits, "date_fin", |i| [first, day_before].get(i % 7).copied());
            set_days(tables, Table::Droits, "date_debut", |i| (i % 7 == 2).then_some(last));
            let tables = &mut previous.tables;
            set_days(tables, Table::Personnes, "date_deces", |i| (i % 8 == 0).then_some(day_before - 29));
            set_days(tables, Table::Droits, "date_fin", |i| (i % 6 == 0).then_some(day_before - 27));
            // Foyers in another order than their ids: the inputs follow `foyers`.
            let reversed = current.tables[&Table::Foyers].reverse();
            current.tables.insert(Table::Foyers, reversed);
            // As `build` does: the rows of a sorted copy, the extract's in file order.
            let foyers = current.table(Table::Foyers).sort([ID], SortMultipleOptions::default()).expect("sorts");
            let rangs = Rangs::new(&foyers).expect("ranks");
            let mut got = inputs(&current, Some(&previous), mois, &rangs).expect("compares");
            let ids = foyers.column(ID).expect("ids").clone();
            got.insert_column(0, ids).expect("ids");
            let expected = compare(&Tables::of(&current), &Tables::of(&previous), mois)
                .sort([ID], SortMultipleOptions::default())
                .collect()
                .expect("reference");
            let got = got.sort([ID], SortMultipleOptions::default()).expect("sorts");
            assert!(got.equals_missing(&expected), "{}:\n{got}\n{expected}", now.display());
            // Each input is true for some foyer of the generated months and false for
            // others; in cas-limites, unknown for the foyer absent last month.
            for c in INPUTS {
                let values = got.column(c).expect("column").bool().expect("bool");
                let (n, trues) = (values.len() - values.null_count(), values.sum().unwrap_or(0) as usize);
                if now.ends_with("e") {
                    assert!(trues > 0 && trues < n, "{c}: {trues} of {n}");
                }
                if now.ends_with("cas-limites") {
                    assert!(values.null_count() > 0, "{c}");
                }
            }
        }
    }
}
