//! Property tests: normalisation's guarantees, and parsers that never panic.

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::http_auth;
use candor_protocol::manifest::SignedManifest;
use candor_protocol::scrub::{self, is_invisible};
use candor_protocol::submission::Submission;
use candor_protocol::token::{Token, TokenChallenge, TokenKey, TokenRequest, TokenResponse};
use proptest::prelude::*;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// Text that leans on the characters normalisation exists for.
fn messy_text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\u{200B}',
        '\u{200C}',
        '\u{200D}',
        '\u{2060}',
        '\u{FEFF}',
        '\u{202A}',
        '\u{202E}',
        '\u{2066}',
        '\u{E0041}',
        '\u{E007F}',
        '\u{FE0F}',
        '\u{E0100}',
        '\u{00A0}',
        '\u{2003}',
        '\u{3000}',
        '\u{2018}',
        '\u{201D}',
        '\u{2014}',
        '\u{2026}',
        '\u{FB01}',
        '\u{FF21}',
        '\u{0301}',
        '\u{0316}',
        '\u{1100}',
        '\u{1161}',
        '\u{11A8}',
        '\r',
        '\n',
        '\t',
        ' ',
        '\u{0007}',
        '\u{2028}',
        '\u{FDFA}',
        '\u{E000}',
        'e',
        'A',
        '.',
        '-',
        '\'',
    ]);
    prop::collection::vec(prop_oneof![3 => special, 2 => any::<char>()], 0..200)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn normalise_is_idempotent(text in messy_text(), bound in 1usize..300) {
        let once = scrub::normalise_bounded(&text, bound);
        prop_assert_eq!(scrub::normalise_bounded(&once, bound), once.clone());
        prop_assert_eq!(scrub::normalise(&once), once);
    }

    #[test]
    fn normalise_leaves_no_invisible_characters(text in messy_text()) {
        let out = scrub::normalise(&text);
        for c in out.chars() {
            prop_assert!(!is_invisible(c), "{:?} left in {:?}", c, out);
            prop_assert!(c == '\n' || !matches!(c.general_category(), GeneralCategory::Control | GeneralCategory::Format));
            prop_assert!(c != '\t' && c != '\r');
        }
        prop_assert!(!out.contains("  "));
        prop_assert!(!out.contains("\n\n\n"));
        prop_assert_eq!(out.trim(), out.as_str());
    }

    #[test]
    fn normalise_respects_the_bound(text in any::<String>(), bound in 0usize..50) {
        prop_assert!(scrub::normalise_bounded(&text, bound).chars().count() <= bound);
    }

    #[test]
    fn detect_and_redact_never_panic(text in messy_text()) {
        let text = scrub::normalise(&text);
        let findings = scrub::detect(&text);
        for finding in &findings {
            prop_assert!(text.get(finding.span.clone()).is_some());
        }
        let redacted = scrub::redact(&text, &findings);
        prop_assert!(scrub::detect(&redacted).len() <= findings.len());
    }

    #[test]
    fn wire_parsers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = TokenChallenge::parse(&bytes);
        let _ = TokenRequest::parse(&bytes);
        let _ = TokenResponse::parse(&bytes);
        let _ = Token::parse(&bytes);
        let _ = TokenKey::from_spki(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = http_auth::parse_authorization(&text);
        let _ = http_auth::WwwAuthenticate::parse(&text);
        let _ = serde_json::from_slice::<SignedManifest>(&bytes);
        let _ = serde_json::from_slice::<Submission>(&bytes);
    }

    #[test]
    fn text_parsers_never_panic(text in any::<String>()) {
        let _ = Scope::parse(&text);
        let _ = RoundId::parse(&text);
        let _ = Day::parse(&text);
        let _ = QuestionId::parse(&text);
        let _ = http_auth::parse_authorization(&text);
        let _ = http_auth::parse_authorization(&format!("PrivateToken {text}"));
    }

    #[test]
    fn tokens_survive_every_byte_mutation(position in 0usize..354, flip in 1u8..=255) {
        // Any one-byte change to a valid token's framing parses or fails cleanly.
        let mut bytes = vec![0u8; 354];
        bytes[1] = 2;
        bytes[position] ^= flip;
        let _ = Token::parse(&bytes);
    }
}
