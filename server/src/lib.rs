//! # candor-server
//!
//! The reference Candor endpoint: a Privacy Pass issuer (RFC 9578) for blind-RSA
//! tokens, the feedback endpoint that redeems them (RFC 9577), round management, leader
//! sign-in and the digest API — on axum and sqlx, with SQLite as the embedded default.
//!
//! The binary `candor` is a thin shell over [`cli`]. Tests drive [`app::launch`] on a
//! listener bound to port 0 with a fresh database each.
//!
//! ## What is never recorded
//!
//! On the issuance and submission paths nothing identifying reaches the database or the
//! logs: no IP address, user agent, cookie, referrer, time finer than a day, or blinded
//! message. The schema has no column that could hold them, no request is traced, and log
//! lines carry no timestamps. Items live in a table keyed by their hash (no row ids, so
//! no arrival order), and the only link between issuance and items is the round.

pub mod app;
pub mod assertion;
pub mod cli;
pub mod config;
pub mod demo_intranet;
pub mod digest;
pub mod keyfiles;
pub mod store;

/// The time now, in Unix seconds: for deciding whether a round is open. Never stored.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// Today, in UTC: the finest time Candor stores.
pub fn today() -> candor_protocol::domain::Day {
    days_from_today(0)
}

/// The day `days` days from today, in UTC (session and link expiry).
pub fn days_from_today(days: u64) -> candor_protocol::domain::Day {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    candor_protocol::domain::Day::from_unix_seconds(seconds + days * 86_400)
        .expect("the clock reads a date between 2000 and 9999")
}
