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
