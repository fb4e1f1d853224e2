//! The main job on the committed sample data: schemas, counts, values computed by
//! hand, determinism, formats, `explain` and `generate`.

use crate::{files_of, read_manifest, read_output, reperage, sample, screen, split_csv};

#[test]
fn screen_of_the_synthetic_sample_has_the_documented_schemas_and_counts() {
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("synthetique"), "2025-03", out.path(), &[], &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("foyers: 2000 read, 2000 evaluated, 0 quarantined"), "{stderr}");
    // The summary's counts line up however long the rule names, and its last line says
    // what to read next.
    let counts: Vec<usize> = stderr
        .lines()
        .skip_while(|l| *l != "signalements per rule:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::len)
        .collect();
    assert!(counts.len() > 10 && counts.iter().all(|n| *n == counts[0]), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("next: read the ") && last.contains("contact list(s) under campagnes/"), "{last}");

    let sig = read_output(&out.path().join("signalements.csv"));
    assert_eq!(sig[0], "id_foyer;regle;type;statut;montant_mensuel_estime;estimation;motifs;conditions;mois;versement");
    assert!(sig.len() > 1, "the sample plants non-take-up: some foyers are flagged");
    let rules =
        reperage_rules::check(&reperage_rules::source::embedded(), reperage_rules::Mois::parse("2025-03").expect("m"))
            .ruleset
            .expect("rules");
    let (mut in_words, mut missing_named) = (0, 0);
    for row in &sig[1..] {
        let f = split_csv(row);
        assert_eq!(f.len(), 10, "{row}");
        assert!(matches!(f[3].as_str(), "eligible" | "indetermine"), "{row}");
        assert_eq!(f[8], "2025-03");
        // `conditions` names the conditions by id, `motifs` the same by their titles; an
        // undetermined result names its missing data by title, the id in brackets.
        let rule = rules.rule(&f[1]).expect("a rule of the catalog");
        if let Some(missing) = f[6].strip_prefix("données manquantes : ") {
            for part in missing.split(" — ").next().expect("list").split(" ; ") {
                let id = part.rsplit_once(" (").and_then(|(_, id)| id.strip_suffix(')')).expect("(id)");
                assert!(part.starts_with(rules.inputs[id].titre.as_str()), "{part}");
            }
            missing_named += 1;
        } else {
            let text = f[6].strip_prefix("cas non modélisé : ").unwrap_or(&f[6]);
            let titles: Vec<&str> = text.split(" ; ").collect();
            let ids: Vec<&str> = f[7].split(", ").collect();
            assert_eq!(titles.len(), ids.len(), "{row}");
            for (title, id) in titles.iter().zip(&ids) {
                let def = rule.def(id).unwrap_or_else(|| panic!("{id} is a condition of {}", f[1]));
                assert_eq!(*title, def.titre, "{row}");
            }
            in_words += 1;
        }
        // Monthly benefits say so; the primes are paid once; the CSS has no amount.
        let expected = match f[1].as_str() {
            "paje_naissance" | "paje_adoption" | "ars" => "unique",
            "css" => "",
            _ if f[2] == "prestation" => "mensuel",
            // An event's amount at stake is monthly; an event without one has none.
            _ if f[4].is_empty() => "",
            _ => "mensuel",
        };
        assert_eq!(f[9], expected, "{row}");
    }
    assert!(in_words > 100 && missing_named > 0, "{in_words} rows with conditions, {missing_named} with missing data");
    let elig = read_output(&out.path().join("eligibilites.csv"));
    assert_eq!(
        elig[0],
        "id_foyer;aah_statut;aah_montant;aah_montant_estime;aah_en_paiement;\
         af_statut;af_montant;af_montant_estime;af_en_paiement;\
         aide_logement_statut;aide_logement_montant;aide_logement_montant_estime;aide_logement_en_paiement;\
         ars_statut;ars_montant;ars_montant_estime;ars_en_paiement;\
         asf_statut;asf_montant;asf_montant_estime;asf_en_paiement;\
         aspa_statut;aspa_montant;aspa_montant_estime;aspa_en_paiement;\
         cf_statut;cf_montant;cf_montant_estime;cf_en_paiement;css_statut;css_en_paiement;\
         paje_adoption_statut;paje_adoption_montant;paje_adoption_montant_estime;paje_adoption_en_paiement;\
         paje_base_statut;paje_base_montant;paje_base_montant_estime;paje_base_en_paiement;\
         paje_naissance_statut;paje_naissance_montant;paje_naissance_montant_estime;paje_naissance_en_paiement;\
         ppa_statut;ppa_montant;ppa_montant_estime;ppa_en_paiement;rsa_statut;rsa_montant;rsa_montant_estime;rsa_en_paiement"
    );
    assert_eq!(elig.len() - 1, 2000, "one row per evaluated foyer");

    let manifest: serde_json::Value = read_manifest(out.path());
    assert_eq!(manifest["mois"], "2025-03");
    assert_eq!(manifest["foyers"]["evalues"], 2000);
    assert_eq!(manifest["sorties"]["signalements"], (sig.len() - 1) as u64);
    assert_eq!(manifest["extrait"].as_array().map(Vec::len), Some(7), "the six tables and the landlords");
    assert!(manifest["regles"].as_array().is_some_and(|r| r.iter().any(|f| f["fichier"] == "aspa.toml")));
    let sha = manifest["extrait"][0]["sha256"].as_str().expect("sha");
    assert_eq!(sha.len(), 64);
    assert!(
        manifest["parametres"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["id"] == "aspa.plafond_personne_seule" && p["depuis"] == "2025-01-01"))
    );
}

#[test]
fn hand_written_cases_give_the_amounts_computed_by_hand() {
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("cas-limites"), "2025-03", out.path(), &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sig = read_output(&out.path().join("signalements.csv"));
    // CL001: (12 411,44 − 250 × 3 × 4) / 12 = 784,29 €.
    assert!(sig.iter().any(|r| r.starts_with("CL001;aspa;prestation;eligible;784,29;")), "{sig:?}");
    // CL001, 70, tenant of a conventionné dwelling in zone 1, 450 € of rent, 250 € of
    // pension a month: her housing aid (APL) is not in payment. Barème of October 2024:
    // ceiling 329,71, charges 59,97, P0 39,15; resources 3 000 − 454 (the minimum 10 %
    // deduction in force) = 2 546 → 2 600 < R0 5 235, so PP = P0: 329,71 + 59,97 − 39,15 = 350,53;
    // − 5 = 345,53; CRDS 1,72; 343,81 → 343 €.
    assert!(sig.iter().any(|r| r.starts_with("CL001;aide_logement;prestation;eligible;343,00;")), "{sig:?}");
    // CL003, single parent (non-EU, five years of regular stay) of a 9-year-old, zone 2,
    // 612,50 € of rent in a conventionné dwelling, 1 450 € of salary each month: ceiling
    // 395,77, charges 59,97 + 13,60, P0 = 8,5 % × 469,34 = 39,89; resources 17 400 − 1 740
    // = 15 660 → 15 700; PP = 39,89 + (2,70 % + 0,305 %) × (15 700 − 8 947) = 242,82;
    // 469,34 − 242,82 = 226,52; − 5 = 221,52; CRDS 1,10; 220,42 → 220 €.
    assert!(sig.iter().any(|r| r.starts_with("CL003;aide_logement;prestation;eligible;220,00;")), "{sig:?}");
    // CL005 lives in La Réunion (97411): the overseas barèmes are not modelled.
    assert!(
        sig.iter().any(|r| r.starts_with("CL005;aide_logement;prestation;indetermine;;;cas non modélisé : ")
            && split_csv(r)[7] == "cas_modelise"),
        "{sig:?}"
    );
    // CL004: February 2025 resources missing: undetermined, the missing inputs and the
    // missing month named.
    assert!(
        sig.iter().any(|r| split_csv(r)[..4] == ["CL004", "aspa", "prestation", "indetermine"]
            && split_csv(r)[6].starts_with("données manquantes : ")
            && r.contains("(ressources_3m_couple)")
            && r.contains("mois de ressources inconnus : 2025-02")),
        "{sig:?}"
    );
    // CL002 receives the ASPA: eligible but not a non-take-up case. Its CSS is: an ASPA
    // beneficiary without earnings is presumed to meet the resource condition (L861-2).
    assert!(!sig.iter().any(|r| r.starts_with("CL002;") && !r.starts_with("CL002;css;")), "{sig:?}");
    assert!(
        sig.iter()
            .any(|r| r.starts_with("CL002;css;prestation;eligible;") && r.contains("presomption_minimum_vieillesse")),
        "{sig:?}"
    );
    let elig = read_output(&out.path().join("eligibilites.csv"));
    // CL002, couple of 72 and 70, pensions given gross (equal to net: exempt from CSG):
    // (19 268,80 − (1 150 + 420,50) × 3 × 4) / 12 = 35,23 €. Its CSS resources over
    // 2024-02 … 2025-01: 12 × (1 150 + 420,50) = 18 846 € + ASPA after the 110 € couple
    // deduction 12 × 100,37 = 1 204,44 € + forfait logement of an owner couple
    // 12 × 635,71 × 1,5 × 14 % = 1 601,99 € gives 21 652,43 €, above the ceiling with
    // contribution 10 166 × 1,5 × 1,35 = 20 586 €: eligible only by the ASPA presumption.
    // No PPA (no earnings), no RSA (the ASPA comes first), no family benefit (no child;
    // nor ARS in March). Owners: no housing aid of a tenant.
    assert!(
        elig.contains(
            &"CL002;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;eligible;35,23;false;true;non_eligible;0,00;false;false;eligible;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false"
                .to_string()
        ),
        "{elig:?}"
    );
    // CL005, 65, disability pension of 700 € net without its gross amount: estimated
    // 2 100 / (1 − 4,3 %) = 2 194,36 € over 3 months, (12 411,44 − 2 194,36 × 4) / 12
    // = 302,83 €, marked as an estimate. Her AAH (rate of 80 %, continued past the legal
    // age), in payment: 7 000 € of pension in N-2 and no earnings, min(1 016,05 − 7 000 / 12
    // = 432,72 ; 1 016,05 − 700 of invalidity pension in M-1) = 316,05 € (L821-1).
    assert!(
        elig.iter().any(|r| r
            .starts_with("CL005;eligible;316,05;false;true;non_eligible;0,00;false;false;indetermine;;false;false;non_eligible;0,00;false;false;non_eligible;0,00;false;false;eligible;302,83;true;")),
        "{elig:?}"
    );
    assert!(sig.iter().any(|r| r.starts_with("CL005;aspa;prestation;eligible;302,83;Montant estimé")), "{sig:?}");
    // CL003: single parent of a 9-year-old earning 1 450 €/month, PPA in payment:
    // 622,63 × 1,5 + 0,61 × 1 450 + 181,19 (full bonus: 1 450 ≥ 120 × 11,88) − 1 450 = 549,64 €.
    assert!(elig.iter().any(|r| r.starts_with("CL003;") && r.contains(";eligible;549,64;false;true;")), "{elig:?}");
    assert!(!sig.iter().any(|r| r.starts_with("CL003;ppa;")), "{sig:?}");
    // Living alone with no pension alimentaire received in February (M-1), she is
    // presumed entitled to the ASF, not in payment: 466,44 × 42,2 % = 196,838 → 196,84 €.
    assert!(sig.iter().any(|r| r.starts_with("CL003;asf;prestation;eligible;196,84;")), "{sig:?}");
}

#[test]
fn screens_are_byte_identical_whatever_the_thread_count() {
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let c = tempfile::tempdir().expect("tmp");
    let extract = sample("synthetique");
    assert!(screen(&extract, "2025-03", a.path(), &["--format", "both"], &[]).status.success());
    assert!(screen(&extract, "2025-03", b.path(), &["--format", "both"], &[]).status.success());
    let one_thread = [("RAYON_NUM_THREADS", "1"), ("POLARS_MAX_THREADS", "1")];
    assert!(screen(&extract, "2025-03", c.path(), &["--format", "both"], &one_thread).status.success());
    let (fa, fb, fc) = (files_of(a.path()), files_of(b.path()), files_of(c.path()));
    assert!(fa.contains_key("signalements.parquet") && fa.contains_key("manifest.json"));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(fb[name] == *bytes, "{name} differs between two runs");
        assert!(fc[name] == *bytes, "{name} differs with one thread");
    }
}

#[test]
fn generate_is_deterministic_and_the_sample_is_reproducible() {
    let a = tempfile::tempdir().expect("tmp");
    let out = a.path().join("synthetique");
    let previous = a.path().join("synthetique-precedent");
    let run = reperage(
        &[
            "generate",
            "--foyers",
            "2000",
            "--mois",
            "2025-03",
            "--seed",
            "2025",
            "--out",
            out.to_str().expect("path"),
            "--precedent",
            previous.to_str().expect("path"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for (dir, name) in [(&out, "synthetique"), (&previous, "synthetique-precedent")] {
        let fresh = files_of(dir);
        let committed = files_of(&sample(name));
        assert_eq!(fresh.keys().collect::<Vec<_>>(), committed.keys().collect::<Vec<_>>());
        for (file, bytes) in &fresh {
            assert!(
                committed[file] == *bytes,
                "sample-data/{name}/{file} is not what README's generate command writes"
            );
        }
    }
    let truth = a.path().join("synthetique.verite.csv");
    assert!(truth.exists(), "the ground truth is beside the extract");
    assert!(!out.join("synthetique.verite.csv").exists(), "and not inside it");
}

#[test]
fn parquet_and_csv_extracts_give_the_same_results() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (csv, pq) = (tmp.path().join("csv"), tmp.path().join("pq"));
    for (dir, format) in [(&csv, "csv"), (&pq, "parquet")] {
        let run = reperage(
            &[
                "generate",
                "--foyers",
                "300",
                "--mois",
                "2025-03",
                "--seed",
                "7",
                "--out",
                dir.to_str().expect("p"),
                "--format",
                format,
            ],
            &[],
        );
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    }
    // A mixed extract: Parquet foyers with CSV for the rest.
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir(&mixed).expect("mkdir");
    for t in ["personnes", "ressources", "droits", "evenements", "contacts"] {
        std::fs::copy(csv.join(format!("{t}.csv")), mixed.join(format!("{t}.csv"))).expect("copy");
    }
    std::fs::copy(pq.join("foyers.parquet"), mixed.join("foyers.parquet")).expect("copy");
    let mut results = Vec::new();
    for dir in [&csv, &pq, &mixed] {
        let out = tmp.path().join(format!("out-{}", dir.file_name().expect("n").to_string_lossy()));
        let run = screen(dir, "2025-03", &out, &[], &[]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        results.push(std::fs::read(out.join("eligibilites.csv")).expect("read"));
    }
    assert!(results[0] == results[1], "CSV and Parquet extracts agree");
    assert!(results[0] == results[2], "a mixed extract agrees");
}

#[test]
fn explain_shows_conditions_values_and_parameters() {
    let extract = sample("cas-limites");
    let run_explain = |extra: &[&str]| {
        let mut args = vec!["explain", "--extract", extract.to_str().expect("p"), "--mois", "2025-03"];
        args.extend_from_slice(extra);
        reperage(&args, &[])
    };
    let explain = |extra: &[&str]| {
        let run = run_explain(extra);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        String::from_utf8_lossy(&run.stdout).to_string()
    };
    // The summary: a screen at most; the ASPA the foyer does not claim, with the
    // conditions that decided it by their titles and the parameter that sets its amount.
    let summary = explain(&["--foyer", "CL001"]);
    assert!(summary.lines().count() <= 60, "{summary}");
    assert!(summary.starts_with("Foyer CL001 — mois de référence 2025-03\n"), "{summary}");
    assert!(
        summary.contains(
            "aspa — Allocation de solidarité aux personnes âgées (ASPA) : éligible, 784,29 €/mois, non versé"
        ),
        "{summary}"
    );
    assert!(summary.contains("    conditions remplies : "), "{summary}");
    assert!(summary.contains("depuis le") && summary.contains("--regle aspa"), "{summary}");
    assert!(!summary.contains("ressources_3m_couple = 750"), "the situation only on request: {summary}");
    // One rule in full: its tree, its parameters with their sources, each legal text once.
    let detail = explain(&["--foyer", "CL001", "--regle", "aspa"]);
    assert!(detail.contains("Résultat : eligible, montant mensuel estimé 784,29 €"), "{detail}");
    assert!(detail.contains("aspa.plafond_personne_seule = 12411,44"), "{detail}");
    assert!(detail.contains("Circulaire Cnav 2024-39"), "{detail}");
    let bases: Vec<&str> = detail.lines().filter(|l| l.trim_start().starts_with("base : ")).map(str::trim).collect();
    let distinct: std::collections::BTreeSet<&str> = bases.iter().copied().collect();
    assert_eq!(bases.len(), distinct.len(), "each legal text once: {bases:?}");
    assert!(!detail.contains("== rsa"), "only the rule asked for");
    // The data the rule reads, and not the others'.
    let situation = explain(&["--foyer", "CL001", "--regle", "aspa", "--situation"]);
    assert!(situation.contains("ressources_3m_couple = 750"), "{situation}");
    assert!(!situation.contains("  loyer = "), "the rent is the housing aid's, not the ASPA's: {situation}");
    // Every rule, with --tout: the non-eligible ones get their reason too.
    let tout = explain(&["--foyer", "CL001", "--tout"]);
    assert!(tout.lines().count() > summary.lines().count());
    assert!(tout.contains("    condition non remplie : "), "{tout}");
    // An undetermined result names the missing data by their titles.
    let undetermined = explain(&["--foyer", "CL004"]);
    assert!(
        undetermined.contains("    manque : ") && undetermined.contains("(ressources_3m_couple)"),
        "{undetermined}"
    );
    let unknown_rule = run_explain(&["--foyer", "CL001", "--regle", "rmi"]);
    assert_eq!(unknown_rule.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown_rule.stderr).contains("no rule `rmi`"));
    let run = run_explain(&["--foyer", "CL004", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    let regles = json["regles"].as_array().expect("rules");
    let aspa = regles.iter().find(|r| r["id"] == "aspa").expect("the ASPA is explained");
    assert_eq!(aspa["statut"], "indetermine");
    let manquants = aspa["manquants"].as_array().expect("list");
    assert!(manquants.iter().any(|m| m == "ressources_3m_couple"), "{manquants:?}");
    let run = run_explain(&["--foyer", "NOPE"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("foyer `NOPE` is not in the extract"));
}

#[test]
fn comma_and_tab_separated_extracts_read_like_semicolon_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut results = Vec::new();
    for (name, sep) in [("semicolon", ";"), ("comma", ","), ("tab", "\t")] {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).expect("mkdir");
        for entry in std::fs::read_dir(sample("cas-limites")).expect("dir") {
            let p = entry.expect("entry").path();
            if p.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read");
            // Decimal commas become points, then fields are joined with the separator.
            let converted: String = text
                .lines()
                .map(|l| l.split(';').map(|f| f.replace(',', ".")).collect::<Vec<_>>().join(sep) + "\n")
                .collect();
            std::fs::write(dir.join(p.file_name().expect("name")), converted).expect("write");
        }
        let out = tmp.path().join(format!("out-{name}"));
        let run = screen(&dir, "2025-03", &out, &[], &[]);
        assert!(run.status.success(), "{name}: {}", String::from_utf8_lossy(&run.stderr));
        results.push(std::fs::read(out.join("eligibilites.csv")).expect("read"));
    }
    assert!(results[0] == results[1], "comma-separated extract reads the same");
    assert!(results[0] == results[2], "tab-separated extract reads the same");
    let original = tmp.path().join("out-original");
    assert!(screen(&sample("cas-limites"), "2025-03", &original, &[], &[]).status.success());
    let original = std::fs::read(original.join("eligibilites.csv")).expect("read");
    assert!(results[0] == original, "decimal points read like decimal commas");
}

/// The generator's ASPA profile is wider than the law (docs/synthetic.md): every foyer
/// it draws gets the ASPA in payment except a planted share. So each ASPA non-take-up
/// the screen flags in an open dossier must be one the generator planted, and the
/// planted ones the rules find eligible are many (the profile is not so wide as to miss
/// the law).
#[test]
fn flagged_aspa_non_take_up_is_the_planted_one() {
    let out = tempfile::tempdir().expect("tmp");
    assert!(screen(&sample("synthetique"), "2025-03", out.path(), &[], &[]).status.success());
    let truth = std::fs::read_to_string(sample("synthetique.verite.csv")).expect("truth");
    let planted: std::collections::BTreeSet<&str> = truth
        .lines()
        .skip(1)
        .filter(|l| l.ends_with(";aspa;droit_non_demande"))
        .filter_map(|l| l.split(';').next())
        .collect();
    let foyers = read_output(&sample("synthetique").join("foyers.csv"));
    let cloture = foyers[0].split(';').position(|h| h == "date_cloture").expect("date_cloture");
    let closed: std::collections::BTreeSet<String> = foyers[1..]
        .iter()
        .map(|l| l.split(';').collect::<Vec<_>>())
        .filter(|f| !f[cloture].is_empty())
        .map(|f| f[0].to_string())
        .collect();
    let flagged: Vec<String> = read_output(&out.path().join("signalements.csv"))
        .into_iter()
        .filter(|r| r.split(';').nth(1) == Some("aspa"))
        .filter(|r| r.split(';').nth(3) == Some("eligible"))
        .filter_map(|r| r.split(';').next().map(str::to_string))
        .filter(|f| !closed.contains(f))
        .collect();
    let unplanted: Vec<&String> = flagged.iter().filter(|f| !planted.contains(f.as_str())).collect();
    assert!(unplanted.is_empty(), "ASPA non-take-up flagged but not planted: {unplanted:?}");
    assert!(
        flagged.len() >= 20 && flagged.len() * 2 >= planted.len(),
        "{} of {} planted flagged",
        flagged.len(),
        planted.len()
    );
}

#[test]
fn usage_errors_exit_1_not_the_strict_code() {
    let run = reperage(&["screen", "--mois", "2025-03"], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let run = reperage(&["screen", "--extract", "x", "--mois", "2025-13", "--out", "y"], &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("invalid month `2025-13`"));
    let run = reperage(&["--help"], &[]);
    assert_eq!(run.status.code(), Some(0));
}

/// `--precedent`: the changes between cas-limites-precedent (February) and cas-limites
/// (March) become life events (see the README of cas-limites-precedent); a separation
/// both recorded and seen by comparison is flagged once, with both reasons.
#[test]
fn life_events_from_two_extracts() {
    let out = tempfile::tempdir().expect("tmp");
    let previous = sample("cas-limites-precedent");
    let run =
        screen(&sample("cas-limites"), "2025-03", out.path(), &["--precedent", previous.to_str().expect("utf-8")], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sig = read_output(&out.path().join("signalements.csv"));
    let rows = |foyer: &str, rule: &str| -> Vec<&String> {
        sig.iter().filter(|r| r.starts_with(&format!("{foyer};{rule};evenement;"))).collect()
    };
    assert_eq!(rows("CL001", "demenagement").len(), 1, "{sig:?}");
    assert!(rows("CL001", "demenagement")[0].contains("commune_changee"));
    assert_eq!(rows("CL002", "droit_arrete").len(), 1, "{sig:?}");
    assert_eq!(rows("CL003", "premiere_naissance").len(), 1, "{sig:?}");
    let separation = rows("CL004", "separation");
    assert_eq!(separation.len(), 1, "counted once: {sig:?}");
    assert!(separation[0].contains("separation_enregistree") && separation[0].contains("conjoint_parti"));
    // Nothing changed for CL005 (absent last month) and nothing else moved or stopped.
    assert!(rows("CL005", "separation").is_empty() && rows("CL005", "droit_arrete").is_empty());
    assert!(rows("CL002", "demenagement").is_empty() && rows("CL001", "droit_arrete").is_empty());
    let manifest: serde_json::Value = read_manifest(out.path());
    assert_eq!(manifest["extrait_precedent"]["mois"], "2025-02");
    let tables: Vec<&str> = manifest["extrait_precedent"]["fichiers"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["table"].as_str())
        .collect();
    assert_eq!(tables, ["foyers", "personnes", "droits"], "only the compared tables are read");

    // Without the previous extract only the recorded separation remains.
    let alone = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("cas-limites"), "2025-03", alone.path(), &[], &[]);
    assert!(run.status.success());
    let sig = read_output(&alone.path().join("signalements.csv"));
    // A man of 68 without children: the separation opens neither ASF nor RSA, nothing
    // is at stake.
    assert!(
        sig.iter().any(|r| r.starts_with("CL004;separation;evenement;eligible;0,00;;")
            && split_csv(r)[7] == "separation_enregistree"),
        "{sig:?}"
    );
    assert!(!sig.iter().any(|r| r.starts_with("CL001;demenagement;") || r.starts_with("CL002;droit_arrete;")));
}

/// A month whose parameters the rules do not have yet (2027-03: the SMIC and the ASPA
/// ceilings are revalued on 1 January, their last values date from 2026): `screen` says
/// so on stderr and in the manifest, and `--parametres-a-jour` refuses to run. A month
/// whose parameters are all in force has none.
#[test]
fn stale_parameters_are_shown_recorded_and_can_be_refused() {
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("cas-limites"), "2027-03", out.path(), &[], &[]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("parameter(s) may be out of date for 2027-03"), "{stderr}");
    assert!(stderr.contains("`smic.horaire_brut` is revalued every year on 1 January"), "{stderr}");
    let manifest: serde_json::Value = read_manifest(out.path());
    let stale: Vec<&str> = manifest["parametres_perimes"]
        .as_array()
        .expect("parametres_perimes")
        .iter()
        .filter_map(|p| p["parametre"].as_str())
        .collect();
    assert!(stale.contains(&"smic.horaire_brut"), "{stale:?}");
    assert!(stale.contains(&"aspa.plafond_personne_seule"), "{stale:?}");

    let refused = tempfile::tempdir().expect("tmp");
    let dir = refused.path().join("sortie");
    let run = screen(&sample("cas-limites"), "2027-03", &dir, &["--parametres-a-jour"], &[]);
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("smic.horaire_brut"));
    assert!(!dir.join("signalements.csv").exists(), "nothing is written when refused");
    let run = reperage(
        &[
            "explain",
            "--extract",
            sample("cas-limites").to_str().expect("utf-8"),
            "--mois",
            "2027-03",
            "--foyer",
            "CL001",
            "--parametres-a-jour",
        ],
        &[],
    );
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));

    let current = tempfile::tempdir().expect("tmp");
    let run = screen(&sample("cas-limites"), "2025-03", current.path(), &["--parametres-a-jour"], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!String::from_utf8_lossy(&run.stderr).contains("may be out of date"));
    let manifest: serde_json::Value = read_manifest(current.path());
    assert_eq!(manifest["parametres_perimes"].as_array().map(Vec::len), Some(0));
}

/// The manifest says which columns of each file were used and which were only examined
/// by the privacy guard, then dropped.
#[test]
fn the_manifest_names_the_columns_used_and_those_dropped() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    std::fs::create_dir(&extract).expect("dir");
    for e in std::fs::read_dir(sample("synthetique")).expect("sample") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, extract.join(p.file_name().expect("name"))).expect("copy");
    }
    let foyers = extract.join("foyers.csv");
    let text = std::fs::read_to_string(&foyers).expect("foyers");
    let widened: String =
        text.lines().enumerate().map(|(i, l)| format!("{l};{}\n", if i == 0 { "lot_interne" } else { "L1" })).collect();
    std::fs::write(&foyers, widened).expect("write");
    let out = tmp.path().join("out");
    let run = screen(&extract, "2025-03", &out, &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest = read_manifest(&out);
    let files = manifest["extrait"].as_array().expect("files");
    let of = |table: &str| files.iter().find(|f| f["table"] == table).expect(table).clone();
    assert_eq!(of("foyers")["colonnes_ignorees"], serde_json::json!(["lot_interne"]));
    let used = of("foyers")["colonnes_utilisees"].as_array().expect("used").clone();
    assert!(used.contains(&serde_json::json!("id_foyer")) && !used.contains(&serde_json::json!("lot_interne")));
    assert_eq!(of("personnes")["colonnes_ignorees"], serde_json::json!([]));
}
