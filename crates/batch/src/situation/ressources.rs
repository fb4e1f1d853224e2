//! Resource inputs of the situation: sums of the `ressources` table over the windows the
//! rules read, per foyer, with unknown months kept unknown (docs/situation.md).
//!
//! A month is *known* for a foyer when the allocataire and, if there is one, the conjoint
//! each have at least one row for it; a sum over a window is unknown unless all its
//! months are known (then a nature without a row counts 0). The windows, as offsets
//! before the reference month M:
//!
//! | inputs | months | read by |
//! |---|---|---|
//! | `ressources_m{k}_*`, `revenus_activite_m{k}_*` | M-k, k = 1 … 4 | RSA, prime d'activité (M-4 … M-2 since 2025-03, M-3 … M-1 before) |
//! | `ressources_3m_*`, `revenus_activite_3m_*` | M-3 … M-1 | ASPA |
//! | `ressources_m13_m2_*`, `pensions_alimentaires_m13_m2_couple` | M-13 … M-2 | CSS (décret n° 2021-1642) |

use polars::prelude::*;
use reperage_rules::Mois;

use crate::extract::mois::month_index;
use crate::extract::schema::NATURES;
use crate::extract::{Extract, Table};

use super::{count_if, only_where};

const ID: &str = "id_foyer";

/// Months of history read, as offsets before M: M-1 … M-13.
const HISTORY: i32 = 13;

/// Per-month resource inputs, for months M-1 … M-`MONTHS_BY_MONTH`.
pub const MONTHS_BY_MONTH: i32 = 4;

fn null_f64() -> Expr {
    lit(NULL).cast(DataType::Float64)
}

/// Age (in months) from which a child is no longer à charge: the same bound as
/// `nb_enfants_moins_25ans`.
const ENFANT_A_CHARGE_MOIS: f64 = 300.0;

/// Natures whose gross amount the ASPA reads: pensions, and earned income.
const PENSIONS: [&str; 2] = ["retraite", "invalidite"];
const ACTIVITE: [&str; 2] = ["salaire", "independant"];

fn nature_in(natures: &[&str]) -> Expr {
    natures.iter().map(|n| col("nature").eq(lit(*n))).reduce(|a, b| a.or(b)).unwrap_or(lit(false))
}

/// `personnes` carries each person's `age_mois` at M.
///
/// The resource inputs of every foyer of `with_conjoint` (`id_foyer`, `en_couple`: whether
/// it has a conjoint): `id_foyer`, one column per input, and `mois_ressources_inconnus`
/// (the unknown months among M-13 … M-1, e.g. "2024-02, 2024-03"; empty when all are
/// known). A foyer without any resource row has every month unknown.
pub fn inputs(extract: &Extract, personnes: LazyFrame, with_conjoint: LazyFrame, mois: Mois) -> LazyFrame {
    let m = mois.index();
    let rows = extract
        .table(Table::Ressources)
        .clone()
        .lazy()
        .with_column(month_index("mois").alias("mois_idx"))
        .filter(col("mois_idx").gt_eq(lit(m - HISTORY)).and(col("mois_idx").lt(lit(m))))
        .join(
            personnes.select([col("id_personne"), col(ID), col("role"), col("age_mois")]),
            [col("id_personne")],
            [col("id_personne")],
            JoinArgs::new(JoinType::Inner),
        );

    let role_is = |role: &str| col("role").eq(lit(role.to_string()));
    // Outside the foyer of the RSA, the prime d'activité and the CSS: a person of role
    // "autre", and a child of 25 or more at M (no longer a person à charge, R262-3 CASF,
    // L861-1 CSS), whose resources are not the foyer's.
    let outside = role_is("autre").or(role_is("enfant").and(col("age_mois").gt_eq(lit(ENFANT_A_CHARGE_MOIS))));
    let in_months = |from: i32, to: i32| col("mois_idx").gt_eq(lit(m - from)).and(col("mois_idx").lt_eq(lit(m - to)));
    // Every test the sums below combine, computed once per row: comparing strings inside
    // each of the sixty aggregations cost more than the sums (docs/performance.md).
    let mut flags = vec![
        role_is("allocataire").alias("_role_allocataire"),
        role_is("conjoint").alias("_role_conjoint"),
        role_is("allocataire").or(role_is("conjoint")).alias("_couple"),
        outside.clone().alias("_autre"),
        // A member of the foyer (the sums by nature are the members': the resources of
        // those outside are apart, whatever their nature, so never subtracted twice).
        outside.not().alias("_membre"),
        nature_in(&ACTIVITE).alias("_activite"),
        nature_in(&PENSIONS).alias("_pensions"),
        in_months(3, 1).alias("_m3_m1"),
        in_months(13, 2).alias("_m13_m2"),
    ];
    flags.extend(NATURES.iter().map(|n| col("nature").eq(lit(*n)).alias(format!("_nature_{n}"))));
    let rows = rows.with_columns(flags);
    let is_role = |role: &str| col(format!("_role_{role}"));
    let nature = |n: &str| col(format!("_nature_{n}"));
    let couple = col("_couple");
    let autre = col("_autre");
    let member = col("_membre");
    let last3 = || col("_m3_m1");
    let m13_m2 = || col("_m13_m2");
    let sum_where = |cond: Expr, name: String| only_where(cond, col("montant")).sum().alias(name);

    // Sums over the windows (nulls are filled with 0 and masked by the known months below).
    let mut sums = vec![
        sum_where(last3(), "_s3".into()),
        sum_where(last3().and(autre.clone()), "_s3_autres".into()),
        sum_where(m13_m2(), "_s_m13_m2".into()),
        sum_where(m13_m2().and(autre.clone()), "_s_m13_m2_autres".into()),
        sum_where(last3().and(couple.clone()), "_s3_couple".into()),
        sum_where(
            m13_m2().and(couple.clone()).and(nature("pension_alimentaire")),
            "_s_m13_m2_couple_pensions_alimentaires".into(),
        ),
    ];
    for n in NATURES {
        sums.push(sum_where(last3().and(member.clone()).and(nature(n)), format!("_s3_{n}")));
    }
    for role in ["allocataire", "conjoint"] {
        sums.push(sum_where(last3().and(col("_activite")).and(is_role(role)), format!("_act3_{role}")));
    }
    // The couple's pensions and earned income, net and gross (a gross sum is unknown as
    // soon as one of its rows has no `montant_brut`; a row of 0 net is 0 gross).
    let gross = when(col("montant").eq(lit(0.0))).then(lit(0.0)).otherwise(col("montant_brut"));
    for name in ["pensions", "activite"] {
        let these = last3().and(couple.clone()).and(col(format!("_{name}")));
        sums.push(sum_where(these.clone(), format!("_s3_couple_{name}")));
        sums.push(only_where(these.clone(), gross.clone()).sum().alias(format!("_b3_couple_{name}")));
        sums.push(count_if(these.and(gross.clone().is_null())).alias(format!("_nb3_couple_{name}")));
    }
    for k in 1..=MONTHS_BY_MONTH {
        let this = col("mois_idx").eq(lit(m - k));
        sums.push(sum_where(this.clone(), format!("_s_m{k}")));
        sums.push(sum_where(this.clone().and(member.clone()).and(nature("bourse")), format!("_s_m{k}_bourse")));
        sums.push(sum_where(this.clone().and(autre.clone()), format!("_s_m{k}_autres")));
        for role in ["allocataire", "conjoint"] {
            sums.push(sum_where(this.clone().and(col("_activite")).and(is_role(role)), format!("_act_m{k}_{role}")));
        }
    }
    // Whether the allocataire and the conjoint have rows in each of the months M-1 …
    // M-13 (counted in the same pass: a second group-by by foyer and month cost more than
    // all the sums).
    for j in 1..=HISTORY {
        let this = col("mois_idx").eq(lit(m - j));
        sums.push(count_if(this.clone().and(is_role("allocataire"))).alias(format!("_a{j}")));
        sums.push(count_if(this.and(is_role("conjoint"))).alias(format!("_c{j}")));
    }
    let sums = rows.group_by([col(ID)]).agg(sums);
    let en_couple = col("en_couple").fill_null(lit(false));
    // Month M-j is known, `_k{j}` (0 or 1), when the allocataire and, in a couple, the
    // conjoint each have a row for it.
    let has_rows = |who: &str, j: i32| col(format!("_{who}{j}")).fill_null(lit(0u32)).gt(lit(0u32));
    let known: Vec<Expr> = (1..=HISTORY)
        .map(|j| {
            has_rows("a", j)
                .and(en_couple.clone().not().or(has_rows("c", j)))
                .cast(DataType::UInt32)
                .alias(format!("_k{j}"))
        })
        .collect();

    let k = |j: i32| col(format!("_k{j}")).fill_null(lit(0u32));
    let known_all = |from: i32, to: i32| (to..=from).map(k).reduce(|a, b| a + b).unwrap_or(lit(0u32));
    let known3 = known_all(3, 1);
    let known_css = known_all(13, 2);
    // `e` where every month of the window is known (a missing sum is then 0), else unknown.
    let when_known = |all_known: Expr, e: Expr| when(all_known).then(e.fill_null(lit(0.0))).otherwise(null_f64());
    let w3 = |e: Expr| when_known(known3.clone().eq(lit(3u32)), e);
    let wcss = |e: Expr| when_known(known_css.clone().eq(lit(12u32)), e);
    let conjoint_only = |e: Expr| when(en_couple.clone()).then(e).otherwise(null_f64());

    let mut out = vec![
        col(ID),
        known3.clone().cast(DataType::Float64).alias("mois_connus_3m"),
        known_css.clone().cast(DataType::Float64).alias("mois_connus_m13_m2"),
        w3(col("_s3")).alias("ressources_3m_foyer"),
        w3(col("_s3_autres")).alias("ressources_3m_autres"),
        w3(col("_s3_couple")).alias("ressources_3m_couple"),
        wcss(col("_s_m13_m2")).alias("ressources_m13_m2_foyer"),
        wcss(col("_s_m13_m2_autres")).alias("ressources_m13_m2_autres"),
        wcss(col("_s_m13_m2_couple_pensions_alimentaires")).alias("pensions_alimentaires_m13_m2_couple"),
        w3(col("_act3_allocataire")).alias("revenus_activite_3m_allocataire"),
        conjoint_only(w3(col("_act3_conjoint"))).alias("revenus_activite_3m_conjoint"),
    ];
    for n in NATURES {
        out.push(w3(col(format!("_s3_{n}"))).alias(format!("ressources_3m_{n}")));
    }
    for (name, input) in [("pensions", "ressources_3m_couple_pensions"), ("activite", "revenus_activite_3m_couple")] {
        out.push(w3(col(format!("_s3_couple_{name}"))).alias(input));
        let all_gross = col(format!("_nb3_couple_{name}")).fill_null(lit(0u32)).eq(lit(0u32));
        out.push(
            when(all_gross)
                .then(w3(col(format!("_b3_couple_{name}"))))
                .otherwise(null_f64())
                .alias(format!("{input}_brut")),
        );
    }
    for j in 1..=MONTHS_BY_MONTH {
        let wk = |e: Expr| when_known(k(j).eq(lit(1u32)), e);
        out.push(wk(col(format!("_s_m{j}"))).alias(format!("ressources_m{j}_foyer")));
        out.push(wk(col(format!("_s_m{j}_bourse"))).alias(format!("ressources_m{j}_bourse")));
        out.push(wk(col(format!("_s_m{j}_autres"))).alias(format!("ressources_m{j}_autres")));
        out.push(wk(col(format!("_act_m{j}_allocataire"))).alias(format!("revenus_activite_m{j}_allocataire")));
        out.push(
            conjoint_only(wk(col(format!("_act_m{j}_conjoint")))).alias(format!("revenus_activite_m{j}_conjoint")),
        );
    }
    // The unknown months among M-13 … M-1, named, for the reasons of undetermined results.
    let labels: Vec<Expr> = (1..=HISTORY)
        .rev()
        .map(|j| {
            when(k(j).eq(lit(0u32))).then(lit(mois.plus(-j).to_string())).otherwise(lit(NULL).cast(DataType::String))
        })
        .collect();
    out.push(
        when(known_all(HISTORY, 1).eq(lit(HISTORY as u32)))
            .then(lit(NULL).cast(DataType::String))
            .otherwise(concat_str(labels, ", ", true))
            .alias("mois_ressources_inconnus"),
    );

    with_conjoint
        .select([col(ID), col("en_couple")])
        .join(sums, [col(ID)], [col(ID)], JoinArgs::new(JoinType::Left))
        .with_columns(known)
        .select(out)
}
