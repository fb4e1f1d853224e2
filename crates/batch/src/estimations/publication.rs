//! What is published of each benefit: its tables with the suppressed cells blanked, the
//! rates computed from the published counts only, and the output frames.

use std::collections::BTreeMap;

use polars::prelude::*;
use rayon::prelude::*;

use super::cube::{Cube, ENR, ER, GROUPES, Prestation, UNR, UR};
use super::dimensions::{self, Dimension};
use super::hypercube::Hypercubes;
use super::tables;
use reperage_secret::{self as secret, Bilan, Probleme};

/// The groups counted (cube::GROUPES), each a published column.
const MESURES: usize = GROUPES.len();

/// One published row: a cell of one table of one benefit.
#[derive(Debug, Clone)]
pub struct Ligne {
    pub niveaux: Vec<usize>,
    pub cle: Vec<String>,
    /// The five groups (cube::GROUPES); None where suppressed.
    pub valeurs: [Option<u64>; MESURES],
    /// The amounts at stake of the eligible non-recipients, published with their count.
    pub montant: Option<f64>,
    /// The input most often missing among the undetermined non-recipients, when at
    /// least `seuil` of them miss it and their count is published.
    pub manquant_principal: Option<String>,
}

impl Ligne {
    pub fn masquee(&self) -> bool {
        self.valeurs.iter().any(Option::is_none)
    }

    /// Non-take-up among the foyers the rules find eligible (in %), with its bounds
    /// over every way the undetermined could turn out: (central, low, high).
    pub fn taux(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        let v = |i: usize| self.valeurs[i].map(|x| x as f64);
        let rate = |num: Option<f64>, den: Option<f64>| match (num, den) {
            (Some(n), Some(d)) if d > 0.0 => Some((1000.0 * n / d).round() / 10.0),
            _ => None,
        };
        let (er, ur, enr, unr) = (v(ER), v(UR), v(ENR), v(UNR));
        let sum = |a: Option<f64>, b: Option<f64>| Some(a? + b?);
        let central = rate(enr, sum(er, enr));
        // Low: undetermined non-recipients not eligible, undetermined recipients eligible.
        let bas = rate(enr, sum(sum(er, ur), enr));
        // High: undetermined non-recipients eligible, undetermined recipients not.
        let haut = rate(sum(enr, unr), sum(sum(er, enr), unr));
        (central, bas, haut)
    }
}

/// Everything published of one benefit.
pub struct Publie {
    pub prestation: Prestation,
    pub lignes: Vec<Ligne>,
    pub bilan: Bilan,
    /// Among the undetermined non-recipients of the whole: how many miss each input.
    pub manquants: BTreeMap<String, u64>,
    pub indetermines: u64,
}

/// Every benefit's tables, protected at `seuil` (benefits in parallel).
pub fn publier(cube: &Cube, seuil: u64) -> Vec<Publie> {
    cube.prestations.par_iter().map(|p| publier_prestation(&cube.dims, p, seuil)).collect()
}

fn publier_prestation(dims: &[Dimension], p: &Prestation, seuil: u64) -> Publie {
    let tables = tables::tables(dims, &p.atomes);
    let mut offsets = Vec::with_capacity(tables.len());
    let mut n = 0;
    for t in &tables {
        offsets.push(n);
        n += t.lignes.len();
    }
    let id = |(t, r): tables::Cellule| offsets[t] + r;
    let relations: Vec<Vec<(usize, i64)>> = tables::relations(dims, &tables)
        .into_iter()
        .map(|rel| rel.into_iter().map(|(c, k)| (id(c), k)).collect())
        .collect();
    let hypercubes = Hypercubes::new(dims, &tables, &offsets);
    // Each group protected on its own (tables.rs), in parallel.
    let protected: Vec<(Vec<u64>, Vec<bool>, Bilan)> = (0..MESURES)
        .into_par_iter()
        .map(|g| {
            let valeurs: Vec<u64> =
                tables.iter().flat_map(|t| t.lignes.iter().map(move |(_, a)| a.comptes[g])).collect();
            let probleme = Probleme { valeurs, relations: relations.clone() };
            let autour = |c: usize, masque: &[bool]| hypercubes.autour(c, &probleme.valeurs, masque);
            let (masque, bilan) = secret::proteger_avec(&probleme, seuil, &autour);
            (probleme.valeurs, masque, bilan)
        })
        .collect();
    let mut bilan = Bilan::default();
    for (_, _, b) in &protected {
        bilan.cellules += b.cellules;
        bilan.primaires += b.primaires;
        bilan.secondaires += b.secondaires;
        bilan.tours_audit = bilan.tours_audit.max(b.tours_audit);
    }
    let mut lignes = Vec::new();
    for (t, table) in tables.iter().enumerate() {
        for (r, (cle, atom)) in table.lignes.iter().enumerate() {
            let c = id((t, r));
            let valeurs: [Option<u64>; MESURES] =
                std::array::from_fn(|g| (!protected[g].1[c]).then_some(protected[g].0[c]));
            // No eligible non-recipient: nothing at stake (a known zero, not a missing sum).
            let montant = valeurs[ENR]
                .filter(|_| p.has_montant)
                .map(|n| if n == 0 { 0.0 } else { atom.montant.unwrap_or(0.0).round() });
            let manquant_principal = valeurs[UNR].filter(|n| *n > 0).and_then(|_| {
                atom.manquants
                    .iter()
                    .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
                    .filter(|(_, n)| **n >= seuil)
                    .map(|(k, _)| k.clone())
            });
            lignes.push(Ligne {
                niveaux: table.niveaux.clone(),
                cle: cle.clone(),
                valeurs,
                montant,
                manquant_principal,
            });
        }
    }
    let whole = tables.first().and_then(|t| t.lignes.first()).map(|(_, a)| a.clone()).unwrap_or_default();
    let meta = Prestation { atomes: BTreeMap::new(), ..p.clone() };
    Publie { prestation: meta, lignes, bilan, manquants: whole.manquants, indetermines: whole.comptes[UNR] }
}

/// `estimations`: one row per published cell of every benefit's tables.
pub fn estimations_frame(dims: &[Dimension], publie: &[Publie]) -> PolarsResult<DataFrame> {
    let mut prestation = Vec::new();
    let mut tableau = Vec::new();
    let levels: Vec<(usize, usize)> =
        dims.iter().enumerate().flat_map(|(d, dim)| (1..=dim.niveaux.len()).map(move |j| (d, j))).collect();
    let mut level_values: Vec<Vec<String>> = vec![Vec::new(); levels.len()];
    let mut counts: Vec<Vec<Option<u64>>> = vec![Vec::new(); MESURES];
    let (mut central, mut bas, mut haut) = (Vec::new(), Vec::new(), Vec::new());
    let (mut montant, mut versement, mut manquant, mut secret) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in publie {
        for l in &p.lignes {
            prestation.push(p.prestation.code.clone());
            let t = tables::Table { niveaux: l.niveaux.clone(), lignes: Vec::new() };
            tableau.push(t.nom(dims));
            for (k, &(d, j)) in levels.iter().enumerate() {
                let at = l.niveaux[d];
                let dim = &dims[d];
                let v = if j > at {
                    dimensions::ENSEMBLE.to_string()
                } else if j == at {
                    l.cle[d].clone()
                } else {
                    dim.niveaux[j - 1].from_finer(dim.niveaux[at - 1], &l.cle[d])
                };
                level_values[k].push(v);
            }
            for (m, c) in counts.iter_mut().enumerate() {
                c.push(l.valeurs[m]);
            }
            let (c, b, h) = l.taux();
            central.push(c);
            bas.push(b);
            haut.push(h);
            montant.push(if p.prestation.has_montant { l.montant } else { None });
            versement.push(match (p.prestation.has_montant, p.prestation.versement_unique) {
                (false, _) => None,
                (true, true) => Some("unique"),
                (true, false) => Some("mensuel"),
            });
            manquant.push(l.manquant_principal.clone());
            secret.push(l.masquee());
        }
    }
    let mut columns = vec![Column::new("prestation".into(), prestation), Column::new("tableau".into(), tableau)];
    for (k, &(d, j)) in levels.iter().enumerate() {
        columns.push(Column::new(dims[d].niveaux[j - 1].name().into(), std::mem::take(&mut level_values[k])));
    }
    for (m, name) in GROUPES.iter().enumerate() {
        columns.push(Column::new((*name).into(), std::mem::take(&mut counts[m])));
    }
    columns.extend([
        Column::new("taux_non_recours".into(), central),
        Column::new("taux_non_recours_bas".into(), bas),
        Column::new("taux_non_recours_haut".into(), haut),
        Column::new("montant_en_jeu".into(), montant),
        Column::new("versement".into(), versement),
        Column::new("donnee_manquante_principale".into(), manquant),
        Column::new("secret".into(), secret),
    ]);
    DataFrame::new_infer_height(columns)
}

/// `indetermination`: per benefit, the inputs most often missing among its undetermined
/// non-recipients of the whole (a foyer may miss several); counts under `seuil` blanked.
pub fn indetermination_frame(publie: &[Publie], seuil: u64) -> PolarsResult<DataFrame> {
    let (mut prestation, mut donnee, mut foyers, mut part) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in publie {
        let mut inputs: Vec<(&String, &u64)> = p.manquants.iter().collect();
        inputs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (input, n) in inputs {
            let shown = (*n >= seuil && p.indetermines >= seuil).then_some(*n);
            prestation.push(p.prestation.code.clone());
            donnee.push(input.clone());
            foyers.push(shown);
            part.push(shown.map(|n| (1000.0 * n as f64 / p.indetermines as f64).round() / 10.0));
        }
    }
    df!(
        "prestation" => prestation,
        "donnee_manquante" => donnee,
        "indetermines_non_allocataires" => foyers,
        "part_des_indetermines" => part,
    )
}
