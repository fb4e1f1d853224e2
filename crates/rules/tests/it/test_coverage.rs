//! `reperage test --couverture`: what a rule's own test cases exercise.

use reperage_rules::test_coverage::{RuleCoverage, coverage};

use crate::{base_files, checked, with_file};

/// A rule with a `si` nested in the `alors` of another, a `si_inconnu` in the `sinon`,
/// and an amount without payment threshold; its cases reach some branches and not others.
const RULE: &str = r#"
id = "cov"
titre = "Couverture"
type = "prestation"
prestation = "cov"
en_paiement = "demo_en_paiement"
base_legale = [{ texte = "Code D", article = "L1", url = "https://example.org/d" }]

[variables.taux]
titre = "Taux"
expr = "si(en_couple, si(nb_enfants > 0, 3, 2), si_inconnu(ressources, 0))"

[conditions.a]
titre = "A"
expr = "age_mois >= 300"
base_legale = [{ texte = "Code D", article = "L2", url = "https://example.org/d" }]

[conditions.b]
titre = "B"
expr = "nb_enfants > 0"
base_legale = [{ texte = "Code D", article = "L3", url = "https://example.org/d" }]

[eligibilite]
toutes = ["a", "b"]

[montant]
expr = "taux * 100"
base_legale = [{ texte = "Code D", article = "L4", url = "https://example.org/d" }]

[situation_de_base]
demo_en_paiement = false
statut_logement = "locataire"

[[tests]]
nom = "t1 : couple avec enfant"
mois = "2025-04"
situation = { age_mois = 360, en_couple = true, nb_enfants = 1, ressources = 10 }
statut = "eligible"

[[tests]]
nom = "t2 : couple jeune sans enfant"
mois = "2025-04"
situation = { age_mois = 200, en_couple = true, nb_enfants = 0, ressources = 10 }
statut = "non_eligible"

[[tests]]
nom = "t3 : seul, ressources inconnues"
mois = "2025-04"
situation = { age_mois = 360, en_couple = false, nb_enfants = 0 }
statut = "non_eligible"

[[tests]]
nom = "t4 : âge et couple inconnus"
mois = "2025-05"
situation = { nb_enfants = 0, ressources = 10 }
statut = "non_eligible"
"#;

fn coverage_of(id: &str) -> (RuleCoverage, Vec<RuleCoverage>) {
    let rs = checked(&with_file(base_files(), "cov.toml", RULE), "2025-06");
    let all = coverage(&rs).expect("evaluates");
    let one = all.iter().find(|c| c.regle == id).expect("rule covered").clone();
    (one, all)
}

#[test]
fn conditions_are_counted_on_the_rules_own_cases_only() {
    let (cov, _) = coverage_of("cov");
    assert_eq!(cov.cas, 4);
    let count = |name: &str| {
        let c = cov.conditions.iter().find(|c| c.condition == name).expect("condition listed");
        (c.vrai, c.faux, c.inconnu)
    };
    // The demo rule's own case (35 years old) is evaluated too, but is not cov's.
    assert_eq!(count("a"), (2, 1, 1));
    assert_eq!(count("b"), (1, 3, 0));
    // Kleene: an unknown age beside no child is false.
    assert_eq!(count("eligibilite"), (1, 3, 0));
}

#[test]
fn a_branch_counts_only_where_the_case_reaches_it() {
    let (cov, _) = coverage_of("cov");
    type Site<'a> = (&'a str, usize, &'a str, Vec<(&'a str, usize)>);
    let sites: Vec<Site> = cov
        .branches
        .iter()
        .map(|s| {
            (s.definition.as_str(), s.rang, s.sujet.as_str(), s.branches.iter().map(|b| (b.branche, b.cas)).collect())
        })
        .collect();
    assert_eq!(
        sites,
        vec![
            ("taux", 1, "en_couple", vec![("alors", 2), ("sinon", 1), ("condition inconnue", 1)]),
            // t3 and t4 have no child either, but take the outer `sinon` or none.
            ("taux", 2, "nb_enfants > 0", vec![("alors", 1), ("sinon", 1), ("condition inconnue", 0)]),
            // t1, t2 and t4 give their resources, but never reach the `sinon`.
            ("taux", 3, "ressources", vec![("valeur connue", 0), ("defaut", 1)]),
        ]
    );
    assert!(
        cov.manques().contains(&"`taux`: si_inconnu #3 (ressources) never takes `valeur connue`".to_string()),
        "{:?}",
        cov.manques()
    );
}

#[test]
fn the_percentage_counts_each_goal_once_and_spares_the_generated_positivity_guard() {
    let (cov, all) = coverage_of("cov");
    let versable = cov.conditions.iter().find(|c| c.condition == "montant_versable").expect("generated");
    // `montant_calcule > 0`, written by the checker: not required false (a fixed positive
    // rate never is), but counted when it is (t3's default rate of 0).
    assert!(!versable.faux_requis);
    assert_eq!((versable.vrai, versable.faux, versable.inconnu), (2, 1, 1));
    // a, b, eligibilite, eligible: true and false; montant_versable: true; three sites
    // of two required branches each; only `valeur connue` is missed.
    assert_eq!(cov.goals(), (14, 15));
    assert_eq!(cov.manques().len(), 1, "{:?}", cov.manques());
    // The demo rule's payment threshold is its own text: a test must see it false.
    let demo = all.iter().find(|c| c.regle == "demo").expect("demo covered");
    let seuil = demo.conditions.iter().find(|c| c.condition == "montant_versable").expect("threshold");
    assert!(seuil.faux_requis);
    assert!(demo.manques().contains(&"condition `montant_versable` never false".to_string()));
}
