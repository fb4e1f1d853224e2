//! The situation: one row per foyer with the inputs rules read, computed from the
//! accepted rows of the extract at the reference month M (docs/situation.md).
//!
//! One Polars lazy query: the members aggregated per foyer and joined on the foyers table
//! (in id order); the resources ([`ressources`]), the rights ([`droits`]) and the
//! comparison with last month's extract ([`precedent`]) computed in one pass over their
//! rows, one row per row of `foyers` in its order ([`Rangs`]), and stacked beside it.
//! Unknown stays unknown: a sum over months that are not all known is null, an absent
//! person's attribute is null.

mod droits;
mod precedent;
mod ressources;

use polars::prelude::*;
use reperage_rules::compile::PlanCache;
use reperage_rules::{Date, Mois};

use crate::extract::mois::{alive_on, date, month_index};
use crate::extract::schema::{PRESTATIONS, TYPES_EVENEMENT};
use crate::extract::{Extract, Table};

pub use droits::{MONTHLY, ONE_OFF, OVER_CSS_WINDOW};
use precedent::INPUTS as PRECEDENT_INPUTS;

const ID: &str = "id_foyer";

/// Age in whole months on `day` (a first of month). A month-only birth date counts as
/// the last day of its month (never overestimate an age); a birth after the 1st of its
/// month has not yet completed the current month.
fn age_mois_on(day: Date) -> Expr {
    let incomplete = col("date_naissance_jour_connu").not().or(col("date_naissance").dt().day().gt(lit(1)));
    (lit(day.mois().index()) - month_index("date_naissance") - when(incomplete).then(lit(1i32)).otherwise(lit(0i32)))
        .cast(DataType::Float64)
}

/// The number of rows of a group where `cond` holds.
fn count_if(cond: Expr) -> Expr {
    cond.cast(DataType::UInt32).sum()
}

/// `value` where `cond` holds, null elsewhere: aggregated (`sum`, `min`, `max`), the
/// aggregate of the rows where `cond` holds. An element-wise mask, not `filter`: in a
/// group-by, `filter` builds new groups for every aggregation, which cost more than the
/// aggregations themselves (docs/performance.md).
fn only_where(cond: Expr, value: Expr) -> Expr {
    when(cond).then(value).otherwise(lit(NULL))
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

/// Attributes of a member read from the `personnes` row, suffixed with the role.
const MEMBER_ATTRIBUTES: [&str; 8] = [
    "activite",
    "rsdae",
    "nationalite",
    "sejour_regulier_5ans",
    "sejour_regulier_10ans",
    "sejour_regulier",
    "revenu_n2",
    "revenus_activite_n2",
];

/// The attributes of the member with `role` (allocataire or conjoint), suffixed.
fn member(personnes: &LazyFrame, role: &str) -> LazyFrame {
    let mut cols = vec![
        col(ID),
        col("age_mois").alias(format!("age_{role}_mois")),
        col("age_janvier_mois").alias(format!("age_{role}_au_1er_janvier_mois")),
        col("taux_incapacite").cast(DataType::Float64).alias(format!("taux_incapacite_{role}")),
        col("enceinte").alias(format!("enceinte_{role}")),
    ];
    cols.extend(MEMBER_ATTRIBUTES.iter().map(|c| col(*c).alias(format!("{c}_{role}"))));
    personnes.clone().filter(col("role").eq(lit(role))).select(cols)
}

/// The children of each foyer by the ages the allocations familiales depend on, at M
/// (the benefit itself, rules/af.toml) and in each month M-k of the RSA's and the prime
/// d'activité's reference months (the part of the AF paid that month which is neither
/// age increase nor allocation forfaitaire): `nb_enfants_20ans`, `nb_enfants_14_19ans`,
/// `nb_enfants_18_19ans`, `nb_enfants_14_17ans_nes_avant_mars_2012` at M (the children
/// under 20 at M are `nb_enfants_moins_20ans`), and each with `_m{k}`,
/// `nb_enfants_moins_20ans_m{k}` too.
fn af_children_by_month() -> Vec<Expr> {
    let enfant = col("role").eq(lit("enfant"));
    // Children who turned 14 before 1 March 2026 keep the AF age increase at 14
    // (décret n° 2026-138): a cohort the law names, so it is counted here.
    let before_march_2012 = col("date_naissance").lt(date(Date::new(2012, 3, 1).map_or(0, Date::to_days)));
    let mut out = Vec::new();
    for (k, suffix) in af_children_months() {
        // The age at the first day of M-k: k months less than at M.
        let age = col("age_mois") - lit(f64::from(k));
        let aged = |from: f64, to: f64| enfant.clone().and(age.clone().gt_eq(lit(from))).and(age.clone().lt(lit(to)));
        if k > 0 {
            out.push(count_if(aged(0.0, 240.0)).alias(format!("nb_enfants_moins_20ans{suffix}")));
        }
        out.push(count_if(aged(240.0, 252.0)).alias(format!("nb_enfants_20ans{suffix}")));
        out.push(count_if(aged(168.0, 240.0)).alias(format!("nb_enfants_14_19ans{suffix}")));
        out.push(count_if(aged(216.0, 240.0)).alias(format!("nb_enfants_18_19ans{suffix}")));
        out.push(
            count_if(aged(168.0, 216.0).and(before_march_2012.clone()))
                .alias(format!("nb_enfants_14_17ans_nes_avant_mars_2012{suffix}")),
        );
    }
    out
}

/// The months [`af_children_by_month`] counts the children in: M (no suffix), then
/// each M-k (`_m{k}`).
fn af_children_months() -> impl Iterator<Item = (u32, String)> {
    (0..=ressources::MONTHS_BY_MONTH as u32).map(|k| (k, if k == 0 { String::new() } else { format!("_m{k}") }))
}

/// Names of the columns of `af_children_by_month`.
fn af_children_columns() -> Vec<String> {
    let mut out = Vec::new();
    for (k, suffix) in af_children_months() {
        for c in ["moins_20ans", "20ans", "14_19ans", "18_19ans", "14_17ans_nes_avant_mars_2012"] {
            if k > 0 || c != "moins_20ans" {
                out.push(format!("nb_enfants_{c}{suffix}"));
            }
        }
    }
    out
}

/// The month index (as [`month_index`]) of month `month` of `year`.
fn index_of(year: i32, month: u32) -> i32 {
    year * 12 + month as i32 - 1
}

/// The person was born after `day`; a birth date known to the month only counts as the
/// last day of that month, so that an age is never overestimated.
fn born_after(day: Date) -> Expr {
    let month = month_index("date_naissance");
    let same_month_later = col("date_naissance_jour_connu").not().or(col("date_naissance").dt().day().gt(lit(day.day)));
    month.clone().gt(lit(day.mois().index())).or(month.eq(lit(day.mois().index())).and(same_month_later))
}

/// The number of rows of a group where `cond` holds, unknown when it is unknown for one.
fn count_if_known(cond: Expr) -> Expr {
    when(cond.clone().null_count().gt(lit(0u32))).then(lit(NULL).cast(DataType::UInt32)).otherwise(count_if(cond))
}

/// The children of the foyer the allocation de rentrée scolaire of the school year that
/// starts in `mois`'s calendar year Y is due for, by the three amounts of D543-1 (R543-2):
/// from the child who turns 6 before 1 February Y+1 to the one not yet 18 on
/// 15 September Y; the amount rises with the age reached during year Y (11, 15). A child
/// 16 or more on 15 September must be in school or apprenticeship (`scolarise`); a
/// younger one is presumed to be (compulsory schooling, L131-1 code de l'éducation)
/// unless the extract says otherwise. Unknown schooling at 16 or more leaves the count
/// unknown.
fn rentree_children(mois: Mois) -> Vec<Expr> {
    let y = mois.year;
    let enfant = col("role").eq(lit("enfant"));
    let naissance = month_index("date_naissance");
    let born_in = |from: i32, to: i32| naissance.clone().gt_eq(lit(from)).and(naissance.clone().lt_eq(lit(to)));
    let day = |year: i32, month: u32, day: u32| Date::new(year, month, day).unwrap_or(mois.first_day());
    let seize_ans = born_after(day(y - 16, 9, 15)).not();
    let scolarise = when(col("scolarise").is_not_null())
        .then(col("scolarise"))
        .when(seize_ans)
        .then(lit(NULL).cast(DataType::Boolean))
        .otherwise(lit(true));
    let band = |ages: Expr| enfant.clone().and(ages).and(scolarise.clone());
    vec![
        count_if_known(band(born_in(index_of(y - 10, 1), index_of(y - 5, 1)))).alias("nb_enfants_rentree_6_10ans"),
        count_if_known(band(born_in(index_of(y - 14, 1), index_of(y - 11, 12)))).alias("nb_enfants_rentree_11_14ans"),
        count_if_known(band(naissance.clone().lt_eq(lit(index_of(y - 15, 12))).and(born_after(day(y - 18, 9, 15)))))
            .alias("nb_enfants_rentree_15_18ans"),
    ]
}

/// Counts over the members of each foyer.
fn counts(personnes: &LazyFrame, mois: Mois) -> LazyFrame {
    let enfant = col("role").eq(lit("enfant"));
    let age = col("age_mois");
    let child_aged =
        |from: f64, to: f64| count_if(enfant.clone().and(age.clone().gt_eq(lit(from))).and(age.clone().lt(lit(to))));
    let adult = col("role").eq(lit("allocataire")).or(col("role").eq(lit("conjoint")));
    let member_aged = |from: f64, to: f64| count_if(age.clone().gt_eq(lit(from)).and(age.clone().lt(lit(to))));
    // Children born from M-`to` to M-`from` (months of birth).
    let born_months_ago = |from: i32, to: i32| {
        let months = col("mois_depuis_naissance");
        count_if(enfant.clone().and(months.clone().gt_eq(lit(from))).and(months.lt_eq(lit(to))))
    };
    personnes
        .clone()
        .with_column(when(adult).then(col("enceinte")).otherwise(lit(false)).alias("enceinte_adulte"))
        .group_by([col(ID)])
        .agg(
            [
                len().alias("nb_personnes"),
                count_if(enfant.clone()).alias("nb_enfants"),
                only_where(enfant.clone(), age.clone()).min().alias("age_plus_jeune_enfant_mois"),
                only_where(enfant.clone(), col("date_naissance")).max().alias("date_naissance_plus_jeune_enfant"),
                child_aged(0.0, 36.0).alias("nb_enfants_moins_3ans"),
                // The allocation de base of the PAJE is due from the month after the
                // birth to the month before the third birthday (L531-3, D531-1).
                born_months_ago(1, 35).alias("nb_enfants_nes_m35_a_m1"),
                // The prime à la naissance may be claimed for two years (L553-1).
                born_months_ago(0, 23).alias("nb_enfants_nes_m23_a_m0"),
                child_aged(0.0, 240.0).alias("nb_enfants_moins_20ans"),
                // The complément familial: children in charge up to 21 (R522-1), those
                // of 3 or more who open it, and in the overseas regions those of 3 or 4
                // (L755-16, D755-6).
                child_aged(0.0, 252.0).alias("nb_enfants_moins_21ans"),
                child_aged(36.0, 252.0).alias("nb_enfants_3_20ans"),
                child_aged(36.0, 60.0).alias("nb_enfants_3_4ans"),
                child_aged(0.0, 300.0).alias("nb_enfants_moins_25ans"),
                count_if(col("role").eq(lit("autre"))).alias("nb_autres"),
                count_if(col("role").eq(lit("conjoint"))).alias("nb_conjoints"),
                member_aged(0.0, 360.0).alias("nb_membres_moins_30ans"),
                member_aged(360.0, 600.0).alias("nb_membres_30_49ans"),
                member_aged(600.0, 720.0).alias("nb_membres_50_59ans"),
                member_aged(720.0, 840.0).alias("nb_membres_60_69ans"),
                member_aged(840.0, f64::INFINITY).alias("nb_membres_70ans_et_plus"),
                any_kleene("enceinte_adulte").alias("enceinte"),
                count_if(age.clone().gt_eq(lit(192.0)).and(col("medecin_traitant").eq(lit(false))))
                    .alias("_sans_medecin"),
                count_if(age.clone().gt_eq(lit(192.0)).and(col("medecin_traitant").is_null()))
                    .alias("_medecin_inconnu"),
                count_if(col("complementaire_sante").eq(lit("aucune"))).alias("_sans_complementaire"),
                count_if(col("complementaire_sante").is_null()).alias("_complementaire_inconnue"),
            ]
            .into_iter()
            .chain(af_children_by_month())
            .chain(rentree_children(mois))
            .collect::<Vec<_>>(),
        )
}

/// The row of each foyer in the `foyers` table, by id: the per-foyer sums of
/// [`ressources`] and [`droits`] and the comparison of [`precedent`] are computed in
/// that order (one row per row of `foyers`), so that the query stacks them beside it
/// rather than joining them.
struct Rangs<'a> {
    foyers: &'a DataFrame,
    rang: PlHashMap<&'a str, u32>,
}

impl<'a> Rangs<'a> {
    fn new(foyers: &'a DataFrame) -> PolarsResult<Rangs<'a>> {
        let ids = foyers.column(ID)?.str()?;
        let mut rang = PlHashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(id) = id {
                // Validation refuses an id twice; were one left, its first row would count.
                rang.entry(id).or_insert(i as u32);
            }
        }
        Ok(Rangs { foyers, rang })
    }

    /// The `foyers` table the rows are those of.
    fn foyers(&self) -> &'a DataFrame {
        self.foyers
    }

    /// How many rows `foyers` has.
    fn len(&self) -> usize {
        self.foyers.height()
    }

    /// A lookup keeping the last id it was asked: a foyer's rows usually follow one
    /// another in a table.
    fn recherche<'k>(&self) -> Recherche<'_, 'a, 'k> {
        Recherche { rangs: self, dernier: None }
    }
}

/// Looks up foyer ids in [`Rangs`], the last answer kept.
struct Recherche<'r, 'a, 'k> {
    rangs: &'r Rangs<'a>,
    dernier: Option<(&'k str, Option<u32>)>,
}

impl<'k> Recherche<'_, '_, 'k> {
    /// The row of foyer `id` in `foyers`, if it has one.
    fn rang(&mut self, id: &'k str) -> Option<u32> {
        match self.dernier {
            Some((last, at)) if last == id => at,
            _ => {
                let at = self.rangs.rang.get(id).copied();
                self.dernier = Some((id, at));
                at
            }
        }
    }
}

fn strings<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<&'a StringChunked> {
    df.column(name)?.str()
}

/// A date column as its days since 1970-01-01.
fn days(df: &DataFrame, name: &str) -> PolarsResult<Int32Chunked> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.clone())
}

/// A column of one number per row of `rows`: `value` of each.
fn number_column<T>(name: String, rows: &[T], value: impl Fn(&T) -> Option<f64>) -> Column {
    let ca: Float64Chunked = rows.iter().map(value).collect_ca_trusted(name.into());
    ca.into_column()
}

/// A column of one date (days since 1970-01-01) per row of `rows`: `value` of each.
fn date_column<T>(name: String, rows: &[T], value: impl Fn(&T) -> Option<i32>) -> PolarsResult<Column> {
    let ca: Int32Chunked = rows.iter().map(value).collect_ca_trusted(name.into());
    ca.into_column().cast(&DataType::Date)
}

/// Builds the situation frame. Columns: `id_foyer`, `caisse`, `agence`, `commune`,
/// `qpv`, every input of rules/situation.toml, and `mois_ressources_inconnus` (the
/// unknown months of resources, named, for the reasons of undetermined results). With
/// last month's extract, the `precedent_*` inputs compare the two ([`precedent`]);
/// without, they are unknown.
///
/// One query over the tables and the sums computed in Rust, planned once for all the
/// pieces of an evaluation (`plans`, reperage_rules::compile::PlanCache).
pub fn build(extract: &Extract, previous: Option<&Extract>, mois: Mois, plans: &PlanCache) -> PolarsResult<DataFrame> {
    build_timed(extract, previous, mois, plans, &mut Temps::default())
}

/// Wall time spent in each part of [`build`], summed over the calls (benches/situation_cost).
#[derive(Debug, Default, Clone)]
pub struct Temps {
    pub ressources: std::time::Duration,
    pub droits: std::time::Duration,
    pub precedent: std::time::Duration,
    pub requete: std::time::Duration,
}

/// [`build`], adding the time of each part to `temps`.
pub fn build_timed(
    extract: &Extract,
    previous: Option<&Extract>,
    mois: Mois,
    plans: &PlanCache,
    temps: &mut Temps,
) -> PolarsResult<DataFrame> {
    let started = std::time::Instant::now();
    // Every output is in id order; rows are in file order, which an export need not keep.
    let foyers = in_id_order(extract.table(Table::Foyers))?;
    let rangs = Rangs::new(&foyers)?;
    let ressources = ressources::inputs(extract, mois, &rangs)?;
    let summed = std::time::Instant::now();
    let droits = droits::inputs(extract, mois, &rangs)?;
    let rights = std::time::Instant::now();
    let comparison = precedent::inputs(extract, previous, mois, &rangs)?;
    let compared = std::time::Instant::now();
    drop(rangs);
    let frames = vec![
        foyers,
        extract.table(Table::Personnes).clone(),
        extract.table(Table::Evenements).clone(),
        ressources,
        droits,
        comparison,
    ];
    let situation = plans.collect_all(frames, |lazy| query(lazy, mois));
    temps.ressources += summed - started;
    temps.droits += rights - summed;
    temps.precedent += compared - rights;
    temps.requete += compared.elapsed();
    situation
}

/// `foyers` sorted by id, not copied when it already is.
fn in_id_order(foyers: &DataFrame) -> PolarsResult<DataFrame> {
    let ids = strings(foyers, ID)?;
    let sorted = ids.iter().zip(ids.iter().skip(1)).all(|(a, b)| a <= b);
    if sorted { Ok(foyers.clone()) } else { foyers.sort([ID], SortMultipleOptions::default()) }
}

/// The situation's query over the frames [`build`] hands in: `foyers` (in id order),
/// `personnes`, `evenements`, and the resource sums, the rights sums and last month's
/// comparison, one row per row of `foyers` each, stacked beside it.
fn query(frames: Vec<LazyFrame>, mois: Mois) -> LazyFrame {
    // Six frames, as `build` hands them (an empty one would fail the query, never panic).
    let [foyers, personnes, evenements, ressources, droits, comparison] =
        frames.try_into().unwrap_or_else(|_| std::array::from_fn(|_| DataFrame::empty().lazy()));

    let end = mois.last_day().to_days();
    let m = mois.index();
    let janvier = Date::new(mois.year, 1, 1).unwrap_or(mois.first_day());

    let all_personnes = personnes;
    let personnes = all_personnes.clone().filter(alive_on(mois)).with_columns([
        age_mois_on(mois.first_day()).alias("age_mois"),
        age_mois_on(janvier).alias("age_janvier_mois"),
        (lit(m) - month_index("date_naissance")).alias("mois_depuis_naissance"),
    ]);

    let counts = counts(&personnes, mois);
    let deces = all_personnes.clone().filter(col("role").eq(lit("allocataire"))).group_by([col(ID)]).agg([count_if(
        col("date_deces").lt_eq(date(end)),
    )
    .gt(lit(0u32))
    .alias("_allocataire_decede")]);

    // Latest event of each type, up to the end of M.
    let event_aggs: Vec<Expr> = TYPES_EVENEMENT
        .iter()
        .map(|t| only_where(col("type").eq(lit(*t)), col("date")).max().alias(format!("date_derniere_{t}")))
        .collect();
    let evenements = evenements.filter(col("date").lt_eq(date(end))).group_by([col(ID)]).agg(event_aggs);

    // Left joins keeping the order of `foyers`, which the resource and rights sums
    // (one row per row of `foyers`) are computed in: they are stacked beside, not joined.
    let left = || {
        let mut args = JoinArgs::new(JoinType::Left);
        args.maintain_order = MaintainOrderJoin::Left;
        args
    };
    let joined = foyers
        .join(member(&personnes, "allocataire"), [col(ID)], [col(ID)], left())
        .join(member(&personnes, "conjoint"), [col(ID)], [col(ID)], left())
        .join(counts, [col(ID)], [col(ID)], left())
        .join(deces, [col(ID)], [col(ID)], left())
        .join(evenements, [col(ID)], [col(ID)], left());
    // Strict: frames of different heights fail the query rather than being padded.
    let stacked = HConcatOptions { strict: true, ..HConcatOptions::default() };
    let joined = match concat_lf_horizontal([joined, ressources, droits, comparison], stacked) {
        Ok(joined) => joined,
        // Only when given no frame; the query then fails when collected.
        Err(e) => DataFrame::empty().lazy().select([lit(e.to_string()).alias(ID)]),
    };

    let mut inputs = composition_inputs();
    inputs.extend(ressources_inputs());
    inputs.extend(droits_inputs());
    inputs.extend(member_counts_inputs());
    inputs.extend(PRECEDENT_INPUTS.map(col));
    inputs.extend(dossier_inputs(mois));
    // In id order: `foyers` is, and the joins keep its order.
    joined.select(inputs)
}

/// The foyer's ids and place, its composition, and its members' attributes.
fn composition_inputs() -> Vec<Expr> {
    let with_conjoint = col("nb_conjoints").fill_null(lit(0u32)).gt(lit(0u32));
    let mut inputs = vec![
        col(ID),
        col("caisse"),
        col("agence"),
        // Not a rule input: the landlord campaigns group the foyers by it.
        col("id_bailleur"),
        col("commune"),
        col("qpv"),
        col("age_allocataire_mois"),
        col("age_conjoint_mois"),
        col("age_allocataire_au_1er_janvier_mois"),
        col("age_conjoint_au_1er_janvier_mois"),
        with_conjoint.clone().alias("en_couple"),
        col("nb_personnes").fill_null(lit(0u32)).cast(DataType::Float64),
        col("enceinte"),
        col("age_plus_jeune_enfant_mois"),
        col("date_naissance_plus_jeune_enfant"),
    ];
    for c in [
        "nb_enfants",
        "nb_enfants_moins_3ans",
        "nb_enfants_nes_m35_a_m1",
        "nb_enfants_nes_m23_a_m0",
        "nb_enfants_moins_20ans",
        "nb_enfants_moins_21ans",
        "nb_enfants_3_20ans",
        "nb_enfants_3_4ans",
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
    for c in af_children_columns() {
        inputs.push(col(c.as_str()).fill_null(lit(0u32)).cast(DataType::Float64));
    }
    // Unknown when a child's schooling is; 0 for a foyer without members.
    for c in ["nb_enfants_rentree_6_10ans", "nb_enfants_rentree_11_14ans", "nb_enfants_rentree_15_18ans"] {
        inputs.push(
            when(col("nb_personnes").is_null()).then(lit(0.0)).otherwise(col(c).cast(DataType::Float64)).alias(c),
        );
    }
    for role in ["allocataire", "conjoint"] {
        inputs.push(col(format!("taux_incapacite_{role}")));
        for c in MEMBER_ATTRIBUTES {
            inputs.push(col(format!("{c}_{role}")));
        }
    }
    inputs.push(
        (col("revenu_n2_allocataire")
            + when(with_conjoint.clone()).then(col("revenu_n2_conjoint")).otherwise(lit(0.0)))
        .alias("revenu_n2_foyer"),
    );

    inputs
}

/// The resource sums ([`ressources`]), over windows and month by month.
fn ressources_inputs() -> Vec<Expr> {
    let mut inputs = Vec::new();
    inputs.extend(RESSOURCES_INPUTS.iter().map(|c| col(*c)));
    inputs.extend(ressources::inputs_par_membre().into_iter().map(col));
    for k in 1..=ressources::MONTHS_BY_MONTH {
        for c in [
            "ressources_m{k}_foyer",
            "ressources_m{k}_bourse",
            "ressources_m{k}_pension_alimentaire",
            "ressources_m{k}_autres",
            "revenus_activite_m{k}_allocataire",
            "revenus_activite_m{k}_conjoint",
        ] {
            inputs.push(col(c.replace("{k}", &k.to_string())));
        }
    }
    inputs.push(col("mois_ressources_inconnus"));

    inputs
}

/// The rights in payment and paid ([`droits`]), and the latest event of each type.
fn droits_inputs() -> Vec<Expr> {
    let mut inputs = Vec::new();
    for code in PRESTATIONS {
        for c in ["en_paiement", "montant_verse", "date_debut", "date_fin"] {
            inputs.push(col(format!("{code}_{c}")));
        }
    }
    for code in MONTHLY {
        for k in 1..=ressources::MONTHS_BY_MONTH {
            inputs.push(col(format!("{code}_montant_m{k}")));
        }
    }
    for code in ONE_OFF {
        inputs.push(col(format!("{code}_date_dernier_versement")));
    }
    for code in OVER_CSS_WINDOW {
        inputs.push(col(format!("{code}_montant_m13_m2")));
        inputs.push(col(format!("{code}_mois_m13_m2")));
    }
    for role in ["allocataire", "conjoint"] {
        inputs.push(col(format!("aah_montant_3m_{role}")));
        inputs.push(col(format!("asi_montant_m1_{role}")));
    }
    inputs.push(col("date_fin_droit_prochaine"));
    for t in TYPES_EVENEMENT {
        inputs.push(col(format!("date_derniere_{t}")));
    }
    inputs
}

/// Counts of members without a doctor or a complementary health cover, and the
/// allocataire's death.
fn member_counts_inputs() -> Vec<Expr> {
    let mut inputs = Vec::new();
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
    inputs
}

/// The dwelling, the dossier and the channels, as of the end of `mois`.
fn dossier_inputs(mois: Mois) -> Vec<Expr> {
    let end = mois.last_day().to_days();
    let m = mois.index();
    vec![
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
    ]
}

/// Resource inputs over windows (crate::situation::ressources), besides the per-month ones.
const RESSOURCES_INPUTS: &[&str] = &[
    "mois_connus_3m",
    "mois_connus_m13_m2",
    "ressources_3m_foyer",
    "ressources_3m_autres",
    "ressources_3m_couple",
    "ressources_m13_m2_foyer",
    "ressources_m13_m2_autres",
    "pensions_alimentaires_m13_m2_couple",
    "revenus_activite_3m_allocataire",
    "revenus_activite_3m_conjoint",
    "ressources_3m_salaire",
    "ressources_3m_independant",
    "ressources_3m_chomage",
    "ressources_3m_indemnites_journalieres",
    "ressources_3m_retraite",
    "ressources_3m_invalidite",
    "ressources_3m_pension_alimentaire",
    "ressources_3m_bourse",
    "ressources_3m_autre",
    "ressources_3m_couple_pensions",
    "ressources_3m_couple_pensions_brut",
    "revenus_activite_3m_couple",
    "revenus_activite_3m_couple_brut",
];

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
