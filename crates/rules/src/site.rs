//! The rules catalog as a static site (`reperage doc`): an index of the rules by kind
//! with a search box, one page per rule (its condition tree with each condition's legal
//! texts, its formulas with every name linked, its parameters' dated values with their
//! sources, its stated simplifications, its test cases), a page of parameters and one
//! of the situation's inputs. No server, no network, no framework: plain HTML files
//! with relative links, a few lines of script for the search.
//!
//! With the counts of `reperage couverture`, each condition shows beside it how many
//! foyers found it true, false or unknown, and how many it decided.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::catalog::forme;
use crate::explain::{format_exact, format_number};
use crate::model::{Def, DefBody, DefRole, LegalBasis, ParamValue, Rule, RuleKind, RuleSet, Statut, Value};

/// Population coverage to show beside each condition: (rule, definition) → text.
pub type Couverture = BTreeMap<(String, String), String>;

/// One file of the site: its path relative to the site's root, and its content.
pub struct Page {
    pub chemin: String,
    pub html: String,
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1b1b1b;line-height:1.45}\
code,pre{font-family:ui-monospace,monospace}pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.arbre li{margin:.3rem 0}.forme{color:#555;font-size:.85rem}.base{font-size:.85rem}.couv{font-size:.85rem;color:#0b5394}\
nav a{margin-right:.75rem}#recherche{font-size:1rem;padding:.3rem;width:20rem}";

/// Text escaped for HTML (every page of the project: the site, the reports).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(titre: &str, racine: &str, corps: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t}</title><style>{STYLE}</style></head><body><nav><a href=\"{racine}index.html\">Règles</a>\
         <a href=\"{racine}parametres.html\">Paramètres</a><a href=\"{racine}situation.html\">Situation</a></nav>{corps}</body></html>\n",
        t = esc(titre)
    )
}

/// A text with its link: a web address is a link; a document of the repository
/// (`docs/events.md`, a practice basis) is named, since the site does not hold it.
fn source(url: &str, label: &str) -> String {
    if url.starts_with("https://") || url.starts_with("http://") {
        format!("<a href=\"{}\">{}</a>", esc(url), esc(label))
    } else {
        format!("{} (<code>{}</code> du dépôt)", esc(label), esc(url))
    }
}

fn bases(b: &[LegalBasis]) -> String {
    if b.is_empty() {
        return String::new();
    }
    let items: Vec<String> = b
        .iter()
        .map(|b| {
            let label = match &b.article {
                Some(a) => format!("{}, {}", b.texte, a),
                None => b.texte.clone(),
            };
            source(&b.url, &label)
        })
        .collect();
    format!("<span class=\"base\">{}</span>", items.join(" ; "))
}

/// An expression with every name linked: a definition of the rule to its anchor, of
/// another rule to that rule's page, a parameter to its table, an input to its entry.
fn expression(rs: &RuleSet, rule: &Rule, text: &str, racine: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        if token.is_empty() {
            return;
        }
        let t = std::mem::take(token);
        let link = if let Some(p) = t.strip_prefix("param.") {
            rs.params.contains_key(p).then(|| format!("{racine}parametres.html#p-{p}"))
        } else if rule.def(&t).is_some() {
            Some(format!("#def-{t}"))
        } else if let Some((r, d)) = t.split_once('.') {
            rs.rule(r).and_then(|x| x.def(d)).map(|_| format!("{racine}regles/{r}.html#def-{d}"))
        } else {
            rs.inputs.contains_key(&t).then(|| format!("{racine}situation.html#e-{t}"))
        };
        match link {
            Some(href) => {
                let _ = write!(out, "<a href=\"{}\">{}</a>", esc(&href), esc(&t));
            }
            None => out.push_str(&esc(&t)),
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            token.push(c);
        } else {
            flush(&mut token, &mut out);
            out.push_str(&esc(&c.to_string()));
        }
    }
    flush(&mut token, &mut out);
    out
}

/// A parameter's value exactly as its file writes it (a rate of 0,5985 must not read 0,6).
pub fn valeur(v: &ParamValue) -> String {
    match v {
        ParamValue::Nombre(x) => format_exact(*x),
        ParamValue::Booleen(b) => (if *b { "vrai" } else { "faux" }).to_string(),
        ParamValue::Bareme(s) => {
            let mut parts: Vec<String> =
                s.tranches.iter().map(|(de, v)| format!("dès {} : {}", format_exact(*de), format_exact(*v))).collect();
            if let Some(u) = s.par_unite_au_dela {
                parts.push(format!("+ {} par unité au-delà", format_exact(u)));
            }
            parts.join(" ; ")
        }
    }
}

/// One node of the condition tree, and its children.
fn noeud(
    h: &mut String,
    ctx: &(&RuleSet, &Rule, Option<&Couverture>),
    d: &Def,
    vus: &mut BTreeSet<String>,
    profondeur: usize,
) {
    let (rs, rule, couv) = *ctx;
    let premier = vus.insert(d.name.clone());
    let ancre = if premier { format!(" id=\"def-{}\"", esc(&d.name)) } else { String::new() };
    let _ = write!(h, "<li{ancre}><code>{}</code> {}", esc(&d.name), esc(&d.titre));
    let f = match forme(d) {
        Some(("toutes", _)) => Some("toutes les conditions suivantes"),
        Some(("une_de", _)) => Some("l'une des conditions suivantes"),
        Some(_) => Some("le contraire de"),
        None => None,
    };
    if let Some(f) = f {
        let _ = write!(h, " <span class=\"forme\">({f})</span>");
    }
    if let DefBody::Expr(_, text) = &d.body {
        let _ = write!(h, "<pre>{}</pre>", expression(rs, rule, text.trim(), "../"));
    }
    if !d.base_legale.is_empty() {
        let _ = write!(h, "<br>{}", bases(&d.base_legale));
    }
    if let Some(c) = couv.and_then(|c| c.get(&(rule.id.clone(), d.name.clone()))) {
        let _ = write!(h, "<br><span class=\"couv\">Sur la population : {}</span>", esc(c));
    }
    let enfants: Vec<&String> = match &d.body {
        DefBody::Toutes(cs) | DefBody::UneDe(cs) => cs.iter().collect(),
        DefBody::Non(c) => vec![c],
        DefBody::Expr(..) => vec![],
    };
    if premier && !enfants.is_empty() && profondeur < 64 {
        h.push_str("<ul>");
        for c in enfants {
            if let Some(cd) = rule.def(c) {
                noeud(h, ctx, cd, vus, profondeur + 1);
            }
        }
        h.push_str("</ul>");
    }
    h.push_str("</li>");
}

fn statut_fr(s: Statut) -> &'static str {
    match s {
        Statut::Eligible => "éligible",
        Statut::NonEligible => "non éligible",
        Statut::Indetermine => "indéterminé",
    }
}

fn regle_page(rs: &RuleSet, rule: &Rule, couv: Option<&Couverture>) -> String {
    let mut h = String::new();
    let kind = match rule.kind {
        RuleKind::Prestation => "prestation",
        RuleKind::Evenement => "événement de vie",
    };
    let _ = write!(
        h,
        "<h1>{} <small><code>{}</code></small></h1><p>{kind} — fichier <code>rules/{}</code>{}</p>",
        esc(&rule.titre),
        esc(&rule.id),
        esc(&rule.file),
        if rule.versement_unique { " — versée une fois" } else { "" }
    );
    if let Some(d) = &rule.description {
        let _ = write!(h, "<p>{}</p>", esc(&d.split_whitespace().collect::<Vec<_>>().join(" ")));
    }
    h.push_str("<h2>Textes</h2><ul>");
    for b in &rule.base_legale {
        let _ = write!(h, "<li>{}</li>", bases(std::slice::from_ref(b)));
    }
    h.push_str("</ul><h2>Conditions</h2><ul class=\"arbre\">");
    let ctx = (rs, rule, couv);
    let mut vus = BTreeSet::new();
    if let Some(root) = rule.def("eligible") {
        noeud(&mut h, &ctx, root, &mut vus, 0);
    }
    h.push_str("</ul>");
    let autres: Vec<&Def> =
        rule.defs.iter().filter(|d| d.role == DefRole::Condition && !vus.contains(&d.name)).collect();
    if !autres.is_empty() {
        h.push_str("<h3>Autres conditions (motifs, hors de l'éligibilité)</h3><ul class=\"arbre\">");
        for d in autres {
            noeud(&mut h, &ctx, d, &mut vus, 0);
        }
        h.push_str("</ul>");
    }
    h.push_str(
        "<h2>Formules</h2><table><thead><tr><th>Variable</th><th>Formule</th><th>Textes</th></tr></thead><tbody>",
    );
    for d in rule.defs.iter().filter(|d| d.role == DefRole::Variable) {
        let DefBody::Expr(_, text) = &d.body else { continue };
        let _ = write!(
            h,
            "<tr id=\"def-{n}\"><td><code>{n}</code> {t}{u}</td><td><pre>{e}</pre></td><td>{b}</td></tr>",
            n = esc(&d.name),
            t = esc(&d.titre),
            u = d.unite.as_deref().map(|u| format!(" ({})", esc(u))).unwrap_or_default(),
            e = expression(rs, rule, text.trim(), "../"),
            b = bases(&d.base_legale),
        );
    }
    h.push_str("</tbody></table>");
    if !rule.fonctions.is_empty() {
        h.push_str("<h2>Fonctions</h2><table><thead><tr><th>Fonction</th><th>Définition</th><th>Textes</th></tr></thead><tbody>");
        for f in &rule.fonctions {
            let _ = write!(
                h,
                "<tr><td><code>{}({})</code> {}</td><td><pre>{}</pre></td><td>{}</td></tr>",
                esc(&f.name),
                esc(&f.parametres.join(", ")),
                esc(&f.titre),
                expression(rs, rule, f.expr.trim(), "../"),
                bases(&f.base_legale)
            );
        }
        h.push_str("</tbody></table>");
    }
    // The parameters the rule's own definitions read.
    let mut lus = BTreeSet::new();
    for d in &rule.defs {
        if let DefBody::Expr(e, _) = &d.body {
            lus.extend(e.params().into_iter().map(str::to_string));
        }
    }
    if !lus.is_empty() {
        h.push_str("<h2>Paramètres</h2>");
        for id in &lus {
            if let Some(p) = rs.params.get(id) {
                let _ = write!(
                    h,
                    "<h3><a href=\"../parametres.html#p-{id}\"><code>{id}</code></a> {}</h3>",
                    esc(&p.titre),
                    id = esc(id)
                );
                h.push_str(&valeurs(p));
            }
        }
    }
    h.push_str("<h2>Simplifications</h2>");
    if rule.simplifications.is_empty() {
        h.push_str("<p>Aucune n'est déclarée.</p>");
    } else {
        h.push_str("<table><thead><tr><th>Effet probable</th><th>Ce que l'extrait ne sait pas, et ce que fait la règle</th></tr></thead><tbody>");
        for s in &rule.simplifications {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(&s.effet), esc(&s.texte));
        }
        h.push_str("</tbody></table>");
    }
    let _ = write!(
        h,
        "<h2>Cas de test ({})</h2><table><thead><tr><th>Cas</th><th>Mois</th><th>Attendu</th><th>Calcul</th></tr></thead><tbody>",
        rule.tests.len()
    );
    for t in &rule.tests {
        let mut attendu = statut_fr(t.statut).to_string();
        if let Some(m) = t.montant {
            let _ = write!(attendu, ", {} €", format_number(m));
        }
        for (c, v) in &t.conditions {
            let _ = write!(attendu, ", {c} = {}", Value::Booleen(*v));
        }
        let situation: Vec<String> = t.situation.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = write!(
            h,
            "<tr><td>{}<details><summary>situation ({} valeurs)</summary>{}</details></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.nom),
            situation.len(),
            esc(&situation.join(" ; ")),
            t.mois,
            esc(&attendu),
            esc(t.source.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody></table>");
    page(&format!("{} — catalogue des règles", rule.titre), "../", &h)
}

fn valeurs(p: &crate::model::Parameter) -> String {
    let mut h = String::from("<table><thead><tr><th>Depuis</th><th>Valeur</th><th>Texte</th></tr></thead><tbody>");
    for v in &p.valeurs {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td>{}{}</td></tr>",
            esc(&v.depuis),
            esc(&valeur(&v.valeur)),
            p.unite.as_deref().map(|u| format!(" {}", esc(u))).unwrap_or_default(),
            source(&v.url, &v.source),
            v.note.as_deref().map(|n| format!("<br>{}", esc(n))).unwrap_or_default()
        );
    }
    h.push_str("</tbody></table>");
    h
}

fn index(rs: &RuleSet) -> String {
    let mut h = String::from(
        "<h1>Catalogue des règles</h1><p>Chaque règle, ses conditions et leurs textes, ses formules, ses paramètres \
         datés et leurs sources, ses simplifications déclarées et ses cas de test. Généré depuis <code>rules/</code> \
         par <code>reperage doc</code>.</p><p><label>Rechercher : <input id=\"recherche\" type=\"search\" \
         placeholder=\"rsa, naissance, plafond…\"></label></p>",
    );
    for (kind, titre) in [(RuleKind::Prestation, "Prestations"), (RuleKind::Evenement, "Événements de vie")] {
        let _ = write!(h, "<h2>{titre}</h2><ul class=\"regles\">");
        for r in rs.rules.iter().filter(|r| r.kind == kind) {
            let q = format!("{} {} {}", r.id, r.titre, r.description.as_deref().unwrap_or("")).to_lowercase();
            let _ = write!(
                h,
                "<li data-q=\"{}\"><a href=\"regles/{id}.html\">{}</a> <code>{id}</code></li>",
                esc(&q),
                esc(&r.titre),
                id = esc(&r.id)
            );
        }
        h.push_str("</ul>");
    }
    h.push_str(
        "<script>document.getElementById('recherche').addEventListener('input',function(e){\
         var q=e.target.value.toLowerCase();document.querySelectorAll('li[data-q]').forEach(function(li){\
         li.style.display=li.dataset.q.indexOf(q)<0?'none':'';});});</script>",
    );
    page("Catalogue des règles", "", &h)
}

fn parametres(rs: &RuleSet) -> String {
    let mut h = String::from("<h1>Paramètres</h1>");
    for p in rs.params.values() {
        let _ = write!(
            h,
            "<section id=\"p-{id}\"><h2><code>{id}</code> {}</h2><p>Fichier <code>rules/{}</code>{}</p>",
            esc(&p.titre),
            esc(&p.file),
            p.description.as_deref().map(|d| format!(" — {}", esc(d))).unwrap_or_default(),
            id = esc(&p.id)
        );
        h.push_str(&valeurs(p));
        h.push_str("</section>");
    }
    page("Paramètres — catalogue des règles", "", &h)
}

fn situation(rs: &RuleSet) -> String {
    let mut h = String::from(
        "<h1>Situation d'un foyer</h1><p>Les entrées que les règles lisent, construites depuis l'extrait \
         (docs/situation.md).</p><table><thead><tr><th>Entrée</th><th>Type</th><th>Description</th></tr></thead><tbody>",
    );
    for i in rs.inputs.values() {
        let _ = write!(
            h,
            "<tr id=\"e-{n}\"><td><code>{n}</code> {}</td><td>{}{}</td><td>{}{}</td></tr>",
            esc(&i.titre),
            i.ty.name(),
            i.unite.as_deref().map(|u| format!(" ({})", esc(u))).unwrap_or_default(),
            esc(i.description.as_deref().unwrap_or("")),
            i.valeurs.as_ref().map(|v| format!(" Valeurs : {}.", esc(&v.join(", ")))).unwrap_or_default(),
            n = esc(&i.name)
        );
    }
    h.push_str("</tbody></table>");
    page("Situation — catalogue des règles", "", &h)
}

/// Every page of the site.
pub fn site(rs: &RuleSet, couverture: Option<&Couverture>) -> Vec<Page> {
    let mut pages = vec![
        Page { chemin: "index.html".into(), html: index(rs) },
        Page { chemin: "parametres.html".into(), html: parametres(rs) },
        Page { chemin: "situation.html".into(), html: situation(rs) },
    ];
    for r in &rs.rules {
        pages.push(Page { chemin: format!("regles/{}.html", r.id), html: regle_page(rs, r, couverture) });
    }
    pages
}
