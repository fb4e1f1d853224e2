//! The shipped `rules/` folder: it checks clean, and every test case written in it
//! passes (so `cargo test` runs the rule tests too).

use reperage_rules::{check, source, testing};

use crate::mois;

#[test]
fn shipped_rules_check_without_errors() {
    let files = source::embedded();
    assert!(files.iter().any(|f| f.path == "situation.toml"), "the catalog is embedded");
    for m in ["2024-01", "2025-04", "2026-12"] {
        let c = check(&files, mois(m));
        assert!(!c.diagnostics.has_errors(), "{m}:\n{}", c.diagnostics);
    }
}

#[test]
fn shipped_rule_test_cases_pass() {
    let rs = check(&source::embedded(), mois("2026-01")).ruleset.expect("checks");
    let outcomes = testing::run(&rs).expect("runs");
    assert!(outcomes.len() >= 8, "the catalog carries its test cases");
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| {
            format!(
                "{}:{} {} — {}\n{}",
                o.file,
                o.line,
                o.nom,
                o.failures.join("; "),
                o.explanation.clone().unwrap_or_default()
            )
        })
        .collect();
    assert!(failed.is_empty(), "failing rule tests:\n{}", failed.join("\n"));
}

#[test]
fn a_failing_case_is_reported_with_expected_and_actual() {
    let mut rs = check(&source::embedded(), mois("2026-01")).ruleset.expect("checks");
    let rule = rs.rules.iter_mut().find(|r| r.id == "aspa").expect("aspa");
    let case = &mut rule.tests[0];
    case.montant = Some(999.0);
    let outcomes = testing::run(&rs).expect("runs");
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].failures[0].starts_with("montant: expected 999 ± 0,01, got 1034,29"), "{:?}", failed[0].failures);
    let junit = testing::junit(&outcomes);
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(junit.contains("<failure message=\"montant: expected 999"), "{junit}");
}

#[test]
fn the_rules_catalog_in_docs_is_up_to_date() {
    let rs = check(&source::embedded(), mois("2026-01")).ruleset.expect("checks");
    let generated = reperage_rules::catalog::markdown(&rs);
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules-catalog.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/rules-catalog.md is out of date: run `cargo run -- catalog > docs/rules-catalog.md`"
    );
    for rule in &rs.rules {
        for s in &rule.simplifications {
            assert!(generated.contains(&s.texte), "simplification of {} listed", rule.id);
        }
    }
}
