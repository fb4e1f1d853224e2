//! Each file of `tests/fixtures/broken` is a deliberately broken rule or parameter
//! file. Its header says where it goes in a rules folder and what the checker must
//! report:
//!
//! ```text
//! # as: parametres/broken.toml
//! # expect: values-out-of-order 7:14        (kind, line, optional column)
//! # expect-warning: stale-parameter 3:2     (a warning instead of an error)
//! ```
//!
//! The file is added to the valid rule set of `tests/fixtures/base` and the whole is
//! checked at 2025-06.

use reperage_rules::{Severity, check};

use crate::{base_files, fixtures, mois, with_file};

struct Expectation {
    place: String,
    severity: Severity,
    kind: String,
    line: usize,
    column: Option<usize>,
}

fn header(text: &str, file: &str) -> Expectation {
    let mut place = None;
    let mut expect = None;
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(p) = line.strip_prefix("# as: ") {
            place = Some(p.trim().to_string());
        } else if let Some(e) = line.strip_prefix("# expect: ") {
            expect = Some((Severity::Error, e.trim().to_string()));
        } else if let Some(e) = line.strip_prefix("# expect-warning: ") {
            expect = Some((Severity::Warning, e.trim().to_string()));
        }
    }
    let (severity, e) = expect.unwrap_or_else(|| panic!("{file}: no `# expect:` header"));
    let (kind, pos) = e.split_once(' ').unwrap_or_else(|| panic!("{file}: expect `kind line[:col]`"));
    let (line, column) = match pos.split_once(':') {
        Some((l, c)) => (l.parse().expect("line"), Some(c.parse().expect("column"))),
        None => (pos.parse().expect("line"), None),
    };
    Expectation {
        place: place.unwrap_or_else(|| panic!("{file}: no `# as:` header")),
        severity,
        kind: kind.to_string(),
        line,
        column,
    }
}

#[test]
fn the_base_fixture_is_clean() {
    let c = check(&base_files(), mois("2025-06"));
    assert!(c.diagnostics.0.is_empty(), "base fixture must have no diagnostic:\n{}", c.diagnostics);
    assert!(c.ruleset.is_some());
}

#[test]
fn every_broken_fixture_reports_its_error_at_its_line() {
    let dir = fixtures().join("broken");
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("fixtures").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    assert!(entries.len() >= 12, "at least 12 broken fixtures, found {}", entries.len());
    let mut kinds = std::collections::BTreeSet::new();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let text = std::fs::read_to_string(&path).expect("readable");
        let exp = header(&text, &name);
        let files = with_file(base_files(), &exp.place, &text);
        let c = check(&files, mois("2025-06"));
        let found = c.diagnostics.0.iter().any(|d| {
            let kind = serde_json::to_value(d.kind).expect("kind").as_str().unwrap_or_default().to_string();
            d.file == exp.place
                && d.severity == exp.severity
                && kind == exp.kind
                && d.line == exp.line
                && exp.column.is_none_or(|c| c == d.column)
        });
        assert!(
            found,
            "{name}: expected {:?} {} at {}:{}{} — got:\n{}",
            exp.severity,
            exp.kind,
            exp.place,
            exp.line,
            exp.column.map_or(String::new(), |c| format!(":{c}")),
            c.diagnostics
        );
        if exp.severity == Severity::Error {
            assert!(c.ruleset.is_none(), "{name}: a rule set with errors must not be returned");
        }
        kinds.insert(exp.kind);
    }
    // Every kind of diagnostic (13 errors and the stale-parameter warning) has a fixture.
    assert_eq!(kinds.len(), 14, "fixtures cover {} kinds: {kinds:?}", kinds.len());
}

#[test]
fn diagnostics_show_the_offending_text() {
    let text = std::fs::read_to_string(fixtures().join("broken/04_unknown_variable.toml")).expect("fixture");
    let files = with_file(base_files(), "broken.toml", &text);
    let c = check(&files, mois("2025-06"));
    let shown = c.diagnostics.to_string();
    assert!(shown.contains("--> broken.toml:10:9"), "{shown}");
    assert!(shown.contains("expr = \"revenu > 0\""), "{shown}");
    assert!(shown.contains("^^^^^^"), "{shown}");
}

#[test]
fn cycles_across_rules_are_reported_with_their_path() {
    let rule = |id: &str, other: &str| {
        format!(
            "id = \"{id}\"\ntitre = \"R\"\ntype = \"evenement\"\nbase_legale = [{{ texte = \"T\", url = \"u\" }}]\n\
             [variables.v]\ntitre = \"V\"\nexpr = \"{other}.v + 1\"\n\
             [conditions.c]\ntitre = \"C\"\nexpr = \"v > 0\"\nbase_legale = [{{ texte = \"T\", url = \"u\" }}]\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        )
    };
    let files = with_file(with_file(base_files(), "x.toml", &rule("x", "y")), "y.toml", &rule("y", "x"));
    let c = check(&files, mois("2025-06"));
    let cycles: Vec<_> = c.diagnostics.errors().filter(|d| d.kind == reperage_rules::Kind::Cycle).collect();
    assert_eq!(cycles.len(), 1, "one cycle, reported once:\n{}", c.diagnostics);
    assert!(cycles[0].message.contains("v → y.v → v"), "{}", cycles[0].message);
    assert_eq!((cycles[0].file.as_str(), cycles[0].line), ("x.toml", 5));
}

/// Mangled rule files never panic the checker: each random mutation ends in
/// diagnostics, or in a rule set that compiles.
#[test]
fn random_mutations_of_rule_files_never_panic() {
    let files = reperage_rules::source::embedded();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let pieces = ["(", ")", "\"", "=", "\n", "[", "]", ".", "et ", "0", "é", "param.", ",", "#", "'", "{", "}"];
    let mut outcomes = (0, 0);
    for round in 0..300 {
        let mut mutated = files.clone();
        let target = next(mutated.len());
        let text = &mut mutated[target].text;
        for _ in 0..1 + next(3) {
            let mut at = next(text.len().max(1));
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if next(2) == 0 {
                text.insert_str(at, pieces[next(pieces.len())]);
            } else {
                let end = (at + 1 + next(4)).min(text.len());
                let mut end = end;
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                text.replace_range(at..end, "");
            }
        }
        let c = check(&mutated, mois("2025-06"));
        match c.ruleset {
            Some(rs) => {
                outcomes.0 += 1;
                reperage_rules::Compiled::new(&rs, mois("2025-06"), None)
                    .unwrap_or_else(|e| panic!("round {round}: a checked rule set must compile: {e}"));
            }
            None => {
                outcomes.1 += 1;
                assert!(c.diagnostics.has_errors(), "round {round}");
                let _ = c.diagnostics.to_string();
            }
        }
    }
    assert!(outcomes.1 > 0, "mutations produce errors: {outcomes:?}");
}
