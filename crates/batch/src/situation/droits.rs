//! Rights inputs of the situation, from the `droits` table (docs/situation.md).
//!
//! The table is authoritative: no row means no right. A right counts in a month when it
//! is in payment that month (`date_debut` ≤ its last day, `date_fin` empty or ≥ its
//! first day), with its `montant_mensuel` (successive rows of a right give each month its
//! own amount); an amount in payment without `montant_mensuel` is unknown.

use polars::prelude::*;
use reperage_rules::{Date, Mois};

use super::{Rangs, date_column, days, number_column, strings};
use crate::extract::schema::PRESTATIONS;
use crate::extract::{Extract, Table};

const ID: &str = "id_foyer";

/// Benefits counted as resources month by month (RSA, prime d'activité): one input
/// `<code>_montant_m<k>` per month M-k, k = 1 … 4.
pub const MONTHLY: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

/// Benefits counted over the CSS window M-13 … M-2: `<code>_montant_m13_m2` (the sum of
/// the monthly amounts) and `<code>_mois_m13_m2` (months in payment).
pub const OVER_CSS_WINDOW: [&str; 10] = ["af", "cf", "asf", "paje_base", "aah", "aspa", "asi", "al", "apl", "als"];

/// One-off payments (the primes of the PAJE): `<code>_date_dernier_versement`, the latest
/// `date_debut` of their rows up to the end of M, in payment in M or not — whether the
/// prime of a pregnancy, a birth or an adoption was already paid.
pub const ONE_OFF: [&str; 2] = ["paje_naissance", "paje_adoption"];

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

/// A benefit paid per person, for the allocataire and for the conjoint: unknown for both
/// as soon as a row in payment does not say whose it is.
#[derive(Clone, Copy, Default)]
struct ParMembre {
    montants: [Montant; 2],
    sans_role: u32,
}

impl ParMembre {
    /// A row of `montant` for `fois` months, of the person of role `role` (`None`: the
    /// row names no person of the foyer; an `enfant` or `autre` is left aside).
    fn add(&mut self, role: Option<&str>, montant: Option<f64>, fois: f64) {
        match role {
            None => self.sans_role += 1,
            Some("allocataire") => self.montants[0].add(montant, fois),
            Some("conjoint") => self.montants[1].add(montant, fois),
            Some(_) => {}
        }
    }

    /// The amount of the allocataire (0) or of the conjoint (1).
    fn value(&self, who: usize) -> Option<f64> {
        if self.sans_role > 0 { None } else { self.montants[who].value() }
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
    /// The latest start of its rows up to the end of M (one-off payments).
    dernier_debut: Option<i32>,
}

/// The rights of one foyer.
#[derive(Default)]
struct Droits {
    /// The benefits it has rows of (an index of `PRESTATIONS`, most foyers one or two):
    /// a foyer holds only those, not the dozens it has none of.
    prestations: Vec<(usize, Prestation)>,
    /// The AAH in payment in M-3 … M-1 (its monthly amount times its months there) of the
    /// allocataire and of the conjoint.
    aah_3m: ParMembre,
    /// The ASI in payment in M-1 of the allocataire and of the conjoint (the AAH is paid
    /// only above it, L821-1 CSS).
    asi_m1: ParMembre,
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
}

fn later(a: Option<i32>, b: i32) -> Option<i32> {
    Some(a.map_or(b, |a| a.max(b)))
}

fn month_of(days: i32) -> i32 {
    Date::from_days(days).mois().index()
}

/// The rights inputs of every foyer of the extract (one row per row of `foyers`, in its
/// order: `rangs`); a foyer without any row has none (no right in payment, amounts 0,
/// dates unknown).
///
/// One pass over the rows, each foyer's in file order, not a Polars group-by of its 130
/// masked aggregations (docs/performance.md).
pub(super) fn inputs(extract: &Extract, mois: Mois, rangs: &Rangs) -> PolarsResult<DataFrame> {
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
    let asi = PRESTATIONS.iter().position(|c| *c == "asi");

    let droits = extract.table(Table::Droits);
    let (debut, fin) = (days(droits, "date_debut")?, days(droits, "date_fin")?);
    let rows = strings(droits, ID)?
        .iter()
        .zip(strings(droits, "id_personne")?.iter())
        .zip(strings(droits, "prestation")?.iter())
        .zip(debut.iter().zip(fin.iter()))
        .zip(droits.column("montant_mensuel")?.f64()?.iter());
    let mut foyers: Vec<Droits> = Vec::with_capacity(rangs.len());
    foyers.resize_with(rangs.len(), Droits::default);
    let mut foyer_of = rangs.recherche();
    for ((((foyer, personne), code), (debut, fin)), montant) in rows {
        let (Some(foyer), Some(code), Some(debut)) = (foyer, code, debut) else { continue };
        let Some(c) = PRESTATIONS.iter().position(|p| *p == code) else { continue };
        // Validation refuses a row whose foyer is not in `foyers`.
        let Some(at) = foyer_of.rang(foyer) else { continue };
        let droits = &mut foyers[at as usize];
        let (debut_mois, fin_mois) = (month_of(debut), fin.map(month_of));
        // In payment in the month of index `j`.
        let paye = |j: i32| debut_mois <= j && fin_mois.is_none_or(|f| f >= j);
        if paye(m)
            && let Some(f) = fin
        {
            droits.fin_prochaine = Some(droits.fin_prochaine.map_or(f, |n| n.min(f)));
        }
        let p = droits.prestation(c);
        if debut_mois <= m {
            p.dernier_debut = later(p.dernier_debut, debut);
        }
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
        let role = personne.and_then(|p| roles.get(p)).copied();
        if Some(c) == aah {
            let months = (1..=3).filter(|&k| paye(m - k)).count();
            if months > 0 {
                droits.aah_3m.add(role, montant, months as f64);
            }
        }
        if Some(c) == asi && paye(m - 1) {
            droits.asi_m1.add(role, montant, 1.0);
        }
    }
    frame(&foyers)
}

/// The frame of the inputs, one row per foyer.
fn frame(foyers: &[Droits]) -> PolarsResult<DataFrame> {
    let mut columns: Vec<Column> = Vec::with_capacity(256);
    // Each benefit's rows of every foyer, dealt in one pass over the foyers (most have
    // rows of one or two benefits): `none` where a foyer has no row of it.
    let none = Prestation::default();
    let mut by_code: Vec<Vec<&Prestation>> = vec![vec![&none; foyers.len()]; PRESTATIONS.len()];
    for (i, d) in foyers.iter().enumerate() {
        for (c, p) in &d.prestations {
            by_code[*c][i] = p;
        }
    }
    for (code, these) in PRESTATIONS.iter().zip(&by_code) {
        let en_paiement: BooleanChunked =
            these.iter().map(|p| p.en_paiement > 0).collect_ca_trusted(format!("{code}_en_paiement").into());
        columns.push(en_paiement.into_column());
        // What is paid in M: its amount when in payment (unknown if a row has none), else 0.
        let verse = |p: &&Prestation| if p.en_paiement > 0 { p.montant.value() } else { Some(0.0) };
        columns.push(number_column(format!("{code}_montant_verse"), these, verse));
        columns.push(date_column(format!("{code}_date_debut"), these, |p| p.debut)?);
        // The end of the right in payment: unknown (open-ended) if one has none.
        columns.push(date_column(format!("{code}_date_fin"), these, |p| p.fin.filter(|_| p.sans_fin == 0))?);
        if MONTHLY.contains(code) {
            for k in 0..BY_MONTH {
                columns.push(number_column(format!("{code}_montant_m{}", k + 1), these, |p| p.par_mois[k].value()));
            }
        }
        if ONE_OFF.contains(code) {
            columns.push(date_column(format!("{code}_date_dernier_versement"), these, |p| p.dernier_debut)?);
        }
        if OVER_CSS_WINDOW.contains(code) {
            columns.push(number_column(format!("{code}_montant_m13_m2"), these, |p| p.css.value()));
            let mois = |p: &&Prestation| Some(p.css_mois.min(12) as f64);
            columns.push(number_column(format!("{code}_mois_m13_m2"), these, mois));
        }
    }
    // Unknown when a row in payment does not say whose it is (ParMembre).
    for (who, role) in ["allocataire", "conjoint"].iter().enumerate() {
        columns.push(number_column(format!("aah_montant_3m_{role}"), foyers, |d| d.aah_3m.value(who)));
        columns.push(number_column(format!("asi_montant_m1_{role}"), foyers, |d| d.asi_m1.value(who)));
    }
    columns.push(date_column("date_fin_droit_prochaine".into(), foyers, |d| d.fin_prochaine)?);
    DataFrame::new_infer_height(columns)
}
