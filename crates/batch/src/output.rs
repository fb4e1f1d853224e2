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
    /// As `--format` names it (recorded in the manifest).
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::Both => "both",
        }
    }

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
        Dialect::Tableur
            .writer(f, true)
            .finish(df)
            .map_err(|e| OutputError::Polars { path: path.display().to_string(), source: e })
    })
}

/// Rows per Parquet row group written by [`TableWriter`] (Polars' default).
const ROW_GROUP: usize = 512 * 512;

/// One output table written piece by piece (partition after partition, each in id
/// order) into `<dir>/<name>.csv` and/or `<dir>/<name>.parquet`, with the same bytes
/// however the rows were split: CSV rows are appended after one header, Parquet rows are
/// buffered and cut into row groups of a fixed count. Files are written under a
/// temporary name and renamed by [`TableWriter::finish`].
pub struct TableWriter {
    csv: Option<(PathBuf, File)>,
    parquet: Option<ParquetSink>,
    /// Whether the CSV header has been written.
    header_written: bool,
    dialect: Dialect,
}

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// For spreadsheets (the outputs): BOM, decimal comma, two decimals.
    Tableur,
    /// As an extract is (docs/extract.md): `;`, no BOM, values as given.
    Extrait,
}

impl Dialect {
    /// A CSV writer in this dialect; `first`: the file's first piece (BOM and header).
    fn writer<W: std::io::Write>(self, w: W, first: bool) -> CsvWriter<W> {
        let writer = CsvWriter::new(w).include_header(first).with_separator(b';');
        match self {
            Dialect::Tableur => writer.include_bom(first).with_decimal_comma(true).with_float_precision(Some(2)),
            Dialect::Extrait => writer,
        }
    }
}

struct ParquetSink {
    path: PathBuf,
    /// Rows per row group ([`ROW_GROUP`]; smaller in tests).
    row_group: usize,
    writer: Option<polars::io::parquet::write::BatchedWriter<File>>,
    /// The file; the writer gets a duplicate of its descriptor, this one syncs it.
    file: File,
    pending: Option<DataFrame>,
}

impl TableWriter {
    pub fn create(dir: &Path, name: &str, format: Format) -> Result<TableWriter, OutputError> {
        TableWriter::with_row_groups(dir, name, format, ROW_GROUP, Dialect::Tableur)
    }

    /// A table of an extract (`generate`): CSV as the contract reads it, or Parquet.
    pub fn extract_table(dir: &Path, name: &str, parquet: bool) -> Result<TableWriter, OutputError> {
        let format = if parquet { Format::Parquet } else { Format::Csv };
        TableWriter::with_row_groups(dir, name, format, ROW_GROUP, Dialect::Extrait)
    }

    fn with_row_groups(
        dir: &Path,
        name: &str,
        format: Format,
        row_group: usize,
        dialect: Dialect,
    ) -> Result<TableWriter, OutputError> {
        std::fs::create_dir_all(dir).map_err(|e| OutputError::Io { path: dir.display().to_string(), source: e })?;
        let open = |path: PathBuf| -> Result<(PathBuf, File), OutputError> {
            let file = File::create(tmp_path(&path))
                .map_err(|e| OutputError::Io { path: path.display().to_string(), source: e })?;
            Ok((path, file))
        };
        let csv = format.csv().then(|| open(dir.join(format!("{name}.csv")))).transpose()?;
        let parquet = format
            .parquet()
            .then(|| open(dir.join(format!("{name}.parquet"))))
            .transpose()?
            .map(|(path, file)| ParquetSink { path, row_group, writer: None, file, pending: None });
        Ok(TableWriter { csv, parquet, header_written: false, dialect })
    }

    /// Appends `df`'s rows (the columns must be the same each time).
    pub fn write(&mut self, df: &mut DataFrame) -> Result<(), OutputError> {
        if let Some((path, file)) = &mut self.csv {
            let first = !self.header_written;
            self.dialect
                .writer(&mut *file, first)
                .finish(df)
                .map_err(|e| OutputError::Polars { path: path.display().to_string(), source: e })?;
        }
        self.header_written = true;
        if let Some(sink) = &mut self.parquet {
            sink.push(df)?;
        }
        Ok(())
    }

    /// Gives the files up: their temporary files are removed, nothing is written.
    pub fn abandon(mut self) {
        if let Some((path, file)) = self.csv.take() {
            drop(file);
            let _ = std::fs::remove_file(tmp_path(&path));
        }
        if let Some(sink) = self.parquet.take() {
            let path = sink.path.clone();
            drop(sink);
            let _ = std::fs::remove_file(tmp_path(&path));
        }
    }

    /// Flushes, syncs and renames every file to its final name; returns the paths.
    pub fn finish(mut self) -> Result<Vec<PathBuf>, OutputError> {
        let mut written = Vec::new();
        if let Some((path, file)) = self.csv.take() {
            let io = |e| OutputError::Io { path: path.display().to_string(), source: e };
            file.sync_all().map_err(io)?;
            drop(file);
            std::fs::rename(tmp_path(&path), &path).map_err(io)?;
            written.push(path);
        }
        if let Some(sink) = self.parquet.take() {
            written.push(sink.finish()?);
        }
        Ok(written)
    }
}

impl ParquetSink {
    fn polars_error(&self, e: PolarsError) -> OutputError {
        OutputError::Polars { path: self.path.display().to_string(), source: e }
    }

    fn push(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        let pending = match self.pending.take() {
            None => df.clone(),
            Some(mut p) => {
                p.vstack_mut(df).map_err(|e| self.polars_error(e))?;
                p
            }
        };
        self.pending = Some(pending);
        while self.pending.as_ref().is_some_and(|p| p.height() >= self.row_group) {
            let p = self.pending.take().unwrap_or_default();
            let (group, rest) = p.split_at(self.row_group as i64);
            self.write_group(group)?;
            self.pending = Some(rest);
        }
        Ok(())
    }

    fn write_group(&mut self, group: DataFrame) -> Result<(), OutputError> {
        let mut group = group;
        group.rechunk_mut_par();
        if self.writer.is_none() {
            let file = self
                .file
                .try_clone()
                .map_err(|e| OutputError::Io { path: self.path.display().to_string(), source: e })?;
            let writer = ParquetWriter::new(file).batched(group.schema()).map_err(|e| self.polars_error(e))?;
            self.writer = Some(writer);
        }
        if let Some(w) = &mut self.writer {
            w.write_batch(&group)
                .map_err(|e| OutputError::Polars { path: self.path.display().to_string(), source: e })?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<PathBuf, OutputError> {
        // The last, shorter group; or an empty file with the columns when no row came.
        if let Some(rest) = self.pending.take()
            && (rest.height() > 0 || self.writer.is_none())
        {
            self.write_group(rest)?;
        }
        let io = |e| OutputError::Io { path: self.path.display().to_string(), source: e };
        if self.writer.is_none() {
            // Not even an empty frame came: there are no columns to write.
            return Err(io(std::io::Error::other("internal error: no frame was written to this table")));
        }
        if let Some(w) = self.writer.take() {
            w.finish().map_err(|e| self.polars_error(e))?;
        }
        self.file.sync_all().map_err(io)?;
        std::fs::rename(tmp_path(&self.path), &self.path).map_err(io)?;
        Ok(self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(from: i32, to: i32) -> DataFrame {
        let ids: Vec<String> = (from..to).map(|i| format!("F{i:03}")).collect();
        let amounts: Vec<Option<f64>> = (from..to).map(|i| (i % 3 != 0).then_some(f64::from(i) * 1.25)).collect();
        df!("id_foyer" => ids, "montant" => amounts).expect("frame")
    }

    /// Writes rows 0..10 cut at `cuts` with row groups of 4; returns (CSV, Parquet) bytes.
    fn written(cuts: &[i32]) -> (Vec<u8>, Vec<u8>) {
        let dir = tempfile::tempdir().expect("tmp");
        let mut w = TableWriter::with_row_groups(dir.path(), "t", Format::Both, 4, Dialect::Tableur).expect("create");
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(10);
        for pair in bounds.windows(2) {
            w.write(&mut frame(pair[0], pair[1])).expect("write");
        }
        let paths = w.finish().expect("finish");
        assert_eq!(paths.len(), 2);
        (std::fs::read(&paths[0]).expect("csv"), std::fs::read(&paths[1]).expect("parquet"))
    }

    #[test]
    fn the_bytes_do_not_depend_on_how_the_rows_came() {
        let whole = written(&[]);
        for cuts in [&[3][..], &[1, 2, 9], &[4, 8], &[0, 0, 5, 10]] {
            assert!(written(cuts) == whole, "cut at {cuts:?}");
        }
        // The CSV has one header, then the ten rows; the Parquet file reads back whole,
        // in 3 row groups of at most 4 rows.
        let csv = String::from_utf8(whole.0).expect("utf-8");
        assert_eq!(csv.lines().count(), 11, "{csv}");
        assert!(csv.starts_with("\u{feff}id_foyer;montant\n"), "{csv}");
        let metadata =
            polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(&whole.1)).expect("metadata");
        let groups: Vec<usize> = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, [4, 4, 2]);
        let back = ParquetReader::new(std::io::Cursor::new(whole.1)).finish().expect("read back");
        assert!(back.equals_missing(&frame(0, 10)));
    }
}
