//! `explain`: why one foyer was or was not flagged, from the same evaluation as `screen`.

use std::path::Path;

use reperage_rules::explain::{Explanation, explain};
use reperage_rules::{Mois, RuleSet, StaleParameter};

use polars::prelude::DataFrame;
use reperage_rules::Compiled;

use crate::evaluation;
use crate::extract::routage;
use crate::extract::{self, ColonneAutorisee, Extract, Table};
use crate::partitions::{Coupe, Partitions};
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

/// What the evaluation of one foyer's piece gave.
#[derive(Default)]
struct One<'a> {
    id_foyer: &'a str,
    quarantined: Option<String>,
    frame: Option<DataFrame>,
}

impl evaluation::Etapes for One<'_> {
    fn validee(&mut self, _: usize, extract: &Extract, _: Option<&Extract>) -> Result<bool, ScreenError> {
        self.quarantined =
            extract.foyers_quarantaine.iter().find(|q| q.id_foyer == self.id_foyer).map(|q| q.motif.clone());
        Ok(self.quarantined.is_none())
    }

    fn evaluee(&mut self, _: usize, _: &Compiled, _: &Extract, eval: DataFrame) -> Result<(), ScreenError> {
        self.frame = Some(eval);
        Ok(())
    }
}

fn explain_one(
    dir: &Path,
    precedent: Option<&Path>,
    mois: Mois,
    rules: &RuleSet,
    id_foyer: &str,
    autorisees: &[ColonneAutorisee],
) -> Result<Outcome, ScreenError> {
    // The same evaluation as `screen`, on a piece that holds this foyer only: every row
    // is read (and checked: duplicates across the extract are still refused), only its
    // foyer's rows are kept.
    let coupe = Coupe { partitions: Partitions::around(id_foyer), partie: 1, pieces: Partitions::one() };
    let mut current = routage::route(dir, &Table::ALL, autorisees, &coupe, dir)?;
    let mut previous =
        precedent.map(|p| routage::route(p, &extract::TABLES_PRECEDENT, autorisees, &coupe, p)).transpose()?;
    let mut one = One { id_foyer, ..One::default() };
    let compiled = evaluation::evaluate(&mut current, previous.as_mut(), rules, mois, &mut one)?;
    if let Some(motif) = one.quarantined {
        return Ok(Outcome::Quarantined { motif });
    }
    match one.frame {
        Some(df) if df.height() > 0 => Ok(Outcome::Evaluated(Box::new(explain(rules, &compiled, &df, 0)))),
        _ => Ok(Outcome::NotFound),
    }
}
