//! The format of the spill files a run writes and reads back itself (extract::routage):
//! each column's values as they lie in memory, without encoding or compression.
//!
//! Spill files were Parquet: the reading phase then spent a seventh of the run's CPU
//! encoding rows it had just decoded (a dictionary tried on every text column, pages,
//! LZ4), and the loading thread decoded them again (docs/performance.md, ninth step).
//! A spill file lives for one run, on this machine, read by the binary that wrote it:
//! it needs no schema evolution, no statistics, no portability, only the columns'
//! types the extract's tables have. The price is room on disk: some 3.5 times the
//! Parquet spill (1.2 GB against 0.35 GB at its peak for a million foyers with last
//! month's extract).
//!
//! ```text
//! file   := MAGIC frame*
//! frame  := height:u64 columns:u32 column*
//! column := name_len:u16 name type:u8 body
//! body   := nulls:u8 [validity] values            (numbers, dates, booleans)
//!         | runs:u64 [runs × u32, when runs < height] nulls:u8 [validity] text   (text)
//! values := f64: 8 bytes each · i32 / date (days): 4 bytes each · bool: 1 byte each
//!         | u64: base:u64 width:u8, then each value less the base in `width` bytes (4 or 8)
//! text   := bytes:u64, a length:u32 per value, then the bytes of every value in turn
//! validity := ⌈n/8⌉ bytes, bit i for value i (rows, or runs for text)
//! ```
//! Integers little-endian; a null's slot holds whatever the column held there (text:
//! nothing), read back as null. A text column whose equal neighbours make at most half
//! as many runs as rows (a person's twenty resource rows) is written as its runs: each
//! run's length, then each run's value once. Line numbers (`_ligne`, u64) are written as
//! 4-byte offsets from the smallest of the frame (8-byte ones when further apart).

use std::io::Write;
use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::Utf8Array;
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::Offsets;

use super::ExtractError;

const MAGIC: &[u8; 16] = b"reperage-spill-2";

/// The column types a spill file holds: those of the extract's tables once typed
/// (reader::ColumnBuilder), and the line numbers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Type {
    Texte = 1,
    Float64 = 2,
    Int32 = 3,
    Date = 4,
    UInt64 = 5,
    Booleen = 6,
}

impl Type {
    fn of(dtype: &DataType) -> Option<Type> {
        Some(match dtype {
            DataType::String => Type::Texte,
            DataType::Float64 => Type::Float64,
            DataType::Int32 => Type::Int32,
            DataType::Date => Type::Date,
            DataType::UInt64 => Type::UInt64,
            DataType::Boolean => Type::Booleen,
            _ => return None,
        })
    }

    fn from_tag(tag: u8) -> Option<Type> {
        [Type::Texte, Type::Float64, Type::Int32, Type::Date, Type::UInt64, Type::Booleen]
            .into_iter()
            .find(|t| *t as u8 == tag)
    }
}

/// The start of every spill file.
pub fn write_header(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(MAGIC)
}

/// Appends `df` to a spill file. Fails on a column of a type no table has (as an
/// invalid input: a bug, not the extract's fault).
pub fn write_frame(out: &mut impl Write, df: &DataFrame) -> std::io::Result<()> {
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(&(df.height() as u64).to_le_bytes());
    bytes.extend_from_slice(&(df.width() as u32).to_le_bytes());
    for column in df.columns() {
        let series = column.as_materialized_series().rechunk();
        let Some(ty) = Type::of(series.dtype()) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("spill: column {} of type {} cannot be spilled", series.name(), series.dtype()),
            ));
        };
        let name = series.name().as_bytes();
        bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
        bytes.extend_from_slice(name);
        bytes.push(ty as u8);
        push_column(&mut bytes, &series, ty).map_err(std::io::Error::other)?;
        // Written column by column: a piece's buffer holds one column's bytes at most.
        out.write_all(&bytes)?;
        bytes.clear();
    }
    out.write_all(&bytes)
}

/// Bits packed eight to a byte, bit i of byte i / 8 for row i.
fn push_bits(bytes: &mut Vec<u8>, bits: impl Iterator<Item = bool>) {
    let mut byte = 0u8;
    let mut n = 0;
    for bit in bits {
        byte |= u8::from(bit) << (n % 8);
        n += 1;
        if n % 8 == 0 {
            bytes.push(byte);
            byte = 0;
        }
    }
    if n % 8 != 0 {
        bytes.push(byte);
    }
}

/// The nulls flag, and the validity when some value is null.
fn push_validity(bytes: &mut Vec<u8>, validity: Option<impl Iterator<Item = bool>>) {
    match validity {
        Some(bits) => {
            bytes.push(1);
            push_bits(bytes, bits);
        }
        None => bytes.push(0),
    }
}

/// A text column: its runs of equal values when they are at most half its rows, else
/// every value.
fn push_text(bytes: &mut Vec<u8>, ca: &StringChunked) {
    let mut runs: Vec<(u32, Option<&str>)> = Vec::new();
    for v in ca.iter() {
        match runs.last_mut() {
            Some((len, last)) if *last == v && *len < u32::MAX => *len += 1,
            _ => runs.push((1, v)),
        }
    }
    let by_runs = runs.len() * 2 <= ca.len();
    if !by_runs {
        runs = ca.iter().map(|v| (1, v)).collect();
    }
    bytes.extend_from_slice(&(runs.len() as u64).to_le_bytes());
    if by_runs && runs.len() < ca.len() {
        for (len, _) in &runs {
            bytes.extend_from_slice(&len.to_le_bytes());
        }
    }
    let nulls = runs.iter().any(|(_, v)| v.is_none());
    push_validity(bytes, nulls.then(|| runs.iter().map(|(_, v)| v.is_some())));
    let total: usize = runs.iter().map(|(_, v)| v.map_or(0, str::len)).sum();
    bytes.extend_from_slice(&(total as u64).to_le_bytes());
    for (_, v) in &runs {
        bytes.extend_from_slice(&(v.map_or(0, str::len) as u32).to_le_bytes());
    }
    for v in runs.iter().filter_map(|(_, v)| *v) {
        bytes.extend_from_slice(v.as_bytes());
    }
}

/// A column's body: text by [`push_text`] (validity per run), any other type as its
/// validity then its values.
fn push_column(bytes: &mut Vec<u8>, series: &Series, ty: Type) -> PolarsResult<()> {
    if ty != Type::Texte {
        let array = series.to_physical_repr().chunks().first().cloned();
        let validity = array.as_ref().and_then(|a| a.validity().filter(|v| v.unset_bits() > 0).cloned());
        push_validity(bytes, validity.as_ref().map(|v| v.iter()));
    }
    match ty {
        Type::Texte => push_text(bytes, series.str()?),
        Type::Float64 => {
            for v in series.f64()?.downcast_iter().flat_map(|a| a.values().iter()) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        Type::Int32 | Type::Date => {
            let physical = series.to_physical_repr();
            for v in physical.i32()?.downcast_iter().flat_map(|a| a.values().iter()) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        Type::UInt64 => {
            let ca = series.u64()?;
            let values = || ca.downcast_iter().flat_map(|a| a.values().iter().copied());
            let base = values().min().unwrap_or(0);
            let narrow = values().all(|v| v - base <= u64::from(u32::MAX));
            bytes.extend_from_slice(&base.to_le_bytes());
            bytes.push(if narrow { 4 } else { 8 });
            for v in values() {
                if narrow {
                    bytes.extend_from_slice(&((v - base) as u32).to_le_bytes());
                } else {
                    bytes.extend_from_slice(&(v - base).to_le_bytes());
                }
            }
        }
        Type::Booleen => {
            for v in series.bool()?.downcast_iter().flat_map(|a| a.values().iter()) {
                bytes.push(u8::from(v));
            }
        }
    }
    Ok(())
}

/// Every frame of the spill file at `path`, in the order written.
pub fn read_frames(path: &Path) -> Result<Vec<DataFrame>, ExtractError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ExtractError::Io { file: file.clone(), source: e })?;
    let corrupt = |what: &str| ExtractError::Internal(format!("{file}: spill file unreadable ({what})"));
    let mut cursor = Cursor { bytes: &bytes, at: 0 };
    if cursor.take(MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(corrupt("not a spill file"));
    }
    let mut frames = Vec::new();
    while cursor.at < bytes.len() {
        frames.push(read_frame(&mut cursor).map_err(|e| corrupt(&e))?);
    }
    Ok(frames)
}

struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Cursor<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N).ok_or("truncated")?);
        Ok(out)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_le_bytes)
    }

    fn len(&mut self) -> Result<usize, String> {
        usize::try_from(self.u64()?).map_err(|e| e.to_string())
    }
}

fn read_frame(cursor: &mut Cursor) -> Result<DataFrame, String> {
    let height = cursor.len()?;
    let width = u32::from_le_bytes(cursor.array()?) as usize;
    let mut columns = Vec::with_capacity(width);
    for _ in 0..width {
        let name_len = u16::from_le_bytes(cursor.array()?) as usize;
        let name = std::str::from_utf8(cursor.take(name_len).ok_or("truncated name")?).map_err(|e| e.to_string())?;
        let name = PlSmallStr::from(name);
        let ty = Type::from_tag(cursor.array::<1>()?[0]).ok_or("unknown type")?;
        columns.push(read_column(cursor, name, ty, height)?);
    }
    DataFrame::new(height, columns).map_err(|e| e.to_string())
}

/// The nulls flag, and the validity of `n` values when it is set.
fn read_validity(cursor: &mut Cursor, n: usize) -> Result<Option<Bitmap>, String> {
    Ok(match cursor.array::<1>()?[0] {
        0 => None,
        _ => {
            let bits = cursor.take(n.div_ceil(8)).ok_or("truncated validity")?;
            Some(Bitmap::from_u8_vec(bits.to_vec(), n))
        }
    })
}

/// A text column, of `height` rows: its values (or its runs' values) in one buffer the
/// views point into (LargeUtf8, then Polars' string type without another copy: no
/// value is copied by itself), the runs spread over their rows by a gather of views.
fn read_text(cursor: &mut Cursor, name: PlSmallStr, height: usize) -> Result<Column, String> {
    let runs = cursor.len()?;
    if runs > height {
        return Err("more runs than rows".into());
    }
    let run_lengths = if runs < height { Some(fixed(cursor, runs, u32::from_le_bytes)?) } else { None };
    let validity = read_validity(cursor, runs)?;
    let total = cursor.len()?;
    let lengths = fixed(cursor, runs, u32::from_le_bytes)?;
    let data = cursor.take(total).ok_or("truncated text")?;
    let offsets =
        Offsets::<i64>::try_from_lengths(lengths.into_iter().map(|l| l as usize)).map_err(|e| e.to_string())?;
    let array = Utf8Array::<i64>::try_new(ArrowDataType::LargeUtf8, offsets.into(), data.to_vec().into(), validity)
        .map_err(|e| e.to_string())?;
    let values = Series::from_arrow(name, array.boxed()).map_err(|e| e.to_string())?;
    let Some(run_lengths) = run_lengths else { return Ok(values.into_column()) };
    if run_lengths.iter().map(|l| *l as usize).sum::<usize>() != height {
        return Err("run lengths do not add up to the rows".into());
    }
    let rows: Vec<IdxSize> = run_lengths
        .iter()
        .enumerate()
        .flat_map(|(run, len)| std::iter::repeat_n(run as IdxSize, *len as usize))
        .collect();
    values.take(&IdxCa::from_vec(PlSmallStr::EMPTY, rows)).map(Series::into_column).map_err(|e| e.to_string())
}

/// `height` values of `N` bytes each, decoded by `decode`.
fn fixed<const N: usize, T>(cursor: &mut Cursor, height: usize, decode: fn([u8; N]) -> T) -> Result<Vec<T>, String> {
    let bytes = cursor.take(height.checked_mul(N).ok_or("too long")?).ok_or("truncated values")?;
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            decode(a)
        })
        .collect())
}

/// A column's body, as [`push_column`] wrote it.
fn read_column(cursor: &mut Cursor, name: PlSmallStr, ty: Type, height: usize) -> Result<Column, String> {
    let validity = if ty == Type::Texte { None } else { read_validity(cursor, height)? };
    let column = match ty {
        Type::Texte => read_text(cursor, name, height)?,
        Type::Float64 => {
            Float64Chunked::from_vec_validity(name, fixed(cursor, height, f64::from_le_bytes)?, validity).into_column()
        }
        Type::UInt64 => {
            let base = cursor.u64()?;
            let values = match cursor.array::<1>()?[0] {
                4 => fixed(cursor, height, |b| u64::from(u32::from_le_bytes(b)))?,
                8 => fixed(cursor, height, u64::from_le_bytes)?,
                _ => return Err("unknown width".into()),
            };
            let values = values
                .into_iter()
                .map(|v| v.checked_add(base).ok_or("line number out of range"))
                .collect::<Result<Vec<u64>, _>>()?;
            UInt64Chunked::from_vec_validity(name, values, validity).into_column()
        }
        Type::Int32 | Type::Date => {
            let ca = Int32Chunked::from_vec_validity(name, fixed(cursor, height, i32::from_le_bytes)?, validity);
            let column = ca.into_column();
            if ty == Type::Date { column.cast(&DataType::Date).map_err(|e| e.to_string())? } else { column }
        }
        Type::Booleen => {
            let values = fixed(cursor, height, |[b]: [u8; 1]| b != 0)?;
            let valid = |i: usize| validity.as_ref().is_none_or(|v| v.get_bit(i));
            let ca: BooleanChunked =
                values.into_iter().enumerate().map(|(i, v)| valid(i).then_some(v)).collect_ca_trusted(name);
            ca.into_column()
        }
    };
    Ok(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        let date = Int32Chunked::new("date".into(), [Some(19_000), None, Some(-3)])
            .into_column()
            .cast(&DataType::Date)
            .expect("date");
        DataFrame::new_infer_height(vec![
            UInt64Chunked::new("_ligne".into(), [2u64, 3, 4]).into_column(),
            StringChunked::new("id".into(), [Some("F1"), None, Some("une valeur de plus de douze octets, é")])
                .into_column(),
            Float64Chunked::new("montant".into(), [Some(1.5), Some(-0.0), None]).into_column(),
            Int32Chunked::new("n".into(), [None, Some(i32::MIN), Some(7)]).into_column(),
            date,
            BooleanChunked::new("b".into(), [Some(true), None, Some(false)]).into_column(),
        ])
        .expect("frame")
    }

    /// A spill file of `frames`, as bytes.
    fn spilled(frames: &[DataFrame]) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out).expect("header");
        for df in frames {
            write_frame(&mut out, df).expect("write");
        }
        out
    }

    /// The frames of a spill file of `bytes`.
    fn read_back(bytes: &[u8]) -> Result<Vec<DataFrame>, ExtractError> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s");
        std::fs::write(&path, bytes).expect("file");
        read_frames(&path)
    }

    #[test]
    fn frames_read_back_as_written() {
        let empty = frame().head(Some(0));
        let back = read_back(&spilled(&[frame(), empty.clone(), frame().slice(1, 2)])).expect("read");
        assert_eq!(back.len(), 3);
        assert!(back[0].equals_missing(&frame()), "{:?}", back[0]);
        assert_eq!(back[0].schema(), frame().schema());
        assert!(back[1].equals_missing(&empty));
        assert!(back[2].equals_missing(&frame().slice(1, 2)), "{:?}", back[2]);
        // -0.0 keeps its sign: the bits are copied, not the value reformatted.
        let m = back[0].column("montant").expect("montant").f64().expect("f64").get(1).expect("value");
        assert!(m.is_sign_negative());
    }

    /// A person's rows (runs of one id, nulls among them) and line numbers further apart
    /// than 4 bytes can say.
    #[test]
    fn runs_and_distant_lines_read_back_as_written() {
        let ids: Vec<Option<&str>> = [
            vec![Some("F0000001-1"); 5],
            vec![None; 3],
            vec![Some("une personne au long identifiant"); 4],
            vec![Some("F0000001-1")],
            vec![Some("")],
        ]
        .concat();
        let n = ids.len();
        let lignes: Vec<u64> = (0..n as u64).map(|i| if i == 7 { u64::MAX - 1 } else { i + 2 }).collect();
        let df = DataFrame::new_infer_height(vec![
            UInt64Chunked::from_vec("_ligne".into(), lignes).into_column(),
            StringChunked::new("id_personne".into(), ids).into_column(),
            StringChunked::new("nature".into(), vec![Some("salaire"); n]).into_column(),
        ])
        .expect("frame");
        let out = spilled(std::slice::from_ref(&df));
        // Runs: the long id is written once, not four times.
        assert_eq!(out.windows(32).filter(|w| w == b"une personne au long identifiant").count(), 1);
        let back = read_back(&out).expect("read");
        assert!(back[0].equals_missing(&df), "{:?}", back[0]);
        // Near line numbers are written in 4 bytes each, distant ones in 8.
        let mut near = df.clone();
        near.with_column(UInt64Chunked::from_vec("_ligne".into(), (0..n as u64).collect()).into_column())
            .expect("lines");
        let (mut narrow, mut wide) = (Vec::new(), Vec::new());
        write_frame(&mut narrow, &near).expect("write");
        write_frame(&mut wide, &df).expect("write");
        assert_eq!(wide.len() - narrow.len(), n * 4);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_panic() {
        let out = spilled(&[frame()]);
        for cut in [0, 10, MAGIC.len() + 5, out.len() / 2, out.len() - 1] {
            assert!(read_back(&out[..cut]).is_err(), "cut at {cut}");
        }
        // A length pointing past a text value's end.
        let mut bad = out.clone();
        let at = bad.windows(2).position(|w| w == b"F1").expect("value") - 1;
        bad[at] ^= 0x40;
        assert!(read_back(&bad).is_err());
    }

    #[test]
    fn a_column_of_another_type_is_refused() {
        let df = DataFrame::new_infer_height(vec![Int64Chunked::new("x".into(), [1i64]).into_column()]).expect("df");
        assert!(write_frame(&mut Vec::new(), &df).is_err());
    }
}
