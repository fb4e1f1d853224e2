//! One module a command: its arguments and what it runs (as uv's `commands/`).

pub mod catalog;
pub mod check;
pub mod completions;
pub mod couverture;
pub mod diff;
pub mod doc;
pub mod estimer;
pub mod explain;
pub mod fusionner;
pub mod generate;
pub mod screen;
pub mod suivi;
pub mod test;
