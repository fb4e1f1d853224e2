//! `estimer`: non-take-up estimates by benefit and territory, for observatories.
//!
//! The extract is read and evaluated by the same step as `screen`
//! (crate::evaluation): no second way of computing a status. Each evaluated piece is
//! reduced to counts (cube.rs); once all are in, every table of every benefit is summed
//! (tables.rs), its small cells and the cells that would give them away are suppressed
//! (crates/secret, with hypercube.rs for the cells the lines rule leaves recoverable),
//! and only aggregates are written: no output of this command holds a
//! foyer or person id. Method and algorithm: docs/observatory.md.

pub mod cube;
pub mod dimensions;
pub mod hypercube;
pub mod publication;
pub mod rapport;
pub mod tables;

use std::collections::BTreeMap;
use std::path::PathBuf;

use polars::prelude::DataFrame;
use reperage_rules::{Compiled, RuleSet, StaleParameter};

use crate::commande::{self, Entrees, Ouverture};
use crate::evaluation::{self, Etapes};
use crate::extract::{Extract, TableCount};
use crate::output::{Format, TableWriter};
use crate::screen::{self, Lu, ScreenError};
use cube::Cube;
use dimensions::Dimension;

/// The usual threshold of French public statistics: no published figure may rest on
/// fewer than 11 households.
pub const SEUIL_SECRET: u64 = 11;

pub struct Options<'a> {
    /// Told each stage as it starts (for a progress display).
    pub progress: &'a dyn Fn(&str),
    /// The extract, the month, the rules, `--out` and the reading options.
    pub entrees: Entrees<'a>,
    pub format: Format,
    pub dimensions: Vec<Dimension>,
    pub seuil_secret: u64,
}

/// What an estimate did, for the terminal summary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub mois: String,
    pub foyers_evalues: u64,
    pub prestations: usize,
    pub lignes_publiees: usize,
    pub cellules: usize,
    pub cellules_masquees: usize,
    pub parametres_perimes: Vec<StaleParameter>,
    pub fichiers_ecrits: Vec<String>,
}

/// What the estimate keeps of each piece: counts, never a row.
struct Estimation<'a> {
    progress: &'a dyn Fn(&str),
    dims: &'a [Dimension],
    rules: &'a RuleSet,
    cube: Option<Cube>,
    comptes: Vec<TableCount>,
    /// Refused rows by (table, column): the reasons without the values or ids.
    refus: BTreeMap<(String, String), u64>,
    foyers_quarantaine: u64,
}

impl Etapes for Estimation<'_> {
    fn validee(&mut self, _: usize, extract: &Extract, _: Option<&Extract>) -> Result<bool, ScreenError> {
        for r in &extract.refus {
            *self.refus.entry((r.table.name().to_string(), r.colonne.clone())).or_default() += 1;
        }
        self.foyers_quarantaine += extract.foyers_quarantaine.len() as u64;
        screen::add_counts(&mut self.comptes, &extract.comptes);
        Ok(true)
    }

    fn evaluee(&mut self, k: usize, compiled: &Compiled, _: &Extract, eval: DataFrame) -> Result<(), ScreenError> {
        (self.progress)(&format!("piece {} evaluated ({} foyers)", k + 1, eval.height()));
        let (dims, rules) = (self.dims, self.rules);
        self.cube.get_or_insert_with(|| Cube::new(dims.to_vec(), compiled, rules)).add(compiled, &eval)?;
        Ok(())
    }
}

/// Evaluates the extract and writes the estimates under `opts.entrees.out` (replaced as a whole,
/// as `screen` does).
pub fn estimer(opts: &Options) -> Result<Report, ScreenError> {
    let Ouverture { out_dir, out, spill, lu: Lu { mut current, mut previous, .. }, stale } =
        commande::ouvrir(&opts.entrees)?;
    let fichiers = current.fichiers.clone();
    (opts.progress)("reading the extract");
    let mut etapes = Estimation {
        progress: opts.progress,
        dims: &opts.dimensions,
        rules: opts.entrees.rules,
        cube: None,
        comptes: Vec::new(),
        refus: BTreeMap::new(),
        foyers_quarantaine: 0,
    };
    let compiled =
        evaluation::evaluate(&mut current, previous.as_mut(), opts.entrees.rules, opts.entrees.mois, &mut etapes)?;
    drop((current, previous));
    let _ = std::fs::remove_dir_all(&spill);
    let cube = etapes.cube.take().unwrap_or_else(|| Cube::new(opts.dimensions.clone(), &compiled, opts.entrees.rules));
    (opts.progress)("tables summed and protected (statistical secrecy)");
    let publie = publication::publier(&cube, opts.seuil_secret);
    (opts.progress)("writing");

    let mut written: Vec<PathBuf> = Vec::new();
    let mut w = TableWriter::create(&out, "estimations", opts.format)?;
    w.write(&mut publication::estimations_frame(&cube.dims, &publie)?)?;
    written.extend(w.finish()?);
    let mut w = TableWriter::create(&out, "indetermination", opts.format)?;
    w.write(&mut publication::indetermination_frame(&publie, opts.seuil_secret)?)?;
    written.extend(w.finish()?);

    let cellules: usize = publie.iter().map(|p| p.bilan.cellules).sum();
    let masquees: usize = publie.iter().map(|p| p.bilan.primaires + p.bilan.secondaires).sum();
    let lignes: usize = publie.iter().map(|p| p.lignes.len()).sum();
    let manifest = serde_json::json!({
        "statut": "complet",
        "commande": "estimer",
        "moteur": { "nom": "reperage", "version": env!("CARGO_PKG_VERSION") },
        "mois": opts.entrees.mois.to_string(),
        "extrait": screen::input_files(&fichiers),
        "colonnes_autorisees": opts.entrees.colonnes_autorisees,
        "options": {
            "format": opts.format.name(),
            "precedent": opts.entrees.precedent.is_some(),
            "par": opts.dimensions.iter().map(|d| d.nom).collect::<Vec<_>>(),
            "seuil_secret": opts.seuil_secret,
        },
        "regles": commande::fichiers_regles(opts.entrees.rules),
        "parametres": compiled.params,
        "parametres_perimes": stale,
        "lignes": etapes.comptes,
        "refus_par_colonne": etapes.refus.iter().map(|((t, c), n)| serde_json::json!({
            "table": t, "colonne": c, "lignes": n,
        })).collect::<Vec<_>>(),
        "foyers": {
            "evalues": cube.foyers,
            "dossiers_clos_hors_champ": cube.foyers_clos,
            "en_quarantaine": etapes.foyers_quarantaine,
        },
        "secret": publie.iter().map(|p| serde_json::json!({
            "prestation": p.prestation.code,
            "cellules": p.bilan.cellules,
            "primaires": p.bilan.primaires,
            "secondaires": p.bilan.secondaires,
            "tours_audit": p.bilan.tours_audit,
        })).collect::<Vec<_>>(),
    });
    let page = rapport::html(
        &publie,
        &rapport::Contexte {
            mois: opts.entrees.mois.to_string(),
            seuil: opts.seuil_secret,
            dims: &cube.dims,
            manifest: &manifest,
        },
    );
    written.push(commande::ecrire_page(&out, "rapport.html", &page)?);
    let fichiers_ecrits = screen::commit_files(out_dir, manifest, written)?;
    Ok(Report {
        mois: opts.entrees.mois.to_string(),
        foyers_evalues: cube.foyers,
        prestations: publie.len(),
        lignes_publiees: lignes,
        cellules,
        cellules_masquees: masquees,
        parametres_perimes: stale,
        fichiers_ecrits,
    })
}
