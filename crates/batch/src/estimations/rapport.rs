//! `rapport.html`: the estimates for an elected board, in one self-contained French page.
//!
//! No script, no network at view time: charts are inline SVG drawn here, tables are real
//! `<table>`s with captions. It shows only what `estimations` publishes (the same
//! suppressed cells, shown as such) and what the manifest records.

use std::fmt::Write as _;

use reperage_rules::site::esc;

use super::cube::{ENR, ER, IR, UNR};
use super::dimensions::Dimension;
use super::publication::{Ligne, Publie};

/// What the report needs beside the published rows.
pub struct Contexte<'a> {
    pub mois: String,
    pub seuil: u64,
    pub dims: &'a [Dimension],
    /// The manifest written beside the report (parameters, rows read, refusals).
    pub manifest: &'a serde_json::Value,
}

/// A count in French style (narrow no-break space between thousands).
pub(crate) fn entier(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(secret, |v| format!("{} %", format!("{v:.1}").replace('.', ",")))
}

fn euros(x: Option<f64>) -> String {
    x.map_or_else(secret, |v| format!("{} €", entier(v.max(0.0).round() as u64)))
}

fn count(x: Option<u64>) -> String {
    x.map_or_else(secret, entier)
}

fn secret() -> String {
    "<abbr class=\"s\" title=\"secret statistique\">s</abbr>".to_string()
}

/// The published rows of one benefit's table detailed at exactly `level` (or the whole).
fn rows_at<'p>(p: &'p Publie, dims: &[Dimension], level: Option<&str>) -> Vec<&'p Ligne> {
    p.lignes
        .iter()
        .filter(|l| {
            let detailed: Vec<&str> =
                dims.iter().zip(&l.niveaux).filter(|(_, n)| **n > 0).map(|(d, n)| d.niveaux[n - 1].name()).collect();
            match level {
                None => detailed.is_empty(),
                Some(name) => detailed == [name],
            }
        })
        .collect()
}

/// The value of a row at its single detailed level.
fn label(l: &Ligne) -> String {
    l.niveaux.iter().zip(&l.cle).find(|(n, _)| **n > 0).map_or_else(|| "Ensemble".to_string(), |(_, v)| v.clone())
}

/// A bar's label and its rates: central, low, high (None: suppressed).
type Barre = (String, Option<f64>, Option<f64>, Option<f64>);

/// A horizontal bar chart of rates (central bar, bounds as a whisker), in SVG.
fn barres(titre: &str, items: &[Barre]) -> String {
    let (w, row, left) = (900.0, 26.0, 400.0);
    let h = 30.0 + row * items.len() as f64;
    let scale = (w - left - 60.0) / 100.0;
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(titre)
    );
    for t in [0, 25, 50, 75, 100] {
        let x = left + t as f64 * scale;
        let _ = write!(
            s,
            "<line x1=\"{x}\" y1=\"18\" x2=\"{x}\" y2=\"{h}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"12\" font-size=\"10\" text-anchor=\"middle\">{t} %</text>"
        );
    }
    for (i, (name, central, bas, haut)) in items.iter().enumerate() {
        let y = 22.0 + row * i as f64;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 13.0,
            esc(name)
        );
        match central {
            Some(c) => {
                let _ = write!(
                    s,
                    "<rect class=\"bar\" x=\"{left}\" y=\"{y}\" width=\"{:.1}\" height=\"18\" fill=\"#2a6f97\"><title>{}</title></rect>",
                    (c * scale).max(1.0),
                    esc(&format!("{name} : {c:.1} %"))
                );
                if let (Some(b), Some(hh)) = (bas, haut) {
                    let (x1, x2, ym) = (left + b * scale, left + hh * scale, y + 9.0);
                    let _ = write!(
                        s,
                        "<line x1=\"{x1:.1}\" y1=\"{ym}\" x2=\"{x2:.1}\" y2=\"{ym}\" stroke=\"#111\" stroke-width=\"1.5\"/><line x1=\"{x1:.1}\" y1=\"{}\" x2=\"{x1:.1}\" y2=\"{}\" stroke=\"#111\"/><line x1=\"{x2:.1}\" y1=\"{}\" x2=\"{x2:.1}\" y2=\"{}\" stroke=\"#111\"/>",
                        ym - 5.0,
                        ym + 5.0,
                        ym - 5.0,
                        ym + 5.0
                    );
                }
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\">{}</text>",
                    left + c * scale + 6.0,
                    y + 13.0,
                    format!("{c:.1} %").replace('.', ",")
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<text x=\"{left}\" y=\"{}\" font-size=\"11\" fill=\"#777\">secret statistique</text>",
                    y + 13.0
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// The cells every table of rates starts a row with: the rate, its bounds, the eligible
/// non-recipients and the eligible recipients.
fn cellules_taux(l: &Ligne) -> String {
    let (c, b, h) = l.taux();
    let fourchette = match (b, h) {
        (Some(_), Some(_)) => format!("{} – {}", pct(b), pct(h)),
        _ => secret(),
    };
    format!(
        "<td>{}</td><td>{fourchette}</td><td>{}</td><td>{}</td>",
        pct(c),
        count(l.valeurs[ENR]),
        count(l.valeurs[ER])
    )
}

/// A table of rates and counts for rows of one level.
fn tableau(caption: &str, first: &str, rows: &[(String, &Ligne)], versement_unique: bool) -> String {
    let mut s = format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">Taux de non-recours</th><th scope=\"col\">Fourchette</th><th scope=\"col\">Éligibles non allocataires</th><th scope=\"col\">Allocataires éligibles</th><th scope=\"col\">Indéterminés non allocataires</th><th scope=\"col\">Montant en jeu{}</th></tr></thead><tbody>",
        esc(caption),
        esc(first),
        if versement_unique { " (versement unique)" } else { " (par mois)" }
    );
    for (name, l) in rows {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th>{}<td>{}</td><td>{}</td></tr>",
            esc(name),
            cellules_taux(l),
            count(l.valeurs[UNR]),
            euros(l.montant)
        );
    }
    s.push_str("</tbody></table>");
    s
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #2a6f97}h3{margin-top:1.5em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th[scope=row],thead th{text-align:left;background:#f3f6f8}
abbr.s{text-decoration:none;color:#777}.note{color:#444;font-size:.92em}svg.chart{display:block;margin:.5em 0}";

/// The whole page.
pub fn html(publie: &[Publie], ctx: &Contexte) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Non-recours aux prestations — {mois}</title><style>{STYLE}</style></head><body>",
        mois = esc(&ctx.mois)
    );
    let foyers = ctx.manifest["foyers"]["evalues"].as_u64().unwrap_or(0);
    let clos = ctx.manifest["foyers"]["dossiers_clos_hors_champ"].as_u64().unwrap_or(0);
    let _ = write!(
        s,
        "<h1>Non-recours aux prestations — {}</h1><p>{} foyers connus de la caisse évalués pour le mois de {}&nbsp;; les {} dont le dossier était clos à la fin du mois sont laissés hors des comptes. Les chiffres ci-dessous portent sur les foyers présents dans le fichier de la caisse&nbsp;: ils sont une <strong>borne basse</strong> du non-recours dans la population (voir «&nbsp;Méthode et limites&nbsp;»). Aucune case ne repose sur moins de {} foyers&nbsp;; les cases masquées sont notées <abbr class=\"s\" title=\"secret statistique\">s</abbr>.</p>",
        esc(&ctx.mois),
        entier(foyers),
        esc(&ctx.mois),
        entier(clos),
        ctx.seuil
    );

    // Headline figures.
    s.push_str("<h2>En bref</h2>");
    let mut items = Vec::new();
    let mut whole_rows = Vec::new();
    for p in publie {
        if let Some(l) = rows_at(p, ctx.dims, None).first() {
            let (c, b, h) = l.taux();
            items.push((p.prestation.titre.clone(), c, b, h));
            whole_rows.push((p.prestation.titre.clone(), *l));
        }
    }
    s.push_str(&barres("Taux de non-recours par prestation, avec sa fourchette", &items));
    s.push_str("<p class=\"note\">Barre&nbsp;: estimation centrale (non-recours parmi les foyers dont la situation est connue). Trait&nbsp;: fourchette, du cas où tous les indéterminés seraient non éligibles à celui où ils seraient tous éligibles.</p>");
    s.push_str(&tableau_prestations(&whole_rows, publie));

    // By territory, household type, QPV, age.
    for (level, titre, first) in [
        ("departement", "Par département", "Département"),
        ("en_qpv", "Quartiers prioritaires (QPV) et hors QPV", "Quartier"),
        ("type_foyer", "Par type de foyer", "Type de foyer"),
        ("tranche_age", "Par âge de l'allocataire", "Âge"),
        ("caisse", "Par caisse", "Caisse"),
    ] {
        if !ctx.dims.iter().any(|d| d.niveaux.iter().any(|n| n.name() == level)) {
            continue;
        }
        let _ = write!(s, "<h2>{}</h2>", esc(titre));
        for p in publie {
            let rows: Vec<(String, &Ligne)> =
                rows_at(p, ctx.dims, Some(level)).into_iter().map(|l| (label(l), l)).collect();
            if rows.iter().all(|(_, l)| l.valeurs[ENR].unwrap_or(0) == 0 && l.valeurs[ER].unwrap_or(0) == 0) {
                continue;
            }
            let _ = write!(s, "<h3>{}</h3>", esc(&p.prestation.titre));
            if rows.iter().all(|(_, l)| l.valeurs[ENR] == Some(0)) {
                s.push_str("<p>Aucun foyer éligible non allocataire trouvé.</p>");
                continue;
            }
            if rows.iter().all(|(_, l)| l.taux().0.is_none()) {
                s.push_str("<p>Tous les taux de ce découpage sont couverts par le secret statistique (effectifs trop petits).</p>");
                continue;
            }
            let chart: Vec<_> = rows
                .iter()
                .map(|(n, l)| {
                    let (c, b, h) = l.taux();
                    (n.clone(), c, b, h)
                })
                .collect();
            s.push_str(&barres(&format!("{} — {}", p.prestation.titre, titre), &chart));
            s.push_str(&tableau(
                &format!("{} — {}", p.prestation.titre, titre.to_lowercase()),
                first,
                &rows,
                p.prestation.versement_unique,
            ));
        }
    }

    // Data quality.
    s.push_str("<h2>Qualité des données</h2>");
    s.push_str("<table><caption>Part des foyers non allocataires dont le droit est indéterminé, et donnée manquante la plus fréquente</caption><thead><tr><th scope=\"col\">Prestation</th><th scope=\"col\">Indéterminés non allocataires</th><th scope=\"col\">Part parmi les non allocataires éligibles ou indéterminés</th><th scope=\"col\">Allocataires jugés non éligibles</th><th scope=\"col\">Donnée manquante la plus fréquente</th></tr></thead><tbody>");
    for (name, l) in &whole_rows {
        let part = match (l.valeurs[ENR], l.valeurs[UNR]) {
            (Some(e), Some(u)) if e + u > 0 => Some(100.0 * u as f64 / (e + u) as f64),
            _ => None,
        };
        let p = publie.iter().find(|p| &p.prestation.titre == name);
        let cause = p
            .and_then(|p| p.manquants.iter().max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone()))))
            .filter(|(_, n)| **n >= ctx.seuil)
            .map_or_else(|| "—".to_string(), |(k, _)| esc(k));
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            count(l.valeurs[UNR]),
            pct(part.map(|x| (x * 10.0).round() / 10.0)),
            count(l.valeurs[IR]),
            cause
        );
    }
    s.push_str("</tbody></table>");
    if let Some(lignes) = ctx.manifest["lignes"].as_array() {
        s.push_str("<table><caption>Lignes du fichier lues, utilisées et mises en quarantaine</caption><thead><tr><th scope=\"col\">Table</th><th scope=\"col\">Lues</th><th scope=\"col\">Utilisées</th><th scope=\"col\">En quarantaine</th></tr></thead><tbody>");
        for t in lignes {
            let n = |k: &str| entier(t[k].as_u64().unwrap_or(0));
            let _ = write!(
                s,
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(t["table"].as_str().unwrap_or("")),
                n("lus"),
                n("utilises"),
                n("quarantaines")
            );
        }
        s.push_str("</tbody></table>");
    }

    s.push_str(METHODE);

    // Rules and parameters.
    s.push_str("<h2>Règles et paramètres</h2>");
    if let Some(stale) = ctx.manifest["parametres_perimes"].as_array().filter(|a| !a.is_empty()) {
        let _ = write!(
            s,
            "<p><strong>Attention&nbsp;:</strong> {} paramètre(s) peut-être périmé(s) pour ce mois&nbsp;; les montants peuvent être faux.</p><ul>",
            stale.len()
        );
        for p in stale {
            let _ = write!(s, "<li>{}</li>", esc(p["message"].as_str().unwrap_or("")));
        }
        s.push_str("</ul>");
    }
    s.push_str("<table><caption>Paramètres lus par les règles, avec leur valeur en vigueur et sa source</caption><thead><tr><th scope=\"col\">Paramètre</th><th scope=\"col\">Valeur</th><th scope=\"col\">Depuis</th><th scope=\"col\">Source</th></tr></thead><tbody>");
    if let Some(params) = ctx.manifest["parametres"].as_array() {
        for p in params {
            let valeur = match &p["valeur"] {
                serde_json::Value::String(v) => v.clone(),
                v => v.to_string(),
            };
            let _ = write!(
                s,
                "<tr><th scope=\"row\">{}</th><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                esc(p["titre"].as_str().unwrap_or("")),
                esc(&valeur),
                esc(p["unite"].as_str().unwrap_or("")),
                esc(p["depuis"].as_str().unwrap_or("")),
                esc(p["source"].as_str().unwrap_or(""))
            );
        }
    }
    s.push_str("</tbody></table>");
    let _ = write!(
        s,
        "<p class=\"note\">Produit par reperage {} (commande <code>estimer</code>). Les empreintes des fichiers de règles et de l'extrait sont dans <code>manifest.json</code>.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    s
}

/// The headline table: one row per benefit.
fn tableau_prestations(rows: &[(String, &Ligne)], publie: &[Publie]) -> String {
    let mut s = "<table><caption>Non-recours estimé par prestation, ensemble des foyers</caption><thead><tr><th scope=\"col\">Prestation</th><th scope=\"col\">Taux de non-recours</th><th scope=\"col\">Fourchette</th><th scope=\"col\">Éligibles non allocataires</th><th scope=\"col\">Allocataires éligibles</th><th scope=\"col\">Montant en jeu</th></tr></thead><tbody>".to_string();
    for (name, l) in rows {
        let unique = publie.iter().find(|p| &p.prestation.titre == name).is_some_and(|p| p.prestation.versement_unique);
        let has_montant = publie.iter().find(|p| &p.prestation.titre == name).is_some_and(|p| p.prestation.has_montant);
        let montant = if !has_montant {
            "— (prestation en nature)".to_string()
        } else if unique {
            format!("{} (versement unique)", euros(l.montant))
        } else {
            format!("{} par mois", euros(l.montant))
        };
        let _ = write!(s, "<tr><th scope=\"row\">{}</th>{}<td>{}</td></tr>", esc(name), cellules_taux(l), montant);
    }
    s.push_str("</tbody></table>");
    s
}

const METHODE: &str = "<h2>Méthode et limites</h2>
<p>Chaque foyer du fichier est évalué par les règles du moteur (les mêmes que pour les listes de contact). Pour chaque prestation, un foyer est <em>allocataire</em> si un droit est en paiement, et les règles le trouvent <em>éligible</em>, <em>non éligible</em> ou <em>indéterminé</em> (une donnée nécessaire manque).</p>
<ul>
<li><strong>Taux de non-recours</strong> (estimation centrale)&nbsp;: éligibles non allocataires ÷ (allocataires éligibles + éligibles non allocataires). Il suppose qu'un foyer indéterminé recourt aussi souvent qu'un foyer dont la situation est connue, dans la même case.</li>
<li><strong>Fourchette</strong>&nbsp;: du taux obtenu si tous les indéterminés non allocataires étaient non éligibles (et les allocataires indéterminés éligibles) au taux obtenu dans le cas inverse. Le vrai taux, au sens des règles, est dans la fourchette quelle que soit la situation des indéterminés.</li>
<li><strong>Montant en jeu</strong>&nbsp;: somme des montants estimés des éligibles non allocataires.</li>
</ul>
<p><strong>Ce que ces chiffres mesurent.</strong> Le non-recours <em>parmi les foyers connus de la caisse</em>. Les personnes qui n'ont jamais rien demandé à la caisse ne sont pas dans le fichier&nbsp;: le non-recours dans la population est plus élevé. Ces taux ne se comparent donc pas directement aux estimations nationales par enquête de la DREES&nbsp;: RSA 34&nbsp;% des foyers éligibles chaque trimestre en 2018 (Les Dossiers de la DREES n°&nbsp;92, 2022)&nbsp;; complémentaire santé solidaire 44&nbsp;% en 2021 (DREES, communiqué du 13/12/2022)&nbsp;; minimum vieillesse 50&nbsp;% des personnes seules éligibles fin 2016 (Les Dossiers de la DREES n°&nbsp;97, 2022)&nbsp;; prime d'activité environ 27&nbsp;% en 2016 (Rapport d'évaluation de la prime d'activité, DGCS, 2017).</p>
<p><strong>Limites.</strong> L'éligibilité est celle que les règles trouvent dans le fichier, avec les simplifications que chaque règle indique&nbsp;; un foyer éligible peut avoir une raison de ne pas demander que le fichier ne voit pas.</p>
<p><strong>Secret statistique.</strong> Aucun chiffre publié ne repose sur moins de foyers que le seuil indiqué en tête. Les cases trop petites sont masquées, ainsi que d'autres cases choisies pour qu'aucune case masquée ne puisse être retrouvée par différence avec les totaux ou les autres tableaux. Un taux ou un montant n'est publié que si les effectifs dont il dépend le sont.</p>";
