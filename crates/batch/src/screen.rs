//! `screen`: the monthly job. Load the extract, build the situation, evaluate every
//! rule, and write every output as a projection of one evaluation frame.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::model::{RuleKind, column};
use reperage_rules::{CompileError, Compiled, Mois, RuleSet, StaleParameter};
use sha2::{Digest, Sha256};

use crate::campagnes;
use crate::evaluation;
use crate::extract::{self, ColonneAutorisee, Extract, ExtractError, Refus, Table, TableCount};
use crate::out_dir::{OutDir, OutDirError};
use crate::output::{self, Format, OutputError, TableWriter};
use crate::partitions::Coupe;

#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("rules: {0}")]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    OutDir(#[from] OutDirError),
    #[error("evaluation: {0}")]
    Polars(#[from] PolarsError),
    #[error(transparent)]
    Campaign(#[from] crate::campagnes::CampaignError),
    #[error(
        "{} parameter(s) may be out of date for {mois} and --parametres-a-jour was given:\n{}",
        .stale.len(),
        .stale.iter().map(|p| format!("  {}: {}", p.fichier, p.message)).collect::<Vec<_>>().join("\n")
    )]
    StaleParameters { mois: Mois, stale: Vec<StaleParameter> },
}

impl ScreenError {
    /// The privacy guard refused the extract (a direct identifier in a column): the
    /// command line exits with a code of its own.
    pub fn is_privacy(&self) -> bool {
        matches!(self, ScreenError::Extract(ExtractError::Privacy(_)))
    }
}

/// The months of resources the rules read, and what their absence left undetermined.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoriqueRessources {
    /// The oldest month the rules read (M-13, for the CSS) and the last one (M-1).
    pub premier_mois_lu: String,
    pub dernier_mois_lu: String,
    /// The oldest month of the extract's `ressources` table (None when it is empty).
    pub premier_mois_extrait: Option<String>,
    /// Foyers with at least one unknown month among those read.
    pub foyers_avec_mois_inconnus: u64,
    /// Per rule: foyers undetermined with a resource input among the missing ones.
    pub indetermines_faute_de_ressources: BTreeMap<String, u64>,
}

/// What a screen found, for the terminal summary and the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub mois: String,
    pub comptes: Vec<TableCount>,
    pub foyers_lus: u64,
    pub foyers_evalues: u64,
    pub foyers_quarantaine: u64,
    /// Signalements per rule id.
    pub signalements: BTreeMap<String, u64>,
    /// Per campaign, in priority order: its id, the foyers listed and those in its
    /// control group.
    pub campagnes: Vec<(String, u64, u64)>,
    /// Per landlord campaign, in priority order: its id and the landlords listed.
    pub listes_bailleurs: Vec<(String, u64)>,
    /// The `--strict` run stopped at the quarantine: only `quarantaine/` was written.
    pub strict_stop: bool,
    /// Parameters whose value for the month may be out of date.
    pub parametres_perimes: Vec<StaleParameter>,
    /// Which months of resources the rules read, and what their absence left undetermined.
    pub historique_ressources: Option<HistoriqueRessources>,
    pub fichiers_ecrits: Vec<String>,
    /// How many partitions the foyers were evaluated in (crate::evaluation).
    pub partitions: usize,
    /// The partition of a partitioned run this run was (`--partition K/N`).
    pub partie: Option<Partie>,
    /// How the memory budget set the pieces (absent with `--partitions`).
    pub memoire: Option<evaluation::Budget>,
    /// The process's peak resident memory, in bytes (where it can be read).
    pub pic: Option<u64>,
    /// Pieces Polars could not evaluate with common-subexpression elimination (evaluated
    /// without it), and the first failure.
    pub sans_cse: Option<(u64, String)>,
    /// Wall time of each phase, in order (where the time goes; not in the manifest, which
    /// depends on the inputs only).
    pub phases: Vec<PhaseTime>,
}

/// The phases of a screen, as the summary names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Phase {
    Lecture,
    Validation,
    Evaluation,
    Listes,
    Ecriture,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            // With `--precedent`, this month's and last month's extracts, read at once.
            Phase::Lecture => "reading",
            Phase::Validation => "validation",
            Phase::Evaluation => "evaluation",
            Phase::Listes => "contact lists",
            Phase::Ecriture => "writing",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseTime {
    pub phase: Phase,
    pub secondes: f64,
    /// Foyers the phase went through (evaluation), for a rate.
    pub foyers: Option<u64>,
}

/// Times the phases and tells the progress display where the run is. Validation and
/// evaluation alternate piece after piece: each phase's time is the sum of its turns.
struct Phases<'a> {
    progress: &'a dyn Fn(&str),
    current: Option<(Phase, std::time::Instant)>,
    done: Vec<PhaseTime>,
}

impl<'a> Phases<'a> {
    fn new(progress: &'a dyn Fn(&str)) -> Phases<'a> {
        Phases { progress, current: None, done: Vec::new() }
    }

    fn entry(&mut self, phase: Phase) -> &mut PhaseTime {
        if let Some(i) = self.done.iter().position(|p| p.phase == phase) {
            return &mut self.done[i];
        }
        self.done.push(PhaseTime { phase, secondes: 0.0, foyers: None });
        self.done.last_mut().expect("just pushed")
    }

    fn end(&mut self) {
        if let Some((phase, started)) = self.current.take() {
            self.entry(phase).secondes += started.elapsed().as_secs_f64();
        }
    }

    fn start(&mut self, phase: Phase) {
        if self.current.is_some_and(|(p, _)| p == phase) {
            return;
        }
        self.end();
        // Said once: validation and evaluation alternate piece after piece, the notes
        // say where they are.
        if !self.done.iter().any(|p| p.phase == phase) {
            (self.progress)(phase.label());
        }
        self.current = Some((phase, std::time::Instant::now()));
    }

    /// The current phase went through `foyers` more foyers (for a rate).
    fn count(&mut self, foyers: u64) {
        if let Some((phase, _)) = self.current {
            let e = self.entry(phase);
            e.foyers = Some(e.foyers.unwrap_or(0) + foyers);
        }
    }

    /// Within the current phase: `what`, with the rate so far.
    fn note(&mut self, what: &str) {
        if let Some((phase, started)) = self.current {
            let e = self.entry(phase);
            let (foyers, secondes) = (e.foyers.unwrap_or(0), e.secondes + started.elapsed().as_secs_f64());
            let rate = if foyers > 0 {
                format!(" ({:.0} foyers/s)", foyers as f64 / secondes.max(1e-9))
            } else {
                String::new()
            };
            (self.progress)(&format!("{}: {what}{rate}", phase.label()));
        }
    }

    fn finish(mut self) -> Vec<PhaseTime> {
        self.end();
        self.done
    }
}

pub struct Options<'a> {
    /// Told each stage as it starts (for a progress display).
    pub progress: &'a dyn Fn(&str),
    pub extract: &'a Path,
    /// Last month's extract of the same caisse, compared with this one (crate::situation, precedent.rs).
    pub precedent: Option<&'a Path>,
    pub mois: Mois,
    pub out: &'a Path,
    pub rules: &'a RuleSet,
    pub format: Format,
    pub strict: bool,
    /// Refuse to run when a parameter may be out of date for the month.
    pub parametres_a_jour: bool,
    /// Columns the caisse vouches for, left out of the privacy guard's examination.
    pub colonnes_autorisees: &'a [ColonneAutorisee],
    /// How many pieces to load and evaluate the foyers in; `None`: as `memoire_max` allows,
    /// at most `evaluation::FOYERS_PAR_PARTITION` foyers each. The outputs are the same
    /// either way.
    pub partitions: Option<usize>,
    /// The memory budget in bytes (`--memoire-max`); `None`: three quarters of the
    /// machine's memory.
    pub memoire_max: Option<u64>,
    /// Run only this partition of the extract (`--partition K/N`), for a scheduler that
    /// runs the N partitions as N processes; `fusionner` merges their outputs.
    pub partie: Option<Partie>,
}

/// Partition `indice` (from 0) of `nombre`: the foyers of the extract cut into `nombre`
/// ranges of consecutive ids, of equal counts (crate::partitions::Coupe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partie {
    pub indice: usize,
    pub nombre: usize,
}

impl Partie {
    /// Parses `K/N`, 0 ≤ K < N (K counts from 0, as Kubernetes' `JOB_COMPLETION_INDEX`
    /// and a Slurm array `--array=0-(N-1)` do).
    pub fn parse(text: &str) -> Result<Partie, String> {
        let (k, n) = text.split_once('/').ok_or_else(|| format!("`{text}`: expected K/N, e.g. 0/8"))?;
        let number = |s: &str| s.trim().parse::<usize>().map_err(|_| format!("`{text}`: `{s}` is not a whole number"));
        let (indice, nombre) = (number(k)?, number(n)?);
        if nombre == 0 || indice >= nombre {
            return Err(format!("`{text}`: K must be between 0 and N - 1 (partitions count from 0)"));
        }
        Ok(Partie { indice, nombre })
    }
}

fn round2(e: Expr) -> Expr {
    e.round(2, RoundMode::HalfAwayFromZero)
}

/// Whether a rule's amount is an estimate, for an eligible foyer (false otherwise).
fn estimated(r: &reperage_rules::CompiledRule) -> Expr {
    match &r.montant_estime {
        Some(c) => col(r.statut.as_str()).eq(lit("eligible")).and(col(c.as_str()).fill_null(lit(false))),
        None => lit(false),
    }
}

/// One row per foyer: for each benefit B, `B_statut`, `B_montant` and
/// `B_montant_estime` (benefits with an amount), `B_en_paiement`.
pub fn eligibilites(compiled: &Compiled, eval: &DataFrame) -> PolarsResult<DataFrame> {
    let mut cols = vec![col("id_foyer")];
    for r in compiled.rules.iter().filter(|r| r.kind == RuleKind::Prestation) {
        let b = r.prestation.clone().unwrap_or_else(|| r.id.clone());
        cols.push(col(r.statut.as_str()).alias(format!("{b}_statut")));
        if r.has_montant {
            cols.push(round2(col(r.montant.as_str())).alias(format!("{b}_montant")));
            cols.push(estimated(r).alias(format!("{b}_montant_estime")));
        }
        if let Some(p) = &r.en_paiement {
            cols.push(col(p.as_str()).alias(format!("{b}_en_paiement")));
        }
    }
    eval.clone().lazy().select(cols).collect()
}

/// Whether a rule fires for a foyer (a signalement): a benefit eligible (or
/// undetermined) and not in payment — likely non-take-up —, or a life event detected.
/// Null when whether the benefit is in payment is unknown.
pub fn fires(cr: &reperage_rules::CompiledRule) -> Expr {
    let statut = col(cr.statut.as_str());
    match (&cr.kind, &cr.en_paiement) {
        (RuleKind::Prestation, Some(p)) => statut.neq(lit("non_eligible")).and(col(p.as_str()).eq(lit(false))),
        _ => statut.eq(lit("eligible")),
    }
}

/// One row per (foyer, rule) that fires ([`fires`]).
pub fn signalements(compiled: &Compiled, rules: &RuleSet, eval: &DataFrame) -> PolarsResult<DataFrame> {
    let mut parts = Vec::new();
    for cr in &compiled.rules {
        let Some(rule) = rules.rule(&cr.id) else { continue };
        let statut = col(cr.statut.as_str());
        let fires = fires(cr);
        // The leaf conditions whose value passes `test`, each as `label` gives it (its id
        // or its title), joined by `sep`; `empty` for a rule without leaf conditions.
        let leaves = |test: &dyn Fn(Expr) -> Expr,
                      label: &dyn Fn(&reperage_rules::model::Def) -> String,
                      sep: &str,
                      empty: &str|
         -> Expr {
            let names: Vec<Expr> = rule
                .defs
                .iter()
                .filter(|d| {
                    d.role == reperage_rules::model::DefRole::Condition
                        && matches!(d.body, reperage_rules::model::DefBody::Expr(..))
                })
                .map(|d| {
                    when(test(col(column(&cr.id, &d.name))))
                        .then(lit(label(d)))
                        .otherwise(lit(NULL).cast(DataType::String))
                })
                .collect();
            if names.is_empty() { lit(empty.to_string()) } else { concat_str(names, sep, true) }
        };
        let id = |d: &reperage_rules::model::Def| d.name.clone();
        let title = |d: &reperage_rules::model::Def| if d.titre.is_empty() { d.name.clone() } else { d.titre.clone() };
        let held = |c: Expr| c.eq(lit(true));
        // Without a missing input, an undetermined result comes from a case the rule says
        // it does not model (the literal `inconnu`): the conditions left unknown say which.
        let unknown = |c: Expr| c.is_null();
        let undetermined = statut.clone().eq(lit("indetermine"));
        // `conditions`, for data teams: the ids of the leaf conditions that held, or of
        // those left unknown.
        let conditions =
            when(undetermined.clone()).then(leaves(&unknown, &id, ", ", "?")).otherwise(leaves(&held, &id, ", ", ""));
        // `motifs`, for agents: the same conditions by their titles. The missing inputs of
        // an undetermined result are named by their titles once the rows are gathered
        // (`motifs_manquants`), with the months of resources the extract lacks.
        let motifs = when(undetermined.clone())
            .then(concat_str([lit("cas non modélisé : "), leaves(&unknown, &title, " ; ", "?")], "", true))
            .otherwise(leaves(&held, &title, " ; ", ""));
        let manquants = when(undetermined).then(col(cr.manquants.as_str())).otherwise(lit(NULL).cast(DataType::String));
        let (montant, estimation) = match cr.kind {
            RuleKind::Prestation => {
                let titre = rule.def("montant_estime").map_or(String::new(), |d| d.titre.clone());
                let why = when(estimated(cr)).then(lit(titre)).otherwise(lit(NULL).cast(DataType::String));
                (round2(col(cr.montant.as_str())), why)
            }
            // An event's amount is the one at stake in the rights it opens, when its rule
            // computes one.
            RuleKind::Evenement if cr.has_montant => {
                (round2(col(cr.montant.as_str())), lit(NULL).cast(DataType::String))
            }
            RuleKind::Evenement => (lit(NULL).cast(DataType::Float64), lit(NULL).cast(DataType::String)),
        };
        // A prime or the allocation de rentrée scolaire is paid once: its amount is not a
        // monthly one, and the list says so.
        let versement = match (cr.has_montant, rule.versement_unique) {
            (false, _) => lit(NULL).cast(DataType::String),
            (true, true) => lit("unique"),
            (true, false) => lit("mensuel"),
        };
        parts.push(eval.clone().lazy().filter(fires).select([
            col("id_foyer"),
            lit(cr.id.as_str()).alias("regle"),
            lit(cr.kind.name()).alias("type"),
            statut.alias("statut"),
            montant.alias("montant_mensuel_estime"),
            estimation.alias("estimation"),
            motifs.alias("motifs"),
            conditions.alias("conditions"),
            lit(compiled.mois.to_string()).alias("mois"),
            versement.alias("versement"),
            manquants.alias(MANQUANTS),
            col("mois_ressources_inconnus").alias(MOIS_INCONNUS),
        ]));
    }
    if parts.is_empty() {
        return DataFrame::new_infer_height(vec![
            Column::new_empty("id_foyer".into(), &DataType::String),
            Column::new_empty("regle".into(), &DataType::String),
            Column::new_empty("type".into(), &DataType::String),
            Column::new_empty("statut".into(), &DataType::String),
            Column::new_empty("montant_mensuel_estime".into(), &DataType::Float64),
            Column::new_empty("estimation".into(), &DataType::String),
            Column::new_empty("motifs".into(), &DataType::String),
            Column::new_empty("conditions".into(), &DataType::String),
            Column::new_empty("mois".into(), &DataType::String),
            Column::new_empty("versement".into(), &DataType::String),
        ]);
    }
    let mut df =
        concat(parts, UnionArgs::default())?.sort(["id_foyer", "regle"], SortMultipleOptions::default()).collect()?;
    let motifs = motifs_manquants(rules, &df)?;
    df.with_column(motifs)?;
    Ok(df.drop_many([MANQUANTS, MOIS_INCONNUS]))
}

/// Temporary columns of the signalements: an undetermined result's missing inputs (ids),
/// and the months of resources the foyer lacks.
const MANQUANTS: &str = "__manquants";
const MOIS_INCONNUS: &str = "__mois_inconnus";

/// The `motifs` column, where an undetermined result's missing inputs are named by their
/// titles (`données manquantes : Titre (id) ; …`), followed by the months of resources
/// the extract lacks for the foyer, if any (often the reason); elsewhere as it is.
fn motifs_manquants(rules: &RuleSet, df: &DataFrame) -> PolarsResult<Column> {
    let titles: std::collections::HashMap<&str, &str> =
        rules.inputs.values().map(|i| (i.name.as_str(), i.titre.as_str())).collect();
    let motifs = df.column("motifs")?.str()?;
    let manquants = df.column(MANQUANTS)?.str()?;
    let mois = df.column(MOIS_INCONNUS)?.str()?;
    let out: StringChunked = motifs
        .iter()
        .zip(manquants.iter())
        .zip(mois.iter())
        .map(|((motif, missing), months)| match missing {
            Some(list) => {
                let named: Vec<String> = list
                    .split(", ")
                    .map(|m| reperage_rules::explain::titre_et_id(titles.get(m).copied().unwrap_or(""), m))
                    .collect();
                let months = months.map_or(String::new(), |m| format!(" — mois de ressources inconnus : {m}"));
                Some(format!("données manquantes : {}{months}", named.join(" ; ")))
            }
            None => motif.map(str::to_string),
        })
        .collect();
    Ok(out.with_name("motifs".into()).into_column())
}

/// The refused rows of one table, as written to `quarantaine/<table>.csv`.
fn quarantine_frame(refus: &[&Refus]) -> PolarsResult<DataFrame> {
    df!(
        "table" => refus.iter().map(|r| r.table.name()).collect::<Vec<_>>(),
        "ligne" => refus.iter().map(|r| r.ligne).collect::<Vec<_>>(),
        "colonne" => refus.iter().map(|r| r.colonne.as_str()).collect::<Vec<_>>(),
        "valeur" => refus.iter().map(|r| r.valeur.as_str()).collect::<Vec<_>>(),
        "motif" => refus.iter().map(|r| r.motif.as_str()).collect::<Vec<_>>(),
        "id_foyer" => refus.iter().map(|r| r.id_foyer.as_deref()).collect::<Vec<_>>(),
    )
}

pub(crate) fn sha256_text(text: &str) -> String {
    sha256_hex(text.as_bytes())
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn write_quarantine(
    refus: &[Refus],
    foyers_quarantaine: &[extract::FoyerQuarantaine],
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<(), ScreenError> {
    let dir = out.join("quarantaine");
    for table in Table::ALL {
        let rows: Vec<&Refus> = refus.iter().filter(|r| r.table == table).collect();
        let mut df = quarantine_frame(&rows)?;
        let p = dir.join(format!("{}.csv", table.name()));
        output::write_csv(&mut df, &p)?;
        written.push(p);
    }
    let mut exclus = df!(
        "id_foyer" => foyers_quarantaine.iter().map(|f| f.id_foyer.as_str()).collect::<Vec<_>>(),
        "motif" => foyers_quarantaine.iter().map(|f| f.motif.as_str()).collect::<Vec<_>>(),
    )?;
    let p = dir.join("foyers_exclus.csv");
    output::write_csv(&mut exclus, &p)?;
    written.push(p);
    Ok(())
}

/// The foyers whose resource history leaves them short, counted partition after
/// partition: with unknown months, and undetermined per rule for want of resources.
#[derive(Default)]
struct ResourceGaps {
    foyers_avec_mois_inconnus: u64,
    par_regle: BTreeMap<String, u64>,
}

impl ResourceGaps {
    fn add(&mut self, compiled: &Compiled, eval: &DataFrame) -> PolarsResult<()> {
        self.foyers_avec_mois_inconnus +=
            eval.column("mois_ressources_inconnus")?.is_not_null().sum().unwrap_or(0) as u64;
        for r in &compiled.rules {
            let missing = eval.column(&r.manquants)?.str()?.clone();
            let n = missing.iter().flatten().filter(|m| m.contains("ressources") || m.contains("revenus")).count();
            if n > 0 {
                *self.par_regle.entry(r.id.clone()).or_default() += n as u64;
            }
        }
        Ok(())
    }
}

/// The oldest month of a piece's `ressources` (None when it has no row).
fn oldest_month(extract: &Extract) -> PolarsResult<Option<String>> {
    let oldest = extract.table(Table::Ressources).clone().lazy().select([col("mois").min()]).collect()?;
    Ok(oldest.column("mois")?.get(0).ok().and_then(|v| match v {
        AnyValue::Date(days) => Some(reperage_rules::Date::from_days(days).mois().to_string()),
        _ => None,
    }))
}

/// The months of resources read (M-13 … M-1), the extract's oldest month, and the foyers
/// their absence affects.
fn resource_history(premier_mois_extrait: Option<String>, mois: Mois, gaps: ResourceGaps) -> HistoriqueRessources {
    HistoriqueRessources {
        premier_mois_lu: mois.plus(-13).to_string(),
        dernier_mois_lu: mois.plus(-1).to_string(),
        premier_mois_extrait,
        foyers_avec_mois_inconnus: gaps.foyers_avec_mois_inconnus,
        indetermines_faute_de_ressources: gaps.par_regle,
    }
}

/// The parameters that may be out of date for `mois` (to show and record); an error
/// instead when `refuse` (`--parametres-a-jour`) and there are some.
pub fn stale_parameters(rules: &RuleSet, mois: Mois, refuse: bool) -> Result<Vec<StaleParameter>, ScreenError> {
    let stale = rules.stale_parameters(mois);
    if refuse && !stale.is_empty() {
        return Err(ScreenError::StaleParameters { mois, stale });
    }
    Ok(stale)
}

/// Runs the whole screen and writes its outputs under `opts.out`.
///
/// Everything is written into a staging folder that replaces `opts.out` only once
/// `manifest.json`, written last, is complete (out_dir.rs): a run that fails or is killed
/// leaves the previous result as it was.
pub fn screen(opts: &Options) -> Result<Report, ScreenError> {
    let mut phases = Phases::new(opts.progress);
    let mut report = run(opts, &mut phases)?;
    report.phases = phases.finish();
    Ok(report)
}

/// What the screen does with each piece of the evaluation (crate::evaluation::Etapes):
/// counts and quarantine gathered, outputs appended, campaign candidates collected.
struct Screening<'o, 'p> {
    opts: &'o Options<'o>,
    phases: &'o mut Phases<'p>,
    pieces: usize,
    /// The refused rows and quarantined foyers of every piece so far.
    refus: Vec<Refus>,
    foyers_quarantaine: Vec<extract::FoyerQuarantaine>,
    comptes: Vec<TableCount>,
    comptes_precedent: Vec<TableCount>,
    foyers_evalues: u64,
    /// `--strict` and a row was refused: no piece is evaluated any more.
    strict_stop: bool,
    eligibilites: TableWriter,
    signalements: TableWriter,
    n_elig: usize,
    n_sig: usize,
    signalements_par_regle: BTreeMap<String, u64>,
    collecte: campagnes::Collecte,
    gaps: ResourceGaps,
    premier_mois_extrait: Option<String>,
    /// Pieces evaluated without common-subexpression elimination, and why the first.
    pieces_sans_cse: u64,
    sans_cse: Option<String>,
}

/// Adds the per-table counts of a piece to those so far.
pub(crate) fn add_counts(sums: &mut Vec<TableCount>, piece: &[TableCount]) {
    if sums.is_empty() {
        sums.extend(piece.iter().cloned());
        return;
    }
    for (sum, c) in sums.iter_mut().zip(piece) {
        sum.lus += c.lus;
        sum.utilises += c.utilises;
        sum.quarantaines += c.quarantaines;
    }
}

impl evaluation::Etapes for Screening<'_, '_> {
    fn debut(&mut self, _: usize) {
        self.phases.start(Phase::Validation);
    }

    fn validee(&mut self, k: usize, extract: &Extract, previous: Option<&Extract>) -> Result<bool, ScreenError> {
        self.refus.extend(extract.refus.iter().cloned());
        self.foyers_quarantaine.extend(extract.foyers_quarantaine.iter().cloned());
        add_counts(&mut self.comptes, &extract.comptes);
        if let Some(p) = previous {
            add_counts(&mut self.comptes_precedent, &p.comptes);
        }
        if let Some(m) = oldest_month(extract)? {
            self.premier_mois_extrait = Some(self.premier_mois_extrait.take().map_or(m.clone(), |o| o.min(m)));
        }
        self.strict_stop |= self.opts.strict && !self.refus.is_empty();
        if !self.strict_stop {
            self.phases.start(Phase::Evaluation);
            let n = extract.table(Table::Foyers).height() as u64;
            self.phases.note(&format!("piece {} of {}, {n} foyers", k + 1, self.pieces));
        }
        Ok(!self.strict_stop)
    }

    fn evaluee(
        &mut self,
        _: usize,
        compiled: &Compiled,
        extract: &Extract,
        eval: DataFrame,
    ) -> Result<(), ScreenError> {
        self.foyers_evalues += eval.height() as u64;
        self.phases.count(eval.height() as u64);
        self.gaps.add(compiled, &eval)?;
        let mut elig = eligibilites(compiled, &eval)?;
        self.n_elig += elig.height();
        self.eligibilites.write(&mut elig)?;
        let mut sig = signalements(compiled, self.opts.rules, &eval)?;
        for r in sig.column("regle")?.str()?.iter().flatten() {
            *self.signalements_par_regle.entry(r.to_string()).or_default() += 1;
        }
        self.n_sig += sig.height();
        self.signalements.write(&mut sig)?;
        self.collecte.add(
            self.opts.rules,
            compiled,
            &eval,
            extract.table(Table::Contacts),
            extract.table(Table::Bailleurs),
        )?;
        Ok(())
    }
}

/// Where and how an evaluating command reads its extracts (`screen`, `estimer`).
pub(crate) struct Lecture<'a> {
    pub extract: &'a Path,
    pub precedent: Option<&'a Path>,
    pub colonnes_autorisees: &'a [ColonneAutorisee],
    pub partitions: Option<usize>,
    pub memoire_max: Option<u64>,
    pub partie: Option<Partie>,
}

/// This month's extract and last month's, read, dealt to their pieces and spilled.
pub(crate) struct Lu {
    pub current: extract::routage::Chargement,
    pub previous: Option<extract::routage::Chargement>,
    pub coupe: Coupe,
    pub memoire: Option<evaluation::Budget>,
}

impl Lecture<'_> {
    /// The pieces this run loads one after the other: `--partitions`, or as the memory
    /// budget allows (with how it was chosen).
    fn pieces(&self, foyers: usize) -> (usize, Option<evaluation::Budget>) {
        if let Some(n) = self.partitions {
            return (n, None);
        }
        let budget = self.memoire_max.or_else(|| crate::memoire::machine_memory().map(|m| m / 4 * 3));
        match (budget, crate::memoire::process_memory()) {
            (Some(budget), Some(memory)) => {
                let chosen = evaluation::Budget::new(foyers, budget, memory.resident);
                (chosen.pieces(foyers), Some(chosen))
            }
            _ => (foyers.div_ceil(evaluation::FOYERS_PAR_PARTITION), None),
        }
    }

    /// Reads both extracts, their rows spilled under `spill` (the caller removes it).
    pub(crate) fn lire(&self, spill: &Path) -> Result<Lu, ScreenError> {
        // The cut: this process's partition (all of it for a whole run), in as many pieces
        // as the memory budget asks, from the foyer ids alone (crate::partitions).
        let memoire;
        let coupe = {
            let ids = extract::routage::foyer_ids(self.extract)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let (nombre, partie) = self.partie.map_or((1, 0), |p| (p.nombre, p.indice));
            let foyers = Coupe::new(&ids, nombre, partie, 1).foyers(&ids);
            let (n, chosen) = self.pieces(foyers);
            memoire = chosen;
            Coupe::new(&ids, nombre, partie, n)
        };
        // Last month's extract: only the tables the comparison reads, cut alike, validated
        // like this month's; its refused rows are counted in the manifest (its own screen
        // wrote them). Read at the same time as this month's: this month's `ressources` waits
        // for its `personnes` and keeps one core alone, which last month's reading takes.
        let (current, previous) = std::thread::scope(|s| {
            let previous = self.precedent.map(|dir| {
                let p = spill.join("precedent");
                let (coupe, autorisees) = (&coupe, self.colonnes_autorisees);
                s.spawn(move || {
                    extract::routage::route_beside(dir, &extract::TABLES_PRECEDENT, autorisees, coupe, &p, 2)
                })
            });
            let readings = if self.precedent.is_some() { 2 } else { 1 };
            let current = extract::routage::route_beside(
                self.extract,
                &Table::ALL,
                self.colonnes_autorisees,
                &coupe,
                &spill.join("mois"),
                readings,
            );
            let previous = previous.map(|h| {
                h.join().unwrap_or_else(|_| Err(extract::ExtractError::Internal("last month's reader panicked".into())))
            });
            (current, previous)
        });
        // This month's error first, as when the two were read one after the other.
        let current = current?;
        let previous = previous.transpose()?;
        Ok(Lu { current, previous, coupe, memoire })
    }
}

fn run(opts: &Options, phases: &mut Phases) -> Result<Report, ScreenError> {
    let stale = stale_parameters(opts.rules, opts.mois, opts.parametres_a_jour)?;
    let inputs: Vec<&Path> = std::iter::once(opts.extract).chain(opts.precedent).collect();
    let out_dir = OutDir::prepare(opts.out, &inputs)?;
    let out = out_dir.path();
    phases.start(Phase::Lecture);
    // Rows are spilled beside the outputs (pieces loaded one at a time), and removed.
    let spill = out.join(".pieces");
    let lecture = Lecture {
        extract: opts.extract,
        precedent: opts.precedent,
        colonnes_autorisees: opts.colonnes_autorisees,
        partitions: opts.partitions,
        memoire_max: opts.memoire_max,
        partie: opts.partie,
    };
    let Lu { mut current, mut previous, coupe, memoire } = lecture.lire(&spill)?;
    let fichiers = current.fichiers.clone();
    let fichiers_precedent = previous.as_ref().map(|p| p.fichiers.clone());
    let mut screening = Screening {
        opts,
        pieces: coupe.count(),
        refus: Vec::new(),
        foyers_quarantaine: Vec::new(),
        comptes: Vec::new(),
        comptes_precedent: Vec::new(),
        foyers_evalues: 0,
        strict_stop: opts.strict && current.refus_lus() > 0,
        eligibilites: TableWriter::create(out, "eligibilites", opts.format)?,
        signalements: TableWriter::create(out, "signalements", opts.format)?,
        n_elig: 0,
        n_sig: 0,
        signalements_par_regle: BTreeMap::new(),
        collecte: campagnes::Collecte::new(opts.rules),
        gaps: ResourceGaps::default(),
        premier_mois_extrait: None,
        pieces_sans_cse: 0,
        sans_cse: None,
        phases,
    };
    let compiled = evaluation::evaluate(&mut current, previous.as_mut(), opts.rules, opts.mois, &mut screening)?;
    drop((current, previous));
    let _ = std::fs::remove_dir_all(&spill);
    let Screening {
        mut refus,
        foyers_quarantaine,
        comptes,
        comptes_precedent,
        foyers_evalues,
        strict_stop,
        eligibilites: eligibilites_out,
        signalements: signalements_out,
        n_elig,
        n_sig,
        signalements_par_regle,
        collecte,
        gaps,
        premier_mois_extrait,
        pieces_sans_cse,
        sans_cse,
        phases,
        ..
    } = screening;
    refus.sort_by(|a, b| (a.table, a.ligne, &a.colonne).cmp(&(b.table, b.ligne, &b.colonne)));
    let mut written = Vec::new();
    write_quarantine(&refus, &foyers_quarantaine, out, &mut written)?;
    let foyers = comptes.iter().find(|c| c.table == "foyers");
    let mut report = Report {
        mois: opts.mois.to_string(),
        comptes: comptes.clone(),
        foyers_lus: foyers.map_or(0, |c| c.lus),
        foyers_evalues,
        foyers_quarantaine: foyers_quarantaine.len() as u64,
        signalements: signalements_par_regle,
        campagnes: Vec::new(),
        listes_bailleurs: Vec::new(),
        strict_stop,
        parametres_perimes: stale,
        historique_ressources: None,
        fichiers_ecrits: Vec::new(),
        partitions: coupe.count(),
        partie: opts.partie,
        memoire,
        pic: None,
        sans_cse: sans_cse.map(|why| (pieces_sans_cse, why)),
        phases: Vec::new(),
    };
    if strict_stop {
        phases.start(Phase::Ecriture);
        eligibilites_out.abandon();
        signalements_out.abandon();
        let mut manifest = manifest_head("arret_strict", opts, &fichiers);
        manifest["lignes"] = serde_json::json!(comptes);
        return commit(out_dir, manifest, written, report);
    }
    written.extend(eligibilites_out.finish()?);
    written.extend(signalements_out.finish()?);
    phases.start(Phase::Listes);
    report.historique_ressources = Some(resource_history(premier_mois_extrait, opts.mois, gaps));
    let campagnes_manifest = listes(collecte, opts, out, &mut written, &mut report)?;
    phases.start(Phase::Ecriture);

    let mut manifest = manifest_head("complet", opts, &fichiers);
    let rest = serde_json::json!({
        "regles": opts.rules.files.iter().map(|f| serde_json::json!({
            "fichier": f.path,
            "sha256": sha256_text(&f.text),
        })).collect::<Vec<_>>(),
        "parametres": compiled.params,
        "parametres_perimes": report.parametres_perimes,
        "historique_ressources": report.historique_ressources,
        "lignes": comptes,
        "extrait_precedent": fichiers_precedent.map(|f| serde_json::json!({
            "mois": opts.mois.plus(-1).to_string(),
            "fichiers": f.iter().map(|f| serde_json::json!({
                "table": f.table,
                "sha256": f.sha256,
            })).collect::<Vec<_>>(),
            "lignes": comptes_precedent,
        })),
        "partitions": report.partitions,
        "foyers": {
            "lus": report.foyers_lus,
            "evalues": report.foyers_evalues,
            "en_quarantaine": report.foyers_quarantaine,
        },
        "sorties": {
            "eligibilites": n_elig,
            "signalements": n_sig,
            "signalements_par_regle": report.signalements,
        },
        "campagnes": campagnes_manifest,
        "reglages_campagnes": opts.rules.reglages_campagnes,
    });
    if let (Some(m), serde_json::Value::Object(rest)) = (manifest.as_object_mut(), rest) {
        m.extend(rest);
    }
    commit(out_dir, manifest, written, report)
}

/// The contact lists of the run, written and counted in `report`; or, in a partition,
/// the candidates `fusionner` selects from. Returns their account for the manifest.
fn listes(
    collecte: campagnes::Collecte,
    opts: &Options,
    out: &Path,
    written: &mut Vec<PathBuf>,
    report: &mut Report,
) -> Result<serde_json::Value, ScreenError> {
    // A partition cannot cap a campaign (capacity is per agency of the whole caisse):
    // it writes its candidates, `fusionner` selects over all of them.
    Ok(if opts.partie.is_some() {
        written.push(collecte.write_candidats(opts.rules, &out.join(campagnes::CANDIDATS))?);
        written.extend(collecte.write_locataires(opts.rules, &out.join(campagnes::LOCATAIRES))?);
        let counts = collecte.counts();
        serde_json::json!(
            opts.rules
                .campagnes
                .iter()
                .zip(counts)
                .map(|(c, n)| serde_json::json!({
                    "id": c.id,
                    "candidats": n,
                }))
                .collect::<Vec<_>>()
        )
    } else {
        let lists = collecte.select(opts.rules, opts.mois);
        written.extend(campagnes::write(&lists, opts.mois, out)?);
        for (c, sel) in &lists.foyers {
            report.campagnes.push((c.id.clone(), sel.retenus.len() as u64, sel.temoins.len() as u64));
        }
        for (c, sel) in &lists.bailleurs {
            report.listes_bailleurs.push((c.id.clone(), sel.retenus.len() as u64));
        }
        campaigns_manifest(&lists)
    })
}

/// The manifest's account of each campaign's contact list (a whole run's, or the merge
/// of a partitioned one's).
pub fn campaigns_manifest(listes: &campagnes::Listes) -> serde_json::Value {
    let bailleurs = listes.bailleurs.iter().map(|(c, sel)| {
        serde_json::json!({
            "id": c.id,
            "fichier": c.file,
            "liste": c.liste,
            "priorite": c.priorite,
            "foyers_signales": sel.foyers_signales,
            "foyers_sans_bailleur": sel.sans_bailleur,
            "foyers_dossier_clos": sel.dossier_clos,
            "foyers_sans_aide": sel.sans_aide,
            "bailleurs_signales": sel.signales(),
            "exclus": campagnes::bailleurs::EXCLUSIONS_BAILLEUR
                .iter()
                .map(|e| (*e, sel.count(e)))
                .collect::<BTreeMap<_, _>>(),
            "coupes_capacite": sel.count(campagnes::COUPE_CAPACITE),
            "retenus": sel.retenus.len(),
        })
    });
    serde_json::json!(
        listes
            .foyers
            .iter()
            .map(|(c, sel)| serde_json::json!({
                "id": c.id,
                "fichier": c.file,
                "priorite": c.priorite,
                "groupe_temoin": c.groupe_temoin,
                "foyers_signales": sel.signales(),
                "exclus": campagnes::EXCLUSIONS.iter().map(|e| (*e, sel.count(e))).collect::<BTreeMap<_, _>>(),
                "pris_par_autre_campagne": sel.count(campagnes::AUTRE_CAMPAGNE),
                "coupes_capacite": sel.count(campagnes::COUPE_CAPACITE),
                "temoins": sel.temoins.len(),
                "retenus": sel.retenus.len(),
            }))
            .chain(bailleurs)
            .collect::<Vec<_>>()
    )
}

/// What every manifest starts with, whether the run went to the end or stopped at the
/// quarantine (`--strict`). The options that change the outputs are recorded, so that
/// `fusionner` can refuse partitions run with different ones.
fn manifest_head(statut: &str, opts: &Options, fichiers: &[extract::InputFile]) -> serde_json::Value {
    let mut head = serde_json::json!({
        "statut": statut,
        "moteur": { "nom": "reperage", "version": env!("CARGO_PKG_VERSION") },
        "mois": opts.mois.to_string(),
        "extrait": input_files(fichiers),
        "colonnes_autorisees": opts.colonnes_autorisees,
        "options": {
            "format": opts.format.name(),
            "strict": opts.strict,
            "precedent": opts.precedent.is_some(),
        },
    });
    if let Some(p) = opts.partie {
        head["partition"] = serde_json::json!(p);
    }
    head
}

/// The extract's files, for the manifest.
pub(crate) fn input_files(fichiers: &[extract::InputFile]) -> Vec<serde_json::Value> {
    fichiers
        .iter()
        .map(|f| {
            serde_json::json!({
                "table": f.table,
                "fichier": Path::new(&f.path).file_name().map(|n| n.to_string_lossy().to_string()),
                "format": f.format,
                "sha256": f.sha256,
                "colonnes_utilisees": f.colonnes_utilisees,
                "colonnes_ignorees": f.colonnes_ignorees,
            })
        })
        .collect()
}

/// Writes the manifest last — with every output file, its size and SHA-256, so a reader
/// can check the result is whole — then replaces `--out` by the staging folder.
fn commit(
    out_dir: OutDir,
    manifest: serde_json::Value,
    written: Vec<PathBuf>,
    mut report: Report,
) -> Result<Report, ScreenError> {
    report.fichiers_ecrits = commit_files(out_dir, manifest, written)?;
    report.pic = crate::memoire::process_memory().map(|m| m.peak);
    Ok(report)
}

/// [`commit`] for any run that writes a result folder (`screen`, `fusionner`): returns
/// the final paths of the files written, the manifest last.
pub(crate) fn commit_files(
    out_dir: OutDir,
    mut manifest: serde_json::Value,
    written: Vec<PathBuf>,
) -> Result<Vec<String>, ScreenError> {
    let staging = out_dir.path().to_path_buf();
    let mut files = Vec::new();
    for p in &written {
        let io = |e| OutputError::Io { path: p.display().to_string(), source: e };
        let bytes = std::fs::read(p).map_err(io)?;
        let rel = p.strip_prefix(&staging).unwrap_or(p).to_string_lossy().to_string();
        files.push(serde_json::json!({
            "fichier": rel,
            "octets": bytes.len(),
            "sha256": sha256_hex(&bytes),
        }));
    }
    manifest["fichiers_ecrits"] = serde_json::Value::Array(files);
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| {
        ScreenError::Output(OutputError::Io { path: "manifest.json".into(), source: std::io::Error::other(e) })
    })?;
    let p = staging.join("manifest.json");
    output::atomic_write(&p, |f| {
        use std::io::Write;
        f.write_all(text.as_bytes()).map_err(|e| OutputError::Io { path: p.display().to_string(), source: e })
    })?;
    let final_dir = out_dir.final_path().to_path_buf();
    out_dir.commit()?;
    Ok(written
        .iter()
        .chain(std::iter::once(&p))
        .map(|p| final_dir.join(p.strip_prefix(&staging).unwrap_or(p)).display().to_string())
        .collect())
}
