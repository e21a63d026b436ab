//! Browser tests (wasm-bindgen-test, headless Chromium): what only a real browser can
//! answer. The widget normalises with the browser's NFKC and the server checks with
//! Rust's tables; the two must agree, or a person's text would be refused. The widget
//! finds identifying details with the browser's RegExp; it must find what regex-lite
//! finds with the same patterns.

#![cfg(target_arch = "wasm32")]

use candor_protocol::scrub::{self, Detector, FindingKind};
use candor_widget::services::browser::{BrowserRegex, normalise};
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

/// Texts with every kind of finding, near misses, and characters that take two UTF-16
/// units (the browser counts those; the findings are byte spans).
const DETECTION_SAMPLES: &[&str] = &[
    "mail anna.b@corp.example.com now",
    "call +44 20 7946 0958.",
    "see https://wiki.corp/x?id=3, ok",
    "see jira.acme.com/browse/X-1.",
    "ask @anna_b or @j.doe.",
    "Good work.\n- J.",
    "Good work.\n\nThanks, Anna",
    "Meh. Cheers,\nJohn Smith",
    "Released on 2026-11-29 with 1234 bugs",
    "Thanks for the help with the release",
    "I am EMP-123456 in payroll, badge EMP-654321",
    "\u{1F600} émoji first: \u{1F680} bob@x.io then \u{1F600} WWW.Example.COM/Path \u{1F600}\n~ Zoë Ü.",
    "Stand-ups 😀 run long. KIND REGARDS, Ann-Marie",
    "x@y.z @ @@a a@ www. .com 555-12 +1 (555) 010-9999 ext",
];

fn findings<E: scrub::Engine>(detector: &Detector<E>, text: &str) -> Vec<(FindingKind, String)> {
    detector.detect(text).into_iter().map(|f| (f.kind, text[f.span].to_owned())).collect()
}

#[wasm_bindgen_test]
fn the_browsers_regexp_finds_what_regex_lite_finds() {
    let ids = ["EMP-[0-9]{6}"];
    let browser = Detector::<BrowserRegex>::new(&ids).expect("Chromium compiles every pattern");
    let reference = Detector::<regex_lite::Regex>::new(&ids).expect("regex-lite compiles every pattern");
    let mut seen_kinds = std::collections::BTreeSet::new();
    let mut check = |text: &str| {
        // The widget detects on normalised text, as it will be sent.
        let text = normalise(text, 2_000);
        let expected = findings(&reference, &text);
        assert_eq!(findings(&browser, &text), expected, "{text:?}");
        seen_kinds.extend(expected.iter().map(|(kind, _)| format!("{kind:?}")));
    };
    for sample in DETECTION_SAMPLES {
        check(sample);
    }
    // Random texts from the pieces the patterns are made of, fixed seed.
    const PIECES: &[&str] = &[
        "a",
        "Z",
        "é",
        "😀",
        "0",
        "7",
        "42",
        " ",
        " ",
        "\n",
        ".",
        ",",
        "-",
        "--",
        "~",
        "@",
        "_",
        "+",
        "(",
        ")",
        "/",
        ":",
        "?",
        "!",
        "http://",
        "https://",
        "www.",
        ".com",
        ".corp",
        "Thanks",
        "best regards",
        "Cheers",
        "Anna",
        "J.",
        "EMP-",
        "123456",
        "ann@",
        "x.io",
    ];
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3_000 {
        let len = 1 + next() % 24;
        let text: String = (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
        check(&text);
    }
    assert_eq!(seen_kinds.len(), 6, "every kind was exercised: {seen_kinds:?}");
}

#[wasm_bindgen_test]
fn a_pattern_the_browser_cannot_read_is_an_error_not_a_crash() {
    assert!(Detector::<BrowserRegex>::new(&["(unclosed"]).is_err());
}
