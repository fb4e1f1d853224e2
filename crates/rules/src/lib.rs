//! # reperage-rules: the rule language
//!
//! Benefit eligibility conditions and life-event rules are data files (`rules/`), which
//! this crate parses, checks (with file:line:column diagnostics), resolves at a
//! reference month, compiles to Polars expressions with three-valued logic, tests, and
//! explains. It knows nothing of extracts or output files: its input is a situation
//! frame, one row per foyer, whose columns are declared in `rules/situation.toml`.
//!
//! ```text
//! source files ─► check ─► RuleSet ─► Compiled (at a month) ─► apply(situation) ─► columns
//!                                           │                                        │
//!                                      run_tests                                 explain
//! ```

pub mod catalog;
pub mod check;
pub mod compile;
pub mod date;
pub mod diag;
pub mod explain;
pub mod expr;
pub mod model;
mod raw;
pub mod resolved;
pub mod site;
pub mod source;
pub mod test_coverage;
pub mod testing;

pub use check::{Checked, check};
pub use compile::{CompileError, Compiled, CompiledRule, UsedParam};
pub use date::{Date, Mois};
pub use diag::{Diagnostic, Diagnostics, Kind, Severity};
pub use model::{RuleSet, SourceFile, StaleParameter, Statut, Type, Value};
