//! # reperage-batch: the monthly screening job
//!
//! ```text
//! extract dir ─► extract::load (privacy guard, reading, validation, quarantine)
//!             ─► situation::build (one row per foyer; precedent: last month's extract compared)
//!             ─► reperage_rules::Compiled::apply (every rule, one Polars query)
//!             ─► screen outputs: eligibilites, signalements, quarantaine/, manifest.json
//!             ─► campagnes::contact_lists (campagnes/, contacts_prevus.csv)
//!             ─► out_dir::OutDir::commit (the staging folder replaces --out at once)
//! ```
//! Data moves forward only; every output is a projection of the evaluation frame.

pub mod campagnes;
pub mod explain;
pub mod extract;
pub mod generate;
pub mod out_dir;
pub mod output;
pub mod precedent;
pub mod screen;
pub mod situation;
