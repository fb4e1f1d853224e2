//! `explain`'s summary, on every foyer of the samples: a screen at most, each rule shown
//! with the reason that decided it, and the rest left to `--regle` / `--tout`.

use std::path::PathBuf;

use reperage_batch::{extract, situation};
use reperage_rules::compile::PlanCache;
use reperage_rules::explain::{self, LIGNES_MAX};
use reperage_rules::{Compiled, Mois, check, source};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-data").join(name)
}

#[test]
fn the_summary_of_every_sample_foyer_fits_a_screen_and_gives_each_rule_its_reason() {
    let mois = Mois::parse("2025-03").expect("month");
    let rs = check(&source::embedded(), mois).ruleset.expect("rules");
    let compiled = Compiled::new(&rs, mois, None).expect("compiles");
    let mut foyers = 0;
    let mut detailed = 0;
    let mut longest = 0;
    for (name, precedent) in [("synthetique", "synthetique-precedent"), ("cas-limites", "cas-limites-precedent")] {
        let current = extract::load(&sample(name), mois).expect("loads");
        let before = extract::load(&sample(precedent), mois.plus(-1)).expect("loads");
        let built = situation::build(&current, Some(&before), mois, &PlanCache::default()).expect("builds");
        let eval = compiled.evaluate(built, true).expect("evaluates");
        for row in 0..eval.height() {
            let e = explain::explain(&rs, &compiled, &eval, row);
            let text = e.resume(false);
            let lines: Vec<&str> = text.lines().collect();
            assert!(lines.len() <= LIGNES_MAX, "{} lines for {:?}:\n{text}", lines.len(), e.id_foyer);
            longest = longest.max(lines.len());
            foyers += 1;
            let id = e.id_foyer.clone().expect("the foyer's id");
            assert!(lines[0].starts_with(&format!("Foyer {id} — mois de référence 2025-03")), "{text}");
            // Each rule detailed: its headline, then the line that says why.
            for r in e.shown(false) {
                let head = format!("{} — {} : ", r.id, r.titre);
                let Some(at) = lines.iter().position(|l| l.starts_with(&head)) else {
                    // Over the budget, undetermined rules are only named.
                    assert!(lines.iter().any(|l| l.starts_with("Indéterminés") && l.contains(r.id.as_str())), "{text}");
                    continue;
                };
                detailed += 1;
                let why = lines.get(at + 1).copied().unwrap_or("");
                assert!(
                    ["    conditions remplies : ", "    condition non remplie : ", "    manque : ", "    inconnu "]
                        .iter()
                        .any(|p| why.starts_with(p)),
                    "{head}: {why}\n{text}"
                );
                // A missing input is named by its title, its id in brackets.
                if let Some(first) = r.manquants.first() {
                    let title = &rs.inputs[first.as_str()].titre;
                    assert!(why.contains(&format!("{title} ({first})")), "{why}");
                }
            }
        }
    }
    assert!(foyers > 2000 && detailed > 1000, "{foyers} foyers, {detailed} rules detailed");
    assert!(longest > 5, "some summary has more than a headline: {longest}");
}
