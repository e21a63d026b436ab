//! Domain newtypes, each made by `parse`: scopes, round ids, days, question ids.

use std::fmt;

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A value that is not a valid scope, round id, day or question id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {why}")]
pub struct ParseError {
    what: &'static str,
    why: &'static str,
}

impl ParseError {
    fn new(what: &'static str, why: &'static str) -> Self {
        Self { what, why }
    }
}

/// An org-unit path such as `acme/eng/platform`: 1 to 16 segments of lowercase ASCII
/// letters, digits, `-` and `_`, each at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// Maximum number of segments.
    pub const MAX_DEPTH: usize = 16;

    /// Parses a scope path.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let err = |why| ParseError::new("scope", why);
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        let mut depth = 0;
        for segment in text.split('/') {
            depth += 1;
            if segment.is_empty() || segment.len() > 64 {
                return Err(err("each segment must be 1 to 64 characters"));
            }
            if !segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            {
                return Err(err("segments may hold only a-z, 0-9, '-' and '_'"));
            }
        }
        if depth > Self::MAX_DEPTH {
            return Err(err("it is more than 16 segments deep"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this scope or lies below it. A round for `acme/eng` is open
    /// to an employee of `acme/eng/platform`; not the other way round.
    pub fn contains(&self, other: &Scope) -> bool {
        other.0 == self.0
            || (other.0.len() > self.0.len()
                && other.0.starts_with(&self.0)
                && other.0.as_bytes()[self.0.len()] == b'/')
    }

    /// The enclosing scope, if any.
    pub fn parent(&self) -> Option<Scope> {
        self.0.rsplit_once('/').map(|(parent, _)| Scope(parent.to_owned()))
    }

    /// Number of segments.
    pub fn depth(&self) -> usize {
        self.0.split('/').count()
    }
}

impl TryFrom<String> for Scope {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Scope> for String {
    fn from(value: Scope) -> Self {
        value.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A round's identifier: 16 random bytes, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoundId([u8; 16]);

impl RoundId {
    /// A fresh random id.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0; 16];
        rng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses 32 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let err = || ParseError::new("round id", "expected 32 lowercase hex digits");
        if text.len() != 32 {
            return Err(err());
        }
        let mut bytes = [0; 16];
        for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(err)?;
            let lo = hex_value(pair[1]).ok_or_else(err)?;
            bytes[i] = hi << 4 | lo;
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The Privacy Pass redemption context for this round: SHA-256 of the id's bytes,
    /// so a token is good for this round only.
    pub fn redemption_context(&self) -> [u8; 32] {
        Sha256::digest(self.0).into()
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for RoundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for RoundId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoundId({self})")
    }
}

impl TryFrom<String> for RoundId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RoundId> for String {
    fn from(value: RoundId) -> Self {
        value.to_string()
    }
}

/// A calendar day, `YYYY-MM-DD`: the finest time Candor records or shows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day {
    year: u16,
    month: u8,
    day: u8,
}

impl Day {
    /// Parses `YYYY-MM-DD` (years 2000 to 9999).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let err = || ParseError::new("day", "expected a date as YYYY-MM-DD");
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(err());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u16, ParseError> {
            let part = &text[range];
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            part.parse().map_err(|_| err())
        };
        let year = number(0..4)?;
        let month = u8::try_from(number(5..7)?).map_err(|_| err())?;
        let day = u8::try_from(number(8..10)?).map_err(|_| err())?;
        Self::from_ymd(year, month, day).ok_or_else(err)
    }

    /// A day from its parts, if it exists.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((2000..=9999).contains(&year) && (1..=days_in_month).contains(&day)).then_some(Self {
            year,
            month,
            day,
        })
    }

    /// The day that holds a Unix time, in UTC.
    pub fn from_unix_seconds(seconds: u64) -> Option<Self> {
        // Civil-from-days (H. Hinnant's algorithm), for days since 1970-01-01.
        let days = i64::try_from(seconds / 86_400).ok()? + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self::from_ymd(u16::try_from(year).ok()?, u8::try_from(month).ok()?, u8::try_from(day).ok()?)
    }

    /// The Unix time at which this day begins in UTC.
    pub fn utc_midnight(&self) -> u64 {
        // Days-from-civil (H. Hinnant's algorithm), the inverse of `from_unix_seconds`.
        let (year, month, day) = (i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let year = if month <= 2 { year - 1 } else { year };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        let days = era * 146_097 + day_of_era - 719_468;
        // Years 2000 to 9999 are after 1970: never negative.
        u64::try_from(days).unwrap_or_default() * 86_400
    }

    /// The day after this one, if it is still a day Candor can write (before 10000).
    pub fn next(&self) -> Option<Self> {
        Self::from_unix_seconds(self.utc_midnight() + 86_400)
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1 to 31.
    pub fn day_of_month(&self) -> u8 {
        self.day
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

impl TryFrom<String> for Day {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Day> for String {
    fn from(value: Day) -> Self {
        value.to_string()
    }
}

/// A question's identifier within a round: 1 to 32 of `a-z 0-9 - _`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuestionId(String);

impl QuestionId {
    /// Parses a question id.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let valid = (1..=32).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(ParseError::new("question id", "expected 1 to 32 of a-z, 0-9, '-', '_'"))
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for QuestionId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<QuestionId> for String {
    fn from(value: QuestionId) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_by_whole_segments() {
        let eng = Scope::parse("acme/eng").unwrap();
        let platform = Scope::parse("acme/eng/platform").unwrap();
        let engage = Scope::parse("acme/engage").unwrap();
        assert!(eng.contains(&platform));
        assert!(eng.contains(&eng));
        assert!(!platform.contains(&eng));
        assert!(!eng.contains(&engage), "a prefix of a segment is not an ancestor");
        assert_eq!(platform.parent(), Some(eng));
        assert_eq!(Scope::parse("acme").unwrap().parent(), None);
        for bad in ["", "/acme", "acme/", "acme//eng", "Acme", "acme/é", "a b"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Scope::parse(&["a"; 17].join("/")).is_err());
    }

    #[test]
    fn round_ids_round_trip() {
        let id = RoundId::parse("00ff10203040506070809000a0b0c0d0").unwrap();
        assert_eq!(id.to_string(), "00ff10203040506070809000a0b0c0d0");
        assert!(RoundId::parse("00FF10203040506070809000a0b0c0d0").is_err());
        assert!(RoundId::parse("00ff").is_err());
        assert!(RoundId::parse("zzff10203040506070809000a0b0c0d0").is_err());
    }

    #[test]
    fn days_are_real_calendar_days() {
        assert_eq!(Day::parse("2028-02-29").unwrap().to_string(), "2028-02-29");
        for bad in
            ["2027-02-29", "2100-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "+026-01-01", "2026-04-31"]
        {
            assert!(Day::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(Day::parse("2000-02-29").unwrap().to_string(), "2000-02-29");
        assert_eq!(Day::from_unix_seconds(1_795_910_399).unwrap().to_string(), "2026-11-28");
        assert_eq!(Day::from_unix_seconds(1_795_910_400).unwrap().to_string(), "2026-11-29");
        assert!(Day::parse("2026-11-28").unwrap() < Day::parse("2026-11-29").unwrap());
    }

    #[test]
    fn midnights_invert_the_calendar() {
        assert_eq!(Day::parse("2026-11-29").unwrap().utc_midnight(), 1_795_910_400);
        assert_eq!(Day::parse("2000-01-01").unwrap().utc_midnight(), 946_684_800);
        for seconds in (946_684_800u64..253_402_214_400).step_by(86_400 * 97 + 3_601) {
            let day = Day::from_unix_seconds(seconds).unwrap();
            assert!(day.utc_midnight() <= seconds && seconds < day.utc_midnight() + 86_400, "{day}");
            assert_eq!(Day::from_unix_seconds(day.utc_midnight()), Some(day));
        }
        assert_eq!(Day::parse("2028-02-28").unwrap().next(), Day::parse("2028-02-29").ok());
        assert_eq!(Day::parse("2026-12-31").unwrap().next(), Day::parse("2027-01-01").ok());
        assert_eq!(Day::parse("9999-12-31").unwrap().next(), None);
    }
}
