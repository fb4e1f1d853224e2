//! What differs between the two sides of a `diff` in the texts: parameter values read,
//! and definitions (with their file and line).

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use reperage_rules::model::{Def, DefBody, Rule};
use reperage_rules::{Compiled, RuleSet};

use crate::couverture::valeur_texte;

/// A parameter whose values read differ.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamChange {
    pub id: String,
    pub titre: String,
    /// The values read, each with the date it is read at and the date it is in force
    /// since; empty when the side does not read the parameter.
    pub avant: Vec<String>,
    pub apres: Vec<String>,
    /// The text that sets the value after (of its first value read), or before when the
    /// parameter is no longer read.
    pub source: String,
    pub url: String,
}

/// The values of each parameter the compiled rules read, as text, by parameter.
fn lus(c: &Compiled) -> BTreeMap<&str, (Vec<String>, &reperage_rules::UsedParam)> {
    let mut out: BTreeMap<&str, (Vec<String>, &reperage_rules::UsedParam)> = BTreeMap::new();
    for p in &c.params {
        let text = match &p.unite {
            Some(u) => format!("{} {u} (en vigueur depuis le {})", valeur_texte(&p.value.valeur), p.value.depuis),
            None => format!("{} (en vigueur depuis le {})", valeur_texte(&p.value.valeur), p.value.depuis),
        };
        out.entry(p.id.as_str()).or_insert_with(|| (Vec::new(), p)).0.push(text);
    }
    out
}

/// The parameters whose values read differ between the two evaluations, in id order.
pub fn parametres(avant: &Compiled, apres: &Compiled) -> Vec<ParamChange> {
    let (a, b) = (lus(avant), lus(apres));
    let ids: BTreeSet<&str> = a.keys().chain(b.keys()).copied().collect();
    ids.into_iter()
        .filter_map(|id| {
            let va = a.get(id).map(|x| x.0.clone()).unwrap_or_default();
            let vb = b.get(id).map(|x| x.0.clone()).unwrap_or_default();
            if va == vb {
                return None;
            }
            let p = b.get(id).or(a.get(id)).map(|x| x.1)?;
            Some(ParamChange {
                id: id.to_string(),
                titre: p.titre.clone(),
                avant: va,
                apres: vb,
                source: p.value.source.clone(),
                url: p.value.url.clone(),
            })
        })
        .collect()
}

/// A definition added, removed or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct DefChange {
    pub regle: String,
    pub definition: String,
    /// `ajoutee`, `supprimee` or `modifiee` (a whole rule: `regle ajoutee`, `regle supprimee`).
    pub changement: &'static str,
    /// File and 1-based line of the definition on the side that has it ("after" first).
    pub fichier: String,
    pub ligne: Option<usize>,
    pub avant: Option<String>,
    pub apres: Option<String>,
}

/// A definition's body as the rule file writes it.
fn corps(d: &Def) -> String {
    let list = |cs: &[String]| cs.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
    match &d.body {
        DefBody::Expr(_, text) => text.clone(),
        DefBody::Toutes(cs) => format!("toutes = [{}]", list(cs)),
        DefBody::UneDe(cs) => format!("une_de = [{}]", list(cs)),
        DefBody::Non(c) => format!("non = \"{c}\""),
    }
}

/// The 1-based line where a definition is written in its rule's file: its table header
/// (`[conditions.x]`), or for the definitions every rule gets, the table or key they
/// come from.
fn ligne(rs: &RuleSet, rule: &Rule, d: &Def) -> Option<usize> {
    let text = &rs.files.iter().find(|f| f.path == rule.file)?.text;
    let wanted: Vec<String> = match d.name.as_str() {
        "eligibilite" => vec!["[eligibilite]".into()],
        "montant_calcule" | "montant_versable" | "montant_estime" => vec!["[montant]".into()],
        "en_paiement" => vec!["en_paiement".into()],
        name => vec![format!("[conditions.{name}]"), format!("[variables.{name}]")],
    };
    text.lines().position(|l| wanted.iter().any(|w| l.trim_start().starts_with(w.as_str()))).map(|i| i + 1)
}

/// The definitions that differ between two rule sets, in rule and definition order.
pub fn definitions(avant: &RuleSet, apres: &RuleSet) -> Vec<DefChange> {
    let ids: BTreeSet<&str> =
        avant.rules.iter().map(|r| r.id.as_str()).chain(apres.rules.iter().map(|r| r.id.as_str())).collect();
    let mut out = Vec::new();
    for id in ids {
        match (avant.rule(id), apres.rule(id)) {
            (None, Some(b)) => out.push(DefChange {
                regle: id.into(),
                definition: String::new(),
                changement: "regle ajoutee",
                fichier: b.file.clone(),
                ligne: Some(1),
                avant: None,
                apres: None,
            }),
            (Some(a), None) => out.push(DefChange {
                regle: id.into(),
                definition: String::new(),
                changement: "regle supprimee",
                fichier: a.file.clone(),
                ligne: Some(1),
                avant: None,
                apres: None,
            }),
            (Some(a), Some(b)) => {
                let names: Vec<&str> = {
                    let mut seen = BTreeSet::new();
                    b.defs.iter().chain(&a.defs).map(|d| d.name.as_str()).filter(|n| seen.insert(*n)).collect()
                };
                for name in names {
                    let (da, db) = (a.def(name), b.def(name));
                    let (ta, tb) = (da.map(corps), db.map(corps));
                    if ta == tb {
                        continue;
                    }
                    let changement = match (da, db) {
                        (None, _) => "ajoutee",
                        (_, None) => "supprimee",
                        _ => "modifiee",
                    };
                    let (rs, rule, def) = match (da, db) {
                        (_, Some(d)) => (apres, b, d),
                        (Some(d), None) => (avant, a, d),
                        (None, None) => continue,
                    };
                    out.push(DefChange {
                        regle: id.into(),
                        definition: name.into(),
                        changement,
                        fichier: rule.file.clone(),
                        ligne: ligne(rs, rule, def),
                        avant: ta,
                        apres: tb,
                    });
                }
            }
            (None, None) => {}
        }
    }
    out
}

pub fn parametres_frame(p: &[ParamChange]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("parametre".into(), p.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()),
        Column::new("titre".into(), p.iter().map(|c| c.titre.as_str()).collect::<Vec<_>>()),
        Column::new("avant".into(), p.iter().map(|c| c.avant.join(" ; ")).collect::<Vec<_>>()),
        Column::new("apres".into(), p.iter().map(|c| c.apres.join(" ; ")).collect::<Vec<_>>()),
        Column::new("source".into(), p.iter().map(|c| c.source.as_str()).collect::<Vec<_>>()),
        Column::new("url".into(), p.iter().map(|c| c.url.as_str()).collect::<Vec<_>>()),
    ])
}

pub fn definitions_frame(d: &[DefChange]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        Column::new("regle".into(), d.iter().map(|c| c.regle.as_str()).collect::<Vec<_>>()),
        Column::new("definition".into(), d.iter().map(|c| c.definition.as_str()).collect::<Vec<_>>()),
        Column::new("changement".into(), d.iter().map(|c| c.changement).collect::<Vec<_>>()),
        Column::new("fichier".into(), d.iter().map(|c| c.fichier.as_str()).collect::<Vec<_>>()),
        Column::new("ligne".into(), d.iter().map(|c| c.ligne.map(|l| l as u64)).collect::<Vec<_>>()),
        Column::new("avant".into(), d.iter().map(|c| c.avant.clone()).collect::<Vec<_>>()),
        Column::new("apres".into(), d.iter().map(|c| c.apres.clone()).collect::<Vec<_>>()),
    ])
}
