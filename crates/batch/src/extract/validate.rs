//! Validation across rows and tables, and the quarantine of whole foyers.
//!
//! After cell-level parsing (reader.rs), rows are refused for: duplicate ids, dates in
//! the future or ages over 120, a right ending before it starts, orphans (a person whose
//! foyer does not exist, a resource whose person does not exist, a contact with a
//! landlord the `bailleurs` table does not hold, …), a contact with both a foyer and a
//! landlord or neither, and foyers without
//! exactly one allocataire. A foyer with any refused row is not evaluated (its rules
//! would be computed on incomplete data): all its rows are quarantined with the reason.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
// Polars' hash maps (foldhash): the standard library's SipHash was 4 % of a screen's
// evaluation phase, validation hashing every id of a piece several times.
use polars::prelude::{PlHashMap as HashMap, PlHashSet as HashSet};
use reperage_rules::Mois;

use super::reader::{LIGNE, Refus};
use super::routage::Doublons;
use super::schema::Table;
use super::{Extract, ExtractError, FoyerQuarantaine, InputFile, TableCount};

/// Why a row is refused: the column, the value, the reason.
type Reason = (&'static str, String, String);

/// The refused rows of a table, by row index: sparse, since a valid extract has none
/// and a national table has hundreds of millions of rows (a dense vector of mostly
/// empty reasons was gigabytes of fresh memory per check).
type Reasons = BTreeMap<usize, Reason>;

/// The rows of `values` for which `why` gives a reason.
fn reasons_where<T: Copy>(values: &[T], why: impl Fn(T) -> Option<Reason>) -> Reasons {
    values.iter().enumerate().filter_map(|(i, v)| why(*v).map(|r| (i, r))).collect()
}

fn strings<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

fn days(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    let c = df.column(name)?.cast(&DataType::Int32)?;
    Ok(c.i32()?.iter().collect())
}

/// Refuses the rows of `df` that have a reason; returns the kept rows.
fn refuse_rows(table: Table, df: &DataFrame, reasons: &Reasons, refus: &mut Vec<Refus>) -> PolarsResult<DataFrame> {
    if reasons.is_empty() {
        return Ok(df.clone());
    }
    let lignes: Vec<Option<u64>> = df.column(LIGNE)?.u64()?.iter().collect();
    let foyer = if table.column("id_foyer").is_some() { strings(df, "id_foyer")? } else { vec![None; df.height()] };
    let personne =
        if table.column("id_personne").is_some() { strings(df, "id_personne")? } else { vec![None; df.height()] };
    for (&i, (colonne, valeur, motif)) in reasons {
        refus.push(Refus {
            table,
            ligne: lignes[i].unwrap_or(0),
            colonne: colonne.to_string(),
            valeur: valeur.clone(),
            motif: motif.clone(),
            id_foyer: foyer[i].map(str::to_string),
            id_personne: personne[i].map(str::to_string),
            rattache_a: None,
        });
    }
    let keep: BooleanChunked = (0..df.height()).map(|i| Some(!reasons.contains_key(&i))).collect();
    df.filter(&keep)
}

/// Ids on more than one row: of these rows, or of the whole table (`whole`: the counts
/// over the whole table when these rows are one piece of it, extract::routage).
fn duplicates(ids: &[Option<&str>], column: &'static str, whole: &Doublons) -> Reasons {
    let mut count: HashMap<&str, usize> = HashMap::default();
    for id in ids.iter().flatten() {
        *count.entry(id).or_default() += 1;
    }
    reasons_where(ids, |id| {
        let id = id?;
        let n = whole.count(id).unwrap_or(0).max(count[id]);
        (n > 1).then(|| (column, id.to_string(), format!("identifiant en double ({n} lignes)")))
    })
}

/// The reasons of `a`, and those of `b` for the rows `a` does not refuse (a row shows
/// its first reason).
fn merge(mut a: Reasons, b: Reasons) -> Reasons {
    for (i, r) in b {
        a.entry(i).or_insert(r);
    }
    a
}

fn date_text(d: i32) -> String {
    reperage_rules::Date::from_days(d).to_string()
}

/// Rows whose date column is after `limit` (days), with `what` as reason.
fn after(values: &[Option<i32>], limit: i32, column: &'static str, what: &str) -> Reasons {
    reasons_where(values, |d| match d {
        Some(d) if d > limit => Some((column, date_text(d), what.to_string())),
        _ => None,
    })
}

fn orphans(ids: &[Option<&str>], known: impl Fn(&str) -> bool, column: &'static str, what: &str) -> Reasons {
    // The id above and whether it is known: an id equal to it is alike without looking
    // it up again (a person's id repeats over its twenty resource rows).
    let mut above: Option<(&str, bool)> = None;
    let mut reasons = Reasons::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = *id else { continue };
        let is_known = match above {
            Some((seen, is_known)) if seen == id => is_known,
            _ => {
                let is_known = known(id);
                above = Some((id, is_known));
                is_known
            }
        };
        if !is_known {
            reasons.insert(i, (column, id.to_string(), what.to_string()));
        }
    }
    reasons
}

/// A text column of a frame, held apart from it: the ids of the maps below borrow from
/// it rather than being copied one `String` each (a piece holds a million resource rows),
/// and the frame can still be moved.
fn text_column(df: &DataFrame, name: &str) -> PolarsResult<StringChunked> {
    Ok(df.column(name)?.str()?.clone())
}

/// `id_personne`, when given, must be a person of the same foyer.
fn person_of_foyer(df: &DataFrame, person_foyer: &HashMap<&str, &str>) -> PolarsResult<Reasons> {
    let foyers = strings(df, "id_foyer")?;
    let personnes = strings(df, "id_personne")?;
    let pairs: Vec<(Option<&str>, Option<&str>)> = foyers.into_iter().zip(personnes).collect();
    Ok(reasons_where(&pairs, |(f, p)| match (f, p) {
        (Some(f), Some(p)) if person_foyer.get(p).copied() != Some(f) => {
            Some(("id_personne", p.to_string(), format!("la personne n'appartient pas au foyer {f}")))
        }
        _ => None,
    }))
}

pub(super) fn validate(
    mut tables: BTreeMap<Table, DataFrame>,
    mut refus: Vec<Refus>,
    read: BTreeMap<Table, u64>,
    fichiers: Vec<InputFile>,
    mois: Mois,
    doublons: &Doublons,
) -> Result<Extract, ExtractError> {
    let end = mois.last_day().to_days();
    let mut take = |t: Table| tables.remove(&t).unwrap_or_default();

    // foyers
    let foyers = take(Table::Foyers);
    let reasons = merge(
        duplicates(&strings(&foyers, "id_foyer")?, "id_foyer", &Doublons::default()),
        after(
            &days(&foyers, "date_ouverture")?,
            end,
            "date_ouverture",
            "date d'ouverture postérieure au mois de référence",
        ),
    );
    let foyers = refuse_rows(Table::Foyers, &foyers, &reasons, &mut refus)?;
    let foyer_column = text_column(&foyers, "id_foyer")?;
    let foyer_ids: HashSet<&str> = foyer_column.iter().flatten().collect();
    let is_foyer = |id: &str| foyer_ids.contains(id);

    // personnes
    let personnes = take(Table::Personnes);
    let naissance = days(&personnes, "date_naissance")?;
    let oldest = mois.plus(-120 * 12).first_day().to_days();
    let too_old = reasons_where(&naissance, |d| match d {
        Some(d) if d < oldest => Some(("date_naissance", date_text(d), "âge supérieur à 120 ans".to_string())),
        _ => None,
    });
    let mut reasons = duplicates(&strings(&personnes, "id_personne")?, "id_personne", doublons);
    reasons =
        merge(reasons, after(&naissance, end, "date_naissance", "date de naissance postérieure au mois de référence"));
    reasons = merge(reasons, too_old);
    reasons = merge(
        reasons,
        after(&days(&personnes, "date_deces")?, end, "date_deces", "date de décès postérieure au mois de référence"),
    );
    reasons = merge(
        reasons,
        orphans(&strings(&personnes, "id_foyer")?, is_foyer, "id_foyer", "foyer inexistant dans la table foyers"),
    );
    let personnes = refuse_rows(Table::Personnes, &personnes, &reasons, &mut refus)?;
    let (person_column, person_foyer_column) =
        (text_column(&personnes, "id_personne")?, text_column(&personnes, "id_foyer")?);
    let person_foyer: HashMap<&str, &str> =
        person_column.iter().zip(person_foyer_column.iter()).filter_map(|(p, f)| Some((p?, f?))).collect();

    // ressources
    let ressources = take(Table::Ressources);
    let reasons = merge(
        orphans(
            &strings(&ressources, "id_personne")?,
            |id| person_foyer.contains_key(id),
            "id_personne",
            "personne inexistante dans la table personnes",
        ),
        after(&days(&ressources, "mois")?, end, "mois", "mois postérieur au mois de référence"),
    );
    let ressources = refuse_rows(Table::Ressources, &ressources, &reasons, &mut refus)?;

    // droits
    let droits = take(Table::Droits);
    let debut = days(&droits, "date_debut")?;
    let fin = days(&droits, "date_fin")?;
    let spans: Vec<(Option<i32>, Option<i32>)> = debut.into_iter().zip(fin).collect();
    let inverted = reasons_where(&spans, |(d, f)| match (d, f) {
        (Some(d), Some(f)) if f < d => {
            Some(("date_fin", date_text(f), "date de fin antérieure à la date de début".to_string()))
        }
        _ => None,
    });
    let mut reasons =
        orphans(&strings(&droits, "id_foyer")?, is_foyer, "id_foyer", "foyer inexistant dans la table foyers");
    reasons = merge(reasons, person_of_foyer(&droits, &person_foyer)?);
    reasons = merge(reasons, inverted);
    let droits = refuse_rows(Table::Droits, &droits, &reasons, &mut refus)?;

    // evenements
    let evenements = take(Table::Evenements);
    let mut reasons =
        orphans(&strings(&evenements, "id_foyer")?, is_foyer, "id_foyer", "foyer inexistant dans la table foyers");
    reasons = merge(reasons, person_of_foyer(&evenements, &person_foyer)?);
    reasons =
        merge(reasons, after(&days(&evenements, "date")?, end, "date", "événement postérieur au mois de référence"));
    let evenements = refuse_rows(Table::Evenements, &evenements, &reasons, &mut refus)?;

    // bailleurs: all in one piece (routage.rs), so duplicates are those of the table.
    let bailleurs = take(Table::Bailleurs);
    let reasons = duplicates(&strings(&bailleurs, "id_bailleur")?, "id_bailleur", &Doublons::default());
    let bailleurs = refuse_rows(Table::Bailleurs, &bailleurs, &reasons, &mut refus)?;
    let bailleur_column = text_column(&bailleurs, "id_bailleur")?;
    let bailleur_ids: HashSet<&str> = bailleur_column.iter().flatten().collect();

    // contacts: with a foyer or with a landlord, exactly one of the two. A landlord's
    // contact is in the piece of the `bailleurs` table (routage.rs).
    let contacts = take(Table::Contacts);
    let contact_foyers = strings(&contacts, "id_foyer")?;
    let with_whom: Vec<(bool, bool)> = contact_foyers
        .iter()
        .zip(strings(&contacts, "id_bailleur")?)
        .map(|(f, b)| (f.is_some(), b.is_some()))
        .collect();
    let mut reasons = reasons_where(&with_whom, |(foyer, bailleur)| match (foyer, bailleur) {
        (true, true) => Some((
            "id_bailleur",
            String::new(),
            "un contact est avec un foyer ou avec un bailleur, pas les deux".to_string(),
        )),
        (false, false) => Some(("id_foyer", String::new(), "id_foyer ou id_bailleur requis".to_string())),
        _ => None,
    });
    reasons = merge(reasons, orphans(&contact_foyers, is_foyer, "id_foyer", "foyer inexistant dans la table foyers"));
    reasons = merge(
        reasons,
        orphans(
            &strings(&contacts, "id_bailleur")?,
            |id| bailleur_ids.contains(id),
            "id_bailleur",
            "bailleur inexistant dans la table bailleurs",
        ),
    );
    reasons = merge(reasons, after(&days(&contacts, "date")?, end, "date", "contact postérieur au mois de référence"));
    let contacts = refuse_rows(Table::Contacts, &contacts, &reasons, &mut refus)?;

    // Foyers to quarantine as a whole: any refused row, or not exactly one allocataire.
    let mut quarantined: BTreeMap<String, String> = BTreeMap::new();
    let mut refused_person_foyer: HashMap<String, String> = HashMap::default();
    for r in refus.iter().filter(|r| r.table == Table::Personnes) {
        if let (Some(p), Some(f)) = (&r.id_personne, &r.id_foyer) {
            refused_person_foyer.insert(p.clone(), f.clone());
        }
    }
    let foyer_of = |r: &Refus| {
        r.id_foyer.clone().or_else(|| {
            let p = r.id_personne.as_ref()?;
            person_foyer.get(p.as_str()).map(|f| f.to_string()).or_else(|| refused_person_foyer.get(p).cloned())
        })
    };
    for r in refus.iter_mut() {
        r.rattache_a = foyer_of(r);
    }
    let mut sorted: Vec<&Refus> = refus.iter().collect();
    sorted.sort_by_key(|r| (r.table, r.ligne));
    for r in sorted {
        if let Some(f) = r.rattache_a.clone() {
            quarantined.entry(f).or_insert_with(|| format!("{} ligne {} : {}", r.table.name(), r.ligne, r.motif));
        }
    }
    let mut allocataires: HashMap<&str, usize> = HashMap::default();
    let mut conjoints: HashMap<&str, usize> = HashMap::default();
    for (f, role) in strings(&personnes, "id_foyer")?.into_iter().zip(strings(&personnes, "role")?) {
        match (f, role) {
            (Some(f), Some("allocataire")) => *allocataires.entry(f).or_default() += 1,
            (Some(f), Some("conjoint")) => *conjoints.entry(f).or_default() += 1,
            _ => {}
        }
    }
    for &f in foyer_ids.iter() {
        let n = allocataires.get(f).copied().unwrap_or(0);
        let c = conjoints.get(f).copied().unwrap_or(0);
        let motif = if n == 0 {
            Some("aucun allocataire dans la table personnes".to_string())
        } else if n > 1 {
            Some(format!("{n} allocataires dans la table personnes"))
        } else if c > 1 {
            Some(format!("{c} conjoints dans la table personnes"))
        } else {
            None
        };
        if let Some(m) = motif {
            quarantined.entry(f.to_string()).or_insert(m);
        }
    }
    // They borrow `personnes`, moved below.
    drop((allocataires, conjoints));

    // Remove every row of a quarantined foyer.
    let mut finals = BTreeMap::new();
    for (table, df) in [
        (Table::Foyers, foyers),
        (Table::Personnes, personnes),
        (Table::Droits, droits),
        (Table::Evenements, evenements),
        (Table::Contacts, contacts),
    ] {
        let reasons = reasons_where(&strings(&df, "id_foyer")?, |f| {
            let f = f?;
            quarantined.get(f).map(|m| ("id_foyer", f.to_string(), format!("foyer en quarantaine ({m})")))
        });
        finals.insert(table, refuse_rows(table, &df, &reasons, &mut refus)?);
    }
    // Resources carry no foyer: the persons of quarantined foyers first (few), then one
    // look-up per resource row in that small map, none when nothing is quarantined.
    let quarantined_persons: HashMap<&str, (&str, &String)> =
        person_foyer.iter().filter_map(|(&p, &f)| quarantined.get(f).map(|m| (p, (f, m)))).collect();
    let reasons = if quarantined_persons.is_empty() {
        Reasons::new()
    } else {
        reasons_where(&strings(&ressources, "id_personne")?, |p| {
            let p = p?;
            let (f, m) = quarantined_persons.get(p)?;
            Some(("id_personne", p.to_string(), format!("foyer {f} en quarantaine ({m})")))
        })
    };
    finals.insert(Table::Ressources, refuse_rows(Table::Ressources, &ressources, &reasons, &mut refus)?);
    drop(quarantined_persons);
    // A landlord belongs to no foyer: a quarantined tenant leaves it as it is.
    drop(bailleur_ids);
    finals.insert(Table::Bailleurs, bailleurs);

    // The rows of quarantined foyers, refused just above, belong to those foyers.
    for r in refus.iter_mut().filter(|r| r.rattache_a.is_none()) {
        r.rattache_a = foyer_of(r);
    }
    refus.sort_by(|a, b| (a.table, a.ligne, &a.colonne).cmp(&(b.table, b.ligne, &b.colonne)));
    let mut comptes = Vec::new();
    for table in Table::ALL {
        let lines: BTreeSet<u64> = refus.iter().filter(|r| r.table == table).map(|r| r.ligne).collect();
        let lus = read.get(&table).copied().unwrap_or(0);
        let utilises = finals[&table].height() as u64;
        let quarantaines = lines.len() as u64;
        if lus != utilises + quarantaines {
            return Err(ExtractError::Internal(format!(
                "row accounting of {}: {lus} read ≠ {utilises} used + {quarantaines} quarantined",
                table.name()
            )));
        }
        comptes.push(TableCount { table: table.name(), lus, utilises, quarantaines });
    }
    let foyers_quarantaine =
        quarantined.into_iter().map(|(id_foyer, motif)| FoyerQuarantaine { id_foyer, motif }).collect();
    Ok(Extract { tables: finals, refus, foyers_quarantaine, comptes, fichiers })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of an unknown id is refused, an id equal to the one above included, and
    /// a known id after an unknown one is not.
    #[test]
    fn each_row_of_an_unknown_id_is_an_orphan() {
        let ids = [Some("a"), Some("x"), Some("x"), None, Some("x"), Some("b"), Some("b"), Some("y"), Some("y")];
        let known = |id: &str| matches!(id, "a" | "b");
        let reasons = orphans(&ids, known, "id_personne", "personne inexistante");
        assert_eq!(reasons.keys().copied().collect::<Vec<_>>(), [1, 2, 4, 7, 8]);
        assert_eq!(reasons[&8], ("id_personne", "y".to_string(), "personne inexistante".to_string()));
    }
}
