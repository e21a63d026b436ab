//! Storage behind one trait, [`Store`]. The trait says *what* each operation promises;
//! each backend says *how*. SQLite is the embedded default; the backend is chosen by
//! the database URL's scheme ([`DatabaseUrl`]). Every backend must pass the contract
//! suite in `server/tests/store.rs`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use candor_protocol::domain::{Day, RoundId, Scope};
use candor_protocol::keys::Signature;
use candor_protocol::manifest::{RoundManifest, SignedManifest};
use candor_protocol::submission::{Answer, ItemHash};
use candor_protocol::token::TokenKey;

pub mod postgres;
pub mod sqlite;

/// What both backends do with the values they read back: parse and check them.
mod decode;

/// A storage failure. Its detail is logged, never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value no longer parses.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Another connection kept the database busy; try again.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// A live token key already has this truncated key id (a token request names its
    /// key by that one byte).
    #[error("a live token key already has truncated key id {0}")]
    TruncatedKeyIdTaken(u8),
    /// No such round, or not in the state the operation needs.
    #[error("{0}")]
    Round(String),
    /// The commit that held this write failed (or the committer is gone): nothing of it
    /// was stored.
    #[error("the commit failed: {0}")]
    Commit(String),
    /// The database files could not be made private.
    #[error("{0}: {1}")]
    Files(PathBuf, std::io::Error),
}

/// Where the data lives: `sqlite://PATH` (relative paths are the configuration file's
/// folder's; `sqlite::memory:` for throwaway tests), or `postgres://USER@HOST/DB` (any
/// URL libpq takes; `postgresql://` too).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct DatabaseUrl(String);

/// A URL that names no backend this build has.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
pub struct UnsupportedDatabase(pub String);

impl DatabaseUrl {
    /// Parses a URL whose scheme names a backend.
    pub fn parse(url: &str) -> Result<Self, UnsupportedDatabase> {
        let postgres = ["postgres://", "postgresql://"]
            .iter()
            .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len());
        if (url.starts_with("sqlite:") && url.len() > "sqlite:".len()) || postgres {
            Ok(Self(url.to_owned()))
        } else {
            Err(UnsupportedDatabase(url.to_owned()))
        }
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it names a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    /// The SQLite file, if this is a file URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.0.strip_prefix("sqlite://").or_else(|| self.0.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next()?;
        (!path.is_empty() && !path.starts_with(':')).then(|| PathBuf::from(path))
    }

    /// The same URL with a relative file path taken from `base`.
    pub fn relative_to(self, base: &Path) -> Self {
        match self.sqlite_path() {
            Some(path) if path.is_relative() => Self(format!("sqlite://{}", base.join(path).display())),
            _ => self,
        }
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = UnsupportedDatabase;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

hash_newtype!(
    /// HMAC(server secret, subject): the only trace of who was issued a token.
    SubjectHmac
);
hash_newtype!(
    /// SHA-256 of a redeemed token: what marks it spent.
    SpendId
);
hash_newtype!(
    /// SHA-256 of a sign-in link's or session's secret.
    SecretHash
);

/// A team's token private key, sealed with a key derived from the server secret
/// (XChaCha20-Poly1305, bound to its round and team): what the store holds.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedKey(pub Vec<u8>);

impl std::fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedKey(..)")
    }
}

/// A team's token key as stored: the public key always, the sealed private key until
/// the round is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamKey {
    /// The team.
    pub scope: Scope,
    /// Its public token key.
    pub token_key: TokenKey,
    /// Its sealed private key; `None` once destroyed.
    pub sealed: Option<SealedKey>,
}

/// Where a round is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    /// Its keys exist and its manifest waits for the organisation's signature.
    Prepared,
    /// Signed; open between its instants.
    Signed,
    /// Released to leaders: its token private keys are destroyed. `erased` says
    /// whether the storage has since been rewritten so that nothing physical keeps the
    /// order in which its rows arrived.
    Released {
        /// Whether the arrival order has been erased from the files.
        erased: bool,
    },
}

/// A round as stored.
#[derive(Debug, Clone)]
pub struct RoundRecord {
    /// The manifest.
    pub manifest: RoundManifest,
    /// The organisation's signature, once imported.
    pub signature: Option<Signature>,
    /// The teams' keys, in the manifest's team order.
    pub keys: Vec<TeamKey>,
    /// Its state.
    pub state: RoundState,
}

impl RoundRecord {
    /// The round id.
    pub fn id(&self) -> RoundId {
        self.manifest.round
    }

    /// The signed manifest, if it is signed.
    pub fn signed(&self) -> Option<SignedManifest> {
        self.signature.map(|signature| SignedManifest { manifest: self.manifest.clone(), signature })
    }

    /// Whether it has been released.
    pub fn released(&self) -> bool {
        matches!(self.state, RoundState::Released { .. })
    }
}

/// An item to store. It carries no time at all.
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
    /// The encoded Privacy Pass token it was redeemed with, for the round's ledger.
    pub token: Vec<u8>,
}

/// A released item, for the digest.
#[derive(Debug, Clone)]
pub struct ItemRecord {
    /// The team scope.
    pub scope: Scope,
    /// The answers.
    pub answers: Vec<Answer>,
}

/// A released item as the round's ledger lists it.
#[derive(Debug, Clone)]
pub struct LedgerItem {
    /// Its hash.
    pub item_hash: ItemHash,
    /// Its team.
    pub scope: Scope,
    /// The encoded token it was redeemed with; none for an item stored before tokens
    /// were kept (schema version 4 on SQLite, 2 on PostgreSQL).
    pub token: Option<Vec<u8>>,
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
    /// The round has been released (or does not exist): nothing changed.
    RoundClosed,
}

/// What a quota reservation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// One more token counted, durably: the server may sign one.
    Reserved,
    /// The person has had all the round's tokens: nothing changed.
    QuotaUsed,
    /// The round is released, unsigned or unknown: nothing changed.
    RoundClosed,
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

/// Everything Candor stores, and what each operation promises. Nothing here takes or
/// keeps a time finer than a day, an address or anything else about a request.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Stores a prepared round: its manifest (unsigned) and its teams' keys. Fails with
    /// [`StoreError::TruncatedKeyIdTaken`] if a live key (one whose private key still
    /// exists, of any round) has the same truncated key id as one of these, and then
    /// stores nothing.
    async fn prepare_round(&self, manifest: &RoundManifest, keys: &[TeamKey]) -> Result<(), StoreError>;
    /// Adds the organisation's signature to a prepared round: the manifest must be
    /// exactly the prepared one.
    async fn import_signature(&self, signed: &SignedManifest) -> Result<(), StoreError>;
    /// Every round, with its keys, oldest first.
    async fn rounds(&self) -> Result<Vec<RoundRecord>, StoreError>;
    /// A number that changes whenever any round is created, signed, released, erased or
    /// removed, by any process using the database: what a cache of [`Store::rounds`]
    /// checks to stay current.
    async fn rounds_generation(&self) -> Result<u64, StoreError>;
    /// One round.
    async fn round(&self, id: RoundId) -> Result<Option<RoundRecord>, StoreError>;
    /// The truncated key ids of every live key.
    async fn live_truncated_key_ids(&self) -> Result<Vec<u8>, StoreError>;
    /// Releases a signed round: in one transaction gives its items one uniform random
    /// order (drawn now, kept nowhere), makes them visible and destroys its token
    /// private keys; then [erases the arrival order](Store::finish_erasure). Returns
    /// false if it was already released. If the release commits but the erasure cannot
    /// finish, the error is returned and the round stays `Released { erased: false }`
    /// until a later [`finish_erasure`](Store::finish_erasure) succeeds.
    async fn release_round(&self, id: RoundId) -> Result<bool, StoreError>;
    /// Finishes every pending erasure: afterwards nothing physical (journal frames,
    /// page allocation, freed pages) keeps the order in which rows were written, and
    /// every released round is `erased`. Returns how many rounds it finished.
    async fn finish_erasure(&self) -> Result<usize, StoreError>;
    /// Counts one more token for (round, subject) if fewer than `limit` were issued and
    /// the round is signed and not released, atomically, and durably before it returns.
    /// The store is the judge of whether the round is open: a server's cache of rounds
    /// may be behind a release made by another server or the CLI.
    async fn reserve_quota(
        &self,
        round: RoundId,
        subject: &SubjectHmac,
        limit: u32,
    ) -> Result<Reservation, StoreError>;
    /// Gives back one reserved token (signing failed after the reservation).
    async fn release_quota(&self, round: RoundId, subject: &SubjectHmac) -> Result<(), StoreError>;
    /// In one transaction: marks the token spent and stores the item, unless the round
    /// is released. Returns only after the commit is durable. A token already spent on
    /// this same item is [`Redemption::AlreadyStored`], on another
    /// [`Redemption::AlreadySpent`].
    async fn redeem(&self, spend: &SpendId, item: &NewItem) -> Result<Redemption, StoreError>;
    /// The released items of a round, in their release order.
    async fn released_items(&self, round: RoundId) -> Result<Vec<ItemRecord>, StoreError>;
    /// The released items of a round as its ledger lists them, in their release order.
    async fn ledger_items(&self, round: RoundId) -> Result<Vec<LedgerItem>, StoreError>;
    /// Figures for a round.
    async fn counts(&self, round: RoundId) -> Result<RoundCounts, StoreError>;
    /// Adds a leader with a one-time sign-in link (stored as its hash).
    async fn add_leader(
        &self,
        leader: &Leader,
        link: &SecretHash,
        today: Day,
        link_expires: Day,
    ) -> Result<(), StoreError>;
    /// Every leader, with their count of live sessions.
    async fn leaders(&self) -> Result<Vec<(Leader, u64)>, StoreError>;
    /// Gives a leader a new one-time link (the old ones stay until used or expired).
    async fn add_link(
        &self,
        leader_id: &str,
        link: &SecretHash,
        link_expires: Day,
    ) -> Result<bool, StoreError>;
    /// Removes a leader, their links and sessions. Returns whether they existed.
    async fn remove_leader(&self, leader_id: &str) -> Result<bool, StoreError>;
    /// Ends every session of a leader. Returns how many.
    async fn revoke_sessions(&self, leader_id: &str) -> Result<u64, StoreError>;
    /// Uses up a sign-in link (unknown, used or expired before `today`: None) and
    /// opens a session until `session_expires`.
    async fn sign_in(
        &self,
        link: &SecretHash,
        session: &SecretHash,
        today: Day,
        session_expires: Day,
    ) -> Result<Option<Leader>, StoreError>;
    /// The leader of a session live on `today`.
    async fn session(&self, session: &SecretHash, today: Day) -> Result<Option<Leader>, StoreError>;
    /// Ends a session.
    async fn sign_out(&self, session: &SecretHash) -> Result<(), StoreError>;
    /// Deletes links and sessions that expired before `today`. Returns how many rows.
    async fn purge_expired(&self, today: Day) -> Result<u64, StoreError>;
}

/// Opens the store a URL names, creating and migrating it as needed (a PostgreSQL
/// database must exist; its tables are created).
pub async fn open(url: &DatabaseUrl) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    if url.is_postgres() {
        Ok(std::sync::Arc::new(postgres::PostgresStore::open(url).await?))
    } else {
        Ok(std::sync::Arc::new(sqlite::SqliteStore::open(url).await?))
    }
}
