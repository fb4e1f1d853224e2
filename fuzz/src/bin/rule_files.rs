//! The rule / parameter / campaign / situation file checker: the shipped catalog with one
//! of its files replaced by the input (the first byte picks which), checked for a month.
use reperage_rules::{Mois, SourceFile, check, source};

fn main() {
    let catalog = source::embedded();
    let mois = Mois::parse("2025-06").expect("month");
    afl::fuzz!(|data: &[u8]| {
        let Some((&selector, rest)) = data.split_first() else { return };
        let Ok(text) = std::str::from_utf8(rest) else { return };
        let mut files: Vec<SourceFile> = catalog.clone();
        let i = usize::from(selector) % files.len();
        files[i].text = text.to_string();
        let _ = check(&files, mois);
    });
}
