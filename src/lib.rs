//! Candor's employee widget (Yew, wasm32), in the shape of Yew's `function_todomvc`:
//!
//! * [`state`] — one reducer: [`state::State`], [`state::Action`], [`state::Phase`];
//!   pure, tested natively.
//! * [`components`] — one component per file; [`hooks`] — hooks returning handles.
//! * [`services`] — the HTTP client, the wallet, the queue worker, the host page, the
//!   browser's NFKC, RegExp, clock and randomness.
//! * [`messages`] — every sentence a person reads, keyed by typed codes.
//!
//! The leaders' digest page is its own crate (`digest/`).

pub mod components;
pub mod hooks;
pub mod messages;
pub mod services;
pub mod state;
