//! `couverture`: what the rules decide on a real population, for auditors.
//!
//! The extract is evaluated by the same step as `screen` and `estimer`
//! (crate::evaluation). Each piece is reduced to counts (comptes.rs): per rule, its
//! statuses; per definition, foyers where it is true, false or unknown and, for a
//! condition, how many foyers of each status it decided; the inputs missing from the
//! situations and the rules they leave undetermined. Counts under the secrecy threshold
//! are suppressed, and the cells that would give them away by difference
//! (crates/secret): aggregates only, no id. Definitions: docs/audit.md.

pub mod comptes;
pub mod page;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::model::{DefBody, DefRole, Type};
use reperage_rules::resolved::RKind;
use reperage_rules::{Compiled, RuleSet, StaleParameter};

use crate::commande::{self, Entrees, Ouverture};
use crate::evaluation::{self, Etapes};
use crate::extract::{Extract, TableCount};
use crate::output::{Format, TableWriter};
use crate::screen::{self, Lu, ScreenError};
use comptes::{Comptes, STATUTS};

pub struct Options<'a> {
    /// Told each stage as it starts (for a progress display).
    pub progress: &'a dyn Fn(&str),
    /// The extract, the month, the rules, `--out` and the reading options.
    pub entrees: Entrees<'a>,
    pub seuil_secret: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub mois: String,
    pub foyers_evalues: u64,
    pub regles: usize,
    pub cellules: usize,
    pub cellules_masquees: usize,
    pub parametres_perimes: Vec<StaleParameter>,
    pub fichiers_ecrits: Vec<String>,
}

struct Couverture<'a> {
    progress: &'a dyn Fn(&str),
    rules: &'a RuleSet,
    comptes: Comptes,
    lignes: Vec<TableCount>,
    foyers_quarantaine: u64,
}

impl Etapes for Couverture<'_> {
    fn validee(&mut self, _: usize, extract: &Extract, _: Option<&Extract>) -> Result<bool, ScreenError> {
        self.foyers_quarantaine += extract.foyers_quarantaine.len() as u64;
        screen::add_counts(&mut self.lignes, &extract.comptes);
        Ok(true)
    }

    fn evaluee(&mut self, k: usize, compiled: &Compiled, _: &Extract, eval: DataFrame) -> Result<(), ScreenError> {
        (self.progress)(&format!("piece {} evaluated ({} foyers)", k + 1, eval.height()));
        self.comptes.add(self.rules, compiled, &eval)
    }
}

/// A published count: `None` when suppressed.
pub type Compte = Option<u64>;

/// One rule's counts as published.
#[derive(Debug, Clone)]
pub struct RegleMasquee {
    pub id: String,
    pub foyers: Compte,
    pub statuts: [Compte; 3],
    pub defs: Vec<DefMasquee>,
    /// (input, undetermined foyers it blocks), most blocking first.
    pub bloquees: Vec<(String, Compte)>,
}

#[derive(Debug, Clone)]
pub struct DefMasquee {
    pub nom: String,
    pub titre: String,
    pub role: DefRole,
    pub ty: Type,
    /// Boolean definitions only.
    pub vrai: Compte,
    pub faux: Compte,
    /// Definitions of another type only (for a boolean it would give away vrai + faux).
    pub connu: Compte,
    pub inconnu: Compte,
    /// Conditions only.
    pub decisif: Option<[Compte; 3]>,
    /// For a condition, read from the exact counts: never true, never false, never known.
    pub constat: Option<&'static str>,
}

/// Where one rule's counts are in the system of cells.
struct Cellules {
    statuts: Vec<usize>,
    /// Per definition: [vrai, faux, inconnu] or [connu, inconnu], and its decisive cells.
    defs: Vec<(Vec<usize>, Option<Vec<usize>>)>,
    bloquees: Vec<(String, usize)>,
}

/// Suppresses the small counts of every rule and the cells that would give them away,
/// in one system: a definition that only reads another rule's (`premiere_naissance.af_a_demander`
/// in `adoption`) has the same counts, and publishing one would give the other away.
/// Returns the published rules, the cells and the suppressed ones.
fn proteger(rs: &RuleSet, comptes: &Comptes, seuil: u64) -> (Vec<RegleMasquee>, usize, usize) {
    let mut valeurs: Vec<u64> = vec![comptes.foyers];
    let mut relations: Vec<Vec<(usize, i64)>> = Vec::new();
    let cell = |v: u64, valeurs: &mut Vec<u64>| {
        valeurs.push(v);
        valeurs.len() - 1
    };
    let mut places: Vec<Cellules> = Vec::new();
    for c in &comptes.regles {
        let rule = rs.rule(&c.id).expect("counted rules are in the rule set");
        let statuts: Vec<usize> = c.statuts.iter().map(|&v| cell(v, &mut valeurs)).collect();
        relations.push(vec![(statuts[0], 1), (statuts[1], 1), (statuts[2], 1), (0, -1)]);
        let mut defs = Vec::new();
        let mut decisifs: [Vec<(usize, i64)>; 3] = Default::default();
        for (def, d) in rule.defs.iter().zip(&c.defs) {
            let values =
                if def.ty == Type::Booleen { vec![d.vrai, d.faux, d.inconnu] } else { vec![d.connu, d.inconnu] };
            let ids: Vec<usize> = values.iter().map(|&v| cell(v, &mut valeurs)).collect();
            let mut sum: Vec<(usize, i64)> = ids.iter().map(|&i| (i, 1)).collect();
            sum.push((0, -1));
            relations.push(sum);
            if def.name == "eligible" {
                for s in 0..3 {
                    relations.push(vec![(ids[s], 1), (statuts[s], -1)]);
                }
            }
            let dec = (def.role == DefRole::Condition).then(|| {
                (0..3)
                    .map(|s| {
                        let i = cell(d.decisif[s], &mut valeurs);
                        decisifs[s].push((i, 1));
                        i
                    })
                    .collect::<Vec<_>>()
            });
            defs.push((ids, dec));
        }
        for (s, mut sum) in decisifs.into_iter().enumerate() {
            sum.push((statuts[s], -1));
            relations.push(sum);
        }
        let mut b: Vec<(&String, &u64)> = c.bloquees.iter().collect();
        b.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
        let bloquees = b.into_iter().map(|(k, &v)| (k.clone(), cell(v, &mut valeurs))).collect();
        places.push(Cellules { statuts, defs, bloquees });
    }
    // A definition that is another rule's definition, read as it is: the same counts.
    for (c, place) in comptes.regles.iter().zip(&places) {
        let rule = rs.rule(&c.id).expect("counted rules are in the rule set");
        for (def, (ids, _)) in rule.defs.iter().zip(&place.defs) {
            let DefBody::Expr(e, _) = &def.body else { continue };
            let RKind::Def { rule: other, name } = &e.kind else { continue };
            let Some(k) = comptes.regles.iter().position(|r| &r.id == other) else { continue };
            let Some(j) = rs.rule(other).and_then(|r| r.defs.iter().position(|d| &d.name == name)) else { continue };
            let other_ids = &places[k].defs[j].0;
            if other_ids.len() == ids.len() {
                for (a, b) in ids.iter().zip(other_ids) {
                    relations.push(vec![(*a, 1), (*b, -1)]);
                }
            }
        }
    }
    let probleme = reperage_secret::Probleme { valeurs, relations };
    let (masque, bilan) = reperage_secret::proteger(&probleme, seuil);
    let get = |i: usize| (!masque[i]).then_some(probleme.valeurs[i]);
    let regles = comptes
        .regles
        .iter()
        .zip(&places)
        .map(|(c, place)| {
            let rule = rs.rule(&c.id).expect("counted rules are in the rule set");
            let defs = rule
                .defs
                .iter()
                .zip(&c.defs)
                .zip(&place.defs)
                .map(|((def, d), (ids, dec))| {
                    let boolean = def.ty == Type::Booleen;
                    // Dead or constant conditions (zeros are published: no household behind them).
                    let constat = match (def.role, d.vrai, d.faux, d.connu) {
                        _ if comptes.foyers == 0 => None,
                        (DefRole::Condition, _, _, 0) => Some("jamais connue"),
                        (DefRole::Condition, 0, _, _) => Some("jamais vraie"),
                        (DefRole::Condition, _, 0, _) => Some("jamais fausse"),
                        _ => None,
                    };
                    DefMasquee {
                        nom: def.name.clone(),
                        titre: def.titre.clone(),
                        role: def.role,
                        ty: def.ty,
                        vrai: if boolean { get(ids[0]) } else { None },
                        faux: if boolean { get(ids[1]) } else { None },
                        connu: if boolean { None } else { get(ids[0]) },
                        inconnu: get(*ids.last().expect("two cells at least")),
                        decisif: dec.as_ref().map(|v| [get(v[0]), get(v[1]), get(v[2])]),
                        constat,
                    }
                })
                .collect();
            RegleMasquee {
                id: c.id.clone(),
                foyers: get(0),
                statuts: [get(place.statuts[0]), get(place.statuts[1]), get(place.statuts[2])],
                defs,
                bloquees: place.bloquees.iter().map(|(k, i)| (k.clone(), get(*i))).collect(),
            }
        })
        .collect();
    (regles, bilan.cellules, bilan.primaires + bilan.secondaires)
}

fn u64_column(name: &str, values: impl Iterator<Item = Compte>) -> Column {
    Series::new(name.into(), values.collect::<Vec<_>>()).into()
}

fn str_column<S: AsRef<str>>(name: &str, values: impl Iterator<Item = S>) -> Column {
    Series::new(name.into(), values.map(|s| s.as_ref().to_string()).collect::<Vec<_>>()).into()
}

fn opt_str_column(name: &str, values: impl Iterator<Item = Option<String>>) -> Column {
    Series::new(name.into(), values.collect::<Vec<_>>()).into()
}

/// The names of the suppressed cells of a row, `;`-separated (empty when none).
fn secret(cells: &[(&str, Compte, bool)]) -> String {
    cells.iter().filter(|(_, v, applies)| *applies && v.is_none()).map(|(n, _, _)| *n).collect::<Vec<_>>().join(";")
}

/// `couverture.csv`: one row per definition of each rule.
fn definitions_frame(rs: &RuleSet, regles: &[RegleMasquee]) -> PolarsResult<DataFrame> {
    let rows: Vec<(&RegleMasquee, &DefMasquee)> =
        regles.iter().flat_map(|r| r.defs.iter().map(move |d| (r, d))).collect();
    let kind = |r: &RegleMasquee| rs.rule(&r.id).map_or("", |x| x.kind.name());
    let dec = |d: &DefMasquee, s: usize| d.decisif.map(|v| v[s]).unwrap_or(None);
    DataFrame::new_infer_height(vec![
        str_column("regle", rows.iter().map(|(r, _)| r.id.as_str())),
        str_column("type_regle", rows.iter().map(|(r, _)| kind(r))),
        str_column("definition", rows.iter().map(|(_, d)| d.nom.as_str())),
        str_column(
            "role",
            rows.iter().map(|(_, d)| if d.role == DefRole::Condition { "condition" } else { "variable" }),
        ),
        str_column("type", rows.iter().map(|(_, d)| d.ty.name())),
        str_column("titre", rows.iter().map(|(_, d)| d.titre.as_str())),
        u64_column("foyers", rows.iter().map(|(r, _)| r.foyers)),
        u64_column("vrai", rows.iter().map(|(_, d)| d.vrai)),
        u64_column("faux", rows.iter().map(|(_, d)| d.faux)),
        u64_column("connu", rows.iter().map(|(_, d)| d.connu)),
        u64_column("inconnu", rows.iter().map(|(_, d)| d.inconnu)),
        u64_column("decisive_eligible", rows.iter().map(|(_, d)| dec(d, 0))),
        u64_column("decisive_non_eligible", rows.iter().map(|(_, d)| dec(d, 1))),
        u64_column("decisive_indetermine", rows.iter().map(|(_, d)| dec(d, 2))),
        opt_str_column("constat", rows.iter().map(|(_, d)| d.constat.map(str::to_string))),
        str_column(
            "secret",
            rows.iter().map(|(_, d)| {
                let boolean = d.ty == Type::Booleen;
                let cond = d.decisif.is_some();
                secret(&[
                    ("vrai", d.vrai, boolean),
                    ("faux", d.faux, boolean),
                    ("connu", d.connu, !boolean),
                    ("inconnu", d.inconnu, true),
                    ("decisive_eligible", dec(d, 0), cond),
                    ("decisive_non_eligible", dec(d, 1), cond),
                    ("decisive_indetermine", dec(d, 2), cond),
                ])
            }),
        ),
    ])
}

/// `statuts.csv`: one row per rule.
fn statuts_frame(rs: &RuleSet, regles: &[RegleMasquee]) -> PolarsResult<DataFrame> {
    let rule = |r: &RegleMasquee| rs.rule(&r.id);
    DataFrame::new_infer_height(vec![
        str_column("regle", regles.iter().map(|r| r.id.as_str())),
        str_column("type_regle", regles.iter().map(|r| rule(r).map_or("", |x| x.kind.name()))),
        str_column("titre", regles.iter().map(|r| rule(r).map_or("", |x| x.titre.as_str()))),
        u64_column("foyers", regles.iter().map(|r| r.foyers)),
        u64_column(STATUTS[0], regles.iter().map(|r| r.statuts[0])),
        u64_column(STATUTS[1], regles.iter().map(|r| r.statuts[1])),
        u64_column(STATUTS[2], regles.iter().map(|r| r.statuts[2])),
        str_column(
            "secret",
            regles.iter().map(|r| {
                secret(&[
                    ("foyers", r.foyers, true),
                    (STATUTS[0], r.statuts[0], true),
                    (STATUTS[1], r.statuts[1], true),
                    (STATUTS[2], r.statuts[2], true),
                ])
            }),
        ),
    ])
}

/// A small count alone is suppressed (these counts sum to nothing published).
fn primaire(v: u64, seuil: u64) -> Compte {
    (v == 0 || v >= seuil).then_some(v)
}

/// `entrees_manquantes.csv`: each situation input with the foyers that lack it and the
/// undetermined foyers it leaves in each rule; those that leave the most undetermined
/// results first (a date of an event no foyer had is "missing" everywhere and blocks
/// nothing).
fn entrees_frame(rs: &RuleSet, c: &Comptes, regles: &[RegleMasquee], seuil: u64) -> PolarsResult<DataFrame> {
    let entrees = entrees_triees(c);
    let bloque = |input: &str| {
        regles
            .iter()
            .filter_map(|r| {
                r.bloquees.iter().find(|(k, _)| k == input).map(|(_, v)| match v {
                    Some(n) => format!("{} : {n}", r.id),
                    None => format!("{} : < {seuil}", r.id),
                })
            })
            .collect::<Vec<_>>()
            .join(" ; ")
    };
    DataFrame::new_infer_height(vec![
        str_column("entree", entrees.iter().map(|e| e.entree.as_str())),
        str_column("titre", entrees.iter().map(|e| rs.inputs.get(e.entree).map_or("", |i| i.titre.as_str()))),
        u64_column("foyers", entrees.iter().map(|_| primaire(c.foyers, seuil))),
        u64_column("foyers_sans_valeur", entrees.iter().map(|e| primaire(e.sans_valeur, seuil))),
        u64_column("indeterminations", entrees.iter().map(|e| e.publiees(regles, seuil))),
        str_column("regles_indeterminees", entrees.iter().map(|e| bloque(e.entree))),
    ])
}

pub use reperage_rules::site::valeur as valeur_texte;

/// `parametres.csv`: every parameter value the rules read for the month, with its text.
fn parametres_frame(compiled: &Compiled) -> PolarsResult<DataFrame> {
    let p = &compiled.params;
    let regles = |id: &str| {
        compiled.rules.iter().filter(|r| r.params.contains(id)).map(|r| r.id.as_str()).collect::<Vec<_>>().join(";")
    };
    DataFrame::new_infer_height(vec![
        str_column("parametre", p.iter().map(|u| u.id.as_str())),
        str_column("titre", p.iter().map(|u| u.titre.as_str())),
        str_column("valeur", p.iter().map(|u| valeur_texte(&u.value.valeur))),
        opt_str_column("unite", p.iter().map(|u| u.unite.clone())),
        str_column("en_vigueur_depuis", p.iter().map(|u| u.value.depuis.as_str())),
        str_column("lu_au", p.iter().map(|u| u.lu_au.as_str())),
        str_column("source", p.iter().map(|u| u.value.source.as_str())),
        str_column("url", p.iter().map(|u| u.value.url.as_str())),
        str_column("fichier", p.iter().map(|u| u.file.as_str())),
        str_column("regles", p.iter().map(|u| regles(&u.id))),
    ])
}

/// Evaluates the extract and writes the coverage under `opts.entrees.out` (replaced as a whole,
/// as `screen` does).
pub fn couverture(opts: &Options) -> Result<Report, ScreenError> {
    let Ouverture { out_dir, out, spill, lu: Lu { mut current, mut previous, .. }, stale } =
        commande::ouvrir(&opts.entrees)?;
    let fichiers = current.fichiers.clone();
    (opts.progress)("reading the extract");
    let mut etapes = Couverture {
        progress: opts.progress,
        rules: opts.entrees.rules,
        comptes: Comptes::new(opts.entrees.rules),
        lignes: Vec::new(),
        foyers_quarantaine: 0,
    };
    let compiled =
        evaluation::evaluate(&mut current, previous.as_mut(), opts.entrees.rules, opts.entrees.mois, &mut etapes)?;
    drop((current, previous));
    let _ = std::fs::remove_dir_all(&spill);
    (opts.progress)("counts protected (statistical secrecy)");
    let comptes = &etapes.comptes;
    let (regles, cellules, masquees) = proteger(opts.entrees.rules, comptes, opts.seuil_secret);

    (opts.progress)("writing");
    let mut written: Vec<PathBuf> = Vec::new();
    for (name, mut df) in [
        ("statuts", statuts_frame(opts.entrees.rules, &regles)?),
        ("couverture", definitions_frame(opts.entrees.rules, &regles)?),
        ("entrees_manquantes", entrees_frame(opts.entrees.rules, comptes, &regles, opts.seuil_secret)?),
        ("parametres", parametres_frame(&compiled)?),
    ] {
        let mut w = TableWriter::create(&out, name, Format::Csv)?;
        w.write(&mut df)?;
        written.extend(w.finish()?);
    }
    let manifest = serde_json::json!({
        "statut": "complet",
        "commande": "couverture",
        "moteur": { "nom": "reperage", "version": env!("CARGO_PKG_VERSION") },
        "mois": opts.entrees.mois.to_string(),
        "extrait": screen::input_files(&fichiers),
        "colonnes_autorisees": opts.entrees.colonnes_autorisees,
        "options": { "precedent": opts.entrees.precedent.is_some(), "seuil_secret": opts.seuil_secret },
        "regles": commande::fichiers_regles(opts.entrees.rules),
        "parametres": compiled.params,
        "parametres_perimes": stale,
        "lignes": etapes.lignes,
        "foyers": { "evalues": comptes.foyers, "en_quarantaine": etapes.foyers_quarantaine },
        "secret": { "seuil": opts.seuil_secret, "cellules": cellules, "masquees": masquees },
    });
    let html = page::html(&page::Contexte {
        rules: opts.entrees.rules,
        mois: opts.entrees.mois,
        seuil: opts.seuil_secret,
        regles: &regles,
        compiled: &compiled,
        stale: &stale,
        comptes,
        foyers: primaire(comptes.foyers, opts.seuil_secret),
    });
    written.push(commande::ecrire_page(&out, "couverture.html", &html)?);
    let fichiers_ecrits = screen::commit_files(out_dir, manifest, written)?;
    Ok(Report {
        mois: opts.entrees.mois.to_string(),
        foyers_evalues: comptes.foyers,
        regles: regles.len(),
        cellules,
        cellules_masquees: masquees,
        parametres_perimes: stale,
        fichiers_ecrits,
    })
}

/// One situation input: foyers without it, and undetermined results naming it (one
/// per rule and foyer).
pub struct Entree<'a> {
    pub entree: &'a String,
    pub sans_valeur: u64,
    pub indeterminations: u64,
}

impl Entree<'_> {
    /// The undetermined results it leaves, when publishable: not when a rule's count of
    /// them is suppressed, which the total would give away by difference.
    pub fn publiees(&self, regles: &[RegleMasquee], seuil: u64) -> Compte {
        let part_masquee = regles.iter().any(|r| r.bloquees.iter().any(|(k, v)| k == self.entree && v.is_none()));
        if part_masquee { None } else { primaire(self.indeterminations, seuil) }
    }
}

/// Every input the rules read, those that leave the most undetermined results first,
/// then the most often missing.
pub fn entrees_triees(c: &Comptes) -> Vec<Entree<'_>> {
    let mut v: Vec<Entree> = c
        .entrees_inconnues
        .iter()
        .map(|(k, &n)| Entree {
            entree: k,
            sans_valeur: n,
            indeterminations: c.regles.iter().filter_map(|r| r.bloquees.get(k)).sum(),
        })
        .collect();
    v.sort_by(|a, b| {
        (b.indeterminations, b.sans_valeur).cmp(&(a.indeterminations, a.sans_valeur)).then(a.entree.cmp(b.entree))
    });
    v
}

/// `couverture.csv` as the catalog site shows it beside each condition: (rule,
/// definition) → "vraie 1 234 · fausse 56 · inconnue 0 · décisive pour 40 non éligibles".
pub fn lire_pour_le_site(path: &Path) -> Result<reperage_rules::site::Couverture, ScreenError> {
    let read = || -> PolarsResult<DataFrame> {
        let bytes = std::fs::read(path).map_err(|e| PolarsError::IO { error: e.into(), msg: None })?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}').to_string();
        CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .with_parse_options(CsvParseOptions::default().with_separator(b';'))
            .into_reader_with_file_handle(std::io::Cursor::new(text.into_bytes()))
            .finish()
    };
    let df = read().map_err(|e| ScreenError::Polars(e.context(format!("{}", path.display()).into())))?;
    let get = |name: &str| df.column(name).and_then(|c| c.str().cloned());
    let (regle, def, role) = (get("regle")?, get("definition")?, get("role")?);
    let cols: Vec<(&str, &str)> = vec![
        ("vrai", "vraie"),
        ("faux", "fausse"),
        ("inconnu", "inconnue"),
        ("decisive_eligible", "décisive pour des éligibles"),
        ("decisive_non_eligible", "pour des non éligibles"),
        ("decisive_indetermine", "pour des indéterminés"),
    ];
    let values: Vec<StringChunked> = cols.iter().map(|(c, _)| get(c)).collect::<PolarsResult<_>>()?;
    let mut out = reperage_rules::site::Couverture::new();
    for i in 0..df.height() {
        if role.get(i) != Some("condition") {
            continue;
        }
        let (Some(r), Some(d)) = (regle.get(i), def.get(i)) else { continue };
        let parts: Vec<String> = cols
            .iter()
            .zip(&values)
            .map(|((_, label), v)| match v.get(i) {
                Some(n) if !n.is_empty() => format!("{label} {n}"),
                _ => format!("{label} s (secret)"),
            })
            .collect();
        out.insert((r.to_string(), d.to_string()), parts.join(" · "));
    }
    Ok(out)
}
