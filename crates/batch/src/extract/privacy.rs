//! The privacy guard: an extract holding something that looks like a direct identifier
//! is refused before anything else is done with it.
//!
//! By name: a column outside the contract whose name contains a word such as `nir`,
//! `nom`, `prenom`, `adresse`, `telephone`, `email`. By values: in any column (contract
//! ones included), the first rows are scanned for values shaped like a NIR (French
//! social security number), a phone number or an e-mail address; the column is refused
//! when at least one value in twenty of those scanned (and at least one) has the shape.
//! A threshold rather than "any value" keeps pseudonymous numeric ids, which sometimes
//! look like a NIR by chance, from blocking an extract.

use super::reader::Sample;
use super::schema::Table;

/// Words that name a direct identifier (compared with the `_`-separated parts of a
/// lowercased column name).
const IDENTIFYING_WORDS: &[&str] = &[
    "nir",
    "nss",
    "secu",
    "insee_personne",
    "nom",
    "noms",
    "prenom",
    "prenoms",
    "patronyme",
    "adresse",
    "adr",
    "rue",
    "voie",
    "telephone",
    "tel",
    "portable",
    "mobile",
    "fixe",
    "email",
    "mail",
    "courriel",
    "iban",
    "rib",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub table: &'static str,
    pub column: String,
    pub reason: String,
}

fn normalize(name: &str) -> String {
    name.to_lowercase().replace(['é', 'è', 'ê'], "e").replace(['-', ' ', '.'], "_")
}

fn identifying_name(name: &str) -> Option<&'static str> {
    let n = normalize(name);
    if n == "e_mail" || n.contains("numero_securite_sociale") || n.contains("num_secu") {
        return Some("nom de colonne d'identifiant direct");
    }
    n.split('_').any(|part| IDENTIFYING_WORDS.contains(&part)).then_some("nom de colonne d'identifiant direct")
}

/// A NIR: sex digit 1-4/7/8, year, month 01-12 (or the special 20-42, 50-99), then
/// department (2A/2B allowed), commune, order, and an optional valid 2-digit key.
pub fn looks_like_nir(v: &str) -> bool {
    let s: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    // ASCII first: the slices below are byte ranges.
    if !(s.len() == 13 || s.len() == 15) || !s.is_ascii() {
        return false;
    }
    let corsica = matches!(&s[5..7], "2A" | "2B" | "2a" | "2b");
    let digits_only = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !(digits_only(&s[..5]) && (digits_only(&s[5..7]) || corsica) && digits_only(&s[7..])) {
        return false;
    }
    if !matches!(s.as_bytes()[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let month: u32 = s[3..5].parse().unwrap_or(0);
    if !((1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month)) {
        return false;
    }
    if s.len() == 15 {
        // Key = 97 - (number mod 97), Corsica's 2A/2B counted as 19/18.
        let body = s[..13].replace("2A", "19").replace("2a", "19").replace("2B", "18").replace("2b", "18");
        let (Ok(n), Ok(key)) = (body.parse::<u64>(), s[13..].parse::<u64>()) else { return false };
        return 97 - n % 97 == key;
    }
    true
}

/// A French phone number: 0 then 9 digits (spaces, dots, dashes allowed), or +33 / 0033.
pub fn looks_like_phone(v: &str) -> bool {
    let s: String = v.chars().filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')')).collect();
    let rest = if let Some(r) = s.strip_prefix("+33") {
        r
    } else if let Some(r) = s.strip_prefix("0033") {
        r
    } else if let Some(r) = s.strip_prefix('0') {
        r
    } else {
        return false;
    };
    rest.len() == 9 && rest.bytes().all(|b| b.is_ascii_digit()) && rest.as_bytes()[0] != b'0'
}

/// A value that is, or holds (in free text), an e-mail address.
pub fn looks_like_email(v: &str) -> bool {
    v.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')')).any(is_email)
}

/// A value that is, or holds (in free text), a phone number.
pub fn holds_phone(v: &str) -> bool {
    looks_like_phone(v)
        || v.split(|c: char| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+' | '(' | ')')))
            .any(|segment| looks_like_phone(segment.trim()))
}

fn is_email(v: &str) -> bool {
    let v = v.trim();
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains(char::is_whitespace)
}

/// The first violation in a table's sample, if any.
pub fn check_table(table: Table, sample: &Sample) -> Option<Violation> {
    for name in &sample.header {
        if table.column(name).is_none()
            && let Some(reason) = identifying_name(name)
        {
            return Some(Violation { table: table.name(), column: name.clone(), reason: reason.to_string() });
        }
    }
    for (i, name) in sample.header.iter().enumerate() {
        let values: Vec<&str> =
            sample.rows.iter().filter_map(|r| r.get(i)).map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
        let threshold = (values.len() / 20).max(1);
        for (shape, test) in [
            ("numéros de sécurité sociale (NIR)", looks_like_nir as fn(&str) -> bool),
            ("numéros de téléphone", holds_phone),
            ("adresses e-mail", looks_like_email),
        ] {
            let n = values.iter().filter(|v| test(v)).count();
            if n >= threshold {
                return Some(Violation {
                    table: table.name(),
                    column: name.clone(),
                    reason: format!("{n} valeur(s) sur {} ressemblent à des {shape}", values.len()),
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nir_shapes() {
        // 1 85 05 78 006 084 key 91: a textbook example with a valid key.
        assert!(looks_like_nir("1 85 05 78 006 084 91"));
        assert!(looks_like_nir("1850578006084"));
        assert!(!looks_like_nir("1 85 05 78 006 084 92"), "wrong key");
        assert!(!looks_like_nir("5850578006084"), "sex digit");
        assert!(!looks_like_nir("1851378006084"), "month 13");
        assert!(!looks_like_nir("F000123"));
        assert!(looks_like_nir("2 69 05 2A 004 123"), "Corsica");
        assert!(!looks_like_nir("CL002-\u{fffd}P1xxxx"), "non-ASCII is not a NIR, and does not panic");
    }

    #[test]
    fn phones_and_emails() {
        assert!(looks_like_phone("06 12 34 56 78"));
        assert!(looks_like_phone("+33 6 12 34 56 78"));
        assert!(looks_like_phone("01.42.00.00.01"));
        assert!(!looks_like_phone("0612"));
        assert!(!looks_like_phone("93008"));
        assert!(looks_like_email("jean.dupont@example.fr"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@example.fr"));
        assert!(looks_like_email("écrire à jean.dupont@example.fr svp"));
        assert!(holds_phone("rappeler au 06 12 34 56 78 demain"));
        assert!(!holds_phone("rdv le 12/03 à 14h"));
    }

    #[test]
    fn names_outside_the_contract_are_checked() {
        let sample = |header: &[&str]| Sample { header: header.iter().map(|s| s.to_string()).collect(), rows: vec![] };
        assert!(check_table(Table::Personnes, &sample(&["id_personne", "nom_usage"])).is_some());
        assert!(check_table(Table::Personnes, &sample(&["id_personne", "Prénom"])).is_some());
        assert!(check_table(Table::Personnes, &sample(&["id_personne", "NIR"])).is_some());
        assert!(check_table(Table::Foyers, &sample(&["id_foyer", "canal_telephone", "canal_email"])).is_none());
        assert!(check_table(Table::Foyers, &sample(&["id_foyer", "nombre_pieces"])).is_none());
    }

    #[test]
    fn values_are_checked_against_a_threshold() {
        let rows = |vals: &[&str]| vals.iter().map(|v| vec![v.to_string()]).collect();
        let s = Sample { header: vec!["resultat".into()], rows: rows(&["joint", "jean@example.fr", "injoignable"]) };
        assert!(check_table(Table::Contacts, &s).is_some(), "a single e-mail in a small table");
        let mut many: Vec<String> = (0..100).map(|i| format!("F{i:06}")).collect();
        many.push("1850578006084".into());
        let s = Sample { header: vec!["id_foyer".into()], rows: many.iter().map(|v| vec![v.clone()]).collect() };
        assert!(check_table(Table::Foyers, &s).is_none(), "one NIR-like id in 101 is below 1 in 20");
    }
}
