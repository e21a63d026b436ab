//! Storage behind one trait. SQLite is the embedded default; the backend is chosen by
//! the database URL's scheme.

use async_trait::async_trait;
use candor_protocol::domain::{Day, RoundId, Scope};
use candor_protocol::manifest::SignedManifest;
use candor_protocol::submission::{Answer, ItemHash};

pub mod sqlite;

/// A storage failure. Its detail is logged, never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value no longer parses.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The URL names no supported backend.
    #[error("unsupported database URL `{0}`: use sqlite://PATH")]
    Unsupported(String),
    /// Another connection kept the database busy; try again.
    #[error("the database is busy: {0}")]
    Busy(String),
}

/// A round as stored.
#[derive(Debug, Clone)]
pub struct RoundRecord {
    /// The signed manifest.
    pub manifest: SignedManifest,
    /// The issuer keys of the round's teams, PKCS#8 PEM, in the manifest's team order.
    pub token_keys_pem: Vec<zeroize::Zeroizing<String>>,
    /// Whether it has been released to leaders.
    pub released: bool,
}

impl RoundRecord {
    /// The round id.
    pub fn id(&self) -> RoundId {
        self.manifest.manifest.round
    }
}

/// An item to store.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Its hash (the receipt names it).
    pub item_hash: ItemHash,
    /// The round.
    pub round: RoundId,
    /// The team: the team of the token key the item's token was issued under.
    pub scope: Scope,
    /// The answers.
    pub answers: Vec<Answer>,
    /// The author's public key (the item's pseudonym, for replies).
    pub author_key: [u8; 32],
    /// The day it arrived.
    pub received_day: Day,
}

/// A released item, for the digest.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    /// The team scope.
    pub scope: Scope,
    /// The answers.
    pub answers: Vec<Answer>,
    /// The day it arrived.
    pub received_day: Day,
}

/// What a redemption did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redemption {
    /// Token marked spent and item stored, durably.
    Stored,
    /// This very item was stored before with this token (a retry whose answer was
    /// lost); nothing changed.
    AlreadyStored,
    /// The token was already spent on another item; nothing changed.
    AlreadySpent,
}

/// A leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// Their id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// The scope they lead.
    pub scope: Scope,
}

/// Per-round figures for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundCounts {
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Items received.
    pub items: u64,
}

/// Everything Candor stores.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Stores a new round.
    async fn create_round(&self, round: &RoundRecord) -> Result<(), StoreError>;
    /// Every round.
    async fn rounds(&self) -> Result<Vec<RoundRecord>, StoreError>;
    /// One round.
    async fn round(&self, id: RoundId) -> Result<Option<RoundRecord>, StoreError>;
    /// Releases a round: gives its items a fresh random order and makes them visible,
    /// then [erases the arrival order](Store::erase_arrival_order) from the files.
    /// Returns false if it was already released or does not exist. If the release is
    /// committed but the erasure fails, the error is returned; calling this again (or
    /// `erase_arrival_order`) finishes it.
    async fn release_round(&self, id: RoundId) -> Result<bool, StoreError>;
    /// Rewrites the storage so that nothing physical (journal frames, page allocation)
    /// keeps the order in which rows were written.
    async fn erase_arrival_order(&self) -> Result<(), StoreError>;
    /// Counts one more token for (round, subject HMAC) if fewer than `limit` were
    /// issued, atomically. Returns whether the token may be handed out.
    async fn take_quota(
        &self,
        round: RoundId,
        subject_hmac: &[u8; 32],
        limit: u32,
    ) -> Result<bool, StoreError>;
    /// In one transaction: marks the token spent and stores the item. Returns only
    /// after the commit is durable. A token already spent on this same item (same hash)
    /// is [`Redemption::AlreadyStored`], on any other [`Redemption::AlreadySpent`].
    async fn redeem(&self, token_hash: &[u8; 32], item: &NewItem) -> Result<Redemption, StoreError>;
    /// The released items of a round, in their shuffled order.
    async fn released_items(&self, round: RoundId) -> Result<Vec<ItemRecord>, StoreError>;
    /// Figures for a round.
    async fn counts(&self, round: RoundId) -> Result<RoundCounts, StoreError>;
    /// Adds a leader with a one-time sign-in link (stored as its hash).
    async fn add_leader(
        &self,
        leader: &Leader,
        link_hash: &[u8; 32],
        today: Day,
        link_expires: Day,
    ) -> Result<(), StoreError>;
    /// Uses up a sign-in link and opens a session. None if the link is unknown, used
    /// or expired.
    async fn sign_in(
        &self,
        link_hash: &[u8; 32],
        session_hash: &[u8; 32],
        today: Day,
        session_expires: Day,
    ) -> Result<Option<Leader>, StoreError>;
    /// The leader of a live session.
    async fn session(&self, session_hash: &[u8; 32], today: Day) -> Result<Option<Leader>, StoreError>;
    /// Ends a session.
    async fn sign_out(&self, session_hash: &[u8; 32]) -> Result<(), StoreError>;
}

/// Opens the store a URL names, creating and migrating it as needed.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    } else {
        Err(StoreError::Unsupported(url.to_owned()))
    }
}
