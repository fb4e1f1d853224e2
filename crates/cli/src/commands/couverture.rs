//! `reperage couverture`: for auditors: what the rules decide on a population. Per rule and definition:
//! foyers where it is true, false, unknown; how many of each status each condition
//! decided; conditions never true or never false; the inputs most often missing and
//! the rules they leave undetermined; every parameter value with its text. Aggregates
//! only, small counts suppressed (docs/audit.md).

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::common::{LectureArgs, load_rules, log_autorisees, parse_mois, print_stale, print_written};

#[derive(clap::Args)]
pub struct CouvertureArgs {
    #[command(flatten)]
    pub lecture: LectureArgs,
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Counts of 1 to N-1 foyers are not published, nor those that would give them away.
    #[arg(long = "seuil-secret", default_value_t = reperage_batch::estimations::SEUIL_SECRET,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub seuil_secret: u64,
}

pub fn run(args: CouvertureArgs) -> Result<Exit> {
    let CouvertureArgs { lecture, rules, seuil_secret } = args;
    let mois = parse_mois(&lecture.mois)?;
    log_autorisees(&lecture.colonnes_autorisees);
    let rs = load_rules(&rules, mois)?;
    eprintln!("measuring what the rules decide in {} for {mois}…", lecture.extract.display());
    let started = std::time::Instant::now();
    let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
    let opts =
        reperage_batch::couverture::Options { progress: &progress, entrees: lecture.entrees(&rs, mois), seuil_secret };
    let r = reperage_batch::couverture::couverture(&opts)?;
    print_stale(&r.parametres_perimes, mois);
    eprintln!(
        "done in {:.1} s: {} foyers evaluated, {} rules; {} of {} counts suppressed (statistical secrecy, threshold {seuil_secret})",
        started.elapsed().as_secs_f64(),
        r.foyers_evalues,
        r.regles,
        r.cellules_masquees,
        r.cellules
    );
    print_written(&r.fichiers_ecrits);
    Ok(Exit::Success)
}
