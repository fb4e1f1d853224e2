//! `reperage catalog`: print the rules catalog (Markdown, docs/rules-catalog.md): each rule, its legal
//! bases, conditions and stated simplifications.

use std::path::PathBuf;

use anyhow::Result;

use crate::Exit;
use crate::common::{current_month, load_rules, stdout};

#[derive(clap::Args)]
pub struct CatalogArgs {
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

pub fn run(args: CatalogArgs) -> Result<Exit> {
    let CatalogArgs { rules } = args;
    let rs = load_rules(&rules, current_month())?;
    stdout(&reperage_rules::catalog::markdown(&rs))?;
    Ok(Exit::Success)
}
