//! `reperage diff`: for auditors: what changes for the same foyers between two rule folders
//! (`--rules-avant A --rules-apres B`) or between the parameters of two months
//! (`--mois-avant M1`, the rules of `--rules`): per rule, foyers gaining or losing
//! eligibility, signalements appearing and disappearing, the amount changes; the
//! parameters and definitions that differ; the ids of the foyers whose status
//! changed in a separate file (docs/audit.md).

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::Exit;
use crate::common::{LectureArgs, load_rules, log_autorisees, parse_mois, print_stale, print_written};

#[derive(clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub lecture: LectureArgs,
    /// The rules "before".
    #[arg(long, requires = "rules_apres", conflicts_with_all = ["mois_avant", "rules"])]
    pub rules_avant: Option<PathBuf>,
    /// The rules "after".
    #[arg(long, requires = "rules_avant")]
    pub rules_apres: Option<PathBuf>,
    /// Compare with the parameters in force at this month (same rules, same foyers).
    #[arg(long, required_unless_present = "rules_avant")]
    pub mois_avant: Option<String>,
    /// With `--mois-avant`: the rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

pub fn run(args: DiffArgs) -> Result<Exit> {
    let DiffArgs { lecture, rules_avant, rules_apres, mois_avant, rules } = args;
    let mois = parse_mois(&lecture.mois)?;
    log_autorisees(&lecture.colonnes_autorisees);
    let (apres, avant_rules) = match &rules_avant {
        Some(a) => (load_rules(&rules_apres, mois)?, Some(load_rules(&Some(a.clone()), mois)?)),
        None => (load_rules(&rules, mois)?, None),
    };
    let avant = match (&avant_rules, &mois_avant) {
        (Some(r), _) => reperage_batch::diff::Avant::Regles(r),
        (None, Some(m)) => reperage_batch::diff::Avant::Mois(parse_mois(m)?),
        (None, None) => bail!("give --rules-avant and --rules-apres, or --mois-avant"),
    };
    eprintln!("comparing two evaluations of {} for {mois}…", lecture.extract.display());
    let started = std::time::Instant::now();
    let progress = |stage: &str| eprintln!("[{:>7.1} s] {stage}", started.elapsed().as_secs_f64());
    let opts = reperage_batch::diff::Options { progress: &progress, entrees: lecture.entrees(&apres, mois), avant };
    let r = reperage_batch::diff::diff(&opts)?;
    print_stale(&r.parametres_perimes, mois);
    eprintln!(
        "done in {:.1} s: {} foyers compared over {} rules; {} foyers change status or signalement; {} parameters and {} definitions differ",
        started.elapsed().as_secs_f64(),
        r.foyers_evalues,
        r.regles_comparees,
        r.foyers_modifies,
        r.parametres_modifies,
        r.definitions_modifiees
    );
    print_written(&r.fichiers_ecrits);
    Ok(Exit::Success)
}
