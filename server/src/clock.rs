//! The time, as the server reads it: one [`Clock`] in the application state, so that
//! closing by date, release, expiry and day boundaries can be tested by moving it.
//!
//! Nothing read from a clock is ever stored finer than a day.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use candor_protocol::domain::Day;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Unix seconds now.
    fn now(&self) -> u64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default()
    }
}

/// A clock that moves only when told: for tests of what happens at a date.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock that reads `unix_seconds` until moved.
    pub fn at(unix_seconds: u64) -> Self {
        Self(Arc::new(AtomicU64::new(unix_seconds)))
    }

    /// A clock that starts at the system's time.
    pub fn starting_now() -> Self {
        Self::at(SystemClock.now())
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: u64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, unix_seconds: u64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The organisation's time zone: where its days begin and end.
#[derive(Clone)]
pub struct OrgTimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl std::fmt::Debug for OrgTimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OrgTimeZone({})", self.name)
    }
}

impl PartialEq for OrgTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A time zone name that is not in the time zone database.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown time zone `{0}`: use an IANA name such as Europe/Berlin")]
pub struct UnknownTimeZone(pub String);

impl OrgTimeZone {
    /// UTC.
    pub fn utc() -> Self {
        Self { name: "UTC".into(), zone: jiff::tz::TimeZone::UTC }
    }

    /// Looks up an IANA name (the database is built in).
    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        let zone = jiff::tz::TimeZone::get(name).map_err(|_| UnknownTimeZone(name.to_owned()))?;
        Ok(Self { name: name.to_owned(), zone })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The day it is at `unix_seconds` in this zone.
    pub fn day_at(&self, unix_seconds: u64) -> Day {
        let civil = i64::try_from(unix_seconds)
            .ok()
            .and_then(|s| jiff::Timestamp::from_second(s).ok())
            .map(|t| t.to_zoned_datetime(self.zone.clone()).date());
        civil
            .and_then(|d| {
                Day::from_ymd(
                    u16::try_from(d.year()).ok()?,
                    u8::try_from(d.month()).ok()?,
                    u8::try_from(d.day()).ok()?,
                )
            })
            .unwrap_or_else(|| {
                Day::from_unix_seconds(unix_seconds).unwrap_or(Day::from_ymd(2000, 1, 1).expect("a day"))
            })
    }

    /// The instant (Unix seconds) at which `day` begins in this zone.
    pub fn start_of(&self, day: Day) -> u64 {
        let date = jiff::civil::Date::new(
            i16::try_from(day.year()).unwrap_or(i16::MAX),
            i8::try_from(day.month()).unwrap_or(1),
            i8::try_from(day.day_of_month()).unwrap_or(1),
        );
        date.ok()
            .and_then(|date| date.to_zoned_datetime(self.zone.clone()).ok())
            .and_then(|zoned| zoned.start_of_day().ok())
            .and_then(|zoned| u64::try_from(zoned.timestamp().as_second()).ok())
            .unwrap_or_else(|| day.utc_midnight())
    }

    /// The day `days` after the one it is at `unix_seconds`.
    pub fn day_after(&self, unix_seconds: u64, days: u64) -> Day {
        let mut day = self.day_at(unix_seconds);
        for _ in 0..days {
            day = day.next().unwrap_or(day);
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_begin_at_local_midnight() {
        let auckland = OrgTimeZone::parse("Pacific/Auckland").unwrap();
        let day = Day::parse("2026-12-20").unwrap();
        // New Zealand daylight time is UTC+13: the day begins at 11:00 UTC the day before.
        assert_eq!(auckland.start_of(day), day.utc_midnight() - 13 * 3_600);
        assert_eq!(auckland.day_at(day.utc_midnight() - 13 * 3_600), day);
        assert_eq!(auckland.day_at(day.utc_midnight() - 13 * 3_600 - 1).to_string(), "2026-12-19");
        assert_eq!(OrgTimeZone::utc().start_of(day), day.utc_midnight());
        assert!(OrgTimeZone::parse("Mars/Olympus_Mons").is_err());
    }
}
