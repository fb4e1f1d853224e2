//! `suivi`: what became of the households the campaigns contacted, beside their control
//! groups (docs/campaigns.md, « Suivi »).
//!
//! Reads the contacts history (rows of `contacts_prevus.csv` appended month after month,
//! the agents' outcomes filled in, control households with `canal = temoin`) and the
//! `droits` of one or more later extracts. For each contact, a right is *opened* at
//! horizon k when a `droits` row of a benefit the contact was about starts on or after the
//! first day of the contact's month and before the first day of the k-th month after it
//! (k = 1: within the contact's month). A benefit rule is about its own `prestation`; a
//! life event about the benefits its definitions read (a first birth: the PAJE and the
//! AF). Per campaign, month of contact, rule and channel: the shares of contacted and of
//! control households whose right opened at M+1..M+3, their difference with Newcombe's
//! 95 % interval (stats.rs), the monthly amounts of those rights in payment in the month
//! of the latest extract, and the agents' outcomes.

pub mod page;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::model::{DefBody, RuleKind};
use reperage_rules::{Mois, RuleSet};

use crate::campagnes::TEMOIN;
use crate::commande;
use crate::extract::{self, ColonneAutorisee, Extract, Table};
use crate::out_dir::OutDir;
use crate::output::{self, OutputError};
use crate::screen::{self, ScreenError};

/// The horizons followed: M+1, M+2, M+3 (the contact's month being M+1).
pub const HORIZONS: usize = reperage_rules::check::SUIVI_MOIS as usize;

/// Below this many households in either group, a comparison is shown but marked as not
/// interpretable (the threshold of statistical secrecy the observatory applies).
pub const EFFECTIF_MIN: u64 = 11;

/// The `regle` of the rows that count a right of any benefit the contact was about.
pub const TOUTES: &str = "toutes";

/// The `canal` of the rows that count every contacted household, whatever the channel.
pub const TOUS: &str = "tous";

pub struct Options<'a> {
    /// Later extracts, in any order; their `droits` are put together.
    pub extraits: &'a [PathBuf],
    /// The contacts history; `None`: the `contacts` table of the latest extract.
    pub contacts: Option<&'a Path>,
    /// The month of the latest extract: what is known of rights ends with it.
    pub mois: Mois,
    pub out: &'a Path,
    pub rules: &'a RuleSet,
    pub colonnes_autorisees: &'a [ColonneAutorisee],
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Rows of the contacts history read, and refused by the validation (a foyer absent
    /// from the latest extract, or in quarantine there, a date after the month observed:
    /// the outcome is unknown).
    pub contacts_lus: u64,
    pub contacts_ecartes: u64,
    /// Rows without `regles` (contacts made outside reperage): in the outcomes only.
    pub contacts_sans_regles: u64,
    /// Contacts and control draws followed: one per (foyer, campaign, month).
    pub contacts_suivis: usize,
    /// Rows of `suivi.csv`, and those whose groups are too small to interpret.
    pub groupes: usize,
    pub non_interpretables: usize,
    pub fichiers_ecrits: Vec<String>,
}

/// Contacts per (campaign, month of contact, channel, outcome noted by the agent).
pub type Resultats = BTreeMap<(String, Mois, String, String), u64>;

/// One contact (or control draw) of a foyer by a campaign in a month.
struct Contact {
    id_foyer: String,
    campagne: String,
    mois: Mois,
    canal: String,
    regles: Vec<String>,
}

/// A right of the `droits` tables put together.
struct Droit {
    prestation: String,
    debut: i32,
    fin: Option<i32>,
    montant: Option<f64>,
}

/// Benefit codes of a rule that stand for several codes of `droits`: the housing aid is
/// computed once and paid as APL, ALF (`al`) or ALS.
const CODES_DROITS: &[(&str, &[&str])] = &[("aide_logement", &["al", "apl", "als"])];

/// The `droits.prestation` codes of a rule's benefit code.
fn codes_droits(code: &str) -> impl Iterator<Item = String> + '_ {
    let codes = CODES_DROITS.iter().find(|(c, _)| *c == code).map(|(_, codes)| *codes);
    codes.into_iter().flatten().map(|c| c.to_string()).chain(codes.is_none().then(|| code.to_string()))
}

/// The benefits (`droits.prestation` codes) a contact about `rule` is about: a benefit
/// rule's own; for an event, those of the benefit rules its definitions read.
pub fn prestations_en_jeu(rs: &RuleSet, rule: &str) -> BTreeSet<String> {
    let Some(r) = rs.rule(rule) else { return BTreeSet::new() };
    if r.kind == RuleKind::Prestation {
        return r.prestation.iter().flat_map(|c| codes_droits(c)).collect();
    }
    let mut out = BTreeSet::new();
    for d in &r.defs {
        if let DefBody::Expr(e, _) = &d.body {
            for (other, _) in e.defs() {
                if other != r.id
                    && let Some(o) = rs.rule(other)
                    && o.kind == RuleKind::Prestation
                {
                    out.extend(o.prestation.iter().flat_map(|c| codes_droits(c)));
                }
            }
        }
    }
    out
}

/// The counts of one group (contacted through a channel, all contacted, or control).
#[derive(Debug, Clone, Default)]
pub struct Groupe {
    pub foyers: u64,
    /// Foyers whose right opened by horizon k (index k − 1).
    pub ouverts: [u64; HORIZONS],
    /// Monthly amounts, in the latest extract's month, of the rights opened since the
    /// contact that are in payment then; `None` when one of them has no amount.
    pub montant: Option<f64>,
    /// Control households contacted all the same (by any campaign, any channel) in the
    /// months followed: the comparison is diluted by as many.
    pub recontactes: u64,
}

impl Groupe {
    fn add(&mut self, ouvert: Option<i32>, contact: Mois, montant: Option<f64>) {
        if self.foyers == 0 {
            self.montant = Some(0.0);
        }
        self.foyers += 1;
        if let Some(m) = ouvert {
            for (k, n) in self.ouverts.iter_mut().enumerate() {
                if m < contact.index() + k as i32 + 1 {
                    *n += 1;
                }
            }
        }
        self.montant = match (self.montant, montant) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }
}

/// One row of `suivi.csv`.
#[derive(Debug, Clone)]
pub struct Ligne {
    pub campagne: String,
    pub mois: Mois,
    pub regle: String,
    pub prestations: Vec<String>,
    pub canal: String,
    pub contactes: Groupe,
    pub temoins: Groupe,
    /// Horizons observed: the latest extract reaches the end of the k-th month.
    pub observes: usize,
}

impl Ligne {
    /// `interpretable`, `sans_temoins` or `effectif_insuffisant`.
    pub fn lecture(&self) -> &'static str {
        if self.temoins.foyers == 0 {
            "sans_temoins"
        } else if self.contactes.foyers < EFFECTIF_MIN || self.temoins.foyers < EFFECTIF_MIN {
            "effectif_insuffisant"
        } else {
            "interpretable"
        }
    }

    fn part(g: &Groupe, k: usize) -> Option<f64> {
        (g.foyers > 0).then(|| g.ouverts[k] as f64 / g.foyers as f64)
    }

    /// At horizon k (0-based): the shares of the contacted and of the control group, and
    /// the difference with its interval, when observed.
    pub fn horizon(&self, k: usize) -> Option<Horizon> {
        (k < self.observes).then(|| Horizon {
            contactes: Self::part(&self.contactes, k),
            temoins: Self::part(&self.temoins, k),
            ecart: stats::newcombe(
                self.contactes.ouverts[k],
                self.contactes.foyers,
                self.temoins.ouverts[k],
                self.temoins.foyers,
            ),
        })
    }
}

pub struct Horizon {
    pub contactes: Option<f64>,
    pub temoins: Option<f64>,
    /// Difference, low and high bounds of its 95 % interval.
    pub ecart: Option<(f64, f64, f64)>,
}

/// Reads `dir`'s tables `only`, validated as for a screen of `mois`.
fn lire(dir: &Path, mois: Mois, only: &[Table], autorisees: &[ColonneAutorisee]) -> Result<Extract, ScreenError> {
    Ok(extract::load_tables(dir, mois, only, autorisees)?)
}

/// `--contacts FILE` is read as the `contacts` table of an extract made of it and of
/// the latest extract's `foyers` and `personnes` (links in `dir`), so that it goes
/// through the same guard and validation, its rows checked against the foyers followed.
fn lier_contacts(fichier: &Path, dernier: &Path, dir: &Path) -> Result<(), ScreenError> {
    let io =
        |p: &Path, e: std::io::Error| ScreenError::Output(OutputError::Io { path: p.display().to_string(), source: e });
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let ext = if fichier.extension().is_some_and(|e| e == "parquet") { "parquet" } else { "csv" };
    let mut links = vec![(fichier.to_path_buf(), format!("contacts.{ext}"))];
    // The landlords too: a contact with a landlord is checked against them (and then
    // left aside: suivi follows households).
    for table in ["foyers", "personnes", "bailleurs"] {
        for ext in ["csv", "parquet"] {
            let p = dernier.join(format!("{table}.{ext}"));
            if p.is_file() {
                links.push((p, format!("{table}.{ext}")));
            }
        }
    }
    for (from, name) in links {
        let from = std::fs::canonicalize(&from).map_err(|e| io(&from, e))?;
        let to = dir.join(name);
        #[cfg(unix)]
        std::os::unix::fs::symlink(&from, &to).map_err(|e| io(&to, e))?;
        #[cfg(not(unix))]
        std::fs::copy(&from, &to).map(|_| ()).map_err(|e| io(&to, e))?;
    }
    Ok(())
}

fn dates(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    Ok(df.column(name)?.cast(&DataType::Int32)?.i32()?.iter().collect())
}

fn textes(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    let c = df.column(name)?.cast(&DataType::String)?;
    Ok(c.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Every right of the `droits` tables, per foyer, each once.
fn droits_par_foyer(frames: &[DataFrame]) -> PolarsResult<HashMap<String, Vec<Droit>>> {
    let mut out: HashMap<String, Vec<Droit>> = HashMap::new();
    let mut vus = std::collections::HashSet::new();
    for df in frames {
        let ids = textes(df, "id_foyer")?;
        let prestations = textes(df, "prestation")?;
        let debuts = dates(df, "date_debut")?;
        let fins = dates(df, "date_fin")?;
        let montants: Vec<Option<f64>> =
            df.column("montant_mensuel")?.cast(&DataType::Float64)?.f64()?.iter().collect();
        for i in 0..df.height() {
            let (Some(id), Some(prestation), Some(debut)) = (&ids[i], &prestations[i], debuts[i]) else { continue };
            if vus.insert((id.clone(), prestation.clone(), debut, fins[i], montants[i].map(f64::to_bits))) {
                out.entry(id.clone()).or_default().push(Droit {
                    prestation: prestation.clone(),
                    debut,
                    fin: fins[i],
                    montant: montants[i],
                });
            }
        }
    }
    Ok(out)
}

/// The month a right of `prestations` first opened on or after the start of `depuis`,
/// and the monthly amount in payment in `mois` of those opened since then.
fn ouverture(droits: &[Droit], prestations: &BTreeSet<String>, depuis: Mois, mois: Mois) -> (Option<i32>, Option<f64>) {
    let debut = depuis.first_day().to_days();
    let (premier, dernier) = (mois.first_day().to_days(), mois.last_day().to_days());
    let mut premiere: Option<i32> = None;
    let mut montant = Some(0.0);
    for d in droits.iter().filter(|d| d.debut >= debut && prestations.contains(&d.prestation)) {
        let m = reperage_rules::Date::from_days(d.debut).mois().index();
        premiere = Some(premiere.map_or(m, |p| p.min(m)));
        if d.debut <= dernier && d.fin.is_none_or(|f| f >= premier) {
            montant = montant.zip(d.montant).map(|(a, b)| a + b);
        }
    }
    (premiere, montant)
}

pub fn run(opts: &Options) -> Result<Report, ScreenError> {
    let inputs: Vec<&Path> = opts.extraits.iter().map(PathBuf::as_path).chain(opts.contacts).collect();
    let out_dir = OutDir::prepare(opts.out, &inputs)?;
    let out = out_dir.path().to_path_buf();
    let dernier = opts.extraits.last().ok_or_else(|| {
        ScreenError::Output(OutputError::Io {
            path: opts.out.display().to_string(),
            source: std::io::Error::other("suivi needs at least one --extract"),
        })
    })?;
    let base = [Table::Foyers, Table::Personnes, Table::Droits];
    let mut fichiers = Vec::new();
    let mut droits = Vec::new();
    let mut historique = None;
    for (i, dir) in opts.extraits.iter().enumerate() {
        let with_contacts = i + 1 == opts.extraits.len() && opts.contacts.is_none();
        // With the contacts, the landlords their landlord rows are checked against.
        let contacts = [Table::Contacts, Table::Bailleurs];
        let only: Vec<Table> = base.iter().copied().chain(contacts.into_iter().filter(|_| with_contacts)).collect();
        let e = lire(dir, opts.mois, &only, opts.colonnes_autorisees)?;
        fichiers.push(serde_json::json!({
            "dossier": dir.display().to_string(),
            "fichiers": screen::input_files(&e.fichiers),
        }));
        droits.push(e.table(Table::Droits).clone());
        if with_contacts {
            historique = Some(e);
        }
    }
    let historique = match (historique, opts.contacts) {
        (Some(e), _) => e,
        (None, None) => {
            let why = "suivi: the contacts were neither given nor read with the latest extract";
            return Err(ScreenError::Extract(extract::ExtractError::Internal(why.into())));
        }
        (None, Some(fichier)) => {
            let liens = out.join(".contacts");
            lier_contacts(fichier, dernier, &liens)?;
            let only = [Table::Foyers, Table::Personnes, Table::Contacts, Table::Bailleurs];
            let e = lire(&liens, opts.mois, &only, opts.colonnes_autorisees);
            let _ = std::fs::remove_dir_all(&liens);
            let e = e?;
            fichiers.push(serde_json::json!({
                "contacts": fichier.display().to_string(),
                "fichiers": screen::input_files(&e.fichiers),
            }));
            e
        }
    };
    finish(opts, out_dir, &out, historique, &droits, fichiers)
}

/// The contacts history as the follow-up reads it.
struct Historique {
    /// One per (foyer, campaign, month): the first row with `regles` (an agent's later
    /// row of the same contact only adds an outcome).
    contacts: Vec<Contact>,
    /// The outcomes, per (campaign, month, channel, outcome), control rows aside.
    issues: Resultats,
    /// Rows without `regles`.
    sans_regles: u64,
    /// The months of every actual contact (control rows aside) of each foyer.
    mois_contactes: HashMap<String, Vec<i32>>,
}

/// Reads the contacts history ([`Historique`]).
fn contacts_et_resultats(df: &DataFrame) -> PolarsResult<Historique> {
    let ids = textes(df, "id_foyer")?;
    let campagnes = textes(df, "campagne")?;
    let jours = dates(df, "date")?;
    let canaux = textes(df, "canal")?;
    let resultats = textes(df, "resultat")?;
    let regles = textes(df, "regles")?;
    let mut order: Vec<usize> = (0..df.height()).collect();
    let lignes: Vec<Option<u64>> = df.column(extract::LIGNE)?.u64()?.iter().collect();
    order.sort_by_key(|&i| lignes[i]);
    let mut vus = std::collections::HashSet::new();
    let mut contacts = Vec::new();
    let mut issues = Resultats::new();
    let mut sans_regles = 0;
    let mut mois_contactes: HashMap<String, Vec<i32>> = HashMap::new();
    for i in order {
        let (Some(id), Some(campagne), Some(jour), Some(canal)) = (&ids[i], &campagnes[i], jours[i], &canaux[i]) else {
            continue;
        };
        let mois = reperage_rules::Date::from_days(jour).mois();
        if canal != TEMOIN {
            let resultat = resultats[i].clone().unwrap_or_else(|| "non_renseigne".to_string());
            *issues.entry((campagne.clone(), mois, canal.clone(), resultat)).or_default() += 1;
            mois_contactes.entry(id.clone()).or_default().push(mois.index());
        }
        let liste: Vec<String> = regles[i]
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect();
        if liste.is_empty() {
            sans_regles += 1;
            continue;
        }
        if vus.insert((id.clone(), campagne.clone(), mois)) {
            contacts.push(Contact {
                id_foyer: id.clone(),
                campagne: campagne.clone(),
                mois,
                canal: canal.clone(),
                regles: liste,
            });
        }
    }
    Ok(Historique { contacts, issues, sans_regles, mois_contactes })
}

/// The rows of `suivi.csv`, sorted by campaign, month, rule (`toutes` first) and channel
/// (`tous` first).
fn lignes(rs: &RuleSet, h: &Historique, droits: &HashMap<String, Vec<Droit>>, mois: Mois) -> Vec<Ligne> {
    type Cle = (String, Mois, String);
    // The benefits each rule is about, computed once per rule; those each row counts
    // (for `toutes`, the union over its contacts).
    let mut en_jeu: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut prestations_de: BTreeMap<Cle, BTreeSet<String>> = BTreeMap::new();
    let mut contactes: BTreeMap<Cle, BTreeMap<String, Groupe>> = BTreeMap::new();
    let mut temoins: BTreeMap<Cle, Groupe> = BTreeMap::new();
    let aucun = Vec::new();
    let jamais = Vec::new();
    for c in &h.contacts {
        let mut toutes = BTreeSet::new();
        let mut par_regle = Vec::new();
        for r in &c.regles {
            let p = en_jeu.entry(r.clone()).or_insert_with(|| prestations_en_jeu(rs, r)).clone();
            if !p.is_empty() {
                toutes.extend(p.iter().cloned());
                par_regle.push((r.clone(), p));
            }
        }
        if toutes.is_empty() {
            continue;
        }
        par_regle.insert(0, (TOUTES.to_string(), toutes));
        let siens = droits.get(&c.id_foyer).unwrap_or(&aucun);
        let suivis = c.mois.index()..c.mois.index() + HORIZONS as i32;
        let recontacte = h.mois_contactes.get(&c.id_foyer).unwrap_or(&jamais).iter().any(|m| suivis.contains(m));
        for (regle, prestations) in par_regle {
            let (ouvert, montant) = ouverture(siens, &prestations, c.mois, mois);
            let cle = (c.campagne.clone(), c.mois, regle);
            prestations_de.entry(cle.clone()).or_default().extend(prestations);
            if c.canal == TEMOIN {
                let groupe = temoins.entry(cle).or_default();
                groupe.add(ouvert, c.mois, montant);
                groupe.recontactes += u64::from(recontacte);
            } else {
                let groupes = contactes.entry(cle).or_default();
                groupes.entry(TOUS.to_string()).or_default().add(ouvert, c.mois, montant);
                groupes.entry(c.canal.clone()).or_default().add(ouvert, c.mois, montant);
            }
        }
    }
    let cles: BTreeSet<Cle> = contactes.keys().chain(temoins.keys()).cloned().collect();
    let mut out = Vec::new();
    for cle in cles {
        let temoin = temoins.get(&cle).cloned().unwrap_or_default();
        let mut groupes: Vec<(String, Groupe)> = contactes.get(&cle).cloned().unwrap_or_default().into_iter().collect();
        groupes.sort_by_key(|(canal, _)| (canal != TOUS, canal.clone()));
        if groupes.is_empty() {
            groupes.push((TOUS.to_string(), Groupe::default()));
        }
        let observes = (mois.index() - cle.1.index() + 1).clamp(0, HORIZONS as i32) as usize;
        for (canal, groupe) in groupes {
            out.push(Ligne {
                campagne: cle.0.clone(),
                mois: cle.1,
                regle: cle.2.clone(),
                prestations: prestations_de.get(&cle).map(|p| p.iter().cloned().collect()).unwrap_or_default(),
                canal,
                contactes: groupe,
                temoins: temoin.clone(),
                observes,
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.campagne, a.mois.index(), a.regle != TOUTES, &a.regle, a.canal != TOUS, &a.canal).cmp(&(
            &b.campagne,
            b.mois.index(),
            b.regle != TOUTES,
            &b.regle,
            b.canal != TOUS,
            &b.canal,
        ))
    });
    out
}

fn suivi_frame(lignes: &[Ligne]) -> PolarsResult<DataFrame> {
    let text = |f: &dyn Fn(&Ligne) -> String| lignes.iter().map(f).collect::<Vec<_>>();
    let mut cols = vec![
        Column::new("campagne".into(), text(&|l| l.campagne.clone())),
        Column::new("mois_contact".into(), text(&|l| l.mois.to_string())),
        Column::new("regle".into(), text(&|l| l.regle.clone())),
        Column::new("prestations".into(), text(&|l| l.prestations.join(", "))),
        Column::new("canal".into(), text(&|l| l.canal.clone())),
        Column::new("contactes".into(), lignes.iter().map(|l| l.contactes.foyers).collect::<Vec<_>>()),
        Column::new("temoins".into(), lignes.iter().map(|l| l.temoins.foyers).collect::<Vec<_>>()),
    ];
    for k in 0..HORIZONS {
        let h: Vec<Option<Horizon>> = lignes.iter().map(|l| l.horizon(k)).collect();
        let n = k + 1;
        let count = |g: &dyn Fn(&Ligne) -> u64| {
            lignes.iter().map(|l| (k < l.observes).then(|| g(l))).collect::<Vec<Option<u64>>>()
        };
        cols.push(Column::new(format!("ouverts_contactes_m{n}").into(), count(&|l| l.contactes.ouverts[k])));
        // Shares and differences in percent (points): the CSV gives two decimals.
        let pct = |v: Option<f64>| v.map(|x| x * 100.0);
        cols.push(Column::new(
            format!("pct_contactes_m{n}").into(),
            h.iter().map(|h| pct(h.as_ref().and_then(|h| h.contactes))).collect::<Vec<_>>(),
        ));
        cols.push(Column::new(format!("ouverts_temoins_m{n}").into(), count(&|l| l.temoins.ouverts[k])));
        cols.push(Column::new(
            format!("pct_temoins_m{n}").into(),
            h.iter().map(|h| pct(h.as_ref().and_then(|h| h.temoins))).collect::<Vec<_>>(),
        ));
        for (i, name) in ["ecart_points", "ic95_bas_points", "ic95_haut_points"].iter().enumerate() {
            let v: Vec<Option<f64>> =
                h.iter().map(|h| pct(h.as_ref().and_then(|h| h.ecart).map(|(d, b, u)| [d, b, u][i]))).collect();
            cols.push(Column::new(format!("{name}_m{n}").into(), v));
        }
    }
    cols.push(Column::new(
        "montant_mensuel_contactes".into(),
        lignes.iter().map(|l| l.contactes.montant).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "montant_mensuel_temoins".into(),
        lignes.iter().map(|l| l.temoins.montant).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "temoins_contactes_depuis".into(),
        lignes.iter().map(|l| l.temoins.recontactes).collect::<Vec<_>>(),
    ));
    cols.push(Column::new("lecture".into(), lignes.iter().map(|l| l.lecture()).collect::<Vec<_>>()));
    DataFrame::new_infer_height(cols)
}

fn finish(
    opts: &Options,
    out_dir: OutDir,
    out: &Path,
    historique: Extract,
    droits: &[DataFrame],
    fichiers: Vec<serde_json::Value>,
) -> Result<Report, ScreenError> {
    let compte = historique.comptes.iter().find(|c| c.table == Table::Contacts.name());
    let (contacts_lus, contacts_ecartes) = compte.map_or((0, 0), |c| (c.lus, c.quarantaines));
    let h = contacts_et_resultats(historique.table(Table::Contacts))?;
    let droits = droits_par_foyer(droits)?;
    let lignes = lignes(opts.rules, &h, &droits, opts.mois);
    let Historique { contacts, issues, sans_regles: contacts_sans_regles, .. } = h;

    let mut written = Vec::new();
    let p = out.join("suivi.csv");
    output::write_csv(&mut suivi_frame(&lignes)?, &p)?;
    written.push(p);
    let mut resultats = df!(
        "campagne" => issues.keys().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        "mois_contact" => issues.keys().map(|k| k.1.to_string()).collect::<Vec<_>>(),
        "canal" => issues.keys().map(|k| k.2.as_str()).collect::<Vec<_>>(),
        "resultat" => issues.keys().map(|k| k.3.as_str()).collect::<Vec<_>>(),
        "contacts" => issues.values().copied().collect::<Vec<_>>(),
    )?;
    let p = out.join("resultats.csv");
    output::write_csv(&mut resultats, &p)?;
    written.push(p);
    let refus: Vec<&extract::Refus> = historique.refus.iter().filter(|r| r.table == Table::Contacts).collect();
    let mut ecartes = df!(
        "ligne" => refus.iter().map(|r| r.ligne).collect::<Vec<_>>(),
        "id_foyer" => refus.iter().map(|r| r.id_foyer.as_deref()).collect::<Vec<_>>(),
        "motif" => refus.iter().map(|r| r.motif.as_str()).collect::<Vec<_>>(),
    )?;
    let p = out.join("contacts_ecartes.csv");
    output::write_csv(&mut ecartes, &p)?;
    written.push(p);

    let non_interpretables = lignes.iter().filter(|l| l.lecture() != "interpretable").count();
    let html = page::html(&page::Contexte {
        mois: opts.mois,
        lignes: &lignes,
        resultats: &issues,
        rules: opts.rules,
        contacts_ecartes,
    });
    written.push(commande::ecrire_page(out, "suivi.html", &html)?);
    let manifest = serde_json::json!({
        "statut": "complet",
        "commande": "suivi",
        "moteur": { "nom": "reperage", "version": env!("CARGO_PKG_VERSION") },
        "mois": opts.mois.to_string(),
        "extraits": fichiers,
        "colonnes_autorisees": opts.colonnes_autorisees,
        "regles": commande::fichiers_regles(opts.rules),
        "contacts": {
            "lus": contacts_lus,
            "ecartes": contacts_ecartes,
            "sans_regles": contacts_sans_regles,
            "suivis": contacts.len(),
        },
        "methode": "part des foyers dont un droit d'une prestation en jeu commence entre le 1er jour du mois du contact et la fin du k-ième mois ; écart contactés − témoins, intervalle de confiance à 95 % de Newcombe (score hybride, méthode 10) ; effectif minimal interprétable : 11",
        "groupes": lignes.len(),
        "non_interpretables": non_interpretables,
    });
    let fichiers_ecrits = screen::commit_files(out_dir, manifest, written)?;
    Ok(Report {
        contacts_lus,
        contacts_ecartes,
        contacts_sans_regles,
        contacts_suivis: contacts.len(),
        groupes: lignes.len(),
        non_interpretables,
        fichiers_ecrits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mois(s: &str) -> Mois {
        Mois::parse(s).expect("month")
    }

    fn jour(s: &str) -> i32 {
        reperage_rules::Date::parse(s).expect("date").to_days()
    }

    fn droit(prestation: &str, debut: &str, fin: Option<&str>, montant: Option<f64>) -> Droit {
        Droit { prestation: prestation.into(), debut: jour(debut), fin: fin.map(jour), montant }
    }

    /// A right counts from the first day of the contact's month, of a benefit in play
    /// only; its amount counts when it is in payment in the month observed.
    #[test]
    fn a_right_opens_from_the_contacts_month_and_counts_while_paid() {
        let rsa: BTreeSet<String> = ["rsa".to_string()].into();
        let contact = mois("2025-04");
        let avant = [droit("rsa", "2025-03-31", None, Some(500.0))];
        assert_eq!(ouverture(&avant, &rsa, contact, mois("2025-06")), (None, Some(0.0)), "opened before the contact");
        let autre = [droit("css", "2025-04-01", None, Some(30.0))];
        assert_eq!(ouverture(&autre, &rsa, contact, mois("2025-06")).0, None, "another benefit");
        let ouvert =
            [droit("rsa", "2025-05-01", None, Some(500.0)), droit("rsa", "2025-04-01", Some("2025-04-30"), None)];
        let (m, montant) = ouverture(&ouvert, &rsa, contact, mois("2025-06"));
        assert_eq!(m, Some(contact.index()), "the first opening, in April");
        assert_eq!(montant, Some(500.0), "the April right ended: its unknown amount is not in payment in June");
        let (_, montant) = ouverture(&ouvert, &rsa, contact, mois("2025-04"));
        assert_eq!(montant, None, "in April the right in payment has no amount: unknown, not zero");

        // Horizons: a right of May counts at M+2 and M+3, not M+1.
        let mut g = Groupe::default();
        g.add(Some(mois("2025-05").index()), contact, Some(500.0));
        g.add(None, contact, Some(0.0));
        assert_eq!((g.foyers, g.ouverts), (2, [0, 1, 1]));
        assert_eq!(g.montant, Some(500.0));
    }

    /// A life event is about the benefits its definitions read; a benefit about its own.
    #[test]
    fn an_event_is_about_the_benefits_it_reads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
        let files = reperage_rules::source::load_dir(&dir).expect("rules");
        let rs = reperage_rules::check(&files, mois("2025-06")).ruleset.expect("valid rules");
        let codes = |r: &str| prestations_en_jeu(&rs, r).into_iter().collect::<Vec<_>>();
        assert_eq!(codes("premiere_naissance"), ["af", "paje_base", "paje_naissance"]);
        assert_eq!(codes("separation"), ["asf", "rsa"]);
        assert_eq!(codes("rsa"), ["rsa"]);
        // The housing aid is paid under three codes of `droits`.
        assert_eq!(codes("aide_logement"), ["al", "als", "apl"]);
        // An unpaid rent is about the housing aid it reads.
        assert_eq!(codes("impaye_loyer"), ["al", "als", "apl"]);
        assert!(codes("declaration_annuelle_manquante").is_empty(), "a reminder opens no benefit");
        assert!(codes("inconnue").is_empty());
    }
}
