//! Calendar dates and months, small and dependency-free.
//!
//! Rules deal in reference months (`2025-04`) and dates (`2025-04-01`). Polars stores a
//! `Date` as days since 1970-01-01, so conversion to and from that count is all we need.

use std::fmt;

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// A calendar month, the unit of reference of every computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mois {
    pub year: i32,
    pub month: u32,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in a month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

fn parse_u32(s: &str, len: usize) -> Option<u32> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Date {
    /// A valid date, or `None`.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Date::new(parse_u32(y, 4)? as i32, parse_u32(m, 2)?, parse_u32(d, 2)?)
    }

    /// Days since 1970-01-01 (Polars' `Date` representation).
    pub fn to_days(self) -> i32 {
        // Howard Hinnant's days_from_civil.
        let y = if self.month <= 2 { self.year - 1 } else { self.year } as i64;
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = self.month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + self.day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146097 + doe - 719468) as i32
    }

    /// Inverse of [`Date::to_days`].
    pub fn from_days(days: i32) -> Date {
        let z = days as i64 + 719468;
        let era = if z >= 0 { z } else { z - 146096 } / 146097;
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + if month <= 2 { 1 } else { 0 }) as i32;
        Date { year, month, day }
    }

    pub fn mois(self) -> Mois {
        Mois { year: self.year, month: self.month }
    }

    /// The day before.
    pub fn pred(self) -> Date {
        Date::from_days(self.to_days() - 1)
    }

    /// The day after.
    pub fn succ(self) -> Date {
        Date::from_days(self.to_days() + 1)
    }
}

impl Mois {
    pub fn new(year: i32, month: u32) -> Option<Mois> {
        (1..=12).contains(&month).then_some(Mois { year, month })
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Mois> {
        let (y, m) = s.split_once('-')?;
        Mois::new(parse_u32(y, 4)? as i32, parse_u32(m, 2)?)
    }

    pub fn first_day(self) -> Date {
        Date { year: self.year, month: self.month, day: 1 }
    }

    pub fn last_day(self) -> Date {
        Date { year: self.year, month: self.month, day: days_in_month(self.year, self.month) }
    }

    /// A running month count (`year * 12 + month - 1`), for month arithmetic.
    pub fn index(self) -> i32 {
        self.year * 12 + self.month as i32 - 1
    }

    pub fn from_index(index: i32) -> Mois {
        Mois { year: index.div_euclid(12), month: index.rem_euclid(12) as u32 + 1 }
    }

    /// This month shifted by `n` months (negative: earlier).
    pub fn plus(self, n: i32) -> Mois {
        Mois::from_index(self.index() + n)
    }

    /// Whole months from `earlier` to `self` (negative when `earlier` is later).
    pub fn months_since(self, earlier: Mois) -> i32 {
        self.index() - earlier.index()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Mois {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A month is written `YYYY-MM`, as everywhere in the extract and the outputs.
impl serde::Serialize for Mois {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Mois {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Mois, D::Error> {
        let text = String::deserialize(d)?;
        Mois::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a month YYYY-MM: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_epoch() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().to_days(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().to_days(), 11017);
        assert_eq!(Date::new(1969, 12, 31).unwrap().to_days(), -1);
        for d in [-800_000, -1, 0, 59, 60, 11016, 19_000, 20_513, 60_000] {
            assert_eq!(Date::from_days(d).to_days(), d);
        }
    }

    #[test]
    fn parse_rejects_impossible_dates() {
        assert!(Date::parse("2024-02-29").is_some());
        assert!(Date::parse("2023-02-29").is_none());
        assert!(Date::parse("2024-13-01").is_none());
        assert!(Date::parse("2024-1-01").is_none());
        assert!(Mois::parse("2024-00").is_none());
        assert_eq!(Mois::parse("2025-04"), Mois::new(2025, 4));
    }

    #[test]
    fn month_arithmetic() {
        let m = Mois::new(2025, 1).unwrap();
        assert_eq!(m.plus(-1), Mois::new(2024, 12).unwrap());
        assert_eq!(m.plus(12), Mois::new(2026, 1).unwrap());
        assert_eq!(m.months_since(Mois::new(2024, 4).unwrap()), 9);
        assert_eq!(Mois::new(2024, 2).unwrap().last_day().day, 29);
    }
}
