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
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::ExtractError;
use smallvec::SmallVec;

use super::cells::{Cell, parse_cell, trim};
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

/// Rows per piece buffered before they are handed on as one frame (to memory, or to a
/// spill file: extract::routage), at most; and the rows buffered over all pieces of a
/// table, at most (with many pieces, each hands its rows on sooner: the buffers of a
/// national run's hundreds of pieces would otherwise hold gigabytes).
const LOT: usize = 64 * 1024;
const LOTS: usize = 4 * 1024 * 1024;

/// Where a row goes, decided from its ids before its cells are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// A piece this process loads.
    Piece(usize),
    /// A foyer of another process's partition: not kept.
    Ailleurs,
    /// No id to decide by: the row is refused (the id is required) and its refusal
    /// attributed once every table is read (extract::routage).
    Inconnue,
}

/// How a table's rows are dealt to pieces (extract::routage builds the routed ones).
pub enum Aiguillage<'a> {
    /// Every row in one piece: the whole table.
    Tout,
    /// Any other rule: a table keyed by foyer goes by `id_foyer`, `ressources` by its
    /// person's foyer; `personnes` also records each person (for duplicates across
    /// partitions and for routing `ressources`).
    Route(Box<dyn super::routage::Route + Send + 'a>),
}

impl Aiguillage<'_> {
    fn destination(&self, id_foyer: Option<&str>, id_personne: Option<&str>) -> Destination {
        match self {
            Aiguillage::Tout => Destination::Piece(0),
            Aiguillage::Route(r) => r.destination(id_foyer, id_personne),
        }
    }
}

/// Where the frames of typed rows go, piece by piece.
pub enum Puits<'a> {
    /// Kept in memory: the frames of each piece.
    Memoire(Vec<Vec<DataFrame>>),
    /// Written to spill files (extract::routage).
    Deversoir(&'a mut dyn super::routage::Deversoir),
}

/// The typed rows of one piece not yet handed on: frames gathered from row groups, then
/// rows typed one by one.
struct PieceEnCours {
    gathered: Vec<DataFrame>,
    builders: Vec<ColumnBuilder>,
    lignes: PrimitiveChunkedBuilder<UInt64Type>,
    /// Rows in `builders`.
    built: usize,
    /// Rows in all.
    rows: usize,
}

impl PieceEnCours {
    fn new(table: Table) -> PieceEnCours {
        PieceEnCours {
            gathered: Vec::new(),
            builders: Self::builders(table),
            lignes: Self::lignes(),
            built: 0,
            rows: 0,
        }
    }

    fn builders(table: Table) -> Vec<ColumnBuilder> {
        table.columns().iter().map(|d| ColumnBuilder::new(d, 1024)).collect()
    }

    fn lignes() -> PrimitiveChunkedBuilder<UInt64Type> {
        PrimitiveChunkedBuilder::new(LIGNE.into(), 1024)
    }

    /// One row's cells, in contract order.
    fn push<'c>(&mut self, ligne: u64, cells: impl IntoIterator<Item = Option<Cell<'c>>>) {
        for (b, cell) in self.builders.iter_mut().zip(cells) {
            b.push(cell);
        }
        self.lignes.append_value(ligne);
        self.built += 1;
        self.rows += 1;
    }

    /// Rows gathered from a row group, after the rows already here.
    fn gather(&mut self, table: Table, frame: DataFrame) -> PolarsResult<()> {
        if self.built > 0 {
            let built = Self::frame(
                std::mem::replace(&mut self.builders, Self::builders(table)),
                std::mem::replace(&mut self.lignes, Self::lignes()),
            )?;
            self.gathered.push(built);
            self.built = 0;
        }
        self.rows += frame.height();
        self.gathered.push(frame);
        Ok(())
    }

    fn frame(builders: Vec<ColumnBuilder>, lignes: PrimitiveChunkedBuilder<UInt64Type>) -> PolarsResult<DataFrame> {
        let mut columns = vec![lignes.finish().into_column()];
        for b in builders {
            columns.extend(b.finish()?);
        }
        DataFrame::new_infer_height(columns)
    }

    fn finish(self) -> PolarsResult<DataFrame> {
        let mut frames = self.gathered.into_iter();
        let Some(mut df) = frames.next() else { return Self::frame(self.builders, self.lignes) };
        for f in frames {
            df.vstack_mut_owned(f)?;
        }
        if self.built > 0 {
            df.vstack_mut_owned(Self::frame(self.builders, self.lignes)?)?;
        }
        Ok(df)
    }
}

/// A refused cell: its column, its text, the reason.
type Erreur = (&'static str, String, String);

/// A row's `id_foyer` and `id_personne`, trimmed, when not empty.
type Ids<'a> = (Option<&'a str>, Option<&'a str>);

/// A Parquet cell as text: a null is an empty cell.
fn cell(value: Option<&str>) -> &str {
    value.unwrap_or("")
}

/// An id as read: trimmed, `None` when empty.
fn id(field: &str) -> Option<&str> {
    Some(trim(field)).filter(|s| !s.is_empty())
}

/// One cell of a column typed: `None` when empty (unknown), or why it is refused.
fn type_cell<'f>(def: &ColumnDef, field: &'f str) -> Result<Option<Cell<'f>>, Erreur> {
    let text = trim(field);
    if text.is_empty() {
        return if def.required {
            Err((def.name, String::new(), "valeur obligatoire manquante".into()))
        } else {
            Ok(None)
        };
    }
    match parse_cell(def.ty, text) {
        Ok(Cell::Nombre(n)) if def.non_negative && n < 0.0 => {
            Err((def.name, text.to_string(), "montant négatif".into()))
        }
        Ok(cell) => Ok(Some(cell)),
        Err(motif) => Err((def.name, text.to_string(), motif)),
    }
}

/// Cells of a row typed on the stack (every table of the contract has fewer columns).
const CELLULES_SUR_PILE: usize = 24;

/// Builds the typed columns of one table, row by row, dealt to pieces.
pub struct TableBuilder<'a> {
    table: Table,
    /// For each contract column: its position in the file's header (None: absent).
    positions: Vec<(usize, Option<usize>)>,
    header_len: usize,
    /// The file's header.
    header: Vec<String>,
    /// Positions of `id_foyer` and `id_personne` in the file's header.
    id_foyer_at: Option<usize>,
    id_personne_at: Option<usize>,
    pieces: Vec<Option<PieceEnCours>>,
    /// Rows accepted per piece.
    acceptes: Vec<u64>,
    /// Rows a piece buffers before handing them on.
    lot: usize,
    refus: Vec<Refus>,
    rows_read: u64,
    /// Sees every row before its cells are typed (extract/privacy.rs).
    guard: Guard,
    aiguillage: Aiguillage<'a>,
    puits: Puits<'a>,
}

/// A table as read: its accepted rows per piece (when kept in memory), its refused rows
/// (not yet attributed to pieces), the accepted count per piece and every row read.
pub struct TableLue {
    pub frames: Vec<Vec<DataFrame>>,
    pub refus: Vec<Refus>,
    pub acceptes: Vec<u64>,
    pub rows_read: u64,
    /// The file's columns the contract defines (typed and used), and the others (seen
    /// by the privacy guard only, then dropped).
    pub colonnes_utilisees: Vec<String>,
    pub colonnes_ignorees: Vec<String>,
}

impl TableLue {
    /// The rows read by the next reader of the same file (rows after these): frames and
    /// refusals after these, counts added up.
    pub fn append(&mut self, later: TableLue) {
        if self.frames.len() < later.frames.len() {
            self.frames.resize_with(later.frames.len(), Vec::new);
        }
        for (mine, theirs) in self.frames.iter_mut().zip(later.frames) {
            mine.extend(theirs);
        }
        self.refus.extend(later.refus);
        if self.acceptes.len() < later.acceptes.len() {
            self.acceptes.resize(later.acceptes.len(), 0);
        }
        for (mine, theirs) in self.acceptes.iter_mut().zip(later.acceptes) {
            *mine += theirs;
        }
        self.rows_read += later.rows_read;
    }
}

impl<'a> TableBuilder<'a> {
    /// `header`: the file's column names. Fails when the privacy guard refuses the
    /// header (before any message could copy it) or a required column is missing.
    /// Every row goes to one piece kept in memory.
    pub fn new(
        table: Table,
        file: &str,
        header: &[String],
        autorisees: &[ColonneAutorisee],
    ) -> Result<TableBuilder<'a>, ExtractError> {
        Self::with_header(table, file, header, true, autorisees, Aiguillage::Tout, Puits::Memoire(Vec::new()))
    }

    /// A table with no row and every contract column (an absent optional table).
    pub fn empty(table: Table) -> Result<TableBuilder<'a>, ExtractError> {
        Self::with_header(table, table.name(), &[], false, &[], Aiguillage::Tout, Puits::Memoire(Vec::new()))
    }

    /// Like [`TableBuilder::new`], rows dealt by `aiguillage` to `puits`.
    pub fn routed(
        table: Table,
        file: &str,
        header: &[String],
        autorisees: &[ColonneAutorisee],
        aiguillage: Aiguillage<'a>,
        puits: Puits<'a>,
    ) -> Result<TableBuilder<'a>, ExtractError> {
        Self::with_header(table, file, header, true, autorisees, aiguillage, puits)
    }

    fn with_header(
        table: Table,
        file: &str,
        header: &[String],
        require: bool,
        autorisees: &[ColonneAutorisee],
        aiguillage: Aiguillage<'a>,
        puits: Puits<'a>,
    ) -> Result<TableBuilder<'a>, ExtractError> {
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
        let at = |name: &str| {
            let def = columns.iter().position(|d| d.name == name)?;
            positions[def].1
        };
        let pieces = match &aiguillage {
            Aiguillage::Route(r) => r.pieces(),
            Aiguillage::Tout => 1,
        };
        Ok(TableBuilder {
            lot: (LOTS / pieces.max(1)).clamp(1024, LOT),
            table,
            id_foyer_at: at("id_foyer"),
            id_personne_at: at("id_personne"),
            positions,
            header_len: header.len(),
            header: header.to_vec(),
            pieces: Vec::new(),
            acceptes: Vec::new(),
            refus: Vec::new(),
            rows_read: 0,
            guard,
            aiguillage,
            puits,
        })
    }

    /// The trimmed, non-empty field at `pos`.
    fn key<'f>(fields: &[Option<&'f str>], pos: Option<usize>) -> Option<&'f str> {
        fields.get(pos?).copied().flatten().and_then(id)
    }

    fn refuse(&mut self, ligne: u64, ids: Ids<'_>, colonne: &str, valeur: &str, motif: String) {
        self.refus.push(Refus {
            table: self.table,
            ligne,
            colonne: colonne.to_string(),
            valeur: valeur.to_string(),
            motif,
            id_foyer: ids.0.map(str::to_string),
            id_personne: ids.1.map(str::to_string),
            rattache_a: None,
        });
    }

    /// The file declares `rows` rows (a Parquet footer): the router may size what it
    /// records once rather than let it grow (routage::Route::expect_rows).
    pub fn expect_rows(&mut self, rows: usize) {
        if let Aiguillage::Route(r) = &mut self.aiguillage {
            r.expect_rows(rows);
        }
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
        let ids = (Self::key(fields, self.id_foyer_at), Self::key(fields, self.id_personne_at));
        self.refuse(ligne, ids, "*", "", motif);
    }

    /// Whether rows of other processes are typed too, to record their persons.
    fn records_persons(&self) -> bool {
        matches!(&self.aiguillage, Aiguillage::Route(r) if r.records_persons())
    }

    /// What becomes of a typed row, whether read alone or with its row group: its person
    /// recorded (`personnes`), counted as read when it is this process's, refused with
    /// its `errors` (in column order), or the piece it goes to.
    fn place(&mut self, ligne: u64, ids: Ids<'_>, destination: Destination, errors: &[Erreur]) -> Option<usize> {
        if let (Aiguillage::Route(r), (Some(f), Some(p))) = (&mut self.aiguillage, ids)
            && r.records_persons()
        {
            r.record_person(p, f, destination, errors.is_empty());
        }
        if destination == Destination::Ailleurs {
            return None;
        }
        self.rows_read += 1;
        if !errors.is_empty() {
            for (colonne, valeur, motif) in errors {
                self.refuse(ligne, ids, colonne, valeur, motif.clone());
            }
            return None;
        }
        // An accepted row always has its ids (they are required): `Inconnue` cannot be
        // accepted; were it, it would go with the rows of no known foyer.
        let piece = match destination {
            Destination::Piece(k) => k,
            _ => match &self.aiguillage {
                Aiguillage::Route(r) => r.sans_foyer()?,
                Aiguillage::Tout => 0,
            },
        };
        if self.pieces.len() <= piece {
            self.pieces.resize_with(piece + 1, || None);
            self.acceptes.resize(piece + 1, 0);
        }
        self.acceptes[piece] += 1;
        Some(piece)
    }

    /// The piece's rows not yet handed on, begun if need be.
    fn en_cours(&mut self, piece: usize) -> &mut PieceEnCours {
        let table = self.table;
        self.pieces[piece].get_or_insert_with(|| PieceEnCours::new(table))
    }

    /// One row, fields in header order (None: the field is not valid text).
    pub fn push(&mut self, ligne: u64, fields: &[Option<&str>]) -> Result<(), ExtractError> {
        self.guard.row(ligne, fields);
        if fields.len() != self.header_len {
            let motif = format!("ligne de {} champs, l'en-tête en a {}", fields.len(), self.header_len);
            self.push_malformed(ligne, fields, motif);
            return Ok(());
        }
        if let Some(motif) = not_text(fields) {
            self.push_malformed(ligne, fields, motif);
            return Ok(());
        }
        let ids = (Self::key(fields, self.id_foyer_at), Self::key(fields, self.id_personne_at));
        let destination = self.aiguillage.destination(ids.0, ids.1);
        if destination == Destination::Ailleurs && !self.records_persons() {
            // Another process's row: seen by the guard, nothing else.
            return Ok(());
        }
        let columns = self.table.columns();
        let mut cells: SmallVec<[Option<Cell>; CELLULES_SUR_PILE]> = SmallVec::with_capacity(columns.len());
        let mut errors: Vec<Erreur> = Vec::new();
        for &(i, pos) in &self.positions {
            let def = &columns[i];
            let text = pos.and_then(|p| fields[p]).unwrap_or("");
            match type_cell(def, text) {
                Ok(cell) => cells.push(cell),
                Err(e) => {
                    errors.push(e);
                    cells.push(None);
                }
            }
        }
        let Some(piece) = self.place(ligne, ids, destination, &errors) else { return Ok(()) };
        let current = self.en_cours(piece);
        current.push(ligne, cells);
        if current.rows >= self.lot {
            self.hand_on(piece)?;
        }
        Ok(())
    }

    /// One row group of a Parquet file, its columns as the file types them (in header
    /// order; a null is an empty cell), taken column by column: the guard, then the
    /// typing of each column, then each row placed in file order as
    /// [`TableBuilder::push`] places it, and each piece's rows gathered at once. The same
    /// rows, refusals and counts as pushing the rows one by one as text (tested), without
    /// a row's cells passing through a row.
    ///
    /// A column is read as text (cast, then parsed by the cell parser, as a CSV cell),
    /// except a contract column of its own type ([`own_type`]), whose values are taken as
    /// they are when the text path would read them the same ([`take_typed`]).
    pub fn push_group(&mut self, first: u64, columns: &[Column]) -> Result<(), ExtractError> {
        let height = columns.first().map_or(0, |c| c.len());
        let table_columns = self.table.columns();
        let mut own = vec![false; columns.len()];
        for &(i, pos) in &self.positions {
            if let Some(p) = pos.filter(|p| columns.get(*p).is_some_and(|c| own_type(&table_columns[i], c.dtype()))) {
                own[p] = true;
            }
        }
        // A date or a boolean never has the shape of an identifier (tested in
        // privacy.rs): a column of those in its own type is not examined, nor written
        // as text. A number can (a NIR as a float): the text of those whose text could
        // be long enough is examined, not parsed.
        let texts: Vec<Option<StringChunked>> = columns
            .iter()
            .zip(&own)
            .map(|(c, own)| if *own { Ok(None) } else { as_text(c).map(Some) })
            .collect::<PolarsResult<_>>()?;
        let numbers: Vec<Option<StringChunked>> = columns
            .iter()
            .zip(&own)
            .map(|(c, own)| if *own && c.dtype() == &DataType::Float64 { text_of_long_numbers(c) } else { Ok(None) })
            .collect::<PolarsResult<_>>()?;
        let examined = texts.iter().zip(&numbers).map(|(t, n)| t.as_ref().or(n.as_ref()));
        self.guard.columns(first, examined.map(|t| t.into_iter().flat_map(|s| s.iter().map(cell))));
        if self.guard.violation().is_some() {
            return Ok(());
        }
        let ids_of = |pos: Option<usize>| -> Vec<Option<&str>> {
            match pos.and_then(|p| texts.get(p)).and_then(Option::as_ref) {
                Some(c) => c.iter().map(|v| id(cell(v))).collect(),
                None => vec![None; height],
            }
        };
        let (foyers, personnes) = (ids_of(self.id_foyer_at), ids_of(self.id_personne_at));
        let destinations: Vec<Destination> =
            foyers.iter().zip(&personnes).map(|(f, p)| self.aiguillage.destination(*f, *p)).collect();
        let records = self.records_persons();

        // Each contract column typed over the whole group, its errors kept with their row.
        let typed: Vec<bool> = destinations.iter().map(|d| *d != Destination::Ailleurs || records).collect();
        let mut typed_columns: Vec<Column> = Vec::with_capacity(self.positions.len() + 1);
        let mut errors: Vec<(usize, usize, Erreur)> = Vec::new();
        for (k, &(i, pos)) in self.positions.iter().enumerate() {
            let def = &table_columns[i];
            let taken = pos.filter(|p| own[*p]).and_then(|p| take_typed(def, &columns[p], &typed));
            let (column, column_errors) = match (taken, pos) {
                (Some(column), _) => (column, Vec::new()),
                (None, Some(p)) if texts[p].is_none() => type_column(def, Some(&as_text(&columns[p])?), &typed)?,
                (None, pos) => type_column(def, pos.and_then(|p| texts.get(p)).and_then(Option::as_ref), &typed)?,
            };
            typed_columns.extend(column);
            errors.extend(column_errors.into_iter().map(|(r, e)| (r, k, e)));
        }
        // A row's errors in column order, rows in file order, as a row pushed alone.
        errors.sort_by_key(|(r, k, _)| (*r, *k));

        let mut rows_of: Vec<Vec<IdxSize>> = Vec::new();
        let mut pending = errors.into_iter().peekable();
        let mut row_errors: Vec<Erreur> = Vec::new();
        for (r, destination) in destinations.iter().enumerate() {
            if !typed[r] {
                continue;
            }
            row_errors.clear();
            while let Some((_, _, e)) = pending.next_if(|(er, _, _)| *er == r) {
                row_errors.push(e);
            }
            let ligne = first + r as u64;
            if let Some(piece) = self.place(ligne, (foyers[r], personnes[r]), *destination, &row_errors) {
                if rows_of.len() <= piece {
                    rows_of.resize_with(piece + 1, Vec::new);
                }
                rows_of[piece].push(r as IdxSize);
            }
        }

        let mut group = vec![UInt64Chunked::from_iter_values(LIGNE.into(), first..first + height as u64).into_column()];
        group.extend(typed_columns);
        let group = DataFrame::new_infer_height(group)?;
        for (piece, rows) in rows_of.into_iter().enumerate().filter(|(_, rows)| !rows.is_empty()) {
            let frame = if rows.len() == height {
                group.clone()
            } else {
                group.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows))?
            };
            let table = self.table;
            self.en_cours(piece).gather(table, frame)?;
            if self.pieces[piece].as_ref().is_some_and(|p| p.rows >= self.lot) {
                self.hand_on(piece)?;
            }
        }
        Ok(())
    }

    /// Hands the buffered rows of `piece` on to the sink.
    fn hand_on(&mut self, piece: usize) -> Result<(), ExtractError> {
        hand_on(self.table, &mut self.pieces[piece], &mut self.puits, piece)
    }

    /// The rows read, dealt to pieces ([`TableLue`]); or the privacy guard's refusal,
    /// which for the shapes weighed against chance is known only once every row was
    /// seen.
    pub fn finish_routed(self) -> Result<TableLue, ExtractError> {
        let (lue, guard) = self.finish_part()?;
        match guard.finish() {
            Some(v) => Err(ExtractError::Privacy(v)),
            None => Ok(lue),
        }
    }

    /// The rows read by this reader of a part of a file, and its privacy guard, not yet
    /// finished: the shapes weighed against chance are weighed over the whole file, once
    /// every part's guard is merged ([`Guard::merge`]).
    pub fn finish_part(self) -> Result<(TableLue, Guard), ExtractError> {
        let TableBuilder { table, guard, mut pieces, mut puits, refus, acceptes, rows_read, header, .. } = self;
        let (colonnes_utilisees, colonnes_ignorees) = header.into_iter().partition(|h| table.column(h).is_some());
        for (piece, current) in pieces.iter_mut().enumerate() {
            hand_on(table, current, &mut puits, piece)?;
        }
        let frames = match puits {
            Puits::Memoire(frames) => frames,
            Puits::Deversoir(_) => Vec::new(),
        };
        Ok((TableLue { frames, refus, acceptes, rows_read, colonnes_utilisees, colonnes_ignorees }, guard))
    }

    /// This reader is one of `readers` reading parts of the same file at once: its
    /// buffers are cut alike, so that together they hold what one reader would.
    pub fn sharing_buffers_with(mut self, readers: usize) -> Self {
        self.lot = (self.lot / readers.max(1)).max(1024);
        self
    }

    /// The accepted rows of a whole table (every contract column, absent optional ones
    /// as nulls), the refused ones, and the number of rows read.
    pub fn finish(self) -> Result<(DataFrame, Vec<Refus>, u64), ExtractError> {
        let table = self.table;
        let lue = self.finish_routed()?;
        let df = stack(table, lue.frames.into_iter().flatten())?;
        Ok((df, lue.refus, lue.rows_read))
    }
}

/// The column(s) of contract column `def` holding `cells` (`generate` writes Parquet
/// columns of their own types with it).
pub(crate) fn typed_column<'c>(
    def: &ColumnDef,
    cells: impl IntoIterator<Item = Option<Cell<'c>>>,
) -> PolarsResult<Vec<Column>> {
    let cells = cells.into_iter();
    let mut builder = ColumnBuilder::new(def, cells.size_hint().0);
    cells.for_each(|c| builder.push(c));
    builder.finish()
}

/// A column as the cell parser reads it: its text (a null is an empty cell).
fn as_text(column: &Column) -> PolarsResult<StringChunked> {
    match column.dtype() {
        DataType::String => column.str().cloned(),
        _ => column.cast(&DataType::String)?.str().cloned(),
    }
}

/// The text of a column of numbers as the privacy guard reads it, of the values whose
/// text could take an identifier's shape only (privacy::classify dismisses any text of
/// fewer than ten characters without `@`); the others are nulls, which the guard reads
/// as empty cells, dismissed alike. None when every value is short: amounts in cents
/// are, and writing twenty million of them as text was a twentieth of a run's CPU.
fn text_of_long_numbers(column: &Column) -> PolarsResult<Option<StringChunked>> {
    let numbers = column.f64()?;
    if numbers.iter().all(|v| v.is_none_or(short_text)) {
        return Ok(None);
    }
    let long: Float64Chunked =
        numbers.iter().map(|v| v.filter(|x| !short_text(*x))).collect_ca_trusted(column.name().clone());
    as_text(&long.into_column()).map(Some)
}

/// A number Polars writes in fewer than ten characters: with at most two decimals (the
/// nearest float to a whole number of cents) and under 100,000 in absolute value, it is
/// written in plain decimal notation ([`plain_decimal`]) as the shortest text that reads
/// back as it, "-99999.99" at the longest (tested below).
fn short_text(v: f64) -> bool {
    v.abs() < 1e5 && (v * 100.0).round() / 100.0 == v
}

/// Whether a Parquet column of type `dtype` holds the contract column `def` in its own
/// type: decimals as 64-bit floats, dates as dates, booleans as booleans. (A 32-bit
/// float is not: its text is not the value widened to 64 bits; an integer is not
/// either, a month as a date is refused as text and must stay so.)
fn own_type(def: &ColumnDef, dtype: &DataType) -> bool {
    matches!(
        (def.ty, dtype),
        (ColType::Decimal, DataType::Float64)
            | (ColType::Date | ColType::DateOuMois, DataType::Date)
            | (ColType::Booleen, DataType::Boolean)
    )
}

/// Floats whose text (Polars' cast) is plain decimal notation, which the cell parser
/// reads back as the same float (tested below); others are read as text, which refuses
/// what it cannot read (an exponent, NaN, infinity).
fn plain_decimal(v: f64) -> bool {
    v == 0.0 || (1e-4..1e15).contains(&v.abs())
}

/// The contract column `def` of a row group taken from the file's column of its own
/// type ([`own_type`]), the cells of the rows `typed` only: the cells the text path
/// would give, without writing each value as text and parsing it back. `None` when a
/// value could read otherwise as text (an unknown in a required column, a negative
/// amount, a float outside [`plain_decimal`], a year of other than four digits): the
/// caller then reads the column as text, with the errors the text path gives.
fn take_typed(def: &ColumnDef, column: &Column, typed: &[bool]) -> Option<Vec<Column>> {
    let mut builder = ColumnBuilder::new(def, typed.len());
    match column.dtype() {
        DataType::Float64 => fill(&mut builder, column.f64().ok()?.iter(), typed, def.required, |v| {
            (plain_decimal(v) && !(def.non_negative && v < 0.0)).then_some(Cell::Nombre(v))
        }),
        DataType::Date => {
            // Four-digit years: 1000-01-01 to 9999-12-31.
            let years = reperage_rules::Date::new(1000, 1, 1).zip(reperage_rules::Date::new(9999, 12, 31));
            let (from, to) = years.map(|(a, b)| (a.to_days(), b.to_days()))?;
            fill(&mut builder, column.date().ok()?.physical().iter(), typed, def.required, |d| {
                (from..=to).contains(&d).then_some(Cell::Date { days: d, jour_connu: true })
            })
        }
        DataType::Boolean => {
            fill(&mut builder, column.bool().ok()?.iter(), typed, def.required, |v| Some(Cell::Booleen(v)))
        }
        _ => None,
    }?;
    builder.finish().ok()
}

/// Pushes `values` into `builder` as cells (`cell`; `None`: not as the text path reads
/// it), a null for the rows not `typed`. `None` at the first value the text path would
/// read otherwise.
fn fill<T>(
    builder: &mut ColumnBuilder,
    values: impl Iterator<Item = Option<T>>,
    typed: &[bool],
    required: bool,
    cell: impl Fn(T) -> Option<Cell<'static>>,
) -> Option<()> {
    for (value, &row_typed) in values.zip(typed) {
        match value {
            _ if !row_typed => builder.push(None),
            None if required => return None,
            None => builder.push(None),
            Some(v) => builder.push(Some(cell(v)?)),
        }
    }
    Some(())
}

/// A column typed over a row group (with its `_jour_connu` companion, for a date that may
/// be a month), and the errors of its cells by row.
type ColonneTypee = (Vec<Column>, Vec<(usize, Erreur)>);

/// One contract column of a row group typed (`source`: the file's column, absent when
/// the file has none), the cells of the rows `typed` only, with the errors of each row.
/// Only the rows accepted are gathered later: what a row not typed or refused holds does
/// not matter. A text column whose typed cells are already as typed (trimmed, canonical,
/// absent as null) is the file's column itself, not a copy.
fn type_column(def: &ColumnDef, source: Option<&StringChunked>, typed: &[bool]) -> Result<ColonneTypee, ExtractError> {
    let height = typed.len();
    let textual = matches!(def.ty, ColType::Texte | ColType::Enum(_) | ColType::Commune);
    let mut builder = match source {
        Some(_) if textual => None,
        _ => Some(ColumnBuilder::new(def, height)),
    };
    let values: Box<dyn Iterator<Item = Option<&str>>> = match source {
        Some(c) => Box::new(c.iter()),
        None => Box::new(std::iter::repeat_n(None, height)),
    };
    let mut errors = Vec::new();
    for (r, v) in values.enumerate() {
        let typed_cell = if typed[r] {
            match type_cell(def, cell(v)) {
                Ok(c) => Some(c),
                Err(e) => {
                    errors.push((r, e));
                    None
                }
            }
        } else {
            None
        };
        match (&mut builder, typed_cell) {
            (Some(b), c) => b.push(c.flatten()),
            (None, None) => {}
            (None, Some(c)) => {
                let as_read = match (&c, v) {
                    (Some(Cell::Texte(t)), Some(v)) => t == v,
                    (None, None) => true,
                    _ => false,
                };
                if !as_read {
                    // The rows before were as read: copied so, then this one typed.
                    let mut b = ColumnBuilder::new(def, height);
                    for earlier in source.into_iter().flat_map(|s| s.iter()).take(r) {
                        b.push(earlier.map(|t| Cell::Texte(t.into())));
                    }
                    b.push(c);
                    builder = Some(b);
                }
            }
        }
    }
    let column = match (builder, source) {
        (Some(b), _) => b.finish()?,
        (None, Some(c)) => vec![c.clone().with_name(def.name.into()).into_column()],
        (None, None) => return Err(ExtractError::Internal(format!("{}: column not built", def.name))),
    };
    Ok((column, errors))
}

/// Hands the buffered rows of a piece on to the sink.
fn hand_on(
    table: Table,
    current: &mut Option<PieceEnCours>,
    puits: &mut Puits,
    piece: usize,
) -> Result<(), ExtractError> {
    let Some(rows) = current.take() else { return Ok(()) };
    let df = rows.finish()?;
    match puits {
        Puits::Memoire(frames) => {
            if frames.len() <= piece {
                frames.resize_with(piece + 1, Vec::new);
            }
            frames[piece].push(df);
        }
        Puits::Deversoir(d) => d.write(table, piece, df)?,
    }
    Ok(())
}

/// The frames of one table, one after the other, as one frame of one chunk (every
/// contract column even with no frame).
pub fn stack(table: Table, frames: impl IntoIterator<Item = DataFrame>) -> Result<DataFrame, ExtractError> {
    let mut frames = frames.into_iter();
    let mut df = match frames.next() {
        Some(df) => df,
        None => PieceEnCours::new(table).finish()?,
    };
    for f in frames {
        df.vstack_mut_owned(f)?;
    }
    df.rechunk_mut_par();
    Ok(df)
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

/// The length of the byte-order mark the first bytes of a CSV file start with (0 or 3),
/// and the separator its header line uses.
fn csv_start(head: &[u8], file: &str, table: Table) -> Result<(usize, u8), ExtractError> {
    let start = if head.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let first_line_end = head[start..].iter().position(|&b| b == b'\n').map_or(head.len(), |p| start + p);
    let first_line = std::str::from_utf8(&head[start..first_line_end])
        .map_err(|_| ExtractError::NotText { file: file.to_string() })?;
    if first_line.trim().is_empty() {
        return Err(ExtractError::Empty { file: file.to_string() });
    }
    Ok((start, detect_separator(first_line, table)))
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
    let (start, sep) = csv_start(&head, file, table)?;
    let body: Box<dyn Read + 'r> = Box::new(std::io::Cursor::new(head[start..].to_vec()).chain(bytes));
    Ok(csv_reader(sep, true, body))
}

fn csv_reader<R: Read>(sep: u8, has_headers: bool, bytes: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new().delimiter(sep).has_headers(has_headers).flexible(true).from_reader(bytes)
}

/// A CSV table file cut for several readers at once: where each part starts, and how
/// many lines come before it. None when the file cannot be cut at line ends alone (a
/// quoted field may hold a line end) or is too small to be worth it.
pub struct CsvParts {
    pub separator: u8,
    /// Byte offset of each part's first byte (the first is 0: the header and the first
    /// rows), in order; the last part ends at the end of the file.
    pub starts: Vec<u64>,
    /// Lines before each part's first byte.
    pub lines_before: Vec<u64>,
    pub len: u64,
}

impl CsvParts {
    /// Cuts the CSV file `path` into at most `parts` parts of about equal bytes, each
    /// starting at the beginning of a line: one pass over the file, counting line ends
    /// and looking for quotes.
    pub fn cut(path: &Path, table: Table, parts: usize) -> Result<Option<CsvParts>, ExtractError> {
        let file = path.display().to_string();
        let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if parts < 2 || len < (1 << 20) {
            return Ok(None);
        }
        let targets: Vec<u64> = (1..parts as u64).map(|i| len * i / parts as u64).collect();
        let mut separator = None;
        let mut starts = vec![0];
        let mut lines_before = vec![0];
        let (mut offset, mut lines, mut quoted) = (0u64, 0u64, false);
        for_each_block(path, |buf| {
            if separator.is_none() {
                // The first block holds the header line (blocks are of 1 MiB).
                let found = csv_start(buf, &file, table).map(|(_, sep)| sep);
                let readable = found.is_ok();
                separator = Some(found);
                if !readable {
                    return false;
                }
            }
            if buf.contains(&b'"') {
                quoted = true;
                return false;
            }
            for (i, &b) in buf.iter().enumerate() {
                if b == b'\n' {
                    lines += 1;
                    let next = offset + i as u64 + 1;
                    if starts.len() <= targets.len() && next >= targets[starts.len() - 1] && next < len {
                        starts.push(next);
                        lines_before.push(lines);
                    }
                }
            }
            offset += buf.len() as u64;
            true
        })?;
        let Some(separator) = separator.transpose()? else { return Ok(None) };
        if quoted {
            return Ok(None);
        }
        Ok((starts.len() > 1).then_some(CsvParts { separator, starts, lines_before, len }))
    }

    /// The bytes of part `i`: (start, length).
    pub fn range(&self, i: usize) -> (u64, u64) {
        let end = self.starts.get(i + 1).copied().unwrap_or(self.len);
        (self.starts[i], end - self.starts[i])
    }
}

/// Reads part `i` of a CSV table file cut by [`CsvParts::cut`] into `builder` (made
/// from the file's header, which the first part skips).
pub fn read_csv_part(
    path: &Path,
    table: Table,
    parts: &CsvParts,
    i: usize,
    builder: &mut TableBuilder<'_>,
) -> Result<(), ExtractError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
    let (start, len) = parts.range(i);
    let mut f = File::open(path).map_err(io)?;
    f.seek(std::io::SeekFrom::Start(start)).map_err(io)?;
    let bytes = BufReader::new(f.take(len));
    if i == 0 {
        let mut reader = open_csv(bytes, &file, table)?;
        csv_header(&mut reader, &file)?;
        read_csv_records(&mut reader, builder, 0)
    } else {
        let mut reader = csv_reader(parts.separator, false, bytes);
        read_csv_records(&mut reader, builder, parts.lines_before[i])
    }
}

/// The SHA-256 of a file (hexadecimal), read in blocks.
pub fn sha256_of(path: &Path) -> Result<String, ExtractError> {
    let mut hasher = Sha256::new();
    for_each_block(path, |buf| {
        hasher.update(buf);
        true
    })?;
    Ok(hex(hasher))
}

/// Calls `each` on the bytes of a file, a block of 1 MiB after another, until it says
/// to stop (false).
fn for_each_block(path: &Path, mut each: impl FnMut(&[u8]) -> bool) -> Result<(), ExtractError> {
    let io = |e: std::io::Error| ExtractError::Io { file: path.display().to_string(), source: e };
    let mut f = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
    loop {
        let buf = f.fill_buf().map_err(io)?;
        if buf.is_empty() || !each(buf) {
            return Ok(());
        }
        let n = buf.len();
        f.consume(n);
    }
}

/// The header of a CSV table file.
pub fn csv_file_header(path: &Path, table: Table) -> Result<Vec<String>, ExtractError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
    let mut reader = open_csv(BufReader::new(File::open(path).map_err(io)?), &file, table)?;
    csv_header(&mut reader, &file)
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

/// One column of a CSV table file, row after row (`None`: absent from the row, or not
/// text). Nothing else is read: rows are checked when the table is read.
pub fn csv_column(
    path: &Path,
    table: Table,
    column: &str,
    mut each: impl FnMut(Option<&str>),
) -> Result<(), ExtractError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
    let mut reader = open_csv(BufReader::new(File::open(path).map_err(io)?), &file, table)?;
    let header = csv_header(&mut reader, &file)?;
    let Some(at) = header.iter().position(|h| h == column) else { return Ok(()) };
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => each(record.get(at).and_then(|f| std::str::from_utf8(f).ok())),
            Ok(false) => break,
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                return Err(ExtractError::Io { file, source: std::io::Error::other(e.to_string()) });
            }
            Err(_) => {}
        }
    }
    Ok(())
}

/// Makes the builder of a table once its file's header is read.
pub type MakeBuilder<'m, 'a> = &'m mut dyn FnMut(&[String]) -> Result<TableBuilder<'a>, ExtractError>;

/// Reads a whole CSV table; also returns the file's SHA-256 (hexadecimal), computed
/// from the bytes as they are parsed.
pub fn read_csv<'a>(
    path: &Path,
    table: Table,
    make: MakeBuilder<'_, 'a>,
) -> Result<(TableBuilder<'a>, String), ExtractError> {
    let file = path.display().to_string();
    let io = |e: std::io::Error| ExtractError::Io { file: file.clone(), source: e };
    let hasher = Rc::new(RefCell::new(Sha256::new()));
    let bytes = Hashing { inner: BufReader::new(File::open(path).map_err(io)?), hasher: hasher.clone() };
    let builder = read_csv_with(bytes, &file, table, make)?;
    let sha = Rc::try_unwrap(hasher).map(|h| hex(h.into_inner())).unwrap_or_default();
    Ok((builder, sha))
}

/// Reads a whole CSV table from `bytes` (`file` names it in messages), to the end.
pub fn read_csv_from<'a>(
    bytes: impl Read,
    file: &str,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<TableBuilder<'a>, ExtractError> {
    read_csv_with(bytes, file, table, &mut |header| TableBuilder::new(table, file, header, autorisees))
}

fn read_csv_with<'a>(
    bytes: impl Read,
    file: &str,
    table: Table,
    make: MakeBuilder<'_, 'a>,
) -> Result<TableBuilder<'a>, ExtractError> {
    let mut reader = open_csv(bytes, file, table)?;
    let header = csv_header(&mut reader, file)?;
    let mut builder = make(&header)?;
    read_csv_records(&mut reader, &mut builder, 0)?;
    // Whatever the parser left unread (after an I/O error) still belongs to the hash.
    let mut rest = reader.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| ExtractError::Io { file: file.to_string(), source: e })?;
    Ok(builder)
}

/// The records of a CSV reader into `builder`; `lines_before`: the lines of the file
/// before the reader's first byte (a part of a file read by several readers).
pub fn read_csv_records<R: Read>(
    reader: &mut csv::Reader<R>,
    builder: &mut TableBuilder<'_>,
    lines_before: u64,
) -> Result<(), ExtractError> {
    let mut record = csv::ByteRecord::new();
    let mut last_line = lines_before + 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let ligne = record.position().map_or(last_line + 1, |p| lines_before + p.line());
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
                    builder.push(ligne, &fields)?;
                }
                if let Some(e) = builder.privacy_violation() {
                    return Err(e);
                }
            }
            Ok(false) => break,
            Err(e) => {
                let ligne = e.position().map_or(last_line + 1, |p| lines_before + p.line());
                last_line = ligne;
                builder.push_malformed(ligne, &[], format!("ligne CSV illisible : {e}"));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// Runs `read` on Polars' Parquet reader, a panic caught and reported as an unreadable
/// file.
///
/// Polars' Parquet reader panics on some malformed files (fuzzing found several, in
/// its metadata and page decoding: docs/reliability.md), and aborts the process on a
/// page that declares a negative count: [`parquet_pages::check`] refuses those first
/// (in [`parquet_parts`]).
fn guarded<T>(file: &str, read: impl FnOnce() -> Result<T, ExtractError>) -> Result<T, ExtractError> {
    without_panic(read).unwrap_or_else(|why| {
        Err(ExtractError::Parquet { file: file.to_string(), message: format!("the Parquet reader failed ({why})") })
    })
}

/// Runs a call into Polars that may panic on input it should refuse (a malformed file, a
/// plan its optimiser gets wrong): the panic's message instead, kept off the terminal
/// by the CLI's panic hook ([`install_panic_hook`]).
pub fn without_panic<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    POLARS_GUARDED.fetch_add(1, Ordering::SeqCst);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
    POLARS_GUARDED.fetch_sub(1, Ordering::SeqCst);
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("panic")
            .to_string()
    })
}

/// The rows `[start, start + len)` of one row group.
pub type RowRange = (usize, usize);

/// A Parquet file's column names and the row ranges of its row groups, once its pages
/// are checked.
pub fn parquet_parts(bytes: &[u8], file: &str) -> Result<(Vec<String>, Vec<RowRange>), ExtractError> {
    let unreadable = |message: String| ExtractError::Parquet { file: file.to_string(), message };
    guarded(file, || {
        parquet_pages::check(bytes).map_err(unreadable)?;
        let mut reader = ParquetReader::new(Cursor::new(bytes));
        let header =
            reader.schema().map_err(|e| unreadable(e.to_string()))?.iter_names().map(|n| n.to_string()).collect();
        let metadata = reader.get_metadata().map_err(|e| unreadable(e.to_string()))?;
        let mut start = 0;
        let mut groups = Vec::new();
        for g in &metadata.row_groups {
            groups.push((start, g.num_rows()));
            start += g.num_rows();
        }
        Ok((header, groups))
    })
}

/// The rows `[start, start + len)` of a Parquet file, every column cast to text (cells
/// are parsed by our cell parser), `columns` only when given.
fn parquet_as_text(
    bytes: &[u8],
    file: &str,
    (start, len): RowRange,
    columns: Option<Vec<String>>,
) -> Result<DataFrame, ExtractError> {
    let not_parquet = |e: PolarsError| ExtractError::Parquet { file: file.to_string(), message: e.to_string() };
    guarded(file, || {
        let df = ParquetReader::new(Cursor::new(bytes))
            .with_columns(columns)
            .with_slice(Some((start, len)))
            .finish()
            .map_err(not_parquet)?;
        let exprs: Vec<Expr> = df.get_column_names().iter().map(|n| col(n.as_str()).cast(DataType::String)).collect();
        df.lazy().select(exprs).collect().map_err(not_parquet)
    })
}

/// The rows `[start, start + len)` of a Parquet file, as the file types them.
fn parquet_group(bytes: &[u8], file: &str, (start, len): RowRange) -> Result<DataFrame, ExtractError> {
    guarded(file, || {
        ParquetReader::new(Cursor::new(bytes))
            .with_slice(Some((start, len)))
            .finish()
            .map_err(|e| ExtractError::Parquet { file: file.to_string(), message: e.to_string() })
    })
}

/// One column of a Parquet file as text, row group after row group (checked first).
pub fn parquet_column(
    bytes: &[u8],
    file: &str,
    column: &str,
    mut each: impl FnMut(Option<&str>),
) -> Result<(), ExtractError> {
    let (header, groups) = parquet_parts(bytes, file)?;
    if !header.iter().any(|h| h == column) {
        return Ok(());
    }
    for group in groups {
        let df = parquet_as_text(bytes, file, group, Some(vec![column.to_string()]))?;
        for v in df.column(column)?.str()?.iter() {
            each(v);
        }
    }
    Ok(())
}

/// Calls into Polars guarded right now ([`without_panic`]).
pub static POLARS_GUARDED: AtomicUsize = AtomicUsize::new(0);

/// A panic hook that stays silent for a panic of Polars in a guarded call (a Parquet file
/// read, reported as unreadable; an evaluation, retried: crate::evaluation) and
/// otherwise behaves as the default one.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_polars = info.location().is_some_and(|l| l.file().contains("polars-"));
        if !(in_polars && POLARS_GUARDED.load(Ordering::SeqCst) > 0) {
            default(info);
        }
    }));
}

/// Reads a whole Parquet table (`ligne` is the row number, 1-based) and the SHA-256 of
/// the file, from one read.
pub fn read_parquet<'a>(path: &Path, make: MakeBuilder<'_, 'a>) -> Result<(TableBuilder<'a>, String), ExtractError> {
    let file = path.display().to_string();
    let io = |e| ExtractError::Io { file: file.clone(), source: e };
    // Read whole (a Parquet file is compact beside the table Polars decodes from it): the
    // same bytes are checked, decoded and hashed, the file is read once.
    let bytes = std::fs::read(path).map_err(io)?;
    let builder = read_parquet_with(&bytes, &file, make)?;
    Ok((builder, hex(Sha256::new_with_prefix(&bytes))))
}

/// Reads a whole Parquet table from `bytes` (`file` names it in messages).
pub fn read_parquet_from<'a>(
    bytes: &[u8],
    file: &str,
    table: Table,
    autorisees: &[ColonneAutorisee],
) -> Result<TableBuilder<'a>, ExtractError> {
    read_parquet_with(bytes, file, &mut |header| TableBuilder::new(table, file, header, autorisees))
}

/// Decodes one row group at a time: the text of a national table is never held whole.
fn read_parquet_with<'a>(
    bytes: &[u8],
    file: &str,
    make: MakeBuilder<'_, 'a>,
) -> Result<TableBuilder<'a>, ExtractError> {
    let (header, groups) = parquet_parts(bytes, file)?;
    let mut builder = make(&header)?;
    builder.expect_rows(rows_believed(groups.iter().map(|g| g.1), bytes.len()));
    read_parquet_groups(bytes, file, &groups, &mut builder)?;
    Ok(builder)
}

/// The rows a Parquet file of `file_len` bytes is believed to hold, from the counts of
/// its row groups: a footer can declare any count, so no more rows than a quarter of the
/// file's bytes are believed (the tables' rows are not four bytes each once compressed),
/// and a hostile footer cannot make the reader reserve gigabytes.
fn rows_believed(declared: impl IntoIterator<Item = usize>, file_len: usize) -> usize {
    declared.into_iter().fold(0usize, usize::saturating_add).min(file_len / 4)
}

/// Reads the row groups `groups` of a Parquet file into `builder`, in order; stops at
/// the first certain identifier the privacy guard sees.
pub fn read_parquet_groups(
    bytes: &[u8],
    file: &str,
    groups: &[RowRange],
    builder: &mut TableBuilder<'_>,
) -> Result<(), ExtractError> {
    for &group in groups {
        let df = parquet_group(bytes, file, group)?;
        // Guarded: casting a column to text panics in Polars on a value it cannot write
        // (a date out of chrono's range), which is a file to refuse, not a crash.
        guarded(file, || builder.push_group(group.0 as u64 + 1, df.columns()))?;
        if let Some(e) = builder.privacy_violation() {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_footer_is_believed_up_to_a_quarter_of_the_file() {
        assert_eq!(rows_believed([1_000, 2_000], 1 << 20), 3_000);
        assert_eq!(rows_believed([usize::MAX, usize::MAX], 4_000), 1_000);
        assert_eq!(rows_believed([5_000], 4_000), 1_000);
        assert_eq!(rows_believed([], 4_000), 0);
    }

    /// Deals rows to three pieces and to another process by their foyer, records every
    /// person it is shown (with what it was told), as the router of `personnes` does.
    struct Trois<'l>(&'l std::sync::Mutex<Vec<String>>);

    impl super::super::routage::Route for Trois<'_> {
        fn destination(&self, id_foyer: Option<&str>, _: Option<&str>) -> Destination {
            match id_foyer.map(|f| f.len() % 4) {
                None => Destination::Inconnue,
                Some(3) => Destination::Ailleurs,
                Some(k) => Destination::Piece(k),
            }
        }
        fn records_persons(&self) -> bool {
            true
        }
        fn record_person(&mut self, p: &str, f: &str, d: Destination, accepted: bool) {
            self.0.lock().expect("log").push(format!("{p} {f} {d:?} {accepted}"));
        }
        fn sans_foyer(&self) -> Option<usize> {
            Some(0)
        }
        fn pieces(&self) -> usize {
            3
        }
    }

    /// Rows of `personnes` (Parquet text: `None` is a null), a few of them refused in
    /// one or several cells, with ids of every length (so every piece and another
    /// process's rows), padded ids, a missing foyer id.
    fn personnes(n: usize) -> (Vec<String>, Vec<Vec<Option<String>>>) {
        let header: Vec<String> = [
            "id_personne",
            "id_foyer",
            "role",
            "date_naissance",
            "revenu_n2",
            "taux_incapacite",
            "commune_inconnue",
            "sexe",
        ]
        .map(String::from)
        .to_vec();
        let rows = (0..n)
            .map(|i| {
                let foyer = match i % 97 {
                    0 => None,
                    5 => Some(String::new()),
                    7 => Some(format!("  F{}  ", i / 3)),
                    _ => Some(format!("F{}{}", "x".repeat(i % 5), i / 3)),
                };
                // Runs of three equal roles, refused ones too (a cell equal to the one
                // above is typed as it was, refusal included).
                let role = match (i / 3) % 89 {
                    0 => None,
                    1 => Some("Enfant".into()),
                    2 => Some("inconnu".into()),
                    _ => Some(["allocataire", "conjoint", "enfant"][i % 3].into()),
                };
                let naissance = match i % 83 {
                    0 => Some("1985-13-01".into()),
                    1 => Some("1985-03".into()),
                    _ => Some(format!("19{:02}-0{}-1{}", 50 + i % 50, 1 + i % 9, i % 10)),
                };
                let revenu = match (i / 2) % 79 {
                    0 => Some("-3".into()),
                    1 => Some("12,5".into()),
                    2 => Some("douze".into()),
                    3 => None,
                    _ => Some(format!("{}.{}", i * 7, i % 100)),
                };
                let taux = if i % 71 == 0 { Some("150".into()) } else { Some(String::new()) };
                // An optional text column: absent as a null, as an empty or blank cell,
                // or to be canonicalised, once in a while.
                let sexe = match i % 61 {
                    0 => Some(String::new()),
                    1 => Some("  ".into()),
                    2 => Some(" f".into()),
                    3..=9 => None,
                    _ => Some(["F", "M"][i % 2].into()),
                };
                vec![Some(format!("P{i}")), foyer, role, naissance, revenu, taux, Some("x".into()), sexe]
            })
            .collect();
        (header, rows)
    }

    /// Feeds `rows` to `b` as the CSV reader does, one by one (`group`: None), or as the
    /// Parquet reader does, in row groups of `group` rows; stops, as both readers do, at
    /// the first certain identifier the guard sees.
    fn feed(b: &mut TableBuilder<'_>, header: &[String], rows: &[Vec<Option<String>>], group: Option<usize>) {
        match group {
            None => {
                for (i, row) in rows.iter().enumerate() {
                    let fields: Vec<Option<&str>> = row.iter().map(|f| Some(f.as_deref().unwrap_or(""))).collect();
                    b.push(i as u64 + 1, &fields).expect("push");
                    if b.privacy_violation().is_some() {
                        return;
                    }
                }
            }
            Some(len) => {
                for (g, chunk) in rows.chunks(len).enumerate() {
                    let column = |j: usize| {
                        StringChunked::from_iter_options(
                            header[j].as_str().into(),
                            chunk.iter().map(|r| r[j].as_deref()),
                        )
                    };
                    let columns: Vec<Column> = (0..header.len()).map(|j| column(j).into_column()).collect();
                    b.push_group((g * len) as u64 + 1, &columns).expect("group");
                    if b.privacy_violation().is_some() {
                        return;
                    }
                }
            }
        }
    }

    type Lecture = (Vec<DataFrame>, Vec<Refus>, Vec<u64>, u64, Vec<String>);

    fn read_personnes(header: &[String], rows: &[Vec<Option<String>>], group: Option<usize>) -> Lecture {
        let log = std::sync::Mutex::new(Vec::new());
        let route = Aiguillage::Route(Box::new(Trois(&log)));
        let mut b =
            TableBuilder::routed(Table::Personnes, "personnes.parquet", header, &[], route, Puits::Memoire(Vec::new()))
                .expect("builder");
        feed(&mut b, header, rows, group);
        let lue = b.finish_routed().expect("finish");
        let frames = lue.frames.into_iter().map(|f| stack(Table::Personnes, f).expect("stack")).collect();
        let log = log.into_inner().expect("log");
        (frames, lue.refus, lue.acceptes, lue.rows_read, log)
    }

    /// A row group taken column by column gives what its rows pushed one by one give:
    /// each piece's rows (in more than one buffer's worth: 1,024 rows), the refusals in
    /// the same order, the counts, and the persons recorded in the same order.
    #[test]
    fn a_row_group_is_read_as_its_rows_one_by_one() {
        let (header, rows) = personnes(9_000);
        let by_row = read_personnes(&header, &rows, None);
        assert_eq!(by_row.0.len(), 3);
        assert!(
            by_row.0.iter().all(|f| f.height() > 1_500),
            "{:?}",
            by_row.0.iter().map(DataFrame::height).collect::<Vec<_>>()
        );
        for motif in ["valeur obligatoire manquante", "montant négatif", "illisible", "inconnue", "entier attendu"] {
            assert!(by_row.1.iter().any(|r| r.motif.contains(motif)), "no refusal for {motif}");
        }
        for len in [9_000, 1_000, 333, 7] {
            let by_group = read_personnes(&header, &rows, Some(len));
            assert_eq!(by_group.0.len(), by_row.0.len());
            for (k, (a, b)) in by_row.0.iter().zip(&by_group.0).enumerate() {
                assert_eq!(a.schema(), b.schema(), "piece {k}");
                assert!(a.equals_missing(b), "groups of {len}: piece {k}");
            }
            assert_eq!(by_row.1, by_group.1, "groups of {len}: refusals");
            assert_eq!(by_row.2, by_group.2, "groups of {len}: accepted per piece");
            assert_eq!(by_row.3, by_group.3, "groups of {len}: rows read");
            assert_eq!(by_row.4, by_group.4, "groups of {len}: persons recorded");
        }
    }

    /// The guard stops a row group at the cell a row-by-row reading stops at: the first
    /// row with a certain identifier, and in it the first column.
    #[test]
    fn the_guard_names_the_same_cell_either_way() {
        let (header, mut rows) = personnes(2_000);
        rows[1_500][6] = Some("jean.dupont@example.fr".into());
        rows[700][4] = Some("185057800608491".into());
        rows[700][2] = Some("FR7630006000011234567890189".into());
        let violation = |group: Option<usize>| {
            let route = Aiguillage::Tout;
            let mut b = TableBuilder::routed(Table::Personnes, "p", &header, &[], route, Puits::Memoire(Vec::new()))
                .expect("builder");
            feed(&mut b, &header, &rows, group);
            b.guard.violation().cloned().expect("a violation")
        };
        let by_row = violation(None);
        assert_eq!((by_row.ligne, by_row.column.as_str()), (701, "role"));
        for len in [2_000, 500, 7] {
            assert_eq!(violation(Some(len)), by_row, "groups of {len}");
        }
    }

    /// The rows of `personnes` with an amount, a date and a boolean column of their own
    /// types: `revenu_n2` (64-bit floats), `date_naissance` (dates), `enceinte`
    /// (booleans); at rows 1, 101, … 601 of every thousand (each alone in a group of 50
    /// rows), values the text path reads otherwise (a negative amount, floats it would
    /// write with an exponent, NaN, an unknown where one is required, a five-digit year).
    fn personnes_typed(n: usize) -> (Vec<String>, DataFrame) {
        let day = |y, m, d| reperage_rules::Date::new(y, m, d).map(reperage_rules::Date::to_days);
        let revenu: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 1000 {
                1 => Some(-3.0),
                101 => Some(1e-7),
                201 => Some(f64::NAN),
                301 => Some(2e16),
                401 => Some(-0.0),
                _ if i % 13 == 0 => None,
                _ => Some(i as f64 * 7.25 + 0.01),
            })
            .collect();
        let naissance: Vec<Option<i32>> = (0..n)
            .map(|i| match i % 1000 {
                501 => None,
                601 => day(12000, 1, 1),
                _ => day(1940 + (i % 80) as i32, 1 + (i % 12) as u32, 1 + (i % 28) as u32),
            })
            .collect();
        let enceinte: Vec<Option<bool>> = (0..n).map(|i| (i % 5 != 0).then_some(i % 3 == 0)).collect();
        let columns = vec![
            Column::new("id_personne".into(), (0..n).map(|i| format!("P{i}")).collect::<Vec<_>>()),
            Column::new(
                "id_foyer".into(),
                (0..n).map(|i| format!("F{}{}", "x".repeat(i % 5), i / 3)).collect::<Vec<_>>(),
            ),
            Column::new("role".into(), (0..n).map(|i| ["allocataire", "enfant"][i % 2]).collect::<Vec<_>>()),
            Int32Chunked::from_iter_options("date_naissance".into(), naissance.into_iter())
                .into_column()
                .cast(&DataType::Date)
                .expect("dates"),
            Column::new("revenu_n2".into(), revenu),
            Column::new("enceinte".into(), enceinte),
        ];
        let header = columns.iter().map(|c| c.name().to_string()).collect();
        (header, DataFrame::new_infer_height(columns).expect("frame"))
    }

    /// What `personnes` gives in row groups of `len` rows, each column as it is or cast
    /// to text (as the reader read every Parquet column before it took columns of their
    /// own type as they are).
    fn read_groups(header: &[String], df: &DataFrame, len: usize, as_text: bool) -> Lecture {
        let log = std::sync::Mutex::new(Vec::new());
        let route = Aiguillage::Route(Box::new(Trois(&log)));
        let mut b = TableBuilder::routed(Table::Personnes, "p.parquet", header, &[], route, Puits::Memoire(Vec::new()))
            .expect("builder");
        for start in (0..df.height()).step_by(len) {
            let group = df.slice(start as i64, len);
            let columns: Vec<Column> = group
                .columns()
                .iter()
                .map(|c| if as_text { c.cast(&DataType::String).expect("text") } else { c.clone() })
                .collect();
            b.push_group(start as u64 + 1, &columns).expect("group");
        }
        let lue = b.finish_routed().expect("finish");
        let frames = lue.frames.into_iter().map(|f| stack(Table::Personnes, f).expect("stack")).collect();
        (frames, lue.refus, lue.acceptes, lue.rows_read, log.into_inner().expect("log"))
    }

    /// A contract column of its own type reads as the same column cast to text: its
    /// values taken as they are in the row groups where the text path reads them the
    /// same, the group read as text where one value would read otherwise, with the same
    /// refusals.
    #[test]
    fn a_column_of_its_own_type_reads_as_its_text() {
        let (header, df) = personnes_typed(3_000);
        for len in [3_000, 333, 50] {
            let (own, text) = (read_groups(&header, &df, len, false), read_groups(&header, &df, len, true));
            assert_eq!(own.0.len(), text.0.len());
            for (k, (a, b)) in own.0.iter().zip(&text.0).enumerate() {
                assert_eq!(a.schema(), b.schema(), "piece {k}");
                assert!(a.equals_missing(b), "groups of {len}: piece {k}");
            }
            assert_eq!(own.1, text.1, "groups of {len}: refusals");
            assert_eq!((own.2, own.3, own.4), (text.2, text.3, text.4), "groups of {len}");
        }
        let (_, text) = ((), read_groups(&header, &df, 3_000, true));
        for motif in ["valeur obligatoire manquante", "montant négatif", "nombre décimal illisible", "date illisible"]
        {
            assert!(text.1.iter().any(|r| r.motif.contains(motif)), "no refusal for {motif}");
        }
    }

    /// Values are taken as they are only where the text path reads them the same: a
    /// group of clean values is taken, one value read otherwise sends it to the text path.
    #[test]
    fn only_values_read_the_same_are_taken_as_they_are() {
        let def = Table::Personnes.column("revenu_n2").expect("column");
        let typed = [true, true, true];
        let floats = |v: [Option<f64>; 3]| Column::new("revenu_n2".into(), v.to_vec());
        assert!(take_typed(def, &floats([Some(12.5), None, Some(0.0)]), &typed).is_some());
        for odd in [-1.0, 1e-7, 1e15, f64::NAN, f64::INFINITY] {
            assert!(take_typed(def, &floats([Some(12.5), Some(odd), None]), &typed).is_none(), "{odd}");
        }
        // A row not typed (another process's) is not looked at.
        assert!(take_typed(def, &floats([Some(12.5), Some(-1.0), None]), &[true, false, true]).is_some());
        // The text Polars writes for a float taken as it is reads back as the same float.
        for v in [0.0, -0.0, 1e-4, 0.1, 12.5, 1234.56, 99_999_999_999_999.9, 7.25 * 2999.0 + 0.01] {
            assert!(plain_decimal(v), "{v}");
            let text = Column::new("v".into(), [v]).cast(&DataType::String).expect("text");
            let text = text.str().expect("text").get(0).expect("a value").to_string();
            assert_eq!(super::super::cells::parse_decimal(&text), Ok(v), "{v} written {text}");
        }
    }

    /// The text Polars writes for `v`.
    fn polars_text(v: f64) -> String {
        let text = Column::new("v".into(), [v]).cast(&DataType::String).expect("text");
        text.str().expect("text").get(0).expect("a value").to_string()
    }

    proptest::proptest! {
        /// A number said short is written in fewer than ten characters, so the privacy
        /// guard, which dismisses such a text, need not see it.
        #[test]
        fn a_number_said_short_is_written_short(cents in -1_000_000_000i64..=1_000_000_000, other in proptest::num::f64::ANY) {
            let v = cents as f64 / 100.0;
            let text = polars_text(v);
            proptest::prop_assert_eq!(short_text(v), v.abs() < 1e5);
            if short_text(v) {
                proptest::prop_assert!(text.len() < 10, "{} written {}", v, text);
                proptest::prop_assert!(crate::extract::privacy::dismissed(&text), "{}", text);
            }
            if short_text(other) {
                proptest::prop_assert!(polars_text(other).len() < 10, "{}", other);
            }
        }
    }

    #[test]
    fn only_long_numbers_are_written_for_the_guard() {
        let short = [0.0, -0.0, 0.01, -99_999.99, 12_345.67, 99_999.0];
        for v in short {
            assert!(short_text(v), "{v}");
        }
        // A NIR stored as a float, a third, a tenth of a cent, NaN: written.
        for v in [185_057_800_608_436.0, 1.0 / 3.0, 0.001, 123_456.78, f64::NAN, f64::INFINITY] {
            assert!(!short_text(v), "{v}");
        }
        let column = Column::new("montant".into(), [Some(12.5), None, Some(185_057_800_608_436.0), Some(1.0 / 3.0)]);
        let text = text_of_long_numbers(&column).expect("text").expect("long values");
        let values: Vec<Option<&str>> = text.iter().collect();
        assert_eq!(values[..2], [None, None]);
        assert_eq!(values[2].map(str::len), Some(polars_text(185_057_800_608_436.0).len()));
        assert!(values[3].is_some());
        let all_short = Column::new("montant".into(), [Some(12.5), None, Some(-3.0)]);
        assert!(text_of_long_numbers(&all_short).expect("text").is_none());
    }

    #[test]
    fn separator_follows_the_header() {
        assert_eq!(detect_separator("id_foyer;caisse;commune", Table::Foyers), b';');
        assert_eq!(detect_separator("id_foyer,caisse,commune\r\n", Table::Foyers), b',');
        assert_eq!(detect_separator("id_foyer\tcaisse\tcommune", Table::Foyers), b'\t');
        // Ambiguous (a single column): the French default.
        assert_eq!(detect_separator("id_foyer", Table::Foyers), b';');
    }
}
