//! Contact lists on the synthetic sample, checked against the input files themselves:
//! who may never be listed, cooldown, capacity, channels, determinism.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::{generate, read_output, sample, screen, split_csv};

/// `foyers.csv` of an extract: id → column → value.
fn foyers(dir: &Path) -> HashMap<String, HashMap<String, String>> {
    let lines = read_output(&dir.join("foyers.csv"));
    let header: Vec<String> = lines[0].split(';').map(str::to_string).collect();
    lines[1..]
        .iter()
        .map(|l| {
            let row: HashMap<String, String> = header.iter().cloned().zip(l.split(';').map(str::to_string)).collect();
            (row["id_foyer"].clone(), row)
        })
        .collect()
}

fn yes(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "oui" | "o")
}

/// Rows of a contact list as column → value.
fn list(path: &Path) -> Vec<HashMap<String, String>> {
    let lines = read_output(path);
    let header: Vec<String> = lines[0].split(';').map(str::to_string).collect();
    lines[1..].iter().map(|l| header.iter().cloned().zip(split_csv(l)).collect()).collect()
}

const CHANNELS: [&str; 4] = ["telephone", "sms", "email", "courrier"];

/// The rules of each shipped campaign, read from their files (`regles = [ … ]`).
/// The rules of each shipped household campaign (landlord lists are in bailleurs.rs).
fn shipped_campaign_rules() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/campagnes");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("campaigns") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        if text.contains("\nliste = \"bailleurs\"") {
            continue;
        }
        let Some(start) = text.find("\nregles = [") else { continue };
        let list = &text[start..start + text[start..].find(']').expect("]")];
        let id = path.file_stem().expect("stem").to_string_lossy().to_string();
        out.insert(id, list.split('"').skip(1).step_by(2).map(str::to_string).collect());
    }
    out
}

#[test]
fn default_campaigns_on_the_sample_respect_exclusions_cooldown_and_channels() {
    let out = tempfile::tempdir().expect("tmp");
    let extract = sample("synthetique");
    let run = screen(&extract, "2025-03", out.path(), &[], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let foyers = foyers(&extract);
    // Last contact month per (foyer, campaign) from the history.
    let mut last: HashMap<(String, String), String> = HashMap::new();
    let contacts = read_output(&extract.join("contacts.csv"));
    let at = |name: &str| contacts[0].split(';').position(|h| h == name).expect("column");
    let (foyer, campagne, date) = (at("id_foyer"), at("campagne"), at("date"));
    // A contact with a landlord (no id_foyer) is the landlord list's (bailleurs.rs).
    for l in &contacts[1..] {
        let f: Vec<&str> = l.split(';').collect();
        if f[foyer].is_empty() {
            continue;
        }
        let e = last.entry((f[foyer].to_string(), f[campagne].to_string())).or_default();
        if f[date][..7] > e[..] {
            *e = f[date][..7].to_string();
        }
    }
    let month_index = |m: &str| m[..4].parse::<i32>().expect("y") * 12 + m[5..7].parse::<i32>().expect("m");
    // Last contact month per foyer, any campaign (the shipped _reglages.toml: 2 months).
    let mut last_any: HashMap<String, String> = HashMap::new();
    for ((id, _), m) in &last {
        let e = last_any.entry(id.clone()).or_default();
        if m > e {
            *e = m.clone();
        }
    }

    let resume = list(&out.path().join("campagnes/resume.csv"));
    assert_eq!(resume.len(), shipped_campaign_rules().len(), "every shipped campaign");
    assert!(resume.iter().any(|r| r["campagne"] == "validation_ressources"), "{resume:?}");
    let mut listed_total = 0;
    for r in &resume {
        let n = |c: &str| r[c].parse::<u64>().expect(c);
        let excluded: u64 = r.keys().filter(|k| k.starts_with("exclus_")).map(|k| n(k)).sum();
        let not_listed = excluded + n("pris_par_autre_campagne") + n("coupes_capacite") + n("temoins");
        assert_eq!(n("foyers_signales"), not_listed + n("retenus"), "{r:?}");
        listed_total += n("retenus");
    }
    assert!(listed_total > 100, "the sample gives lists to work with");

    let campaigns = [
        ("rendez_vous_des_droits", vec!["telephone", "courrier"], 12),
        ("evenements_de_vie", vec!["telephone", "email", "courrier"], 6),
        ("rupture_de_droits", vec!["sms", "email", "courrier"], 2),
        ("appel_fragilite", vec!["telephone", "courrier"], 3),
        ("cpam_acces_aux_soins", vec!["sms", "email", "courrier"], 6),
        ("validation_ressources", vec!["telephone", "courrier"], 6),
    ];
    assert_eq!(campaigns.len(), shipped_campaign_rules().len(), "every shipped campaign checked");
    // Each foyer's reasons: the rules of the campaigns that it is eligible for (a
    // benefit eligible and not in payment, an event that holds), from signalements.csv.
    let per_campaign = shipped_campaign_rules();
    let campaign_rules: BTreeSet<String> = per_campaign.values().flatten().cloned().collect();
    assert!(campaign_rules.len() > 20 && campaign_rules.contains("rsa") && campaign_rules.contains("separation"));
    let mut reasons_of: HashMap<String, BTreeSet<&str>> = HashMap::new();
    for l in &read_output(&out.path().join("signalements.csv"))[1..] {
        let f: Vec<&str> = l.split(';').collect();
        if let Some(r) = campaign_rules.get(f[1])
            && f[3] == "eligible"
        {
            reasons_of.entry(f[0].to_string()).or_default().insert(r.as_str());
        }
    }
    // Every foyer with a reason of a campaign is accounted for in its summary.
    for r in &resume {
        let rules = &per_campaign[&r["campagne"]];
        let flagged = reasons_of.values().filter(|set| set.iter().any(|x| rules.contains(*x))).count();
        assert_eq!(r["foyers_signales"].parse::<usize>().expect("n"), flagged, "{r:?}");
    }
    let mut listed_anywhere = std::collections::HashSet::new();
    let mut planned = 0;
    for (campagne, preference, delai) in campaigns {
        let mut seen = std::collections::HashSet::new();
        for canal in &preference {
            for row in list(&out.path().join(format!("campagnes/{campagne}/{canal}.csv"))) {
                planned += 1;
                let id = &row["id_foyer"];
                assert!(seen.insert(id.clone()), "{id} listed twice in {campagne}");
                let f = &foyers[id];
                assert!(!yes(&f["opposition_contact"]) && !f["opposition_contact"].is_empty(), "{id}: opposition");
                assert!(f["date_cloture"].is_empty() || f["date_cloture"].as_str() > "2025-03-31", "{id}: closed");
                if let Some(m) = last.get(&(id.clone(), campagne.to_string())) {
                    assert!(month_index("2025-03") - month_index(m) >= delai, "{id}: contacted in {m}, {campagne}");
                }
                if let Some(m) = last_any.get(id) {
                    assert!(month_index("2025-03") - month_index(m) >= 2, "{id}: contacted in {m} by a campaign");
                }
                assert!(listed_anywhere.insert(id.clone()), "{id} is on two lists this month");
                // The row names every rule of any campaign that gives the foyer a reason.
                let named: BTreeSet<&str> = row["regles"].split(", ").collect();
                let reasons = &reasons_of[id];
                assert_eq!(&named, reasons, "{id} in {campagne}");
                // The channel is the first usable one in the campaign's order.
                let usable: Vec<&str> = preference.iter().copied().filter(|c| yes(&f[&format!("canal_{c}")])).collect();
                assert_eq!(usable.first(), Some(canal), "{id} in {campagne}");
                assert_eq!(&row["canal"], canal);
                assert!(CHANNELS.contains(canal));
            }
        }
        // Every other flagged foyer is in non_retenus.csv, with why.
        let left_out = list(&out.path().join(format!("campagnes/{campagne}/non_retenus.csv")));
        let r = resume.iter().find(|r| r["campagne"] == campagne).expect("in resume");
        let n = |c: &str| r[c].parse::<usize>().expect(c);
        assert_eq!(left_out.len(), n("foyers_signales") - n("retenus"), "{campagne}");
        for row in &left_out {
            let id = &row["id_foyer"];
            assert!(!seen.contains(id), "{id} both listed and left out of {campagne}");
            let f = &foyers[id];
            let why = row["motif_non_retenu"].as_str();
            if yes(&f["opposition_contact"]) && f["date_cloture"].is_empty() {
                assert_eq!(why, "opposition_contact", "{id}");
            }
            if let Some(m) = last.get(&(id.clone(), campagne.to_string()))
                && month_index("2025-03") - month_index(m) < delai
                && why != "dossier_clos"
                && why != "opposition_contact"
            {
                assert_eq!(why, "delai_entre_contacts", "{id} contacted in {m}");
            }
        }
    }
    let prevus = read_output(&out.path().join("contacts_prevus.csv"));
    assert_eq!(prevus[0], "id_foyer;campagne;date;canal;resultat;regles;id_bailleur");
    let households = prevus[1..].iter().filter(|l| !l.starts_with(';')).count();
    assert_eq!(households, planned, "one planned contact per listed foyer and campaign");
    assert!(prevus[1..].iter().all(|l| l.split(';').nth(2) == Some("2025-04-01")));
}

#[test]
fn capacity_keeps_the_highest_amounts_per_agency_and_lists_are_reproducible() {
    let campaigns = tempfile::tempdir().expect("tmp");
    std::fs::write(
        campaigns.path().join("petite.toml"),
        "id = \"petite\"\ntitre = \"Petite capacité\"\nregles = [\"rsa\", \"ppa\", \"aspa\"]\n\
         canaux = [\"courrier\", \"telephone\", \"sms\", \"email\"]\ndelai_entre_contacts_mois = 0\n\
         capacite_par_agence = 2\n",
    )
    .expect("write");
    let extra = ["--campagnes", campaigns.path().to_str().expect("utf-8")];
    let run_once = || {
        let out = tempfile::tempdir().expect("tmp");
        let run = screen(&sample("synthetique"), "2025-03", out.path(), &extra, &[]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        assert!(!out.path().join("campagnes/rendez_vous_des_droits").exists(), "--campagnes replaces the set");
        let mut rows = Vec::new();
        for canal in CHANNELS {
            rows.extend(list(&out.path().join(format!("campagnes/petite/{canal}.csv"))));
        }
        let resume = list(&out.path().join("campagnes/resume.csv"));
        let prevus = std::fs::read(out.path().join("contacts_prevus.csv")).expect("read");
        (rows, resume[0].clone(), prevus, read_output(&out.path().join("signalements.csv")))
    };
    let (rows, resume, prevus, signal) = run_once();
    assert!(resume["coupes_capacite"].parse::<u64>().expect("n") > 0, "capacity 2 cuts: {resume:?}");
    let mut per_agency: BTreeMap<String, Vec<(u32, f64)>> = BTreeMap::new();
    for r in &rows {
        let amount = r["montant_en_jeu"].replace(',', ".").parse::<f64>().expect("amount");
        per_agency.entry(r["agence"].clone()).or_default().push((r["rang"].parse().expect("rank"), amount));
    }
    // The amounts at stake of the foyers that were cut, from the signalements.
    let mut best_cut: BTreeMap<String, f64> = BTreeMap::new();
    let agence_of = foyers(&sample("synthetique"));
    let mut amount_of: BTreeMap<String, f64> = BTreeMap::new();
    for l in &signal[1..] {
        let f: Vec<&str> = l.split(';').collect();
        if matches!(f[1], "rsa" | "ppa" | "aspa") && f[3] == "eligible" {
            *amount_of.entry(f[0].to_string()).or_default() += f[4].replace(',', ".").parse::<f64>().unwrap_or(0.0);
        }
    }
    let listed: std::collections::HashSet<&str> = rows.iter().map(|r| r["id_foyer"].as_str()).collect();
    for (id, amount) in &amount_of {
        let f = &agence_of[id];
        let contactable = f["opposition_contact"] == "0" && f["date_cloture"].is_empty();
        if contactable && !listed.contains(id.as_str()) && CHANNELS.iter().any(|c| yes(&f[&format!("canal_{c}")])) {
            let e = best_cut.entry(f["agence"].clone()).or_insert(0.0);
            *e = e.max(*amount);
        }
    }
    for (agence, mut kept) in per_agency {
        kept.sort_by_key(|(rank, _)| *rank);
        assert!(kept.len() <= 2, "{agence}: capacity 2");
        assert_eq!(kept.iter().map(|(r, _)| *r).collect::<Vec<_>>(), (1..=kept.len() as u32).collect::<Vec<_>>());
        assert!(kept.windows(2).all(|w| w[0].1 >= w[1].1), "{agence}: ranked by amount {kept:?}");
        if let Some(cut) = best_cut.get(&agence) {
            assert!(
                kept.iter().all(|(_, a)| a >= cut),
                "{agence}: a cut foyer had more at stake ({cut}) than {kept:?}"
            );
        }
    }
    // Same inputs, same lists in the same order.
    let (rows2, _, prevus2, _) = run_once();
    assert_eq!(rows, rows2);
    assert_eq!(prevus, prevus2);
}

/// Issue 13's life events: a separation with two children and no pension alimentaire
/// flags the ASF with its amount, and the separation carries it as the amount at stake;
/// a first birth carries the PAJE's allocation de base; the `evenements_de_vie` list ranks
/// them by that amount.
#[test]
fn life_events_carry_the_family_benefits_at_stake_and_rank_the_events_list() {
    let extract = tempfile::tempdir().expect("tmp");
    for entry in std::fs::read_dir(sample("cas-limites")).expect("sample") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, extract.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let append = |file: &str, lines: &[String]| {
        let path = extract.path().join(file);
        let mut text = std::fs::read_to_string(&path).expect("read");
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write");
    };
    let foyer =
        |id: &str| format!("{id};931;A1;93008;;;1;locataire;500,00;oui;non;non;recue;;non;oui;oui;non;oui;2015-01-01;");
    append("foyers.csv", &[foyer("CL101"), foyer("CL102")]);
    append(
        "personnes.csv",
        &[
            // A mother alone since 15 February with two children, 24 000 € N-2.
            "CL101-P1;CL101;allocataire;1988-04-10;F;francaise;;salarie;non;;;;24000;;oui;privee;24000".into(),
            "CL101-P2;CL101;enfant;2016-05-03;M;francaise;;;;;;oui;;;oui;privee;".into(),
            "CL101-P3;CL101;enfant;2019-09-12;F;francaise;;;;;;oui;;;oui;privee;".into(),
            // A couple whose first child was born on 8 February; 21 000 € and 4 000 € N-2.
            "CL102-P1;CL102;allocataire;1992-02-02;F;francaise;;salarie;non;;;;21000;;oui;privee;21000".into(),
            "CL102-P2;CL102;conjoint;1990-07-07;M;francaise;;salarie;non;;;;4000;;oui;privee;4000".into(),
            "CL102-P3;CL102;enfant;2025-02-08;F;francaise;;;;;;;;;oui;privee;".into(),
        ],
    );
    let mut rows = Vec::new();
    for k in 1..=14 {
        let m = if k <= 2 { format!("2025-{:02}", 3 - k) } else { format!("2024-{:02}", 15 - k) };
        rows.push(format!("CL101-P1;{m};salaire;2000;2550"));
        rows.push(format!("CL102-P1;{m};salaire;1700;2170"));
        rows.push(format!("CL102-P2;{m};salaire;1500;1910"));
    }
    append("ressources.csv", &rows);
    append(
        "evenements.csv",
        &["CL101;;separation;2025-02-15;allocataire".into(), "CL102;;naissance;2025-02-08;allocataire".into()],
    );

    // The events campaign alone: with the shipped ones, the rendez-vous des droits (of
    // higher priority) takes these foyers for their CSS.
    let campaigns = tempfile::tempdir().expect("tmp");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/campagnes/evenements_de_vie.toml");
    std::fs::copy(shipped, campaigns.path().join("evenements_de_vie.toml")).expect("copy");
    let out = tempfile::tempdir().expect("tmp");
    let extra = ["--campagnes", campaigns.path().to_str().expect("utf-8")];
    let run = screen(extract.path(), "2025-03", out.path(), &extra, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sig = read_output(&out.path().join("signalements.csv"));
    let row = |prefix: &str| sig.iter().find(|r| r.starts_with(prefix)).cloned();
    // ASF: 2 × arrondi(466,44 × 42,2 %) = 2 × 196,84 = 393,68 € (no pension in February).
    // The RSA majoré is not due: 2 000 € of earnings exceed 635,71 × (128,412 % + 2 ×
    // 42,804 %) = 1 360,55 €. The separation's amount at stake is the ASF alone.
    assert!(row("CL101;asf;prestation;eligible;393,68;").is_some(), "{sig:?}");
    let separation = row("CL101;separation;evenement;eligible;393,68;").unwrap_or_else(|| panic!("{sig:?}"));
    assert!(separation.contains("asf_a_demander") && !separation.contains("rsa_a_demander"), "{separation}");
    // PAJE: 25 000 € ≤ 24 414 × 1,25 = 30 517,50 (4 000 € < 12 × 439,17: not two
    // earners), full rate 466,44 × 41,65 % = 194,27 €, due from March.
    assert!(row("CL102;paje_base;prestation;eligible;194,27;").is_some(), "{sig:?}");
    let naissance = row("CL102;premiere_naissance;evenement;eligible;194,27;").unwrap_or_else(|| panic!("{sig:?}"));
    assert!(naissance.contains("paje_base_a_demander"), "{naissance}");
    // The prime à la naissance was not paid (no paje_naissance row): 25 000 € ≤ 29 169 ×
    // 1,25 = 36 461,25; 466,44 × 229,75 % = 1 071,65 €, paid once — named among the
    // birth's reasons, not added to its monthly amount.
    assert!(naissance.contains("prime_naissance_a_demander"), "{naissance}");
    let prime = row("CL102;paje_naissance;prestation;eligible;1071,65;").unwrap_or_else(|| panic!("{sig:?}"));
    assert!(prime.ends_with(";2025-03;unique"), "{prime}");

    let list = list(&out.path().join("campagnes/evenements_de_vie/telephone.csv"));
    let ranked: Vec<(&str, &str, &str)> = list
        .iter()
        .filter(|r| r["agence"] == "A1")
        .map(|r| (r["id_foyer"].as_str(), r["rang"].as_str(), r["montant_en_jeu"].as_str()))
        .collect();
    assert_eq!(ranked, [("CL101", "1", "393,68"), ("CL102", "2", "194,27")], "{list:?}");
}

/// The shipped campaigns, each household list with `groupe_temoin = share`, in a folder
/// of their own.
pub fn campaigns_with_control_groups(share: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/campagnes");
    for entry in std::fs::read_dir(shipped).expect("campaigns") {
        let path = entry.expect("entry").path();
        let mut text = std::fs::read_to_string(&path).expect("read");
        let name = path.file_name().expect("name").to_string_lossy().to_string();
        // A landlord list draws no control group (docs/campaigns.md).
        if !name.starts_with('_') && !text.contains("\nliste = \"bailleurs\"") {
            text = text.replace("\n# groupe_temoin = 0.10\n", "\n");
            text.push_str(&format!("groupe_temoin = {share}\n"));
        }
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// With `groupe_temoin = 0.1`, a tenth of the households each campaign would contact
/// (its exclusions passed, not taken by a campaign of higher priority, within its
/// capacity) form its control group, ±2 points, on 100,000 generated foyers; the draw is the same in another run with one
/// thread; no control household is on a list, and each is in `contacts_prevus.csv` as
/// `temoin`.
#[test]
fn control_groups_hold_a_tenth_of_each_campaign_whatever_the_threads() {
    let extract = tempfile::tempdir().expect("tmp");
    generate(extract.path(), "100000", &[]);
    let campaigns = campaigns_with_control_groups("0.1");
    let extra = ["--campagnes", campaigns.path().to_str().expect("utf-8")];
    let run = |envs: &[(&str, &str)]| {
        let out = tempfile::tempdir().expect("tmp");
        let run = screen(extract.path(), "2025-03", out.path(), &extra, envs);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        out
    };
    let out = run(&[]);
    let resume = list(&out.path().join("campagnes/resume.csv"));
    assert_eq!(resume.len(), shipped_campaign_rules().len());
    let prevus = list(&out.path().join("contacts_prevus.csv"));
    let mut seen = std::collections::HashSet::new();
    for row in prevus.iter().filter(|r| !r["id_foyer"].is_empty()) {
        assert!(seen.insert(row["id_foyer"].clone()), "{} planned twice", row["id_foyer"]);
    }
    for r in &resume {
        let n = |c: &str| r[c].parse::<f64>().expect(c);
        let campagne = &r["campagne"];
        let would_list = n("temoins") + n("retenus");
        let share = n("temoins") / would_list;
        assert!(would_list > 500.0, "{campagne}: {would_list} households to draw from");
        assert!((share - 0.1).abs() <= 0.02, "{campagne}: control share {share:.4}");
        let temoins = list(&out.path().join(format!("campagnes/{campagne}/temoins.csv")));
        assert_eq!(temoins.len() as f64, n("temoins"));
        let planned_as_control = prevus.iter().filter(|p| &p["campagne"] == campagne && p["canal"] == "temoin");
        assert_eq!(planned_as_control.count(), temoins.len(), "{campagne}");
        for t in &temoins {
            assert!(t["regles"].split(", ").count() >= 1 && !t["motifs"].is_empty());
        }
    }
    let one_thread = run(&[("RAYON_NUM_THREADS", "1"), ("POLARS_MAX_THREADS", "1")]);
    for file in ["contacts_prevus.csv", "campagnes/resume.csv", "campagnes/rendez_vous_des_droits/temoins.csv"] {
        let a = std::fs::read(out.path().join(file)).expect("read");
        let b = std::fs::read(one_thread.path().join(file)).expect("read");
        assert!(a == b, "{file} differs with one thread");
    }
}
