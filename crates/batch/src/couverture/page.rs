//! `couverture.html`: the coverage for an auditor, in one self-contained French page
//! (no script, no network). It shows only what the CSV files publish: suppressed counts
//! are shown as such.

use std::fmt::Write as _;

use reperage_rules::model::DefRole;
use reperage_rules::site::esc;
use reperage_rules::{Compiled, Mois, RuleSet, StaleParameter};

use super::{Compte, RegleMasquee, entrees_triees, valeur_texte};
use crate::estimations::rapport::entier;

pub struct Contexte<'a> {
    pub rules: &'a RuleSet,
    pub mois: Mois,
    pub seuil: u64,
    pub regles: &'a [RegleMasquee],
    pub compiled: &'a Compiled,
    pub stale: &'a [StaleParameter],
    pub comptes: &'a super::comptes::Comptes,
    pub foyers: Compte,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.25rem 0}\
.s{color:#777;text-decoration:none}.alerte{background:#fff4e5;border-left:4px solid #e67e00;padding:.5rem 1rem}\
.constat{color:#b00020}nav a{margin-right:.75rem}";

fn compte(c: Compte) -> String {
    c.map_or_else(|| "<abbr class=\"s\" title=\"secret statistique\">s</abbr>".to_string(), entier)
}

fn cellule(c: Compte) -> String {
    format!("<td class=\"n\">{}</td>", compte(c))
}

pub fn html(ctx: &Contexte) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Couverture des règles — {mois}</title><style>{STYLE}</style></head><body>\
         <h1>Couverture des règles sur la population — {mois}</h1>\
         <p>{foyers} foyers évalués. Pour chaque règle : combien de foyers trouvent chaque condition vraie, fausse \
         ou inconnue, et combien de foyers de chaque statut elle a <strong>décidés</strong> (la première condition fausse \
         d'un « toutes », la seule vraie d'un « une de », la première inconnue d'un résultat indéterminé : définitions \
         dans docs/audit.md). Un compte de 1 à {seuil_1} foyers n'est pas publié, ni ceux qui le feraient retrouver \
         par différence (<abbr class=\"s\">s</abbr>).</p>",
        mois = ctx.mois,
        foyers = compte(ctx.foyers),
        seuil_1 = ctx.seuil.saturating_sub(1),
    );
    if !ctx.stale.is_empty() {
        h.push_str("<div class=\"alerte\"><p>Paramètres peut-être périmés pour ce mois :</p><ul>");
        for s in ctx.stale {
            let _ = write!(h, "<li>{}</li>", esc(&s.message));
        }
        h.push_str("</ul></div>");
    }
    h.push_str("<nav>");
    for r in ctx.regles {
        let _ = write!(h, "<a href=\"#regle-{id}\">{id}</a>", id = esc(&r.id));
    }
    h.push_str("<a href=\"#entrees\">entrées manquantes</a><a href=\"#parametres\">paramètres</a></nav>");
    for r in ctx.regles {
        regle(&mut h, ctx, r);
    }
    entrees(&mut h, ctx);
    parametres(&mut h, ctx);
    h.push_str("</body></html>\n");
    h
}

fn regle(h: &mut String, ctx: &Contexte, r: &RegleMasquee) {
    let titre = ctx.rules.rule(&r.id).map_or("", |x| x.titre.as_str());
    let _ = write!(
        h,
        "<section id=\"regle-{id}\"><h2>{titre} <small>({id})</small></h2>\
         <p>Éligibles : {}, non éligibles : {}, indéterminés : {} (sur {} foyers).</p>",
        compte(r.statuts[0]),
        compte(r.statuts[1]),
        compte(r.statuts[2]),
        compte(r.foyers),
        id = esc(&r.id),
        titre = esc(titre),
    );
    h.push_str(
        "<table><caption>Conditions</caption><thead><tr><th>Condition</th><th>Vraie</th><th>Fausse</th>\
         <th>Inconnue</th><th>Décisive : éligibles</th><th>non éligibles</th><th>indéterminés</th><th>Constat</th></tr></thead><tbody>",
    );
    for d in r.defs.iter().filter(|d| d.role == DefRole::Condition) {
        let dec = d.decisif.unwrap_or([None; 3]);
        let _ = write!(
            h,
            "<tr id=\"regle-{id}-{nom}\"><td><code>{nom}</code> {titre}</td>{}{}{}{}{}{}<td class=\"constat\">{}</td></tr>",
            cellule(d.vrai),
            cellule(d.faux),
            cellule(d.inconnu),
            cellule(dec[0]),
            cellule(dec[1]),
            cellule(dec[2]),
            d.constat.unwrap_or(""),
            id = esc(&r.id),
            nom = esc(&d.nom),
            titre = esc(&d.titre),
        );
    }
    h.push_str("</tbody></table>");
    let variables: Vec<_> = r.defs.iter().filter(|d| d.role == DefRole::Variable).collect();
    if !variables.is_empty() {
        h.push_str(
            "<table><caption>Variables</caption><thead><tr><th>Variable</th><th>Connue</th><th>Inconnue</th></tr></thead><tbody>",
        );
        for d in variables {
            let connu = match (d.connu, d.vrai, d.faux) {
                (Some(c), _, _) => Some(c),
                (None, Some(v), Some(f)) => Some(v + f),
                _ => None,
            };
            let _ = write!(
                h,
                "<tr><td><code>{}</code> {}</td>{}{}</tr>",
                esc(&d.nom),
                esc(&d.titre),
                cellule(connu),
                cellule(d.inconnu)
            );
        }
        h.push_str("</tbody></table>");
    }
    if !r.bloquees.is_empty() {
        h.push_str(
            "<table><caption>Entrées qui laissent la règle indéterminée</caption><thead><tr><th>Entrée</th>\
             <th>Foyers indéterminés faute d'elle</th></tr></thead><tbody>",
        );
        for (k, v) in r.bloquees.iter().take(15) {
            let _ = write!(h, "<tr><td><code>{}</code></td>{}</tr>", esc(k), cellule(*v));
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
}

fn entrees(h: &mut String, ctx: &Contexte) {
    h.push_str(
        "<section id=\"entrees\"><h2>Entrées de la situation qui laissent le plus de résultats indéterminés</h2>\
         <table><thead><tr><th>Entrée</th><th>Foyers sans valeur</th><th>Résultats indéterminés faute d'elle \
         (toutes règles)</th></tr></thead><tbody>",
    );
    let shown = |v: u64| (v == 0 || v >= ctx.seuil).then_some(v);
    for e in entrees_triees(ctx.comptes).into_iter().filter(|e| e.sans_valeur > 0).take(40) {
        let titre = ctx.rules.inputs.get(e.entree).map_or("", |i| i.titre.as_str());
        let _ = write!(
            h,
            "<tr><td><code>{}</code> {}</td>{}{}</tr>",
            esc(e.entree),
            esc(titre),
            cellule(shown(e.sans_valeur)),
            cellule(e.publiees(ctx.regles, ctx.seuil))
        );
    }
    h.push_str("</tbody></table></section>");
}

fn parametres(h: &mut String, ctx: &Contexte) {
    h.push_str(
        "<section id=\"parametres\"><h2>Paramètres en vigueur</h2><table><thead><tr><th>Paramètre</th><th>Valeur</th>\
         <th>Depuis</th><th>Lu au</th><th>Source</th></tr></thead><tbody>",
    );
    for p in &ctx.compiled.params {
        let _ = write!(
            h,
            "<tr><td><code>{}</code> {}</td><td>{}{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a></td></tr>",
            esc(&p.id),
            esc(&p.titre),
            esc(&valeur_texte(&p.value.valeur)),
            p.unite.as_deref().map(|u| format!(" {}", esc(u))).unwrap_or_default(),
            esc(&p.value.depuis),
            esc(&p.lu_au),
            esc(&p.value.url),
            esc(&p.value.source),
        );
    }
    h.push_str("</tbody></table></section>");
}
