//! Candor's digest page for leaders. Mounts into `#candor-digest` of `www/digest.html`.

#[cfg(target_arch = "wasm32")]
fn main() {
    let Some(root) = gloo_utils::document().get_element_by_id("candor-digest") else {
        return;
    };
    yew::Renderer::<candor_widget::digest_page::App>::with_root(root).render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("The Candor digest page runs in a browser: build it with `cargo xtask build` (Trunk, wasm32).");
}
