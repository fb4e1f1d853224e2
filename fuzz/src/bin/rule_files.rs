//! The rule / parameter / campaign / situation file checker. The input's first line is a
//! path in the rules folder (`aspa.toml`, `parametres/rsa.toml`, `campagnes/x.toml`…), the
//! rest that file's text, checked for a month with the shipped situation and parameter
//! files (replaced when the path is theirs). Not the whole catalog: checking 35 files per
//! execution made 35 executions a second.
use reperage_rules::{Mois, SourceFile, check, source};

fn main() {
    let context: Vec<SourceFile> = source::embedded()
        .into_iter()
        .filter(|f| f.path == "situation.toml" || f.path.starts_with("parametres/"))
        .collect();
    let mois = Mois::parse("2025-06").expect("month");
    afl::fuzz!(|data: &[u8]| {
        let Ok(input) = std::str::from_utf8(data) else { return };
        let Some((path, text)) = input.split_once('\n') else { return };
        let mut files: Vec<SourceFile> = context.iter().filter(|f| f.path != path).cloned().collect();
        files.push(SourceFile { path: path.to_string(), text: text.to_string() });
        let _ = check(&files, mois);
    });
}
