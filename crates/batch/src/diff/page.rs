//! `diff.html`: what changes, for an auditor or a lawyer of the caisse, in one French
//! page without script. Counts only: the ids are in `foyers_modifies.csv`, never here.

use std::fmt::Write as _;

use reperage_rules::{Mois, RuleSet};

use super::textes::{DefChange, ParamChange};
use super::{RegleDiff, distribution};
use reperage_rules::site::esc;

pub struct Contexte<'a> {
    pub mois: Mois,
    pub mois_avant: Mois,
    /// Two rule folders (else the same rules at two months).
    pub par_regles: bool,
    pub foyers: u64,
    pub regles: &'a [RegleDiff],
    pub rules: &'a RuleSet,
    pub parametres: &'a [ParamChange],
    pub definitions: &'a [DefChange],
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}\
.moins{color:#b00020}.plus{color:#1b6e20}";

fn euros(x: f64) -> String {
    format!("{x:.2} €").replace('.', ",")
}

pub fn html(ctx: &Contexte) -> String {
    let mut h = String::new();
    let quoi = if ctx.par_regles {
        format!("deux jeux de règles, en {}", ctx.mois)
    } else {
        format!("les paramètres de {} et ceux de {}", ctx.mois_avant, ctx.mois)
    };
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Différences entre règles — {mois}</title><style>{STYLE}</style></head><body>\
         <h1>Ce qui change entre {quoi}</h1><p>{n} foyers comparés : les mêmes situations, évaluées avec les règles \
         « avant » et « après ». Les identifiants des foyers dont le statut ou le signalement change sont dans \
         <code>foyers_modifies.csv</code>, jamais dans cette page.</p>",
        mois = ctx.mois,
        quoi = esc(&quoi),
        n = ctx.foyers,
    );
    h.push_str(
        "<h2>Par règle</h2><table><thead><tr><th>Règle</th><th>Deviennent éligibles</th><th>Ne le sont plus</th>\
         <th>Signalements apparus</th><th>disparus</th><th>Éligibles avant et après</th><th>dont montant modifié</th>\
         <th>Écart total</th><th>min</th><th>1er quartile</th><th>médiane</th><th>3e quartile</th><th>max</th></tr></thead><tbody>",
    );
    for r in ctx.regles {
        let titre = ctx.rules.rule(&r.id).map_or("", |x| x.titre.as_str());
        let _ = write!(
            h,
            "<tr><td>{} <small>({})</small></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            esc(titre),
            esc(&r.id),
            r.gagnent(),
            r.perdent(),
            r.signalements_apparus,
            r.signalements_disparus
        );
        match distribution(&r.ecarts) {
            Some(d) => {
                let _ = write!(
                    h,
                    "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                     <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    d.n,
                    d.modifies,
                    euros(d.somme),
                    euros(d.min),
                    euros(d.q1),
                    euros(d.mediane),
                    euros(d.q3),
                    euros(d.max)
                );
            }
            None => h.push_str("<td class=\"n\">0</td><td colspan=\"7\"></td></tr>"),
        }
    }
    h.push_str("</tbody></table><h2>Paramètres dont la valeur lue change</h2>");
    if ctx.parametres.is_empty() {
        h.push_str("<p>Aucun.</p>");
    } else {
        h.push_str(
            "<table><thead><tr><th>Paramètre</th><th>Avant</th><th>Après</th><th>Source</th></tr></thead><tbody>",
        );
        for p in ctx.parametres {
            let _ = write!(
                h,
                "<tr><td><code>{}</code> {}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
                esc(&p.id),
                esc(&p.titre),
                esc(&p.avant.join(" ; ")),
                esc(&p.apres.join(" ; ")),
                esc(&p.url),
                esc(&p.source)
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("<h2>Définitions modifiées</h2>");
    if ctx.definitions.is_empty() {
        h.push_str("<p>Aucune.</p>");
    }
    for d in ctx.definitions {
        let _ = write!(
            h,
            "<h3><code>{}.{}</code> : {} <small>({}{})</small></h3><pre>",
            esc(&d.regle),
            esc(&d.definition),
            d.changement,
            esc(&d.fichier),
            d.ligne.map(|l| format!(", ligne {l}")).unwrap_or_default()
        );
        for l in d.avant.iter().flat_map(|t| t.lines()) {
            let _ = writeln!(h, "<span class=\"moins\">- {}</span>", esc(l));
        }
        for l in d.apres.iter().flat_map(|t| t.lines()) {
            let _ = writeln!(h, "<span class=\"plus\">+ {}</span>", esc(l));
        }
        h.push_str("</pre>");
    }
    h.push_str("</body></html>\n");
    h
}
