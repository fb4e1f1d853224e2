//! Synthetic extracts following the contract, for `sample-data/`, tests and benchmarks.
//!
//! Deterministic: the same seed, month and size give byte-identical files. Distributions
//! are documented in docs/synthetic.md. Non-take-up is planted: among foyers whose
//! profile makes a benefit likely, the right is put in payment except for a chosen
//! share, and the ground truth (written beside the extract, never inside it) says which
//! rights were withheld. The profile is deliberately rough (age, income band): the
//! generator does not re-implement the rules, so the ground truth says what was
//! planted, not what the law decides.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::{Date, Mois};

use crate::output::{OutputError, TableWriter};

mod foyer;
pub mod suivi;

use foyer::{COMMUNES, foyer};

/// Non-take-up rates planted by default, from published estimates (docs/synthetic.md).
/// The ASF's and the PAJE's are assumptions of this sample, not published estimates.
pub const TAUX_NON_RECOURS: &[(&str, f64)] = &[
    ("aspa", 0.50),
    ("rsa", 0.34),
    ("ppa", 0.27),
    ("css", 0.44),
    ("asf", 0.20),
    ("paje_base", 0.05),
    ("cf", 0.10),
    ("paje_naissance", 0.05),
    ("aide_logement", 0.10),
    ("aah", 0.25),
];

/// How much each département's planted non-take-up differs from the benefit's rate
/// (points), and how much more a foyer in a QPV claims nothing: assumptions of the
/// synthetic data, so that estimates by territory have something to find (no published
/// territorial estimate is used; docs/synthetic.md).
pub const ECARTS_DEPARTEMENT: &[(&str, f64)] = &[
    ("93", 0.10),
    ("75", -0.06),
    ("92", -0.10),
    ("69", 0.02),
    ("13", 0.06),
    ("59", 0.04),
    ("31", -0.04),
    ("33", -0.02),
    ("35", -0.08),
    ("63", 0.0),
    ("23", 0.08),
    ("48", 0.04),
    ("2A", 0.02),
    ("974", 0.12),
    ("971", 0.14),
    ("08", 0.05),
];
pub const ECART_QPV: f64 = 0.08;

/// The planted non-take-up rate of a benefit for a foyer of this commune, in a QPV or
/// not: the benefit's rate, plus the département's and the QPV's differences, kept
/// between 2 % and 90 %.
pub fn taux_plante(prestation: &str, commune: &str, en_qpv: bool) -> f64 {
    let base = TAUX_NON_RECOURS.iter().find(|(c, _)| *c == prestation).map_or(0.0, |x| x.1);
    let departement = ECARTS_DEPARTEMENT.iter().find(|(d, _)| commune.starts_with(d)).map_or(0.0, |x| x.1);
    (base + departement + if en_qpv { ECART_QPV } else { 0.0 }).clamp(0.02, 0.90)
}

/// splitmix64: small, fast, and stable across platforms and versions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1).max(1) as u64)) as i64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// Cents-rounded amount uniform in [lo, hi].
    pub fn amount(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + self.unit() * (hi - lo)) * 100.0).round() / 100.0
    }
}

/// (id_foyer, id_personne, prestation, date_debut, date_fin, montant_mensuel)
type DroitRow = (String, String, &'static str, String, String, Option<f64>);

#[derive(Default)]
struct Tables {
    foyers: Vec<[String; 22]>,
    personnes: Vec<[String; 19]>,
    /// (id_personne, mois, nature, montant, montant_brut)
    ressources: Vec<(String, String, &'static str, f64, Option<f64>)>,
    droits: Vec<DroitRow>,
    evenements: Vec<(String, String, &'static str, String, &'static str)>,
    contacts: Vec<(String, String, String, &'static str, &'static str)>,
    /// The private landlords ([`bailleurs`]): (id_bailleur, telephone, courrier, email,
    /// opposition), and the contacts with them (id_bailleur, campagne, date, canal, resultat).
    bailleurs: Vec<[String; 5]>,
    contacts_bailleurs: Vec<(String, String, String, &'static str, &'static str)>,
    verite: Vec<(String, &'static str, String)>,
}

fn b(v: Option<bool>) -> String {
    match v {
        Some(true) => "1".into(),
        Some(false) => "0".into(),
        None => String::new(),
    }
}

fn money(v: f64) -> String {
    format!("{v:.2}").replace('.', ",")
}

/// About one private landlord per this many foyers: with the tenants a landlord has
/// (four in eight foyers rent, most from a private landlord), most landlords have one to
/// eight tenants, a few more.
const FOYERS_PAR_BAILLEUR: usize = 12;

/// The landlords of an extract of `n` foyers.
fn bailleurs_count(n: usize) -> usize {
    (n / FOYERS_PAR_BAILLEUR).max(1)
}

fn bailleur_id(k: usize) -> String {
    format!("B{k:06}")
}

/// The private landlord of the foyer just drawn, and what makes its landlord worth a
/// call: for a tenant of a private landlord (most of those whose dwelling is not
/// conventionné, a few of the others), a landlord drawn among `pool` (the lowest ids
/// more often, so that some have many tenants); then, for 4 % of them (25 % of the five
/// largest landlords' tenants), a rent arrears reported by the landlord this month or
/// last, for 20 % of the largest landlords' an indecent dwelling reported by the
/// commune, and for 5 % of those without a housing
/// aid in payment, an ALS or ALF that ended on the last day of M-1 (a suspended aid). Drawn
/// from a stream of their own (`rng`): the rest of the extract does not move. The ground
/// truth names each planted reason (`impaye_loyer`, `logement_indecent`,
/// `aide_logement_suspendue`).
fn plant_bailleur(rng: &mut Rng, mois: Mois, pool: usize, t: &mut Tables) {
    let Some(f) = t.foyers.last_mut() else { return };
    let locataire = matches!(f[7].as_str(), "locataire" | "locataire_meuble");
    let prive = if f[9] == "1" { 0.1 } else { 0.8 };
    if !locataire || !rng.chance(prive) {
        return;
    }
    let u = rng.unit();
    let k = 1 + ((u.powf(1.3) * pool as f64) as usize).min(pool - 1);
    f[21] = bailleur_id(k);
    let id = f[0].clone();
    // The five largest landlords let run-down dwellings: more arrears, some indecent.
    let marchand = k <= 5;
    for (kind, p, source, regle) in [
        ("impaye_loyer", if marchand { 0.25 } else { 0.04 }, "bailleur", "impaye_loyer"),
        ("indecence_logement", if marchand { 0.2 } else { 0.0 }, "commune", "logement_indecent"),
    ] {
        if rng.chance(p) {
            let when = mois.plus(-(rng.range(0, 1) as i32));
            let date = Date::new(when.year, when.month, rng.range(1, 28) as u32).unwrap_or(when.first_day());
            t.evenements.push((id.clone(), String::new(), kind, date.to_string(), source));
            t.verite.push((id.clone(), regle, format!("{kind}_signale")));
        }
    }
    let first = mois.first_day().to_string();
    let aide_en_paiement = t
        .droits
        .iter()
        .rev()
        .take_while(|d| d.0 == id)
        .any(|d| matches!(d.2, "al" | "apl" | "als") && (d.4.is_empty() || d.4 >= first));
    if !aide_en_paiement && rng.chance(0.05) {
        let code =
            if t.personnes.iter().rev().take_while(|p| p[1] == id).any(|p| p[2] == "enfant") { "al" } else { "als" };
        let (debut, fin) = (mois.plus(-13).first_day().to_string(), mois.plus(-1).last_day().to_string());
        t.droits.push((id.clone(), String::new(), code, debut, fin, Some(rng.amount(80.0, 300.0))));
        t.verite.push((id, "aide_logement_suspendue", "aide_suspendue".into()));
    }
}

/// The `pool` landlords (a landlord without a tenant among the foyers drawn is still in
/// the caisse's table), each from a stream of its own: reachable by phone for 80 %, by
/// mail for all but a few unknown, by email for half; 5 % opposed to being contacted,
/// 3 % unknown. A tenth were called by the landlord campaign in one of the six months
/// before M (some within its three-month cooldown).
fn bailleurs(seed: u64, mois: Mois, pool: usize, t: &mut Tables) {
    for k in 1..=pool {
        let mut rng = Rng::new(seed ^ 0x6261_696c_6c65_7572 ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let id = bailleur_id(k);
        let opposition = if rng.chance(0.03) { None } else { Some(rng.chance(0.05)) };
        t.bailleurs.push([
            id.clone(),
            b(Some(rng.chance(0.8))),
            b(if rng.chance(0.02) { None } else { Some(true) }),
            b(Some(rng.chance(0.5))),
            b(opposition),
        ]);
        if rng.chance(0.1) {
            let when = mois.plus(-(rng.range(1, 6) as i32)).first_day();
            t.contacts_bailleurs.push((
                id,
                "bailleurs_aide_logement".into(),
                when.to_string(),
                "telephone",
                *rng.pick(&["joint", "injoignable"]),
            ));
        }
    }
}

/// Months of resources written before M (docs/extract.md: up to the 14 months before).
pub const HISTORY_MONTHS: i32 = 14;

fn frame(names: &[&str], rows: Vec<Vec<String>>) -> PolarsResult<DataFrame> {
    let columns: Vec<Column> = names
        .iter()
        .enumerate()
        .map(|(i, n)| Column::new((*n).into(), rows.iter().map(|r| r[i].as_str()).collect::<Vec<_>>()))
        .collect();
    DataFrame::new_infer_height(columns)
}

/// Last month's extract of the same foyers, for `screen --precedent` (docs/synthetic.md):
/// the month before, minus what happened in M — children born in M were not yet members,
/// a foyer that moved in M lived in another commune, a foyer separated in M still had
/// its conjoint — plus, for 1 % of the open dossiers, a housing aid that ended on the
/// last day of M−1 (a right that stopped). Resources cover the 14 months before M−1.
fn previous_month(t: &Tables, mois: Mois, rng: &mut Rng) -> Tables {
    let this = mois.to_string();
    let in_m = |d: &str| d.starts_with(&this);
    let event_in_m = |kind: &str| -> std::collections::HashSet<&str> {
        t.evenements.iter().filter(|e| e.2 == kind && in_m(&e.3)).map(|e| e.0.as_str()).collect()
    };
    let moved = event_in_m("demenagement");
    let separated = event_in_m("separation");
    let mut p = Tables::default();
    let before = mois.plus(-1);
    let first = mois.first_day().to_string();
    // Each foyer's rights in the order drawn, so that a stopped housing aid is listed
    // with its foyer's rights: the file is the same whatever the batches (generate).
    let mut droits: std::collections::HashMap<&str, Vec<&DroitRow>> = std::collections::HashMap::new();
    for d in t.droits.iter().filter(|d| d.3 < first) {
        droits.entry(d.0.as_str()).or_default().push(d);
    }
    for f in &t.foyers {
        let mut f = f.clone();
        if moved.contains(f[0].as_str()) {
            let i = COMMUNES.iter().position(|c| c.0 == f[3]).unwrap_or(0);
            f[3] = COMMUNES[(i + 1) % COMMUNES.len()].0.to_string();
        }
        if f[20].is_empty() && rng.chance(0.01) {
            let start = mois.plus(-13).first_day().to_string();
            let end = before.last_day().to_string();
            p.droits.push((f[0].clone(), String::new(), "al", start, end, Some(rng.amount(80.0, 300.0))));
        }
        p.droits.extend(droits.remove(f[0].as_str()).unwrap_or_default().into_iter().cloned());
        p.foyers.push(f);
    }
    let has_conjoint: std::collections::HashSet<&str> =
        t.personnes.iter().filter(|r| r[2] == "conjoint").map(|r| r[1].as_str()).collect();
    for r in &t.personnes {
        if r[2] == "enfant" && in_m(&r[3]) {
            continue;
        }
        p.personnes.push(r.clone());
        if r[2] == "allocataire" && separated.contains(r[1].as_str()) && !has_conjoint.contains(r[1].as_str()) {
            let mut c = r.clone();
            c[0] = format!("{}-2", r[1]);
            c[2] = "conjoint".to_string();
            p.personnes.push(c);
        }
    }
    // Resources of M−15 … M−2: the month M−1 is not yet known; M−15 repeats M−14.
    let oldest = mois.plus(-HISTORY_MONTHS).to_string();
    let (m1, older) = (before.to_string(), mois.plus(-HISTORY_MONTHS - 1).to_string());
    for r in t.ressources.iter().filter(|r| r.1 != m1) {
        if r.1 == oldest {
            p.ressources.push((r.0.clone(), older.clone(), r.2, r.3, r.4));
        }
        p.ressources.push(r.clone());
    }
    p.evenements.extend(t.evenements.iter().filter(|e| e.3 < first).cloned());
    p.contacts.extend(t.contacts.iter().filter(|c| c.2 < first).cloned());
    p
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("screening the generated extract for its follow-up: {0}")]
    Ecran(Box<crate::screen::ScreenError>),
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

/// The tables of an extract being written in `out`, a batch of foyers at a time.
struct ExtractWriter {
    tables: Vec<(&'static str, TableWriter)>,
    parquet: bool,
}

const TABLES: [&str; 7] = ["foyers", "personnes", "ressources", "droits", "evenements", "contacts", "bailleurs"];

impl ExtractWriter {
    fn create(out: &Path, parquet: bool) -> Result<ExtractWriter, GenerateError> {
        let tables = TABLES
            .iter()
            .map(|name| Ok((*name, TableWriter::extract_table(out, name, parquet)?)))
            .collect::<Result<_, OutputError>>()?;
        Ok(ExtractWriter { tables, parquet })
    }

    /// Appends the rows of `t` to every table.
    fn append(&mut self, t: Tables) -> Result<(), GenerateError> {
        for ((name, writer), (table, df)) in self.tables.iter_mut().zip(frames(t)?) {
            debug_assert_eq!(*name, table);
            // Empty cells are unknown: written as nothing, not as a quoted empty string.
            let exprs: Vec<Expr> = df
                .get_column_names()
                .iter()
                .map(|c| {
                    when(col(c.as_str()).eq(lit("")))
                        .then(lit(NULL).cast(DataType::String))
                        .otherwise(col(c.as_str()))
                        .alias(c.as_str())
                })
                .collect();
            let df = df.lazy().select(exprs).collect()?;
            let mut df = if self.parquet { in_own_types(table, df)? } else { df };
            writer.write(&mut df)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<PathBuf>, GenerateError> {
        let mut written = Vec::new();
        for (_, writer) in self.tables {
            written.extend(writer.finish()?);
        }
        Ok(written)
    }
}

/// A table's frame of text with its amounts, dates and booleans in their own Parquet
/// types (64-bit floats, dates, booleans), as a caisse's Parquet export has them: each
/// cell parsed by the reader's cell parser, so that the file holds the values the CSV
/// text reads as. Months, and dates that may be months (`date_naissance`), stay text.
fn in_own_types(table: &str, df: DataFrame) -> PolarsResult<DataFrame> {
    use crate::extract::cells::{Cell, parse_cell};
    use crate::extract::schema::ColType;
    let Some(table) = crate::extract::Table::ALL.into_iter().find(|t| t.name() == table) else { return Ok(df) };
    let mut columns = Vec::with_capacity(df.width());
    for column in df.columns() {
        let def =
            table.column(column.name()).filter(|d| matches!(d.ty, ColType::Decimal | ColType::Date | ColType::Booleen));
        let Some(def) = def else {
            columns.push(column.clone());
            continue;
        };
        let cells: Vec<Option<Cell>> = column
            .str()?
            .iter()
            .map(|v| v.map(|v| parse_cell(def.ty, v.trim())).transpose())
            .collect::<Result<_, String>>()
            .map_err(|e| polars_err!(ComputeError: "generate: {}.{}: {e}", table.name(), def.name))?;
        columns.extend(crate::extract::reader::typed_column(def, cells)?);
    }
    DataFrame::new_infer_height(columns)
}

/// The rows of `t` as one frame of text per table, in [`TABLES`] order.
fn frames(t: Tables) -> PolarsResult<Vec<(&'static str, DataFrame)>> {
    let mut tables: Vec<(&'static str, DataFrame)> = Vec::new();
    let foyer_cols = [
        "id_foyer",
        "caisse",
        "agence",
        "commune",
        "iris",
        "qpv",
        "zone_logement",
        "statut_logement",
        "loyer",
        "logement_conventionne",
        "colocation",
        "suivi_social",
        "declaration_annuelle",
        "dtr_derniere",
        "opposition_contact",
        "canal_telephone",
        "canal_sms",
        "canal_email",
        "canal_courrier",
        "date_ouverture",
        "date_cloture",
        "id_bailleur",
    ];
    tables.push(("foyers", frame(&foyer_cols, t.foyers.into_iter().map(Vec::from).collect())?));
    let personne_cols = [
        "id_personne",
        "id_foyer",
        "role",
        "date_naissance",
        "sexe",
        "nationalite",
        "sejour_regulier_5ans",
        "activite",
        "enceinte",
        "taux_incapacite",
        "rsdae",
        "scolarise",
        "revenu_n2",
        "date_deces",
        "medecin_traitant",
        "complementaire_sante",
        "sejour_regulier_10ans",
        "sejour_regulier",
        "revenus_activite_n2",
    ];
    tables.push(("personnes", frame(&personne_cols, t.personnes.into_iter().map(Vec::from).collect())?));
    tables.push((
        "ressources",
        frame(
            &["id_personne", "mois", "nature", "montant", "montant_brut"],
            t.ressources
                .into_iter()
                .map(|(p, m, n, v, g)| vec![p, m, n.to_string(), money(v), g.map(money).unwrap_or_default()])
                .collect(),
        )?,
    ));
    tables.push((
        "droits",
        frame(
            &["id_foyer", "id_personne", "prestation", "date_debut", "date_fin", "montant_mensuel"],
            t.droits
                .into_iter()
                .map(|(f, p, c, d, e, v)| vec![f, p, c.to_string(), d, e, v.map(money).unwrap_or_default()])
                .collect(),
        )?,
    ));
    tables.push((
        "evenements",
        frame(
            &["id_foyer", "id_personne", "type", "date", "source"],
            t.evenements.into_iter().map(|(f, p, k, d, s)| vec![f, p, k.to_string(), d, s.to_string()]).collect(),
        )?,
    ));
    // A contact is with a foyer or with a landlord: the other id is empty.
    let foyers =
        t.contacts.into_iter().map(|(f, c, d, k, r)| vec![f, String::new(), c, d, k.to_string(), r.to_string()]);
    let bailleurs = t
        .contacts_bailleurs
        .into_iter()
        .map(|(b, c, d, k, r)| vec![String::new(), b, c, d, k.to_string(), r.to_string()]);
    tables.push((
        "contacts",
        frame(
            &["id_foyer", "id_bailleur", "campagne", "date", "canal", "resultat"],
            foyers.chain(bailleurs).collect(),
        )?,
    ));
    tables.push((
        "bailleurs",
        frame(
            &["id_bailleur", "canal_telephone", "canal_courrier", "canal_email", "opposition_contact"],
            t.bailleurs.into_iter().map(Vec::from).collect(),
        )?,
    ));
    Ok(tables)
}

/// Where the ground truth goes: beside the extract folder, never inside it.
pub fn ground_truth_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "extrait".into());
    out.with_file_name(format!("{name}.verite.csv"))
}

/// Foyers generated and written at a time: the generator's memory is bounded by a batch,
/// whatever the number of foyers.
const BATCH: usize = 50_000;

/// Writes a synthetic extract of `n` foyers for `mois` in `out` (CSV `;` or Parquet),
/// and its ground truth beside it; with `precedent`, also last month's extract of the
/// same foyers there (see [`previous_month`]). Returns the paths written.
///
/// Rows come foyer after foyer, a batch at a time, and every table is the same whatever
/// the batch size (each foyer's rows are drawn from one random sequence, in order).
pub fn generate(
    n: usize,
    mois: Mois,
    seed: u64,
    out: &Path,
    precedent: Option<&Path>,
    parquet: bool,
) -> Result<Vec<PathBuf>, GenerateError> {
    generate_in_batches(n, mois, seed, out, precedent, parquet, BATCH)
}

fn generate_in_batches(
    n: usize,
    mois: Mois,
    seed: u64,
    out: &Path,
    precedent: Option<&Path>,
    parquet: bool,
    batch: usize,
) -> Result<Vec<PathBuf>, GenerateError> {
    let mut rng = Rng::new(seed);
    let mut rng_precedent = Rng::new(seed ^ 0x7072_6563_6564_656e);
    let mut rng_discordances = Rng::new(seed ^ 0x6469_7363_6f72_6465);
    let mut rng_bailleurs = Rng::new(seed ^ 0x6c6f_6361_7461_6972);
    let pool = bailleurs_count(n);
    let mut previous = precedent.map(|dir| ExtractWriter::create(dir, parquet)).transpose()?;
    let mut current = ExtractWriter::create(out, parquet)?;
    let truth_path = ground_truth_path(out);
    let truth_name = truth_path.file_stem().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut truth = TableWriter::extract_table(truth_path.parent().unwrap_or(Path::new(".")), &truth_name, false)?;
    // A batch of foyers at a time, so that memory does not grow with `n`; each foyer's
    // rows are drawn from the same random sequence whatever the batch.
    for start in (0..n.max(1)).step_by(batch.max(1)) {
        let mut t = Tables::default();
        for i in start..n.min(start + batch.max(1)) {
            foyer(&mut rng, &mut rng_discordances, mois, i + 1, &mut t);
            plant_bailleur(&mut rng_bailleurs, mois, pool, &mut t);
        }
        // The landlords with the last batch: the table does not depend on the batches.
        if start + batch.max(1) >= n {
            bailleurs(seed, mois, pool, &mut t);
        }
        if let Some(p) = &mut previous {
            p.append(previous_month(&t, mois, &mut rng_precedent))?;
        }
        let verite = std::mem::take(&mut t.verite);
        truth.write(&mut frame(
            &["id_foyer", "prestation", "plante"],
            verite.into_iter().map(|(f, c, k)| vec![f, c.to_string(), k]).collect(),
        )?)?;
        current.append(t)?;
    }
    let mut written = Vec::new();
    if let Some(p) = previous {
        written.extend(p.finish()?);
    }
    written.extend(current.finish()?);
    written.extend(truth.finish()?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in `dir` (not in its folders), by name, with its bytes.
    fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .expect("ls")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_file())
            .map(|p| (p.file_name().expect("name").to_string_lossy().to_string(), std::fs::read(&p).expect("read")))
            .collect()
    }

    /// The generator writes its tables from column lists of its own: each must name
    /// exactly the contract's columns (extract/schema.rs), so that the two cannot drift.
    /// `contacts.regles` is the one left out: the screen writes it (contacts_prevus.csv),
    /// the follow-up generator copies it.
    #[test]
    fn every_generated_table_has_exactly_the_contract_columns() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = Mois::parse("2025-03").expect("month");
        let out = tmp.path().join("extrait");
        generate(60, mois, 3, &out, None, false).expect("generate");
        for table in crate::extract::Table::ALL {
            let text = std::fs::read_to_string(out.join(format!("{}.csv", table.name()))).expect("table written");
            let header = text.trim_start_matches('\u{feff}').lines().next().expect("header");
            let mut written: Vec<&str> = header.split(';').collect();
            let mut contract: Vec<&str> = table
                .columns()
                .iter()
                .map(|c| c.name)
                .filter(|n| (table.name(), *n) != ("contacts", "regles"))
                .collect();
            written.sort_unstable();
            contract.sort_unstable();
            assert_eq!(written, contract, "{}", table.name());
        }
    }

    /// An AAH in payment has an amount: a member of the AAH's profile whose estimate is
    /// 0 € (resources at the ceiling or above) gets no row. The sample's draw (2,000
    /// foyers, seed 2025) had two rows of 0,00 € before this was so.
    #[test]
    fn no_aah_is_paid_at_zero() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = Mois::parse("2025-03").expect("month");
        let out = tmp.path().join("extrait");
        generate(2000, mois, 2025, &out, None, false).expect("generate");
        let droits = std::fs::read_to_string(out.join("droits.csv")).expect("droits");
        let aah: Vec<&str> = droits.lines().filter(|l| l.contains(";aah;")).collect();
        assert!(aah.len() > 20, "the sample pays AAHs: {}", aah.len());
        let zero: Vec<&&str> = aah.iter().filter(|l| l.ends_with(";0,00")).collect();
        assert!(zero.is_empty(), "AAH rows of 0,00 €: {zero:?}");
    }

    #[test]
    fn the_extract_does_not_depend_on_the_batch_size() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = Mois::parse("2025-03").expect("month");
        let mut runs = Vec::new();
        for batch in [300, 7, 1] {
            let dir = tmp.path().join(format!("b{batch}"));
            let (out, prev) = (dir.join("extrait"), dir.join("precedent"));
            generate_in_batches(300, mois, 9, &out, Some(&prev), false, batch).expect("generate");
            runs.push((files(&dir), files(&out), files(&prev)));
        }
        let (_, out, prev) = &runs[0];
        assert_eq!(out.len(), 7);
        // Last month's rights include housing aids that stopped (drawn for 1 % of the
        // foyers), whose place in the file is what batches could change.
        assert!(
            String::from_utf8_lossy(&prev["droits.csv"]).contains(";;al;2024-02-01;2025-02-28;"),
            "a stopped housing aid"
        );
        for run in &runs[1..] {
            assert!(run.0 == runs[0].0, "the ground truth");
            assert!(run.1 == *out, "this month's extract");
            assert!(run.2 == *prev, "last month's extract");
        }
    }
}
