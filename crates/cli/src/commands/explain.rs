//! `reperage explain`: explain one foyer's results: first a summary of a screen at most (each rule that
//! fires or is undetermined, the conditions that decided it and the missing data by
//! their titles, the parameter that sets its amount), then, on request, one rule's
//! full tree (--regle), the data the rules read (--situation), every rule (--tout).

use std::path::PathBuf;

use anyhow::{Result, bail};
use reperage_batch::explain::Outcome;
use reperage_batch::extract::ColonneAutorisee;

use crate::Exit;
use crate::common::{Format, load_rules, log_autorisees, parse_colonne, parse_mois, print_stale, stdout};

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The extract folder the foyer is in.
    #[arg(long)]
    pub extract: PathBuf,
    /// Last month's extract, as for `screen`.
    #[arg(long)]
    pub precedent: Option<PathBuf>,
    /// Reference month YYYY-MM.
    #[arg(long)]
    pub mois: String,
    /// The foyer's id (`id_foyer`).
    #[arg(long)]
    pub foyer: String,
    /// Rules folder (default: the catalog embedded in this binary).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// `text` (the summary, or what --regle, --situation, --tout ask) or `json` (every
    /// rule, condition, variable, parameter and input).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Show this rule's full explanation instead of the summary: its condition tree
    /// with each value, each legal text once where first needed, its variables,
    /// parameters and simplifications. Repeatable.
    #[arg(long = "regle", value_name = "ID")]
    pub regles: Vec<String>,
    /// Also show the data the shown rules read, with their values and titles.
    #[arg(long)]
    pub situation: bool,
    /// Detail every rule in the summary, not only those that fire or are undetermined.
    #[arg(long)]
    pub tout: bool,
    /// Refuse to run (exit 1) when a parameter may be out of date for the month.
    #[arg(long)]
    pub parametres_a_jour: bool,
    /// As for `screen`.
    #[arg(long = "colonne-autorisee", value_parser = parse_colonne)]
    pub colonnes_autorisees: Vec<ColonneAutorisee>,
}

pub fn run(args: ExplainArgs) -> Result<Exit> {
    let ExplainArgs {
        extract,
        precedent,
        mois,
        foyer,
        rules,
        format,
        regles,
        situation,
        tout,
        parametres_a_jour,
        colonnes_autorisees,
    } = args;
    let mois = parse_mois(&mois)?;
    log_autorisees(&colonnes_autorisees);
    let rs = load_rules(&rules, mois)?;
    let (outcome, stale) = reperage_batch::explain::explain_foyer(
        &extract,
        precedent.as_deref(),
        mois,
        &rs,
        &foyer,
        parametres_a_jour,
        &colonnes_autorisees,
    )?;
    print_stale(&stale, mois);
    match outcome {
        Outcome::Evaluated(e) => match format {
            Format::Text => stdout(&explanation_text(&e, &regles, situation, tout)?)?,
            Format::Json => stdout(&format!("{}\n", serde_json::to_string_pretty(&e)?))?,
        },
        Outcome::Quarantined { motif } => {
            stdout(&format!("Foyer {foyer} : en quarantaine, non évalué ({motif})\n"))?;
        }
        Outcome::NotFound => bail!("foyer `{foyer}` is not in the extract"),
    }
    Ok(Exit::Success)
}

/// What `explain` prints as text: the summary, or the rules asked for; then, with
/// `situation`, the data those rules read.
fn explanation_text(
    e: &reperage_rules::explain::Explanation,
    regles: &[String],
    situation: bool,
    tout: bool,
) -> Result<String> {
    let mut text = String::new();
    let shown: Vec<&str> = if regles.is_empty() {
        text.push_str(&e.resume(tout));
        e.shown(tout).iter().map(|r| r.id.as_str()).collect()
    } else {
        for id in regles {
            let Some(detail) = e.detail(id) else {
                let known: Vec<&str> = e.regles.iter().map(|r| r.id.as_str()).collect();
                bail!("no rule `{id}` among the rules evaluated: {}", known.join(", "));
            };
            text.push_str(&detail);
        }
        regles.iter().map(String::as_str).collect()
    };
    if situation {
        text.push('\n');
        text.push_str(&e.situation_lue(&shown));
    }
    Ok(text)
}
