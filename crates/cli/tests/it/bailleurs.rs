//! The landlord list (`rules/campagnes/bailleurs_aide_logement.toml`) on the sample: one
//! row per private landlord, its tenants counted as a count made from the extract counts
//! them, no household id anywhere in it; opposition, an unknown landlord and the cooldown
//! from the landlord rows of `contacts` leave a landlord out; the new rows are validated
//! and quarantined like the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::{read_output, sample, screen, split_csv};

const CAMPAGNE: &str = "bailleurs_aide_logement";
const REGLES: [&str; 3] = ["impaye_loyer", "aide_logement_suspendue", "logement_indecent"];

/// A `;` CSV output as rows of named fields.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let lines = read_output(path);
    let header = split_csv(&lines[0]);
    lines[1..].iter().map(|l| header.iter().cloned().zip(split_csv(l)).collect()).collect()
}

fn euros(s: &str) -> Option<f64> {
    s.replace(',', ".").parse().ok()
}

/// Every landlord row of the campaign (its lists and `non_retenus.csv`), by id, with the
/// file it is in.
fn landlord_rows(out: &Path) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let dir = out.join("campagnes").join(CAMPAGNE);
    let mut all = BTreeMap::new();
    for file in ["telephone.csv", "courrier.csv", "email.csv", "non_retenus.csv"] {
        for r in rows(&dir.join(file)) {
            let previous = all.insert(r["id_bailleur"].clone(), (file.to_string(), r));
            assert!(previous.is_none(), "a landlord is on one row of one file");
        }
    }
    all
}

/// The output of a screen of `extract` for March 2025, which must succeed.
fn screened(extract: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("tmp");
    let run = screen(extract, "2025-03", out.path(), &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    out
}

/// A copy of the sample extract, for a test to change.
fn copy_of_sample() -> tempfile::TempDir {
    let copy = tempfile::tempdir().expect("tmp");
    for f in std::fs::read_dir(sample("synthetique")).expect("dir") {
        let p = f.expect("entry").path();
        std::fs::copy(&p, copy.path().join(p.file_name().expect("name"))).expect("copy");
    }
    copy
}

#[test]
fn the_landlord_list_counts_each_landlords_tenants_as_the_extract_does() {
    let out = screened(&sample("synthetique"));

    // From the extract: each foyer's landlord, and the foyers with no aid to keep (file
    // closed by the end of March, allocataire deceased).
    let extract = sample("synthetique");
    let foyers = rows(&extract.join("foyers.csv"));
    let ended = |d: &str| !d.is_empty() && d <= "2025-03-31";
    let mut out_of_scope: BTreeSet<String> =
        foyers.iter().filter(|f| ended(&f["date_cloture"])).map(|f| f["id_foyer"].clone()).collect();
    out_of_scope.extend(
        rows(&extract.join("personnes.csv"))
            .into_iter()
            .filter(|p| p["role"] == "allocataire" && ended(&p["date_deces"]))
            .map(|p| p["id_foyer"].clone()),
    );
    let bailleur: BTreeMap<String, String> = foyers
        .iter()
        .filter(|f| !f["id_bailleur"].is_empty())
        .map(|f| (f["id_foyer"].clone(), f["id_bailleur"].clone()))
        .collect();
    let landlords: BTreeSet<&String> = bailleur.values().collect();
    let tenants_per_landlord = |b: &str| bailleur.values().filter(|x| *x == b).count();
    assert!(landlords.len() > 100, "{} landlords have tenants in the sample", landlords.len());
    assert!(landlords.iter().filter(|b| tenants_per_landlord(b) >= 5).count() >= 5, "some have several tenants");

    // The reasons the rules give each foyer (eligible signalements of the campaign's
    // rules), with the aid at stake (empty: unknown).
    let mut reasons: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for s in rows(&out.path().join("signalements.csv")) {
        if REGLES.contains(&s["regle"].as_str()) && s["statut"] == "eligible" {
            reasons
                .entry(s["id_foyer"].clone())
                .or_default()
                .push((s["regle"].clone(), s["montant_mensuel_estime"].clone()));
        }
    }
    // Each landlord's concerned tenants: flagged, in scope, with an aid at stake that is
    // not a known zero; the aid of each is its largest reason's (the same aid).
    let mut expected: BTreeMap<&str, (usize, f64, BTreeMap<&str, usize>)> = BTreeMap::new();
    for (foyer, why) in &reasons {
        let Some(b) = bailleur.get(foyer) else { continue };
        if out_of_scope.contains(foyer) || why.iter().all(|(_, m)| m == "0,00") {
            continue;
        }
        let e = expected.entry(b.as_str()).or_default();
        e.0 += 1;
        e.1 += why.iter().filter_map(|(_, m)| euros(m)).fold(0.0, f64::max);
        for (regle, _) in why {
            *e.2.entry(regle.as_str()).or_default() += 1;
        }
    }
    assert!(expected.values().filter(|e| e.0 >= 2).count() >= 2, "some landlords have several tenants concerned");

    let listed = landlord_rows(out.path());
    assert_eq!(
        listed.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected.keys().copied().collect::<BTreeSet<_>>(),
        "every landlord with a concerned tenant, and none other, is listed or left out with why"
    );
    let titles = BTreeMap::from([
        ("impaye_loyer", "Impayé de loyer signalé par le bailleur"),
        ("aide_logement_suspendue", "Aide au logement suspendue"),
        ("logement_indecent", "Logement non décent signalé par la commune"),
    ]);
    for (id, (file, row)) in &listed {
        let (n, aide, kinds) = &expected[id.as_str()];
        assert_eq!(row["locataires"], n.to_string(), "{id} in {file}");
        let shown = euros(&row["aide_logement_en_jeu"]).expect("amount");
        assert!((shown - aide).abs() < 0.005 * *n as f64, "{id}: {shown} shown, {aide} from the extract");
        for (regle, k) in kinds {
            let motif = format!("{} : {k} locataire", titles[regle]);
            assert!(row["motifs"].contains(&motif), "{id}: `{motif}` in `{}`", row["motifs"]);
        }
    }

    // No household id: not a column, not a value, in any landlord file; the landlords'
    // planned contacts name no foyer.
    let foyer_ids: BTreeSet<&String> = foyers.iter().map(|f| &f["id_foyer"]).collect();
    let dir = out.path().join("campagnes").join(CAMPAGNE);
    for file in std::fs::read_dir(&dir).expect("dir") {
        let path = file.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.lines().next().unwrap_or("").contains("id_foyer"), "{}", path.display());
        for r in rows(&path) {
            assert!(r.values().all(|v| !foyer_ids.contains(v)), "{}: a foyer id in {r:?}", path.display());
        }
    }
    let prevus = rows(&out.path().join("contacts_prevus.csv"));
    let to_landlords: Vec<_> = prevus.iter().filter(|r| r["campagne"] == CAMPAGNE).collect();
    let listed_ids: BTreeSet<&String> =
        listed.iter().filter(|(_, (f, _))| f != "non_retenus.csv").map(|(id, _)| id).collect();
    assert_eq!(to_landlords.len(), listed_ids.len());
    assert!(to_landlords.iter().all(|r| r["id_foyer"].is_empty() && listed_ids.contains(&r["id_bailleur"])));

    // The summary accounts for every flagged foyer and every landlord.
    let resume = rows(&out.path().join("campagnes/resume_bailleurs.csv"));
    let n = |k: &str| resume[0][k].parse::<usize>().expect("count");
    let flagged = reasons.keys().count();
    assert_eq!(n("foyers_signales"), flagged);
    assert_eq!(n("foyers_sans_bailleur"), reasons.keys().filter(|f| !bailleur.contains_key(*f)).count());
    assert_eq!(n("bailleurs_signales"), listed.len());
    assert_eq!(n("retenus"), listed_ids.len());
}

/// Replaces the value of `column` in the rows of a `;` CSV file where `key` is `id`.
fn set(path: &Path, key: &str, id: &str, column: &str, value: &str) {
    let lines = read_output(path);
    let header = split_csv(&lines[0]);
    let (k, c) = (header.iter().position(|h| h == key), header.iter().position(|h| h == column));
    let (k, c) = (k.expect("key"), c.expect("column"));
    let text: Vec<String> = std::iter::once(lines[0].clone())
        .chain(lines[1..].iter().map(|l| {
            let mut f: Vec<&str> = l.split(';').collect();
            if f[k] == id {
                f[c] = value;
            }
            f.join(";")
        }))
        .collect();
    std::fs::write(path, text.join("\n") + "\n").expect("write");
}

fn append(path: &Path, lines: &[&str]) {
    let mut text = std::fs::read_to_string(path).expect("read");
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(path, text).expect("write");
}

#[test]
fn opposition_an_unknown_landlord_and_the_cooldown_leave_a_landlord_out() {
    let out = screened(&sample("synthetique"));
    let before = landlord_rows(out.path());
    let listed: Vec<&String> = before.iter().filter(|(_, (f, _))| f != "non_retenus.csv").map(|(id, _)| id).collect();
    assert!(listed.len() >= 5, "{} listed", listed.len());
    let (opposed, absent, called, long_ago) = (listed[0], listed[1], listed[2], listed[3]);

    let copy = copy_of_sample();
    set(&copy.path().join("bailleurs.csv"), "id_bailleur", opposed, "opposition_contact", "1");
    // A landlord the table does not hold.
    let bailleurs = copy.path().join("bailleurs.csv");
    let kept: Vec<String> =
        read_output(&bailleurs).into_iter().filter(|l| !l.starts_with(&format!("{absent};"))).collect();
    std::fs::write(&bailleurs, kept.join("\n") + "\n").expect("write");
    // Called two months ago (cooldown of three months), and three months ago.
    append(
        &copy.path().join("contacts.csv"),
        &[
            &format!(";{called};{CAMPAGNE};2025-01-15;telephone;joint"),
            &format!(";{long_ago};{CAMPAGNE};2024-12-01;courrier;"),
        ],
    );
    let again = screened(copy.path());
    let after = landlord_rows(again.path());
    let why = |id: &str| {
        let (file, row) = &after[id];
        if file == "non_retenus.csv" { row["motif_non_retenu"].clone() } else { "liste".to_string() }
    };
    assert_eq!(why(opposed), "opposition_contact");
    assert_eq!(why(absent), "bailleur_absent");
    assert_eq!(why(called), "delai_entre_contacts");
    assert_eq!(why(long_ago), "liste", "three months after the last call, a landlord is called again");
    // The sample's own landlords of unknown opposition stay out.
    let unknown: BTreeSet<String> = rows(&copy.path().join("bailleurs.csv"))
        .into_iter()
        .filter(|b| b["opposition_contact"].is_empty())
        .map(|b| b["id_bailleur"].clone())
        .collect();
    for id in after.keys().filter(|id| unknown.contains(*id)) {
        assert_eq!(why(id), "opposition_inconnue", "{id}");
    }
}

#[test]
fn landlord_rows_are_validated_and_quarantined_like_the_others() {
    let copy = copy_of_sample();
    append(&copy.path().join("bailleurs.csv"), &["B000001;1;1;1;0", "B999999;peut-être;1;1;0"]);
    append(
        &copy.path().join("contacts.csv"),
        &[
            &format!("F0000001;B000001;{CAMPAGNE};2025-01-15;telephone;joint"),
            &format!(";;{CAMPAGNE};2025-01-15;telephone;joint"),
            &format!(";B999998;{CAMPAGNE};2025-01-15;telephone;joint"),
        ],
    );
    let out = screened(copy.path());
    let q = rows(&out.path().join("quarantaine/bailleurs.csv"));
    let motifs: Vec<String> = q.iter().map(|r| format!("{} {}", r["colonne"], r["motif"])).collect();
    assert_eq!(q.iter().filter(|r| r["motif"].contains("identifiant en double")).count(), 2, "{motifs:?}");
    assert!(q.iter().any(|r| r["colonne"] == "canal_telephone"), "{motifs:?}");
    let q = rows(&out.path().join("quarantaine/contacts.csv"));
    let motifs: Vec<&str> = q.iter().map(|r| r["motif"].as_str()).collect();
    assert!(motifs.contains(&"un contact est avec un foyer ou avec un bailleur, pas les deux"), "{motifs:?}");
    assert!(motifs.contains(&"id_foyer ou id_bailleur requis"), "{motifs:?}");
    assert!(motifs.contains(&"bailleur inexistant dans la table bailleurs"), "{motifs:?}");
    // Counted: rows read = used + quarantined, in the manifest.
    let manifest = crate::read_manifest(out.path());
    let lignes = manifest["lignes"].as_array().expect("lignes");
    let b = lignes.iter().find(|l| l["table"] == "bailleurs").expect("bailleurs counted");
    let n = read_output(&copy.path().join("bailleurs.csv")).len() as u64 - 1;
    assert_eq!(b["lus"], n);
    assert_eq!(b["quarantaines"], 3);
}

/// The landlords' table is the one most likely to arrive with a real name or phone
/// number: the privacy guard refuses it like any table (exit 3, nothing written).
#[test]
fn the_privacy_guard_examines_the_landlords_table() {
    for (column, value) in [("nom", "Dupont"), ("joignable_au", "06 12 34 56 78")] {
        let copy = copy_of_sample();
        let path = copy.path().join("bailleurs.csv");
        let lines = read_output(&path);
        let text: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { format!("{l};{column}") } else { format!("{l};{value}") })
            .collect();
        std::fs::write(&path, text.join("\n") + "\n").expect("write");
        let out = tempfile::tempdir().expect("tmp");
        let run = screen(copy.path(), "2025-03", out.path(), &[], &[]);
        let err = String::from_utf8_lossy(&run.stderr).to_string();
        assert_eq!(run.status.code(), Some(3), "{err}");
        assert!(err.contains(&format!("table `bailleurs`, column `{column}`")), "{err}");
        assert!(!err.contains(value), "the value is never shown");
        assert_eq!(std::fs::read_dir(out.path()).expect("ls").count(), 0, "nothing written");
    }
}
