//! What `couverture` keeps of each evaluated piece: counts per rule, definition and
//! status, never a row.
//!
//! The **decisive** condition of a foyer for a rule is found by walking the rule's
//! condition tree from `eligible` (docs/audit.md):
//! - `toutes`: false, its first false condition; unknown, its first unknown one; true,
//!   the `toutes` itself (every condition held: none alone decided);
//! - `une_de`: true, its only true condition, or the `une_de` itself when several hold;
//!   unknown, its first unknown condition; false, the `une_de` itself (each was needed);
//! - `non`: the condition it negates;
//! - an expression: itself.
//!
//! and going down until a node decides by itself.

use std::collections::BTreeMap;

use polars::prelude::*;
use reperage_rules::model::{DefBody, Rule};
use reperage_rules::{Compiled, RuleSet};

use crate::screen::ScreenError;

/// The three statuses, in this order everywhere in the counts.
pub const STATUTS: [&str; 3] = ["eligible", "non_eligible", "indetermine"];

fn statut_index(eligible: Option<bool>) -> usize {
    match eligible {
        Some(true) => 0,
        Some(false) => 1,
        None => 2,
    }
}

/// Counts of one definition of a rule.
#[derive(Debug, Clone, Default)]
pub struct DefComptes {
    /// For a boolean definition: foyers where it is true, false.
    pub vrai: u64,
    pub faux: u64,
    /// Foyers where it has a value (any type), and where it is unknown.
    pub connu: u64,
    pub inconnu: u64,
    /// For a condition: foyers of each status ([`STATUTS`]) it decided.
    pub decisif: [u64; 3],
}

/// Counts of one rule.
#[derive(Debug, Clone)]
pub struct RegleComptes {
    pub id: String,
    /// Foyers of each status ([`STATUTS`]).
    pub statuts: [u64; 3],
    /// One per definition of the rule, in rule order.
    pub defs: Vec<DefComptes>,
    /// Undetermined foyers whose missing inputs name each input.
    pub bloquees: BTreeMap<String, u64>,
}

/// Counts of every rule over the foyers evaluated so far.
#[derive(Debug, Clone)]
pub struct Comptes {
    pub foyers: u64,
    pub regles: Vec<RegleComptes>,
    /// Foyers whose situation lacks each input.
    pub entrees_inconnues: BTreeMap<String, u64>,
}

/// A rule's condition tree, by definition index.
enum Noeud {
    Feuille,
    Toutes(Vec<usize>),
    UneDe(Vec<usize>),
    Non(usize),
}

fn arbre(rule: &Rule) -> Vec<Noeud> {
    let index = |name: &String| rule.defs.iter().position(|d| &d.name == name);
    rule.defs
        .iter()
        .map(|d| match &d.body {
            DefBody::Expr(..) => Noeud::Feuille,
            DefBody::Toutes(cs) => Noeud::Toutes(cs.iter().filter_map(index).collect()),
            DefBody::UneDe(cs) => Noeud::UneDe(cs.iter().filter_map(index).collect()),
            DefBody::Non(c) => index(c).map_or(Noeud::Feuille, Noeud::Non),
        })
        .collect()
}

/// The definition that decided row `row`, from `node` (its value `valeur`).
fn decisive(tree: &[Noeud], values: &[Option<Vec<Option<bool>>>], node: usize, row: usize) -> usize {
    let value = |i: usize| values[i].as_ref().and_then(|v| v[row]);
    let mut node = node;
    // The checker refuses cycles; the bound only guards the loop.
    for _ in 0..tree.len() + 1 {
        let v = value(node);
        let next = match &tree[node] {
            Noeud::Feuille => None,
            Noeud::Non(c) => Some(*c),
            Noeud::Toutes(cs) => match v {
                Some(false) => cs.iter().copied().find(|&c| value(c) == Some(false)),
                None => cs.iter().copied().find(|&c| value(c).is_none()),
                Some(true) => None,
            },
            Noeud::UneDe(cs) => match v {
                Some(true) => {
                    let vrais: Vec<usize> = cs.iter().copied().filter(|&c| value(c) == Some(true)).collect();
                    if vrais.len() == 1 { Some(vrais[0]) } else { None }
                }
                None => cs.iter().copied().find(|&c| value(c).is_none()),
                Some(false) => None,
            },
        };
        match next {
            Some(n) => node = n,
            None => return node,
        }
    }
    node
}

impl Comptes {
    pub fn new(rs: &RuleSet) -> Comptes {
        Comptes {
            foyers: 0,
            regles: rs
                .rules
                .iter()
                .map(|r| RegleComptes {
                    id: r.id.clone(),
                    statuts: [0; 3],
                    defs: vec![DefComptes::default(); r.defs.len()],
                    bloquees: BTreeMap::new(),
                })
                .collect(),
            entrees_inconnues: BTreeMap::new(),
        }
    }

    /// Adds one evaluated piece (one row per foyer, the situation and every rule column).
    pub fn add(&mut self, rs: &RuleSet, compiled: &Compiled, eval: &DataFrame) -> Result<(), ScreenError> {
        let rows = eval.height();
        self.foyers += rows as u64;
        for input in compiled.inputs.keys() {
            let nulls = eval.column(input).map_or(rows, |c| c.null_count()) as u64;
            *self.entrees_inconnues.entry(input.clone()).or_default() += nulls;
        }
        for (rule, comptes) in rs.rules.iter().zip(self.regles.iter_mut()) {
            let Some(cr) = compiled.rule(&rule.id) else { continue };
            let tree = arbre(rule);
            // Boolean definitions as vectors; others counted known or unknown.
            let mut values: Vec<Option<Vec<Option<bool>>>> = Vec::with_capacity(rule.defs.len());
            for (def, c) in rule.defs.iter().zip(comptes.defs.iter_mut()) {
                let column = eval.column(&reperage_rules::model::column(&rule.id, &def.name))?;
                let nulls = column.null_count() as u64;
                c.inconnu += nulls;
                c.connu += rows as u64 - nulls;
                if let Ok(b) = column.bool() {
                    let v: Vec<Option<bool>> = b.iter().collect();
                    let vrais = v.iter().filter(|x| **x == Some(true)).count() as u64;
                    c.vrai += vrais;
                    c.faux += rows as u64 - nulls - vrais;
                    values.push(Some(v));
                } else {
                    values.push(None);
                }
            }
            let Some(root) = rule.defs.iter().position(|d| d.name == "eligible") else { continue };
            for row in 0..rows {
                let s = statut_index(values[root].as_ref().and_then(|v| v[row]));
                comptes.statuts[s] += 1;
                let d = decisive(&tree, &values, root, row);
                comptes.defs[d].decisif[s] += 1;
            }
            // Which inputs block the undetermined foyers.
            let manquants = eval.column(&cr.manquants)?.str()?;
            for m in manquants.iter().flatten() {
                for input in m.split(", ").filter(|s| !s.is_empty()) {
                    *comptes.bloquees.entry(input.to_string()).or_default() += 1;
                }
            }
        }
        Ok(())
    }
}
