//! Reading an extract piece by piece: every table is read once, each row dealt to the
//! piece of its foyer (crate::partitions) as it is read, and the pieces are then loaded
//! and validated one at a time, so that the memory a run holds is set by the size of a
//! piece, not by the extract.
//!
//! ```text
//! foyers.id_foyer ─► the cut (crate::partitions::Coupe)
//! foyers ∥ personnes ─► rows dealt by id_foyer; each person recorded (index below)
//! ressources ∥ droits ∥ evenements ∥ contacts ∥ bailleurs ─► ressources by their
//!     person's foyer, the others by id_foyer; bailleurs and a contact with a landlord
//!     (no id_foyer) to the piece of rows of no foyer (partition 0, piece 0)
//! refused rows ─► attributed to the piece of the foyer they belong to
//! piece k ─► its frames (memory, or spill files) ─► validated (validate.rs)
//! ```
//!
//! With one piece, rows stay in memory; with several they are spilled to Parquet files
//! (LZ4) in a temporary folder as they are read, 64 Ki rows at a time per piece.
//!
//! What needs the whole extract is decided while reading, so that validation per piece
//! is the validation of the whole: the index of persons records, for every
//! `id_personne` (as a 128-bit hash: a collision among 10^8 ids has a probability
//! around 10^-23), how many rows of `personnes` were accepted (a person id on two
//! rows is refused in both, whichever pieces they are in) and which piece the person's
//! foyer is in (that of its last accepted row, else of its last refused one: the foyer
//! validation attributes the person's refused rows to), which routes `ressources`
//! (they carry no `id_foyer`). A refused row is attributed as validation attributes it
//! (`Refus::rattache_a`): its `id_foyer`, else its person's foyer, else partition 0.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::privacy::Guard;
use super::reader::{self, Aiguillage, Destination, Puits, TableBuilder};
use super::schema::Table;
use super::spill;
use super::{ColonneAutorisee, ExtractError, InputFile, Lu, Refus, locate};
use crate::partitions::Coupe;

/// How the rows of a table are dealt (reader::Aiguillage::Route).
pub trait Route {
    /// Where a row goes, from its ids (trimmed; `None`: empty or absent).
    fn destination(&self, id_foyer: Option<&str>, id_personne: Option<&str>) -> Destination;
    /// Whether every row is typed, other processes' rows included, to record its person.
    fn records_persons(&self) -> bool {
        false
    }
    /// A row of `personnes` with both ids, accepted by the cell parser or not.
    fn record_person(&mut self, _id_personne: &str, _id_foyer: &str, _destination: Destination, _accepted: bool) {}
    /// The table has about `rows` rows (known before they are read from a Parquet
    /// footer; never from a CSV file).
    fn expect_rows(&mut self, _rows: usize) {}
    /// The piece of a row that belongs to no known foyer (`None`: another process's).
    fn sans_foyer(&self) -> Option<usize>;
    /// How many pieces rows are dealt to.
    fn pieces(&self) -> usize;
}

/// Where typed rows are spilled (reader::Puits::Deversoir).
pub trait Deversoir {
    fn write(&mut self, table: Table, piece: usize, df: DataFrame) -> Result<(), ExtractError>;
}

/// A 128-bit fingerprint of an id: XXH3-128 without seed, the same in every process
/// (two SipHash-1-3 before, 13 % of reading `ressources`: docs/performance.md). Ids are
/// pseudonyms chosen by the caisse, not by an adversary; two ids of 128-bit fingerprints
/// collide with odds of about n²/2¹²⁹, 10⁻²³ for 33 million persons.
pub fn empreinte(id: &str) -> Empreinte {
    let h = xxhash_rust::xxh3::xxh3_128(id.as_bytes());
    Empreinte(h as u64, (h >> 64) as u64)
}

/// A fingerprint as two halves: aligned on 8 bytes, not 16 as a `u128` is, an entry of
/// the index of persons takes 24 bytes, not 32 (33 million persons a month nationally).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Empreinte(u64, u64);

impl std::hash::Hash for Empreinte {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a hash: its low half is the table's.
        state.write_u64(self.0);
    }
}

/// Keys that are already hashes: their low 64 bits.
#[derive(Default)]
pub struct Deja(u64);

impl Hasher for Deja {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type ParEmpreinte<V> = HashMap<Empreinte, V, BuildHasherDefault<Deja>>;

/// The code of a piece of another process, in the index.
const AILLEURS: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Personne {
    /// Rows of `personnes` accepted by the cell parser.
    acceptes: u32,
    /// The piece of the foyer of its last accepted row (else of its last refused one),
    /// or [`AILLEURS`].
    piece: u32,
}

/// Every person of `personnes` (see the module's documentation).
#[derive(Default)]
pub struct Personnes {
    index: ParEmpreinte<Personne>,
}

impl Personnes {
    fn piece(&self, id_personne: &str) -> Option<Destination> {
        self.piece_of(&empreinte(id_personne))
    }

    fn piece_of(&self, key: &Empreinte) -> Option<Destination> {
        self.index.get(key).map(|p| match p.piece {
            AILLEURS => Destination::Ailleurs,
            k => Destination::Piece(k as usize),
        })
    }

    /// The person ids on more than one accepted row, with that count.
    fn doublons(&self) -> Doublons {
        Doublons(self.index.iter().filter(|(_, p)| p.acceptes > 1).map(|(k, p)| (*k, p.acceptes as usize)).collect())
    }
}

/// Person ids accepted on more than one row of the whole `personnes` table, with the
/// count: validation refuses them in every piece.
#[derive(Debug, Default, Clone)]
pub struct Doublons(ParEmpreinte<usize>);

impl Doublons {
    /// The number of rows of the whole table with this person id, when more than one.
    pub fn count(&self, id_personne: &str) -> Option<usize> {
        if self.0.is_empty() {
            return None;
        }
        self.0.get(&empreinte(id_personne)).copied()
    }
}

/// Rows of tables keyed by foyer (`personnes` records each person too).
struct ParFoyer<'c> {
    coupe: &'c Coupe,
    personnes: Option<&'c mut Personnes>,
}

impl Route for ParFoyer<'_> {
    fn destination(&self, id_foyer: Option<&str>, _: Option<&str>) -> Destination {
        match id_foyer {
            Some(id) => self.coupe.piece(id).map_or(Destination::Ailleurs, Destination::Piece),
            None => Destination::Inconnue,
        }
    }

    fn records_persons(&self) -> bool {
        self.personnes.is_some()
    }

    /// The index sized once for every row of `personnes`: grown by doubling, each growth
    /// rehashed the whole index (at 33 million persons, the old table of 0.8 GB and the
    /// new of 1.6 GB held at once while reading).
    fn expect_rows(&mut self, rows: usize) {
        if let Some(index) = self.personnes.as_deref_mut() {
            index.index.reserve(rows.saturating_sub(index.index.len()));
        }
    }

    fn record_person(&mut self, id_personne: &str, _: &str, destination: Destination, accepted: bool) {
        let Some(index) = self.personnes.as_deref_mut() else { return };
        let piece = match destination {
            Destination::Piece(k) => k as u32,
            Destination::Ailleurs => AILLEURS,
            Destination::Inconnue => return,
        };
        let p = index.index.entry(empreinte(id_personne)).or_insert(Personne { acceptes: 0, piece });
        if accepted {
            p.acceptes += 1;
            p.piece = piece;
        } else if p.acceptes == 0 {
            p.piece = piece;
        }
    }

    fn sans_foyer(&self) -> Option<usize> {
        self.coupe.sans_foyer()
    }

    fn pieces(&self) -> usize {
        self.coupe.count()
    }
}

/// Rows of `ressources`, by their person's foyer.
struct ParPersonne<'c> {
    coupe: &'c Coupe,
    personnes: &'c Personnes,
    /// The last person looked up and where it went: a person's rows (some twenty) usually
    /// follow one another, and a lookup in the index of millions of persons is a cache
    /// miss.
    derniere: std::cell::Cell<Option<(Empreinte, Destination)>>,
}

impl Route for ParPersonne<'_> {
    fn destination(&self, _: Option<&str>, id_personne: Option<&str>) -> Destination {
        let Some(id) = id_personne else { return Destination::Inconnue };
        let key = empreinte(id);
        if let Some((last, destination)) = self.derniere.get()
            && last == key
        {
            return destination;
        }
        let destination = self
            .personnes
            .piece_of(&key)
            .unwrap_or_else(|| self.coupe.sans_foyer().map_or(Destination::Ailleurs, Destination::Piece));
        self.derniere.set(Some((key, destination)));
        destination
    }

    fn sans_foyer(&self) -> Option<usize> {
        self.coupe.sans_foyer()
    }

    fn pieces(&self) -> usize {
        self.coupe.count()
    }
}

/// Bytes of spill write buffers held by all the readers of a table at once, at most,
/// whatever the piece count (each buffer is between [`TAMPON_MIN`] and [`TAMPON_MAX`]).
const TAMPONS: usize = 64 << 20;
const TAMPON_MIN: usize = 8 << 10;
const TAMPON_MAX: usize = 1 << 20;

/// Spill files of one reader of a table: `<dir>/<table>-<piece>-<part>.spill`, one frame
/// per hand-on (`part`: which of the readers of the same file at once, in file order),
/// in the format of extract::spill.
struct Spill {
    dir: PathBuf,
    part: usize,
    /// Each piece's write buffer, in bytes: a buffer is held per piece written to, so
    /// a run of many pieces (a small `--memoire-max`) has smaller ones.
    tampon: usize,
    writers: BTreeMap<usize, (PathBuf, std::io::BufWriter<std::fs::File>)>,
}

impl Spill {
    /// The spill of reader `part`, one of `readers` writing `pieces` pieces at once.
    fn new(dir: &Path, part: usize, pieces: usize, readers: usize) -> Spill {
        let tampon = (TAMPONS / (pieces * readers).max(1)).clamp(TAMPON_MIN, TAMPON_MAX);
        Spill { dir: dir.to_path_buf(), part, tampon, writers: BTreeMap::new() }
    }

    fn path(dir: &Path, table: Table, piece: usize, part: usize) -> PathBuf {
        dir.join(format!("{}-{piece}-{part}.spill", table.name()))
    }

    fn finish(self) -> Result<(), ExtractError> {
        for (_, (path, w)) in self.writers {
            w.into_inner()
                .map_err(|e| ExtractError::Io { file: path.display().to_string(), source: e.into_error() })?;
        }
        Ok(())
    }
}

impl Deversoir for Spill {
    fn write(&mut self, table: Table, piece: usize, df: DataFrame) -> Result<(), ExtractError> {
        use std::collections::btree_map::Entry;
        let (path, writer) = match self.writers.entry(piece) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let path = Spill::path(&self.dir, table, piece, self.part);
                let io = |e| ExtractError::Io { file: path.display().to_string(), source: e };
                let mut writer =
                    std::io::BufWriter::with_capacity(self.tampon, std::fs::File::create(&path).map_err(io)?);
                spill::write_header(&mut writer).map_err(io)?;
                e.insert((path, writer))
            }
        };
        spill::write_frame(writer, &df).map_err(|e| ExtractError::Io { file: path.display().to_string(), source: e })
    }
}

/// The sorted, distinct `id_foyer` of the extract's `foyers` file (trimmed, non-empty):
/// what the cut is computed from, the same in every process of a partitioned run.
pub fn foyer_ids(dir: &Path) -> Result<Vec<String>, ExtractError> {
    let Some((path, format)) = locate(dir, Table::Foyers)? else { return Ok(Vec::new()) };
    let mut ids = Vec::new();
    let mut keep = |v: Option<&str>| {
        if let Some(id) = v.map(str::trim).filter(|s| !s.is_empty()) {
            ids.push(id.to_string());
        }
    };
    if format == "csv" {
        reader::csv_column(&path, Table::Foyers, "id_foyer", &mut keep)?;
    } else {
        let file = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| ExtractError::Io { file: file.clone(), source: e })?;
        reader::parquet_column(&bytes, &file, "id_foyer", &mut keep)?;
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Where a table's rows of one piece are.
enum Rows {
    Memoire(Vec<DataFrame>),
    /// Spill files, in file order (none: no row for the piece).
    Fichiers(Vec<PathBuf>),
}

/// An extract read and dealt to pieces: [`Chargement::piece`] loads and validates each.
pub struct Chargement {
    pieces: usize,
    /// Per table, per piece.
    rows: BTreeMap<Table, Vec<Rows>>,
    acceptes: BTreeMap<Table, Vec<u64>>,
    /// The refused rows of each piece.
    refus: Vec<Vec<Refus>>,
    doublons: Doublons,
    pub fichiers: Vec<InputFile>,
    /// The spill folder, removed when the loading is dropped.
    spill: Option<PathBuf>,
}

impl Drop for Chargement {
    fn drop(&mut self) {
        if let Some(dir) = &self.spill {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Reads the tables `only` of the extract in `dir`, every row seen by the privacy
/// guard, each kept row dealt to its piece of `coupe`; with more than one piece, rows
/// are spilled under `spill` (a folder created here and removed with the result).
pub fn route(
    dir: &Path,
    only: &[Table],
    autorisees: &[ColonneAutorisee],
    coupe: &Coupe,
    spill: &Path,
) -> Result<Chargement, ExtractError> {
    route_beside(dir, only, autorisees, coupe, spill, 1)
}

/// [`route`], while `readings` extracts in all are read at once (this month's and last
/// month's): they share the memory of the buffers one reading has.
pub fn route_beside(
    dir: &Path,
    only: &[Table],
    autorisees: &[ColonneAutorisee],
    coupe: &Coupe,
    spill: &Path,
    readings: usize,
) -> Result<Chargement, ExtractError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    route_with(dir, only, autorisees, coupe, spill, Lecture { readers: cores, readings })
}

/// How a table is read: `ressources` by `readers` readers at once (when it can be cut),
/// while `readings` extracts in all are read at once.
#[derive(Clone, Copy)]
struct Lecture {
    readers: usize,
    readings: usize,
}

fn route_with(
    dir: &Path,
    only: &[Table],
    autorisees: &[ColonneAutorisee],
    coupe: &Coupe,
    spill: &Path,
    lecture: Lecture,
) -> Result<Chargement, ExtractError> {
    let pieces = coupe.count();
    let spill_dir = (pieces > 1).then(|| spill.to_path_buf());
    if let Some(d) = &spill_dir {
        std::fs::create_dir_all(d).map_err(|e| ExtractError::Io { file: d.display().to_string(), source: e })?;
    }
    let mut chargement = Chargement {
        pieces,
        rows: BTreeMap::new(),
        acceptes: BTreeMap::new(),
        refus: vec![Vec::new(); pieces],
        doublons: Doublons::default(),
        fichiers: Vec::new(),
        spill: spill_dir.clone(),
    };
    let mut located = BTreeMap::new();
    for table in only.iter().copied() {
        if let Some(found) = locate(dir, table)? {
            located.insert(table, found);
        }
    }
    let mut personnes = Personnes::default();
    let mut refus = Vec::new();
    // Two stages: `ressources` is routed by the persons `personnes` records.
    let first = [Table::Foyers, Table::Personnes];
    // `bailleurs` has no `id_foyer`, nor has a contact with a landlord: their rows go
    // where the rows of no known foyer go (`Coupe::sans_foyer`), one piece of one process.
    let second = [Table::Ressources, Table::Droits, Table::Evenements, Table::Contacts, Table::Bailleurs];
    for stage in [&first[..], &second[..]] {
        let results = {
            let index = &mut personnes;
            read_stage(stage, &located, autorisees, coupe, spill_dir.as_deref(), index, lecture)
        };
        for r in results {
            let (table, file, lue, parts) = r?;
            refus.extend(lue.refus);
            chargement.acceptes.insert(table, lue.acceptes);
            let rows = match &spill_dir {
                None => {
                    let mut frames = lue.frames;
                    frames.resize_with(pieces, Vec::new);
                    frames.into_iter().map(Rows::Memoire).collect()
                }
                Some(d) => (0..pieces)
                    .map(|k| {
                        let parts = (0..parts).map(|part| Spill::path(d, table, k, part));
                        Rows::Fichiers(parts.filter(|p| p.is_file()).collect())
                    })
                    .collect(),
            };
            chargement.rows.insert(table, rows);
            chargement.fichiers.push(file);
        }
    }
    // The order of `refus` is the order of the reading (table after table, rows in file
    // order), as validation expects.
    refus.sort_by_key(|r| r.table);
    for r in refus {
        let piece = match (&r.id_foyer, &r.id_personne) {
            (Some(f), _) => coupe.piece(f),
            (None, Some(p)) => match personnes.piece(p) {
                Some(Destination::Piece(k)) => Some(k),
                Some(_) => None,
                None => coupe.sans_foyer(),
            },
            (None, None) => coupe.sans_foyer(),
        };
        if let Some(k) = piece {
            chargement.refus[k].push(r);
        }
    }
    chargement.doublons = personnes.doublons();
    Ok(chargement)
}

/// How the rows of `table` are dealt: by foyer (recording each person into `records`
/// when given: `personnes`), `ressources` by the foyer of its person in `shared`.
fn route_of<'c>(
    coupe: &'c Coupe,
    table: Table,
    records: Option<&'c mut Personnes>,
    shared: Option<&'c Personnes>,
) -> Box<dyn Route + Send + 'c> {
    match (records, table, shared) {
        (Some(index), _, _) => Box::new(ParFoyer { coupe, personnes: Some(index) }),
        (None, Table::Ressources, Some(p)) => {
            Box::new(ParPersonne { coupe, personnes: p, derniere: std::cell::Cell::new(None) })
        }
        _ => Box::new(ParFoyer { coupe, personnes: None }),
    }
}

/// A table read: its file, its rows, and how many readers read it at once.
type Read = (Table, InputFile, reader::TableLue, usize);

/// Reads the tables of one stage, in parallel (reading is ours, not Polars', so this
/// does not oversubscribe its thread pool).
fn read_stage(
    stage: &[Table],
    located: &BTreeMap<Table, (PathBuf, &'static str)>,
    autorisees: &[ColonneAutorisee],
    coupe: &Coupe,
    spill: Option<&Path>,
    personnes: &mut Personnes,
    lecture: Lecture,
) -> Vec<Result<Read, ExtractError>> {
    // `personnes` records into the index; `ressources` (next stage) reads it.
    let (mut index, shared): (Option<&mut Personnes>, Option<&Personnes>) =
        if stage.contains(&Table::Personnes) { (Some(personnes), None) } else { (None, Some(&*personnes)) };
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for table in stage.iter().copied() {
            let Some((path, format)) = located.get(&table) else { continue };
            let mut records = if table == Table::Personnes { index.take() } else { None };
            handles.push(s.spawn(move || -> Result<Read, ExtractError> {
                let file = path.display().to_string();
                let route = || route_of(coupe, table, None, shared);
                let in_parts = if table == Table::Ressources {
                    read_ressources_in_parts(path, format, autorisees, spill, &route, lecture)?
                } else {
                    None
                };
                let (lue, sha256, parts) = if let Some(read) = in_parts {
                    read
                } else {
                    let mut spill = spill.map(|dir| Spill::new(dir, 0, coupe.count(), lecture.readings));
                    let mut puits = Some(match spill.as_mut() {
                        Some(d) => Puits::Deversoir(d),
                        None => Puits::Memoire(Vec::new()),
                    });
                    let mut make = |header: &[String]| {
                        let puits = puits.take().unwrap_or(Puits::Memoire(Vec::new()));
                        let aiguillage = Aiguillage::Route(route_of(coupe, table, records.take(), shared));
                        TableBuilder::routed(table, &file, header, autorisees, aiguillage, puits)
                            .map(|b| b.sharing_buffers_with(lecture.readings))
                    };
                    let (builder, sha256) = if *format == "csv" {
                        reader::read_csv(path, table, &mut make)?
                    } else {
                        reader::read_parquet(path, &mut make)?
                    };
                    let lue = builder.finish_routed()?;
                    if let Some(d) = spill {
                        d.finish()?;
                    }
                    (lue, sha256, 1)
                };
                let input = InputFile {
                    table: table.name(),
                    path: file,
                    format,
                    sha256,
                    colonnes_utilisees: lue.colonnes_utilisees.clone(),
                    colonnes_ignorees: lue.colonnes_ignorees.clone(),
                };
                Ok((table, input, lue, parts))
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ExtractError::Internal("a table reader panicked".into()))))
            .collect()
    })
}

/// Reads `ressources` (some twenty rows a foyer, read alone once `personnes` has built
/// the index that routes it, which left a core idle) by `readers` readers at once (as
/// many as cores), each a consecutive part of the file: Parquet row groups, or CSV
/// lines when no field is quoted. Returns the rows, the file's SHA-256 and the number
/// of readers (spill files per piece); None when a CSV file cannot be cut (it has a
/// quote, or is small): one reader reads it.
fn read_ressources_in_parts<'c>(
    path: &Path,
    format: &str,
    autorisees: &[ColonneAutorisee],
    spill: Option<&Path>,
    route: &(dyn Fn() -> Box<dyn Route + Send + 'c> + Sync),
    lecture: Lecture,
) -> Result<Option<(reader::TableLue, String, usize)>, ExtractError> {
    let (readers, readings) = (lecture.readers, lecture.readings);
    let table = Table::Ressources;
    let file = path.display().to_string();
    if format == "csv" {
        let Some(cut) = reader::CsvParts::cut(path, table, readers)? else { return Ok(None) };
        let header = reader::csv_file_header(path, table)?;
        let parts = cut.starts.len();
        // The file is hashed by a reader of its own, beside the parts' readers.
        let (lue, sha256) = std::thread::scope(|s| {
            let hash = s.spawn(|| reader::sha256_of(path));
            let read_part = |i: usize, b: &mut TableBuilder<'_>| reader::read_csv_part(path, table, &cut, i, b);
            let lue = read_in_parts(table, &file, &header, (parts, readings), autorisees, spill, route, &read_part);
            let sha256 = hash.join().unwrap_or_else(|_| Err(ExtractError::Internal("the hash panicked".into())));
            (lue, sha256)
        });
        return Ok(Some((lue?, sha256?, parts)));
    }
    // Parquet: as many readers as row groups at most, one for a file of one group (the
    // file is read here once either way).
    let bytes = std::fs::read(path).map_err(|e| ExtractError::Io { file: file.clone(), source: e })?;
    let (header, groups) = reader::parquet_parts(&bytes, &file)?;
    let readers = readers.clamp(1, groups.len().max(1));
    // Consecutive row groups of about equal rows for each reader.
    let total: usize = groups.iter().map(|g| g.1).sum();
    let mut shares: Vec<Vec<reader::RowRange>> = vec![Vec::new(); readers];
    for g in &groups {
        let share = (g.0 * readers).checked_div(total).unwrap_or(0).min(readers - 1);
        shares[share].push(*g);
    }
    let read_part = |i: usize, b: &mut TableBuilder<'_>| reader::read_parquet_groups(&bytes, &file, &shares[i], b);
    let lue = read_in_parts(table, &file, &header, (readers, readings), autorisees, spill, route, &read_part)?;
    Ok(Some((lue, reader::hex(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&bytes)), readers)))
}

/// Reads the `parts` parts of a table file at once, each by `read_part` into a builder
/// of its own (its own buffers, its own spill files: the buffers of one reader shared by
/// all, and by the `readings` extracts read at once), and puts what they read back in
/// file order. Their privacy guards are merged before the shapes weighed against chance
/// are weighed, and the first error in file order is returned: the result is the one
/// reader's (tested below).
#[allow(clippy::too_many_arguments)]
fn read_in_parts<'c>(
    table: Table,
    file: &str,
    header: &[String],
    (parts, readings): (usize, usize),
    autorisees: &[ColonneAutorisee],
    spill: Option<&Path>,
    route: &(dyn Fn() -> Box<dyn Route + Send + 'c> + Sync),
    read_part: &(dyn Fn(usize, &mut TableBuilder<'_>) -> Result<(), ExtractError> + Sync),
) -> Result<reader::TableLue, ExtractError> {
    let results: Vec<Result<(reader::TableLue, Guard), ExtractError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..parts)
            .map(|part| {
                s.spawn(move || {
                    let mut spill = spill.map(|dir| Spill::new(dir, part, route().pieces(), parts * readings));
                    let lue = {
                        let puits = match spill.as_mut() {
                            Some(d) => Puits::Deversoir(d),
                            None => Puits::Memoire(Vec::new()),
                        };
                        let mut builder =
                            TableBuilder::routed(table, file, header, autorisees, Aiguillage::Route(route()), puits)?
                                .sharing_buffers_with(parts * readings);
                        read_part(part, &mut builder)?;
                        builder.finish_part()?
                    };
                    if let Some(d) = spill {
                        d.finish()?;
                    }
                    Ok(lue)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ExtractError::Internal("a table reader panicked".into()))))
            .collect()
    });
    let mut whole: Option<(reader::TableLue, Guard)> = None;
    for result in results {
        let (lue, guard) = result?;
        match whole.as_mut() {
            None => whole = Some((lue, guard)),
            Some((all, all_guard)) => {
                all.append(lue);
                all_guard.merge(guard);
            }
        }
    }
    let Some((lue, guard)) = whole else { return Err(ExtractError::Internal("no reader".into())) };
    match guard.finish() {
        Some(v) => Err(ExtractError::Privacy(v)),
        None => Ok(lue),
    }
}

impl Chargement {
    /// How many pieces.
    pub fn pieces(&self) -> usize {
        self.pieces
    }

    /// Rows refused while reading (cell by cell), over every piece not yet loaded.
    pub fn refus_lus(&self) -> usize {
        self.refus.iter().map(Vec::len).sum()
    }

    /// Piece `k` as read, before validation: its rows (taken: a piece is loaded once),
    /// refusals and counts.
    fn take(&mut self, k: usize) -> Result<(Lu, Doublons), ExtractError> {
        let mut tables = BTreeMap::new();
        let mut read = BTreeMap::new();
        let refus = std::mem::take(&mut self.refus[k]);
        for table in Table::ALL {
            let frames = match self
                .rows
                .get_mut(&table)
                .map(|rows| std::mem::replace(&mut rows[k], Rows::Memoire(Vec::new())))
            {
                Some(Rows::Memoire(frames)) => frames,
                Some(Rows::Fichiers(paths)) => {
                    let mut frames = Vec::with_capacity(paths.len());
                    for path in paths {
                        frames.extend(spill::read_frames(&path)?);
                        let _ = std::fs::remove_file(&path);
                    }
                    frames
                }
                None => Vec::new(),
            };
            tables.insert(table, reader::stack(table, frames)?);
            let lines: BTreeSet<u64> = refus.iter().filter(|r| r.table == table).map(|r| r.ligne).collect();
            let acceptes = self.acceptes.get(&table).and_then(|a| a.get(k)).copied().unwrap_or(0);
            read.insert(table, acceptes + lines.len() as u64);
        }
        let lu = Lu { tables, refus, read, fichiers: self.fichiers.clone() };
        Ok((lu, self.doublons.clone()))
    }
}

/// Piece `k` of `chargement`, validated for the month `mois`.
pub fn piece(
    chargement: &mut Chargement,
    k: usize,
    mois: reperage_rules::Mois,
) -> Result<super::Extract, ExtractError> {
    let (lu, doublons) = chargement.take(k)?;
    super::validate::validate(lu.tables, lu.refus, lu.read, lu.fichiers, mois, &doublons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Extract;

    /// The spill's write buffers of a table, all readers and pieces together, stay
    /// within [`TAMPONS`] whatever the piece count (up to the count where each is the
    /// smallest buffer), and a run of few pieces keeps the largest ones.
    #[test]
    fn spill_buffers_are_bounded_whatever_the_piece_count() {
        let dir = Path::new("/nonexistent");
        for readers in [1, 2, 4, 8] {
            for pieces in [1, 3, 20, 280, 1_400, 8_000] {
                let tampon = Spill::new(dir, 0, pieces, readers).tampon;
                let total = tampon * pieces * readers;
                assert!(total <= TAMPONS || tampon == TAMPON_MIN, "{pieces} pieces, {readers} readers: {total} bytes");
                assert!((TAMPON_MIN..=TAMPON_MAX).contains(&tampon));
            }
        }
        assert_eq!(Spill::new(dir, 0, 20, 2).tampon, TAMPON_MAX);
        assert!(Spill::new(dir, 0, 1_400, 2).tampon * 1_400 * 2 <= TAMPONS);
    }

    /// Every table of the CSV extract in `dir` rewritten as Parquet, every column as
    /// text, in row groups of `rows` rows.
    fn to_parquet(dir: &Path, rows: usize) {
        for table in Table::ALL {
            let csv = dir.join(format!("{}.csv", table.name()));
            if !csv.is_file() {
                continue;
            }
            let mut df = CsvReadOptions::default()
                .with_infer_schema_length(Some(0))
                .map_parse_options(|o| o.with_separator(b';'))
                .try_into_reader_with_file_path(Some(csv.clone()))
                .and_then(|r| r.finish())
                .expect("csv");
            let file = std::fs::File::create(dir.join(format!("{}.parquet", table.name()))).expect("create");
            ParquetWriter::new(file).with_row_group_size(Some(rows)).finish(&mut df).expect("parquet");
            std::fs::remove_file(csv).expect("remove");
        }
    }

    fn with_lines(path: &Path, lines: &[&str], at: &[usize]) {
        let text = std::fs::read_to_string(path).expect("read");
        let mut all: Vec<String> = text.lines().map(str::to_string).collect();
        for (line, &i) in lines.iter().zip(at) {
            all.insert(i.min(all.len()), line.to_string());
        }
        std::fs::write(path, all.join("\n") + "\n").expect("write");
    }

    /// Every piece of the extract in `dir`, cut in 3 pieces, `ressources` read by
    /// `readers` readers.
    fn pieces(dir: &Path, readers: usize) -> Result<Vec<Extract>, ExtractError> {
        let ids = foyer_ids(dir)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let coupe = Coupe::new(&ids, 1, 0, 3);
        let spill = tempfile::tempdir().expect("tmp");
        let lecture = Lecture { readers, readings: 1 };
        let mut chargement = route_with(dir, &Table::ALL, &[], &coupe, &spill.path().join("s"), lecture)?;
        let mois = reperage_rules::Mois::parse("2025-03").expect("mois");
        (0..chargement.pieces()).map(|k| piece(&mut chargement, k, mois)).collect()
    }

    /// The index of persons is sized once for the rows a footer declares, so that
    /// recording them never grows it (a growth holds the old table and the new at once).
    #[test]
    fn the_index_of_persons_is_sized_for_the_rows_announced() {
        let ids = ["F1", "F2", "F3"];
        let coupe = Coupe::new(&ids, 1, 0, 2);
        let mut personnes = Personnes::default();
        let mut route = ParFoyer { coupe: &coupe, personnes: Some(&mut personnes) };
        route.expect_rows(10_000);
        let index = &route.personnes.as_ref().expect("index").index;
        let capacity = index.capacity();
        assert!(capacity >= 10_000, "capacity {capacity}");
        for i in 0..10_000 {
            route.record_person(&format!("P{i}"), "F1", Destination::Piece(0), true);
        }
        let index = &route.personnes.as_ref().expect("index").index;
        assert_eq!(index.len(), 10_000);
        assert_eq!(index.capacity(), capacity, "the index grew while recording");
    }

    /// `ressources` read by 1 and by 3 readers at once, CSV (cut at line ends) and
    /// Parquet (12 row groups), with refused rows in several parts (an unknown person, an
    /// amount that is not one, a missing month): the same rows in every piece, in the
    /// same order, the same refusals at the same lines.
    fn read_in_parts_as_one_reader(format: &str) {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("extrait");
        let mois = reperage_rules::Mois::parse("2025-03").expect("mois");
        // Enough foyers for a CSV file worth cutting (CsvParts::MIN_LEN).
        crate::generate::generate(1500, mois, 3, &dir, None, false).expect("generate");
        let ressources = dir.join("ressources.csv");
        let text = std::fs::read_to_string(&ressources).expect("read");
        let (header, first) = (text.lines().next().expect("header"), text.lines().nth(1).expect("row"));
        let with = |field: &str, value: &str| {
            let i = header.split(';').position(|h| h == field).expect("field");
            first.split(';').enumerate().map(|(j, v)| if j == i { value } else { v }).collect::<Vec<_>>().join(";")
        };
        let (orphan, not_an_amount, no_month) =
            (with("id_personne", "P-INCONNUE"), with("montant", "douze"), with("mois", ""));
        let n = text.lines().count();
        with_lines(&ressources, &[&orphan, &not_an_amount, &no_month], &[5, n / 2, n - 3]);
        // The line of the amount that is not one: a CSV line (the header is line 1), or
        // a Parquet row.
        let douze = if format == "csv" {
            let cut = reader::CsvParts::cut(&ressources, Table::Ressources, 3).expect("cut");
            assert_eq!(cut.map(|c| c.starts.len()), Some(3), "the file is read in 3 parts");
            n / 2 + 1
        } else {
            to_parquet(&dir, n / 12);
            n / 2
        };

        let one = pieces(&dir, 1).expect("one reader");
        let three = pieces(&dir, 3).expect("three readers");
        assert_eq!(one.len(), 3);
        let mut refused: Vec<&Refus> = Vec::new();
        for (k, (a, b)) in one.iter().zip(&three).enumerate() {
            for table in Table::ALL {
                assert!(a.table(table).equals_missing(b.table(table)), "{format}: piece {k}, {}", table.name());
            }
            assert_eq!(a.refus, b.refus, "{format}: piece {k}");
            assert_eq!(format!("{:?}", a.foyers_quarantaine), format!("{:?}", b.foyers_quarantaine), "piece {k}");
            assert_eq!(format!("{:?}", a.comptes), format!("{:?}", b.comptes), "{format}: piece {k}");
            refused.extend(a.refus.iter().filter(|r| r.table == Table::Ressources));
        }
        // The three spoilt rows are refused (and with them, their foyers' other rows).
        assert!(refused.iter().any(|r| r.id_personne.as_deref() == Some("P-INCONNUE")), "{refused:?}");
        assert!(refused.iter().any(|r| r.valeur == "douze" && r.ligne == douze as u64), "{refused:?}");
        assert!(refused.iter().any(|r| r.colonne == "mois" && r.valeur.is_empty()), "{refused:?}");
        assert!(one.iter().map(|e| e.table(Table::Ressources).height()).sum::<usize>() > n / 2);
    }

    #[test]
    fn ressources_read_in_parts_are_the_rows_one_reader_reads_csv() {
        read_in_parts_as_one_reader("csv");
    }

    #[test]
    fn ressources_read_in_parts_are_the_rows_one_reader_reads_parquet() {
        read_in_parts_as_one_reader("parquet");
    }

    /// A CSV file with a quote anywhere is read by one reader: a quoted field may hold
    /// a line end, where a part would wrongly start.
    #[test]
    fn a_csv_file_with_quotes_is_not_cut() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("ressources.csv");
        let row = "P1;2025-01;salaire;1000;1200\n";
        let body = row.repeat(40_000);
        std::fs::write(&path, format!("id_personne;mois;nature;montant;montant_brut\n{body}")).expect("write");
        assert!(reader::CsvParts::cut(&path, Table::Ressources, 2).expect("cut").is_some());
        std::fs::write(
            &path,
            format!("id_personne;mois;nature;montant;montant_brut\n{body}\"P2\";2025-01;salaire;1;1\n"),
        )
        .expect("write");
        assert!(reader::CsvParts::cut(&path, Table::Ressources, 2).expect("cut").is_none());
    }

    /// The privacy guard of a table read in parts: a certain identifier in a later part
    /// is refused at its line, and a shape weighed against chance is weighed over the
    /// whole file (each of the three parts alone has too few to refuse it).
    #[test]
    fn the_privacy_guard_sees_a_table_read_in_parts_whole() {
        let tmp = tempfile::tempdir().expect("tmp");
        let mois = reperage_rules::Mois::parse("2025-03").expect("mois");
        let cases = [
            ("nir", "185057800608491", crate::extract::privacy::Kind::Nir),
            ("nir13", "", crate::extract::privacy::Kind::NirSansCle),
        ];
        for ((name, value, kind), format) in cases.iter().flat_map(|c| [(c, "csv"), (c, "parquet")]) {
            let (name, value, kind) = (*name, *value, *kind);
            let dir = tmp.path().join(format!("{name}-{format}"));
            crate::generate::generate(1500, mois, 3, &dir, None, false).expect("generate");
            let ressources = dir.join("ressources.csv");
            let text = std::fs::read_to_string(&ressources).expect("read");
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let header = lines[0].clone();
            lines[0] = format!("{header};note");
            let n = lines.len();
            for (i, line) in lines.iter_mut().enumerate().skip(1) {
                let note = if !value.is_empty() {
                    if i == n - 2 { value.to_string() } else { String::new() }
                } else if i % (n / 40) == 0 {
                    // About 40 13-digit numbers shaped like a NIR, and nothing else: 31
                    // are enough to refuse the column, a third of the file has fewer.
                    format!("1850578006{:03}", i % 1000)
                } else {
                    String::new()
                };
                line.push(';');
                line.push_str(&note);
            }
            std::fs::write(&ressources, lines.join("\n") + "\n").expect("write");
            // Line n-2 of the text (0 the header) is CSV line n-1, Parquet row n-2.
            let line = if format == "csv" {
                (n - 1) as u64
            } else {
                to_parquet(&dir, n / 12);
                (n - 2) as u64
            };
            for readers in [1, 3] {
                match pieces(&dir, readers) {
                    Err(ExtractError::Privacy(v)) => {
                        assert_eq!(v.kind, kind, "{name} {format}, {readers} readers");
                        if !value.is_empty() {
                            assert_eq!(v.ligne, line, "{name} {format}, {readers} readers");
                        }
                    }
                    Err(other) => panic!("{name} {format}, {readers} readers: {other}"),
                    Ok(_) => panic!("{name} {format}, {readers} readers: not refused"),
                }
            }
        }
    }
}
