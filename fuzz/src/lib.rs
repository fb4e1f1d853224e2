//! What the fuzz targets share: the rule catalog and the tables by input byte.

use reperage_batch::extract::Table;

/// The table a fuzz input is read as, chosen by its first byte.
pub fn table(selector: u8) -> Table {
    Table::ALL[usize::from(selector) % Table::ALL.len()]
}
