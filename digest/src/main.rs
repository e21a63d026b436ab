//! Candor's digest page for leaders. Mounts into `#candor-digest` of `digest/index.html`.

// Natively the page is only type-checked (clippy, tests): it runs in a browser.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod http;
mod messages;
mod page;

#[cfg(target_arch = "wasm32")]
fn main() {
    let Some(root) = gloo_utils::document().get_element_by_id("candor-digest") else {
        return;
    };
    yew::Renderer::<page::App>::with_root(root).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Candor digest page runs in a browser: build it with `cargo xtask build` (Trunk, wasm32).");
}
