//! The rules catalog in Markdown (docs/rules-catalog.md), generated from the rule files
//! so that it cannot drift from them: each rule, its legal bases, its conditions and
//! its stated simplifications with their likely effect.

use std::fmt::Write as _;

use crate::model::{Def, DefBody, DefRole, RuleKind, RuleSet};

/// How a condition combines others (`None` for an expression): the form and the
/// conditions, for the Markdown catalog (in English) and the site (site.rs, in French).
pub fn forme(d: &Def) -> Option<(&'static str, Vec<&str>)> {
    fn names(c: &[String]) -> Vec<&str> {
        c.iter().map(String::as_str).collect()
    }
    match &d.body {
        DefBody::Toutes(c) => Some(("toutes", names(c))),
        DefBody::UneDe(c) => Some(("une_de", names(c))),
        DefBody::Non(c) => Some(("non", vec![c.as_str()])),
        DefBody::Expr(..) => None,
    }
}

/// Renders the catalog of every rule of `rs`.
pub fn markdown(rs: &RuleSet) -> String {
    let mut out = String::from(
        "# Rules catalog\n\n\
         Generated from `rules/` by `reperage catalog` (a test checks that this file is up to\n\
         date). For each rule: what it encodes, on which texts, and what the extract cannot\n\
         know — the stated simplifications and their likely effect on the number of foyers\n\
         found eligible or on the amount (*surestimation*: more foyers or a higher amount than\n\
         the law would give; *sous-estimation*: fewer or lower; *indetermine*: either way).\n",
    );
    for kind in [RuleKind::Prestation, RuleKind::Evenement] {
        let rules: Vec<_> = rs.rules.iter().filter(|r| r.kind == kind).collect();
        if rules.is_empty() {
            continue;
        }
        let heading = match kind {
            RuleKind::Prestation => "Benefits",
            RuleKind::Evenement => "Life events",
        };
        let _ = write!(out, "\n## {heading}\n");
        for r in rules {
            let _ = write!(out, "\n### `{}` — {}\n\n", r.id, r.titre);
            if let Some(d) = &r.description {
                let _ = writeln!(out, "{}\n", d.split_whitespace().collect::<Vec<_>>().join(" "));
            }
            let _ = writeln!(out, "File: `rules/{}`.\n", r.file);
            if r.versement_unique {
                out.push_str("Paid once: its amount is that single payment, not a monthly one.\n\n");
            }
            out.push_str("Legal bases:\n");
            for b in &r.base_legale {
                let _ = writeln!(out, "- {b}");
            }
            out.push_str("\nConditions:\n\n| condition | meaning | basis |\n|---|---|---|\n");
            for d in r.defs.iter().filter(|d| d.role == DefRole::Condition) {
                let form = match forme(d) {
                    Some(("toutes", c)) => format!(" (all of: {})", c.join(", ")),
                    Some(("une_de", c)) => format!(" (one of: {})", c.join(", ")),
                    Some((_, c)) => format!(" (not {})", c.join(", ")),
                    None => String::new(),
                };
                let bases: Vec<String> = d
                    .base_legale
                    .iter()
                    .map(|b| format!("{} {}", b.texte, b.article.as_deref().unwrap_or("")))
                    .collect();
                let _ = writeln!(out, "| `{}` | {}{} | {} |", d.name, d.titre, form, bases.join("; ").trim());
            }
            if !r.fonctions.is_empty() {
                out.push_str("\nFunctions (expanded at each call):\n\n| function | meaning | basis |\n|---|---|---|\n");
                for f in &r.fonctions {
                    let bases: Vec<String> = f.base_legale.iter().map(|b| b.to_string()).collect();
                    let _ = writeln!(
                        out,
                        "| `{}({})` | {} | {} |",
                        f.name,
                        f.parametres.join(", "),
                        f.titre,
                        bases.join("; ")
                    );
                }
            }
            if let Some(DefBody::Expr(_, when)) = r.def("montant_estime").map(|d| &d.body)
                && when != "faux"
            {
                let titre = r.def("montant_estime").map_or("", |d| d.titre.as_str());
                let _ = writeln!(out, "\nAmount marked as an estimate when `{when}`: {titre}.");
            }
            if r.simplifications.is_empty() {
                out.push_str("\nSimplifications: none stated.\n");
            } else {
                out.push_str("\nSimplifications:\n\n| likely effect | what the extract cannot know, and what the rule does |\n|---|---|\n");
                for s in &r.simplifications {
                    let _ = writeln!(out, "| {} | {} |", s.effet, s.texte);
                }
            }
            let _ = writeln!(out, "\nTest cases: {}.", r.tests.len());
        }
    }
    if !rs.campagnes.is_empty() {
        out.push_str(
            "\n## Campaigns\n\nOutbound contact lists built from the rules' results (docs/campaigns.md).\n\n\
             | priority | campaign | list of | rules | channels (in order) | social worker | cooldown | capacity per agency | control group |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for c in rs.campagnes_par_priorite() {
            let _ = writeln!(
                out,
                "| {} | `{}` — {} | {} | {} | {} | {} | {} months | {} | {} |",
                c.priorite.map_or("—".to_string(), |p| p.to_string()),
                c.id,
                c.titre,
                match c.liste {
                    crate::model::Liste::Foyers => "households",
                    crate::model::Liste::Bailleurs => "landlords",
                },
                c.regles.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                c.canaux.join(", "),
                match (c.liste, c.exclure_suivi_social) {
                    (crate::model::Liste::Bailleurs, _) => "—",
                    (_, true) => "excluded",
                    (_, false) => "kept",
                },
                c.delai_entre_contacts_mois,
                c.capacite_par_agence,
                if c.groupe_temoin > 0.0 { format!("{} %", c.groupe_temoin * 100.0) } else { "none".to_string() }
            );
        }
        let _ = writeln!(
            out,
            "\nA household is on one list at most each month: the campaign of highest priority that can reach \
             it takes it, with the other campaigns' reasons. A household contacted by any campaign is not \
             contacted again within {} month(s) (`campagnes/_reglages.toml`); so is a landlord. A landlord list \
             names landlords, not households, and takes no part in the households' arbitration.",
            rs.reglages_campagnes.delai_minimum_entre_contacts_mois
        );
    }
    out
}
