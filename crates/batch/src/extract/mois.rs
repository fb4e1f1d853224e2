//! What the contract says a row means for a given month (docs/extract.md): a person
//! alive, a right in payment, a month as a running count.

use polars::prelude::*;
use reperage_rules::Mois;

/// `year * 12 + month - 1` of a date or month column, as an Int32 (the same count as
/// [`Mois::index`]).
pub fn month_index(c: &str) -> Expr {
    col(c).dt().year().cast(DataType::Int32) * lit(12i32) + col(c).dt().month().cast(DataType::Int32) - lit(1i32)
}

pub(crate) fn date(days: i32) -> Expr {
    lit(days).cast(DataType::Date)
}

/// A person of the `personnes` table is alive on the first day of `mois`.
pub fn alive_on(mois: Mois) -> Expr {
    col("date_deces").is_null().or(col("date_deces").gt_eq(date(mois.first_day().to_days())))
}

/// A row of the `droits` table is in payment for `mois`: `date_debut` ≤ last day of the
/// month and `date_fin` empty or ≥ its first day.
pub fn in_payment(mois: Mois) -> Expr {
    col("date_debut")
        .lt_eq(date(mois.last_day().to_days()))
        .and(col("date_fin").is_null().or(col("date_fin").gt_eq(date(mois.first_day().to_days()))))
}

/// [`alive_on`] for one row: its `date_deces` in days since 1970-01-01.
pub fn is_alive_on(date_deces: Option<i32>, mois: Mois) -> bool {
    date_deces.is_none_or(|d| d >= mois.first_day().to_days())
}

/// [`in_payment`] for one row: its dates in days since 1970-01-01 (a row without
/// `date_debut` is not in payment, as the expression's null is filtered out).
pub fn is_in_payment(date_debut: Option<i32>, date_fin: Option<i32>, mois: Mois) -> bool {
    date_debut.is_some_and(|d| d <= mois.last_day().to_days())
        && date_fin.is_none_or(|f| f >= mois.first_day().to_days())
}
