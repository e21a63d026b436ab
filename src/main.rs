//! Candor's employee widget. It mounts into its own element of `www/index.html` (the
//! page the candor server serves inside the sandboxed iframe), never into `<body>`.
//!
//! This is the widget's first, minimal form: it shows, as the person types, what the
//! shared protocol crate's scrubbing makes of their text and what it would flag. The
//! full widget — manifest verification, wallet, queue — comes with the widget issue.

#[cfg(target_arch = "wasm32")]
fn main() {
    let Some(root) = gloo_utils::document().get_element_by_id("candor") else {
        return;
    };
    yew::Renderer::<candor_widget::App>::with_root(root).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Candor widget runs in a browser: build it for wasm32-unknown-unknown with Trunk.");
}
