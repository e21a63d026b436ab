//! Candor's employee widget. It mounts into its own element of `www/index.html` (the
//! page the candor server serves inside the sandboxed iframe), never into `<body>`.

#[cfg(target_arch = "wasm32")]
fn main() {
    let Some(root) = gloo_utils::document().get_element_by_id("candor") else {
        return;
    };
    yew::Renderer::<candor_widget::components::App>::with_root(root).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Candor widget runs in a browser: build it with `cargo xtask build` (Trunk, wasm32).");
}
