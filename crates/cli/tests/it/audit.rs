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

/// The decisive condition of a foyer, read from `explain`'s JSON tree: the test's own
/// reading of the definition in docs/audit.md, on explain's output, not on the columns
/// `couverture` counts from.
fn decisive_from_explain(node: &serde_json::Value) -> String {
    let name = node["nom"].as_str().expect("named node").to_string();
    let value = &node["valeur"];
    let children: Vec<&serde_json::Value> =
        node["conditions"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let first = |wanted: &serde_json::Value| children.iter().find(|c| &c["valeur"] == wanted).copied();
    let next = match node["forme"].as_str() {
        Some("non") => children.first().copied(),
        Some("toutes") if value == &serde_json::json!(false) => first(&serde_json::json!(false)),
        Some("toutes") if value.is_null() => first(&serde_json::Value::Null),
        Some("une_de") if value == &serde_json::json!(true) => {
            let vrais: Vec<_> = children.iter().filter(|c| c["valeur"] == serde_json::json!(true)).collect();
            if vrais.len() == 1 { Some(*vrais[0]) } else { None }
        }
        Some("une_de") if value.is_null() => first(&serde_json::Value::Null),
        _ => None,
    };
    next.map_or(name, decisive_from_explain)
}

#[test]
fn couverture_counts_the_decisive_conditions_that_explain_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = dir.path().join("extrait");
    crate::generate(&extract, "60", &[]);
    let out = dir.path().join("couverture");
    let extract_s = extract.to_str().expect("utf-8");
    let run = reperage(
        &[
            "couverture",
            "--extract",
            extract_s,
            "--mois",
            "2025-03",
            "--out",
            out.to_str().expect("utf-8"),
            "--seuil-secret",
            "1",
        ],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    // couverture.csv: the RSA's decisive counts per condition and status.
    let lines = crate::read_output(&out.join("couverture.csv"));
    let header: Vec<&str> = lines[0].split(';').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let (regle, definition, role) = (col("regle"), col("definition"), col("role"));
    let statuts = [col("decisive_eligible"), col("decisive_non_eligible"), col("decisive_indetermine")];
    let mut from_couverture = std::collections::BTreeMap::new();
    for line in &lines[1..] {
        let f: Vec<&str> = line.split(';').collect();
        if f[regle] == "rsa" && f[role] == "condition" {
            for (s, &c) in statuts.iter().enumerate() {
                let n: u64 = f[c].parse().unwrap_or_else(|_| panic!("a count, not secret: {line}"));
                if n > 0 {
                    from_couverture.insert((f[definition].to_string(), s), n);
                }
            }
        }
    }

    // The same, foyer by foyer, from explain.
    let foyers = crate::read_output(&extract.join("foyers.csv"));
    let mut from_explain = std::collections::BTreeMap::new();
    for line in &foyers[1..] {
        let id = line.split(';').next().expect("id_foyer");
        let e =
            reperage(&["explain", "--extract", extract_s, "--mois", "2025-03", "--foyer", id, "--format", "json"], &[]);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(&e.stdout) else {
            continue; // quarantined: evaluated by neither
        };
        let rsa = json["regles"].as_array().expect("rules").iter().find(|r| r["id"] == "rsa").expect("rsa explained");
        let s = match rsa["statut"].as_str() {
            Some("eligible") => 0,
            Some("non_eligible") => 1,
            _ => 2,
        };
        *from_explain.entry((decisive_from_explain(&rsa["arbre"]), s)).or_insert(0u64) += 1;
    }
    assert_eq!(from_couverture, from_explain);
    // Not a trivial agreement: several conditions decided the non-eligible foyers.
    let deciding = from_explain.keys().filter(|(_, s)| *s == 1).count();
    assert!(deciding >= 2, "{from_explain:?}");
}

#[test]
fn couverture_publishes_no_small_count_and_no_lone_suppressed_cell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("couverture");
    let extract = crate::sample("synthetique");
    let run = reperage(
        &[
            "couverture",
            "--extract",
            extract.to_str().expect("utf-8"),
            "--mois",
            "2025-03",
            "--out",
            out.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let lines = crate::read_output(&out.join("couverture.csv"));
    let header: Vec<&str> = lines[0].split(';').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let counts =
        ["vrai", "faux", "connu", "inconnu", "decisive_eligible", "decisive_non_eligible", "decisive_indetermine"];
    let (ty, secret) = (col("type"), col("secret"));
    let mut suppressed = 0;
    for line in &lines[1..] {
        let f: Vec<&str> = line.split(';').collect();
        for name in counts {
            if let Ok(n) = f[col(name)].parse::<u64>() {
                assert!(n == 0 || n >= 11, "a count of {n} foyers is published: {line}");
            }
        }
        // vrai + faux + inconnu = foyers: one suppressed cell alone would be recovered.
        if f[ty] == "booleen" {
            let hidden = ["vrai", "faux", "inconnu"].iter().filter(|c| f[col(c)].is_empty()).count();
            assert_ne!(hidden, 1, "{line}");
            suppressed += hidden;
        }
        let listed = f[secret].trim_matches('"');
        for name in listed.split(';').filter(|s| !s.is_empty()) {
            assert!(f[col(name)].is_empty(), "{name} is listed as secret but published: {line}");
        }
    }
    assert!(suppressed > 0, "the sample has small counts: some must be suppressed");
    let page = std::fs::read_to_string(out.join("couverture.html")).expect("page written");
    assert!(page.contains("id=\"regle-rsa-ressources_sous_montant_forfaitaire\""));
}
