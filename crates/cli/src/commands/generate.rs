//! `reperage generate`: write a synthetic extract following the contract, with planted non-take-up and
//! its ground truth beside the extract (`<out>.verite.csv`). For testing and demos.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::Exit;
use crate::common::{OutFormat, ReglesArgs, parse_mois, rules_and_campaigns};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Number of foyers.
    #[arg(long)]
    pub foyers: usize,
    /// Reference month YYYY-MM (resources cover the 14 months before).
    #[arg(long)]
    pub mois: String,
    /// Random seed: the same seed gives the same extract, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder of the extract written (created; its ground truth beside it).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write last month's extract of the same foyers here (for `screen --precedent`).
    #[arg(long)]
    pub precedent: Option<PathBuf>,
    /// The extract's files as CSV or Parquet (`both` is refused: one format).
    #[arg(long, value_enum, default_value = "csv")]
    pub format: OutFormat,
    /// Also write the follow-up extracts of the K months after `--mois` beside the
    /// extract (`<out>.suivi/<YYYY-MM>/`, for `reperage suivi`): the extract is
    /// screened with the campaigns, a planted share of the contacted households and
    /// of the control groups open a right, agents' outcomes are filled in `contacts`.
    #[arg(long, value_name = "K")]
    pub suivi: Option<u32>,
    /// With `--suivi`: the campaigns folder the extract is screened with (as for
    /// `screen --campagnes`; give campaigns with a `groupe_temoin` to get control groups).
    #[arg(long, requires = "suivi")]
    pub campagnes: Option<PathBuf>,
    /// With `--suivi`: the share of contacted households that open a right.
    #[arg(long, requires = "suivi", default_value_t = 0.25)]
    pub taux_contactes: f64,
    /// With `--suivi`: the share of control households that open a right.
    #[arg(long, requires = "suivi", default_value_t = 0.08)]
    pub taux_temoins: f64,
}

pub fn run(args: GenerateArgs) -> Result<Exit> {
    let GenerateArgs { foyers, mois, seed, out, precedent, format, suivi, campagnes, taux_contactes, taux_temoins } =
        args;
    let mois = parse_mois(&mois)?;
    let parquet = match format {
        OutFormat::Csv => false,
        OutFormat::Parquet => true,
        OutFormat::Both => bail!("generate writes one format: csv or parquet"),
    };
    if suivi.is_some() && parquet {
        bail!("--suivi writes CSV follow-up extracts: generate the extract as csv");
    }
    for (name, share) in [("--taux-contactes", taux_contactes), ("--taux-temoins", taux_temoins)] {
        if !(0.0..=1.0).contains(&share) {
            bail!("{name} is a share between 0 and 1, not {share}");
        }
    }
    let mut written = reperage_batch::generate::generate(foyers, mois, seed, &out, precedent.as_deref(), parquet)?;
    if let Some(k) = suivi {
        let rs = rules_and_campaigns(&ReglesArgs { rules: None, campagnes }, mois)?;
        let plantation = reperage_batch::generate::suivi::Plantation {
            mois_suivis: k,
            rules: &rs,
            taux_contactes,
            taux_temoins,
            seed,
        };
        written.extend(reperage_batch::generate::suivi::generate_suivi(&out, mois, &plantation)?);
    }
    for p in written {
        eprintln!("wrote {}", p.display());
    }
    Ok(Exit::Success)
}
