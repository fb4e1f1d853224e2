//! The situation: one row per foyer with the inputs rules read, computed from the
//! accepted rows of the extract at the reference month M (docs/situation.md).
//!
//! One Polars lazy query: each table is aggregated per foyer, then everything is joined
//! on the foyers table. Unknown stays unknown: a sum over months that are not all known
//! is null, an absent person's attribute is null.

use polars::prelude::*;
use reperage_rules::Mois;

use crate::extract::schema::{NATURES, PRESTATIONS, TYPES_EVENEMENT};
use crate::extract::{Extract, Table};
use crate::precedent;

const ID: &str = "id_foyer";

fn month_index(c: &str) -> Expr {
    col(c).dt().year().cast(DataType::Int32) * lit(12i32) + col(c).dt().month().cast(DataType::Int32) - lit(1i32)
}

/// Age in whole months on the first day of M. A month-only birth date counts as the
/// last day of its month (never overestimate an age); a birth after the 1st of its
/// month has not yet completed the current month.
fn age_mois(mois: Mois) -> Expr {
    let incomplete = col("date_naissance_jour_connu").not().or(col("date_naissance").dt().day().gt(lit(1)));
    (lit(mois.index()) - month_index("date_naissance") - when(incomplete).then(lit(1i32)).otherwise(lit(0i32)))
        .cast(DataType::Float64)
}

fn count_if(cond: Expr) -> Expr {
    cond.cast(DataType::UInt32).sum()
}

/// `any` in three-valued logic over a group: true if one is true, unknown if none is
/// true and one is unknown, false otherwise.
fn any_kleene(c: &str) -> Expr {
    let trues = col(c).eq(lit(true)).cast(DataType::UInt32).sum();
    let nulls = col(c).null_count();
    when(trues.gt(lit(0u32)))
        .then(lit(true))
        .when(nulls.gt(lit(0u32)))
        .then(lit(NULL).cast(DataType::Boolean))
        .otherwise(lit(false))
}

/// The attributes of the member with `role` (allocataire or conjoint), suffixed.
fn member(personnes: &LazyFrame, role: &str) -> LazyFrame {
    let s = |c: &str| format!("{c}_{role}");
    personnes.clone().filter(col("role").eq(lit(role))).select([
        col(ID),
        col("age_mois").alias(format!("age_{role}_mois")),
        col("activite").alias(s("activite")),
        col("taux_incapacite").cast(DataType::Float64).alias(s("taux_incapacite")),
        col("rsdae").alias(s("rsdae")),
        col("nationalite").alias(s("nationalite")),
        col("sejour_regulier_5ans").alias(s("sejour_regulier_5ans")),
        col("sejour_regulier_10ans").alias(s("sejour_regulier_10ans")),
        col("revenu_n2").alias(s("revenu_n2")),
        col("enceinte").alias(s("enceinte")),
    ])
}

fn date(days: i32) -> Expr {
    lit(days).cast(DataType::Date)
}

/// A person of the `personnes` table is alive on the first day of `mois`.
pub(crate) fn alive_on(mois: Mois) -> Expr {
    col("date_deces").is_null().or(col("date_deces").gt_eq(date(mois.first_day().to_days())))
}

/// A row of the `droits` table is in payment for `mois` (docs/extract.md).
pub(crate) fn in_payment(mois: Mois) -> Expr {
    col("date_debut")
        .lt_eq(date(mois.last_day().to_days()))
        .and(col("date_fin").is_null().or(col("date_fin").gt_eq(date(mois.first_day().to_days()))))
}

/// Builds the situation frame. Columns: `id_foyer`, `caisse`, `agence`, `commune`,
/// `qpv`, then every input of rules/situation.toml. With last month's extract, the
/// `precedent_*` inputs compare the two (crate::precedent); without, they are unknown.
pub fn build(extract: &Extract, previous: Option<&Extract>, mois: Mois) -> LazyFrame {
    let end = mois.last_day().to_days();
    let m = mois.index();

    let all_personnes = extract.table(Table::Personnes).clone().lazy();
    let personnes = all_personnes.clone().filter(alive_on(mois)).with_column(age_mois(mois).alias("age_mois"));

    let allocataire = member(&personnes, "allocataire");
    let conjoint = member(&personnes, "conjoint");
    let enfant = col("role").eq(lit("enfant"));
    let age = col("age_mois");
    let adult = col("role").eq(lit("allocataire")).or(col("role").eq(lit("conjoint")));
    let counts = personnes
        .clone()
        .with_column(when(adult).then(col("enceinte")).otherwise(lit(false)).alias("enceinte_adulte"))
        .group_by([col(ID)])
        .agg([
            len().alias("nb_personnes"),
            count_if(enfant.clone()).alias("nb_enfants"),
            age.clone().filter(enfant.clone()).min().alias("age_plus_jeune_enfant_mois"),
            count_if(enfant.clone().and(age.clone().lt(lit(36.0)))).alias("nb_enfants_moins_3ans"),
            count_if(enfant.clone().and(age.clone().lt(lit(240.0)))).alias("nb_enfants_moins_20ans"),
            count_if(enfant.clone().and(age.clone().lt(lit(300.0)))).alias("nb_enfants_moins_25ans"),
            count_if(col("role").eq(lit("autre"))).alias("nb_autres"),
            count_if(col("role").eq(lit("conjoint"))).alias("nb_conjoints"),
            count_if(age.clone().lt(lit(360.0))).alias("nb_membres_moins_30ans"),
            count_if(age.clone().gt_eq(lit(360.0)).and(age.clone().lt(lit(600.0)))).alias("nb_membres_30_49ans"),
            count_if(age.clone().gt_eq(lit(600.0)).and(age.clone().lt(lit(720.0)))).alias("nb_membres_50_59ans"),
            count_if(age.clone().gt_eq(lit(720.0)).and(age.clone().lt(lit(840.0)))).alias("nb_membres_60_69ans"),
            count_if(age.clone().gt_eq(lit(840.0))).alias("nb_membres_70ans_et_plus"),
            any_kleene("enceinte_adulte").alias("enceinte"),
            count_if(age.clone().gt_eq(lit(192.0)).and(col("medecin_traitant").eq(lit(false)))).alias("_sans_medecin"),
            count_if(age.clone().gt_eq(lit(192.0)).and(col("medecin_traitant").is_null())).alias("_medecin_inconnu"),
            count_if(col("complementaire_sante").eq(lit("aucune"))).alias("_sans_complementaire"),
            count_if(col("complementaire_sante").is_null()).alias("_complementaire_inconnue"),
        ]);
    let deces = all_personnes.clone().filter(col("role").eq(lit("allocataire"))).group_by([col(ID)]).agg([count_if(
        col("date_deces").lt_eq(date(end)),
    )
    .gt(lit(0u32))
    .alias("_allocataire_decede")]);

    // Resources of the 12 months before M, with the person's foyer and role.
    let ressources = extract
        .table(Table::Ressources)
        .clone()
        .lazy()
        .with_column(month_index("mois").alias("mois_idx"))
        .filter(col("mois_idx").gt_eq(lit(m - 12)).and(col("mois_idx").lt(lit(m))))
        .join(
            all_personnes.clone().select([col("id_personne"), col(ID), col("role")]),
            [col("id_personne")],
            [col("id_personne")],
            JoinArgs::new(JoinType::Inner),
        );
    let in3 = col("mois_idx").gt_eq(lit(m - 3));
    let activite = col("nature").eq(lit("salaire")).or(col("nature").eq(lit("independant")));
    let is_role = |role: &str| col("role").eq(lit(role.to_string()));
    let autre = is_role("autre");
    // Sum of the amounts of the rows that meet `cond`, as column `name`.
    let sum_where = |cond: Expr, name: String| col("montant").filter(cond).sum().alias(name);
    let mut sums = vec![
        sum_where(in3.clone(), "_s3".into()),
        col("montant").sum().alias("_s12"),
        sum_where(in3.clone().and(autre.clone()), "_s3_autres".into()),
        sum_where(autre.clone(), "_s12_autres".into()),
    ];
    for n in NATURES {
        sums.push(sum_where(in3.clone().and(col("nature").eq(lit(*n))), format!("_s3_{n}")));
    }
    for role in ["allocataire", "conjoint"] {
        sums.push(sum_where(in3.clone().and(activite.clone()).and(is_role(role)), format!("_act3_{role}")));
    }
    // Each of the three months before M, for benefits computed month by month (PPA).
    for k in 1..=3 {
        let this = col("mois_idx").eq(lit(m - k));
        sums.push(sum_where(this.clone(), format!("_s_m{k}")));
        sums.push(sum_where(this.clone().and(col("nature").eq(lit("bourse"))), format!("_s_m{k}_bourse")));
        sums.push(sum_where(this.clone().and(autre.clone()), format!("_s_m{k}_autres")));
        for role in ["allocataire", "conjoint"] {
            sums.push(sum_where(this.clone().and(activite.clone()).and(is_role(role)), format!("_act_m{k}_{role}")));
        }
    }
    let sums = ressources.clone().group_by([col(ID)]).agg(sums);

    // A month is known when the allocataire, and the conjoint if any, have a row for it.
    let known = ressources
        .filter(col("role").eq(lit("allocataire")).or(col("role").eq(lit("conjoint"))))
        .group_by([col(ID), col("mois_idx")])
        .agg([
            count_if(col("role").eq(lit("allocataire"))).gt(lit(0u32)).alias("_a"),
            count_if(col("role").eq(lit("conjoint"))).gt(lit(0u32)).alias("_c"),
        ])
        .join(
            counts.clone().select([col(ID), col("nb_conjoints")]),
            [col(ID)],
            [col(ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_column(col("_a").and(col("nb_conjoints").eq(lit(0u32)).or(col("_c"))).alias("_known"))
        .group_by([col(ID)])
        .agg([
            count_if(col("_known").and(col("mois_idx").gt_eq(lit(m - 3)))).alias("_k3"),
            count_if(col("_known")).alias("_k12"),
            count_if(col("_known").and(col("mois_idx").eq(lit(m - 1)))).alias("_k_m1"),
            count_if(col("_known").and(col("mois_idx").eq(lit(m - 2)))).alias("_k_m2"),
            count_if(col("_known").and(col("mois_idx").eq(lit(m - 3)))).alias("_k_m3"),
        ]);

    // Rights in payment for M.
    let mut droit_aggs = Vec::new();
    for code in PRESTATIONS {
        let this = col("prestation").eq(lit(*code));
        droit_aggs.push(count_if(this.clone()).gt(lit(0u32)).alias(format!("{code}_en_paiement")));
        droit_aggs.push(col("date_debut").filter(this.clone()).max().alias(format!("{code}_date_debut")));
        droit_aggs.push(
            when(col("montant_mensuel").filter(this.clone()).null_count().gt(lit(0u32)))
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise(col("montant_mensuel").filter(this).sum())
                .alias(format!("_{code}_montant")),
        );
    }
    droit_aggs.push(col("date_fin").min().alias("date_fin_droit_prochaine"));
    let droits =
        extract.table(Table::Droits).clone().lazy().filter(in_payment(mois)).group_by([col(ID)]).agg(droit_aggs);

    // Latest event of each type, up to the end of M.
    let event_aggs: Vec<Expr> = TYPES_EVENEMENT
        .iter()
        .map(|t| col("date").filter(col("type").eq(lit(*t))).max().alias(format!("date_derniere_{t}")))
        .collect();
    let evenements = extract
        .table(Table::Evenements)
        .clone()
        .lazy()
        .filter(col("date").lt_eq(date(end)))
        .group_by([col(ID)])
        .agg(event_aggs);

    let left = || JoinArgs::new(JoinType::Left);
    let comparison = match previous {
        Some(prev) => precedent::compare(extract, prev, mois),
        None => {
            let unknown = precedent::INPUTS.map(|c| lit(NULL).cast(DataType::Boolean).alias(c));
            extract.table(Table::Foyers).clone().lazy().select([col(ID)]).with_columns(unknown)
        }
    };
    let joined = extract
        .table(Table::Foyers)
        .clone()
        .lazy()
        .join(allocataire, [col(ID)], [col(ID)], left())
        .join(conjoint, [col(ID)], [col(ID)], left())
        .join(counts, [col(ID)], [col(ID)], left())
        .join(deces, [col(ID)], [col(ID)], left())
        .join(sums, [col(ID)], [col(ID)], left())
        .join(known, [col(ID)], [col(ID)], left())
        .join(droits, [col(ID)], [col(ID)], left())
        .join(evenements, [col(ID)], [col(ID)], left())
        .join(comparison, [col(ID)], [col(ID)], left());

    let k3 = col("_k3").fill_null(lit(0u32));
    let k12 = col("_k12").fill_null(lit(0u32));
    let known3 = |e: Expr| {
        when(k3.clone().eq(lit(3u32))).then(e.fill_null(lit(0.0))).otherwise(lit(NULL).cast(DataType::Float64))
    };
    let mut inputs = vec![
        col(ID),
        col("caisse"),
        col("agence"),
        col("commune"),
        col("qpv"),
        col("age_allocataire_mois"),
        col("age_conjoint_mois"),
        col("nb_conjoints").fill_null(lit(0u32)).gt(lit(0u32)).alias("en_couple"),
        col("nb_personnes").fill_null(lit(0u32)).cast(DataType::Float64),
        col("enceinte"),
        col("age_plus_jeune_enfant_mois"),
    ];
    for c in [
        "nb_enfants",
        "nb_enfants_moins_3ans",
        "nb_enfants_moins_20ans",
        "nb_enfants_moins_25ans",
        "nb_autres",
        "nb_membres_moins_30ans",
        "nb_membres_30_49ans",
        "nb_membres_50_59ans",
        "nb_membres_60_69ans",
        "nb_membres_70ans_et_plus",
    ] {
        inputs.push(col(c).fill_null(lit(0u32)).cast(DataType::Float64));
    }
    for role in ["allocataire", "conjoint"] {
        for c in
            ["activite", "taux_incapacite", "rsdae", "nationalite", "sejour_regulier_5ans", "sejour_regulier_10ans"]
        {
            inputs.push(col(format!("{c}_{role}")));
        }
    }
    inputs.push(
        (col("revenu_n2_allocataire")
            + when(col("nb_conjoints").gt(lit(0u32))).then(col("revenu_n2_conjoint")).otherwise(lit(0.0)))
        .alias("revenu_n2_foyer"),
    );
    inputs.push(k3.clone().cast(DataType::Float64).alias("mois_connus_3m"));
    inputs.push(k12.clone().cast(DataType::Float64).alias("mois_connus_12m"));
    inputs.push(known3(col("_s3")).alias("ressources_3m_foyer"));
    let known12 = |e: Expr| {
        when(k12.clone().eq(lit(12u32))).then(e.fill_null(lit(0.0))).otherwise(lit(NULL).cast(DataType::Float64))
    };
    inputs.push(known12(col("_s12")).alias("ressources_12m_foyer"));
    inputs.push(known3(col("_s3_autres")).alias("ressources_3m_autres"));
    inputs.push(known12(col("_s12_autres")).alias("ressources_12m_autres"));
    for n in NATURES {
        inputs.push(known3(col(format!("_s3_{n}"))).alias(format!("ressources_3m_{n}")));
    }
    inputs.push(known3(col("_act3_allocataire")).alias("revenus_activite_3m_allocataire"));
    inputs.push(
        when(col("nb_conjoints").fill_null(lit(0u32)).gt(lit(0u32)))
            .then(known3(col("_act3_conjoint")))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("revenus_activite_3m_conjoint"),
    );
    let with_conjoint = col("nb_conjoints").fill_null(lit(0u32)).gt(lit(0u32));
    for k in 1..=3 {
        let known = |e: Expr| {
            when(col(format!("_k_m{k}")).fill_null(lit(0u32)).eq(lit(1u32)))
                .then(e.fill_null(lit(0.0)))
                .otherwise(lit(NULL).cast(DataType::Float64))
        };
        inputs.push(known(col(format!("_s_m{k}"))).alias(format!("ressources_m{k}_foyer")));
        inputs.push(known(col(format!("_s_m{k}_bourse"))).alias(format!("ressources_m{k}_bourse")));
        inputs.push(known(col(format!("_s_m{k}_autres"))).alias(format!("ressources_m{k}_autres")));
        inputs.push(known(col(format!("_act_m{k}_allocataire"))).alias(format!("revenus_activite_m{k}_allocataire")));
        inputs.push(
            when(with_conjoint.clone())
                .then(known(col(format!("_act_m{k}_conjoint"))))
                .otherwise(lit(NULL).cast(DataType::Float64))
                .alias(format!("revenus_activite_m{k}_conjoint")),
        );
    }
    for code in PRESTATIONS {
        let flag = col(format!("{code}_en_paiement")).fill_null(lit(false));
        inputs.push(flag.clone().alias(format!("{code}_en_paiement")));
        inputs.push(
            when(flag).then(col(format!("_{code}_montant"))).otherwise(lit(0.0)).alias(format!("{code}_montant_verse")),
        );
        inputs.push(col(format!("{code}_date_debut")));
    }
    inputs.push(col("date_fin_droit_prochaine"));
    for t in TYPES_EVENEMENT {
        inputs.push(col(format!("date_derniere_{t}")));
    }
    // A count that is 0 while some members' answer is unknown is unknown.
    let count_or_unknown = |count: &str, unknown: &str| {
        when(col(count).fill_null(lit(0u32)).eq(lit(0u32)).and(col(unknown).fill_null(lit(0u32)).gt(lit(0u32))))
            .then(lit(NULL).cast(DataType::Float64))
            .otherwise(col(count).fill_null(lit(0u32)).cast(DataType::Float64))
    };
    inputs.push(count_or_unknown("_sans_medecin", "_medecin_inconnu").alias("nb_membres_16ans_sans_medecin_traitant"));
    inputs.push(
        count_or_unknown("_sans_complementaire", "_complementaire_inconnue").alias("nb_membres_sans_complementaire"),
    );
    inputs.push(col("_allocataire_decede").fill_null(lit(false)).alias("allocataire_decede"));
    inputs.extend(precedent::INPUTS.map(col));
    inputs.extend([
        col("statut_logement"),
        col("loyer"),
        col("zone_logement").cast(DataType::Float64),
        col("logement_conventionne"),
        col("colocation"),
        col("qpv").is_not_null().alias("en_qpv"),
        territoire(col("commune")).alias("territoire"),
        col("suivi_social"),
        col("declaration_annuelle"),
        (lit(m) - month_index("dtr_derniere")).cast(DataType::Float64).alias("mois_depuis_derniere_dtr"),
        col("opposition_contact"),
        col("canal_telephone"),
        col("canal_sms"),
        col("canal_email"),
        col("canal_courrier"),
        col("date_cloture").is_not_null().and(col("date_cloture").lt_eq(date(end))).alias("dossier_clos"),
    ]);
    joined.select(inputs).sort([ID], SortMultipleOptions::default())
}

/// The territory of an INSEE commune code: the overseas regions (971 to 974) and Mayotte
/// (976) have rules of their own; the other overseas collectivities count as `autre_outre_mer`.
fn territoire(commune: Expr) -> Expr {
    let prefix = |p: &str| commune.clone().str().starts_with(lit(p.to_string()));
    when(commune.clone().is_null())
        .then(lit(NULL).cast(DataType::String))
        .when(prefix("971").or(prefix("972")).or(prefix("973")).or(prefix("974")))
        .then(lit("drom"))
        .when(prefix("976"))
        .then(lit("mayotte"))
        .when(prefix("97").or(prefix("98")))
        .then(lit("autre_outre_mer"))
        .otherwise(lit("metropole"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territoire_follows_the_commune_code() {
        let communes = Series::new(
            "commune".into(),
            [Some("93008"), Some("2A004"), Some("97411"), Some("97105"), Some("97608"), Some("97502"), None],
        );
        let df = DataFrame::new_infer_height(vec![communes.into()])
            .and_then(|df| df.lazy().select([territoire(col("commune")).alias("t")]).collect())
            .expect("evaluates");
        let got: Vec<Option<&str>> = df.column("t").expect("column").str().expect("text").iter().collect();
        assert_eq!(
            got,
            [
                Some("metropole"),
                Some("metropole"),
                Some("drom"),
                Some("drom"),
                Some("mayotte"),
                Some("autre_outre_mer"),
                None
            ]
        );
    }
}
