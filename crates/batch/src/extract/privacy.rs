//! The privacy guard: an extract holding a direct identifier is refused, and no
//! identifier is ever copied into an output or a message.
//!
//! It looks at **every cell of every row** (and at the header), in the pass that parses
//! the table (reader.rs feeds it each row before typing the cells), whatever the column:
//!
//! - **By name**: a column outside the contract whose name contains a word such as
//!   `nir`, `nom`, `prenom`, `adresse`, `telephone`, `email`, `iban`.
//! - **Certain identifiers**, refused at their first occurrence: a 15-digit NIR whose
//!   key is valid, an e-mail address, an IBAN whose check digits are valid, a phone
//!   number written as one (`06 12 34 56 78`, `+33 6…`). A pseudonymous id does not take
//!   these shapes by chance (docs/extract.md gives the odds).
//! - **Ambiguous shapes**, that a pseudonymous id can take by chance (a 13-digit NIR
//!   without its key, ten bare digits starting `0[1-9]` like a phone number): the column
//!   is refused when their share among the column's values of that alphabet and length
//!   is far above chance, by a Chernoff bound on the binomial tail (see [`far_above_chance`]).
//!
//! A violation names table, column, line and kind, never the value. A column the caisse
//! vouches for (`--colonne-autorisee table.colonne`) is not examined.

use std::collections::BTreeSet;

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

/// What a refused column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The column's name says it holds an identifier.
    NomDeColonne,
    Nir,
    Email,
    Iban,
    Telephone,
    /// 13-digit NIRs without key, far more often than chance.
    NirSansCle,
    /// Ten-digit numbers shaped like phone numbers, far more often than chance.
    NumerosTelephone,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::NomDeColonne => "nom de colonne d'identifiant direct",
            Kind::Nir => "numéro de sécurité sociale (NIR avec clé valide)",
            Kind::Email => "adresse e-mail",
            Kind::Iban => "IBAN (clé de contrôle valide)",
            Kind::Telephone => "numéro de téléphone",
            Kind::NirSansCle => "numéros de sécurité sociale sans clé (NIR à 13 chiffres)",
            Kind::NumerosTelephone => "numéros de téléphone à 10 chiffres",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub table: &'static str,
    pub column: String,
    /// The first line (CSV; the header is line 1) or row (Parquet) where it was seen.
    pub ligne: u64,
    pub kind: Kind,
    /// For the ambiguous shapes: the counts that made the decision. Never a value.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "table `{}`, column `{}`, line {}: {}{}",
            self.table,
            self.column,
            self.ligne,
            self.kind.label(),
            if self.detail.is_empty() { String::new() } else { format!(" ({})", self.detail) }
        )
    }
}

/// A column the caisse vouches for: `table.colonne`, given with `--colonne-autorisee`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ColonneAutorisee {
    pub table: String,
    pub colonne: String,
}

impl ColonneAutorisee {
    pub fn parse(s: &str) -> Result<ColonneAutorisee, String> {
        match s.split_once('.') {
            Some((t, c)) if Table::ALL.iter().any(|x| x.name() == t) && !c.is_empty() => {
                Ok(ColonneAutorisee { table: t.to_string(), colonne: c.to_string() })
            }
            _ => Err(format!(
                "`{s}`: expected table.colonne, table one of {}",
                Table::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

impl std::fmt::Display for ColonneAutorisee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.table, self.colonne)
    }
}

fn normalize(name: &str) -> String {
    name.to_lowercase().replace(['é', 'è', 'ê'], "e").replace(['-', ' ', '.'], "_")
}

fn identifying_name(name: &str) -> bool {
    let n = normalize(name);
    n == "e_mail"
        || n.contains("numero_securite_sociale")
        || n.contains("num_secu")
        || n.split('_').any(|part| IDENTIFYING_WORDS.contains(&part))
}

// ---------------------------------------------------------------------------------------
// Shapes

/// Chance that a uniformly random digit is an allowed NIR sex digit (1, 2, 3, 4, 7, 8).
const P_NIR_SEXE: f64 = 6.0 / 10.0;
/// Chance that two random digits are an allowed NIR month: 01-12, 20-42 (unknown or
/// fictitious months), 50-99 (registration numbers of people born abroad).
const P_NIR_MOIS: f64 = 85.0 / 100.0;
/// Chance that two random digits are an allowed department (anything but 00).
const P_NIR_DEPARTEMENT: f64 = 99.0 / 100.0;
/// Chance that 13 uniformly random digits have a NIR's shape.
pub const P_NIR_13: f64 = P_NIR_SEXE * P_NIR_MOIS * P_NIR_DEPARTEMENT;
/// Chance that 10 uniformly random digits start with `0` then a digit 1-9.
pub const P_TELEPHONE_10: f64 = 1.0 / 10.0 * 9.0 / 10.0;

/// The 13 first characters of a NIR (15 with the key) without spaces: the body, with
/// Corsica's 2A/2B counted as 19/18 for the key, when the shape holds.
fn nir_body(s: &[u8]) -> Option<u64> {
    if s.len() != 13 {
        return None;
    }
    let corsica = matches!(&s[5..7], b"2A" | b"2B" | b"2a" | b"2b");
    let digits = |t: &[u8]| t.iter().all(u8::is_ascii_digit);
    if !(digits(&s[..5]) && (digits(&s[5..7]) || corsica) && digits(&s[7..])) {
        return None;
    }
    if !matches!(s[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return None;
    }
    let month = (s[3] - b'0') * 10 + (s[4] - b'0');
    if !((1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month)) {
        return None;
    }
    if &s[5..7] == b"00" {
        return None;
    }
    let mut n: u64 = 0;
    for (i, &b) in s.iter().enumerate() {
        let d = match (i, b) {
            (5, b'2') if corsica => 1,
            (6, b'A' | b'a') => 9,
            (6, b'B' | b'b') => 8,
            _ => u64::from(b - b'0'),
        };
        n = n * 10 + d;
    }
    Some(n)
}

/// A 15-character NIR (spaces removed) whose key is valid: key = 97 − (body mod 97).
pub fn is_nir_with_key(compact: &[u8]) -> bool {
    if compact.len() != 15 || !compact[13..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Some(body) = nir_body(&compact[..13]) else { return false };
    let key = u64::from(compact[13] - b'0') * 10 + u64::from(compact[14] - b'0');
    97 - body % 97 == key
}

/// A NIR written with or without spaces, with a valid key or without one (13 characters).
pub fn looks_like_nir(v: &str) -> bool {
    let s: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    is_nir_with_key(&s) || nir_body(&s).is_some()
}

/// IBAN lengths by country (ISO 13616 registry) for the countries a French caisse sees;
/// an IBAN of another country is not recognised (a guard by checksum only would accept
/// one random string in 97 of any length).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"FR", 27),
    (b"MC", 27),
    (b"DE", 22),
    (b"BE", 16),
    (b"LU", 20),
    (b"CH", 21),
    (b"IT", 27),
    (b"ES", 24),
    (b"PT", 25),
    (b"NL", 18),
    (b"GB", 22),
    (b"IE", 22),
    (b"AT", 20),
    (b"PL", 28),
    (b"RO", 24),
    (b"MA", 28),
    (b"TN", 24),
    (b"DZ", 26),
    (b"TR", 26),
];

/// Whether `s` (uppercase letters and digits only) is an IBAN with valid check digits
/// (ISO 13616: the rearranged number mod 97 is 1).
fn is_iban(s: &[u8]) -> bool {
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| s.len() >= 2 && &s[..2] == *c) else { return false };
    if s.len() != len || !s[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in s[4..].iter().chain(&s[..4]) {
        match b {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(b - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// Whether the text holds an IBAN, written compact or in groups separated by spaces.
pub fn holds_iban(v: &str) -> bool {
    let compact: Vec<u8> =
        v.bytes().filter(|b| !matches!(b, b' ' | b'-' | b'.')).map(|b| b.to_ascii_uppercase()).collect();
    // Every place where a country code and two check digits start.
    (0..compact.len().saturating_sub(14)).any(|i| {
        compact[i].is_ascii_uppercase()
            && compact[i + 1].is_ascii_uppercase()
            && compact[i + 2].is_ascii_digit()
            && compact[i + 3].is_ascii_digit()
            && (i == 0 || !compact[i - 1].is_ascii_uppercase() || v.contains(' '))
            && IBAN_LENGTHS
                .iter()
                .any(|(c, len)| &compact[i..i + 2] == *c && compact.len() >= i + len && is_iban(&compact[i..i + len]))
    })
}

/// A value that is, or holds (in free text), an e-mail address.
pub fn looks_like_email(v: &str) -> bool {
    v.contains('@')
        && v.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '(' | ')' | '"' | '\''))
            .any(is_email)
}

fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
}

/// A phone number written as one: `0X XX XX XX XX` with spaces, dots or dashes between
/// the pairs, or `+33` / `0033` followed by nine digits.
fn is_written_phone(v: &str) -> bool {
    let v = v.trim();
    // `+33…`, or `0033` followed by a separator: thirteen bare digits starting 0033
    // are one random 13-digit id in ten thousand.
    let intl = v.strip_prefix("+33").or_else(|| v.strip_prefix("0033").filter(|r| r.starts_with([' ', '.', '-'])));
    if let Some(rest) = intl {
        let digits: Vec<u8> = rest.bytes().filter(|b| !matches!(b, b' ' | b'.' | b'-' | b'(' | b')')).collect();
        let digits = digits.strip_prefix(b"0").unwrap_or(&digits);
        return digits.len() == 9 && digits.iter().all(u8::is_ascii_digit) && digits[0] != b'0';
    }
    let b = v.as_bytes();
    if b.len() != 14 || b[0] != b'0' || b[1] == b'0' {
        return false;
    }
    let sep = b[2];
    matches!(sep, b' ' | b'.' | b'-')
        && (0..5).all(|k| b[3 * k].is_ascii_digit() && b[3 * k + 1].is_ascii_digit())
        && (1..5).all(|k| b[3 * k - 1] == sep)
}

/// Whether the text is, or holds, a phone number written as one.
pub fn holds_phone(v: &str) -> bool {
    is_written_phone(v)
        || v.split(|c: char| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+' | '(' | ')'))).any(|segment| {
            let s = segment.trim_matches(|c: char| !(c.is_ascii_digit() || c == '+'));
            s.len() >= 12 && is_written_phone(s)
        })
}

/// Whether the text holds a 15-digit NIR with a valid key, compact or spaced.
fn holds_nir_with_key(v: &str) -> bool {
    // Runs of digits, spaces and Corsica's letters; spaces dropped.
    let mut run: Vec<u8> = Vec::with_capacity(v.len());
    let mut found = false;
    let mut flush = |run: &mut Vec<u8>| {
        if run.len() >= 15 {
            found |= (0..=run.len() - 15).any(|i| is_nir_with_key(&run[i..i + 15]));
        }
        run.clear();
    };
    for b in v.bytes() {
        match b {
            b'0'..=b'9' | b'A' | b'B' | b'a' | b'b' => run.push(b),
            b' ' | b'.' | b'-' => {}
            _ => flush(&mut run),
        }
    }
    flush(&mut run);
    found
}

/// What one cell shows, for the ambiguous shapes: (candidates, hits) contributions.
enum Ambiguous {
    Nir13 { hit: bool },
    Digits10 { hit: bool },
}

/// A value whose characters are digits only (spaces ignored) and of a given length.
fn compact_digits(v: &str) -> Option<Vec<u8>> {
    let s: Vec<u8> = v.bytes().filter(|b| *b != b' ').collect();
    s.iter().all(|b| b.is_ascii_digit() || matches!(b, b'A' | b'B' | b'a' | b'b')).then_some(s)
}

/// Classifies one cell: a certain identifier, an ambiguous shape, or nothing.
/// Whether the guard dismisses a cell's text outright: no identifier, no ambiguous shape.
#[cfg(test)]
pub(crate) fn dismissed(v: &str) -> bool {
    matches!(classify(v), (None, None))
}

fn classify(v: &str) -> (Option<Kind>, Option<Ambiguous>) {
    let v = super::cells::trim(v);
    // Most cells (amounts, dates, codes, short ids) are dismissed by length and digit
    // count alone: every shape needs an `@`, 15 characters, or 9 digits or more.
    let has_at = v.contains('@');
    if v.len() < 10 && !has_at {
        return (None, None);
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    if has_at && looks_like_email(v) {
        return (Some(Kind::Email), None);
    }
    if digits >= 13 && holds_nir_with_key(v) {
        return (Some(Kind::Nir), None);
    }
    if v.len() >= 15 && holds_iban(v) {
        return (Some(Kind::Iban), None);
    }
    if digits < 9 {
        return (None, None);
    }
    if holds_phone(v) {
        return (Some(Kind::Telephone), None);
    }
    match compact_digits(v) {
        Some(s) if s.len() == 13 && (s.iter().all(u8::is_ascii_digit) || nir_body(&s).is_some()) => {
            (None, Some(Ambiguous::Nir13 { hit: nir_body(&s).is_some() }))
        }
        Some(s) if s.len() == 10 && s.iter().all(u8::is_ascii_digit) => {
            (None, Some(Ambiguous::Digits10 { hit: s[0] == b'0' && s[1] != b'0' }))
        }
        _ => (None, None),
    }
}

/// The false-refusal risk the guard accepts per column and shape.
pub const ALPHA: f64 = 1e-9;

/// Whether `hits` shaped values among `n` candidates are far above the `p0` chance:
/// refuse when the Chernoff bound on P(Binomial(n, p0) ≥ hits), exp(−n·KL(hits/n ‖ p0)),
/// is below [`ALPHA`].
pub fn far_above_chance(hits: u64, n: u64, p0: f64) -> bool {
    if n == 0 || hits == 0 {
        return false;
    }
    let q = hits as f64 / n as f64;
    if q <= p0 {
        return false;
    }
    let kl = |a: f64, b: f64| if a == 0.0 { 0.0 } else { a * (a / b).ln() };
    let divergence = kl(q, p0) + kl(1.0 - q, 1.0 - p0);
    n as f64 * divergence >= (1.0 / ALPHA).ln()
}

#[derive(Default, Clone)]
struct ShapeCount {
    candidates: u64,
    hits: u64,
    first_hit: Option<u64>,
}

impl ShapeCount {
    fn add(&mut self, hit: bool, ligne: u64) {
        self.candidates += 1;
        if hit {
            self.hits += 1;
            self.first_hit.get_or_insert(ligne);
        }
    }

    /// Adds the counts of the rows that follow.
    fn merge(&mut self, later: ShapeCount) {
        self.candidates += later.candidates;
        self.hits += later.hits;
        self.first_hit = self.first_hit.or(later.first_hit);
    }
}

struct ColumnScan {
    name: String,
    examined: bool,
    nir13: ShapeCount,
    digits10: ShapeCount,
}

/// The guard of one table, fed every row as it is parsed.
pub struct Guard {
    table: Table,
    columns: Vec<ColumnScan>,
    violation: Option<Violation>,
}

impl Guard {
    /// Checks the header (names, and values in case the file has no header line).
    pub fn new(table: Table, header: &[String], autorisees: &[ColonneAutorisee]) -> Guard {
        let authorised: BTreeSet<&str> =
            autorisees.iter().filter(|a| a.table == table.name()).map(|a| a.colonne.as_str()).collect();
        let mut guard = Guard {
            table,
            columns: header
                .iter()
                .map(|h| ColumnScan {
                    name: h.clone(),
                    examined: !authorised.contains(h.as_str()),
                    nir13: ShapeCount::default(),
                    digits10: ShapeCount::default(),
                })
                .collect(),
            violation: None,
        };
        for (i, name) in header.iter().enumerate() {
            if !guard.columns[i].examined {
                continue;
            }
            if table.column(name).is_none() && identifying_name(name) {
                guard.refuse(i, 1, Kind::NomDeColonne, String::new());
                break;
            }
            // A file without its header line: its first row's values are the "names".
            if let (Some(kind), _) = classify(name) {
                guard.refuse(i, 1, kind, String::new());
                break;
            }
        }
        guard
    }

    fn column_name(&self, i: usize) -> String {
        self.columns.get(i).map_or_else(|| format!("champ {}", i + 1), |c| c.name.clone())
    }

    fn refuse(&mut self, i: usize, ligne: u64, kind: Kind, detail: String) {
        if self.violation.is_none() {
            self.violation =
                Some(Violation { table: self.table.name(), column: self.column_name(i), ligne, kind, detail });
        }
    }

    /// The violation found so far (a certain identifier stops the reading at once).
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// Examines one row's fields (None: not valid UTF-8, examined as lossy text).
    pub fn row(&mut self, ligne: u64, fields: &[Option<&str>]) {
        for (i, f) in fields.iter().enumerate() {
            if self.columns.get(i).is_some_and(|c| !c.examined) {
                continue;
            }
            let Some(v) = f else { continue };
            self.cell(i, ligne, v);
        }
    }

    /// Examines a block of rows given column by column (`columns[i]`: the values of the
    /// header's column `i`, the first at line `first`), with the verdict of [`Guard::row`]
    /// on each row in turn: the violation kept is the first in row order, then column
    /// order, and the counts of ambiguous shapes are the same (a column's rows are still
    /// seen in order; after a violation the reading stops, so later counts are moot).
    pub fn columns<'v, C, I>(&mut self, first: u64, columns: C)
    where
        C: IntoIterator<Item = I>,
        I: IntoIterator<Item = &'v str>,
    {
        let mut earliest: Option<(u64, usize, Kind)> = None;
        for (i, values) in columns.into_iter().enumerate() {
            if self.columns.get(i).is_some_and(|c| !c.examined) {
                continue;
            }
            for (ligne, v) in (first..).zip(values) {
                if earliest.is_some_and(|(l, _, _)| l < ligne) {
                    break;
                }
                match classify(v) {
                    (Some(kind), _) => {
                        // Same line, lower column: kept, as the row's first field is.
                        if earliest.is_none_or(|(l, _, _)| ligne < l) {
                            earliest = Some((ligne, i, kind));
                        }
                        break;
                    }
                    (None, Some(a)) => self.count(i, ligne, a),
                    (None, None) => {}
                }
            }
        }
        if let Some((ligne, i, kind)) = earliest {
            self.refuse(i, ligne, kind, String::new());
        }
    }

    /// Examines fields that are not valid UTF-8 (a malformed row) as lossy text.
    pub fn raw_row(&mut self, ligne: u64, fields: &[&[u8]]) {
        for (i, f) in fields.iter().enumerate() {
            if self.columns.get(i).is_some_and(|c| !c.examined) {
                continue;
            }
            self.cell(i, ligne, &String::from_utf8_lossy(f));
        }
    }

    fn cell(&mut self, i: usize, ligne: u64, v: &str) {
        match classify(v) {
            (Some(kind), _) => self.refuse(i, ligne, kind, String::new()),
            (None, Some(a)) => self.count(i, ligne, a),
            (None, None) => {}
        }
    }

    fn count(&mut self, i: usize, ligne: u64, a: Ambiguous) {
        if let Some(c) = self.columns.get_mut(i) {
            match a {
                Ambiguous::Nir13 { hit } => c.nir13.add(hit, ligne),
                Ambiguous::Digits10 { hit } => c.digits10.add(hit, ligne),
            }
        }
    }

    /// Adds what the guard of the rows that follow this guard's rows in the same file
    /// saw: its violation if this one has none (the first in the file), its counts.
    pub fn merge(&mut self, later: Guard) {
        if self.violation.is_none() {
            self.violation = later.violation;
        }
        for (mine, theirs) in self.columns.iter_mut().zip(later.columns) {
            mine.nir13.merge(theirs.nir13);
            mine.digits10.merge(theirs.digits10);
        }
    }

    /// The first violation: a certain identifier, else an ambiguous shape far above chance.
    pub fn finish(mut self) -> Option<Violation> {
        if self.violation.is_some() {
            return self.violation;
        }
        for i in 0..self.columns.len() {
            let c = &self.columns[i];
            let shapes = [
                (c.nir13.clone(), P_NIR_13, Kind::NirSansCle),
                (c.digits10.clone(), P_TELEPHONE_10, Kind::NumerosTelephone),
            ];
            for (shape, p0, kind) in shapes {
                if far_above_chance(shape.hits, shape.candidates, p0) {
                    let detail = format!(
                        "{} valeur(s) sur {} de cette forme, le hasard en donnerait {:.0} %",
                        shape.hits,
                        shape.candidates,
                        p0 * 100.0
                    );
                    let ligne = shape.first_hit.unwrap_or(1);
                    self.refuse(i, ligne, kind, detail);
                    return self.violation;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reader does not examine a Parquet column of dates or booleans read in its own
    /// type (reader::push_group): their text, as Polars writes it, never has an
    /// identifier's shape, certain or ambiguous. Numbers can (a NIR as a float is written
    /// with its fifteen digits): they are examined as text.
    #[test]
    fn dates_and_booleans_have_no_identifier_shape_numbers_can() {
        use polars::prelude::*;
        let nir = Column::new("f".into(), [185057800608491.0]).cast(&DataType::String).expect("text");
        let (certain, ambiguous) = classify(nir.str().expect("text").get(0).expect("a value"));
        assert!(certain.is_some() || ambiguous.is_some(), "a NIR as a float goes unseen");
        let dates = Column::new("d".into(), [-719_162, 0, 20_000, 2_932_896]).cast(&DataType::Date).expect("dates");
        let booleans = Column::new("b".into(), [true, false]);
        for column in [dates, booleans] {
            let text = column.cast(&DataType::String).expect("text");
            for v in text.str().expect("text").iter().flatten() {
                let (certain, ambiguous) = classify(v);
                assert!(certain.is_none() && ambiguous.is_none(), "{v}");
            }
        }
    }

    fn scan(table: Table, header: &[&str], rows: &[&[&str]]) -> Option<Violation> {
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        let mut g = Guard::new(table, &header, &[]);
        for (n, r) in rows.iter().enumerate() {
            let fields: Vec<Option<&str>> = r.iter().map(|s| Some(*s)).collect();
            g.row(n as u64 + 2, &fields);
        }
        g.finish()
    }

    #[test]
    fn nir_shapes() {
        // 1 85 05 78 006 084 key 91: a textbook example with a valid key.
        assert!(looks_like_nir("1 85 05 78 006 084 91"));
        assert!(looks_like_nir("1850578006084"));
        assert!(is_nir_with_key(b"185057800608491"));
        assert!(!is_nir_with_key(b"185057800608492"), "wrong key");
        assert!(!looks_like_nir("5850578006084"), "sex digit");
        assert!(!looks_like_nir("1851378006084"), "month 13");
        assert!(looks_like_nir("1853578006084"), "month 35: unknown month");
        assert!(!looks_like_nir("1850500006084"), "department 00");
        assert!(!looks_like_nir("F000123"));
        assert!(looks_like_nir("2 69 05 2A 004 123"), "Corsica");
        // 2A counts as 19 for the key: 2690519004123 mod 97 = 83, key 97 - 83 = 14.
        assert_eq!(2690519004123u64 % 97, 83);
        assert!(is_nir_with_key(b"269052A00412314"));
        assert!(!is_nir_with_key(b"269052B00412314"), "2B counts as 18");
        assert!(!looks_like_nir("CL002-\u{fffd}P1xxxx"), "non-ASCII is not a NIR, and does not panic");
    }

    #[test]
    fn iban_phone_email() {
        // The ISO 13616 example for France, and one digit changed.
        assert!(holds_iban("FR1420041010050500013M02606"));
        assert!(holds_iban("virement sur FR14 2004 1010 0505 0001 3M02 606 refusé"));
        assert!(!holds_iban("FR1420041010050500013M02607"));
        assert!(holds_iban("DE89 3704 0044 0532 0130 00"));
        assert!(is_written_phone("06 12 34 56 78"));
        assert!(is_written_phone("+33 6 12 34 56 78"));
        assert!(is_written_phone("+33 (0)6 12 34 56 78"));
        assert!(is_written_phone("01.42.00.00.01"));
        assert!(!is_written_phone("0612345678"), "bare digits are ambiguous, not certain");
        assert!(!is_written_phone("0033612345678"), "nor thirteen digits starting 0033");
        assert!(is_written_phone("0033 6 12 34 56 78"));
        assert!(holds_phone("rappeler au 06 12 34 56 78 demain"));
        assert!(!holds_phone("rdv le 12/03 à 14h"));
        assert!(!holds_phone("2025-03-01"));
        assert!(looks_like_email("jean.dupont@example.fr"));
        assert!(!looks_like_email("a@b"));
        assert!(!looks_like_email("@example.fr"));
        assert!(looks_like_email("écrire à jean.dupont@example.fr svp"));
    }

    #[test]
    fn names_outside_the_contract_are_checked() {
        let names = |table, header: &[&str]| scan(table, header, &[]);
        assert_eq!(names(Table::Personnes, &["id_personne", "nom_usage"]).unwrap().kind, Kind::NomDeColonne);
        assert!(names(Table::Personnes, &["id_personne", "Prénom"]).is_some());
        assert!(names(Table::Personnes, &["id_personne", "NIR"]).is_some());
        assert!(names(Table::Foyers, &["id_foyer", "canal_telephone", "canal_email"]).is_none());
        assert!(names(Table::Foyers, &["id_foyer", "nombre_pieces"]).is_none());
    }

    #[test]
    fn a_certain_identifier_is_refused_at_its_first_occurrence() {
        let mut rows: Vec<[&str; 2]> = (0..24).map(|_| ["P1", "R4821931"]).collect();
        rows.push(["P1", "185057800608491"]);
        rows.extend((0..1000).map(|_| ["P1", "R4821931"]));
        let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
        let v = scan(Table::Personnes, &["id_personne", "ref_externe"], &rows).expect("refused");
        assert_eq!((v.column.as_str(), v.ligne, v.kind), ("ref_externe", 26, Kind::Nir));
        assert!(!v.to_string().contains("185057800608491"), "the message never copies the value");
    }

    #[test]
    fn ambiguous_shapes_are_weighed_against_chance() {
        // Random 13-digit ids: about half look like a keyless NIR by chance.
        let mut x: u64 = 88172645463325252;
        let mut ids = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ids.push(format!("{:013}", x % 10_000_000_000_000));
        }
        let rows: Vec<[&str; 1]> = ids.iter().map(|s| [s.as_str()]).collect();
        let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
        let v = scan(Table::Foyers, &["id_foyer"], &rows);
        assert!(v.is_none(), "random numeric ids pass: {v:?}");
        // Real keyless NIRs: every one has the shape.
        let nirs: Vec<[&str; 1]> = (0..40).map(|_| ["1850578006084"]).collect();
        let nirs: Vec<&[&str]> = nirs.iter().map(|r| &r[..]).collect();
        assert_eq!(scan(Table::Foyers, &["id_foyer"], &nirs).unwrap().kind, Kind::NirSansCle);
        // Phone-like bare digits: refused when most ten-digit values have the shape.
        let phones: Vec<[&str; 1]> = (0..20).map(|_| ["0612345678"]).collect();
        let phones: Vec<&[&str]> = phones.iter().map(|r| &r[..]).collect();
        assert_eq!(scan(Table::Contacts, &["resultat"], &phones).unwrap().kind, Kind::NumerosTelephone);
        assert!(scan(Table::Contacts, &["resultat"], &phones[..3]).is_none(), "three could be chance");
    }

    /// A column given whole counts every one of its values, equal neighbours included:
    /// the same verdict as its rows given one by one, on either side of the count that
    /// refuses (nine ten-digit values all shaped as phone numbers).
    #[test]
    fn a_column_counts_each_value_as_its_rows_do() {
        let header = vec!["resultat".to_string()];
        for n in [3, 8, 9, 20] {
            let values = vec!["0612345678"; n];
            let rows: Vec<[&str; 1]> = values.iter().map(|v| [*v]).collect();
            let rows: Vec<&[&str]> = rows.iter().map(|r| &r[..]).collect();
            let by_row = scan(Table::Contacts, &["resultat"], &rows);
            let mut g = Guard::new(Table::Contacts, &header, &[]);
            g.columns(2, [values.iter().copied()]);
            assert_eq!(g.finish(), by_row, "{n} values");
            assert_eq!(by_row.is_some(), n >= 9, "{n} values");
        }
    }

    #[test]
    fn chance_bound() {
        // All values shaped: the fewest values that refuse are ln(1e9)/ln(1/p0).
        let least = |p0: f64| (1..200).find(|&n| far_above_chance(n, n, p0)).unwrap();
        assert_eq!(least(P_NIR_13), 31);
        assert_eq!(least(P_TELEPHONE_10), 9);
        // The chance share itself never refuses, however many values.
        assert!(!far_above_chance(50_490, 100_000, P_NIR_13));
        assert!(far_above_chance(52_000, 100_000, P_NIR_13));
    }

    #[test]
    fn authorised_columns_are_not_examined() {
        let header = vec!["id_personne".to_string(), "ref_externe".to_string()];
        let ok = ColonneAutorisee::parse("personnes.ref_externe").unwrap();
        let mut g = Guard::new(Table::Personnes, &header, &[ok]);
        g.row(2, &[Some("P1"), Some("185057800608491")]);
        assert!(g.finish().is_none());
        assert!(ColonneAutorisee::parse("inconnue.x").is_err());
        assert!(ColonneAutorisee::parse("personnes").is_err());
    }
}
