//! `reperage suivi`: follow the campaigns up: for each campaign, month of contact, rule and channel,
//! the share of contacted and of control households whose right opened at M+1, M+2
//! and M+3, the difference with its 95 % interval (Newcombe), the amounts now in
//! payment and the agents' outcomes (docs/campaigns.md). For campaign teams.

use std::path::PathBuf;

use anyhow::Result;
use reperage_batch::extract::ColonneAutorisee;

use crate::Exit;
use crate::common::{load_rules, log_autorisees, parse_colonne, parse_mois, print_written};

#[derive(clap::Args)]
pub struct SuiviArgs {
    /// A later extract (its `droits`); repeat for several months. The last one given
    /// is the latest: its `contacts` table is the history unless `--contacts` is given.
    #[arg(long = "extract", required = true)]
    pub extraits: Vec<PathBuf>,
    /// The contacts history (a `contacts` table, CSV or Parquet, with the control rows).
    #[arg(long)]
    pub contacts: Option<PathBuf>,
    /// The month of the latest extract YYYY-MM: rights are known up to its end.
    #[arg(long)]
    pub mois: String,
    /// Output folder (replaced as a whole).
    #[arg(long)]
    pub out: PathBuf,
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// As for `screen`.
    #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
    pub colonnes_autorisees: Vec<ColonneAutorisee>,
}

pub fn run(args: SuiviArgs) -> Result<Exit> {
    let SuiviArgs { extraits, contacts, mois, out, rules, colonnes_autorisees } = args;
    let mois = parse_mois(&mois)?;
    log_autorisees(&colonnes_autorisees);
    let rs = load_rules(&rules, mois)?;
    let opts = reperage_batch::suivi::Options {
        extraits: &extraits,
        contacts: contacts.as_deref(),
        mois,
        out: &out,
        rules: &rs,
        colonnes_autorisees: &colonnes_autorisees,
    };
    let r = reperage_batch::suivi::run(&opts)?;
    eprintln!(
        "{} contact rows read: {} contacts and control draws followed; {} rows left out (a foyer absent from the latest extract or in quarantine there, a date after --mois: contacts_ecartes.csv says which); {} without rules (outcomes only); {} groups, {} not interpretable (fewer than {} households or no control group)",
        r.contacts_lus,
        r.contacts_suivis,
        r.contacts_ecartes,
        r.contacts_sans_regles,
        r.groupes,
        r.non_interpretables,
        reperage_batch::suivi::EFFECTIF_MIN
    );
    print_written(&r.fichiers_ecrits);
    Ok(Exit::Success)
}
