//! Why a foyer was or was not found eligible: the condition tree of each rule with the
//! value of every condition and variable, and every parameter with its date in force
//! and its legal source. Rendered as French text (people have a right to an
//! explanation of algorithmic decisions concerning them) or as JSON.

use std::fmt::{self, Write as _};

use polars::prelude::*;

use crate::compile::{Compiled, Reach, UsedParam};
use crate::date::Date;
use crate::model::{DefBody, DefRole, LegalBasis, ParamValue, Rule, RuleKind, RuleSet, Simplification, Value, column};

mod resume;
pub use resume::LIGNES_MAX;

/// One condition of the tree, with its value for the foyer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Node {
    pub nom: String,
    pub titre: String,
    pub valeur: Value,
    /// `expr`, `toutes`, `une_de` or `non`.
    pub forme: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_legale: Vec<LegalBasis>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Node>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct VariableValue {
    pub nom: String,
    pub titre: String,
    pub valeur: Value,
    pub expr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unite: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleExplanation {
    pub id: String,
    pub titre: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub statut: Value,
    pub montant: Value,
    /// The amount is paid once (a prime), not each month.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub versement_unique: bool,
    pub manquants: Vec<String>,
    /// Whether the benefit is in payment (benefit rules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en_paiement: Option<Value>,
    pub base_legale: Vec<LegalBasis>,
    pub arbre: Node,
    /// Conditions defined by the rule but outside its eligibility tree.
    pub autres_conditions: Vec<Node>,
    pub variables: Vec<VariableValue>,
    pub parametres: Vec<UsedParam>,
    /// The parameters the amount reads through this rule's own definitions, in the order
    /// they are met from `montant_calcule` (the first sets it most directly).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parametres_du_montant: Vec<String>,
    /// The situation inputs the rule reads, directly or through other definitions.
    pub entrees: Vec<String>,
    pub simplifications: Vec<Simplification>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct InputValue {
    pub nom: String,
    pub titre: String,
    pub valeur: Value,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Explanation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_foyer: Option<String>,
    pub mois: String,
    pub situation: Vec<InputValue>,
    pub regles: Vec<RuleExplanation>,
}

/// The value of column `name` in row `row` of `df` (unknown when null or absent).
pub fn cell(df: &DataFrame, name: &str, row: usize) -> Value {
    let Ok(c) = df.column(name) else { return Value::Inconnu };
    match c.get(row) {
        Ok(AnyValue::Null) | Err(_) => Value::Inconnu,
        Ok(AnyValue::Boolean(b)) => Value::Booleen(b),
        Ok(AnyValue::String(s)) => Value::Texte(s.to_string()),
        Ok(AnyValue::StringOwned(s)) => Value::Texte(s.to_string()),
        Ok(AnyValue::Date(d)) => Value::Date(Date::from_days(d).to_string()),
        Ok(v) => v.extract::<f64>().map_or(Value::Inconnu, Value::Nombre),
    }
}

fn node(rule: &Rule, name: &str, df: &DataFrame, row: usize, depth: usize) -> Node {
    let def = rule.def(name);
    let (forme, expr, children): (&'static str, Option<String>, Vec<String>) = match def.map(|d| &d.body) {
        Some(DefBody::Expr(_, text)) => ("expr", Some(text.clone()), vec![]),
        Some(DefBody::Toutes(cs)) => ("toutes", None, cs.clone()),
        Some(DefBody::UneDe(cs)) => ("une_de", None, cs.clone()),
        Some(DefBody::Non(c)) => ("non", None, vec![c.clone()]),
        None => ("expr", None, vec![]),
    };
    Node {
        nom: name.to_string(),
        titre: def.map_or_else(String::new, |d| d.titre.clone()),
        valeur: cell(df, &column(&rule.id, name), row),
        forme,
        expr,
        base_legale: def.map_or_else(Vec::new, |d| d.base_legale.clone()),
        // Depth bound: the checker refuses cycles, this only guards the recursion.
        conditions: if depth > 64 {
            vec![]
        } else {
            children.iter().map(|c| node(rule, c, df, row, depth + 1)).collect()
        },
    }
}

fn tree_names(n: &Node, out: &mut std::collections::BTreeSet<String>) {
    out.insert(n.nom.clone());
    n.conditions.iter().for_each(|c| tree_names(c, out));
}

/// The parameters `montant_calcule` reads through the rule's own definitions (another
/// rule's amount it reads is that rule's to explain), in the order met, each once.
fn amount_params(rs: &RuleSet, rule: &Rule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let starts = vec![(rule.id.clone(), "montant_calcule".into())];
    for e in crate::compile::reachable_exprs(rs, starts, Reach::OwnExpressions) {
        for p in e.params() {
            if !out.iter().any(|q| q == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// Explains row `row` of `df`, a frame produced by [`Compiled::apply`] (it holds the
/// situation inputs and every rule column).
pub fn explain(rs: &RuleSet, compiled: &Compiled, df: &DataFrame, row: usize) -> Explanation {
    let situation = rs
        .inputs
        .values()
        .filter(|i| df.column(&i.name).is_ok())
        .map(|i| InputValue { nom: i.name.clone(), titre: i.titre.clone(), valeur: cell(df, &i.name, row) })
        .collect();
    let regles = compiled
        .rules
        .iter()
        .filter_map(|cr| {
            let rule = rs.rule(&cr.id)?;
            let arbre = node(rule, "eligible", df, row, 0);
            let mut in_tree = std::collections::BTreeSet::new();
            tree_names(&arbre, &mut in_tree);
            let autres_conditions = rule
                .defs
                .iter()
                .filter(|d| d.role == DefRole::Condition && !in_tree.contains(&d.name))
                .map(|d| node(rule, &d.name, df, row, 0))
                .collect();
            let variables = rule
                .defs
                .iter()
                .filter(|d| d.role == DefRole::Variable)
                .map(|d| VariableValue {
                    nom: d.name.clone(),
                    titre: d.titre.clone(),
                    valeur: cell(df, &column(&rule.id, &d.name), row),
                    expr: match &d.body {
                        DefBody::Expr(_, text) => text.clone(),
                        _ => String::new(),
                    },
                    unite: d.unite.clone(),
                })
                .collect();
            let manquants = match cell(df, &cr.manquants, row) {
                Value::Texte(t) => t.split(", ").map(str::to_string).collect(),
                _ => vec![],
            };
            Some(RuleExplanation {
                id: rule.id.clone(),
                titre: rule.titre.clone(),
                kind: rule.kind.name(),
                statut: cell(df, &cr.statut, row),
                montant: cell(df, &cr.montant, row),
                versement_unique: rule.versement_unique,
                manquants,
                en_paiement: cr.en_paiement.as_ref().map(|c| cell(df, c, row)),
                base_legale: rule.base_legale.clone(),
                arbre,
                autres_conditions,
                variables,
                parametres: compiled.params.iter().filter(|p| cr.params.contains(&p.id)).cloned().collect(),
                parametres_du_montant: if cr.has_montant { amount_params(rs, rule) } else { vec![] },
                entrees: cr.inputs.iter().cloned().collect(),
                simplifications: rule.simplifications.clone(),
            })
        })
        .collect();
    let id_foyer = match cell(df, "id_foyer", row) {
        Value::Texte(t) => Some(t),
        _ => None,
    };
    Explanation { id_foyer, mois: compiled.mois.to_string(), situation, regles }
}

/// An input as a reader should see it: its title with its id in brackets (the id alone
/// when it has no title), as `explain` and the signalements' `motifs` name missing data.
pub fn titre_et_id(titre: &str, id: &str) -> String {
    if titre.is_empty() { id.to_string() } else { format!("{titre} ({id})") }
}

/// A parameter value as French text, exactly as written in its file (shortest exact
/// representation, decimal comma): a rate of 0,165 must not read 0,17.
pub fn format_exact(n: f64) -> String {
    format!("{n}").replace('.', ",")
}

/// An expression on one line, for display.
fn one_line(e: &str) -> String {
    e.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A computed number as French text: decimal comma, at most two decimals, no trailing zeros.
pub fn format_number(n: f64) -> String {
    let s = if n.fract() == 0.0 && n.abs() < 1e15 { format!("{n:.0}") } else { format!("{n:.2}") };
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    s.replace('.', ",")
}

fn mark(v: &Value) -> &'static str {
    match v {
        Value::Booleen(true) => "[oui]    ",
        Value::Booleen(false) => "[non]    ",
        _ => "[inconnu]",
    }
}

/// Writes condition `n` and its children; each legal basis once (`cited` holds those
/// already written, in the rule's header or higher in the tree).
fn write_node(out: &mut String, n: &Node, indent: usize, cited: &mut std::collections::BTreeSet<String>) {
    let pad = "  ".repeat(indent);
    let _ = write!(out, "{pad}{} {} — {}", mark(&n.valeur), n.nom, n.titre);
    match n.forme {
        "toutes" => out.push_str(" (toutes ces conditions)"),
        "une_de" => out.push_str(" (une de ces conditions)"),
        "non" => out.push_str(" (négation)"),
        _ => {}
    }
    out.push('\n');
    if let Some(e) = &n.expr {
        let _ = writeln!(out, "{pad}            si : {}", one_line(e));
    }
    for b in &n.base_legale {
        let text = b.to_string();
        if cited.insert(text.clone()) {
            let _ = writeln!(out, "{pad}            base : {text}");
        }
    }
    for c in &n.conditions {
        write_node(out, c, indent + 1, cited);
    }
}

fn param_value_text(p: &UsedParam) -> String {
    match &p.value.valeur {
        ParamValue::Nombre(n) => format_exact(*n),
        ParamValue::Booleen(b) => if *b { "vrai" } else { "faux" }.to_string(),
        ParamValue::Bareme(s) => {
            let mut parts: Vec<String> =
                s.tranches.iter().map(|(de, v)| format!("dès {} : {}", format_exact(*de), format_exact(*v))).collect();
            if let Some(step) = s.par_unite_au_dela {
                parts.push(format!("puis +{} par unité", format_exact(step)));
            }
            format!("barème [{}]", parts.join(" ; "))
        }
    }
}

impl fmt::Display for RuleExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let _ = writeln!(out, "== {} — {} ({})", self.id, self.titre, self.kind);
        let montant = match &self.montant {
            Value::Nombre(n) if self.kind == RuleKind::Evenement.name() => {
                format!(", montant mensuel en jeu {} €", format_number(*n))
            }
            Value::Nombre(n) if self.versement_unique => {
                format!(", montant estimé {} € (versement unique)", format_number(*n))
            }
            Value::Nombre(n) => format!(", montant mensuel estimé {} €", format_number(*n)),
            _ => String::new(),
        };
        let statut = match &self.statut {
            Value::Texte(t) => t.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(out, "Résultat : {statut}{montant}");
        if !self.manquants.is_empty() {
            let _ = writeln!(out, "Données manquantes : {}", self.manquants.join(", "));
        }
        let mut cited = std::collections::BTreeSet::new();
        for b in &self.base_legale {
            cited.insert(b.to_string());
            let _ = writeln!(out, "Base légale : {b}");
        }
        out.push_str("Conditions :\n");
        write_node(&mut out, &self.arbre, 1, &mut cited);
        for n in &self.autres_conditions {
            write_node(&mut out, n, 1, &mut cited);
        }
        if !self.variables.is_empty() {
            out.push_str("Variables :\n");
            for v in &self.variables {
                let unite = v.unite.as_deref().map_or(String::new(), |u| format!(" {u}"));
                let _ = writeln!(out, "  {} = {}{} — {}", v.nom, v.valeur, unite, v.titre);
                let _ = writeln!(out, "      calcul : {}", one_line(&v.expr));
            }
        }
        if !self.parametres.is_empty() {
            out.push_str("Paramètres :\n");
            // A parameter read at several dates by the rules of the run: each value once.
            let mut shown = std::collections::BTreeSet::new();
            for p in self.parametres.iter().filter(|p| shown.insert((p.id.as_str(), p.value.depuis.as_str()))) {
                let unite = p.unite.as_deref().map_or(String::new(), |u| format!(" {u}"));
                let _ = writeln!(
                    out,
                    "  {} = {}{} (en vigueur depuis le {}) — {}",
                    p.id,
                    param_value_text(p),
                    unite,
                    p.value.depuis,
                    p.titre
                );
                let _ = writeln!(out, "      source : {} <{}>", p.value.source, p.value.url);
            }
        }
        if !self.simplifications.is_empty() {
            out.push_str("Simplifications assumées :\n");
            for s in &self.simplifications {
                let _ = writeln!(out, "  - ({}) {}", s.effet, s.texte);
            }
        }
        f.write_str(&out)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Mois de référence : {}", self.mois)?;
        writeln!(f, "Situation :")?;
        for i in &self.situation {
            writeln!(f, "  {} = {} — {}", i.nom, i.valeur, i.titre)?;
        }
        for r in &self.regles {
            writeln!(f)?;
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::format_number;

    #[test]
    fn numbers_read_the_french_way() {
        assert_eq!(format_number(646.52), "646,52");
        assert_eq!(format_number(600.0), "600");
        assert_eq!(format_number(0.5), "0,5");
        assert_eq!(format_number(-3.333), "-3,33");
        assert_eq!(super::format_exact(0.165), "0,165");
        assert_eq!(super::format_exact(1.28412), "1,28412");
        assert_eq!(super::format_exact(12411.44), "12411,44");
    }
}
