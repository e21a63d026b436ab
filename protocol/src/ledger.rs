//! The ledger: what a released round published, signed with the receipt key, so that
//! nobody — leader or operator — can quietly drop or change an item.
//!
//! It commits to the manifest (its hash), the counts (tokens issued, items received), a
//! tombstone for every item a moderator hid, and an RFC 9162 Merkle tree (SHA-256,
//! `ct-merkle`) over one leaf per item in the round's release order. A leaf holds the
//! item hash, so every author can find the item their receipt names, and the item's
//! token, so anyone holding the round's keys can check that the item carries a valid
//! token and that no token is used twice.
//!
//! **What it shows of small teams.** Each team has its own token key, so a token says
//! its team, and the ledger goes to every employee of the round. A ledger that showed
//! every token would publish every team's item count, small teams' too, which the
//! digest hides by rolling their items up. So `leaves` list, with their tokens, only
//! the items of teams that have no team of the round below them and sent at least k
//! items of their own — decided by the manifest and the team's own count, never by how
//! other teams' items roll up (a parent's tokens shown or not would tell whether a
//! small team below it wrote). Every other item is in `withheld`, sealed: the token's
//! spend id, which still proves no token was used twice, not that it was valid. Their
//! number is padded with fillers (the servers' keyed hashes, the same on every server)
//! up to a multiple of k, at least k, and `tokens_issued` is published as at least
//! `items_listed` plus that number, so neither says anything finer than k items. The
//! round's exact total is not published.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::api::{OpenRound, RoundRefusal};
use crate::b64;
use crate::canonical::Canonical;
use crate::domain::RoundId;
use crate::keys::{OrganisationPublicKey, ReceiptKey, Signature};
use crate::submission::ItemHash;
use crate::token::Token;

/// 32 bytes the ledger commits to: the manifest's hash, the Merkle root, a spend id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// The bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// Reads exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, crate::keys::KeyError> {
        bytes.try_into().map(Self).map_err(|_| crate::keys::KeyError::Length { expected: 32 })
    }
}

impl std::fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest32({})", b64::encode(self.0))
    }
}

crate::b64::serde_as_base64!(Digest32, "32 bytes in base64url");

/// Why a moderator hid an item: a fixed list, so a reason says nothing of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum HideReason {
    /// It names or singles out a person.
    NamesAPerson,
    /// It harasses or threatens.
    Harassment,
    /// It is not feedback for this round.
    OffTopic,
}

impl HideReason {
    /// The reason as it travels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NamesAPerson => "names-a-person",
            Self::Harassment => "harassment",
            Self::OffTopic => "off-topic",
        }
    }
}

/// A hidden item: its hash and why. It still counts in the ledger's totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tombstone {
    /// The hidden item.
    pub item: ItemHash,
    /// Why.
    pub reason: HideReason,
}

/// What a leaf shows of the item's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafToken {
    /// The token itself: it can be checked against the round's keys.
    Shown(Box<Token>),
    /// Only the token's spend id: its team is rolled up in the round's digest.
    Sealed(Digest32),
}

impl LeafToken {
    /// The token's spend id, shown or sealed.
    pub fn spend_id(&self) -> Digest32 {
        match self {
            Self::Shown(token) => Digest32(token.spend_id()),
            Self::Sealed(spend_id) => *spend_id,
        }
    }
}

/// One item of the round: `{"item": …, "token": …}` or `{"item": …, "sealed": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The item's hash, as its receipt names it.
    pub item: ItemHash,
    /// Its token, or the token's spend id.
    pub token: LeafToken,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeafJson {
    item: ItemHash,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Digest32>,
}

impl Serialize for Leaf {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (token, sealed) = match &self.token {
            LeafToken::Shown(token) => (Some(b64::encode(token.to_bytes())), None),
            LeafToken::Sealed(spend_id) => (None, Some(*spend_id)),
        };
        LeafJson { item: self.item, token, sealed }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Leaf {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = LeafJson::deserialize(deserializer)?;
        let token = match (json.token, json.sealed) {
            (Some(token), None) => LeafToken::Shown(Box::new(
                b64::decode(&token)
                    .ok()
                    .and_then(|bytes| Token::parse(&bytes).ok())
                    .ok_or_else(|| serde::de::Error::custom("expected a token in base64url"))?,
            )),
            (None, Some(spend_id)) => LeafToken::Sealed(spend_id),
            _ => return Err(serde::de::Error::custom("a leaf holds a token or a sealed spend id")),
        };
        Ok(Self { item: json.item, token })
    }
}

impl Leaf {
    /// The leaf's bytes in the Merkle tree.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Canonical::new("candor/ledger-leaf/v1");
        out.bytes(&self.item.to_bytes());
        match &self.token {
            LeafToken::Shown(token) => out.tag(1).bytes(&token.to_bytes()),
            LeafToken::Sealed(spend_id) => out.tag(2).bytes(&spend_id.0),
        };
        out.finish()
    }
}

/// The RFC 9162 §2.1.1 Merkle tree hash, SHA-256, of a list of entries.
pub fn tree_hash(entries: impl IntoIterator<Item = Vec<u8>>) -> Digest32 {
    let mut tree = ct_merkle::mem_backed_tree::MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for entry in entries {
        tree.push(entry);
    }
    let mut root = [0; 32];
    root.copy_from_slice(tree.root().as_bytes().as_slice());
    Digest32(root)
}

/// A released round's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ledger {
    /// The round.
    pub round: RoundId,
    /// SHA-256 of the manifest's canonical bytes.
    pub manifest_hash: Digest32,
    /// Tokens the server issued for the round.
    pub tokens_issued: u64,
    /// How many items `leaves` lists.
    pub items_listed: u64,
    /// The Merkle root over the leaves.
    pub root: Digest32,
    /// Every item hidden by a moderator, in item-hash order.
    pub tombstones: Vec<Tombstone>,
    /// The listed items (see the module's documentation), in the round's release order.
    pub leaves: Vec<Leaf>,
    /// The sealed leaves of every other item, with fillers: a multiple of k of them, at
    /// least k, in item-hash order.
    pub withheld: Vec<Leaf>,
}

impl Ledger {
    /// Builds the ledger (the root from the leaves).
    pub fn new(
        round: &crate::manifest::RoundManifest,
        tokens_issued: u64,
        leaves: Vec<Leaf>,
        mut withheld: Vec<Leaf>,
        mut tombstones: Vec<Tombstone>,
    ) -> Self {
        tombstones.sort_by_key(|t| t.item.to_bytes());
        withheld.sort_by_key(|leaf| leaf.item.to_bytes());
        Self {
            round: round.round,
            manifest_hash: Digest32(round.hash()),
            tokens_issued,
            items_listed: u64::try_from(leaves.len()).unwrap_or(u64::MAX),
            root: Self::root_of(&leaves, &withheld),
            tombstones,
            leaves,
            withheld,
        }
    }

    /// The Merkle root over the leaves, then the withheld entries.
    pub fn root_of(leaves: &[Leaf], withheld: &[Leaf]) -> Digest32 {
        tree_hash(leaves.iter().chain(withheld).map(Leaf::canonical_bytes))
    }

    /// The bytes the receipt key signs: everything but the leaves, which the root holds.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Canonical::new("candor/ledger/v1");
        out.bytes(&self.round.to_bytes()).bytes(&self.manifest_hash.0);
        out.u64(self.tokens_issued).u64(self.items_listed).bytes(&self.root.0);
        out.u32(u32::try_from(self.withheld.len()).unwrap_or(u32::MAX));
        out.u32(u32::try_from(self.tombstones.len()).unwrap_or(u32::MAX));
        for tombstone in &self.tombstones {
            out.bytes(&tombstone.item.to_bytes()).str(tombstone.reason.as_str());
        }
        out.finish()
    }
}

/// What `GET /v1/rounds/{round}/ledger` serves and `candor ledger verify` reads: the
/// round as it was offered (the signed manifest and the teams' keys), the ledger, and
/// the receipt key's signature over it. Checking it needs only the organisation's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublishedLedger {
    /// The round's signed manifest and token keys.
    pub round: OpenRound,
    /// The ledger.
    pub ledger: Ledger,
    /// The receipt key's signature over the ledger's canonical bytes.
    pub signature: Signature,
}

/// Something a ledger gets wrong. A check reports every one it finds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Discrepancy {
    /// The manifest or the token keys do not verify under the organisation's key.
    #[error("the round does not verify: {0}")]
    Round(RoundRefusal),
    /// The ledger is for another round.
    #[error("the ledger is for another round than its manifest")]
    OtherRound,
    /// The manifest hash is not the manifest's.
    #[error("the manifest hash is not the hash of the round's manifest")]
    ManifestHash,
    /// The receipt key's signature does not verify.
    #[error("the receipt key's signature over the ledger does not verify")]
    Signature,
    /// The root is not the root of the leaves.
    #[error("the Merkle root is not the root of the leaves")]
    Root,
    /// The item count is not the number of leaves.
    #[error("the ledger says it lists {claimed} items but holds {leaves} leaves")]
    ItemCount {
        /// What the ledger says.
        claimed: u64,
        /// What it holds.
        leaves: u64,
    },
    /// More listed items and withheld entries than tokens.
    #[error("{items} listed and withheld entries but only {tokens} tokens issued")]
    MoreItemsThanTokens {
        /// Items received.
        items: u64,
        /// Tokens issued.
        tokens: u64,
    },
    /// A shown token is not a valid token of the round.
    #[error("leaf {leaf}: its token is not a valid token of this round ({why})")]
    BadToken {
        /// The leaf's place.
        leaf: usize,
        /// Why.
        why: String,
    },
    /// Two leaves carry one token.
    #[error("leaf {leaf}: its token was used by leaf {first} already")]
    TokenReused {
        /// The later leaf.
        leaf: usize,
        /// The earlier one.
        first: usize,
    },
    /// Two leaves name one item.
    #[error("leaf {leaf}: its item is leaf {first}'s too")]
    ItemRepeated {
        /// The later leaf.
        leaf: usize,
        /// The earlier one.
        first: usize,
    },
    /// The tombstones are not in item-hash order (their encoding is not canonical).
    #[error("the tombstones are not in item-hash order")]
    TombstoneOrder,
    /// The withheld entries are not sealed leaves in item-hash order, a multiple of k
    /// of them and at least k.
    #[error("the withheld entries are not sealed leaves in item-hash order, a multiple of {k}, at least {k}")]
    Withheld {
        /// The round's threshold.
        k: u32,
    },
    /// A tombstone names no leaf, or an item twice.
    #[error("a tombstone names {0:?}, which is no item of the ledger or hidden twice")]
    Tombstone(ItemHash),
}

impl PublishedLedger {
    /// Server: signs the ledger with the receipt key.
    pub fn sign(round: OpenRound, ledger: Ledger, key: &ReceiptKey) -> Self {
        let signature = key.sign(&ledger.canonical_bytes());
        Self { round, ledger, signature }
    }

    /// Anyone: checks everything the ledger can prove, given only the organisation's
    /// public key. Empty when all holds.
    pub fn check(&self, organisation: &OrganisationPublicKey) -> Vec<Discrepancy> {
        let round = match self.round.verify(organisation) {
            Ok(round) => round,
            Err(refusal) => return vec![Discrepancy::Round(refusal)],
        };
        let manifest = &round.manifest;
        let ledger = &self.ledger;
        let mut found = Vec::new();
        if ledger.round != manifest.round {
            found.push(Discrepancy::OtherRound);
        }
        if ledger.manifest_hash.0 != manifest.hash() {
            found.push(Discrepancy::ManifestHash);
        }
        if manifest.receipt_key.verify(&ledger.canonical_bytes(), &self.signature).is_err() {
            found.push(Discrepancy::Signature);
        }
        if Ledger::root_of(&ledger.leaves, &ledger.withheld) != ledger.root {
            found.push(Discrepancy::Root);
        }
        let leaves = u64::try_from(ledger.leaves.len()).unwrap_or(u64::MAX);
        if ledger.items_listed != leaves {
            found.push(Discrepancy::ItemCount { claimed: ledger.items_listed, leaves });
        }
        let entries =
            ledger.items_listed.saturating_add(u64::try_from(ledger.withheld.len()).unwrap_or(u64::MAX));
        if entries > ledger.tokens_issued {
            found.push(Discrepancy::MoreItemsThanTokens { items: entries, tokens: ledger.tokens_issued });
        }
        let k = manifest.threshold;
        let size = ledger.withheld.len();
        let sealed = ledger.withheld.iter().all(|leaf| matches!(leaf.token, LeafToken::Sealed(_)));
        let ordered =
            ledger.withheld.windows(2).all(|pair| pair[0].item.to_bytes() < pair[1].item.to_bytes());
        if size < k as usize || !size.is_multiple_of(k.max(1) as usize) || !sealed || !ordered {
            found.push(Discrepancy::Withheld { k });
        }
        let ordered =
            ledger.tombstones.windows(2).all(|pair| pair[0].item.to_bytes() < pair[1].item.to_bytes());
        if !ordered {
            found.push(Discrepancy::TombstoneOrder);
        }
        let challenge = manifest.token_challenge();
        let mut spent = std::collections::HashMap::new();
        let mut items = std::collections::HashMap::new();
        let mut withheld_items = std::collections::HashMap::new();
        for (place, leaf) in ledger.leaves.iter().enumerate() {
            if let LeafToken::Shown(token) = &leaf.token {
                let key = manifest
                    .teams
                    .iter()
                    .position(|team| team.token_key_id == token.token_key_id())
                    .and_then(|team| round.keys.get(team));
                let verified = match key {
                    Some(key) => token.verify(key, &challenge).map_err(|e| e.to_string()),
                    None => Err("its key is no team's key".to_owned()),
                };
                if let Err(why) = verified {
                    found.push(Discrepancy::BadToken { leaf: place, why });
                }
            }
            if let Some(first) = spent.insert(leaf.token.spend_id(), place) {
                found.push(Discrepancy::TokenReused { leaf: place, first });
            }
            if let Some(first) = items.insert(leaf.item, place) {
                found.push(Discrepancy::ItemRepeated { leaf: place, first });
            }
        }
        // The withheld entries count on from the leaves.
        for (place, leaf) in
            ledger.withheld.iter().enumerate().map(|(i, leaf)| (ledger.leaves.len() + i, leaf))
        {
            if let Some(first) = spent.insert(leaf.token.spend_id(), place) {
                found.push(Discrepancy::TokenReused { leaf: place, first });
            }
            if let Some(first) =
                withheld_items.insert(leaf.item, place).or_else(|| items.get(&leaf.item).copied())
            {
                found.push(Discrepancy::ItemRepeated { leaf: place, first });
            }
        }
        let mut hidden = HashSet::new();
        for tombstone in &ledger.tombstones {
            if !items.contains_key(&tombstone.item) || !hidden.insert(tombstone.item) {
                found.push(Discrepancy::Tombstone(tombstone.item));
            }
        }
        found
    }

    /// Author: what the ledger says of the item a receipt names.
    pub fn find(&self, item: &ItemHash) -> Inclusion {
        if let Some(tombstone) = self.ledger.tombstones.iter().find(|t| &t.item == item) {
            return Inclusion::Hidden(tombstone.reason);
        }
        if self.ledger.leaves.iter().any(|leaf| &leaf.item == item) {
            Inclusion::Published
        } else if self.ledger.withheld.iter().any(|leaf| &leaf.item == item) {
            Inclusion::Withheld
        } else {
            Inclusion::Missing
        }
    }
}

/// What a ledger says of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inclusion {
    /// In the published record.
    Published,
    /// In the record, hidden by a moderator for this reason.
    Hidden(HideReason),
    /// In the record, among the sealed withheld entries (its team's tokens are not shown).
    Withheld,
    /// Not in the record: the server dropped it.
    Missing,
}
