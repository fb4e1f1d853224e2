//! Parsing one cell of an extract, as French data teams write it.
//!
//! Every function takes the trimmed text of a non-empty cell and returns the typed
//! value or a reason (in French, as it goes to the quarantine files data teams read).

use std::borrow::Cow;

use reperage_rules::{Date, Mois};

use super::schema::ColType;

/// A parsed cell. Text borrows the field it was read from (or the enum's canonical
/// spelling): a row is typed without allocating (docs/performance.md).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Texte(Cow<'a, str>),
    Nombre(f64),
    Entier(i32),
    Booleen(bool),
    /// Days since 1970-01-01, and whether the day was given (`YYYY-MM` gives the 1st).
    Date {
        days: i32,
        jour_connu: bool,
    },
}

/// `str::trim`, without its Unicode scan for the usual cell that neither starts nor
/// ends with a space (every cell is trimmed, by the reader and by the privacy guard).
pub fn trim(s: &str) -> &str {
    let clean = |b: u8| b.is_ascii() && !b.is_ascii_whitespace();
    match s.as_bytes() {
        [] => s,
        [first, .., last] | [first @ last] if clean(*first) && clean(*last) => s,
        _ => s.trim(),
    }
}

/// Longest decimal read with a comma without allocating (longer ones allocate).
const DECIMAL_COURT: usize = 48;

pub fn parse_decimal(s: &str) -> Result<f64, String> {
    // The comma read as a point, in a buffer on the stack for the usual lengths.
    let mut court = [0u8; DECIMAL_COURT];
    let long;
    let normalized: &str = if !s.contains(',') {
        s
    } else if s.len() <= DECIMAL_COURT {
        for (to, b) in court.iter_mut().zip(s.bytes()) {
            *to = if b == b',' { b'.' } else { b };
        }
        // Only an ASCII byte was replaced by another: still UTF-8.
        std::str::from_utf8(&court[..s.len()]).unwrap_or(s)
    } else {
        long = s.replace(',', ".");
        &long
    };
    let b = normalized.as_bytes();
    let valid = !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| c.is_ascii_digit() || c == b'.' || (i == 0 && (c == b'-' || c == b'+')))
        && b.iter().filter(|&&c| c == b'.').count() <= 1
        && b.iter().any(u8::is_ascii_digit);
    if !valid {
        return Err(format!(
            "nombre décimal illisible « {s} » (attendu 1234,56 ou 1234.56, sans séparateur de milliers)"
        ));
    }
    normalized.parse::<f64>().map_err(|_| format!("nombre décimal illisible « {s} »"))
}

pub fn parse_bool(s: &str) -> Result<bool, String> {
    const VRAI: [&str; 7] = ["1", "true", "vrai", "oui", "o", "y", "yes"];
    const FAUX: [&str; 6] = ["0", "false", "faux", "non", "n", "no"];
    if VRAI.iter().any(|v| v.eq_ignore_ascii_case(s)) {
        Ok(true)
    } else if FAUX.iter().any(|v| v.eq_ignore_ascii_case(s)) {
        Ok(false)
    } else {
        Err(format!("booléen illisible « {s} » (attendu 1/0, true/false, oui/non, O/N)"))
    }
}

fn parse_date_text(s: &str) -> Result<Date, String> {
    Date::parse(s).ok_or_else(|| format!("date illisible « {s} » (attendu AAAA-MM-JJ)"))
}

fn parse_month_text(s: &str) -> Result<Mois, String> {
    Mois::parse(s).ok_or_else(|| format!("mois illisible « {s} » (attendu AAAA-MM)"))
}

/// Parses a non-empty, trimmed cell of type `ty`.
pub fn parse_cell(ty: ColType, s: &str) -> Result<Cell<'_>, String> {
    Ok(match ty {
        ColType::Texte => Cell::Texte(Cow::Borrowed(s)),
        ColType::Decimal => Cell::Nombre(parse_decimal(s)?),
        ColType::Entier { min, max } => {
            let v = parse_decimal(s)?;
            if v.fract() != 0.0 || v < min as f64 || v > max as f64 {
                return Err(format!("entier attendu entre {min} et {max}, trouvé « {s} »"));
            }
            Cell::Entier(v as i32)
        }
        ColType::Booleen => Cell::Booleen(parse_bool(s)?),
        ColType::Date => Cell::Date { days: parse_date_text(s)?.to_days(), jour_connu: true },
        ColType::Mois => Cell::Date { days: parse_month_text(s)?.first_day().to_days(), jour_connu: false },
        ColType::DateOuMois => {
            if s.len() == 7 {
                Cell::Date { days: parse_month_text(s)?.first_day().to_days(), jour_connu: false }
            } else {
                Cell::Date { days: parse_date_text(s)?.to_days(), jour_connu: true }
            }
        }
        ColType::Enum(values) => {
            let found = values.iter().find(|v| v.eq_ignore_ascii_case(s));
            match found {
                Some(v) => Cell::Texte(Cow::Borrowed(v)),
                None => return Err(format!("valeur « {s} » inconnue (attendu : {})", values.join(", "))),
            }
        }
        ColType::Commune => {
            let b = s.as_bytes();
            let ok = b.len() == 5
                && (b[0].is_ascii_digit() || b[0] == b'2')
                && (b[1].is_ascii_digit() || matches!(b[1], b'A' | b'B' | b'a' | b'b'))
                && b[2..].iter().all(u8::is_ascii_digit);
            if !ok {
                return Err(format!("code commune INSEE illisible « {s} » (5 caractères, ex. 93008, 2A004)"));
            }
            if b.iter().any(u8::is_ascii_lowercase) {
                Cell::Texte(Cow::Owned(s.to_ascii_uppercase()))
            } else {
                Cell::Texte(Cow::Borrowed(s))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in ["", " ", "x", "x ", " x", "\tx\r\n", "\u{a0}x", "x\u{2003}", "é", " é ", "a b", "\u{a0}"] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn decimals_accept_comma_and_point_only() {
        assert_eq!(parse_decimal("1234,56"), Ok(1234.56));
        assert_eq!(parse_decimal("1234.56"), Ok(1234.56));
        assert_eq!(parse_decimal("-3"), Ok(-3.0));
        assert!(parse_decimal("1 234,56").is_err());
        assert!(parse_decimal("1.234,56").is_err());
        assert!(parse_decimal("12e3").is_err());
        assert!(parse_decimal("abc").is_err());
    }

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["1", "true", "OUI", "o", "Vrai"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "FALSE", "non", "N"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        assert!(parse_bool("peut-être").is_err());
    }

    #[test]
    fn birth_dates_may_be_months() {
        assert_eq!(
            parse_cell(ColType::DateOuMois, "1990-03"),
            Ok(Cell::Date { days: Date::new(1990, 3, 1).expect("d").to_days(), jour_connu: false })
        );
        assert_eq!(
            parse_cell(ColType::DateOuMois, "1990-03-15"),
            Ok(Cell::Date { days: Date::new(1990, 3, 15).expect("d").to_days(), jour_connu: true })
        );
        assert!(parse_cell(ColType::Date, "1990-03").is_err());
        assert!(parse_cell(ColType::Date, "1990-02-30").is_err());
    }

    #[test]
    fn enums_are_canonicalised_and_communes_checked() {
        assert_eq!(parse_cell(ColType::Enum(&["locataire"]), "Locataire"), Ok(Cell::Texte("locataire".into())));
        assert!(parse_cell(ColType::Enum(&["locataire"]), "chateau").is_err());
        assert_eq!(parse_cell(ColType::Commune, "2a004"), Ok(Cell::Texte("2A004".into())));
        assert!(parse_cell(ColType::Commune, "9300").is_err());
        assert!(parse_cell(ColType::Entier { min: 1, max: 3 }, "4").is_err());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any decimal written with `,` or `.` reads the same, and as Rust reads it.
        #[test]
        fn a_decimal_reads_the_same_with_a_comma_or_a_point(
            negative in any::<bool>(),
            whole in 0u64..1_000_000_000_000,
            frac in "[0-9]{0,6}",
        ) {
            let sign = if negative { "-" } else { "" };
            let dot = if frac.is_empty() { format!("{sign}{whole}") } else { format!("{sign}{whole}.{frac}") };
            let comma = dot.replace('.', ",");
            let expected: f64 = dot.parse().expect("std reads it");
            prop_assert_eq!(parse_decimal(&dot), Ok(expected));
            prop_assert_eq!(parse_decimal(&comma), Ok(expected));
            prop_assert_eq!(parse_cell(ColType::Decimal, &comma), Ok(Cell::Nombre(expected)));
        }

        /// A thousands separator is refused, never read as a decimal point.
        #[test]
        fn a_thousands_separator_is_refused(thousands in 1u32..1000, rest in 0u32..1000, cents in 0u32..100) {
            for text in [format!("{thousands}.{rest:03},{cents:02}"), format!("{thousands},{rest:03}.{cents:02}"),
                         format!("{thousands} {rest:03},{cents:02}")] {
                prop_assert!(parse_decimal(&text).is_err(), "{}", text);
            }
        }

        /// Every calendar day written AAAA-MM-JJ reads as that day, and AAAA-MM as its 1st.
        #[test]
        fn a_date_reads_as_its_day(days in -25_000i32..40_000) {
            let d = Date::from_days(days);
            let (day, month) = (d.to_string(), d.mois().to_string());
            prop_assert_eq!(parse_cell(ColType::Date, &day), Ok(Cell::Date { days, jour_connu: true }));
            let first = d.mois().first_day();
            prop_assert_eq!(
                parse_cell(ColType::DateOuMois, &month),
                Ok(Cell::Date { days: first.to_days(), jour_connu: false })
            );
        }
    }
}
