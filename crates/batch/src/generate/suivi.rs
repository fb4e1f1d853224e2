//! Follow-up extracts for `reperage suivi` (`generate --suivi K`): the extract of month
//! M is screened with the campaigns; then, for M+1..M+K, a copy of it whose `droits`
//! gain the rights a planted share of the contacted households opened (a smaller share
//! of the control group), and whose `contacts` hold the month's planned contacts with
//! the agents' outcomes. Which households open, and when, is drawn from the seed and the
//! id: the shares are exact (rounded to a household) in each campaign and group, so a
//! test can hold `suivi` to them. The truth is written beside: `verite_suivi.csv`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reperage_rules::{Mois, RuleSet};

use super::GenerateError;
use crate::campagnes::{TEMOIN, fnv1a, unite};
use crate::output::OutputError;
use crate::screen;
use crate::suivi::prestations_en_jeu;

pub struct Plantation<'a> {
    /// Months followed after M (the extracts of M+1..M+K).
    pub mois_suivis: u32,
    pub rules: &'a RuleSet,
    /// Share of the contacted, and of the control households, that open a right.
    pub taux_contactes: f64,
    pub taux_temoins: f64,
    pub seed: u64,
}

/// Where the follow-up extracts of the extract in `out` go: beside it, never inside.
pub fn suivi_path(out: &Path) -> PathBuf {
    let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "extrait".into());
    out.with_file_name(format!("{name}.suivi"))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> GenerateError + '_ {
    move |e| GenerateError::Output(OutputError::Io { path: path.display().to_string(), source: e })
}

/// The lines of one of our `;` CSV files (no quoted `;` in the columns read here).
fn lignes(path: &Path) -> Result<Vec<Vec<String>>, GenerateError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    Ok(text.trim_start_matches('\u{feff}').lines().map(|l| l.split(';').map(str::to_string).collect()).collect())
}

/// A number in [0, 1) from the seed, a purpose and an id.
fn tirage(seed: u64, purpose: &str, id: &str) -> f64 {
    unite(fnv1a(format!("{seed}|{purpose}|{id}").as_bytes()))
}

/// A planned contact of the screen of M, and what the follow-up plants for it.
struct Prevu {
    ligne: Vec<String>,
    id_foyer: String,
    campagne: String,
    temoin: bool,
    /// The benefit it opens, when it does, its month offset from the contact's month
    /// (0..K) and its monthly amount.
    ouverture: Option<(String, i32, String)>,
}

/// Writes the follow-up extracts of the (CSV) extract `extract` of `mois` in
/// [`suivi_path`]; returns the paths written.
pub fn generate_suivi(extract: &Path, mois: Mois, p: &Plantation) -> Result<Vec<PathBuf>, GenerateError> {
    let root = suivi_path(extract);
    let ecran = root.join(format!("ecran-{mois}"));
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let opts = screen::Options {
        progress: &|_| {},
        extract,
        precedent: None,
        mois,
        out: &ecran,
        rules: p.rules,
        format: crate::output::Format::Csv,
        strict: false,
        parametres_a_jour: false,
        colonnes_autorisees: &[],
        partitions: None,
        memoire_max: None,
        partie: None,
    };
    screen::screen(&opts).map_err(|e| GenerateError::Ecran(Box::new(e)))?;
    let prevus = Prevus::read(&ecran, p)?;
    let (ouvre, verite) = who_opens(&prevus.foyers, p);

    let mut written = Vec::new();
    for k in 1..=p.mois_suivis as i32 {
        let dir = root.join(mois.plus(k).to_string());
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        for table in ["foyers", "personnes", "ressources", "evenements", "bailleurs"] {
            let from = extract.join(format!("{table}.csv"));
            if !from.is_file() {
                continue;
            }
            let to = dir.join(format!("{table}.csv"));
            std::fs::copy(&from, &to).map_err(io(&from))?;
            written.push(to);
        }
        written.push(write_droits(extract, &dir, mois, k, &prevus.foyers, &ouvre)?);
        written.push(write_contacts(extract, &dir, &prevus, &ouvre, p.seed)?);
    }
    let to = root.join("verite_suivi.csv");
    std::fs::write(&to, verite.join("\n") + "\n").map_err(io(&to))?;
    written.push(to);
    Ok(written)
}

/// The contacts the screen of M planned (`contacts_prevus.csv`).
struct Prevus {
    /// Its header: the column order of the rows below.
    header: Vec<String>,
    /// The households', each with what the follow-up plants for it.
    foyers: Vec<Prevu>,
    /// The landlords' (no id_foyer): they open no right.
    bailleurs: Vec<Vec<String>>,
}

impl Prevus {
    /// Each household's planned contact with the benefit it would open: the first one at
    /// stake among its rules, for the amount the screen found (100 € when it found none),
    /// in a month drawn from its id.
    fn read(ecran: &Path, p: &Plantation) -> Result<Prevus, GenerateError> {
        // The amount of each (foyer, benefit rule) eligible, from the signalements.
        let mut montants: BTreeMap<(String, String), String> = BTreeMap::new();
        let sig = lignes(&ecran.join("signalements.csv"))?;
        for l in sig.iter().skip(1).filter(|l| l.len() > 4 && l[3] == "eligible" && !l[4].is_empty()) {
            montants.insert((l[0].clone(), l[1].clone()), l[4].clone());
        }
        let regle_de: BTreeMap<&str, &str> =
            p.rules.rules.iter().filter_map(|r| r.prestation.as_deref().map(|code| (code, r.id.as_str()))).collect();

        let mut lignes = lignes(&ecran.join("contacts_prevus.csv"))?;
        let header = if lignes.is_empty() { Vec::new() } else { lignes.remove(0) };
        let (foyers, bailleurs): (Vec<Vec<String>>, Vec<Vec<String>>) =
            lignes.into_iter().filter(|l| l.len() >= 6).partition(|l| !l[0].is_empty());
        let foyers = foyers
            .into_iter()
            .map(|l| {
                let prestation =
                    l[5].split(", ").map(|r| prestations_en_jeu(p.rules, r)).find_map(|ps| ps.into_iter().next());
                let ouverture = prestation.map(|code| {
                    let montant = regle_de
                        .get(code.as_str())
                        .and_then(|r| montants.get(&(l[0].clone(), r.to_string())))
                        .cloned()
                        .unwrap_or_else(|| "100,00".to_string());
                    let decalage = (tirage(p.seed, "mois", &l[0]) * f64::from(p.mois_suivis.max(1))) as i32;
                    (code, decalage, montant)
                });
                Prevu { id_foyer: l[0].clone(), campagne: l[1].clone(), temoin: l[3] == TEMOIN, ouverture, ligne: l }
            })
            .collect();
        Ok(Prevus { header, foyers, bailleurs })
    }
}

/// Which planned households open their right: per campaign and group, those with a
/// benefit at stake, by draw, the first round(share × n) of them. Returns one flag per
/// household and the truth's lines (`verite_suivi.csv`).
fn who_opens(prevus: &[Prevu], p: &Plantation) -> (Vec<bool>, Vec<String>) {
    let mut groupes: BTreeMap<(String, bool), Vec<usize>> = BTreeMap::new();
    for (i, pr) in prevus.iter().enumerate().filter(|(_, pr)| pr.ouverture.is_some()) {
        groupes.entry((pr.campagne.clone(), pr.temoin)).or_default().push(i);
    }
    let mut ouvre = vec![false; prevus.len()];
    let mut verite = vec![["campagne", "groupe", "foyers", "ouvrants", "taux_plante"].join(";")];
    for ((campagne, temoin), mut membres) in groupes {
        membres.sort_by(|&a, &b| {
            let (ta, tb) = (tirage(p.seed, "ouvre", &prevus[a].id_foyer), tirage(p.seed, "ouvre", &prevus[b].id_foyer));
            ta.total_cmp(&tb).then_with(|| prevus[a].id_foyer.cmp(&prevus[b].id_foyer))
        });
        let taux = if temoin { p.taux_temoins } else { p.taux_contactes };
        let n = (taux * membres.len() as f64).round() as usize;
        for &i in &membres[..n] {
            ouvre[i] = true;
        }
        let groupe = if temoin { "temoin" } else { "contacte" };
        verite.push(format!("{campagne};{groupe};{};{n};{taux}", membres.len()));
    }
    (ouvre, verite)
}

/// The `droits` of M+k: those of M, and the rights opened by the end of M+k (contacts
/// are made in M+1).
fn write_droits(
    extract: &Path,
    dir: &Path,
    mois: Mois,
    k: i32,
    prevus: &[Prevu],
    ouvre: &[bool],
) -> Result<PathBuf, GenerateError> {
    let contact_mois = mois.plus(1);
    let droits = lignes(&extract.join("droits.csv"))?;
    let header = &droits[0];
    let at = |name: &str| header.iter().position(|h| h == name);
    let mut text: Vec<String> = droits.iter().map(|l| l.join(";")).collect();
    for (pr, _) in prevus.iter().zip(ouvre).filter(|(_, o)| **o) {
        let Some((code, decalage, montant)) = &pr.ouverture else { continue };
        if *decalage > k - 1 {
            continue;
        }
        let debut = contact_mois.plus(*decalage).first_day().to_string();
        let mut row = vec![String::new(); header.len()];
        for (name, v) in [
            ("id_foyer", pr.id_foyer.as_str()),
            ("prestation", code),
            ("date_debut", &debut),
            ("montant_mensuel", montant),
        ] {
            if let Some(i) = at(name) {
                row[i] = v.to_string();
            }
        }
        text.push(row.join(";"));
    }
    let to = dir.join("droits.csv");
    std::fs::write(&to, text.join("\n") + "\n").map_err(io(&to))?;
    Ok(to)
}

/// The `contacts` of M+k: the history of M (with an empty `regles`), then the planned
/// contacts, the contacted households with the outcome an agent noted. The planned
/// contacts are written in the history's column order (it has `id_bailleur` second,
/// `contacts_prevus.csv` last).
fn write_contacts(
    extract: &Path,
    dir: &Path,
    prevus: &Prevus,
    ouvre: &[bool],
    seed: u64,
) -> Result<PathBuf, GenerateError> {
    let mut contacts: Vec<String> = Vec::new();
    let historique = extract.join("contacts.csv");
    let mut header: Vec<String> = Vec::new();
    if historique.is_file() {
        for (i, l) in lignes(&historique)?.iter().enumerate() {
            if i == 0 {
                header = l.clone();
            }
            contacts.push(l.join(";") + ";");
        }
    }
    if header.is_empty() {
        header = ["id_foyer", "id_bailleur", "campagne", "date", "canal", "resultat"].map(String::from).to_vec();
        contacts.push(header.join(";") + ";");
    }
    header.push("regles".to_string());
    contacts[0] = header.join(";");
    let in_order = |l: &[String]| -> String {
        let value = |name: &String| prevus.header.iter().position(|h| h == name).and_then(|i| l.get(i));
        header.iter().map(|name| value(name).map_or("", String::as_str)).collect::<Vec<_>>().join(";")
    };
    for (pr, o) in prevus.foyers.iter().zip(ouvre) {
        let mut l = pr.ligne.clone();
        if !pr.temoin {
            l[4] = resultat(seed, &pr.id_foyer, *o).to_string();
        }
        contacts.push(in_order(&l));
    }
    for l in &prevus.bailleurs {
        contacts.push(in_order(l));
    }
    let to = dir.join("contacts.csv");
    std::fs::write(&to, contacts.join("\n") + "\n").map_err(io(&to))?;
    Ok(to)
}

/// What the agent noted: a household that opened its right was reached; the others were
/// reached, not reachable or refused, in planted proportions.
fn resultat(seed: u64, id: &str, ouvre: bool) -> &'static str {
    let u = tirage(seed, "resultat", id);
    match (ouvre, u) {
        (true, u) if u < 0.5 => "rdv_pris",
        (true, _) => "joint",
        (false, u) if u < 0.4 => "joint",
        (false, u) if u < 0.8 => "injoignable",
        (false, u) if u < 0.9 => "refus",
        (false, _) => "rdv_pris",
    }
}
