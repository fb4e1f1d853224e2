//! # reperage-batch: the monthly screening job
//!
//! ```text
//! extract dir ─► partitions::Coupe (from the foyer ids: this process's partition, its pieces)
//!             ─► extract::routage::route (every row seen by the privacy guard, typed,
//!                dealt to its piece; spilled when there are several)
//!             ─► evaluation::evaluate, piece after piece:
//!                  validation (quarantine) ─► situation::build (one row per foyer;
//!                  precedent: last month compared) ─► reperage_rules::Compiled::apply
//!                  ─► screen outputs appended: eligibilites, signalements;
//!                     campagnes::Collecte gathers candidates
//!             ─► campagnes::Collecte::select (ranked, capped: campagnes/, contacts_prevus.csv)
//!                (a partition of a scheduled run writes its candidates instead: fusion)
//!             ─► quarantaine/, manifest.json
//!   (`estimer` takes the same evaluated pieces to counts instead: estimations/)
//!             ─► out_dir::OutDir::commit (the staging folder replaces --out at once)
//! ```
//! Data moves forward only; every output is a projection of the evaluation frame.

pub mod campagnes;
mod commande;
pub use commande::Entrees;
pub mod couverture;
pub mod diff;
pub mod estimations;
pub mod evaluation;
pub mod explain;
pub mod extract;
pub mod fusion;
pub mod generate;
pub mod memoire;
pub mod out_dir;
pub mod output;
pub mod partitions;
pub mod screen;
pub mod situation;
pub mod suivi;
