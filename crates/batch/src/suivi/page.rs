//! `suivi.html`: the follow-up of the campaigns for the team that runs them, in one
//! French page without script. Counts and shares only, never an id.

use std::fmt::Write as _;

use reperage_rules::site::esc;
use reperage_rules::{Mois, RuleSet};

use super::{EFFECTIF_MIN, HORIZONS, Ligne, Resultats, TOUS, TOUTES};

pub struct Contexte<'a> {
    pub mois: Mois,
    pub lignes: &'a [Ligne],
    pub resultats: &'a Resultats,
    pub rules: &'a RuleSet,
    pub contacts_ecartes: u64,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:76rem;padding:0 1rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.faible td{color:#767676}.note{font-size:.85rem;color:#444}";

fn pct(x: f64) -> String {
    format!("{:.1} %", x * 100.0).replace('.', ",")
}

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0).replace('.', ",")
}

fn titre_regle(rules: &RuleSet, id: &str) -> String {
    if id == TOUTES {
        return "Toutes les prestations en jeu".to_string();
    }
    rules.rule(id).map_or_else(|| id.to_string(), |r| r.titre.clone())
}

fn lecture(l: &Ligne) -> &'static str {
    match l.lecture() {
        "interpretable" => "",
        "sans_temoins" => "sans groupe témoin",
        _ => "non interprétable (moins de 11 foyers)",
    }
}

/// One table of rows: the shares at each horizon and the difference with its interval.
fn table(h: &mut String, rules: &RuleSet, lignes: &[&Ligne], par_canal: bool) {
    h.push_str("<table><thead><tr><th>Mois du contact</th><th>Motif</th>");
    if par_canal {
        h.push_str("<th>Canal</th>");
    }
    h.push_str("<th>Contactés</th><th>Témoins</th>");
    for k in 1..=HORIZONS {
        let _ = write!(h, "<th>M+{k} contactés</th><th>M+{k} témoins</th><th>M+{k} écart (points) [IC 95 %]</th>");
    }
    h.push_str(
        "<th>Montants mensuels en paiement (contactés / témoins)</th><th>Témoins contactés depuis</th><th>Lecture</th></tr></thead><tbody>",
    );
    for l in lignes {
        let faible = if l.lecture() == "interpretable" { "" } else { " class=\"faible\"" };
        let _ = write!(h, "<tr{faible}><td>{}</td><td>{}</td>", l.mois, esc(&titre_regle(rules, &l.regle)));
        if par_canal {
            let _ = write!(h, "<td>{}</td>", esc(&l.canal));
        }
        let _ = write!(h, "<td class=\"n\">{}</td><td class=\"n\">{}</td>", l.contactes.foyers, l.temoins.foyers);
        for k in 0..HORIZONS {
            match l.horizon(k) {
                None => h.push_str("<td colspan=\"3\" class=\"note\">pas encore observé</td>"),
                Some(x) => {
                    let part = |p: Option<f64>| p.map(pct).unwrap_or_default();
                    let ecart = x.ecart.map(|(d, b, u)| format!("{} [{} ; {}]", points(d), points(b), points(u)));
                    let _ = write!(
                        h,
                        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                        part(x.contactes),
                        part(x.temoins),
                        ecart.unwrap_or_default()
                    );
                }
            }
        }
        let montant = |m: Option<f64>| m.map_or("inconnu".to_string(), |m| format!("{m:.2} €").replace('.', ","));
        let _ = write!(
            h,
            "<td class=\"n\">{} / {}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            montant(l.contactes.montant),
            montant(l.temoins.montant),
            l.temoins.recontactes,
            lecture(l)
        );
    }
    h.push_str("</tbody></table>");
}

pub fn html(ctx: &Contexte) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>Suivi des campagnes — {mois}</title><style>{STYLE}</style></head><body>\
         <h1>Suivi des campagnes, droits connus jusqu'à fin {mois}</h1>\
         <p>Pour chaque campagne et chaque mois de contact : la part des foyers contactés dont un droit d'une \
         prestation en jeu s'est ouvert (une ligne de <code>droits</code> commençant à partir du 1er jour du mois du \
         contact), à la fin du mois du contact (M+1), du suivant (M+2) et du troisième (M+3), comparée à la même part \
         dans le groupe témoin, tiré au hasard parmi les foyers que la campagne aurait contactés. L'écart est donné en \
         points avec son intervalle de confiance à 95 % (méthode de Newcombe, score hybride). Seule la comparaison de \
         tous les contactés au groupe témoin mesure l'effet du contact : le détail par canal est descriptif, le canal \
         dépendant des coordonnées connues du foyer. Moins de {EFFECTIF_MIN} foyers dans un groupe : la ligne est \
         donnée mais n'est pas interprétable.</p>",
        mois = ctx.mois,
    );
    if ctx.contacts_ecartes > 0 {
        let _ = write!(
            h,
            "<p class=\"note\">{} ligne(s) de contacts écartée(s) (foyer absent de l'extrait le plus récent ou en \
             quarantaine, contact daté après le mois observé) : leur devenir est inconnu, elles ne comptent dans \
             aucune part (<code>contacts_ecartes.csv</code> donne le motif de chacune).</p>",
            ctx.contacts_ecartes
        );
    }
    let mut campagnes: Vec<&str> = ctx.lignes.iter().map(|l| l.campagne.as_str()).collect();
    campagnes.dedup();
    if campagnes.is_empty() {
        h.push_str("<p>Aucun contact à suivre : l'historique ne contient aucune ligne avec ses règles.</p>");
    }
    for c in campagnes {
        let titre = ctx.rules.campagnes.iter().find(|x| x.id == c).map_or(c, |x| x.titre.as_str());
        let _ = write!(h, "<h2>{} <small>({})</small></h2>", esc(titre), esc(c));
        let tous: Vec<&Ligne> = ctx.lignes.iter().filter(|l| l.campagne == c && l.canal == TOUS).collect();
        table(&mut h, ctx.rules, &tous, false);
        let canaux: Vec<&Ligne> = ctx.lignes.iter().filter(|l| l.campagne == c && l.canal != TOUS).collect();
        if !canaux.is_empty() {
            h.push_str("<details><summary>Par canal (descriptif)</summary>");
            table(&mut h, ctx.rules, &canaux, true);
            h.push_str("</details>");
        }
    }
    h.push_str("<h2>Résultats des contacts notés par les agents</h2>");
    if ctx.resultats.is_empty() {
        h.push_str("<p>Aucun.</p>");
    } else {
        h.push_str(
            "<table><thead><tr><th>Campagne</th><th>Mois du contact</th><th>Canal</th><th>Résultat</th><th>Contacts</th></tr></thead><tbody>",
        );
        for ((c, m, canal, r), n) in ctx.resultats {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{m}</td><td>{}</td><td>{}</td><td class=\"n\">{n}</td></tr>",
                esc(c),
                esc(canal),
                esc(r)
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</body></html>\n");
    h
}
