//! Reading one table file (CSV or Parquet) into typed columns, row by row, keeping the
//! line of every row and the reason of every refused cell.
//!
//! CSV is read with the `csv` crate rather than Polars' reader because every row must
//! keep its exact line number and a malformed row (wrong number of fields, invalid
//! UTF-8) must be quarantined, not abort the whole file. Parquet is read with Polars,
//! every column cast to text and parsed by the same cell parser, so both formats obey
//! the same rules.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::ExtractError;
use super::cells::{Cell, parse_cell};
use super::parquet_pages;
use super::privacy::{ColonneAutorisee, Guard};
use super::schema::{ColType, ColumnDef, Table};

/// A refused input row (or a refused cell of it): what goes to `quarantaine/`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refus {
    pub table: Table,
    /// Line in the CSV file (the header is line 1), or row number in a Parquet file.
    pub ligne: u64,
    pub colonne: String,
    pub valeur: String,
    pub motif: String,
    /// The row's foyer and person ids when they could be read, to quarantine the foyer.
    pub id_foyer: Option<String>,
    pub id_personne: Option<String>,
    /// The foyer the row belongs to, when known: its `id_foyer`, or its person's foyer
    /// (set by validation). It decides which partition the refusal is counted in.
    pub rattache_a: Option<String>,
}

/// Name of the line-number column added to every table.
pub const LIGNE: &str = "_ligne";

/// Suffix of the boolean column telling whether a `DateOuMois` cell gave the day.
pub const JOUR_CONNU: &str = "_jour_connu";

enum ColumnBuilder {
    Texte(StringChunkedBuilder),
    Nombre(PrimitiveChunkedBuilder<Float64Type>),
    Entier(PrimitiveChunkedBuilder<Int32Type>),
    Booleen(BooleanChunkedBuilder),
    Date(PrimitiveChunkedBuilder<Int32Type>, Option<BooleanChunkedBuilder>),
}

impl ColumnBuilder {
    fn new(def: &ColumnDef, capacity: usize) -> ColumnBuilder {
        let name = PlSmallStr::from(def.name);
        match def.ty {
            ColType::Texte | ColType::Enum(_) | ColType::Commune => {
                ColumnBuilder::Texte(StringChunkedBuilder::new(name, capacity))
            }
            ColType::Decimal => ColumnBuilder::Nombre(PrimitiveChunkedBuilder::new(name, capacity)),
            ColType::Entier { .. } => ColumnBuilder::Entier(PrimitiveChunkedBuilder::new(name, capacity)),
            ColType::Booleen => ColumnBuilder::Booleen(BooleanChunkedBuilder::new(name, capacity)),
            ColType::Date | ColType::Mois => ColumnBuilder::Date(PrimitiveChunkedBuilder::new(name, capacity), None),
            ColType::DateOuMois => ColumnBuilder::Date(
                PrimitiveChunkedBuilder::new(name, capacity),
                Some(BooleanChunkedBuilder::new(format!("{}{JOUR_CONNU}", def.name).into(), capacity)),
            ),
        }
    }

    fn push(&mut self, cell: Option<Cell>) {
        match (self, cell) {
            (ColumnBuilder::Texte(b), Some(Cell::Texte(s))) => b.append_value(s),
            (ColumnBuilder::Nombre(b), Some(Cell::Nombre(n))) => b.append_value(n),
            (ColumnBuilder::Entier(b), Some(Cell::Entier(n))) => b.append_value(n),
            (ColumnBuilder::Booleen(b), Some(Cell::Booleen(v))) => b.append_value(v),
            (ColumnBuilder::Date(b, jour), Some(Cell::Date { days, jour_connu })) => {
                b.append_value(days);
                if let Some(j) = jour {
                    j.append_value(jour_connu);
                }
            }
            (ColumnBuilder::Texte(b), _) => b.append_null(),
            (ColumnBuilder::Nombre(b), _) => b.append_null(),
            (ColumnBuilder::Entier(b), _) => b.append_null(),
            (ColumnBuilder::Booleen(b), _) => b.append_null(),
            (ColumnBuilder::Date(b, jour), _) => {
                b.append_null();
                if let Some(j) = jour {
                    j.append_null();
                }
            }
        }
    }

    fn finish(self) -> PolarsResult<Vec<Column>> {
        Ok(match self {
            ColumnBuilder::Texte(b) => vec![b.finish().into_column()],
            ColumnBuilder::Nombre(b) => vec![b.finish().into_column()],
            ColumnBuilder::Entier(b) => vec![b.finish().into_column()],
            ColumnBuilder::Booleen(b) => vec![b.finish().into_column()],
            ColumnBuilder::Date(b, jour) => {
                let mut out = vec![b.finish().into_column().cast(&DataType::Date)?];
                if let Some(j) = jour {
                    out.push(j.finish().into_column());
                }
                out
            }
        })
    }
}

/// Builds the typed columns of one table, row by row.
pub struct TableBuilder {
    table: Table,
    /// For each contract column: its position in the file's header (None: absent).
    positions: Vec<(usize, Option<usize>)>,
    header_len: usize,
    builders: Vec<ColumnBuilder>,
    lignes: PrimitiveChunkedBuilder<UInt64Type>,
    refus: Vec<Refus>,
    rows_read: u64,
    /// Sees every row before its cells are typed (extract/privacy.rs).
    guard: Guard,
}

impl TableBuilder {
    /// `header`: the file's column names. Fails when the privacy guard refuses the
    /// header (before any message could copy it) or a required column is missing.
    pub fn new(
        table: Table,
        file: &str,
        header: &[String],
        autorisees: &[ColonneAutorisee],
    ) -> Result<TableBuilder, ExtractError> {
        Self::with_header(table, file, header, true, autorisees)
    }

    /// A table with no row and every contract column (an absent optional table).
    pub fn empty(table: Table) -> Result<TableBuilder, ExtractError> {
        Self::with_header(table, table.name(), &[], false, &[])
    }

    fn with_header(
        table: Table,
        file: &str,
        header: &[String],
        require: bool,
        autorisees: &[ColonneAutorisee],
    ) -> Result<TableBuilder, ExtractError> {
        let guard = Guard::new(table, header, autorisees);
        if let Some(v) = guard.violation() {
            return Err(ExtractError::Privacy(v.clone()));
        }
        let columns = table.columns();
        let mut positions = Vec::new();
        for (i, def) in columns.iter().enumerate() {
            let pos = header.iter().position(|h| h == def.name);
            if pos.is_none() && def.required && require {
                return Err(ExtractError::MissingColumn {
                    file: file.to_string(),
                    column: def.name.to_string(),
                    header: header.join(", "),
                });
            }
            positions.push((i, pos));
        }
        let capacity = 1024;
        Ok(TableBuilder {
            table,
            positions,
            header_len: header.len(),
            builders: columns.iter().map(|d| ColumnBuilder::new(d, capacity)).collect(),
            lignes: PrimitiveChunkedBuilder::new(LIGNE.into(), capacity),
            refus: Vec::new(),
            rows_read: 0,
            guard,
        })
    }

    fn key(&self, fields: &[Option<&str>], name: &str) -> Option<String> {
        let def_index = self.table.columns().iter().position(|d| d.name == name)?;
        let pos = self.positions[def_index].1?;
        fields.get(pos).copied().flatten().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    fn refuse(&mut self, ligne: u64, fields: &[Option<&str>], colonne: &str, valeur: &str, motif: String) {
        let id_foyer = self.key(fields, "id_foyer");
        let id_personne = self.key(fields, "id_personne");
        self.refus.push(Refus {
            table: self.table,
            ligne,
            colonne: colonne.to_string(),
            valeur: valeur.to_string(),
            motif,
            id_foyer,
            id_personne,
            rattache_a: None,
        });
    }

    /// The privacy guard's refusal, as soon as a certain identifier was seen: the reader
    /// stops there.
    pub fn privacy_violation(&self) -> Option<ExtractError> {
        self.guard.violation().map(|v| ExtractError::Privacy(v.clone()))
    }

    /// A row with fields that are not valid UTF-8: the guard reads them as lossy text,
    /// then the row is quarantined (its values are not copied).
    pub fn push_not_text(&mut self, ligne: u64, raw: &[&[u8]], fields: &[Option<&str>]) {
        self.guard.raw_row(ligne, raw);
        let motif = not_text(fields).unwrap_or_default();
        self.push_malformed(ligne, fields, motif);
    }

    /// A row whose fields could not even be split (wrong count, invalid UTF-8).
    pub fn push_malformed(&mut self, ligne: u64, fields: &[Option<&str>], motif: String) {
        self.rows_read += 1;
        self.refuse(ligne, fields, "*", "", motif);
    }

    /// One row, fields in header order (None: the field is not valid text).
    pub fn push(&mut self, ligne: u64, fields: &[Option<&str>]) {
        self.guard.row(ligne, fields);
        if fields.len() != self.header_len {
            let motif = format!("ligne de {} champs, l'en-tête en a {}", fields.len(), self.header_len);
            self.push_malformed(ligne, fields, motif);
            return;
        }
        if let Some(motif) = not_text(fields) {
            self.push_malformed(ligne, fields, motif);
            return;
        }
        self.rows_read += 1;
        let columns = self.table.columns();
        let mut cells: Vec<Option<Cell>> = Vec::with_capacity(columns.len());
        let mut errors: Vec<(&'static str, String, String)> = Vec::new();
        for &(i, pos) in &self.positions {
            let def = &columns[i];
            let text = pos.and_then(|p| fields[p]).map(str::trim).unwrap_or("");
            if text.is_empty() {
                if def.required {
                    errors.push((def.name, String::new(), "valeur obligatoire manquante".into()));
                }
                cells.push(None);
                continue;
            }
            match parse_cell(def.ty, text) {
                Ok(Cell::Nombre(n)) if def.non_negative && n < 0.0 => {
                    errors.push((def.name, text.to_string(), "montant négatif".into()));
                    cells.push(None);
                }
                Ok(cell) => cells.push(Some(cell)),
                Err(motif) => {
                    errors.push((def.name, text.to_string(), motif));
                    cells.push(None);
                }
            }
        }
        if !errors.is_empty() {
            for (colonne, valeur, motif) in errors {
                self.refuse(ligne, fields, colonne, &valeur, motif);
            }
            return;
        }
        for (b, cell) in self.builders.iter_mut().zip(cells) {
            b.push(cell);
        }
        self.lignes.append_value(ligne);
    }

    /// The accepted rows (every contract column, absent optional ones as nulls), the
    /// refused ones, and the number of rows read; or the privacy guard's refusal, which
    /// for the shapes weighed against chance is known only once every row was seen.
    pub fn finish(self) -> Result<(DataFrame, Vec<Refus>, u64), ExtractError> {
        if let Some(v) = self.guard.finish() {
            return Err(ExtractError::Privacy(v));
        }
        let mut columns = vec![self.lignes.finish().into_column()];
        for b in self.builders {
            columns.extend(b.finish()?);
        }
        Ok((DataFrame::new_infer_height(columns)?, self.refus, self.rows_read))
    }
}

/// Why a row is not text: its first field that is not valid UTF-8.
fn not_text(fields: &[Option<&str>]) -> Option<String> {
    let i = fields.iter().position(Option::is_none)?;
    Some(format!("champ {} : texte non UTF-8 (fichier binaire ou mauvais encodage)", i + 1))
}

/// Picks the separator that makes the header match the most contract columns.
fn detect_separator(first_line: &str, table: Table) -> u8 {
    let score = |sep: char| {
        first_line
            .trim_end_matches(['\r', '\n'])
            .split(sep)
            .filter(|h| table.column(h.trim().trim_matches('"')).is_some())
            .count()
    };
    let mut best = (score(';'), b';');
    for sep in [',', '\t'] {
        let s = score(sep);
        if s > best.0 {
            best = (s, sep as u8);
        }
    }
    best.1
}

/// A reader that feeds every byte it reads to a SHA-256, so a table is hashed (for the
/// manifest) in the same pass that parses it.
struct Hashing<R> {
    inner: R,
    hasher: Rc<RefCell<Sha256>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        Ok(n)
    }
}

/// Lowercase hexadecimal of a finished SHA-256.
pub fn hex(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A CSV reader over the bytes of a table file (`file` names it in messages).
fn open_csv<'r>(
    mut bytes: impl Read + 'r,
    file: &str,
    table: Table,
) -> Result<csv::Reader<Box<dyn Read + 'r>>, ExtractError> {
    let io = |e: std::io::Error| ExtractError::Io { file: file.to_string(), source: e };
    let mut head = Vec::new();
    (&mut bytes).take(64 * 1024).read_to_end(&mut head).map_err(io)?;
    let mut start = 0;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        start = 3;
    }
    let first_line_end = head[start..].iter().position(|&b| b == b'\n').map_or(head.len(), |p| start + p);
    let first_line = std::str::from_utf8(&head[start..first_line_end])
        .map_err(|_| ExtractError::NotText { file: file.to_string() })?;
    if first_line.trim().is_empty() {
        return Err(ExtractError::Empty { file: file.to_string() });
    }
    let sep = detect_separator(first_line, table);
    let body: Box<dyn Read + 'r> = Box::new(std::io::Cursor::new(head[start..].to_vec()).chain(bytes));
    Ok(csv::ReaderBuilder::new().delimiter(sep).has_headers(true).flexible(true).from_reader(body))
}

fn csv_header(reader: &mut csv::Reader<Box<dyn Read + '_>>, file: &str) -> Result<Vec<String>, ExtractError> {
    let header =
        reader.byte_headers().map_err(|e| ExtractError::Csv { file: file.to_string(), message: e.to_string() })?;
    header
        .iter()
        .map(|h| std::str::from_utf8(h).map(|s| s.trim().to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ExtractError::NotText { file: file.to_string() })
}

/// Reads a whole CSV table; also returns the file's SHA-256 (hexadecimal), computed
/// from the bytes as they are parsed.
pub fn read_csv(
    path: &Path,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<(TableBuilder, String), ExtractError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
    let hasher = Rc::new(RefCell::new(Sha256::new()));
    let bytes = Hashing { inner: BufReader::new(File::open(path).map_err(io)?), hasher: hasher.clone() };
    let builder = read_csv_from(bytes, &file, table, autorisees)?;
    let sha = Rc::try_unwrap(hasher).map(|h| hex(h.into_inner())).unwrap_or_default();
    Ok((builder, sha))
}

/// Reads a whole CSV table from `bytes` (`file` names it in messages), to the end.
pub fn read_csv_from(
    bytes: impl Read,
    file: &str,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<TableBuilder, ExtractError> {
    let mut reader = open_csv(bytes, file, table)?;
    let header = csv_header(&mut reader, file)?;
    let mut builder = TableBuilder::new(table, file, &header, autorisees)?;
    let mut record = csv::ByteRecord::new();
    let mut last_line = 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let ligne = record.position().map_or(last_line + 1, |p| p.line());
                last_line = ligne;
                if record.len() == 1 && record.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    // A blank line is not a row.
                    continue;
                }
                let fields: Vec<Option<&str>> = record.iter().map(|f| std::str::from_utf8(f).ok()).collect();
                if fields.iter().any(Option::is_none) {
                    let raw: Vec<&[u8]> = record.iter().collect();
                    builder.push_not_text(ligne, &raw, &fields);
                } else {
                    builder.push(ligne, &fields);
                }
                if let Some(e) = builder.privacy_violation() {
                    return Err(e);
                }
            }
            Ok(false) => break,
            Err(e) => {
                let ligne = e.position().map_or(last_line + 1, |p| p.line());
                last_line = ligne;
                builder.push_malformed(ligne, &[], format!("ligne CSV illisible : {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    // Whatever the parser left unread (after an I/O error) still belongs to the hash.
    let mut rest = reader.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| ExtractError::Io { file: file.to_string(), source: e })?;
    Ok(builder)
}

/// A Parquet table with every column cast to text (cells are parsed by our cell parser).
///
/// Polars' Parquet reader panics on some malformed files (fuzzing found several, in
/// its metadata and page decoding: docs/reliability.md), and aborts the process on a
/// page that declares a negative count: [`parquet_pages::check`] refuses those first. A
/// panic is caught here and the file reported as unreadable; [`PARQUET_READS`] lets the
/// CLI's panic hook keep the dependency's panic message off the terminal while it is.
fn parquet_as_text(bytes: &[u8], file: &str) -> Result<DataFrame, ExtractError> {
    let unreadable = |message: String| ExtractError::Parquet { file: file.to_string(), message };
    let not_parquet = |e: PolarsError| unreadable(e.to_string());
    PARQUET_READS.fetch_add(1, Ordering::SeqCst);
    let read = std::panic::catch_unwind(|| {
        parquet_pages::check(bytes).map_err(unreadable)?;
        let df = ParquetReader::new(Cursor::new(bytes)).finish().map_err(not_parquet)?;
        let exprs: Vec<Expr> = df.get_column_names().iter().map(|n| col(n.as_str()).cast(DataType::String)).collect();
        df.lazy().select(exprs).collect().map_err(not_parquet)
    });
    PARQUET_READS.fetch_sub(1, Ordering::SeqCst);
    read.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("malformed file");
        Err(unreadable(format!("the Parquet reader failed ({why})")))
    })
}

/// Parquet files being read right now (see [`parquet_as_text`]).
pub static PARQUET_READS: AtomicUsize = AtomicUsize::new(0);

/// A panic hook that stays silent for a panic of Polars while a Parquet file is read (it
/// is reported as an unreadable file) and otherwise behaves as the default one.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_polars = info.location().is_some_and(|l| l.file().contains("polars-"));
        if !(in_polars && PARQUET_READS.load(Ordering::SeqCst) > 0) {
            default(info);
        }
    }));
}

/// Reads a whole Parquet table (`ligne` is the row number, 1-based) and the SHA-256 of
/// the file, from one read.
pub fn read_parquet(
    path: &Path,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<(TableBuilder, String), ExtractError> {
    let file = path.display().to_string();
    let io = |e| ExtractError::Io { file: file.clone(), source: e };
    // Read whole (a Parquet file is compact beside the table Polars decodes from it): the
    // same bytes are checked, decoded and hashed, the file is read once.
    let bytes = std::fs::read(path).map_err(io)?;
    let builder = read_parquet_from(&bytes, &file, table, autorisees)?;
    Ok((builder, hex(Sha256::new_with_prefix(&bytes))))
}

/// Reads a whole Parquet table from `bytes` (`file` names it in messages).
pub fn read_parquet_from(
    bytes: &[u8],
    file: &str,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<TableBuilder, ExtractError> {
    let df = parquet_as_text(bytes, file)?;
    let header: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let mut builder = TableBuilder::new(table, file, &header, autorisees)?;
    let mut iters: Vec<_> = df.columns().iter().filter_map(|c| c.str().ok()).map(|c| c.iter()).collect();
    let mut fields: Vec<Option<&str>> = Vec::with_capacity(iters.len());
    for i in 0..df.height() {
        fields.clear();
        // A null Parquet value is an empty cell.
        fields.extend(iters.iter_mut().map(|it| Some(it.next().flatten().unwrap_or(""))));
        builder.push(i as u64 + 1, &fields);
        if let Some(e) = builder.privacy_violation() {
            return Err(e);
        }
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_follows_the_header() {
        assert_eq!(detect_separator("id_foyer;caisse;commune", Table::Foyers), b';');
        assert_eq!(detect_separator("id_foyer,caisse,commune\r\n", Table::Foyers), b',');
        assert_eq!(detect_separator("id_foyer\tcaisse\tcommune", Table::Foyers), b'\t');
        // Ambiguous (a single column): the French default.
        assert_eq!(detect_separator("id_foyer", Table::Foyers), b';');
    }
}
