//! The wallet, in the Candor origin's local storage: for each round the author key,
//! the nonce salt and the token obtained on page load; the receipts of what was sent;
//! and the queue of what is waiting to be sent. Closing the tab loses none of it.

use candor_protocol::b64;
use candor_protocol::domain::RoundId;
use candor_protocol::keys::{AuthorKey, ReceiptPublicKey};
use candor_protocol::receipt::SignedReceipt;
use candor_protocol::submission::{ItemHash, NonceSalt};
use candor_protocol::token::Token;
use serde::{Deserialize, Serialize};

const KEY: &str = "candor.wallet.v1";

/// What the widget keeps for one round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoundEntry {
    /// The round.
    pub round: RoundId,
    /// The author key's seed, base64url.
    pub author_seed: String,
    /// The nonce salt.
    pub salt: NonceSalt,
    /// The token, base64url; None until issuance succeeded.
    pub token: Option<String>,
    /// Whether the token has been put into a submission.
    pub used: bool,
}

impl RoundEntry {
    /// The author key.
    pub fn author(&self) -> Option<AuthorKey> {
        let seed: [u8; 32] = b64::decode(&self.author_seed).ok()?.try_into().ok()?;
        Some(AuthorKey::from_seed(&seed))
    }

    /// The token.
    pub fn token(&self) -> Option<Token> {
        Token::parse(&b64::decode(self.token.as_deref()?).ok()?).ok()
    }
}

/// A submission waiting in the queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    /// The round.
    pub round: RoundId,
    /// The JSON body.
    pub body: String,
    /// The `Authorization` header value.
    pub authorization: String,
    /// When to send it, in milliseconds since the epoch. (Wallets written before this
    /// was a whole number hold a float: both read, so nothing queued is lost.)
    #[serde(deserialize_with = "whole_milliseconds")]
    pub send_after_ms: u64,
    /// The receipt key of the round, to verify the answer.
    pub receipt_key: ReceiptPublicKey,
    /// The item hash the receipt must name.
    pub item: ItemHash,
}

fn whole_milliseconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    // Read as a number of either kind: milliseconds since the epoch are exact in an f64.
    let value = f64::deserialize(deserializer)?;
    if value.is_finite() && value >= 0.0 {
        Ok(value as u64)
    } else {
        Err(serde::de::Error::custom("not a time"))
    }
}

/// Everything stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Wallet {
    /// Per round.
    pub rounds: Vec<RoundEntry>,
    /// Waiting to be sent.
    pub queue: Vec<Queued>,
    /// Receipts of delivered items.
    pub receipts: Vec<SignedReceipt>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl Wallet {
    /// Reads the wallet (empty if none or unreadable).
    pub fn load() -> Self {
        storage()
            .and_then(|storage| storage.get_item(KEY).ok().flatten())
            // from_slice, as everywhere in the widget: one JSON reader, not two, in the wasm.
            .and_then(|text| serde_json::from_slice(text.as_bytes()).ok())
            .unwrap_or_default()
    }

    /// Writes the wallet.
    pub fn save(&self) -> Result<(), String> {
        let text = serde_json::to_string(self).map_err(|_| "the wallet could not be encoded".to_owned())?;
        storage()
            .ok_or("this browser does not allow Candor to keep anything")?
            .set_item(KEY, &text)
            .map_err(|_| "this browser refused to store the wallet".to_owned())
    }

    /// The entry for a round.
    pub fn round(&self, round: RoundId) -> Option<&RoundEntry> {
        self.rounds.iter().find(|entry| entry.round == round)
    }

    /// The entry for a round, mutable.
    pub fn round_mut(&mut self, round: RoundId) -> Option<&mut RoundEntry> {
        self.rounds.iter_mut().find(|entry| entry.round == round)
    }
}
