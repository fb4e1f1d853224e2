//! `reperage estimer`: estimate non-take-up per benefit and territory for observatories: evaluate the
//! rules like `screen` and write aggregates only (estimations, indetermination,
//! manifest.json), small cells and those that would reveal them suppressed. No
//! foyer or person id in any output. For observatories.

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::common::{
    LectureArgs, OutFormat, load_rules, log_autorisees, out_format, parse_mois, print_stale, print_written,
};

#[derive(clap::Args)]
pub struct EstimerArgs {
    #[command(flatten)]
    pub lecture: LectureArgs,
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Dimensions to cut by, comma-separated, among caisse, departement, commune,
    /// qpv, type_foyer, tranche_age (`commune` brings its département, `qpv` the
    /// split "en QPV / hors QPV"). Every combination and its margins is published.
    #[arg(long, default_value = reperage_batch::estimations::dimensions::PAR_DEFAUT)]
    pub par: String,
    /// No published figure rests on fewer foyers than this (statistical secrecy).
    #[arg(long = "seuil-secret", default_value_t = reperage_batch::estimations::SEUIL_SECRET,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub seuil_secret: u64,
    /// Output files as CSV (`;`, UTF-8 with BOM), Parquet, or both.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutFormat,
}

pub fn run(args: EstimerArgs) -> Result<Exit> {
    let EstimerArgs { lecture, rules, par, seuil_secret, format } = args;
    let mois = parse_mois(&lecture.mois)?;
    log_autorisees(&lecture.colonnes_autorisees);
    let rs = load_rules(&rules, mois)?;
    let dimensions = reperage_batch::estimations::dimensions::parse(&par).map_err(anyhow::Error::msg)?;
    eprintln!("estimating non-take-up in {} for {mois} by {par}…", lecture.extract.display());
    let started = std::time::Instant::now();
    let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
    let opts = reperage_batch::estimations::Options {
        progress: &progress,
        entrees: lecture.entrees(&rs, mois),
        format: out_format(format),
        dimensions,
        seuil_secret,
    };
    let r = reperage_batch::estimations::estimer(&opts)?;
    print_stale(&r.parametres_perimes, mois);
    eprintln!(
        "done in {:.1} s: {} foyers evaluated, {} benefits, {} rows published; {} of {} cells suppressed (statistical secrecy, threshold {seuil_secret})",
        started.elapsed().as_secs_f64(),
        r.foyers_evalues,
        r.prestations,
        r.lignes_publiees,
        r.cellules_masquees,
        r.cellules
    );
    print_written(&r.fichiers_ecrits);
    Ok(Exit::Success)
}
