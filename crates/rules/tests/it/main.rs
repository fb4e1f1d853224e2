//! Integration tests of the rule language: one binary, one module per concern.

mod campaigns;
mod checker_fixtures;
mod evaluation;
mod properties;
mod shipped_rules;
mod test_coverage;

use std::path::PathBuf;

use reperage_rules::{Mois, RuleSet, SourceFile, check, source};

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn mois(s: &str) -> Mois {
    Mois::parse(s).expect("valid month")
}

/// The minimal valid rule set of `tests/fixtures/base`.
pub fn base_files() -> Vec<SourceFile> {
    source::load_dir(&fixtures().join("base")).expect("fixtures readable")
}

/// Checks files that must be valid, failing the test with the diagnostics otherwise.
pub fn checked(files: &[SourceFile], at: &str) -> RuleSet {
    let c = check(files, mois(at));
    match c.ruleset {
        Some(rs) => rs,
        None => panic!("unexpected errors:\n{}", c.diagnostics),
    }
}

/// Replaces (or adds) a file of a rule folder.
pub fn with_file(mut files: Vec<SourceFile>, path: &str, text: &str) -> Vec<SourceFile> {
    files.retain(|f| f.path != path);
    files.push(SourceFile { path: path.to_string(), text: text.to_string() });
    files
}
