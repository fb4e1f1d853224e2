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
pub mod schema;
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

/// An empty frame with the contract's columns, for an absent optional table.
fn empty_table(table: Table) -> Result<DataFrame, ExtractError> {
    let builder = reader::TableBuilder::empty(table)?;
    Ok(builder.finish()?.0)
}

/// Loads, guards and validates the extract in `dir` for the reference month `mois`.
pub fn load(dir: &Path, mois: Mois) -> Result<Extract, ExtractError> {
    load_tables(dir, mois, &Table::ALL, &[])
}

/// The tables last month's extract is compared on (crate::precedent): its resources,
/// events and contacts are not read at all.
pub const TABLES_PRECEDENT: [Table; 3] = [Table::Foyers, Table::Personnes, Table::Droits];

/// Like [`load`], reading only `only` (the other tables are empty, as if absent), the
/// privacy guard leaving out the columns the caisse vouches for (`autorisees`).
pub fn load_tables(
    dir: &Path,
    mois: Mois,
    only: &[Table],
    autorisees: &[ColonneAutorisee],
) -> Result<Extract, ExtractError> {
    validate(read(dir, only, autorisees)?, mois)
}

/// The tables of an extract as read, before validation across rows and tables.
pub struct Lu {
    tables: BTreeMap<Table, DataFrame>,
    refus: Vec<Refus>,
    read: BTreeMap<Table, u64>,
    fichiers: Vec<InputFile>,
}

/// Reads the tables `only` of the extract in `dir` (the first half of [`load_tables`]):
/// every row seen by the privacy guard, cells typed, malformed rows refused.
pub fn read(dir: &Path, only: &[Table], autorisees: &[ColonneAutorisee]) -> Result<Lu, ExtractError> {
    let mut located = Vec::new();
    for table in only.iter().copied() {
        if let Some((path, format)) = locate(dir, table)? {
            located.push((table, path, format));
        }
    }
    // Tables are read in parallel (two at a time on two cores): reading is ours, not
    // Polars', so this does not oversubscribe its thread pool.
    type ReadTable = (Table, InputFile, DataFrame, Vec<Refus>, u64);
    let results: Vec<Result<ReadTable, ExtractError>> = std::thread::scope(|s| {
        let handles: Vec<_> = located
            .iter()
            .map(|(table, path, format)| {
                s.spawn(move || {
                    // Each file is read once: hashed as it is parsed. The privacy guard
                    // sees every row as it is parsed (privacy.rs).
                    let (builder, sha256) = if *format == "csv" {
                        reader::read_csv(path, *table, autorisees)?
                    } else {
                        reader::read_parquet(path, *table, autorisees)?
                    };
                    let (df, refus, read) = builder.finish()?;
                    let file = InputFile { table: table.name(), path: path.display().to_string(), format, sha256 };
                    Ok((*table, file, df, refus, read))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ExtractError::Internal("a table reader panicked".into()))))
            .collect()
    });
    let mut lu = Lu { tables: BTreeMap::new(), refus: Vec::new(), read: BTreeMap::new(), fichiers: Vec::new() };
    for r in results {
        let (table, file, df, mut r, n) = r?;
        lu.tables.insert(table, df);
        lu.refus.append(&mut r);
        lu.read.insert(table, n);
        lu.fichiers.push(file);
    }
    for table in Table::ALL {
        if let std::collections::btree_map::Entry::Vacant(e) = lu.tables.entry(table) {
            e.insert(empty_table(table)?);
            lu.read.insert(table, 0);
        }
    }
    Ok(lu)
}

/// Validates what was read across rows and tables for the month `mois` (the second half
/// of [`load_tables`]): duplicates, dates, orphans, foyers to quarantine, row accounting.
pub fn validate(lu: Lu, mois: Mois) -> Result<Extract, ExtractError> {
    validate::validate(lu.tables, lu.refus, lu.read, lu.fichiers, mois)
}
