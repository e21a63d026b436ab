//! The wallet, in the Candor origin's local storage, and its only owner. It keeps, per
//! person and round, only what later steps need, and only as long as they need it:
//!
//! * the author key (the item's pseudonym, for replies) and, once delivered, the
//!   receipt — until `keep_on_device_days` after the round closes;
//! * the nonce salt and the token — until the token is spent;
//! * the queued submission, plaintext — until it is delivered or the person discards it.
//!
//! Entries are bound to a keyed hash of the assertion's subject (HMAC-SHA256 under a
//! random key of this browser's), never the subject itself: on a shared machine the next
//! person is never shown, and never spends, what the first left. Someone who controls
//! the browser profile can read all of it; THREAT-MODEL.md says what remains.

use candor_protocol::api::ErrorCode;
use candor_protocol::b64;
use candor_protocol::domain::RoundId;
use candor_protocol::keys::{AuthorKey, ReceiptPublicKey};
use candor_protocol::receipt::SignedReceipt;
use candor_protocol::submission::{ItemHash, NonceSalt};
use candor_protocol::token::Token;
use serde::{Deserialize, Serialize};

const KEY: &str = "candor.wallet.v2";
/// The wallet before issue 9: bound to no one, so nothing in it can be given to anyone.
const UNBOUND: &str = "candor.wallet.v1";
const DEVICE_KEY: &str = "candor.device.v1";

/// A keyed hash of the assertion's subject: which person of this browser an entry is.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person(String);

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Person(…)")
    }
}

impl Person {
    /// The tag of `subject` in this browser. None if the browser keeps nothing.
    pub fn of(subject: &str) -> Option<Self> {
        use hmac::{KeyInit as _, Mac as _};
        let storage = storage()?;
        let key = match storage.get_item(DEVICE_KEY).ok().flatten().and_then(|k| b64::decode(&k).ok()) {
            Some(key) if key.len() == 32 => key,
            _ => {
                let mut key = vec![0; 32];
                rand::Rng::fill_bytes(&mut super::browser::rng(), &mut key);
                storage.set_item(DEVICE_KEY, &b64::encode(&key)).ok()?;
                key
            }
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
        mac.update(b"candor/wallet-subject/v1");
        mac.update(subject.as_bytes());
        Some(Self(b64::encode(&mac.finalize().into_bytes()[..16])))
    }
}

/// A submission waiting to be sent.
#[derive(Clone, Serialize, Deserialize)]
pub struct Pending {
    /// The signed submission, JSON: the body to POST.
    pub body: String,
    /// The item hash the receipt must name.
    pub item: ItemHash,
    /// The round's receipt key, to verify the answer.
    pub receipt_key: ReceiptPublicKey,
    /// The last moment it is sent without being asked (ms since the epoch).
    pub deadline_ms: u64,
    /// When the round closes (Unix seconds): nothing is accepted after.
    pub closes_at: u64,
    /// The round's mean send delay, in minutes of open pages.
    pub delay_minutes: u32,
    /// What the server said when it last refused it.
    pub refused: Option<ErrorCode>,
}

impl std::fmt::Debug for Pending {
    // The feedback never prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("item", &self.item)
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

/// What the widget keeps for one person and round.
#[derive(Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Whose.
    pub person: Person,
    /// The round.
    pub round: RoundId,
    /// When the entry goes (Unix seconds): `keep_on_device_days` after the close.
    pub expires: u64,
    /// The author key's seed, base64url.
    pub author_seed: String,
    /// The nonce salt, until the token is spent.
    pub salt: Option<NonceSalt>,
    /// The token, base64url, until it is spent.
    pub token: Option<String>,
    /// The queued submission, until delivered or discarded.
    pub pending: Option<Pending>,
    /// The receipt of the delivered item.
    pub receipt: Option<SignedReceipt>,
}

impl std::fmt::Debug for Entry {
    // Keys, tokens and feedback never print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("round", &self.round)
            .field("token", &self.token.is_some())
            .field("pending", &self.pending.is_some())
            .field("receipt", &self.receipt.is_some())
            .finish_non_exhaustive()
    }
}

impl Entry {
    /// The author key.
    pub fn author(&self) -> Option<AuthorKey> {
        let seed: [u8; 32] = b64::decode(&self.author_seed).ok()?.try_into().ok()?;
        Some(AuthorKey::from_seed(&seed))
    }

    /// The token.
    pub fn token(&self) -> Option<Token> {
        Token::parse(&b64::decode(self.token.as_deref()?).ok()?).ok()
    }

    /// Delivered: the receipt stays, the token, salt and plaintext go.
    pub fn delivered(&mut self, receipt: SignedReceipt) {
        self.receipt = Some(receipt);
        self.pending = None;
        self.token = None;
        self.salt = None;
    }
}

/// Everything stored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Wallet {
    /// Per person and round.
    pub entries: Vec<Entry>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl Wallet {
    /// Reads the wallet (empty if none or unreadable), dropping every entry whose time
    /// has passed, and the unbound wallet of older widgets.
    pub fn load(now_seconds: u64) -> Self {
        let Some(storage) = storage() else { return Self::default() };
        let _ = storage.remove_item(UNBOUND);
        let mut wallet: Self = storage
            .get_item(KEY)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_slice(text.as_bytes()).ok())
            .unwrap_or_default();
        let before = wallet.entries.len();
        wallet.entries.retain(|entry| entry.expires > now_seconds);
        if wallet.entries.len() != before {
            let _ = wallet.save();
        }
        wallet
    }

    /// Writes the wallet.
    pub fn save(&self) -> Result<(), crate::state::Reason> {
        let text = serde_json::to_string(self).map_err(|_| crate::state::Reason::Browser)?;
        storage().and_then(|storage| storage.set_item(KEY, &text).ok()).ok_or(crate::state::Reason::Browser)
    }

    /// A person's entry for a round.
    pub fn entry(&self, person: &Person, round: RoundId) -> Option<&Entry> {
        self.entries.iter().find(|entry| &entry.person == person && entry.round == round)
    }

    /// The same, mutable.
    pub fn entry_mut(&mut self, person: &Person, round: RoundId) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|entry| &entry.person == person && entry.round == round)
    }

    /// A person's entries with something queued.
    pub fn pending_of<'a>(&'a self, person: &'a Person) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |entry| &entry.person == person && entry.pending.is_some())
    }
}
