//! `reperage estimer`: aggregates only, small cells and what reveals them suppressed.
//!
//! The adversary reads nothing but the published `estimations.csv`: it rebuilds the
//! relations between the cells (a margin is the sum of the cells it covers) from the
//! level columns alone, and tries to recover every suppressed count, by differences
//! repeated until nothing new comes, then by the exact audit of reperage-secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::{headless, read_output, reperage, sample};

/// The level columns of each dimension, coarsest first, as `estimer` writes them.
const HIERARCHIES: &[&[&str]] =
    &[&["caisse"], &["departement", "commune"], &["en_qpv", "qpv"], &["type_foyer"], &["tranche_age"]];
const GROUPES: [&str; 5] = [
    "allocataires_eligibles",
    "allocataires_indetermines",
    "allocataires_non_eligibles",
    "eligibles_non_allocataires",
    "indetermines_non_allocataires",
];

fn estimer(extract: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "estimer",
        "--extract",
        extract.to_str().expect("utf-8"),
        "--mois",
        "2025-03",
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let run = reperage(&args, &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

/// The published file as rows of (column → value).
fn rows(out: &Path) -> Vec<HashMap<String, String>> {
    let lines = read_output(&out.join("estimations.csv"));
    let header: Vec<String> = lines[0].split(';').map(str::to_string).collect();
    lines[1..].iter().map(|l| header.iter().cloned().zip(l.split(';').map(str::to_string)).collect()).collect()
}

/// One system an adversary attacks: one benefit's cells of one group.
struct Systeme {
    /// Published value, or None where suppressed.
    valeurs: Vec<Option<u64>>,
    /// parent = Σ children, as (parent, children).
    relations: Vec<(usize, Vec<usize>)>,
}

/// The systems of every (benefit, group), rebuilt from the published rows.
fn systemes(rows: &[HashMap<String, String>]) -> BTreeMap<(String, String), Systeme> {
    let levels: Vec<(usize, &str)> = HIERARCHIES
        .iter()
        .enumerate()
        .flat_map(|(d, h)| h.iter().map(move |l| (d, *l)))
        .filter(|(_, l)| rows.first().is_some_and(|r| r.contains_key(*l)))
        .collect();
    let mut out = BTreeMap::new();
    let benefits: BTreeSet<&String> = rows.iter().map(|r| &r["prestation"]).collect();
    for b in benefits {
        let these: Vec<&HashMap<String, String>> = rows.iter().filter(|r| &r["prestation"] == b).collect();
        let key = |r: &HashMap<String, String>| levels.iter().map(|(_, l)| r[*l].clone()).collect::<Vec<String>>();
        let index: HashMap<Vec<String>, usize> = these.iter().enumerate().map(|(i, r)| (key(r), i)).collect();
        // The parent of a row along dimension d: its finest detailed level summed away.
        let mut children: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (i, r) in these.iter().enumerate() {
            let k = key(r);
            for d in 0..HIERARCHIES.len() {
                let positions: Vec<usize> =
                    levels.iter().enumerate().filter(|(_, (dd, _))| *dd == d).map(|(p, _)| p).collect();
                let Some(&finest) = positions.iter().rev().find(|&&p| k[p] != "Ensemble") else { continue };
                let mut parent = k.clone();
                parent[finest] = "Ensemble".into();
                let p = index.get(&parent).unwrap_or_else(|| panic!("{b}: the margin of {k:?} is not published"));
                children.entry((*p, d)).or_default().push(i);
            }
        }
        for g in GROUPES {
            let valeurs = these.iter().map(|r| r[g].parse::<u64>().ok()).collect();
            let relations = children.iter().map(|((p, _), c)| (*p, c.clone())).collect();
            out.insert((b.clone(), g.to_string()), Systeme { valeurs, relations });
        }
    }
    out
}

/// Differences: a relation with one unknown gives it; repeated until nothing new comes.
/// Returns the suppressed cells recovered.
fn par_differences(s: &Systeme) -> Vec<usize> {
    let mut known = s.valeurs.clone();
    let mut recovered = Vec::new();
    loop {
        let mut progress = false;
        for (p, c) in &s.relations {
            let cells: Vec<usize> = std::iter::once(*p).chain(c.iter().copied()).collect();
            let unknown: Vec<usize> = cells.iter().copied().filter(|&x| known[x].is_none()).collect();
            if unknown.len() != 1 {
                continue;
            }
            let u = unknown[0];
            let sum_children: i64 = c.iter().filter_map(|&x| known[x]).map(|v| v as i64).sum();
            let value = if u == *p { sum_children } else { known[*p].unwrap_or(0) as i64 - sum_children };
            known[u] = Some(value.max(0) as u64);
            recovered.push(u);
            progress = true;
        }
        if !progress {
            return recovered;
        }
    }
}

/// The exact audit on the rebuilt system.
fn par_algebre(s: &Systeme) -> Vec<usize> {
    let probleme = reperage_secret::Probleme {
        valeurs: s.valeurs.iter().map(|v| v.unwrap_or(0)).collect(),
        relations: s
            .relations
            .iter()
            .map(|(p, c)| std::iter::once((*p, 1)).chain(c.iter().map(|&x| (x, -1))).collect())
            .collect(),
    };
    let masque: Vec<bool> = s.valeurs.iter().map(Option::is_none).collect();
    reperage_secret::recuperables_exact(&probleme, &masque)
}

fn no_suppressed_count_is_recoverable(out: &Path) -> usize {
    let rows = rows(out);
    let systems = systemes(&rows);
    let mut suppressed = 0;
    for ((b, g), s) in &systems {
        suppressed += s.valeurs.iter().filter(|v| v.is_none()).count();
        let found = par_differences(s);
        assert!(found.is_empty(), "{b} {g}: {} suppressed count(s) recovered by differences", found.len());
        let found = par_algebre(s);
        assert!(found.is_empty(), "{b} {g}: {} suppressed count(s) recovered by linear algebra", found.len());
    }
    suppressed
}

#[test]
fn estimates_of_the_sample_publish_no_small_count_and_no_recoverable_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("estimations");
    estimer(&sample("synthetique"), &out, &["--precedent", sample("synthetique-precedent").to_str().expect("utf-8")]);
    let rows = rows(&out);
    assert!(rows.len() > 1000, "{} rows", rows.len());
    // Primary: no published count from 1 to 10.
    for r in &rows {
        for g in GROUPES {
            if let Ok(v) = r[g].parse::<u64>() {
                assert!(v == 0 || v >= 11, "{} {}: {g} = {v} published", r["prestation"], r["tableau"]);
            }
        }
        // An amount is published only with its count.
        if r["eligibles_non_allocataires"].is_empty() {
            assert!(r["montant_en_jeu"].is_empty(), "{r:?}");
        }
    }
    let suppressed = no_suppressed_count_is_recoverable(&out);
    assert!(suppressed > 100, "{suppressed} suppressed: the sample's fine cells are small");
}

#[test]
fn the_adversary_does_recover_a_count_left_alone() {
    // Not a vacuous attack: reveal one of two suppressed cells of a relation (any value)
    // and the other follows.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("estimations");
    estimer(&sample("synthetique"), &out, &["--par", "departement,type_foyer"]);
    let rows = rows(&out);
    let mut systems = systemes(&rows);
    let mut attacked = 0;
    for s in systems.values_mut() {
        let Some((p, c)) = s
            .relations
            .iter()
            .find(|(p, c)| std::iter::once(p).chain(c).filter(|x| s.valeurs[**x].is_none()).count() == 2)
            .cloned()
        else {
            continue;
        };
        let hidden: Vec<usize> = std::iter::once(p).chain(c).filter(|x| s.valeurs[*x].is_none()).collect();
        s.valeurs[hidden[0]] = Some(3);
        assert!(par_differences(s).contains(&hidden[1]));
        assert!(par_algebre(s).contains(&hidden[1]));
        attacked += 1;
    }
    assert!(attacked > 0, "some relation of the sample has two suppressed cells");
}

#[test]
fn no_output_of_estimer_holds_an_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("estimations");
    estimer(&sample("synthetique"), &out, &["--format", "both", "--par", "caisse,commune,qpv,type_foyer,tranche_age"]);
    let ids: BTreeSet<String> = ["foyers.csv", "personnes.csv"]
        .iter()
        .flat_map(|t| {
            read_output(&sample("synthetique").join(t))
                .into_iter()
                .skip(1)
                .flat_map(|l| l.split(';').take(2).map(str::to_string).collect::<Vec<_>>())
        })
        .filter(|v| v.starts_with('F'))
        .collect();
    assert!(ids.len() > 2000, "{} ids", ids.len());
    let files = super::files_of(&out);
    assert!(files.keys().any(|f| f.ends_with(".parquet")) && files.contains_key("estimations.csv"));
    for (name, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        for token in text.split(|c: char| !c.is_ascii_alphanumeric() && c != '-') {
            assert!(!ids.contains(token), "{name} holds the id {token}");
        }
        // The manifest lists the extract's columns read; no table has an id column.
        if name != "manifest.json" {
            assert!(!text.contains("id_foyer") && !text.contains("id_personne"), "{name} names an id column");
        }
    }
}

#[test]
fn rates_come_from_the_published_counts_and_lie_within_their_bounds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("estimations");
    estimer(&sample("synthetique"), &out, &["--par", "type_foyer"]);
    let num = |s: &str| s.replace(',', ".").parse::<f64>().ok();
    let mut checked = 0;
    for r in rows(&out) {
        let (er, enr) = (num(&r["allocataires_eligibles"]), num(&r["eligibles_non_allocataires"]));
        let (central, bas, haut) =
            (num(&r["taux_non_recours"]), num(&r["taux_non_recours_bas"]), num(&r["taux_non_recours_haut"]));
        match (er, enr) {
            (Some(er), Some(enr)) if er + enr > 0.0 => {
                let expected = (1000.0 * enr / (er + enr)).round() / 10.0;
                assert_eq!(central, Some(expected), "{r:?}");
                checked += 1;
            }
            _ => assert_eq!(central, None, "a rate without its published counts: {r:?}"),
        }
        if let (Some(c), Some(b), Some(h)) = (central, bas, haut) {
            assert!(b <= c && c <= h, "{r:?}");
        }
    }
    assert!(checked > 10, "{checked} rates checked");
}

#[test]
fn the_report_renders_in_headless_chromium_with_its_charts_drawn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("estimations");
    estimer(&sample("synthetique"), &out, &["--par", "departement,qpv,type_foyer"]);
    let page = out.join("rapport.html");
    let html = std::fs::read_to_string(&page).expect("rapport.html");
    // Self-contained: nothing fetched at view time.
    for remote in ["http://", "https://", "<script", "<link"] {
        assert!(!html.replace("http://www.w3.org/2000/svg", "").contains(remote), "rapport.html holds {remote}");
    }
    assert!(html.contains("<caption>") && html.contains("secret statistique"));

    // The DOM as Chromium built it: charts with bars of non-zero width.
    let dom = headless(&page, &["--dump-dom"]);
    assert!(dom.status.success(), "{}", String::from_utf8_lossy(&dom.stderr));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    let charts = dom_text.matches("<svg class=\"chart\"").count();
    assert!(charts >= 3, "{charts} charts");
    let widths: Vec<f64> = dom_text
        .split("<rect class=\"bar\"")
        .skip(1)
        .filter_map(|r| r.split("width=\"").nth(1)?.split('"').next()?.parse().ok())
        .collect();
    assert!(widths.iter().filter(|w| **w > 5.0).count() >= 5, "bars: {widths:?}");
    let stderr = String::from_utf8_lossy(&dom.stderr);
    assert!(!stderr.contains("CONSOLE"), "console messages: {stderr}");

    // The screenshot is not blank.
    let png = dir.path().join("rapport.png");
    let shot =
        headless(&page, &["--hide-scrollbars", "--window-size=1000,2000", &format!("--screenshot={}", png.display())]);
    assert!(shot.status.success(), "{}", String::from_utf8_lossy(&shot.stderr));
    assert!(!String::from_utf8_lossy(&shot.stderr).contains("CONSOLE"));
    let decoder = png::Decoder::new(std::fs::File::open(&png).expect("png"));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    let pixels = &buf[..info.buffer_size()];
    let coloured = pixels.chunks(channels).filter(|p| p[..3].iter().any(|&c| c < 200)).count();
    let share = coloured as f64 / (pixels.len() / channels) as f64;
    assert!(share > 0.02, "{:.1} % of the screenshot is not white", 100.0 * share);
    // The bars' blue is there.
    assert!(pixels.chunks(channels).any(|p| p[0] == 0x2a && p[1] == 0x6f && p[2] == 0x97), "no bar drawn");
}

/// The named columns of a `;`-separated file with a header, row by row.
fn columns(path: &Path, names: &[&str]) -> Vec<Vec<String>> {
    let lines = super::read_output(path);
    let header: Vec<&str> = lines[0].split(';').collect();
    let at: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).unwrap_or_else(|| panic!("{}: no column {n}", path.display())))
        .collect();
    lines[1..]
        .iter()
        .map(|l| {
            let fields: Vec<&str> = l.split(';').collect();
            at.iter().map(|&i| fields[i].to_string()).collect()
        })
        .collect()
}

/// The territorial levels of a foyer as `estimer` names them (docs/observatory.md):
/// département, commune, in a QPV or not, QPV code. Written here from the extract's
/// columns, not taken from the program.
fn territoire(commune: &str, qpv: &str) -> [String; 4] {
    let departement = if commune.starts_with("97") { &commune[..3] } else { &commune[..2] };
    let (en_qpv, code) = if qpv.is_empty() { ("hors QPV", "hors QPV") } else { ("en QPV", qpv) };
    [departement.to_string(), commune.to_string(), en_qpv.to_string(), code.to_string()]
}

/// For each benefit and territory (département, commune, QPV), the foyers the rules find
/// eligible and, among them, those whose right the generator withheld (its ground truth).
type Verite = BTreeMap<(String, [String; 4]), (u64, u64)>;

fn verite(extract: &Path, truth: &Path, screened: &Path) -> (Verite, u64, u64) {
    let mut lieu: HashMap<String, [String; 4]> = HashMap::new();
    let mut clos = 0;
    for f in columns(&extract.join("foyers.csv"), &["id_foyer", "commune", "qpv", "date_cloture"]) {
        // A dossier closed by the end of the month is out of the estimates' scope.
        if f[3].is_empty() || f[3].as_str() > "2025-03-31" {
            lieu.insert(f[0].clone(), territoire(&f[1], &f[2]));
        } else {
            clos += 1;
        }
    }
    let withheld: BTreeSet<(String, String)> = columns(truth, &["id_foyer", "prestation", "plante"])
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let lines = super::read_output(&screened.join("eligibilites.csv"));
    let header: Vec<&str> = lines[0].split(';').collect();
    let benefits: Vec<(String, usize, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.strip_suffix("_statut").map(|b| (b.to_string(), i)))
        .map(|(b, i)| {
            let paid = header.iter().position(|h| *h == format!("{b}_en_paiement")).expect("en_paiement");
            (b, i, paid)
        })
        .collect();
    let mut out = Verite::new();
    let mut unplanted = 0;
    for l in &lines[1..] {
        let fields: Vec<&str> = l.split(';').collect();
        let Some(place) = lieu.get(fields[0]) else { continue };
        for (b, statut, paid) in &benefits {
            if fields[*statut] != "eligible" {
                continue;
            }
            let planted = withheld.contains(&(fields[0].to_string(), b.clone()));
            let e = out.entry((b.clone(), place.clone())).or_default();
            e.0 += 1;
            e.1 += u64::from(planted);
            // Eligible, not paid, and not planted: non-take-up the generator did not
            // plant (a profile narrower than the law).
            unplanted += u64::from(fields[*paid] != "true" && !planted);
        }
    }
    (out, unplanted, clos)
}

#[test]
fn on_200000_foyers_estimates_find_the_planted_rates_and_no_suppressed_count_is_recoverable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let extract = dir.path().join("extrait");
    super::generate(&extract, "200000", &[]);
    let out = dir.path().join("estimations");
    estimer(&extract, &out, &[]);

    // Large enough that cells are of every size and the audit, not the lines rule
    // alone, has recoverable cells to hide (docs/performance.md).
    let manifest = super::read_manifest(&out);
    let secondaires: u64 =
        manifest["secret"].as_array().expect("secret").iter().map(|s| s["secondaires"].as_u64().unwrap_or(0)).sum();
    assert!(secondaires > 1000, "{secondaires} secondary suppressions");
    let suppressed = no_suppressed_count_is_recoverable(&out);
    assert!(suppressed > 10_000, "{suppressed} suppressed");

    // The ground truth: which foyers the rules find eligible (screen, the same
    // evaluation), and which of them the generator planted as not claiming.
    let screened = dir.path().join("screen");
    let empty = dir.path().join("aucune-campagne");
    std::fs::create_dir_all(&empty).expect("dir");
    let run = super::screen(&extract, "2025-03", &screened, &["--campagnes", empty.to_str().expect("utf-8")], &[]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let (truth, unplanted, clos) = verite(&extract, &dir.path().join("extrait.verite.csv"), &screened);
    assert!(clos > 1000, "{clos} closed dossiers");
    assert_eq!(manifest["foyers"]["dossiers_clos_hors_champ"], clos, "closed dossiers left out");
    let eligible: u64 = truth.values().map(|v| v.0).sum();
    assert!(unplanted * 1000 < eligible, "{unplanted} of {eligible} eligible foyers unpaid but not planted");

    // Every published row of a territorial table (household type and age summed away)
    // with at least 1,000 eligible foyers: its rate against the planted one.
    let num = |s: &str| s.replace(',', ".").parse::<f64>().ok();
    let levels = ["departement", "commune", "en_qpv", "qpv"];
    let (mut compared, mut bounds, mut hidden) = (0, 0, 0);
    let mut worst = 0.0_f64;
    let mut by_departement: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_qpv: BTreeMap<(String, String), f64> = BTreeMap::new();
    for r in rows(&out) {
        if r["type_foyer"] != "Ensemble" || r["tranche_age"] != "Ensemble" {
            continue;
        }
        let (mut eligibles, mut planted) = (0, 0);
        for ((b, place), (e, w)) in &truth {
            if *b == r["prestation"] && levels.iter().zip(place).all(|(l, v)| r[*l] == "Ensemble" || r[*l] == *v) {
                eligibles += e;
                planted += w;
            }
        }
        if eligibles < 1000 {
            continue;
        }
        // A large cell may still be hidden: with a planted rate of 2 %, its eligible
        // non-recipients can be few, or a neighbour's few (secondary suppression).
        let (Some(er), Some(enr), Some(central)) =
            (num(&r["allocataires_eligibles"]), num(&r["eligibles_non_allocataires"]), num(&r["taux_non_recours"]))
        else {
            hidden += 1;
            continue;
        };
        assert_eq!(er + enr, eligibles as f64, "{r:?}");
        let taux = 100.0 * planted as f64 / eligibles as f64;
        assert!((central - taux).abs() <= 1.0, "planted {taux:.2} %, estimated {central} %: {r:?}");
        // A bound is suppressed where the undetermined it counts are fewer than 11 (it
        // would reveal them); published, it is to 0.1 point.
        let (bas, haut) = (num(&r["taux_non_recours_bas"]), num(&r["taux_non_recours_haut"]));
        assert!(bas.is_none_or(|b| b - 0.05 <= taux), "planted {taux:.2} % under the low bound: {r:?}");
        assert!(haut.is_none_or(|h| taux <= h + 0.05), "planted {taux:.2} % over the high bound: {r:?}");
        bounds += usize::from(bas.is_some() && haut.is_some());
        worst = worst.max((central - taux).abs());
        compared += 1;
        match r["tableau"].as_str() {
            "departement" => by_departement.entry(r["prestation"].clone()).or_default().push(taux),
            "en_qpv" => {
                by_qpv.insert((r["prestation"].clone(), r["en_qpv"].clone()), taux);
            }
            _ => {}
        }
    }
    eprintln!(
        "{compared} cells of at least 1,000 eligible foyers compared ({bounds} with both bounds, {hidden} suppressed), largest difference {worst:.2} point"
    );
    assert!(compared > 100 && bounds > 50, "{compared} cells compared, {bounds} with both bounds");
    assert!(hidden * 10 < compared, "{hidden} large cells suppressed, {compared} published");
    // The planted rates do differ by territory and QPV, and the estimates follow them.
    for b in ["rsa", "ppa", "css"] {
        let rates = &by_departement[b];
        let spread = rates.iter().cloned().fold(f64::MIN, f64::max) - rates.iter().cloned().fold(f64::MAX, f64::min);
        assert!(rates.len() >= 10 && spread > 15.0, "{b}: {} départements, spread {spread:.1}", rates.len());
        let (qpv, hors) = (by_qpv[&(b.to_string(), "en QPV".into())], by_qpv[&(b.to_string(), "hors QPV".into())]);
        assert!(qpv - hors > 5.0, "{b}: {qpv:.1} % in QPV, {hors:.1} % outside");
    }
}
