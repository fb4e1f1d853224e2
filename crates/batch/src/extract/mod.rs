//! The extract: finding the table files, the privacy guard, reading, validation and
//! quarantine. See docs/extract.md for the contract.
//!
//! ```text
//! dir ─► locate tables ─► read each table (every row seen by the privacy guard, then
//!     typed; rows refused cell by cell) ─► validate across tables
//!     ─► Extract { accepted rows, quarantine, row counts, file hashes }
//! ```

pub mod cells;
pub mod mois;
mod parquet_pages;
pub mod privacy;
pub mod reader;
pub mod routage;
pub mod schema;
mod spill;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use reperage_rules::Mois;

pub use privacy::ColonneAutorisee;
pub use reader::{LIGNE, Refus};
pub use schema::Table;

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{dir}: the extract has no `{table}` table (expected {table}.csv or {table}.parquet)")]
    MissingTable { dir: String, table: &'static str },
    #[error("{dir}: both {table}.csv and {table}.parquet exist; keep one")]
    AmbiguousTable { dir: String, table: &'static str },
    #[error("{file}: {source}")]
    Io { file: String, source: std::io::Error },
    #[error("{file}: line 1: the header is not UTF-8 text (binary file or wrong encoding)")]
    NotText { file: String },
    #[error("{file}: the file is empty (no header line)")]
    Empty { file: String },
    #[error("{file}: {message}")]
    Csv { file: String, message: String },
    #[error("{file}: not a readable Parquet file: {message}")]
    Parquet { file: String, message: String },
    #[error("{file}: line 1: required column `{column}` is missing (header read: {header})")]
    MissingColumn { file: String, column: String, header: String },
    #[error(
        "privacy guard: {0} — extracts must not hold direct identifiers; the value is not shown \
         (see docs/extract.md; a column the caisse vouches for: --colonne-autorisee {table}.{column})",
        table = .0.table, column = .0.column
    )]
    Privacy(privacy::Violation),
    #[error("{0}")]
    Polars(#[from] PolarsError),
    #[error("internal error, please report: {0}")]
    Internal(String),
}

/// An input file of the extract, for the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputFile {
    pub table: &'static str,
    pub path: String,
    pub format: &'static str,
    pub sha256: String,
    /// Its columns the contract defines, typed and used by the rules and checks.
    pub colonnes_utilisees: Vec<String>,
    /// Its other columns: every value examined by the privacy guard, then dropped.
    /// (Every column is read, Parquet too: the guard must see a direct identifier
    /// wherever it is.)
    pub colonnes_ignorees: Vec<String>,
}

/// Rows read, used and quarantined for one table; `lus = utilises + quarantaines`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableCount {
    pub table: &'static str,
    pub lus: u64,
    pub utilises: u64,
    pub quarantaines: u64,
}

/// A foyer left out of the evaluation, with why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FoyerQuarantaine {
    pub id_foyer: String,
    pub motif: String,
}

/// A loaded and validated extract: only accepted rows of foyers that can be evaluated.
pub struct Extract {
    pub tables: BTreeMap<Table, DataFrame>,
    pub refus: Vec<Refus>,
    pub foyers_quarantaine: Vec<FoyerQuarantaine>,
    pub comptes: Vec<TableCount>,
    pub fichiers: Vec<InputFile>,
}

impl Extract {
    pub fn table(&self, t: Table) -> &DataFrame {
        &self.tables[&t]
    }
}

fn locate(dir: &Path, table: Table) -> Result<Option<(PathBuf, &'static str)>, ExtractError> {
    let csv = dir.join(format!("{}.csv", table.name()));
    let parquet = dir.join(format!("{}.parquet", table.name()));
    match (csv.is_file(), parquet.is_file()) {
        (true, true) => Err(ExtractError::AmbiguousTable { dir: dir.display().to_string(), table: table.name() }),
        (true, false) => Ok(Some((csv, "csv"))),
        (false, true) => Ok(Some((parquet, "parquet"))),
        (false, false) if table.required() => {
            Err(ExtractError::MissingTable { dir: dir.display().to_string(), table: table.name() })
        }
        (false, false) => Ok(None),
    }
}

/// Loads, guards and validates the extract in `dir` for the reference month `mois`.
pub fn load(dir: &Path, mois: Mois) -> Result<Extract, ExtractError> {
    load_tables(dir, mois, &Table::ALL, &[])
}

/// The tables last month's extract is compared on (crate::situation, precedent.rs): its resources,
/// events and contacts are not read at all.
pub const TABLES_PRECEDENT: [Table; 3] = [Table::Foyers, Table::Personnes, Table::Droits];

/// Like [`load`], reading only `only` (the other tables are empty, as if absent), the
/// privacy guard leaving out the columns the caisse vouches for (`autorisees`): the
/// whole extract as one piece (extract::routage).
pub fn load_tables(
    dir: &Path,
    mois: Mois,
    only: &[Table],
    autorisees: &[ColonneAutorisee],
) -> Result<Extract, ExtractError> {
    let coupe = crate::partitions::Coupe::whole();
    let mut chargement = routage::route(dir, only, autorisees, &coupe, dir)?;
    routage::piece(&mut chargement, 0, mois)
}

/// The tables of a piece of an extract as read, before validation across rows and
/// tables (extract::routage).
struct Lu {
    tables: BTreeMap<Table, DataFrame>,
    refus: Vec<Refus>,
    read: BTreeMap<Table, u64>,
    fichiers: Vec<InputFile>,
}
