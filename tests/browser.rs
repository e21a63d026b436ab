//! Browser tests (wasm-bindgen-test, headless Chromium): what only a real browser can
//! answer. The widget normalises with the browser's NFKC and the server checks with
//! Rust's tables; the two must agree, or a person's text would be refused.

#![cfg(target_arch = "wasm32")]

use candor_protocol::scrub;
use candor_widget::widget::normalise;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const SAMPLES: &[&str] = &[
    "The on\u{2011}call rota is \u{201C}fine\u{201D}\u{200B}\u{2026} Thanks, Anna",
    "\u{FB01}le \u{FF21}\u{FF22}\u{FF23} \u{2460} \u{00BD} \u{2122} \u{3000}x",
    "e\u{0301} \u{1100}\u{1161}\u{11A8} \u{212B} \u{2126} \u{FDFA}",
    "Ça va? Größe, naïve café — ﬀ ﬃ ㌀ ㎏ ℡ ①②",
    "\u{E0041}tag\u{E007F} \u{202E}bidi\u{202C} \u{FE0F}\u{1F600}\u{FE0F} \u{200D}",
    "日本語のテキスト、ｶﾀｶﾅ と ﾞ゛ ㍻",
    "Ünïcödé\tspaces\u{00A0}\u{2009}and\r\nlines\u{2028}end",
];

#[wasm_bindgen_test]
fn browser_nfkc_agrees_with_the_servers_tables() {
    for sample in SAMPLES {
        let in_browser = normalise(sample, 2_000);
        assert_eq!(in_browser, scrub::normalise_bounded(sample, 2_000), "{sample:?}");
        assert_eq!(scrub::normalise(&in_browser), in_browser, "the server accepts it as normalised");
    }
}

#[wasm_bindgen_test]
fn the_server_accepts_what_the_browser_makes_of_every_bmp_character() {
    // Each character of the Basic Multilingual Plane, alone. The browser's ICU may know a
    // newer Unicode than the server's tables (Chromium 156 maps U+209D–U+209F and three
    // Armenian letters that the tables leave alone), so the two outputs can differ for
    // the newest characters; what must hold is that the server accepts what the widget
    // sends.
    let mut refused = Vec::new();
    for c in (0x20u32..0x10000).filter_map(char::from_u32) {
        let in_browser = normalise(&format!("a{c}b"), 100);
        if scrub::normalise_bounded(&in_browser, 100) != in_browser {
            refused.push(c);
        }
    }
    assert!(
        refused.is_empty(),
        "{} characters refused, e.g. {:?}",
        refused.len(),
        &refused[..refused.len().min(20)]
    );
}
