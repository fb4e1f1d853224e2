//! Rights inputs of the situation, from the `droits` table (docs/situation.md).
//!
//! The table is authoritative: no row means no right. A right counts in a month when it
//! is in payment that month (`date_debut` ≤ its last day, `date_fin` empty or ≥ its
//! first day), with its `montant_mensuel` (successive rows of a right give each month its
//! own amount); an amount in payment without `montant_mensuel` is unknown.

use polars::prelude::*;
use reperage_rules::{Date, Mois};

use crate::extract::schema::PRESTATIONS;
use crate::extract::{Extract, Table};

const ID: &str = "id_foyer";

/// Benefits counted as resources month by month (RSA, prime d'activité): one input
/// `<code>_montant_m<k>` per month M-k, k = 1 … 4.
pub const MONTHLY: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

/// Benefits counted over the CSS window M-13 … M-2: `<code>_montant_m13_m2` (the sum of
/// the monthly amounts) and `<code>_mois_m13_m2` (months in payment).
pub const OVER_CSS_WINDOW: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

const BY_MONTH: usize = super::ressources::MONTHS_BY_MONTH as usize;

/// A sum of amounts that is unknown as soon as one of its rows has no amount (a right in
/// payment without `montant_mensuel`), and 0 without any row.
#[derive(Clone, Copy, Default)]
struct Montant {
    somme: f64,
    inconnus: u32,
}

impl Montant {
    fn add(&mut self, montant: Option<f64>, fois: f64) {
        match montant {
            Some(m) => self.somme += m * fois,
            None => self.inconnus += 1,
        }
    }

    fn value(self) -> Option<f64> {
        (self.inconnus == 0).then_some(self.somme)
    }
}

/// One benefit's rows of a foyer.
#[derive(Clone, Default)]
struct Prestation {
    /// Rows in payment in M; the latest start among them; the latest end, and how many
    /// have none (open-ended); their amount.
    en_paiement: u32,
    debut: Option<i32>,
    fin: Option<i32>,
    sans_fin: u32,
    montant: Montant,
    /// The amount in payment in each month M-k, k = 1 … 4.
    par_mois: [Montant; BY_MONTH],
    /// Over the CSS window M-13 … M-2: the amounts times the months in payment, and the
    /// months.
    css: Montant,
    css_mois: i64,
}

/// The rights of one foyer.
#[derive(Default)]
struct Droits {
    /// The benefits it has rows of (an index of `PRESTATIONS`, most foyers one or two):
    /// a foyer holds only those, not the dozens it has none of.
    prestations: Vec<(usize, Prestation)>,
    /// The AAH in payment in M-3 … M-1 (its monthly amount times its months there) of the
    /// allocataire and of the conjoint; rows that say not whose it is.
    aah_3m: [Montant; 2],
    aah_sans_role: u32,
    /// The earliest end of a right in payment in M.
    fin_prochaine: Option<i32>,
}

impl Droits {
    /// The rows of benefit `c` (an index of `PRESTATIONS`) so far.
    fn prestation(&mut self, c: usize) -> &mut Prestation {
        let at = match self.prestations.iter().position(|(code, _)| *code == c) {
            Some(at) => at,
            None => {
                self.prestations.push((c, Prestation::default()));
                self.prestations.len() - 1
            }
        };
        &mut self.prestations[at].1
    }

    /// The rows of benefit `c`, none if it has no row.
    fn of(&self, c: usize) -> Option<&Prestation> {
        self.prestations.iter().find(|(code, _)| *code == c).map(|(_, p)| p)
    }
}

fn later(a: Option<i32>, b: i32) -> Option<i32> {
    Some(a.map_or(b, |a| a.max(b)))
}

fn month_of(days: i32) -> i32 {
    Date::from_days(days).mois().index()
}

fn strings<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<&'a StringChunked> {
    df.column(name)?.str()
}

/// A date column as its days since 1970-01-01.
fn days(df: &DataFrame, name: &str) -> PolarsResult<Int32Chunked> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.clone())
}

/// Per foyer with rights: `id_foyer` and the rights inputs; a foyer without any row is
/// absent (the caller fills in "no right").
///
/// One pass over the rows, each foyer's in file order, not a Polars group-by of its 130
/// masked aggregations (docs/performance.md).
pub fn inputs(extract: &Extract, mois: Mois) -> PolarsResult<DataFrame> {
    let m = mois.index();
    // Whose each person is (the AAH is per person).
    let personnes = extract.table(Table::Personnes);
    let mut roles: PlHashMap<&str, &str> = PlHashMap::with_capacity(personnes.height());
    for (id, role) in strings(personnes, "id_personne")?.iter().zip(strings(personnes, "role")?.iter()) {
        if let (Some(id), Some(role)) = (id, role) {
            roles.entry(id).or_insert(role);
        }
    }
    let monthly: Vec<bool> = PRESTATIONS.iter().map(|c| MONTHLY.contains(c)).collect();
    let css: Vec<bool> = PRESTATIONS.iter().map(|c| OVER_CSS_WINDOW.contains(c)).collect();
    let aah = PRESTATIONS.iter().position(|c| *c == "aah");

    let droits = extract.table(Table::Droits);
    let (debut, fin) = (days(droits, "date_debut")?, days(droits, "date_fin")?);
    let rows = strings(droits, ID)?
        .iter()
        .zip(strings(droits, "id_personne")?.iter())
        .zip(strings(droits, "prestation")?.iter())
        .zip(debut.iter().zip(fin.iter()))
        .zip(droits.column("montant_mensuel")?.f64()?.iter());
    let mut ids: Vec<&str> = Vec::new();
    let mut rang: PlHashMap<&str, usize> = PlHashMap::new();
    let mut foyers: Vec<Droits> = Vec::new();
    let mut dernier: Option<(&str, usize)> = None;
    for ((((foyer, personne), code), (debut, fin)), montant) in rows {
        let (Some(foyer), Some(code), Some(debut)) = (foyer, code, debut) else { continue };
        let Some(c) = PRESTATIONS.iter().position(|p| *p == code) else { continue };
        // A foyer's rows usually follow one another: the last lookup is kept.
        let at = match dernier {
            Some((last, at)) if last == foyer => at,
            _ => {
                let at = *rang.entry(foyer).or_insert_with(|| {
                    ids.push(foyer);
                    foyers.push(Droits::default());
                    foyers.len() - 1
                });
                dernier = Some((foyer, at));
                at
            }
        };
        let droits = &mut foyers[at];
        let (debut_mois, fin_mois) = (month_of(debut), fin.map(month_of));
        // In payment in the month of index `j`.
        let paye = |j: i32| debut_mois <= j && fin_mois.is_none_or(|f| f >= j);
        if paye(m)
            && let Some(f) = fin
        {
            droits.fin_prochaine = Some(droits.fin_prochaine.map_or(f, |n| n.min(f)));
        }
        let p = droits.prestation(c);
        if paye(m) {
            p.en_paiement += 1;
            p.debut = later(p.debut, debut);
            match fin {
                Some(f) => p.fin = later(p.fin, f),
                None => p.sans_fin += 1,
            }
            p.montant.add(montant, 1.0);
        }
        if monthly[c] {
            for (k, par_mois) in p.par_mois.iter_mut().enumerate() {
                if paye(m - 1 - k as i32) {
                    par_mois.add(montant, 1.0);
                }
            }
        }
        let n_css = (fin_mois.unwrap_or(i32::MAX).min(m - 2) - debut_mois.max(m - 13) + 1).max(0);
        if css[c] && n_css > 0 {
            p.css.add(montant, f64::from(n_css));
            p.css_mois += i64::from(n_css);
        }
        if Some(c) == aah {
            let months = (1..=3).filter(|&k| paye(m - k)).count();
            if months > 0 {
                match personne.and_then(|p| roles.get(p)) {
                    None => droits.aah_sans_role += 1,
                    Some(&"allocataire") => droits.aah_3m[0].add(montant, months as f64),
                    Some(&"conjoint") => droits.aah_3m[1].add(montant, months as f64),
                    Some(_) => {}
                }
            }
        }
    }
    frame(&ids, &foyers)
}

/// The frame of the inputs, one row per foyer with rights.
fn frame(ids: &[&str], foyers: &[Droits]) -> PolarsResult<DataFrame> {
    let mut columns: Vec<Column> = vec![StringChunked::from_iter_values(ID.into(), ids.iter().copied()).into_column()];
    let number = |name: String, values: Vec<Option<f64>>| {
        Float64Chunked::from_iter_options(name.into(), values.into_iter()).into_column()
    };
    let date = |name: String, values: Vec<Option<i32>>| -> PolarsResult<Column> {
        Int32Chunked::from_iter_options(name.into(), values.into_iter()).into_column().cast(&DataType::Date)
    };
    let none = Prestation::default();
    for (c, code) in PRESTATIONS.iter().enumerate() {
        let these: Vec<&Prestation> = foyers.iter().map(|d| d.of(c).unwrap_or(&none)).collect();
        let en_paiement = these.iter().map(|p| Some(p.en_paiement > 0));
        columns
            .push(BooleanChunked::from_iter_options(format!("{code}_en_paiement").into(), en_paiement).into_column());
        columns.push(date(format!("{code}_date_debut"), these.iter().map(|p| p.debut).collect())?);
        // The end of the right in payment: unknown (open-ended) if one has none.
        let fin = these.iter().map(|p| p.fin.filter(|_| p.sans_fin == 0)).collect();
        columns.push(date(format!("{code}_date_fin"), fin)?);
        columns.push(number(format!("_{code}_montant"), these.iter().map(|p| p.montant.value()).collect()));
        if MONTHLY.contains(code) {
            for k in 0..BY_MONTH {
                let values = these.iter().map(|p| p.par_mois[k].value()).collect();
                columns.push(number(format!("{code}_montant_m{}", k + 1), values));
            }
        }
        if OVER_CSS_WINDOW.contains(code) {
            columns.push(number(format!("{code}_montant_m13_m2"), these.iter().map(|p| p.css.value()).collect()));
            let mois = these.iter().map(|p| Some(p.css_mois.min(12) as f64)).collect();
            columns.push(number(format!("{code}_mois_m13_m2"), mois));
        }
    }
    // Unknown when a row of the AAH in payment does not say whose it is.
    for (who, role) in ["allocataire", "conjoint"].iter().enumerate() {
        let values = foyers.iter().map(|d| if d.aah_sans_role > 0 { None } else { d.aah_3m[who].value() }).collect();
        columns.push(number(format!("aah_montant_3m_{role}"), values));
    }
    columns.push(date("date_fin_droit_prochaine".into(), foyers.iter().map(|d| d.fin_prochaine).collect())?);
    columns.push(BooleanChunked::from_iter_values("_has_droits".into(), foyers.iter().map(|_| true)).into_column());
    DataFrame::new_infer_height(columns)
}
