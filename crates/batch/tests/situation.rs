//! The situation builder produces every input declared in rules/situation.toml, with
//! its declared type, and computes them as docs/situation.md says.

use std::path::PathBuf;

use polars::prelude::*;
use reperage_batch::{extract, situation};
use reperage_rules::compile::{PlanCache, dtype};
use reperage_rules::explain::cell;
use reperage_rules::{Mois, Value, check, source};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-data").join(name)
}

/// A copy of a sample extract in a temporary folder, to edit.
fn copy_of(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    for f in std::fs::read_dir(sample(name)).expect("dir") {
        let p = f.expect("entry").path();
        std::fs::copy(&p, tmp.path().join(p.file_name().expect("name"))).expect("copy");
    }
    tmp
}

/// The value of input `c` for foyer `id` in a built situation.
fn input(df: &DataFrame, id: &str, c: &str) -> Value {
    let ids = df.column("id_foyer").expect("id").str().expect("str");
    cell(df, c, ids.iter().position(|x| x == Some(id)).expect("foyer"))
}

fn situation_of(name: &str) -> DataFrame {
    let mois = Mois::parse("2025-03").expect("month");
    let extract = extract::load(&sample(name), mois).expect("loads");
    situation::build(&extract, None, mois, &PlanCache::default()).expect("builds")
}

/// One plan kept for the situations of several extracts (as for the pieces of one):
/// each extract's situation is the one planned for it alone, with and without last
/// month's extract.
#[test]
fn a_kept_plan_builds_each_extracts_own_situation() {
    let mois = Mois::parse("2025-03").expect("month");
    let load = |name: &str, mois: Mois| extract::load(&sample(name), mois).expect("loads");
    let (synthetique, cas_limites) = (load("synthetique", mois), load("cas-limites", mois));
    let (synthetique_avant, cas_limites_avant) =
        (load("synthetique-precedent", mois.plus(-1)), load("cas-limites-precedent", mois.plus(-1)));
    for previous in [false, true] {
        let kept = PlanCache::default();
        let pairs = [
            (&synthetique, &synthetique_avant),
            (&cas_limites, &cas_limites_avant),
            (&synthetique, &synthetique_avant),
        ];
        for (current, before) in pairs {
            let before = previous.then_some(before);
            let alone = situation::build(current, before, mois, &PlanCache::default()).expect("builds");
            let shared = situation::build(current, before, mois, &kept).expect("builds");
            assert!(alone.height() > 0);
            assert!(shared.equals_missing(&alone), "the same situation, previous: {previous}");
        }
        assert_eq!(kept.plannings(), 1, "planned once for the three");
    }
}

/// The situation is in id order and the same whatever the order of the rows of
/// `foyers` and `personnes` (an export need not sort them): the sums stacked beside the
/// foyers follow their rows.
#[test]
fn the_situation_does_not_depend_on_the_order_of_the_rows() {
    let mois = Mois::parse("2025-03").expect("month");
    let reversed = copy_of("synthetique");
    for table in ["foyers", "personnes"] {
        let path = reversed.path().join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].reverse();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    }
    let previous = extract::load(&sample("synthetique-precedent"), mois.plus(-1)).expect("loads");
    let build = |dir: &std::path::Path| {
        let extract = extract::load(dir, mois).expect("loads");
        assert!(extract.table(extract::Table::Foyers).height() > 100);
        situation::build(&extract, Some(&previous), mois, &PlanCache::default()).expect("builds")
    };
    let (inverse, sorted) = (build(reversed.path()), build(&sample("synthetique")));
    let ids: Vec<&str> = inverse.column("id_foyer").expect("ids").str().expect("text").iter().flatten().collect();
    assert!(ids.is_sorted(), "in id order");
    assert_eq!(ids.len(), inverse.height());
    for c in sorted.columns() {
        let other = inverse.column(c.name()).expect("column");
        assert!(other.equals_missing(c), "{}", c.name());
    }
    assert!(inverse.equals_missing(&sorted), "the same situation");
}

/// cas-limites (2025-03) compared with cas-limites-precedent (2025-02): see the README
/// of the latter for what changed in each foyer.
#[test]
fn comparison_with_last_months_extract() {
    let mois = Mois::parse("2025-03").expect("month");
    let current = extract::load(&sample("cas-limites"), mois).expect("loads");
    let previous = extract::load(&sample("cas-limites-precedent"), mois.plus(-1)).expect("loads");
    let df = situation::build(&current, Some(&previous), mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, &format!("precedent_{c}"));
    let (t, f) = (Value::Booleen(true), Value::Booleen(false));
    // CL001 moved; nothing else changed.
    assert_eq!(get("CL001", "changement_commune"), t);
    assert_eq!(get("CL001", "nouvel_enfant"), f);
    assert_eq!(get("CL001", "depart_conjoint"), f);
    assert_eq!(get("CL001", "droit_arrete"), f);
    // CL002: its ALF stopped; same conjoint, same commune.
    assert_eq!(get("CL002", "droit_arrete"), t);
    assert_eq!(get("CL002", "depart_conjoint"), f);
    assert_eq!(get("CL002", "changement_commune"), f);
    // CL003: a child joined; its PPA is still in payment.
    assert_eq!(get("CL003", "nouvel_enfant"), t);
    assert_eq!(get("CL003", "droit_arrete"), f);
    // CL004: the conjoint left.
    assert_eq!(get("CL004", "depart_conjoint"), t);
    assert_eq!(get("CL004", "nouvel_enfant"), f);
    // CL005 is not in last month's extract: no comparison.
    for c in ["nouvel_enfant", "depart_conjoint", "changement_commune", "droit_arrete"] {
        assert_eq!(get("CL005", c), Value::Inconnu, "{c}");
    }
    // Without a previous extract every comparison is unknown.
    let alone = situation_of("cas-limites");
    assert_eq!(cell(&alone, "precedent_depart_conjoint", 3), Value::Inconnu);
}

#[test]
fn every_declared_input_is_built_with_its_type() {
    let rs = check(&source::embedded(), Mois::parse("2025-03").expect("m")).ruleset.expect("rules");
    let df = situation_of("synthetique");
    assert_eq!(df.height(), 2000);
    for input in rs.inputs.values() {
        let c = df.column(&input.name).unwrap_or_else(|_| panic!("situation lacks `{}`", input.name));
        let want = dtype(input.ty);
        let castable = c.dtype() == &want || (want == DataType::Float64 && c.dtype().is_primitive_numeric());
        assert!(castable, "`{}` is {:?}, declared {:?}", input.name, c.dtype(), want);
    }
}

#[test]
fn inputs_follow_the_documented_definitions() {
    let df = situation_of("cas-limites");
    let get = |id: &str, c: &str| input(&df, id, c);
    // CL001: born 1954-11-10: on 2025-03-01 she is 70 years and 3 months (843 whole months).
    assert_eq!(get("CL001", "age_allocataire_mois"), Value::Nombre(843.0));
    assert_eq!(get("CL001", "en_couple"), Value::Booleen(false));
    assert_eq!(get("CL001", "ressources_3m_foyer"), Value::Nombre(750.0));
    assert_eq!(get("CL001", "ressources_3m_retraite"), Value::Nombre(750.0));
    // The CSS window: the 12 months from M-13 (2024-02) to M-2 (2025-01).
    assert_eq!(get("CL001", "ressources_m13_m2_foyer"), Value::Nombre(3000.0));
    assert_eq!(get("CL001", "mois_connus_m13_m2"), Value::Nombre(12.0));
    // Her pension is given gross too: the ASPA reads it.
    assert_eq!(get("CL001", "ressources_3m_couple_pensions"), Value::Nombre(750.0));
    assert_eq!(get("CL001", "ressources_3m_couple_pensions_brut"), Value::Nombre(750.0));
    assert_eq!(get("CL001", "mois_ressources_inconnus"), Value::Inconnu, "every month known");
    assert_eq!(get("CL001", "aah_montant_m2"), Value::Nombre(0.0), "no right: 0, not unknown");
    assert_eq!(get("CL001", "mois_connus_3m"), Value::Nombre(3.0));
    assert_eq!(get("CL001", "ressources_3m_autres"), Value::Nombre(0.0));
    assert_eq!(get("CL001", "territoire"), Value::Texte("metropole".into()));
    assert_eq!(get("CL001", "age_conjoint_mois"), Value::Inconnu);
    assert_eq!(get("CL001", "nb_membres_sans_complementaire"), Value::Nombre(1.0));
    assert_eq!(get("CL001", "date_fin_droit_prochaine"), Value::Inconnu, "no right in payment");
    // CL002: birth given as a month only (1953-02) counts as 1953-02-28, the latest
    // possible day: on 2025-03-01 that is 72 years and 0 months, 864 whole months (a
    // birth on 1953-02-01 would give 865: the age is never overestimated).
    assert_eq!(get("CL002", "age_allocataire_mois"), Value::Nombre(864.0));
    // On 1 January 2025 (the age of the CSS participation): 71 years and 10 months.
    assert_eq!(get("CL002", "age_allocataire_au_1er_janvier_mois"), Value::Nombre(862.0));
    assert_eq!(get("CL002", "en_couple"), Value::Booleen(true));
    assert_eq!(get("CL002", "aspa_en_paiement"), Value::Booleen(true));
    assert_eq!(get("CL002", "aspa_montant_verse"), Value::Nombre(210.37));
    assert_eq!(get("CL002", "en_qpv"), Value::Booleen(true));
    // CL003: one child, a PPA right in payment, a move in January.
    assert_eq!(get("CL003", "nb_enfants"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_personnes"), Value::Nombre(2.0));
    assert_eq!(get("CL003", "ppa_en_paiement"), Value::Booleen(true));
    assert_eq!(get("CL003", "rsa_en_paiement"), Value::Booleen(false));
    assert_eq!(get("CL003", "rsa_montant_verse"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "revenus_activite_3m_allocataire"), Value::Nombre(4350.0));
    assert_eq!(get("CL003", "revenus_activite_m1_allocataire"), Value::Nombre(1450.0));
    assert_eq!(get("CL003", "revenus_activite_m3_allocataire"), Value::Nombre(1450.0));
    assert_eq!(get("CL003", "revenus_activite_m4_allocataire"), Value::Nombre(1450.0));
    assert_eq!(get("CL003", "revenus_activite_3m_couple"), Value::Nombre(4350.0));
    assert_eq!(get("CL003", "revenus_activite_3m_couple_brut"), Value::Nombre(5580.0));
    assert_eq!(get("CL003", "ppa_date_fin"), Value::Date("2025-05-31".into()));
    assert_eq!(get("CL003", "ressources_m2_foyer"), Value::Nombre(1450.0));
    assert_eq!(get("CL003", "revenus_activite_m1_conjoint"), Value::Inconnu, "no conjoint");
    assert_eq!(get("CL003", "ppa_date_debut"), Value::Date("2024-06-01".into()));
    assert_eq!(get("CL003", "rsa_date_debut"), Value::Inconnu, "no RSA right");
    assert_eq!(get("CL003", "date_fin_droit_prochaine"), Value::Date("2025-05-31".into()));
    assert_eq!(get("CL003", "nb_membres_16ans_sans_medecin_traitant"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "date_derniere_demenagement"), Value::Date("2025-01-15".into()));
    assert_eq!(get("CL003", "date_derniere_naissance"), Value::Inconnu);
    assert_eq!(get("CL003", "mois_depuis_derniere_dtr"), Value::Nombre(2.0));
    // The AAH's inputs, per member: CL003's wages of the quarter by group, the earned part
    // of her N-2 income; CL005's invalidity pension of M-1, a replacement income too.
    assert_eq!(get("CL003", "salaires_3m_allocataire"), Value::Nombre(4350.0));
    assert_eq!(get("CL003", "pensions_3m_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "revenus_activite_n2_allocataire"), Value::Nombre(16000.0));
    assert_eq!(get("CL003", "salaires_3m_conjoint"), Value::Inconnu, "no conjoint");
    assert_eq!(get("CL005", "pensions_3m_allocataire"), Value::Nombre(2100.0));
    assert_eq!(get("CL005", "salaires_3m_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL005", "pensions_invalidite_m1_allocataire"), Value::Nombre(700.0));
    assert_eq!(get("CL005", "revenus_remplacement_m1_allocataire"), Value::Nombre(700.0));
    assert_eq!(get("CL003", "revenus_remplacement_m1_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL005", "asi_montant_m1_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL004", "revenus_activite_n2_allocataire"), Value::Inconnu, "empty cell");
    assert_eq!(get("CL004", "pensions_3m_allocataire"), Value::Inconnu, "February unknown");
    // CL004: no row for February 2025: two of the last three months known, sums unknown.
    assert_eq!(get("CL004", "mois_connus_3m"), Value::Nombre(2.0));
    assert_eq!(get("CL004", "ressources_3m_foyer"), Value::Inconnu);
    assert_eq!(get("CL004", "mois_ressources_inconnus"), Value::Texte("2025-02".into()));
    // The CSS window ends in M-2 (January): February does not count, the 12 months are known.
    assert_eq!(get("CL004", "mois_connus_m13_m2"), Value::Nombre(12.0));
    assert_eq!(get("CL004", "ressources_m13_m2_foyer"), Value::Nombre(0.0));
    // Month by month: M-1 (February) unknown, M-2 to M-4 known (0 €).
    assert_eq!(get("CL004", "ressources_m1_foyer"), Value::Inconnu);
    assert_eq!(get("CL004", "revenus_activite_m1_allocataire"), Value::Inconnu);
    assert_eq!(get("CL004", "ressources_m2_foyer"), Value::Nombre(0.0));
    assert_eq!(get("CL004", "ressources_m3_foyer"), Value::Nombre(0.0));
    assert_eq!(get("CL004", "ressources_m4_foyer"), Value::Nombre(0.0));
    // CL004: no médecin traitant, no complementary cover.
    assert_eq!(get("CL004", "nb_membres_16ans_sans_medecin_traitant"), Value::Nombre(1.0));
    assert_eq!(get("CL004", "nb_membres_sans_complementaire"), Value::Nombre(1.0));
    assert_eq!(get("CL004", "allocataire_decede"), Value::Booleen(false));
    assert_eq!(get("CL004", "statut_logement"), Value::Texte("heberge_gratuit".into()));
    assert_eq!(get("CL004", "suivi_social"), Value::Inconnu);
    // CL005: born 1960-03-01, exactly 65 years on 2025-03-01.
    assert_eq!(get("CL005", "age_allocataire_mois"), Value::Nombre(780.0));
    assert_eq!(get("CL005", "taux_incapacite_allocataire"), Value::Nombre(80.0));
    // Her disability pension has no gross amount: the gross sum is unknown, the net known.
    assert_eq!(get("CL005", "ressources_3m_couple_pensions"), Value::Nombre(2100.0));
    assert_eq!(get("CL005", "ressources_3m_couple_pensions_brut"), Value::Inconnu);
    // Her AAH (since 2015) was in payment all 12 months of the CSS window …
    assert_eq!(get("CL005", "aah_mois_m13_m2"), Value::Nombre(12.0));
    assert_eq!(get("CL005", "aah_montant_m13_m2"), Value::Nombre(323.05 * 12.0));
    // … and in each of the months M-1 … M-4, counted as a resource month by month.
    assert_eq!(get("CL005", "aah_montant_m2"), Value::Nombre(323.05));
    assert_eq!(get("CL005", "aah_montant_m4"), Value::Nombre(323.05));
    // Hers, over the ASPA's 3 months; no conjoint, no AAH of his.
    assert_eq!(get("CL005", "aah_montant_3m_allocataire"), Value::Nombre(3.0 * 323.05));
    assert_eq!(get("CL005", "aah_montant_3m_conjoint"), Value::Nombre(0.0));
    // CL005 lives in La Réunion (97411).
    assert_eq!(get("CL005", "territoire"), Value::Texte("drom".into()));
}

#[test]
fn every_input_is_documented() {
    let rs = check(&source::embedded(), Mois::parse("2025-03").expect("m")).ruleset.expect("rules");
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/situation.md"))
        .expect("docs/situation.md");
    for input in rs.inputs.values() {
        // A family of inputs (one per month) is documented once, by its declared name.
        let name = input.famille.as_deref().unwrap_or(&input.name);
        assert!(doc.contains(&format!("| `{name}` |")), "docs/situation.md does not document `{name}`");
    }
}

/// Resources of `autre` members, read straight from the CSV files, match the inputs
/// `ressources_3m_autres` and `ressources_m13_m2_autres` of every foyer that has one.
#[test]
fn resources_of_other_members_are_summed_apart() {
    let df = situation_of("synthetique");
    let dir = sample("synthetique");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("csv");
    let personnes = read("personnes.csv");
    let autres: std::collections::BTreeMap<String, String> = personnes
        .lines()
        .skip(1)
        .map(|l| l.split(';').collect::<Vec<_>>())
        .filter(|f| f[2] == "autre")
        .map(|f| (f[0].to_string(), f[1].to_string()))
        .collect();
    assert!(!autres.is_empty(), "the sample has members with role autre");
    let mut expected3: std::collections::BTreeMap<String, f64> = Default::default();
    let mut expected12: std::collections::BTreeMap<String, f64> = Default::default();
    for l in read("ressources.csv").lines().skip(1) {
        let f: Vec<&str> = l.split(';').collect();
        let Some(foyer) = autres.get(f[0]) else { continue };
        let amount: f64 = f[3].replace(',', ".").parse().expect("amount");
        // The sample's month is 2025-03: the CSS window is 2024-02 … 2025-01, the last 3
        // months 2024-12 … 2025-02.
        if ("2024-02".."2025-02").contains(&f[1]) {
            *expected12.entry(foyer.clone()).or_default() += amount;
        }
        if ("2024-12".."2025-03").contains(&f[1]) {
            *expected3.entry(foyer.clone()).or_default() += amount;
        }
    }
    let ids: Vec<Option<&str>> = df.column("id_foyer").expect("id").str().expect("str").iter().collect();
    let mut checked = 0;
    for (foyer, want3) in &expected3 {
        let row = ids.iter().position(|x| *x == Some(foyer.as_str())).expect("foyer present");
        let known3 = cell(&df, "mois_connus_3m", row) == Value::Nombre(3.0);
        if known3 {
            match cell(&df, "ressources_3m_autres", row) {
                Value::Nombre(got) => assert!((got - want3).abs() < 0.005, "{foyer}: {got} vs {want3}"),
                other => panic!("{foyer}: ressources_3m_autres is {other}"),
            }
            checked += 1;
        }
        if cell(&df, "mois_connus_m13_m2", row) == Value::Nombre(12.0) {
            let want12 = expected12[foyer];
            match cell(&df, "ressources_m13_m2_autres", row) {
                Value::Nombre(got) => assert!((got - want12).abs() < 0.005, "{foyer}: {got} vs {want12}"),
                other => panic!("{foyer}: ressources_m13_m2_autres is {other}"),
            }
        }
    }
    assert!(checked > 0);
    // A foyer without such members has 0, not unknown.
    assert_eq!(cell(&df, "ressources_3m_autres", 0), Value::Nombre(0.0));
}

/// Counts over members are unknown, not zero, when they would be zero but a member's
/// answer is missing; a deceased allocataire is seen.
#[test]
fn member_counts_are_unknown_when_an_answer_is_missing() {
    let tmp = copy_of("cas-limites");
    let path = tmp.path().join("personnes.csv");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(';').collect();
            match f[0] {
                // CL002: the conjoint's médecin traitant unknown; the allocataire has one.
                "CL002-P2" => f[14] = "",
                // CL003: the child's complementary cover unknown; the allocataire has one.
                "CL003-P2" => f[15] = "",
                // CL001: the allocataire died during M.
                "CL001-P1" => f[13] = "2025-03-10",
                _ => {}
            }
            f.join(";")
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").expect("write");
    let mois = Mois::parse("2025-03").expect("month");
    let extract = extract::load(tmp.path(), mois).expect("loads");
    let df = situation::build(&extract, None, mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, c);
    assert_eq!(get("CL002", "nb_membres_16ans_sans_medecin_traitant"), Value::Inconnu);
    assert_eq!(get("CL003", "nb_membres_sans_complementaire"), Value::Inconnu);
    // CL004 has a member without médecin traitant: 1, whatever is unknown elsewhere.
    assert_eq!(get("CL004", "nb_membres_16ans_sans_medecin_traitant"), Value::Nombre(1.0));
    // CL001's allocataire died on 2025-03-10, within M.
    assert_eq!(get("CL001", "allocataire_decede"), Value::Booleen(true));
    assert_eq!(get("CL002", "allocataire_decede"), Value::Booleen(false));
}

/// A resource row of 0 net has 0 gross; a child of 25 or more is outside the foyer (its
/// resources apart, like those of role autre); the children's ages the allocations
/// familiales depend on are taken at each reference month (a newborn is not counted
/// before its birth, a 14th birthday from its month on).
#[test]
fn zero_rows_children_over_25_and_ages_by_month() {
    let tmp = copy_of("cas-limites");
    let append = |file: &str, lines: &[&str]| {
        let path = tmp.path().join(file);
        let mut text = std::fs::read_to_string(&path).expect("read");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write");
    };
    append(
        "personnes.csv",
        &[
            "CL003-P3;CL003;enfant;1999-05-10;F;francaise;;salarie;;;;;;;oui;privee;",
            "CL003-P4;CL003;enfant;2010-12-15;M;francaise;;;;;;oui;;;oui;privee;",
            "CL003-P5;CL003;enfant;2025-02-10;F;francaise;;;;;;;;;oui;privee;",
            "CL003-P6;CL003;enfant;2005-01-20;M;francaise;;;;;;;;;oui;privee;",
        ],
    );
    append(
        "ressources.csv",
        &[
            "CL002-P1;2025-02;invalidite;0;",
            "CL003-P3;2025-02;salaire;900;1150",
            "CL003-P3;2025-02;bourse;100;",
            "CL003-P1;2024-06;pension_alimentaire;150;",
            "CL003-P1;2025-02;pension_alimentaire;70;",
        ],
    );
    let mois = Mois::parse("2025-03").expect("month");
    let extract = extract::load(tmp.path(), mois).expect("loads");
    let df = situation::build(&extract, None, mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, c);
    // CL002: pensions of 1 150 and 420,50 gross = net in each of the 3 months; the
    // invalidity row of 0 without a gross amount leaves the gross sum known.
    assert_eq!(get("CL002", "ressources_3m_couple_pensions_brut"), Value::Nombre(3.0 * (1150.0 + 420.5)));
    // CL003: the daughter of 25 earned 900 and had a 100 grant in February (M-1): in the
    // foyer's total (with the allocataire's salary and pension alimentaire), and apart as
    // outside the foyer; her grant is not among the members' grants (it would be
    // subtracted twice).
    assert_eq!(get("CL003", "ressources_m1_foyer"), Value::Nombre(1450.0 + 70.0 + 900.0 + 100.0));
    assert_eq!(get("CL003", "ressources_m1_autres"), Value::Nombre(1000.0));
    assert_eq!(get("CL003", "ressources_m1_bourse"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "ressources_m2_autres"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "nb_enfants_moins_25ans"), Value::Nombre(4.0));
    // Her pension alimentaire of June 2024 is in the CSS window (M-13 … M-2), that of
    // February 2025 (M-1) is not.
    assert_eq!(get("CL003", "pensions_alimentaires_m13_m2_couple"), Value::Nombre(150.0));
    // The housing aid's groups over the same window, for the allocataire only: her
    // salary of 1 450 each month, her pension alimentaire among the pensions; her
    // daughter's salary and grant are not hers. She has no conjoint: theirs are unknown.
    assert_eq!(get("CL003", "salaires_m13_m2_allocataire"), Value::Nombre(12.0 * 1450.0));
    assert_eq!(get("CL003", "pensions_m13_m2_allocataire"), Value::Nombre(150.0));
    assert_eq!(get("CL003", "bourses_m13_m2_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "chomage_m1_allocataire"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "salaires_m13_m2_conjoint"), Value::Inconnu);
    // The allocataire's pension alimentaire of February (M-1) is the members' of M-1
    // (what the allocation de soutien familial compares with its amount); January (M-2),
    // a known month without a pension row, has none.
    assert_eq!(get("CL003", "ressources_m1_pension_alimentaire"), Value::Nombre(70.0));
    assert_eq!(get("CL003", "ressources_m2_pension_alimentaire"), Value::Nombre(0.0));
    // Under 20: at M the three younger ones; in February (M-1) not the newborn of 10
    // February nor the son who turned 20 on 20 January; in January (M-2), that son
    // still (19 years and 11 months on the 1st).
    assert_eq!(get("CL003", "nb_enfants_moins_20ans"), Value::Nombre(3.0));
    // Born on 10 February (M-1): the PAJE's allocation de base is due from March; the
    // children of 9, 14 and 20 are past their third birthday.
    assert_eq!(get("CL003", "nb_enfants_nes_m35_a_m1"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "revenu_n2_allocataire"), Value::Nombre(16000.0));
    assert_eq!(get("CL003", "revenu_n2_conjoint"), Value::Inconnu, "no conjoint");
    assert_eq!(get("CL003", "nb_enfants_moins_20ans_m1"), Value::Nombre(2.0));
    assert_eq!(get("CL003", "nb_enfants_moins_20ans_m2"), Value::Nombre(3.0));
    // He is of the year of the allocation forfaitaire at M and M-1, of 18 or 19 at M-2.
    assert_eq!(get("CL003", "nb_enfants_20ans"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_20ans_m2"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "nb_enfants_18_19ans"), Value::Nombre(0.0));
    assert_eq!(get("CL003", "nb_enfants_18_19ans_m2"), Value::Nombre(1.0));
    // The son born on 15 December 2010 is 14 from January 2025 (first day of the month
    // after the birthday): not in December (M-3) nor November (M-4).
    assert_eq!(get("CL003", "nb_enfants_14_19ans"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_14_19ans_m1"), Value::Nombre(1.0));
    // (With his brother of 19 in January, December and November.)
    assert_eq!(get("CL003", "nb_enfants_14_19ans_m2"), Value::Nombre(2.0));
    assert_eq!(get("CL003", "nb_enfants_14_19ans_m3"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_14_19ans_m4"), Value::Nombre(1.0));
    // Born before 1 March 2012: he keeps the age increase at 14 after the 2026 reform.
    assert_eq!(get("CL003", "nb_enfants_14_17ans_nes_avant_mars_2012"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_14_17ans_nes_avant_mars_2012_m1"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_20ans_m1"), Value::Nombre(1.0));
}

/// Rights month by month: an amount in payment without `montant_mensuel` is unknown in
/// the months it covers and known in the others; an open-ended right leaves its end
/// unknown; an AAH row that does not say whose it is leaves both members' AAH unknown;
/// the CSS window counts only the months of a right inside it.
#[test]
fn rights_unknown_amounts_open_ends_and_whose_aah() {
    let tmp = copy_of("cas-limites");
    let path = tmp.path().join("droits.csv");
    let mut text = std::fs::read_to_string(&path).expect("read");
    // M = 2025-03. CL001: an allocation logement of 200 in January, then from February
    // without an amount nor an end. CL004: an AAH of 500 from December to February, no
    // person named.
    text.push_str(
        "CL001;;al;2025-01-01;2025-01-31;200\nCL001;;al;2025-02-01;;\nCL004;;aah;2024-12-01;2025-02-28;500\n",
    );
    std::fs::write(&path, text).expect("write");
    let mois = Mois::parse("2025-03").expect("month");
    let extract = extract::load(tmp.path(), mois).expect("loads");
    let df = situation::build(&extract, None, mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, c);
    assert_eq!(get("CL001", "al_en_paiement"), Value::Booleen(true));
    assert_eq!(get("CL001", "al_date_debut"), Value::Date("2025-02-01".into()));
    assert_eq!(get("CL001", "al_date_fin"), Value::Inconnu, "open-ended");
    assert_eq!(get("CL001", "al_montant_verse"), Value::Inconnu, "in payment in M without an amount");
    assert_eq!(get("CL001", "al_montant_m1"), Value::Inconnu, "February: the row without an amount");
    assert_eq!(get("CL001", "al_montant_m2"), Value::Nombre(200.0), "January: the first row only");
    assert_eq!(get("CL001", "al_montant_m3"), Value::Nombre(0.0), "December: no row");
    // The CSS window (2024-02 … 2025-01) holds January only.
    assert_eq!(get("CL001", "al_mois_m13_m2"), Value::Nombre(1.0));
    assert_eq!(get("CL001", "al_montant_m13_m2"), Value::Nombre(200.0));
    assert_eq!(get("CL001", "date_fin_droit_prochaine"), Value::Inconnu, "the right in payment has no end");
    assert_eq!(get("CL004", "aah_en_paiement"), Value::Booleen(false));
    assert_eq!(get("CL004", "aah_montant_m1"), Value::Nombre(500.0));
    assert_eq!(get("CL004", "aah_mois_m13_m2"), Value::Nombre(2.0), "December and January");
    assert_eq!(get("CL004", "aah_montant_m13_m2"), Value::Nombre(1000.0));
    assert_eq!(get("CL004", "aah_montant_3m_allocataire"), Value::Inconnu, "whose AAH is not said");
    assert_eq!(get("CL004", "aah_montant_3m_conjoint"), Value::Inconnu);
}

/// A prime paid once is a row dated the month it was paid: its latest date up to the end
/// of M is kept whether or not it is in payment in M; a row after M is not read; a foyer
/// without one has none (unknown). The children born from M-23 to M are counted for the
/// prime à la naissance.
#[test]
fn primes_paid_once_and_births_of_the_last_two_years() {
    let tmp = copy_of("cas-limites");
    let path = tmp.path().join("droits.csv");
    let mut text = std::fs::read_to_string(&path).expect("read");
    // M = 2025-03. CL003: a prime à la naissance paid in May 2023 and one in December
    // 2024; a prime à l'adoption dated April 2025 (after M). CL001: one paid in March.
    text.push_str(
        "CL003;;paje_naissance;2023-05-01;2023-05-31;1025,21\nCL003;;paje_naissance;2024-12-01;2024-12-31;1071,65\n\
         CL003;;paje_adoption;2025-04-01;2025-04-30;2143,29\nCL001;;paje_naissance;2025-03-01;2025-03-31;1071,65\n",
    );
    std::fs::write(&path, text).expect("write");
    let path = tmp.path().join("personnes.csv");
    let mut text = std::fs::read_to_string(&path).expect("read");
    // Born in M, in M-23 (April 2023) and in M-24 (March 2023).
    text.push_str("CL003-P3;CL003;enfant;2025-03-20;F;francaise;;;;;;;;;oui;privee;\n");
    text.push_str("CL003-P4;CL003;enfant;2023-04-30;F;francaise;;;;;;;;;oui;privee;\n");
    text.push_str("CL003-P5;CL003;enfant;2023-03-01;F;francaise;;;;;;;;;oui;privee;\n");
    std::fs::write(&path, text).expect("write");
    let mois = Mois::parse("2025-03").expect("month");
    let extract = extract::load(tmp.path(), mois).expect("loads");
    let df = situation::build(&extract, None, mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, c);
    assert_eq!(get("CL003", "paje_naissance_date_dernier_versement"), Value::Date("2024-12-01".into()));
    assert_eq!(get("CL003", "paje_naissance_en_paiement"), Value::Booleen(false));
    assert_eq!(get("CL003", "paje_adoption_date_dernier_versement"), Value::Inconnu, "dated after M");
    assert_eq!(get("CL001", "paje_naissance_date_dernier_versement"), Value::Date("2025-03-01".into()));
    assert_eq!(get("CL001", "paje_naissance_en_paiement"), Value::Booleen(true));
    assert_eq!(get("CL001", "paje_naissance_montant_verse"), Value::Nombre(1071.65));
    assert_eq!(get("CL002", "paje_naissance_date_dernier_versement"), Value::Inconnu, "none paid");
    assert_eq!(get("CL003", "nb_enfants_nes_m23_a_m0"), Value::Nombre(2.0));
}

/// The children of the allocation de rentrée scolaire of August 2025 are counted by birth
/// date against the dates of R543-2 and by the age reached in 2025 (D543-1); a child 16
/// or more on 15 September without `scolarise` leaves the count unknown, a younger one is
/// presumed in school unless the extract says otherwise. The complément familial's
/// children are counted by age in months on 1 August.
#[test]
fn children_of_the_school_year_and_of_the_complement_familial() {
    let tmp = copy_of("cas-limites");
    let path = tmp.path().join("personnes.csv");
    let mut text = std::fs::read_to_string(&path).expect("read");
    let child = |id: &str, foyer: &str, naissance: &str, scolarise: &str| {
        format!("{id};{foyer};enfant;{naissance};F;francaise;;;;;;{scolarise};;;oui;privee;\n")
    };
    for (id, foyer, naissance, scolarise) in [
        // 6 on 31 January 2025 + 1 year: 6 in 2025.
        ("CL003-P3", "CL003", "2019-01-31", ""),
        // 6 on 15 January 2026, before 1 February: due (the law, not 6 at 31 December).
        ("CL003-P4", "CL003", "2020-01-15", ""),
        // 6 on 1 February 2026: not before 1 February, not due.
        ("CL003-P5", "CL003", "2020-02-01", ""),
        // 11 on 31 December 2025: the amount of 11 to 14.
        ("CL003-P6", "CL003", "2014-12-31", ""),
        // 11 on 1 January 2026: still the amount of 6 to 10.
        ("CL003-P7", "CL003", "2015-01-01", ""),
        // 18 on 16 September 2025: not yet 18 on 15 September, in school.
        ("CL003-P8", "CL003", "2007-09-16", "oui"),
        // 18 on 15 September 2025: no longer.
        ("CL003-P9", "CL003", "2007-09-15", "oui"),
        // 15 in 2025, 16 only in 2026: presumed in school.
        ("CL003-P11", "CL003", "2010-05-10", ""),
        // 13 but not in school, as the extract says.
        ("CL003-P12", "CL003", "2012-06-01", "non"),
        // 47 and 36 months on 1 August (3 or 4 years old), 35 months (under 3).
        ("CL003-P13", "CL003", "2021-08-02", ""),
        ("CL003-P14", "CL003", "2022-08-01", ""),
        ("CL003-P15", "CL003", "2022-08-02", ""),
        // 16 in March 2025 (a month only: 31 March), schooling unknown.
        ("CL002-P10", "CL002", "2009-03", ""),
        // September 2007, a month only: taken as 30 September, not 18 on 15 September.
        ("CL004-P16", "CL004", "2007-09", "oui"),
    ] {
        text.push_str(&child(id, foyer, naissance, scolarise));
    }
    std::fs::write(&path, text).expect("write");
    let mois = Mois::parse("2025-08").expect("month");
    let extract = extract::load(tmp.path(), mois).expect("loads");
    let df = situation::build(&extract, None, mois, &PlanCache::default()).expect("builds");
    let get = |id: &str, c: &str| input(&df, id, c);
    // CL003-P2 (born 2015-04-02, in school), P3, P4, P7.
    assert_eq!(get("CL003", "nb_enfants_rentree_6_10ans"), Value::Nombre(4.0));
    assert_eq!(get("CL003", "nb_enfants_rentree_11_14ans"), Value::Nombre(1.0));
    assert_eq!(get("CL003", "nb_enfants_rentree_15_18ans"), Value::Nombre(2.0));
    assert_eq!(get("CL002", "nb_enfants_rentree_15_18ans"), Value::Inconnu, "schooling at 16 unknown");
    assert_eq!(get("CL002", "nb_enfants_rentree_6_10ans"), Value::Nombre(0.0));
    assert_eq!(get("CL004", "nb_enfants_rentree_15_18ans"), Value::Nombre(1.0));
    // A foyer without a child: 0.
    assert_eq!(get("CL001", "nb_enfants_rentree_6_10ans"), Value::Nombre(0.0));
    // Thirteen children of CL003, all under 21; twelve of 3 or more; P13 and P14 of 3 or 4.
    assert_eq!(get("CL003", "nb_enfants_moins_21ans"), Value::Nombre(13.0));
    assert_eq!(get("CL003", "nb_enfants_3_20ans"), Value::Nombre(12.0));
    assert_eq!(get("CL003", "nb_enfants_3_4ans"), Value::Nombre(2.0));
    assert_eq!(get("CL003", "nb_enfants_moins_3ans"), Value::Nombre(1.0));
}
