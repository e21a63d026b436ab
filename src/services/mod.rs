//! The widget's contact with the world: the HTTP client, the wallet (local storage),
//! the queue worker, the host page, and the browser's own NFKC, RegExp, clock and
//! randomness. Components and hooks reach the browser only through these.

pub mod browser;
pub mod host;
pub mod http;
pub mod queue;
pub mod wallet;
