//! `reperage suivi` on follow-up extracts generated with planted take-up: the shares it
//! finds are those the generator planted, and the differences' intervals contain the
//! planted difference.

use std::collections::HashMap;
use std::path::Path;

use crate::campaigns::campaigns_with_control_groups;
use crate::{generate, read_output, reperage};

/// Rows of a `;` CSV output as column → value (no quoted fields in these files).
fn rows(path: &Path) -> Vec<HashMap<String, String>> {
    let lines = read_output(path);
    let header: Vec<&str> = lines[0].split(';').collect();
    lines[1..]
        .iter()
        .map(|l| header.iter().map(|h| h.to_string()).zip(l.split(';').map(str::to_string)).collect())
        .collect()
}

fn number(v: &str) -> f64 {
    v.replace(',', ".").parse().unwrap_or_else(|_| panic!("`{v}` is not a number"))
}

fn suivi(args: &[&str], out: &Path) {
    let mut all = vec!["suivi", "--out", out.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    let run = reperage(&all, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn suivi_recovers_the_planted_take_up_of_contacted_and_control_households() {
    let tmp = tempfile::tempdir().expect("tmp");
    let extract = tmp.path().join("extrait");
    let campaigns = campaigns_with_control_groups("0.2");
    let c = campaigns.path().to_str().expect("utf-8");
    let extra = ["--suivi", "3", "--campagnes", c, "--taux-contactes", "0.25", "--taux-temoins", "0.08"];
    generate(&extract, "4000", &extra);
    let suivi_dir = tmp.path().join("extrait.suivi");
    let m = |k: &str| suivi_dir.join(k).to_str().expect("utf-8").to_string();
    let (m1, m2, m3) = (m("2025-04"), m("2025-05"), m("2025-06"));

    let full = tmp.path().join("suivi");
    suivi(&["--extract", &m1, "--extract", &m2, "--extract", &m3, "--mois", "2025-06"], &full);
    let table = rows(&full.join("suivi.csv"));
    let truth = rows(&suivi_dir.join("verite_suivi.csv"));
    let row = |campagne: &str| {
        table
            .iter()
            .find(|r| r["campagne"] == campagne && r["regle"] == "toutes" && r["canal"] == "tous")
            .unwrap_or_else(|| panic!("no row for {campagne}"))
    };
    // The rendez-vous des droits has groups large enough to be read.
    let rdv = row("rendez_vous_des_droits");
    assert_eq!(rdv["mois_contact"], "2025-04");
    assert_eq!(rdv["lecture"], "interpretable");
    for t in &truth {
        let r = row(&t["campagne"]);
        let (n, opened) = (&t["foyers"], &t["ouvrants"]);
        let (foyers, ouverts, pct) = if t["groupe"] == "contacte" {
            ("contactes", "ouverts_contactes_m3", "pct_contactes_m3")
        } else {
            ("temoins", "ouverts_temoins_m3", "pct_temoins_m3")
        };
        assert_eq!(&r[foyers], n, "{t:?}");
        assert_eq!(&r[ouverts], opened, "{t:?}");
        if number(n) >= 100.0 {
            let planted = number(&t["taux_plante"]) * 100.0;
            assert!((number(&r[pct]) - planted).abs() <= 1.5, "{} {pct}: {} vs {planted}", t["campagne"], r[pct]);
        }
    }
    // The difference's interval contains the planted difference of 17 points.
    let (bas, haut) = (number(&rdv["ic95_bas_points_m3"]), number(&rdv["ic95_haut_points_m3"]));
    assert!(bas < 17.0 && 17.0 < haut, "[{bas}, {haut}]");
    assert!(bas > 0.0, "an effect this size on these groups is significant: [{bas}, {haut}]");
    // A `toutes` row names every benefit its rule rows name.
    for t in table.iter().filter(|r| r["regle"] == "toutes") {
        let named: std::collections::BTreeSet<&str> = t["prestations"].split(", ").collect();
        for r in table.iter().filter(|r| r["campagne"] == t["campagne"] && r["mois_contact"] == t["mois_contact"]) {
            for p in r["prestations"].split(", ") {
                assert!(named.contains(p), "{} toutes lacks {p}: {}", t["campagne"], t["prestations"]);
            }
        }
    }
    // Openings accumulate over the months.
    for r in &table {
        for who in ["contactes", "temoins"] {
            let k = |h: u32| number(&r[&format!("ouverts_{who}_m{h}")]);
            assert!(k(1) <= k(2) && k(2) <= k(3), "{r:?}");
        }
    }
    // Small groups are shown, marked as not interpretable.
    let small: Vec<_> = table.iter().filter(|r| number(&r["temoins"]) > 0.0 && number(&r["temoins"]) < 11.0).collect();
    assert!(!small.is_empty(), "the generated campaigns have small control groups");
    assert!(small.iter().all(|r| r["lecture"] == "effectif_insuffisant"));
    for r in table.iter().filter(|r| number(&r["temoins"]) >= 11.0 && number(&r["contactes"]) >= 11.0) {
        assert_eq!(r["lecture"], "interpretable", "{r:?}");
    }
    // The agents' outcomes of the month's contacts are counted.
    let outcomes = rows(&full.join("resultats.csv"));
    let rdv_outcomes: f64 = outcomes
        .iter()
        .filter(|r| r["campagne"] == "rendez_vous_des_droits" && r["mois_contact"] == "2025-04")
        .map(|r| number(&r["contacts"]))
        .sum();
    assert!(rdv_outcomes >= number(&rdv["contactes"]), "every contact has its outcome");
    let html = std::fs::read_to_string(full.join("suivi.html")).expect("page");
    assert!(html.contains("non interprétable") && html.contains("Rendez-vous des droits"));
    assert!(!html.contains("F0000"), "no foyer id on the page");
    // The page as a browser renders it (Debian's headless Chromium).
    let dom = crate::headless(&full.join("suivi.html"), &["--dump-dom"]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("Suivi des campagnes") && dom.contains("IC 95 %"), "{dom}");

    // With the first month only, M+2 and M+3 are not observed yet, and M+1 is the same.
    let first = tmp.path().join("suivi-m1");
    suivi(&["--extract", &m1, "--mois", "2025-04"], &first);
    let early = rows(&first.join("suivi.csv"));
    let early_rdv = early
        .iter()
        .find(|r| r["campagne"] == "rendez_vous_des_droits" && r["regle"] == "toutes" && r["canal"] == "tous")
        .expect("row");
    assert_eq!(early_rdv["pct_contactes_m1"], rdv["pct_contactes_m1"]);
    assert!(early_rdv["pct_contactes_m2"].is_empty() && early_rdv["ouverts_temoins_m3"].is_empty());

    // The history given apart, with a row of a foyer the extract does not have, and a
    // control household of the rendez-vous des droits sent an SMS in May by another
    // campaign: the same results, but for that control household counted as contacted
    // since; the unknown foyer's row is accounted for as left out.
    let history = tmp.path().join("contacts.csv");
    let mut text = std::fs::read_to_string(suivi_dir.join("2025-06/contacts.csv")).expect("contacts");
    let control = text
        .lines()
        .find(|l| l.contains(";rendez_vous_des_droits;2025-04-01;temoin;"))
        .and_then(|l| l.split(';').next())
        .expect("a control household")
        .to_string();
    // In the history's column order: id_foyer;id_bailleur;campagne;date;canal;resultat;regles.
    assert!(text.starts_with("id_foyer;id_bailleur;campagne;date;canal;resultat;regles"), "{}", &text[..60]);
    text.push_str("INCONNU;;rendez_vous_des_droits;2025-04-01;telephone;joint;rsa\n");
    text.push_str(&format!("{control};;rupture_de_droits;2025-05-01;sms;joint;\n"));
    std::fs::write(&history, text).expect("write");
    let apart = tmp.path().join("suivi-apart");
    suivi(&["--extract", &m3, "--contacts", history.to_str().expect("utf-8"), "--mois", "2025-06"], &apart);
    let apart_table = rows(&apart.join("suivi.csv"));
    assert_eq!(apart_table.len(), table.len());
    for (a, b) in apart_table.iter().zip(&table) {
        for (k, v) in b {
            if k != "temoins_contactes_depuis" {
                assert_eq!(&a[k], v, "{k}");
            }
        }
        assert_eq!(b["temoins_contactes_depuis"], "0", "the generated controls are never contacted");
    }
    let recontacted = |t: &[HashMap<String, String>]| {
        t.iter()
            .find(|r| r["campagne"] == "rendez_vous_des_droits" && r["regle"] == "toutes" && r["canal"] == "tous")
            .map(|r| r["temoins_contactes_depuis"].clone())
    };
    assert_eq!(recontacted(&apart_table).as_deref(), Some("1"));
    let left_out = rows(&apart.join("contacts_ecartes.csv"));
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0]["id_foyer"], "INCONNU");
}
