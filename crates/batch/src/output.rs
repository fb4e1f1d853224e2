//! Writing outputs: CSV for spreadsheets (`;`, decimal comma, UTF-8 with BOM so Excel
//! opens them right) and/or Parquet, always to a temporary name renamed when complete,
//! so a killed run never leaves a half-written file under its final name.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Both,
}

impl Format {
    pub fn csv(self) -> bool {
        matches!(self, Format::Csv | Format::Both)
    }

    pub fn parquet(self) -> bool {
        matches!(self, Format::Parquet | Format::Both)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Polars { path: String, source: PolarsError },
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes with `write` to a temporary file beside `path`, then renames it to `path`.
pub fn atomic_write(path: &Path, write: impl FnOnce(&mut File) -> Result<(), OutputError>) -> Result<(), OutputError> {
    let io = |e| OutputError::Io { path: path.display().to_string(), source: e };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = tmp_path(path);
    let mut file = File::create(&tmp).map_err(io)?;
    let result = write(&mut file).and_then(|_| file.sync_all().map_err(io));
    drop(file);
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(io),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// CSV as French spreadsheets expect it. Amounts are written with two decimals.
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<(), OutputError> {
    atomic_write(path, |f| {
        CsvWriter::new(f)
            .include_bom(true)
            .with_separator(b';')
            .with_decimal_comma(true)
            .with_float_precision(Some(2))
            .finish(df)
            .map_err(|e| OutputError::Polars { path: path.display().to_string(), source: e })
    })
}

pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<(), OutputError> {
    atomic_write(path, |f| {
        ParquetWriter::new(f)
            .finish(df)
            .map(|_| ())
            .map_err(|e| OutputError::Polars { path: path.display().to_string(), source: e })
    })
}

/// Writes `<dir>/<name>.csv` and/or `<dir>/<name>.parquet`; returns the paths written.
pub fn write_table(df: &mut DataFrame, dir: &Path, name: &str, format: Format) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    if format.csv() {
        let p = dir.join(format!("{name}.csv"));
        write_csv(df, &p)?;
        written.push(p);
    }
    if format.parquet() {
        let p = dir.join(format!("{name}.parquet"));
        write_parquet(df, &p)?;
        written.push(p);
    }
    Ok(written)
}
