//! `reperage fusionner`: merge the --out folders of the N partitions of a run (`screen --partition K/N`)
//! into the outputs one run writes: rows in id order, contact lists ranked and
//! capped over the whole caisse, counts summed, every partition in the manifest.

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::common::{ReglesArgs, rules_and_campaigns};

#[derive(clap::Args)]
pub struct FusionnerArgs {
    /// The partitions' output folders, each partition exactly once, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Output folder of the merged run (replaced as a whole).
    #[arg(long)]
    pub out: PathBuf,
    /// The rules and campaigns the partitions ran with.
    #[command(flatten)]
    pub regles: ReglesArgs,
}

pub fn run(args: FusionnerArgs) -> Result<Exit> {
    let FusionnerArgs { parts, out, regles } = args;
    let mois = reperage_batch::fusion::mois_of(&parts)?;
    let rs = rules_and_campaigns(&regles, mois)?;
    eprintln!("merging {} partition(s) into {}…", parts.len(), out.display());
    let fusion = reperage_batch::fusion::fusionner(&parts, &out, &rs)?;
    let m = &fusion.manifest;
    if fusion.statut == "arret_strict" {
        eprintln!("--strict: a partition had quarantined rows; merged quarantaine/ only");
        return Ok(Exit::Strict);
    }
    eprintln!(
        "merged {} partitions: {} foyers read, {} evaluated, {} quarantined; {} signalements",
        fusion.partitions,
        m["foyers"]["lus"],
        m["foyers"]["evalues"],
        m["foyers"]["en_quarantaine"],
        m["sorties"]["signalements"]
    );
    for c in m["campagnes"].as_array().into_iter().flatten() {
        eprintln!("campaign {}: {} listed", c["id"].as_str().unwrap_or("?"), c["retenus"]);
    }
    Ok(Exit::Success)
}
