//! `ressources_a_valider` on the sample: every mismatch the generator plants between a
//! declared activity and the resources is flagged with the condition it planted, nothing
//! else is; a member whose activity or months of resources are unknown is not flagged.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{read_output, reperage, sample, screen, split_csv, with_field};

/// (id_foyer, condition) of the rule's signalements in `out`, and their statuses.
fn flagged(out: &Path) -> (BTreeSet<(String, String)>, BTreeSet<String>) {
    let mut pairs = BTreeSet::new();
    let mut statuts = BTreeSet::new();
    for row in &read_output(&out.join("signalements.csv"))[1..] {
        let f = split_csv(row);
        if f[1] == "ressources_a_valider" {
            statuts.insert(f[3].clone());
            for c in f[7].split(", ") {
                pairs.insert((f[0].clone(), c.to_string()));
            }
        }
    }
    (pairs, statuts)
}

#[test]
fn ressources_a_valider_flags_each_planted_mismatch_and_none_unknown() {
    let truth = read_output(&sample("synthetique").with_extension("verite.csv"));
    let planted: BTreeSet<(String, String)> = truth[1..]
        .iter()
        .map(|l| l.split(';').map(str::to_string).collect::<Vec<_>>())
        .filter(|f| f[1] == "ressources_a_valider")
        .map(|f| (f[0].clone(), f[2].clone()))
        .collect();
    let kinds: BTreeSet<&str> =
        planted.iter().map(|(_, c)| c.trim_end_matches("_allocataire").trim_end_matches("_conjoint")).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "chomeur_salarie_sans_chomage",
            "inactif_avec_salaire_regulier",
            "retraite_sans_pension",
            "salarie_sans_salaire"
        ]),
        "the sample plants each kind"
    );
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("synthetique"), "2025-03", out.path(), &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (found, statuts) = flagged(out.path());
    assert_eq!(found, planted, "flagged exactly where planted, with the condition planted");
    assert_eq!(statuts, BTreeSet::from(["eligible".to_string()]));

    // Two planted foyers made unknown: one member's activity left empty, another's
    // month M-2 of resources removed. Neither is flagged; both are undetermined.
    let copy = tempfile::tempdir().expect("tmp");
    for f in std::fs::read_dir(sample("synthetique")).expect("dir") {
        let p = f.expect("entry").path();
        std::fs::copy(&p, copy.path().join(p.file_name().expect("name"))).expect("copy");
    }
    // Foyers where only the allocataire's mismatch is planted.
    let mut by_foyer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (f, c) in &planted {
        by_foyer.entry(f.as_str()).or_default().push(c.as_str());
    }
    let mut targets = by_foyer.iter().filter(|(_, c)| c.len() == 1 && c[0].ends_with("_allocataire")).map(|(f, _)| *f);
    let (no_activity, no_month) = (targets.next().expect("a planted foyer"), targets.next().expect("another"));
    let personnes = copy.path().join("personnes.csv");
    let text = std::fs::read_to_string(&personnes).expect("read");
    let header = text.lines().next().expect("header").to_string();
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{no_activity}-1;")) {
                with_field(&header, l, "activite", "")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&personnes, edited.join("\n") + "\n").expect("write");
    let ressources = copy.path().join("ressources.csv");
    let text = std::fs::read_to_string(&ressources).expect("read");
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(&format!("{no_month}-1;2025-01;"))).collect();
    assert!(kept.len() < text.lines().count(), "M-2 of {no_month}-1 removed");
    std::fs::write(&ressources, kept.join("\n") + "\n").expect("write");
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(copy.path(), "2025-03", out.path(), &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (found, _) = flagged(out.path());
    for foyer in [no_activity, no_month] {
        assert!(!found.iter().any(|(f, _)| f == foyer), "{foyer} is not flagged");
        let run = reperage(
            &[
                "explain",
                "--extract",
                copy.path().to_str().expect("utf-8"),
                "--mois",
                "2025-03",
                "--foyer",
                foyer,
                "--format",
                "json",
            ],
            &[],
        );
        let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
        let rule =
            json["regles"].as_array().expect("rules").iter().find(|r| r["id"] == "ressources_a_valider").expect("rule");
        assert_eq!(rule["statut"], "indetermine", "{foyer}");
    }
    assert_eq!(found.len(), planted.len() - 2, "the others still flagged");
}
