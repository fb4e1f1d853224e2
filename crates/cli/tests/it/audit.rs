//! The auditors' commands (issue 15): coverage of the rules by their tests.

use crate::{reperage, root};

#[test]
fn test_coverage_below_the_threshold_fails_and_names_the_rule() {
    // The checker's minimal rule set: its one case sees `demo`'s conditions true only.
    let rules = root().join("crates/rules/tests/fixtures/base");
    let rules = rules.to_str().expect("utf-8 path");
    let report = reperage(&["test", "--rules", rules, "--couverture"], &[]);
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let stdout = String::from_utf8_lossy(&report.stdout);
    assert!(stdout.contains("condition `sous_plafond` never false"), "{stdout}");

    let strict = reperage(&["test", "--rules", rules, "--couverture", "--couverture-min", "100"], &[]);
    assert_eq!(strict.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&strict.stderr);
    assert!(stderr.contains("coverage below 100% for: demo"), "{stderr}");
}
