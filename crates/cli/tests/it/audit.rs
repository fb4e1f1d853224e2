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

/// The foyers of the committed sample whose rank is a multiple of `every`, with their
/// persons, resources, rights, events and contacts: an extract of a sample of foyers.
fn sample_of_the_sample(to: &std::path::Path, every: usize) {
    use std::collections::BTreeSet;
    let from = crate::sample("synthetique");
    std::fs::create_dir_all(to).expect("mkdir");
    let read = |name: &str| std::fs::read_to_string(from.join(name)).expect("sample file");
    // Keeps the header and the lines whose `key` is in `keep`; returns them.
    let filter = |name: &str, key: &str, keep: &BTreeSet<String>| -> Vec<Vec<String>> {
        let text = read(name);
        let mut lines = text.lines();
        let header = lines.next().expect("header");
        let k = header.trim_start_matches('\u{feff}').split(';').position(|h| h == key).expect("key column");
        let kept: Vec<&str> = lines.filter(|l| l.split(';').nth(k).is_some_and(|v| keep.contains(v))).collect();
        let mut out = String::from(header);
        out.push('\n');
        for l in &kept {
            out.push_str(l);
            out.push('\n');
        }
        std::fs::write(to.join(name), out).expect("written");
        let h: Vec<&str> = header.trim_start_matches('\u{feff}').split(';').collect();
        kept.iter().map(|l| l.split(';').zip(&h).map(|(v, _)| v.to_string()).collect()).collect()
    };
    let all: BTreeSet<String> =
        read("foyers.csv").lines().skip(1).filter_map(|l| l.split(';').next().map(str::to_string)).collect();
    let foyers: BTreeSet<String> =
        all.into_iter().enumerate().filter(|(i, _)| i % every == 0).map(|(_, id)| id).collect();
    filter("foyers.csv", "id_foyer", &foyers);
    let personnes = filter("personnes.csv", "id_foyer", &foyers);
    let ids: BTreeSet<String> = personnes.iter().map(|p| p[0].clone()).collect();
    filter("ressources.csv", "id_personne", &ids);
    for name in ["droits.csv", "evenements.csv", "contacts.csv"] {
        filter(name, "id_foyer", &foyers);
    }
}

#[test]
fn couverture_counts_the_decisive_conditions_that_explain_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = dir.path().join("extrait");
    // 67 foyers of the committed sample (every 30th).
    sample_of_the_sample(&extract, 30);
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

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The rows of a CSV output as maps from column to value.
fn rows(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let lines = crate::read_output(path);
    let header: Vec<String> = lines[0].split(';').map(str::to_string).collect();
    lines[1..]
        .iter()
        .map(|l| header.iter().cloned().zip(l.split(';').map(|v| v.trim_matches('"').to_string())).collect())
        .collect()
}

#[test]
fn diff_between_two_months_reports_the_april_revaluations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = dir.path().join("extrait");
    let run = reperage(
        &["generate", "--foyers", "600", "--mois", "2025-04", "--seed", "5", "--out", extract.to_str().expect("utf-8")],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = dir.path().join("diff");
    let args = [
        "diff",
        "--extract",
        extract.to_str().expect("utf-8"),
        "--mois",
        "2025-04",
        "--mois-avant",
        "2025-03",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    let run = reperage(&args, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let params = rows(&out.join("diff_parametres.csv"));
    let changed: Vec<&str> = params.iter().map(|r| r["parametre"].as_str()).collect();
    // Décret n° 2025-293 (RSA), décret n° 2025-294 (prime d'activité), CSS ceilings of 1 April.
    for p in ["rsa.montant_forfaitaire", "ppa.montant_de_base", "css.plafond_base"] {
        assert!(changed.contains(&p), "{p} not reported: {changed:?}");
    }
    let rsa = params.iter().find(|r| r["parametre"] == "rsa.montant_forfaitaire").expect("rsa");
    assert!(rsa["avant"].starts_with("635,71") && rsa["apres"].starts_with("646,52"), "{rsa:?}");
    // The same rules: no definition differs.
    assert!(rows(&out.join("diff_definitions.csv")).is_empty());
    // Every foyer eligible to the RSA both months gets more (the amount is the
    // montant forfaitaire minus resources that did not change).
    let regles = rows(&out.join("diff_regles.csv"));
    let r = regles.iter().find(|r| r["regle"] == "rsa").expect("rsa compared");
    let min: f64 = r["ecart_min"].replace(',', ".").parse().expect("an eligible foyer both months");
    assert!(min > 0.0, "{r:?}");
    let page = std::fs::read_to_string(out.join("diff.html")).expect("page");
    assert!(!page.contains("F00"), "no foyer id on the page");
}

#[test]
fn diff_of_two_rule_folders_reports_the_one_parameter_and_the_foyers_it_moves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = dir.path().join("extrait");
    let run = reperage(
        &["generate", "--foyers", "600", "--mois", "2025-04", "--seed", "5", "--out", extract.to_str().expect("utf-8")],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (a, b) = (dir.path().join("regles-a"), dir.path().join("regles-b"));
    copy_dir(&root().join("rules"), &a);
    copy_dir(&root().join("rules"), &b);
    let path = b.join("parametres/rsa.toml");
    let text = std::fs::read_to_string(&path).expect("readable");
    assert_eq!(text.matches("valeur = 646.52").count(), 1);
    std::fs::write(&path, text.replace("valeur = 646.52", "valeur = 800")).expect("written");

    let out = dir.path().join("diff");
    let (e, a_s, b_s) = (extract.to_str().expect("utf-8"), a.to_str().expect("utf-8"), b.to_str().expect("utf-8"));
    let args = [
        "diff",
        "--extract",
        e,
        "--mois",
        "2025-04",
        "--rules-avant",
        a_s,
        "--rules-apres",
        b_s,
        "--out",
        out.to_str().expect("utf-8"),
    ];
    let run = reperage(&args, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let params = rows(&out.join("diff_parametres.csv"));
    assert_eq!(params.len(), 1, "{params:?}");
    assert_eq!(params[0]["parametre"], "rsa.montant_forfaitaire");
    assert!(rows(&out.join("diff_definitions.csv")).is_empty());

    // The foyers it moves, seen independently: the RSA status of each foyer in two
    // screens, one per folder.
    let statuts = |rules: &str, name: &str| {
        let o = dir.path().join(name);
        let run = crate::screen(&extract, "2025-04", &o, &["--rules", rules], &[]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        rows(&o.join("eligibilites.csv"))
            .into_iter()
            .map(|r| (r["id_foyer"].clone(), r["rsa_statut"].clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (before, after) = (statuts(a_s, "screen-a"), statuts(b_s, "screen-b"));
    let moved: std::collections::BTreeSet<String> =
        before.iter().filter(|(id, s)| after.get(*id) != Some(*s)).map(|(id, _)| id.clone()).collect();
    let listed: std::collections::BTreeSet<String> = rows(&out.join("foyers_modifies.csv"))
        .into_iter()
        .filter(|r| r["regle"] == "rsa" && r["statut_avant"] != r["statut_apres"])
        .map(|r| r["id_foyer"].clone())
        .collect();
    assert!(!moved.is_empty(), "a montant forfaitaire of 800 € moves some foyers");
    assert_eq!(listed, moved);
    let regles = rows(&out.join("diff_regles.csv"));
    let rsa = regles.iter().find(|r| r["regle"] == "rsa").expect("rsa");
    assert_eq!(
        rsa["gagnent"].parse::<usize>().expect("count") + rsa["perdent"].parse::<usize>().expect("count"),
        moved.len()
    );
}

/// Every `href` of a page, and every `id`.
fn hrefs_and_ids(html: &str) -> (Vec<String>, std::collections::BTreeSet<String>) {
    let attr = |name: &str| -> Vec<String> {
        html.split(&format!(" {name}=\"")).skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect()
    };
    (attr("href"), attr("id").into_iter().collect())
}

#[test]
fn the_catalog_site_has_no_broken_link_and_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cov = dir.path().join("couverture");
    let extract = crate::sample("synthetique");
    let run = reperage(
        &[
            "couverture",
            "--extract",
            extract.to_str().expect("utf-8"),
            "--mois",
            "2025-03",
            "--out",
            cov.to_str().expect("utf-8"),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let site = dir.path().join("site");
    let csv = cov.join("couverture.csv");
    let run =
        reperage(&["doc", "--out", site.to_str().expect("utf-8"), "--couverture", csv.to_str().expect("utf-8")], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    // Every internal link resolves to a page and, when it names one, an anchor of it.
    let mut pages = vec![site.join("index.html"), site.join("parametres.html"), site.join("situation.html")];
    pages.extend(std::fs::read_dir(site.join("regles")).expect("rule pages").map(|e| e.expect("entry").path()));
    let shipped = std::fs::read_dir(root().join("rules"))
        .expect("rules folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.ends_with("situation.toml"))
        .count();
    assert_eq!(pages.len(), 3 + shipped, "one page per shipped rule");
    let (mut checked, mut broken) = (0, Vec::new());
    for page in &pages {
        let html = std::fs::read_to_string(page).expect("page");
        let (hrefs, own_ids) = hrefs_and_ids(&html);
        for href in hrefs.iter().filter(|h| !h.starts_with("http://") && !h.starts_with("https://")) {
            checked += 1;
            let (file, anchor) = href.split_once('#').unwrap_or((href, ""));
            let (target, ids) = if file.is_empty() {
                (page.clone(), own_ids.clone())
            } else {
                let target = page.parent().expect("in the site").join(file);
                let Ok(text) = std::fs::read_to_string(&target) else {
                    broken.push(format!("{}: {href}", page.display()));
                    continue;
                };
                (target, hrefs_and_ids(&text).1)
            };
            if !anchor.is_empty() && !ids.contains(anchor) {
                broken.push(format!("{}: {href} (no id `{anchor}` in {})", page.display(), target.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{} broken links of {checked}:\n{}", broken.len(), broken.join("\n"));
    assert!(checked > 1000, "only {checked} internal links");

    // The RSA's page: its tree, a linked parameter, the population beside a condition.
    let rsa = std::fs::read_to_string(site.join("regles/rsa.html")).expect("rsa page");
    assert!(rsa.contains("id=\"def-ressources_sous_montant_forfaitaire\""));
    assert!(rsa.contains("href=\"../parametres.html#p-rsa.montant_forfaitaire\""));
    assert!(rsa.contains("Sur la population : vraie"));
    assert!(rsa.contains("Décret n° 2025-293"));

    for page in [site.join("index.html"), site.join("regles/rsa.html")] {
        let dom = crate::headless(&page, &["--dump-dom"]);
        assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
        let stderr = String::from_utf8_lossy(&dom.stderr);
        assert!(!stderr.contains("CONSOLE"), "console messages on {}: {stderr}", page.display());
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(dom.contains("</table>") || dom.contains("id=\"recherche\""), "{}", page.display());
    }
}
