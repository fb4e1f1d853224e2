//! `reperage check`: check the rule and parameter files: syntax, names, types, cycles, legal bases,
//! parameter values in force at the month.

use std::path::PathBuf;

use anyhow::Result;
use reperage_rules::check;
use reperage_rules::check::{FileRole, file_role};

use crate::Exit;
use crate::common::{Format, current_month, parse_mois, rule_files, stdout};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Reference month YYYY-MM (default: the current month).
    #[arg(long)]
    pub mois: Option<String>,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

pub fn run(args: CheckArgs) -> Result<Exit> {
    let CheckArgs { rules, mois, format } = args;
    let mois = match mois {
        Some(m) => parse_mois(&m)?,
        None => current_month(),
    };
    let (files, origin) = rule_files(&rules)?;
    let checked = check(&files, mois);
    let d = &checked.diagnostics;
    let (errors, warnings) = (d.errors().count(), d.warnings().count());
    match format {
        Format::Json => stdout(&format!("{}\n", serde_json::to_string_pretty(d)?))?,
        Format::Text => eprint!("{d}"),
    }
    let count = |role| files.iter().filter(|f| file_role(&f.path) == role).count();
    let (n_rules, n_params) = (count(FileRole::Regle), count(FileRole::Parametres));
    let n_campaigns = count(FileRole::Campagne);
    let summary = format!(
        "check {origin} for {mois}: {n_rules} rule file(s), {n_params} parameter file(s), {n_campaigns} campaign(s) — {errors} error(s), {warnings} warning(s)"
    );
    eprintln!("{summary}");
    Ok(if errors > 0 { Exit::Failure } else { Exit::Success })
}
