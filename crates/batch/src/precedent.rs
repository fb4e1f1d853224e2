//! Comparison with last month's extract (`screen --precedent DIR`): changes the
//! `evenements` table may have missed, as situation inputs (docs/situation.md):
//! a child who joined the foyer, a conjoint who left, a change of commune, a right that
//! was in payment last month and is not any more.
//!
//! Pseudonymous ids are stable from one month to the next (docs/extract.md). A foyer
//! absent from the previous extract has no comparison: its inputs are unknown, as they
//! are for every foyer when no previous extract is given.

use polars::prelude::*;
use reperage_rules::Mois;

use crate::extract::mois::{alive_on, in_payment};

const ID: &str = "id_foyer";

/// The situation inputs a comparison gives, all booleans.
pub const INPUTS: [&str; 4] =
    ["precedent_nouvel_enfant", "precedent_depart_conjoint", "precedent_changement_commune", "precedent_droit_arrete"];

/// The tables of one month's extract a comparison reads, as lazy frames.
pub struct Tables {
    pub foyers: LazyFrame,
    pub personnes: LazyFrame,
    pub droits: LazyFrame,
}

/// Members of `role` alive on the first day of `mois`: (id_foyer, id_personne).
fn members(tables: &Tables, role: &str, mois: Mois) -> LazyFrame {
    tables.personnes.clone().filter(col("role").eq(lit(role)).and(alive_on(mois))).select([col(ID), col("id_personne")])
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
pub fn compare(current: &Tables, previous: &Tables, mois: Mois) -> LazyFrame {
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
    let or_unknown =
        |c: &str| when(known.clone()).then(col(c).fill_null(lit(false))).otherwise(lit(NULL).cast(DataType::Boolean));
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
