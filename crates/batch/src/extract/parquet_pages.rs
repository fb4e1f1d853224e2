//! Refuses a Parquet file whose page headers Polars would misread into an allocation of
//! exabytes, before Polars decodes it.
//!
//! polars-parquet 0.55.2 converts a data page's declared counts (`num_values`, and for a
//! v2 page `num_nulls`) with `as usize`: a negative count, which only a corrupt or hostile
//! file holds, becomes a number near 2^64 and the validity decoder reserves that many bits.
//! The allocator then aborts the process, which no `catch_unwind` can stop (fuzzing found
//! it: docs/reliability.md). Other malformations end in an error or a panic, both caught
//! by the reader.
//!
//! The pages are walked exactly as Polars walks them (each column chunk's byte range,
//! read by polars-parquet's own `PageReader`), so the headers checked here are the ones
//! Polars will decode. Only headers are parsed; no page is decompressed or decoded.

use std::io::Cursor;

use polars_buffer::Buffer;
use polars_parquet::parquet::page::{CompressedPage, DataPageHeader};
use polars_parquet::parquet::read::{PageReader, read_metadata};

/// Why a file's pages cannot be handed to Polars (a message for the user, in English
/// like the other reader errors).
pub fn check(bytes: &[u8]) -> Result<(), String> {
    // `with_slice` lends the bytes to polars-parquet without a copy; every clone of the
    // buffer made below is dropped before it returns.
    Buffer::with_slice(bytes, |file| check_buffer(&file))
}

fn check_buffer(file: &Buffer<u8>) -> Result<(), String> {
    let metadata = read_metadata(&mut Cursor::new(file.clone())).map_err(|e| e.to_string())?;
    for (g, group) in metadata.row_groups.iter().enumerate() {
        for column in group.parquet_columns() {
            let range = column.byte_range();
            let (start, end) = (range.start as usize, range.end as usize);
            if start > end || end > file.len() {
                return Err(format!("row group {g}: a column chunk lies outside the file"));
            }
            let chunk = file.clone().sliced(start..end);
            // Polars reads each chunk with an unbounded page size; so does this walk.
            for page in PageReader::new(Cursor::new(chunk), column, vec![], usize::MAX) {
                let page = page.map_err(|e| e.to_string())?;
                if let Some(what) = negative_count(&page) {
                    let path: Vec<&str> = column.descriptor().path_in_schema.iter().map(|s| s.as_str()).collect();
                    let name = path.join(".");
                    return Err(format!("row group {g}, column {name}: a data page declares a negative {what}"));
                }
            }
        }
    }
    Ok(())
}

/// The first count of a page header that is negative, if any.
fn negative_count(page: &CompressedPage) -> Option<&'static str> {
    let CompressedPage::Data(page) = page else {
        // A dictionary page's count is converted with `try_into` by polars-parquet.
        return None;
    };
    let counts: &[(&'static str, i32)] = match page.header() {
        DataPageHeader::V1(h) => &[("number of values", h.num_values)],
        DataPageHeader::V2(h) => &[
            ("number of values", h.num_values),
            ("number of nulls", h.num_nulls),
            ("number of rows", h.num_rows),
            ("definition levels length", h.definition_levels_byte_length),
            ("repetition levels length", h.repetition_levels_byte_length),
        ],
    };
    counts.iter().find(|(_, n)| *n < 0).map(|(what, _)| *what)
}
