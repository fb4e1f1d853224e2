//! Reading an extract piece by piece: every table is read once, each row dealt to the
//! piece of its foyer (crate::partitions) as it is read, and the pieces are then loaded
//! and validated one at a time, so that the memory a run holds is set by the size of a
//! piece, not by the extract.
//!
//! ```text
//! foyers.id_foyer ─► the cut (crate::partitions::Coupe)
//! foyers ∥ personnes ─► rows dealt by id_foyer; each person recorded (index below)
//! ressources ∥ droits ∥ evenements ∥ contacts ─► ressources by their person's foyer,
//!                                               the others by id_foyer
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

use super::reader::{self, Aiguillage, Destination, Puits, TableBuilder};
use super::schema::Table;
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
pub fn empreinte(id: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
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
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

type ParEmpreinte<V> = HashMap<u128, V, BuildHasherDefault<Deja>>;

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
        self.index.get(&empreinte(id_personne)).map(|p| match p.piece {
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
}

impl Route for ParPersonne<'_> {
    fn destination(&self, _: Option<&str>, id_personne: Option<&str>) -> Destination {
        match id_personne {
            Some(id) => self
                .personnes
                .piece(id)
                .unwrap_or_else(|| self.coupe.sans_foyer().map_or(Destination::Ailleurs, Destination::Piece)),
            None => Destination::Inconnue,
        }
    }

    fn sans_foyer(&self) -> Option<usize> {
        self.coupe.sans_foyer()
    }

    fn pieces(&self) -> usize {
        self.coupe.count()
    }
}

/// Spill files of one table: `<dir>/<table>-<piece>.parquet`, one row group per frame.
struct Spill {
    dir: PathBuf,
    writers: BTreeMap<usize, polars::io::parquet::write::BatchedWriter<std::fs::File>>,
}

impl Spill {
    fn path(dir: &Path, table: Table, piece: usize) -> PathBuf {
        dir.join(format!("{}-{piece}.parquet", table.name()))
    }

    fn finish(self) -> Result<(), ExtractError> {
        for (_, w) in self.writers {
            w.finish()?;
        }
        Ok(())
    }
}

impl Deversoir for Spill {
    fn write(&mut self, table: Table, piece: usize, mut df: DataFrame) -> Result<(), ExtractError> {
        if !self.writers.contains_key(&piece) {
            let path = Spill::path(&self.dir, table, piece);
            let file = std::fs::File::create(&path)
                .map_err(|e| ExtractError::Io { file: path.display().to_string(), source: e })?;
            let writer = ParquetWriter::new(file).with_compression(ParquetCompression::Lz4Raw).batched(df.schema())?;
            self.writers.insert(piece, writer);
        }
        df.rechunk_mut_par();
        if let Some(w) = self.writers.get_mut(&piece) {
            w.write_batch(&df)?;
        }
        Ok(())
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
    /// A spill file (`None`: no row for the piece).
    Fichier(Option<PathBuf>),
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
    let second = [Table::Ressources, Table::Droits, Table::Evenements, Table::Contacts];
    for stage in [&first[..], &second[..]] {
        let results = {
            let index = &mut personnes;
            read_stage(stage, &located, autorisees, coupe, spill_dir.as_deref(), index)
        };
        for r in results {
            let (table, file, lue) = r?;
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
                        let p = Spill::path(d, table, k);
                        Rows::Fichier(p.is_file().then_some(p))
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

type Read = (Table, InputFile, reader::TableLue);

/// Reads the tables of one stage, in parallel (reading is ours, not Polars', so this
/// does not oversubscribe its thread pool).
fn read_stage(
    stage: &[Table],
    located: &BTreeMap<Table, (PathBuf, &'static str)>,
    autorisees: &[ColonneAutorisee],
    coupe: &Coupe,
    spill: Option<&Path>,
    personnes: &mut Personnes,
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
                let mut spill = spill.map(|dir| Spill { dir: dir.to_path_buf(), writers: BTreeMap::new() });
                let file = path.display().to_string();
                let lue = {
                    let mut puits = Some(match spill.as_mut() {
                        Some(d) => Puits::Deversoir(d),
                        None => Puits::Memoire(Vec::new()),
                    });
                    let mut make = |header: &[String]| {
                        let route: Box<dyn Route + Send + '_> = match (records.take(), table, shared) {
                            (Some(index), _, _) => Box::new(ParFoyer { coupe, personnes: Some(index) }),
                            (None, Table::Ressources, Some(p)) => Box::new(ParPersonne { coupe, personnes: p }),
                            _ => Box::new(ParFoyer { coupe, personnes: None }),
                        };
                        let puits = puits.take().unwrap_or(Puits::Memoire(Vec::new()));
                        TableBuilder::routed(table, &file, header, autorisees, Aiguillage::Route(route), puits)
                    };
                    let (builder, sha256) = if *format == "csv" {
                        reader::read_csv(path, table, &mut make)?
                    } else {
                        reader::read_parquet(path, &mut make)?
                    };
                    (builder.finish_routed()?, sha256)
                };
                if let Some(d) = spill {
                    d.finish()?;
                }
                let (lue, sha256) = lue;
                let input = InputFile {
                    table: table.name(),
                    path: file,
                    format,
                    sha256,
                    colonnes_utilisees: lue.colonnes_utilisees.clone(),
                    colonnes_ignorees: lue.colonnes_ignorees.clone(),
                };
                Ok((table, input, lue))
            }));
        }
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ExtractError::Internal("a table reader panicked".into()))))
            .collect()
    })
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
                Some(Rows::Fichier(Some(path))) => {
                    let file = std::fs::File::open(&path)
                        .map_err(|e| ExtractError::Io { file: path.display().to_string(), source: e })?;
                    let df = ParquetReader::new(file).finish()?;
                    let _ = std::fs::remove_file(&path);
                    vec![df]
                }
                Some(Rows::Fichier(None)) | None => Vec::new(),
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
