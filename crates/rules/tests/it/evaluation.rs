//! Evaluation through Polars: parameter resolution around a revaluation, three-valued
//! logic, the worked example (ASPA) on a small frame, explanations.

use polars::prelude::*;
use reperage_rules::explain::{cell, explain};
use reperage_rules::{Compiled, Date, Value, source};

use crate::{base_files, checked, mois, with_file};

#[test]
fn parameters_resolve_on_the_day_before_of_and_after_a_revaluation() {
    let rs = checked(&base_files(), "2025-06");
    let p = &rs.params["demo.plafond"];
    let value = |d: &str| match p.at(Date::parse(d).expect("date")).map(|v| &v.valeur) {
        Some(reperage_rules::model::ParamValue::Nombre(n)) => *n,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(value("2025-03-31"), 1000.0);
    assert_eq!(value("2025-04-01"), 1100.0);
    assert_eq!(value("2025-04-02"), 1100.0);
    assert_eq!(value("2024-04-01"), 1000.0);
    assert!(p.at(Date::parse("2024-03-31").expect("date")).is_none(), "no value before the first date");
    assert_eq!(p.in_force(mois("2025-03")).map(|v| v.depuis.as_str()), Some("2024-04-01"));
    assert_eq!(p.in_force(mois("2025-04")).map(|v| v.depuis.as_str()), Some("2025-04-01"));
}

fn demo_frame(rs: &reperage_rules::RuleSet, at: &str) -> DataFrame {
    let compiled = Compiled::new(rs, mois(at), None).expect("compiles");
    let df = df!(
        "age_mois" => [360.0f64],
        "en_couple" => [false],
        "nb_enfants" => [0.0f64],
        "ressources" => [0.0f64],
        "statut_logement" => ["locataire"],
        "date_naissance" => [Option::<i32>::None],
        "demo_en_paiement" => [false],
    )
    .expect("frame");
    compiled.evaluate(df, true).expect("evaluates")
}

#[test]
fn the_amount_follows_the_revaluation_month() {
    let rs = checked(&base_files(), "2025-06");
    assert_eq!(cell(&demo_frame(&rs, "2025-03"), "demo.montant", 0), Value::Nombre(1000.0));
    assert_eq!(cell(&demo_frame(&rs, "2025-04"), "demo.montant", 0), Value::Nombre(1100.0));
}

#[test]
fn a_month_without_a_parameter_value_is_refused() {
    let rs = checked(&base_files(), "2025-06");
    let err = Compiled::new(&rs, mois("2024-01"), None).expect_err("no value in force in 2024-01");
    assert!(err.to_string().contains("demo.plafond"), "{err}");
}

/// The legal basis the hand-written rules of these tests cite.
const BASE: &str = "base_legale = [{ texte = \"T\", url = \"u\" }]";

/// A situation file declaring `names` as inputs of type `kind`.
fn inputs_of(kind: &str, names: &[&str]) -> String {
    names.iter().map(|n| format!("[{n}]\ntype = \"{kind}\"\ntitre = \"{n}\"\n")).collect()
}

/// An event rule `id` citing [`BASE`], with `body` after its header.
fn event_rule(id: &str, body: &str) -> String {
    format!("id = \"{id}\"\ntitre = \"{id}\"\ntype = \"evenement\"\n{BASE}\n{body}")
}

/// A rule whose conditions are the Kleene operators over two boolean inputs.
fn kleene_rules() -> reperage_rules::RuleSet {
    let situation = inputs_of("booleen", &["a", "b"]);
    let base = BASE;
    let rule = event_rule(
        "k",
        &format!(
            "[conditions.ca]\ntitre = \"a\"\nexpr = \"a\"\n{base}\n\
             [conditions.cb]\ntitre = \"b\"\nexpr = \"b\"\n{base}\n\
             [conditions.et]\ntitre = \"a et b\"\nexpr = \"a et b\"\n{base}\n\
             [conditions.ou]\ntitre = \"a ou b\"\nexpr = \"a ou b\"\n{base}\n\
             [conditions.non_a]\ntitre = \"non a\"\nexpr = \"non a\"\n{base}\n\
             [conditions.toutes]\ntitre = \"toutes\"\ntoutes = [\"ca\", \"cb\"]\n{base}\n\
             [conditions.une_de]\ntitre = \"une_de\"\nune_de = [\"ca\", \"cb\"]\n{base}\n\
             [conditions.connu]\ntitre = \"a connu\"\nexpr = \"est_connu(a)\"\n{base}\n\
             [eligibilite]\ntoutes = [\"et\"]\n"
        ),
    );
    let files = with_file(with_file(Vec::new(), "situation.toml", &situation), "k.toml", &rule);
    checked(&files, "2025-01")
}

#[test]
fn three_valued_logic_follows_kleene() {
    let rs = kleene_rules();
    let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
    let t = Some(true);
    let f = Some(false);
    let n: Option<bool> = None;
    let pairs = [(t, t), (t, f), (t, n), (f, t), (f, f), (f, n), (n, t), (n, f), (n, n)];
    let a: Vec<Option<bool>> = pairs.iter().map(|p| p.0).collect();
    let b: Vec<Option<bool>> = pairs.iter().map(|p| p.1).collect();
    let df = df!("a" => a, "b" => b).expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let get = |c: &str, row: usize| match cell(&out, &format!("k.{c}"), row) {
        Value::Booleen(x) => Some(x),
        Value::Inconnu => None,
        other => panic!("{other:?}"),
    };
    //                  TT TF  TN FT FF FN  NT NF  NN
    let and_expected = [t, f, n, f, f, f, n, f, n];
    let or_expected = [t, t, t, t, f, n, t, n, n];
    for (row, (e_and, e_or)) in and_expected.iter().zip(or_expected.iter()).enumerate() {
        assert_eq!(get("et", row), *e_and, "a et b, row {row} {:?}", pairs[row]);
        assert_eq!(get("toutes", row), *e_and, "toutes, row {row}");
        assert_eq!(get("ou", row), *e_or, "a ou b, row {row} {:?}", pairs[row]);
        assert_eq!(get("une_de", row), *e_or, "une_de, row {row}");
        assert_eq!(get("non_a", row), pairs[row].0.map(|x| !x), "non a, row {row}");
        assert_eq!(get("connu", row), Some(pairs[row].0.is_some()), "est_connu never unknown");
    }
    // The status: unknown AND false is false (non_eligible), unknown AND true is unknown.
    assert_eq!(cell(&out, "k.statut", 5), Value::Texte("non_eligible".into()));
    assert_eq!(cell(&out, "k.statut", 2), Value::Texte("indetermine".into()));
    assert_eq!(cell(&out, "k.manquants", 2), Value::Texte("b".into()));
    assert_eq!(cell(&out, "k.manquants", 8), Value::Texte("a, b".into()));
    assert_eq!(cell(&out, "k.manquants", 5), Value::Inconnu, "no missing input named when decided");
}

fn shipped() -> reperage_rules::RuleSet {
    checked(&source::embedded(), "2025-03")
}

/// The worked example of docs/rules.md, on five foyers.
#[test]
fn worked_example_aspa_on_a_small_frame() {
    let rs = shipped();
    let compiled = Compiled::new(&rs, mois("2025-03"), Some(&["aspa".to_string()])).expect("compiles");
    let df = df!(
        // 0: alone, 70, no resources. 1: alone, 64. 2: couple 70/71, 1 500 € of gross
        // pensions over 3 months. 3: alone, resources unknown. 4: alone, age unknown,
        // resources above the ceiling.
        "age_allocataire_mois" => [Some(840.0), Some(779.0), Some(840.0), Some(840.0), None],
        "age_conjoint_mois" => [None, None, Some(852.0), None, None],
        "en_couple" => [false, false, true, false, false],
        "ressources_3m_couple" => [Some(0.0), Some(0.0), Some(1500.0), None, Some(4000.0)],
        "ressources_3m_couple_pensions" => [Some(0.0), Some(0.0), Some(1500.0), None, Some(4000.0)],
        "ressources_3m_couple_pensions_brut" => [Some(0.0), Some(0.0), Some(1500.0), None, Some(4000.0)],
        "revenus_activite_3m_couple" => [Some(0.0), Some(0.0), Some(0.0), None, Some(0.0)],
        "revenus_activite_3m_couple_brut" => [Some(0.0), Some(0.0), Some(0.0), None, Some(0.0)],
        "aah_montant_3m_allocataire" => [0.0, 0.0, 0.0, 0.0, 0.0],
        "aah_montant_3m_conjoint" => [0.0, 0.0, 0.0, 0.0, 0.0],
        "aspa_en_paiement" => [false, false, true, false, false],
        "nationalite_allocataire" => ["francaise", "francaise", "francaise", "francaise", "francaise"],
        "sejour_regulier_5ans_allocataire" => [None::<bool>, None, None, None, None],
        "sejour_regulier_10ans_allocataire" => [None::<bool>, None, None, None, None],
        "nationalite_conjoint" => [None, None, Some("francaise"), None, None],
        "sejour_regulier_5ans_conjoint" => [None::<bool>, None, None, None, None],
        "sejour_regulier_10ans_conjoint" => [None::<bool>, None, None, None, None],
    )
    .expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let statut = |row| cell(&out, "aspa.statut", row);
    let montant = |row| match cell(&out, "aspa.montant", row) {
        Value::Nombre(n) => Some((n * 100.0).round() / 100.0),
        _ => None,
    };
    // 12 411,44 € a year from 2025-01-01 (Circulaire Cnav 2024-39): 1 034,29 € a month.
    assert_eq!(statut(0), Value::Texte("eligible".into()));
    assert_eq!(montant(0), Some(1034.29));
    assert_eq!(statut(1), Value::Texte("non_eligible".into()));
    assert_eq!(montant(1), Some(0.0));
    // Couple: (19 268,80 − 1 500 × 4) / 12 = 1 105,73 €.
    assert_eq!(statut(2), Value::Texte("eligible".into()));
    assert_eq!(montant(2), Some(1105.73));
    assert_eq!(cell(&out, "aspa.en_paiement", 2), Value::Booleen(true));
    // Unknown resources: undetermined, no amount, and the missing inputs are named (not
    // the conjoint's age, unknown but irrelevant for a single person; not the gross
    // amounts, which the net ones would stand in for).
    assert_eq!(statut(3), Value::Texte("indetermine".into()));
    assert_eq!(montant(3), None);
    assert_eq!(
        cell(&out, "aspa.manquants", 3),
        Value::Texte("ressources_3m_couple, ressources_3m_couple_pensions, revenus_activite_3m_couple".into())
    );
    // Unknown age, but resources above the ceiling: decided, not eligible.
    assert_eq!(statut(4), Value::Texte("non_eligible".into()));
    assert_eq!(cell(&out, "aspa.beneficiaire", 4), Value::Inconnu);
    assert_eq!(cell(&out, "aspa.ressources_sous_plafond", 4), Value::Booleen(false));

    let e = explain(&rs, &compiled, &out, 0);
    let text = e.to_string();
    assert!(text.contains("Résultat : eligible, montant mensuel estimé 1034,29 €"), "{text}");
    assert!(text.contains("aspa.plafond_personne_seule = 12411,44 €/an (en vigueur depuis le 2025-01-01)"), "{text}");
    assert!(text.contains("Circulaire Cnav 2024-39"), "{text}");
    assert!(text.contains("age_allocataire"), "{text}");
    let json = serde_json::to_value(&e).expect("json");
    let rule = &json["regles"][0];
    assert_eq!(rule["id"], "aspa");
    assert_eq!(rule["arbre"]["nom"], "eligible");
    assert_eq!(rule["arbre"]["conditions"][0]["nom"], "eligibilite");
    let params = rule["parametres"].as_array().expect("list");
    assert!(
        params.iter().any(|p| p.to_string().contains("plafond_personne_seule") && p["depuis"] == "2025-01-01"),
        "{params:?}"
    );
}

/// `bareme` reads the bracket of its value, adds `par_unite_au_dela` per unit above the
/// last bound, and is unknown below the first bound (demo coefficient: 1, 1.5, 1.8, +0.4).
#[test]
fn scales_follow_their_brackets() {
    let rs = checked(&base_files(), "2025-06");
    let compiled = Compiled::new(&rs, mois("2025-04"), None).expect("compiles");
    // nb_personnes = 1 + couple + children: 1, 2, 3, 5, and -1 (below the first bound).
    let df = df!(
        "age_mois" => [360.0f64; 5],
        "en_couple" => [false, true, true, true, false],
        "nb_enfants" => [0.0f64, 0.0, 1.0, 3.0, -2.0],
        "ressources" => [0.0f64; 5],
        "statut_logement" => ["locataire"; 5],
        "date_naissance" => [Option::<i32>::None; 5],
        "demo_en_paiement" => [false; 5],
    )
    .expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let plafond = |row| cell(&out, "demo.plafond_foyer", row);
    // 1 100 € (from 2025-04-01) × coefficient.
    assert_eq!(plafond(0), Value::Nombre(1100.0));
    assert_eq!(plafond(1), Value::Nombre(1650.0));
    assert_eq!(plafond(2), Value::Nombre(1100.0 * 1.8));
    assert_eq!(plafond(3), Value::Nombre(1100.0 * (1.8 + 2.0 * 0.4)));
    assert_eq!(plafond(4), Value::Inconnu, "below the first bound: unknown, not 0");
}

/// A rule whose functions are called with different arguments, one function calling
/// another; each call must give what the body written out by hand gives.
#[test]
fn a_function_call_is_its_body_with_the_arguments_in_place() {
    let situation = inputs_of("nombre", &["x", "y"]);
    let rule = event_rule(
        "f",
        &format!(
            "[fonctions.au_dela]\ntitre = \"part au-delà d'un seuil\"\nparametres = [\"montant\", \"seuil\"]\n\
             expr = \"max(0, montant - seuil)\"\n\
             [fonctions.double_au_dela]\ntitre = \"deux fois\"\nparametres = [\"v\"]\n\
             expr = \"2 * au_dela(v, y)\"\n\
             [variables.a]\ntitre = \"a\"\nexpr = \"au_dela(x, 10) + au_dela(y, x)\"\n\
             [variables.b]\ntitre = \"b\"\nexpr = \"double_au_dela(x + 1)\"\n\
             [conditions.c]\ntitre = \"c\"\nexpr = \"a > 5\"\n{BASE}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        ),
    );
    let files = with_file(with_file(Vec::new(), "situation.toml", &situation), "f.toml", &rule);
    let rs = checked(&files, "2025-01");
    let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
    let df = df!("x" => [Some(30.0), Some(4.0), None], "y" => [Some(50.0), Some(1.0), Some(3.0)]).expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let get = |c: &str, row| cell(&out, &format!("f.{c}"), row);
    // Row 0: max(0, 30-10) + max(0, 50-30) = 40; 2 × max(0, 31-50) = 0.
    assert_eq!(get("a", 0), Value::Nombre(40.0));
    assert_eq!(get("b", 0), Value::Nombre(0.0));
    // Row 1: max(0, 4-10) + max(0, 1-4) = 0; 2 × max(0, 5-1) = 8.
    assert_eq!(get("a", 1), Value::Nombre(0.0));
    assert_eq!(get("b", 1), Value::Nombre(8.0));
    // Row 2: x unknown: both unknown, and the missing input is named.
    assert_eq!(get("a", 2), Value::Inconnu);
    assert_eq!(get("b", 2), Value::Inconnu);
    assert_eq!(get("statut", 2), Value::Texte("indetermine".into()));
    assert_eq!(get("manquants", 2), Value::Texte("x".into()));
    assert_eq!(rs.rule("f").map(|r| r.fonctions.len()), Some(2), "functions kept for the catalog");
}

/// `au_1er_janvier(param.x)` reads the value in force on 1 January of the month's year,
/// `au_mois_precedent(param.x, k)` the value in force in month M-k (through a function
/// whose argument is the month); the compiled rule lists each read with its date.
#[test]
fn parameters_read_at_other_dates_than_the_month() {
    let situation = inputs_of("nombre", &["x"]);
    let rule = event_rule(
        "p",
        &format!(
            "[fonctions.plafond_du_mois]\ntitre = \"plafond de M-k\"\nparametres = [\"k\"]\n\
             expr = \"au_mois_precedent(param.demo.plafond, k)\"\n\
             [variables.janvier]\ntitre = \"j\"\nexpr = \"au_1er_janvier(param.demo.plafond)\"\n\
             [variables.m1]\ntitre = \"m1\"\nexpr = \"plafond_du_mois(1)\"\n\
             [variables.m3]\ntitre = \"m3\"\nexpr = \"plafond_du_mois(3)\"\n\
             [variables.m]\ntitre = \"m\"\nexpr = \"param.demo.plafond + x\"\n\
             [conditions.c]\ntitre = \"c\"\nexpr = \"m > 0\"\n{BASE}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        ),
    );
    let files = with_file(with_file(base_files(), "situation.toml", &situation), "p.toml", &rule);
    let files: Vec<_> = files.into_iter().filter(|f| f.path != "demo.toml").collect();
    let rs = checked(&files, "2025-05");
    // demo.plafond: 1 000 from 2024-04-01, 1 100 from 2025-04-01. In May 2025: January
    // and February (M-3) read 1 000, April (M-1) and May 1 100.
    let compiled = Compiled::new(&rs, mois("2025-05"), None).expect("compiles");
    let out = compiled.evaluate(df!("x" => [0.0f64]).expect("frame"), true).expect("evaluates");
    assert_eq!(cell(&out, "p.janvier", 0), Value::Nombre(1000.0));
    assert_eq!(cell(&out, "p.m3", 0), Value::Nombre(1000.0));
    assert_eq!(cell(&out, "p.m1", 0), Value::Nombre(1100.0));
    assert_eq!(cell(&out, "p.m", 0), Value::Nombre(1100.0));
    let mut reads: Vec<(String, String)> = compiled.params.iter().map(|p| (p.id.clone(), p.lu_au.clone())).collect();
    reads.sort();
    assert_eq!(
        reads,
        [
            ("demo.plafond".to_string(), "2025-01-01".to_string()),
            ("demo.plafond".to_string(), "2025-02-01".to_string()),
            ("demo.plafond".to_string(), "2025-04-01".to_string()),
            ("demo.plafond".to_string(), "2025-05-01".to_string()),
        ]
    );
}

/// Two rules over four numeric inputs: `p` tests a `si` whose condition is an `et`, `q`
/// reads one of `p`'s branches' inputs alone.
fn nested_rules() -> reperage_rules::RuleSet {
    let situation = inputs_of("nombre", &["x", "y", "z", "w"]);
    let base = BASE;
    let p = event_rule(
        "p",
        &format!(
            "[conditions.c]\ntitre = \"c\"\nexpr = \"si(x > 1 et y > 1, z > 1, w > 1)\"\n{base}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        ),
    );
    let q = event_rule(
        "q",
        &format!("[conditions.d]\ntitre = \"d\"\nexpr = \"w > 1\"\n{base}\n[eligibilite]\ntoutes = [\"d\"]\n"),
    );
    let files = with_file(Vec::new(), "situation.toml", &situation);
    checked(&with_file(with_file(files, "p.toml", &p), "q.toml", &q), "2025-01")
}

#[test]
fn each_rule_names_its_own_missing_inputs_through_nested_conditions() {
    let rs = nested_rules();
    let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
    let n: Option<f64> = None;
    let df = df!(
        "x" => [Some(2.0), Some(0.0), n, n, Some(2.0)],
        "y" => [Some(2.0), n, Some(0.0), Some(2.0), Some(2.0)],
        "z" => [n, n, n, n, Some(2.0)],
        "w" => [n, n, n, Some(2.0), Some(0.0)],
    )
    .expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let manquants =
        |rule: &str| -> Vec<Value> { (0..5).map(|row| cell(&out, &format!("{rule}.manquants"), row)).collect() };
    let t = |s: &str| Value::Texte(s.into());
    // Row 0: the condition holds, the `alors` branch is unknown: z, not w.
    // Rows 1 and 2: one operand of `et` is false, so the other's unknown does not count
    // and the `sinon` branch decides: w.
    // Row 3: the condition is unknown (x, beside a true y): x alone; q is decided there.
    // Row 4: everything known.
    assert_eq!(manquants("p"), [t("z"), t("w"), t("w"), t("x"), Value::Inconnu]);
    assert_eq!(manquants("q"), [t("w"), t("w"), t("w"), Value::Inconnu, Value::Inconnu]);
    assert_eq!(cell(&out, "p.statut", 3), Value::Texte("indetermine".into()));
    assert_eq!(cell(&out, "q.statut", 3), Value::Texte("eligible".into()));
}

/// A benefit's `montant_en_jeu` is its amount when eligible and not in payment, 0 when in
/// payment or not eligible, unknown when undetermined; an event's `[montant]` is the
/// amount at stake it reads from them and does not condition the event (an event with
/// nothing at stake still holds).
#[test]
fn an_event_carries_the_amount_at_stake_without_being_conditioned_by_it() {
    let situation = format!("{}{}", inputs_of("nombre", &["x"]), inputs_of("booleen", &["paye", "ev"]));
    let benefit = format!(
        "id = \"b\"\ntitre = \"b\"\ntype = \"prestation\"\nprestation = \"b\"\nen_paiement = \"paye\"\n{BASE}\n\
         [conditions.c]\ntitre = \"c\"\nexpr = \"x > 0\"\n{BASE}\n\
         [eligibilite]\ntoutes = [\"c\"]\n\
         [montant]\nexpr = \"x * 2\"\n{BASE}\n"
    );
    let event = event_rule(
        "e",
        &format!(
            "[conditions.c]\ntitre = \"c\"\nexpr = \"ev\"\n{BASE}\n\
             [eligibilite]\ntoutes = [\"c\"]\n\
             [montant]\nexpr = \"si_inconnu(b.montant_en_jeu, 0)\"\n{BASE}\n"
        ),
    );
    let files =
        with_file(with_file(with_file(Vec::new(), "situation.toml", &situation), "b.toml", &benefit), "e.toml", &event);
    let rs = checked(&files, "2025-01");
    let compiled = Compiled::new(&rs, mois("2025-01"), None).expect("compiles");
    // 0: eligible, not paid. 1: eligible, paid. 2: not eligible. 3: undetermined.
    let df = df!(
        "x" => [Some(10.0), Some(10.0), Some(-1.0), None],
        "paye" => [false, true, false, false],
        "ev" => [true, true, true, false],
    )
    .expect("frame");
    let out = compiled.evaluate(df, true).expect("evaluates");
    let en_jeu: Vec<Value> = (0..4).map(|i| cell(&out, "b.montant_en_jeu", i)).collect();
    assert_eq!(en_jeu, [Value::Nombre(20.0), Value::Nombre(0.0), Value::Nombre(0.0), Value::Inconnu]);
    let montant: Vec<Value> = (0..4).map(|i| cell(&out, "e.montant", i)).collect();
    assert_eq!(montant, [Value::Nombre(20.0), Value::Nombre(0.0), Value::Nombre(0.0), Value::Nombre(0.0)]);
    // Nothing at stake (rows 1, 2): the event holds all the same.
    let statut: Vec<Value> = (0..4).map(|i| cell(&out, "e.statut", i)).collect();
    let eligible = Value::Texte("eligible".into());
    assert_eq!(statut[..3], [eligible.clone(), eligible.clone(), eligible]);
    assert_eq!(statut[3], Value::Texte("non_eligible".into()));

    // An event's amount has no payment threshold.
    let with_threshold = event.replace("[montant]\n", "[montant]\nseuil_versement = \"15\"\n");
    let c = reperage_rules::check(&with_file(files.clone(), "e.toml", &with_threshold), mois("2025-01"));
    assert!(c.ruleset.is_none(), "refused");
    assert!(c.diagnostics.to_string().contains("amount at stake"), "{}", c.diagnostics);

    // Nor is it paid once; `versement` is `mensuel` or `unique`.
    let once = event.replace("[montant]\n", "[montant]\nversement = \"unique\"\n");
    let c = reperage_rules::check(&with_file(files.clone(), "e.toml", &once), mois("2025-01"));
    assert!(c.diagnostics.to_string().contains("it is not paid once"), "{}", c.diagnostics);
    let unknown = benefit.replace("[montant]\n", "[montant]\nversement = \"annuel\"\n");
    let c = reperage_rules::check(&with_file(files.clone(), "b.toml", &unknown), mois("2025-01"));
    assert!(c.diagnostics.to_string().contains("unknown `versement` `annuel`"), "{}", c.diagnostics);
    // A benefit paid once says so, and its amount is not monthly.
    let paid_once = benefit.replace("[montant]\n", "[montant]\nversement = \"unique\"\n");
    let rs = checked(&with_file(files, "b.toml", &paid_once), "2025-01");
    let rule = rs.rule("b").expect("rule b");
    assert!(rule.versement_unique);
    assert_eq!(rule.def("montant_calcule").and_then(|d| d.unite.as_deref()), Some("€"));
}

/// `au_1er_janvier(param.x, n)` reads the value in force on 1 January of the year `n`
/// years before M's (the family benefits' year N-2); a year without a value is refused
/// like a month without one.
#[test]
fn a_parameter_read_on_1_january_of_an_earlier_year() {
    let situation = inputs_of("nombre", &["x"]);
    let rule = event_rule(
        "n",
        &format!(
            "[variables.n1]\ntitre = \"n1\"\nexpr = \"au_1er_janvier(param.demo.plafond, 1)\"\n\
             [conditions.c]\ntitre = \"c\"\nexpr = \"n1 + x > 0\"\n{BASE}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        ),
    );
    let files = with_file(with_file(base_files(), "situation.toml", &situation), "n.toml", &rule);
    let files: Vec<_> = files.into_iter().filter(|f| f.path != "demo.toml").collect();
    let rs = checked(&files, "2026-05");
    // demo.plafond: 1 000 from 2024-04-01, 1 100 from 2025-04-01. In May 2026, 1 January
    // 2025 reads 1 000; in May 2025, 1 January 2024 has no value.
    let compiled = Compiled::new(&rs, mois("2026-05"), None).expect("compiles");
    let out = compiled.evaluate(df!("x" => [0.0f64]).expect("frame"), true).expect("evaluates");
    assert_eq!(cell(&out, "n.n1", 0), Value::Nombre(1000.0));
    assert!(compiled.params.iter().any(|p| p.id == "demo.plafond" && p.lu_au == "2025-01-01"));
    let err = Compiled::new(&rs, mois("2025-05"), None).expect_err("no value on 2024-01-01");
    assert!(err.to_string().contains("demo.plafond"), "{err}");
    let bad = rule.replace("plafond, 1)", "plafond, 1.5)");
    let c = reperage_rules::check(&with_file(files, "n.toml", &bad), mois("2026-05"));
    assert!(c.diagnostics.to_string().contains("whole number of years"), "{}", c.diagnostics);
}

/// `au_mois_precedent(param.x, k)` with `k` computed for each foyer reads the value in
/// force on the first day of M-k, row by row (a prime at the BMAF of the month it was
/// due); unknown when `k` is, beyond 36 months, or before the parameter's first value.
/// The compiled rule lists each value it may read, at the first month it is in force.
#[test]
fn a_parameter_read_in_a_month_computed_per_foyer() {
    let situation = inputs_of("nombre", &["x"]);
    let rule = event_rule(
        "n",
        &format!(
            "[variables.v]\ntitre = \"v\"\nexpr = \"au_mois_precedent(param.demo.plafond, x + 1)\"\n\
             [conditions.c]\ntitre = \"c\"\nexpr = \"x >= 0\"\n{BASE}\n\
             [eligibilite]\ntoutes = [\"c\"]\n"
        ),
    );
    let files = with_file(with_file(base_files(), "situation.toml", &situation), "n.toml", &rule);
    let files: Vec<_> = files.into_iter().filter(|f| f.path != "demo.toml").collect();
    let rs = checked(&files, "2025-06");
    // demo.plafond: 1 000 from 2024-04-01, 1 100 from 2025-04-01. In June 2025: k = 1
    // (May) and k = 2 (April) read 1 100; k = 3 (March) and k = 14 (April 2024) 1 000;
    // k = 15 (March 2024) has no value; k = 40 is beyond 36 months.
    let compiled = Compiled::new(&rs, mois("2025-06"), None).expect("compiles");
    let x = [Some(0.0), Some(1.0), Some(2.0), Some(13.0), Some(14.0), Some(39.0), None];
    let out = compiled.evaluate(df!("x" => x).expect("frame"), true).expect("evaluates");
    let v: Vec<Value> = (0..x.len()).map(|i| cell(&out, "n.v", i)).collect();
    let (a, b) = (Value::Nombre(1100.0), Value::Nombre(1000.0));
    assert_eq!(v, [a.clone(), a, b.clone(), b, Value::Inconnu, Value::Inconnu, Value::Inconnu]);
    let mut reads: Vec<&str> =
        compiled.params.iter().filter(|p| p.id == "demo.plafond").map(|p| p.lu_au.as_str()).collect();
    reads.sort();
    assert_eq!(reads, ["2025-03-01", "2025-06-01"]);
}
