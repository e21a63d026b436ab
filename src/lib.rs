//! Candor's browser front ends (Yew, wasm32): the employee widget (`src/main.rs`) and the
//! leaders' digest page (`src/bin/digest.rs`), built by Trunk as two separate wasm
//! files so the widget stays small.

pub mod api;
pub mod digest_page;
pub mod wallet;
pub mod widget;
