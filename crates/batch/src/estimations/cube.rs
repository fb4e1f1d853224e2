//! The finest counts of an estimate, gathered piece after piece of the evaluation.
//!
//! For every benefit (a `prestation` rule that says when a right is in payment) and every
//! combination of the finest levels of the requested dimensions (an *atom*), the foyers
//! are counted in five groups: recipients the rules find eligible, undetermined, not
//! eligible; non-recipients the rules find eligible, undetermined. The sixth group
//! (neither paid nor possibly eligible) is not counted: it is not published (see
//! docs/observatory.md, "What is published"). Every published table is a sum of atoms.

use std::collections::BTreeMap;

use polars::prelude::*;
use reperage_rules::model::RuleKind;
use reperage_rules::{Compiled, RuleSet};

use super::dimensions::{self, Dimension};

/// The groups counted, in the order of [`Atome::comptes`].
pub const GROUPES: [&str; 5] = [
    "allocataires_eligibles",
    "allocataires_indetermines",
    "allocataires_non_eligibles",
    "eligibles_non_allocataires",
    "indetermines_non_allocataires",
];
pub const ER: usize = 0;
pub const UR: usize = 1;
pub const IR: usize = 2;
pub const ENR: usize = 3;
pub const UNR: usize = 4;

/// The counts of one atom (or of one cell of a table: a sum of atoms).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Atome {
    pub comptes: [u64; 5],
    /// The amounts of the eligible non-recipients, summed (None for a benefit without
    /// an amount, such as the CSS).
    pub montant: Option<f64>,
    /// Among the undetermined non-recipients: how many miss each input.
    pub manquants: BTreeMap<String, u64>,
}

impl Atome {
    pub fn add(&mut self, other: &Atome) {
        for (a, b) in self.comptes.iter_mut().zip(other.comptes) {
            *a += b;
        }
        if let Some(m) = other.montant {
            *self.montant.get_or_insert(0.0) += m;
        }
        for (k, n) in &other.manquants {
            *self.manquants.entry(k.clone()).or_default() += n;
        }
    }
}

/// One benefit's atoms.
#[derive(Debug, Clone)]
pub struct Prestation {
    /// The benefit's code (`rsa`), as in `eligibilites`.
    pub code: String,
    pub regle: String,
    pub titre: String,
    pub has_montant: bool,
    pub versement_unique: bool,
    /// By the finest value of each dimension, in dimension order.
    pub atomes: BTreeMap<Vec<String>, Atome>,
}

/// The situation variable saying the dossier is closed at the end of the month
/// (rules/situation.toml).
const COLONNE_CLOS: &str = "dossier_clos";

/// Every benefit's atoms.
pub struct Cube {
    pub dims: Vec<Dimension>,
    pub prestations: Vec<Prestation>,
    /// Foyers evaluated (all pieces).
    pub foyers: u64,
    /// Of which: foyers whose dossier was closed by the end of the month, left out of
    /// every count (docs/observatory.md, "Who is counted").
    pub foyers_clos: u64,
}

/// The group of each foyer for one rule (null: neither paid nor possibly eligible).
fn groupe(statut: &str, en_paiement: &str) -> Expr {
    let (st, paid) = (col(statut), col(en_paiement).fill_null(lit(false)));
    when(paid.clone().and(st.clone().eq(lit("eligible"))))
        .then(lit(ER as i32))
        .when(paid.clone().and(st.clone().eq(lit("indetermine"))))
        .then(lit(UR as i32))
        .when(paid)
        .then(lit(IR as i32))
        .when(st.clone().eq(lit("eligible")))
        .then(lit(ENR as i32))
        .when(st.eq(lit("indetermine")))
        .then(lit(UNR as i32))
        .otherwise(lit(NULL).cast(DataType::Int32))
        .alias("_groupe")
}

impl Cube {
    pub fn new(dims: Vec<Dimension>, compiled: &Compiled, rules: &RuleSet) -> Cube {
        let prestations = compiled
            .rules
            .iter()
            .filter(|r| r.kind == RuleKind::Prestation && r.en_paiement.is_some())
            .map(|r| {
                let rule = rules.rule(&r.id);
                Prestation {
                    code: r.prestation.clone().unwrap_or_else(|| r.id.clone()),
                    regle: r.id.clone(),
                    titre: rule.map_or_else(|| r.id.clone(), |x| x.titre.clone()),
                    has_montant: r.has_montant,
                    versement_unique: rule.is_some_and(|x| x.versement_unique),
                    atomes: BTreeMap::new(),
                }
            })
            .collect();
        Cube { dims, prestations, foyers: 0, foyers_clos: 0 }
    }

    /// Adds one evaluated piece.
    pub fn add(&mut self, compiled: &Compiled, eval: &DataFrame) -> PolarsResult<()> {
        self.foyers += eval.height() as u64;
        // A closed dossier is a household that left the caisse (moved, or no longer
        // claims anything): it cannot be a recipient, so counting it would make every
        // eligible one a non-recipient.
        let clos = eval.column(COLONNE_CLOS)?.bool()?;
        self.foyers_clos += clos.sum().unwrap_or(0) as u64;
        let names: Vec<&str> = self.dims.iter().map(|d| d.nom).collect();
        // The open dossiers, their place in every dimension computed once (it was once
        // per benefit, most of the counting's time), and the columns the benefits read.
        let rules: Vec<_> = self
            .prestations
            .iter()
            .map(|p| compiled.rules.iter().find(|r| r.id == p.regle && r.en_paiement.is_some()))
            .collect();
        let mut read: Vec<Expr> = self.dims.iter().map(dimensions::finest_expr).collect();
        let mut lus: Vec<&str> = Vec::new();
        for r in rules.iter().flatten() {
            lus.extend([r.statut.as_str(), r.manquants.as_str()]);
            lus.extend(r.en_paiement.as_deref());
            if r.has_montant {
                lus.push(r.montant.as_str());
            }
        }
        lus.sort_unstable();
        lus.dedup();
        read.extend(lus.iter().map(|c| col(*c)));
        let ouverts =
            eval.clone().lazy().filter(col(COLONNE_CLOS).fill_null(lit(false)).not()).select(read).collect()?;
        for (p, r) in self.prestations.iter_mut().zip(rules) {
            let Some(r) = r else { continue };
            let Some(en_paiement) = &r.en_paiement else { continue };
            let montant = if r.has_montant {
                when(col("_groupe").eq(lit(ENR as i32))).then(col(r.montant.as_str())).otherwise(lit(0.0))
            } else {
                lit(NULL).cast(DataType::Float64)
            };
            let rows = ouverts
                .clone()
                .lazy()
                .with_column(groupe(&r.statut, en_paiement))
                .filter(col("_groupe").is_not_null())
                .with_column(montant.alias("_montant"));
            let mut by: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
            by.push(col("_groupe"));
            let counts = rows
                .clone()
                .group_by(by)
                .agg([len().alias("_n"), col("_montant").sum().alias("_montant")])
                .collect()?;
            let key_cols = colonnes_cle(&counts, &names)?;
            let g = counts.column("_groupe")?.i32()?;
            let n = counts.column("_n")?.cast(&DataType::UInt64)?;
            let n = n.u64()?;
            let m = counts.column("_montant")?.f64()?;
            for i in 0..counts.height() {
                let atom = p.atomes.entry(cle(&key_cols, i)).or_default();
                let group = g.get(i).unwrap_or(0) as usize;
                atom.comptes[group] += n.get(i).unwrap_or(0);
                if r.has_montant && group == ENR {
                    *atom.montant.get_or_insert(0.0) += m.get(i).unwrap_or(0.0);
                }
            }
            // The inputs missing where the status is undetermined and no right is paid,
            // counted by atom and list of inputs.
            let mut by: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
            by.push(col(r.manquants.as_str()));
            let missing =
                rows.filter(col("_groupe").eq(lit(UNR as i32))).group_by(by).agg([len().alias("_n")]).collect()?;
            let key_cols = colonnes_cle(&missing, &names)?;
            let list = missing.column(r.manquants.as_str())?.str()?;
            let n = missing.column("_n")?.cast(&DataType::UInt64)?;
            let n = n.u64()?;
            for i in 0..missing.height() {
                let atom = p.atomes.entry(cle(&key_cols, i)).or_default();
                for input in list.get(i).unwrap_or("").split(", ").filter(|s| !s.is_empty()) {
                    *atom.manquants.entry(input.to_string()).or_default() += n.get(i).unwrap_or(0);
                }
            }
        }
        Ok(())
    }
}

/// The columns of the dimensions in a counted frame.
fn colonnes_cle<'a>(frame: &'a DataFrame, names: &[&str]) -> PolarsResult<Vec<&'a StringChunked>> {
    names.iter().map(|n| frame.column(n).and_then(|c| c.str())).collect()
}

/// The atom's key of row `i`: its finest value in every dimension.
fn cle(key_cols: &[&StringChunked], i: usize) -> Vec<String> {
    key_cols.iter().map(|c| c.get(i).unwrap_or(dimensions::INCONNU).to_string()).collect()
}
