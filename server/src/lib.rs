//! # candor-server
//!
//! The reference Candor endpoint: a Privacy Pass issuer (RFC 9578) for blind-RSA
//! tokens, the feedback endpoint that redeems them (RFC 9577), round management, leader
//! sign-in and the digest API — on axum and sqlx, with SQLite as the embedded default.
//!
//! * [`startup::Application`] builds and runs the server; `candor serve` and every test
//!   use it (with [`telemetry::subscriber`], the one log subscriber).
//! * [`http`]: a router per resource, one [`http::ApiError`].
//! * [`ops`]: what the operator's commands do; [`cli`] is clap plus calls to it.
//! * [`store`]: one trait, what it promises; [`store::sqlite`] says how.
//! * [`clock`]: the time, injectable; the organisation's time zone.
//!
//! ## What is never recorded
//!
//! On the issuance and submission paths nothing identifying reaches the database or the
//! logs: no IP address, user agent, cookie, referrer, time (not even the day an item
//! arrived), or blinded message. The schema has no column that could hold them, no
//! request is traced, and log lines carry no timestamps. Items live in a table keyed by
//! their hash (no row ids, so no arrival order), and the only link between issuance and
//! items is the round.

pub mod assertion;
pub mod cli;
pub mod clock;
pub mod config;
pub mod digest;
pub mod http;
pub mod keyfiles;
pub mod ledger;
pub mod ops;
pub mod sealing;
pub mod startup;
pub mod store;
pub mod telemetry;
