//! Property tests: normalisation's guarantees, and parsers that never panic.

use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
use candor_protocol::http_auth;
use candor_protocol::manifest::SignedManifest;
use candor_protocol::scrub::{self, is_invisible};
use candor_protocol::submission::Submission;
use candor_protocol::token::{
    IssuerKey, Nonce, TOKEN_LEN, Token, TokenChallenge, TokenKey, TokenRequest, TokenResponse,
};
use proptest::prelude::*;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory as _};

/// One token, issued once for every case (RSA key generation is slow).
fn genuine_token() -> &'static (TokenKey, TokenChallenge, Token) {
    static TOKEN: std::sync::OnceLock<(TokenKey, TokenChallenge, Token)> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        use rand::SeedableRng as _;
        let mut rng = rand::rngs::StdRng::seed_from_u64(354);
        let issuer = IssuerKey::generate(&mut rng).expect("key");
        let challenge = TokenChallenge::new("candor.example", Some([7; 32]), "candor.example");
        let (request, pending) =
            TokenRequest::blind(&mut rng, issuer.token_key(), &challenge, Nonce([9; 32])).expect("blind");
        let token = pending.finalize(&issuer.blind_sign(&request).expect("sign")).expect("finalize");
        token.verify(issuer.token_key(), &challenge).expect("the genuine token verifies");
        (issuer.token_key().clone(), challenge, token)
    })
}

/// Text that leans on the characters normalisation exists for.
/// Short strings over the characters whose place decides tidiness — spaces, newlines
/// and what normalisation turns into them, combining marks, curly quotes — so that
/// every rule of the one-pass check is met at the edges.
const EDGE_CHARACTERS: [char; 10] =
    ['a', ' ', '\n', '\t', '\r', '\u{00A0}', 'e', '\u{0301}', '\u{201C}', '`'];

fn few_characters() -> impl Strategy<Value = String> {
    let alphabet = prop::sample::select(vec![
        'a', ' ', '\n', '\n', '\t', '\r', '\u{00A0}', 'e', '\u{0301}', '\u{201C}', '`',
    ]);
    prop::collection::vec(alphabet, 0..12).prop_map(|chars| chars.into_iter().collect())
}

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

    /// The one-pass check never says yes to text that normalisation would change, on raw
    /// messy text and on what normalisation made of it (where it should mostly say yes),
    /// so `is_normalised` is exactly "normalising it again changes nothing".
    #[test]
    fn the_quick_normalisation_check_is_never_wrong(
        text in prop_oneof![messy_text(), few_characters()],
        bound in 1usize..300,
    ) {
        let once = scrub::normalise_bounded(&text, bound);
        for candidate in [&text, &once] {
            if scrub::plainly_normalised(candidate, bound) {
                prop_assert_eq!(&scrub::normalise_bounded(candidate, bound), candidate);
            }
            prop_assert_eq!(scrub::is_normalised(candidate), &scrub::normalise(candidate) == candidate);
        }
        // Tidy text with one character put in anywhere: the edges of every rule.
        if once.chars().count() <= 16 {
            let places: Vec<usize> = once.char_indices().map(|(at, _)| at).chain([once.len()]).collect();
            for at in places {
                for c in EDGE_CHARACTERS {
                    let changed = format!("{}{c}{}", &once[..at], &once[at..]);
                    if scrub::plainly_normalised(&changed, bound) {
                        prop_assert_eq!(scrub::normalise_bounded(&changed, bound), changed);
                    }
                }
            }
        }
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
    fn every_one_byte_change_to_a_token_is_refused(position in 0usize..TOKEN_LEN, flip in 1u8..=255) {
        // A genuine token with one byte changed: a changed type fails to parse; any
        // other change parses (the framing is fixed), keeps exactly those bytes, and
        // fails verification, whichever field it hit.
        let (key, challenge, token) = genuine_token();
        let mut bytes = token.to_bytes();
        bytes[position] ^= flip;
        match Token::parse(&bytes) {
            Err(_) => prop_assert!(position < 2, "byte {} refused by the parser", position),
            Ok(mutated) => {
                prop_assert!(position >= 2, "a changed token type parsed");
                prop_assert_eq!(mutated.to_bytes(), bytes);
                prop_assert!(mutated.verify(key, challenge).is_err(), "byte {} changed and it still verifies", position);
            }
        }
    }

}
