//! Outbound contact lists (docs/campaigns.md): for each campaign of the rule set, the
//! foyers its rules flag, minus exclusions and cooldown, ranked and capped per agency,
//! written as one CSV per channel, with a summary and the planned contacts in the
//! `contacts` table format (next month's history).

pub mod bailleurs;
mod select;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::model::{CANAUX, Campagne, Liste, RuleKind, column};
use reperage_rules::{Compiled, Date, Mois, RuleSet};

use bailleurs::{FaitsBailleur, Locataires, SelectionBailleurs};
use select::on_threads;
pub use select::{
    AUTRE_CAMPAGNE, COUPE_CAPACITE, Candidat, EXCLUSIONS, NonRetenu, Raison, Retenu, Selection, TEMOIN, select,
};
pub(crate) use select::{fnv1a, unite};

use crate::output::{self, OutputError};

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("contact lists: {0}")]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{file}: line {line}: not a candidate of this rule set's campaigns: {why}")]
    Candidats { file: String, line: usize, why: String },
}

/// The file a partition of a run (`screen --partition K/N`) writes its campaign
/// candidates to, for `fusionner` to rank and cap them over the whole caisse.
pub const CANDIDATS: &str = "candidats.jsonl";

/// The file a partition writes the tenants of its landlord campaigns to, and, in
/// partition 0, the landlords of the extract (`bailleurs` and the contacts with them).
pub const LOCATAIRES: &str = "locataires.jsonl";

/// One line of [`CANDIDATS`].
#[derive(serde::Serialize, serde::Deserialize)]
struct LigneCandidat {
    campagne: String,
    #[serde(flatten)]
    candidat: Candidat,
}

/// [`LigneCandidat`] as written, borrowing the candidate.
#[derive(serde::Serialize)]
struct LigneCandidatRef<'a> {
    campagne: &'a str,
    #[serde(flatten)]
    candidat: &'a Candidat,
}

/// Writes one JSON object per line to `path` (amounts written so that they read back
/// to the same bits).
fn write_lines<T: serde::Serialize>(path: &Path, lines: impl Iterator<Item = T>) -> Result<PathBuf, CampaignError> {
    let io = |e: std::io::Error| OutputError::Io { path: path.display().to_string(), source: e };
    let mut text = String::new();
    for line in lines {
        text.push_str(&serde_json::to_string(&line).map_err(|e| io(std::io::Error::other(e)))?);
        text.push('\n');
    }
    output::atomic_write(path, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).map_err(io)
    })?;
    Ok(path.to_path_buf())
}

/// The lines of a file [`write_lines`] wrote, each with its line number.
fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, CampaignError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| OutputError::Io { path: file.clone(), source: e })?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let l = serde_json::from_str(line).map_err(|e| CampaignError::Candidats {
                file: file.clone(),
                line: i + 1,
                why: e.to_string(),
            })?;
            Ok((i + 1, l))
        })
        .collect()
}

/// One line of [`LOCATAIRES`].
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum LigneLocataires {
    Campagne { campagne: String, locataires: Locataires },
    Bailleur { id_bailleur: String, faits: FaitsBailleur },
}

/// Whether the rule set has a landlord list (`liste = "bailleurs"`).
pub fn has_landlord_lists(rules: &RuleSet) -> bool {
    rules.campagnes.iter().any(|c| c.liste == Liste::Bailleurs)
}

/// The columns `canal_<c>` of `df` for the channels `canaux`, in their order.
fn canal_columns<'a>(df: &'a DataFrame, canaux: &[&str]) -> PolarsResult<Vec<&'a BooleanChunked>> {
    canaux.iter().map(|c| df.column(&format!("canal_{c}")).and_then(|s| s.bool())).collect()
}

/// A rule as a campaign reads it: does it fire for a foyer (a benefit eligible and not
/// in payment, an event that holds), with which amount and date.
struct RuleReason {
    id: std::sync::Arc<str>,
    titre: std::sync::Arc<str>,
    evenement: bool,
    unique: bool,
    fires: String,
    montant: Option<String>,
    date: Option<String>,
}

/// The rules campaigns read, and the expressions of the columns they need.
fn rule_reasons(compiled: &Compiled, rules: &RuleSet, needed: &BTreeSet<&str>) -> (Vec<RuleReason>, Vec<Expr>) {
    let mut out = Vec::new();
    let mut exprs = Vec::new();
    for cr in compiled.rules.iter().filter(|r| needed.contains(r.id.as_str())) {
        let Some(rule) = rules.rule(&cr.id) else { continue };
        let eligible = col(cr.statut.as_str()).eq(lit("eligible"));
        // Campaigns take decided cases only: an undetermined benefit is a signalement
        // for the data team, not a reason to call a household.
        let fires = match (&cr.kind, &cr.en_paiement) {
            (RuleKind::Prestation, Some(p)) => eligible.and(col(p.as_str()).eq(lit(false))),
            _ => eligible,
        }
        .fill_null(lit(false));
        let fires_col = format!("_fires_{}", cr.id);
        exprs.push(fires.alias(fires_col.as_str()));
        let montant = cr.has_montant.then(|| {
            exprs.push(
                col(cr.montant.as_str()).round(2, RoundMode::HalfAwayFromZero).alias(format!("_montant_{}", cr.id)),
            );
            format!("_montant_{}", cr.id)
        });
        let date = rule.def("date_evenement").map(|_| {
            exprs.push(col(column(&cr.id, "date_evenement")).cast(DataType::Int32).alias(format!("_date_{}", cr.id)));
            format!("_date_{}", cr.id)
        });
        out.push(RuleReason {
            id: cr.id.as_str().into(),
            titre: rule.titre.as_str().into(),
            evenement: cr.kind == RuleKind::Evenement,
            unique: rule.versement_unique,
            fires: fires_col,
            montant,
            date,
        });
    }
    (out, exprs)
}

/// The `contacts` history as the cooldowns read it.
struct DerniersContacts {
    /// Latest contact month per (foyer, campaign), control rows included.
    par_campagne: HashMap<(String, String), Mois>,
    /// Latest contact month per foyer by any campaign, control rows aside.
    toutes_campagnes: HashMap<String, Mois>,
}

fn last_contacts(contacts: &DataFrame) -> PolarsResult<DerniersContacts> {
    let latest = |keys: Vec<Expr>, rows: Expr| -> PolarsResult<DataFrame> {
        contacts
            .clone()
            .lazy()
            .filter(rows)
            .group_by(keys)
            .agg([col("date").max().cast(DataType::Int32).alias("date")])
            .collect()
    };
    let household = col("id_foyer").is_not_null();
    let df = latest(vec![col("id_foyer"), col("campagne")], household.clone())?;
    let ids = df.column("id_foyer")?.str()?;
    let camps = df.column("campagne")?.str()?;
    let dates = df.column("date")?.i32()?;
    let mut par_campagne = HashMap::new();
    for i in 0..df.height() {
        if let (Some(f), Some(c), Some(d)) = (ids.get(i), camps.get(i), dates.get(i)) {
            par_campagne.insert((f.to_string(), c.to_string()), Date::from_days(d).mois());
        }
    }
    let df = latest(vec![col("id_foyer")], household.and(col("canal").cast(DataType::String).neq(lit(TEMOIN))))?;
    let ids = df.column("id_foyer")?.str()?;
    let dates = df.column("date")?.i32()?;
    let toutes_campagnes = (0..df.height())
        .filter_map(|i| Some((ids.get(i)?.to_string(), Date::from_days(dates.get(i)?).mois())))
        .collect();
    Ok(DerniersContacts { par_campagne, toutes_campagnes })
}

/// The candidates of every campaign, gathered piece after piece of the evaluation
/// (crate::evaluation), then ranked and capped per agency over all of them at once:
/// capacity is a whole-caisse quantity, so selection waits for the last piece
/// (candidates are few beside foyers).
pub struct Collecte {
    /// Per campaign of the rule set, in its order: the candidates so far, in id order
    /// (none for a landlord campaign).
    candidats: Vec<Vec<Candidat>>,
    /// Per campaign: the tenants so far (a landlord campaign's only).
    locataires: Vec<Locataires>,
    /// The landlords of the extract, by id (from the one piece that holds them).
    bailleurs: BTreeMap<String, FaitsBailleur>,
}

/// The lists of a month: households' and landlords', each in priority order.
pub struct Listes {
    pub foyers: Vec<(Campagne, Selection)>,
    pub bailleurs: Vec<(Campagne, SelectionBailleurs)>,
}

impl Collecte {
    /// No candidate yet.
    pub fn new(rules: &RuleSet) -> Collecte {
        let n = rules.campagnes.len();
        Collecte {
            candidats: vec![Vec::new(); n],
            locataires: vec![Locataires::default(); n],
            bailleurs: BTreeMap::new(),
        }
    }

    /// Adds the candidates of one evaluation frame (one piece), with the `contacts` of
    /// its foyers (their last contact per campaign, for the cooldown) and the landlords
    /// the piece holds (`bailleurs` and the contacts with them: one piece holds all).
    pub fn add(
        &mut self,
        rules: &RuleSet,
        compiled: &Compiled,
        eval: &DataFrame,
        contacts: &DataFrame,
        bailleurs: &DataFrame,
    ) -> Result<(), CampaignError> {
        if rules.campagnes.is_empty() {
            return Ok(());
        }
        let landlords = has_landlord_lists(rules);
        if landlords {
            self.bailleurs.extend(bailleurs::faits(bailleurs, contacts)?);
        }
        let last = last_contacts(contacts)?;
        // The rules of every campaign, in priority order, each once: a foyer's row carries
        // all its reasons, whichever campaign lists it (the agent raises them in one call).
        let mut order: Vec<&str> = Vec::new();
        for c in rules.campagnes_par_priorite() {
            for r in &c.regles {
                if !order.contains(&r.as_str()) {
                    order.push(r);
                }
            }
        }
        let needed: BTreeSet<&str> = order.iter().copied().collect();
        let household_rules: BTreeSet<&str> = rules
            .campagnes
            .iter()
            .filter(|c| c.liste == Liste::Foyers)
            .flat_map(|c| c.regles.iter().map(String::as_str))
            .collect();
        let (reasons, reason_exprs) = rule_reasons(compiled, rules, &needed);
        let mut cols = vec![
            col("id_foyer"),
            col("id_bailleur"),
            col("agence").fill_null(lit("")),
            col("dossier_clos").fill_null(lit(false)),
            col("allocataire_decede").fill_null(lit(false)),
            col("opposition_contact"),
            col("suivi_social"),
        ];
        cols.extend(CANAUX.iter().map(|c| col(format!("canal_{c}"))));
        cols.extend(reason_exprs);
        let df = eval.clone().lazy().select(cols).collect()?;
        let by_rule: BTreeMap<&str, &RuleReason> = reasons.iter().map(|r| (&*r.id, r)).collect();

        let ids = df.column("id_foyer")?.str()?;
        let id_bailleur = df.column("id_bailleur")?.str()?;
        let agences = df.column("agence")?.str()?;
        let clos = df.column("dossier_clos")?.bool()?;
        let deces = df.column("allocataire_decede")?.bool()?;
        let opposition = df.column("opposition_contact")?.bool()?;
        let suivi = df.column("suivi_social")?.bool()?;
        let canaux = canal_columns(&df, &CANAUX)?;
        type RuleCols<'a> = (&'a RuleReason, &'a BooleanChunked, Option<&'a Float64Chunked>, Option<&'a Int32Chunked>);
        let rule_cols: Vec<RuleCols> = order
            .iter()
            .filter_map(|id| by_rule.get(id).copied())
            .map(|r| -> PolarsResult<_> {
                let fires = df.column(&r.fires)?.bool()?;
                let montant = r.montant.as_ref().map(|m| df.column(m).and_then(|s| s.f64())).transpose()?;
                let date = r.date.as_ref().map(|d| df.column(d).and_then(|s| s.i32())).transpose()?;
                Ok((r, fires, montant, date))
            })
            .collect::<PolarsResult<_>>()?;
        // Per campaign, in the rule set's order: the positions of its rules in `rule_cols`.
        let members: Vec<Vec<usize>> = rules
            .campagnes
            .iter()
            .map(|c| c.regles.iter().filter_map(|id| rule_cols.iter().position(|(r, ..)| *r.id == **id)).collect())
            .collect();

        let mut fired = vec![false; rule_cols.len()];
        for i in 0..df.height() {
            for (f, (_, fires, _, _)) in fired.iter_mut().zip(&rule_cols) {
                *f = fires.get(i) == Some(true);
            }
            if !fired.contains(&true) {
                continue;
            }
            let toutes: Vec<Raison> = rule_cols
                .iter()
                .zip(&fired)
                .filter(|(_, f)| **f)
                .map(|((r, _, m, d), _)| Raison {
                    regle: r.id.clone(),
                    titre: r.titre.clone(),
                    montant: m.and_then(|m| m.get(i)),
                    evenement: r.evenement,
                    unique: r.unique,
                    date: d.and_then(|d| d.get(i)),
                })
                .collect();
            // A household's row carries the reasons of the household lists only; a
            // landlord list takes its own rules' (bailleurs.rs). Without landlord lists,
            // they are all the household's.
            let (raisons, toutes) = if landlords {
                (toutes.iter().filter(|r| household_rules.contains(&*r.regle)).cloned().collect(), toutes)
            } else {
                (toutes, Vec::new())
            };
            let id = ids.get(i).unwrap_or_default().to_string();
            let toutes_campagnes = last.toutes_campagnes.get(&id).copied();
            let campaigns = rules.campagnes.iter().zip(&mut self.candidats).zip(&mut self.locataires).zip(&members);
            for (((campagne, candidats), locataires), rules_of) in campaigns {
                if !rules_of.iter().any(|&k| fired[k]) {
                    continue;
                }
                if campagne.liste == Liste::Bailleurs {
                    let locataire = bailleurs::Locataire {
                        id_bailleur: id_bailleur.get(i).unwrap_or_default().to_string(),
                        agence: agences.get(i).unwrap_or_default().to_string(),
                        raisons: toutes
                            .iter()
                            .filter(|r| campagne.regles.iter().any(|x| *x == *r.regle))
                            .cloned()
                            .collect(),
                    };
                    let clos = clos.get(i).unwrap_or(false) || deces.get(i).unwrap_or(false);
                    locataires.add(locataire, id_bailleur.get(i).is_some(), clos);
                    continue;
                }
                candidats.push(Candidat {
                    agence: agences.get(i).unwrap_or_default().to_string(),
                    raisons: raisons.clone(),
                    dossier_clos: clos.get(i).unwrap_or(false),
                    allocataire_decede: deces.get(i).unwrap_or(false),
                    opposition_contact: opposition.get(i),
                    suivi_social: suivi.get(i),
                    canaux: [canaux[0].get(i), canaux[1].get(i), canaux[2].get(i), canaux[3].get(i)],
                    dernier_contact: last.par_campagne.get(&(id.clone(), campagne.id.clone())).copied(),
                    dernier_contact_toutes_campagnes: toutes_campagnes,
                    id_foyer: id.clone(),
                });
            }
        }
        Ok(())
    }

    /// Candidates per campaign, in the rule set's order (for a landlord campaign, the
    /// foyers its rules flag).
    pub fn counts(&self) -> Vec<u64> {
        self.candidats.iter().zip(&self.locataires).map(|(c, l)| c.len() as u64 + l.foyers()).collect()
    }

    /// Writes the candidates so far to `path` ([`CANDIDATS`]): one JSON object per line,
    /// campaign after campaign, in id order within each (amounts written so that they
    /// read back to the same bits).
    pub fn write_candidats(&self, rules: &RuleSet, path: &Path) -> Result<PathBuf, CampaignError> {
        write_lines(path, self.candidats_lines(rules))
    }

    fn candidats_lines<'a>(&'a self, rules: &'a RuleSet) -> impl Iterator<Item = LigneCandidatRef<'a>> + 'a {
        rules.campagnes.iter().zip(&self.candidats).flat_map(|(campagne, candidats)| {
            candidats.iter().map(|candidat| LigneCandidatRef { campagne: &campagne.id, candidat })
        })
    }

    /// Writes the tenants of the landlord campaigns and the landlords so far to `path`
    /// ([`LOCATAIRES`]), when the rule set has a landlord campaign.
    pub fn write_locataires(&self, rules: &RuleSet, path: &Path) -> Result<Option<PathBuf>, CampaignError> {
        if !has_landlord_lists(rules) {
            return Ok(None);
        }
        let campagnes = rules
            .campagnes
            .iter()
            .zip(&self.locataires)
            .filter(|(c, _)| c.liste == Liste::Bailleurs)
            .map(|(c, l)| LigneLocataires::Campagne { campagne: c.id.clone(), locataires: l.clone() });
        let bailleurs = self
            .bailleurs
            .iter()
            .map(|(id, f)| LigneLocataires::Bailleur { id_bailleur: id.clone(), faits: f.clone() });
        write_lines(path, campagnes.chain(bailleurs)).map(Some)
    }

    /// Adds what a partition wrote with [`Collecte::write_locataires`].
    pub fn add_locataires(&mut self, rules: &RuleSet, path: &Path) -> Result<(), CampaignError> {
        for (line, l) in read_lines::<LigneLocataires>(path)? {
            match l {
                LigneLocataires::Campagne { campagne, locataires } => {
                    let at = rules.campagnes.iter().position(|c| c.id == campagne).ok_or_else(|| {
                        CampaignError::Candidats {
                            file: path.display().to_string(),
                            line,
                            why: format!("unknown campaign `{campagne}`"),
                        }
                    })?;
                    self.locataires[at].append(locataires);
                }
                LigneLocataires::Bailleur { id_bailleur, faits } => {
                    self.bailleurs.insert(id_bailleur, faits);
                }
            }
        }
        Ok(())
    }

    /// Adds the candidates a partition wrote with [`Collecte::write_candidats`]; the
    /// partitions must come in id order, as they are evaluated in one run.
    pub fn add_written(&mut self, rules: &RuleSet, path: &Path) -> Result<(), CampaignError> {
        for (line, l) in read_lines::<LigneCandidat>(path)? {
            let at =
                rules.campagnes.iter().position(|c| c.id == l.campagne).ok_or_else(|| CampaignError::Candidats {
                    file: path.display().to_string(),
                    line,
                    why: format!("unknown campaign `{}`", l.campagne),
                })?;
            self.candidats[at].push(l.candidat);
        }
        Ok(())
    }

    /// Every campaign's contact list and control group, in priority order ([`select`]:
    /// each campaign is ranked on a thread of its own — at 14 M foyers the lists took
    /// 38 s on one core, docs/performance.md — then they take households in turn).
    /// Landlord lists (bailleurs.rs) are selected apart, each on its own.
    pub fn select(self, rules: &RuleSet, mois: Mois) -> Listes {
        let (foyers, proprios): (Vec<&Campagne>, Vec<&Campagne>) =
            rules.campagnes_par_priorite().into_iter().partition(|c| c.liste == Liste::Foyers);
        let mut par_id: HashMap<&str, Vec<Candidat>> =
            rules.campagnes.iter().map(|c| c.id.as_str()).zip(self.candidats).collect();
        let candidats = foyers.iter().map(|c| par_id.remove(c.id.as_str()).unwrap_or_default()).collect();
        let selections = select(&foyers, &rules.reglages_campagnes, mois, candidats);
        let locataires: HashMap<&str, &Locataires> =
            rules.campagnes.iter().map(|c| c.id.as_str()).zip(&self.locataires).collect();
        let bailleurs = proprios
            .into_iter()
            .map(|c| {
                let none = Locataires::default();
                let tenants = locataires.get(c.id.as_str()).copied().unwrap_or(&none);
                (c.clone(), bailleurs::select(c, &rules.reglages_campagnes, mois, tenants, &self.bailleurs))
            })
            .collect();
        Listes { foyers: foyers.into_iter().cloned().zip(selections).collect(), bailleurs }
    }
}

fn euros(x: f64) -> String {
    format!("{x:.2}").replace('.', ",")
}

/// The reasons as agents read them: each rule's title, with its amount or date.
fn motifs(c: &Candidat) -> String {
    c.raisons
        .iter()
        .map(|r| match (r.montant, r.date) {
            (Some(m), _) if r.unique => format!("{} : {} € (versement unique)", r.titre, euros(m)),
            (Some(m), _) => format!("{} : {} €/mois", r.titre, euros(m)),
            (None, Some(d)) => format!("{} ({})", r.titre, Date::from_days(d)),
            (None, None) => r.titre.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ; ")
}

fn list_frame(retenus: &[&Retenu]) -> PolarsResult<DataFrame> {
    df!(
        "id_foyer" => retenus.iter().map(|r| r.candidat.id_foyer.as_str()).collect::<Vec<_>>(),
        "agence" => retenus.iter().map(|r| r.candidat.agence.as_str()).collect::<Vec<_>>(),
        "canal" => retenus.iter().map(|r| r.canal).collect::<Vec<_>>(),
        "rang" => retenus.iter().map(|r| r.rang).collect::<Vec<_>>(),
        "motifs" => retenus.iter().map(|r| motifs(&r.candidat)).collect::<Vec<_>>(),
        "montant_en_jeu" => retenus.iter().map(|r| montant_en_jeu(&r.candidat)).collect::<Vec<_>>(),
        "regles" => retenus.iter().map(|r| regles(&r.candidat)).collect::<Vec<_>>(),
    )
}

/// The foyers with a reason that are not listed, with why (and, when another campaign
/// took them, which one and how), sorted by id.
fn left_out_frame(non_retenus: &[NonRetenu]) -> PolarsResult<DataFrame> {
    let mut rows: Vec<&NonRetenu> = non_retenus.iter().collect();
    rows.sort_by(|a, b| a.candidat.id_foyer.cmp(&b.candidat.id_foyer));
    df!(
        "id_foyer" => rows.iter().map(|n| n.candidat.id_foyer.as_str()).collect::<Vec<_>>(),
        "agence" => rows.iter().map(|n| n.candidat.agence.as_str()).collect::<Vec<_>>(),
        "motif_non_retenu" => rows.iter().map(|n| n.motif).collect::<Vec<_>>(),
        "campagne_retenue" => rows.iter().map(|n| n.vers.as_ref().map(|v| v.0.as_str())).collect::<Vec<_>>(),
        "canal_retenu" => rows.iter().map(|n| n.vers.as_ref().map(|v| v.1)).collect::<Vec<_>>(),
        "motifs" => rows.iter().map(|n| motifs(&n.candidat)).collect::<Vec<_>>(),
        "montant_en_jeu" => rows.iter().map(|n| montant_en_jeu(&n.candidat)).collect::<Vec<_>>(),
        "regles" => rows.iter().map(|n| regles(&n.candidat)).collect::<Vec<_>>(),
    )
}

/// The control group, by id: who would have been listed and is not contacted.
fn control_frame(temoins: &[Candidat]) -> PolarsResult<DataFrame> {
    df!(
        "id_foyer" => temoins.iter().map(|c| c.id_foyer.as_str()).collect::<Vec<_>>(),
        "agence" => temoins.iter().map(|c| c.agence.as_str()).collect::<Vec<_>>(),
        "motifs" => temoins.iter().map(motifs).collect::<Vec<_>>(),
        "montant_en_jeu" => temoins.iter().map(montant_en_jeu).collect::<Vec<_>>(),
        "regles" => temoins.iter().map(regles).collect::<Vec<_>>(),
    )
}

/// The amount at stake, rounded to the cent; none when no reason has an amount.
fn montant_en_jeu(c: &Candidat) -> Option<f64> {
    c.raisons.iter().any(|x| x.montant.is_some()).then(|| (c.montant_en_jeu() * 100.0).round() / 100.0)
}

fn regles(c: &Candidat) -> String {
    c.raisons.iter().map(|x| &*x.regle).collect::<Vec<_>>().join(", ")
}

/// Writes one campaign's `<canal>.csv`, `non_retenus.csv` and, when it draws one,
/// `temoins.csv` under `dir/<id>/`.
fn write_lists(campagne: &Campagne, sel: &Selection, dir: &Path) -> Result<Vec<PathBuf>, CampaignError> {
    let mut written = Vec::new();
    for canal in &campagne.canaux {
        let rows: Vec<&Retenu> = sel.retenus.iter().filter(|r| r.canal == canal.as_str()).collect();
        let p = dir.join(&campagne.id).join(format!("{canal}.csv"));
        output::write_csv(&mut list_frame(&rows)?, &p)?;
        written.push(p);
    }
    let p = dir.join(&campagne.id).join("non_retenus.csv");
    output::write_csv(&mut left_out_frame(&sel.non_retenus)?, &p)?;
    written.push(p);
    if campagne.groupe_temoin > 0.0 {
        let p = dir.join(&campagne.id).join("temoins.csv");
        output::write_csv(&mut control_frame(&sel.temoins)?, &p)?;
        written.push(p);
    }
    Ok(written)
}

/// Writes `campagnes/<id>/<canal>.csv`, `campagnes/<id>/non_retenus.csv`,
/// `campagnes/<id>/temoins.csv`, `campagnes/resume.csv` and `contacts_prevus.csv` under
/// `out`; returns the paths written. `selections` come in priority order.
pub fn write(listes: &Listes, mois: Mois, out: &Path) -> Result<Vec<PathBuf>, CampaignError> {
    let selections = &listes.foyers;
    let mut written = Vec::new();
    if selections.is_empty() && listes.bailleurs.is_empty() {
        return Ok(written);
    }
    let dir = out.join("campagnes");
    // Each campaign's lists on a thread of their own; the paths in campaign order.
    for paths in on_threads(selections, |(campagne, sel)| write_lists(campagne, sel, &dir)) {
        written.extend(paths?);
    }

    let per = |f: &dyn Fn(&Selection) -> u64| selections.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
    let mut resume_cols = vec![
        Column::new("campagne".into(), selections.iter().map(|(c, _)| c.id.as_str()).collect::<Vec<_>>()),
        Column::new("priorite".into(), selections.iter().map(|(c, _)| c.priorite).collect::<Vec<_>>()),
        Column::new("foyers_signales".into(), per(&|s| s.signales())),
    ];
    for e in EXCLUSIONS {
        resume_cols.push(Column::new(format!("exclus_{e}").into(), per(&|s| s.count(e))));
    }
    resume_cols.push(Column::new("pris_par_autre_campagne".into(), per(&|s| s.count(AUTRE_CAMPAGNE))));
    resume_cols.push(Column::new("coupes_capacite".into(), per(&|s| s.count(COUPE_CAPACITE))));
    resume_cols.push(Column::new("temoins".into(), per(&|s| s.temoins.len() as u64)));
    resume_cols.push(Column::new("retenus".into(), per(&|s| s.retenus.len() as u64)));
    if !selections.is_empty() {
        let p = dir.join("resume.csv");
        output::write_csv(&mut DataFrame::new_infer_height(resume_cols)?, &p)?;
        written.push(p);
    }
    written.extend(write_landlord_lists(&listes.bailleurs, &dir)?);

    // Planned for the month after M: next month's run reads them as history. Control
    // households are there too (canal `temoin`), for the cooldown and `reperage suivi`.
    let planned = Date::from_days(mois.plus(1).first_day().to_days()).to_string();
    let mut rows: Vec<Prevu> = Vec::new();
    for (c, s) in selections {
        rows.extend(s.retenus.iter().map(|r| Prevu::foyer(&c.id, &r.candidat, r.canal)));
        rows.extend(s.temoins.iter().map(|t| Prevu::foyer(&c.id, t, TEMOIN)));
    }
    for (c, s) in &listes.bailleurs {
        rows.extend(s.retenus.iter().map(|r| Prevu {
            id_foyer: None,
            id_bailleur: Some(r.bailleur.id_bailleur.as_str()),
            campagne: c.id.as_str(),
            canal: r.canal,
            regles: bailleurs::regles(&r.bailleur),
        }));
    }
    let mut prevus = df!(
        "id_foyer" => rows.iter().map(|r| r.id_foyer).collect::<Vec<_>>(),
        "campagne" => rows.iter().map(|r| r.campagne).collect::<Vec<_>>(),
        "date" => rows.iter().map(|_| planned.as_str()).collect::<Vec<_>>(),
        "canal" => rows.iter().map(|r| r.canal).collect::<Vec<_>>(),
        "resultat" => rows.iter().map(|_| None::<&str>).collect::<Vec<_>>(),
        "regles" => rows.iter().map(|r| r.regles.as_str()).collect::<Vec<_>>(),
        "id_bailleur" => rows.iter().map(|r| r.id_bailleur).collect::<Vec<_>>(),
    )?;
    let p = out.join("contacts_prevus.csv");
    output::write_csv(&mut prevus, &p)?;
    written.push(p);
    Ok(written)
}

/// A planned contact of `contacts_prevus.csv`: with a foyer, or with a landlord (no
/// foyer named).
struct Prevu<'a> {
    id_foyer: Option<&'a str>,
    id_bailleur: Option<&'a str>,
    campagne: &'a str,
    canal: &'a str,
    regles: String,
}

impl<'a> Prevu<'a> {
    fn foyer(campagne: &'a str, candidat: &'a Candidat, canal: &'a str) -> Prevu<'a> {
        Prevu { id_foyer: Some(&candidat.id_foyer), id_bailleur: None, campagne, canal, regles: regles(candidat) }
    }
}

/// Each landlord campaign's `<canal>.csv` and `non_retenus.csv` under `dir/<id>/`, and
/// `dir/resume_bailleurs.csv`: per campaign, the foyers its rules flag, those left out
/// before grouping (no known landlord, file closed), the landlords, why those not
/// listed are not, and how many are.
fn write_landlord_lists(lists: &[(Campagne, SelectionBailleurs)], dir: &Path) -> Result<Vec<PathBuf>, CampaignError> {
    let mut written = Vec::new();
    if lists.is_empty() {
        return Ok(written);
    }
    for (campagne, sel) in lists {
        for canal in &campagne.canaux {
            let rows: Vec<&bailleurs::BailleurRetenu> =
                sel.retenus.iter().filter(|r| r.canal == canal.as_str()).collect();
            let p = dir.join(&campagne.id).join(format!("{canal}.csv"));
            output::write_csv(&mut bailleurs::list_frame(&rows)?, &p)?;
            written.push(p);
        }
        let p = dir.join(&campagne.id).join("non_retenus.csv");
        output::write_csv(&mut bailleurs::left_out_frame(&sel.non_retenus)?, &p)?;
        written.push(p);
    }
    let per = |f: &dyn Fn(&SelectionBailleurs) -> u64| lists.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
    let mut cols = vec![
        Column::new("campagne".into(), lists.iter().map(|(c, _)| c.id.as_str()).collect::<Vec<_>>()),
        Column::new("foyers_signales".into(), per(&|s| s.foyers_signales)),
        Column::new("foyers_sans_bailleur".into(), per(&|s| s.sans_bailleur)),
        Column::new("foyers_dossier_clos".into(), per(&|s| s.dossier_clos)),
        Column::new("foyers_sans_aide".into(), per(&|s| s.sans_aide)),
        Column::new("bailleurs_signales".into(), per(&|s| s.signales())),
    ];
    for e in bailleurs::EXCLUSIONS_BAILLEUR {
        cols.push(Column::new(format!("exclus_{e}").into(), per(&|s| s.count(e))));
    }
    cols.push(Column::new("coupes_capacite".into(), per(&|s| s.count(COUPE_CAPACITE))));
    cols.push(Column::new("retenus".into(), per(&|s| s.retenus.len() as u64)));
    let p = dir.join("resume_bailleurs.csv");
    output::write_csv(&mut DataFrame::new_infer_height(cols)?, &p)?;
    written.push(p);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in the items' order, not in the order the threads finish:
    /// the first items take longest here.
    #[test]
    fn work_on_threads_keeps_the_items_order() {
        let done = on_threads(0..6u64, |i| {
            std::thread::sleep(std::time::Duration::from_millis(60 - 10 * i));
            i * i
        });
        assert_eq!(done, [0, 1, 4, 9, 16, 25]);
    }

    /// Agents read a monthly amount per month and a prime paid once as such.
    #[test]
    fn reasons_say_a_payment_made_once() {
        let raison = |titre: &str, montant: f64, unique: bool| Raison {
            regle: titre.into(),
            titre: titre.into(),
            montant: Some(montant),
            evenement: false,
            unique,
            date: None,
        };
        let candidat = Candidat {
            id_foyer: "F".into(),
            agence: "A1".into(),
            raisons: vec![raison("Prime d'activité", 389.44, false), raison("Prime à la naissance", 1089.87, true)],
            dossier_clos: false,
            allocataire_decede: false,
            opposition_contact: Some(false),
            suivi_social: Some(false),
            canaux: [Some(true); 4],
            dernier_contact: None,
            dernier_contact_toutes_campagnes: None,
        };
        assert_eq!(
            motifs(&candidat),
            "Prime d'activité : 389,44 €/mois ; Prime à la naissance : 1089,87 € (versement unique)"
        );
    }
}
