//! # reperage-batch: the monthly screening job
//!
//! ```text
//! extract dir ─► extract::load (privacy guard, reading, validation, quarantine)
//!             ─► evaluation::evaluate, partition after partition of foyer ids:
//!                  situation::build (one row per foyer; precedent: last month compared)
//!                  ─► reperage_rules::Compiled::apply (every rule, one Polars query)
//!                  ─► screen outputs appended: eligibilites, signalements;
//!                     campagnes::Collecte gathers candidates
//!             ─► campagnes::Collecte::select (ranked, capped: campagnes/, contacts_prevus.csv)
//!             ─► quarantaine/, manifest.json
//!             ─► out_dir::OutDir::commit (the staging folder replaces --out at once)
//! ```
//! Data moves forward only; every output is a projection of the evaluation frame.

pub mod campagnes;
pub mod evaluation;
pub mod explain;
pub mod extract;
pub mod fusion;
pub mod generate;
pub mod memoire;
pub mod out_dir;
pub mod output;
pub mod partitions;
pub mod precedent;
pub mod screen;
pub mod situation;
