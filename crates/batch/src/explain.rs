//! `explain`: why one foyer was or was not flagged, from the same evaluation as `screen`.

use std::path::Path;

use reperage_rules::explain::{Explanation, explain};
use reperage_rules::{Mois, RuleSet, StaleParameter};

use crate::evaluation;
use crate::extract::{self, ColonneAutorisee};
use crate::screen::ScreenError;

pub enum Outcome {
    Evaluated(Box<Explanation>),
    /// The foyer is in the extract but was quarantined: it was not evaluated.
    Quarantined {
        motif: String,
    },
    NotFound,
}

/// Explains one foyer of the extract in `dir` for `mois`. Parameters that may be out of
/// date are returned with the outcome, or refused with `parametres_a_jour` (as `screen`).
pub fn explain_foyer(
    dir: &Path,
    precedent: Option<&Path>,
    mois: Mois,
    rules: &RuleSet,
    id_foyer: &str,
    parametres_a_jour: bool,
    autorisees: &[ColonneAutorisee],
) -> Result<(Outcome, Vec<StaleParameter>), ScreenError> {
    let stale = crate::screen::stale_parameters(rules, mois, parametres_a_jour)?;
    let outcome = explain_one(dir, precedent, mois, rules, id_foyer, autorisees)?;
    Ok((outcome, stale))
}

fn explain_one(
    dir: &Path,
    precedent: Option<&Path>,
    mois: Mois,
    rules: &RuleSet,
    id_foyer: &str,
    autorisees: &[ColonneAutorisee],
) -> Result<Outcome, ScreenError> {
    let extract = extract::load_tables(dir, mois, &extract::Table::ALL, autorisees)?;
    let previous = precedent
        .map(|p| extract::load_tables(p, mois.plus(-1), &extract::TABLES_PRECEDENT, autorisees))
        .transpose()?;
    if let Some(q) = extract.foyers_quarantaine.iter().find(|q| q.id_foyer == id_foyer) {
        return Ok(Outcome::Quarantined { motif: q.motif.clone() });
    }
    let (compiled, df) = evaluation::evaluate_one(&extract, previous.as_ref(), rules, mois, id_foyer)?;
    if df.height() == 0 {
        return Ok(Outcome::NotFound);
    }
    Ok(Outcome::Evaluated(Box::new(explain(rules, &compiled, &df, 0))))
}
