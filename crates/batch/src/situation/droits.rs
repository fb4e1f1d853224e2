//! Rights inputs of the situation, from the `droits` table (docs/situation.md).
//!
//! The table is authoritative: no row means no right. A right counts in a month when it
//! is in payment that month (`date_debut` ≤ its last day, `date_fin` empty or ≥ its
//! first day), with its `montant_mensuel` (successive rows of a right give each month its
//! own amount); an amount in payment without `montant_mensuel` is unknown.

use polars::prelude::*;
use reperage_rules::Mois;

use crate::extract::mois::month_index;
use crate::extract::schema::PRESTATIONS;
use crate::extract::{Extract, Table};

use super::{count_if, nulls_where, only_where};

const ID: &str = "id_foyer";

/// Benefits counted as resources month by month (RSA, prime d'activité): one input
/// `<code>_montant_m<k>` per month M-k, k = 1 … 4.
pub const MONTHLY: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

/// Benefits counted over the CSS window M-13 … M-2: `<code>_montant_m13_m2` (the sum of
/// the monthly amounts) and `<code>_mois_m13_m2` (months in payment).
pub const OVER_CSS_WINDOW: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

/// Sum of `value` over the rows where `cond` holds; unknown when one of those rows has
/// no `montant_mensuel`; 0 without any.
fn amount_where(cond: Expr, value: Expr) -> Expr {
    when(nulls_where(cond.clone(), col("montant_mensuel")).gt(lit(0u32)))
        .then(lit(NULL).cast(DataType::Float64))
        .otherwise(only_where(cond, value).sum())
}

/// Per foyer with rights: `id_foyer` and the rights inputs; a foyer without any row is
/// absent (the caller fills in "no right").
pub fn inputs(extract: &Extract, mois: Mois) -> LazyFrame {
    let m = mois.index();
    let debut = col("_debut");
    let fin = col("_fin");
    // In payment for the month of index `j`.
    let in_month_expr = |j: i32| debut.clone().lt_eq(lit(j)).and(fin.clone().is_null().or(fin.clone().gt_eq(lit(j))));
    // Every test the aggregations combine, computed once per row (as for resources:
    // comparing strings inside each of the 130 aggregations cost more than them).
    let mut flags: Vec<Expr> =
        PRESTATIONS.iter().map(|c| col("prestation").eq(lit(*c)).alias(format!("_est_{c}"))).collect();
    flags.extend((0..=super::ressources::MONTHS_BY_MONTH).map(|k| in_month_expr(m - k).alias(format!("_paye_m{k}"))));
    let in_month = |j: i32| col(format!("_paye_m{}", m - j));
    let code_is = |code: &str| col(format!("_est_{code}"));

    let mut aggs = Vec::new();
    for code in PRESTATIONS {
        let now = code_is(code).and(in_month(m));
        aggs.push(count_if(now.clone()).gt(lit(0u32)).alias(format!("{code}_en_paiement")));
        aggs.push(only_where(now.clone(), col("date_debut")).max().alias(format!("{code}_date_debut")));
        // The end of the right in payment: unknown (open-ended) if one has none.
        aggs.push(
            when(nulls_where(now.clone(), col("date_fin")).gt(lit(0u32)))
                .then(lit(NULL).cast(DataType::Date))
                .otherwise(only_where(now.clone(), col("date_fin")).max())
                .alias(format!("{code}_date_fin")),
        );
        aggs.push(amount_where(now, col("montant_mensuel")).alias(format!("_{code}_montant")));
    }
    for code in MONTHLY {
        for k in 1..=super::ressources::MONTHS_BY_MONTH {
            aggs.push(
                amount_where(code_is(code).and(in_month(m - k)), col("montant_mensuel"))
                    .alias(format!("{code}_montant_m{k}")),
            );
        }
    }
    // Months of the CSS window M-13 … M-2 each right is in payment.
    let months_in_window =
        (fin.clone().fill_null(lit(i32::MAX)).clip_max(lit(m - 2)) - debut.clone().clip_min(lit(m - 13)) + lit(1i32))
            .clip_min(lit(0i32));
    for code in OVER_CSS_WINDOW {
        let these = code_is(code).and(col("_n_css").gt(lit(0i32)));
        aggs.push(
            amount_where(these.clone(), col("montant_mensuel") * col("_n_css").cast(DataType::Float64))
                .alias(format!("{code}_montant_m13_m2")),
        );
        aggs.push(
            only_where(these, col("_n_css"))
                .sum()
                .clip_max(lit(12i32))
                .cast(DataType::Float64)
                .alias(format!("{code}_mois_m13_m2")),
        );
    }
    // The AAH of the allocataire and of the conjoint over M-3 … M-1 (the ASPA counts that
    // of a member who is not entitled to the ASPA himself): unknown when a row in payment
    // does not say whose it is.
    for role in ["allocataire", "conjoint"] {
        let these = (1..=3).map(|k| code_is("aah").and(in_month(m - k))).reduce(|a, b| a.or(b)).unwrap_or(lit(false));
        let months = (1..=3).map(|k| in_month(m - k).cast(DataType::Float64)).reduce(|a, b| a + b).unwrap_or(lit(0.0));
        aggs.push(
            when(nulls_where(these.clone(), col("_role")).gt(lit(0u32)))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(amount_where(these.and(col("_role").eq(lit(role))), col("montant_mensuel") * months))
                .alias(format!("aah_montant_3m_{role}")),
        );
    }
    aggs.push(only_where(in_month(m), col("date_fin")).min().alias("date_fin_droit_prochaine"));
    aggs.push(len().gt(lit(0u32)).alias("_has_droits"));
    extract
        .table(Table::Droits)
        .clone()
        .lazy()
        .with_columns([month_index("date_debut").alias("_debut"), month_index("date_fin").alias("_fin")])
        .join(
            extract.table(Table::Personnes).clone().lazy().select([col("id_personne"), col("role").alias("_role")]),
            [col("id_personne")],
            [col("id_personne")],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(months_in_window.alias("_n_css"))
        .with_columns(flags)
        .group_by([col(ID)])
        .agg(aggs)
}
