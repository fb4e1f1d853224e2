//! `reperage doc`: the rules catalog as a static site (no server, no network): an index by kind with
//! a search box, a page per rule (condition tree with legal texts, formulas with
//! linked names, dated parameter values with sources, simplifications, test cases),
//! the parameters and the situation's inputs. With `--couverture`, the population
//! coverage beside each condition. For auditors.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::Exit;
use crate::common::{current_month, load_rules};

#[derive(clap::Args)]
pub struct DocArgs {
    /// Folder the site is written to (index.html and its pages).
    #[arg(long)]
    pub out: PathBuf,
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// `couverture.csv` written by `reperage couverture`.
    #[arg(long)]
    pub couverture: Option<PathBuf>,
}

pub fn run(args: DocArgs) -> Result<Exit> {
    let DocArgs { out, rules, couverture } = args;
    let rs = load_rules(&rules, current_month())?;
    let couverture = couverture.map(|p| reperage_batch::couverture::lire_pour_le_site(&p)).transpose()?;
    let pages = reperage_rules::site::site(&rs, couverture.as_ref());
    for p in &pages {
        let path = out.join(&p.chemin);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &p.html).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("{} pages written under {}", pages.len(), out.display());
    Ok(Exit::Success)
}
