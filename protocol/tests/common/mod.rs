//! Helpers the vector tests share: hex, the vector files, and a replaying RNG.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;

use rand_core::{TryCryptoRng, TryRng};

pub fn hex(text: &str) -> Vec<u8> {
    let text = text.trim_start_matches("0x");
    assert!(text.len().is_multiple_of(2), "odd-length hex");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit")).collect()
}

pub fn load<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vector file")).expect("vector JSON")
}

/// An RNG that hands out the vector's values in order, one per request, and fails the
/// test if the code asks for anything else.
pub struct ReplayRng(pub VecDeque<Vec<u8>>);

impl TryRng for ReplayRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        panic!("the vector replay expects byte requests only")
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        panic!("the vector replay expects byte requests only")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let next = self.0.pop_front().expect("the code asked for more randomness than the vector has");
        assert_eq!(next.len(), dst.len(), "randomness requested in an unexpected size");
        dst.copy_from_slice(&next);
        Ok(())
    }
}
impl TryCryptoRng for ReplayRng {}

/// One RFC 9578 type-2 vector, as its JSON names the fields.
#[derive(serde::Deserialize)]
pub struct Type2 {
    #[serde(rename = "skS")]
    pub sk_s: String,
    #[serde(rename = "pkS")]
    pub pk_s: String,
    pub token_challenge: String,
    pub nonce: String,
    pub blind: String,
    pub salt: String,
    pub token_request: String,
    pub token_response: String,
    pub token: String,
}

/// The example round of docs/PROTOCOL.md: acme/eng, one team, an eNPS and a text
/// question, open 2026-11-02 to 2026-11-27 in UTC.
pub fn example_manifest(
    token_key_id: candor_protocol::token::TokenKeyId,
    receipt_key: candor_protocol::keys::ReceiptPublicKey,
) -> candor_protocol::manifest::RoundManifest {
    use candor_protocol::domain::{Day, QuestionId, RoundId, Scope};
    use candor_protocol::manifest::{Question, QuestionKind, RatingScale, Release, RoundManifest, Team};
    RoundManifest {
        round: RoundId::parse("0123456789abcdef0123456789abcdef").expect("id"),
        scope: Scope::parse("acme/eng").expect("scope"),
        teams: vec![Team { scope: Scope::parse("acme/eng").expect("scope"), token_key_id }],
        questions: vec![
            Question {
                id: QuestionId::parse("enps").expect("id"),
                prompt: "How likely are you to recommend working here?".into(),
                kind: QuestionKind::Rating { scale: RatingScale::Enps },
            },
            Question {
                id: QuestionId::parse("text").expect("id"),
                prompt: "What should your leader hear?".into(),
                kind: QuestionKind::Text { max_chars: 2000 },
            },
        ],
        opens: Day::parse("2026-11-02").expect("day"),
        closes: Day::parse("2026-11-27").expect("day"),
        time_zone: "UTC".into(),
        opens_at: Day::parse("2026-11-02").expect("day").utc_midnight(),
        closes_at: Day::parse("2026-11-28").expect("day").utc_midnight(),
        threshold: 5,
        tokens_per_person: 1,
        release: Release::AtClose,
        send_delay_minutes: 30,
        issuer_name: "candor.acme.example".into(),
        origin: "candor.acme.example".into(),
        receipt_key,
        id_patterns: vec!["EMP-[0-9]{6}".into()],
        keep_on_device_days: 30,
    }
}
