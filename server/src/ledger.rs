//! The ledger a released round publishes ([`candor_protocol::ledger`]), built from the
//! store and signed with the receipt key.
//!
//! Which leaves show their token: those of teams that are a group of their own in the
//! round's digest read at the round's own scope — at least k items of their own and
//! nothing rolled up into them. The others are sealed (the token's spend id): a token
//! names its team's key, and the ledger goes to every employee of the round. What that
//! digest withholds goes, sealed, among fillers into exactly k − 1 withheld entries.

use std::collections::VecDeque;

use axum::body::Bytes;

use candor_protocol::api::OpenRound;
use candor_protocol::domain::Scope;
use candor_protocol::keys::ReceiptKey;
use candor_protocol::ledger::{Digest32, Leaf, LeafToken, Ledger, PublishedLedger};
use candor_protocol::token::Token;
use sha2::{Digest as _, Sha256};

use crate::http::LiveRound;
use crate::store::{ItemRecord, LedgerItem};

/// Why a released round has no ledger to publish.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Some items were stored before Candor kept their tokens.
    #[error("this round's items were stored before Candor kept their tokens: it has no ledger")]
    NoTokens,
    /// A stored token does not parse.
    #[error("a stored token is malformed")]
    Malformed,
}

/// Where an item stands in the digest of the round's whole scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// In its team's own group, with nothing rolled up into it: its token is shown.
    Shown,
    /// In a group that includes smaller teams: sealed.
    Sealed,
    /// Below k even at the round's scope: withheld, among fillers.
    Withheld,
}

/// Each item's placement, in order. An item lands in the first group met walking up
/// from its team (a pool rolls up only while it is below k), as the digest builds them.
pub fn placements(round: &LiveRound, items: &[LedgerItem]) -> Vec<Placement> {
    let manifest = round.manifest();
    let records =
        items.iter().map(|item| ItemRecord { scope: item.scope.clone(), answers: Vec::new() }).collect();
    let groups: Vec<(Scope, bool)> = crate::digest::build(manifest, &manifest.scope, records)
        .map(|digest| digest.groups.into_iter().map(|g| (g.scope, g.includes_smaller_teams)).collect())
        .unwrap_or_default();
    items
        .iter()
        .map(|item| {
            let mut scope = Some(item.scope.clone());
            while let Some(at) = scope {
                if let Some((_, includes_smaller_teams)) = groups.iter().find(|(group, _)| *group == at) {
                    let own = at == item.scope && !includes_smaller_teams;
                    return if own { Placement::Shown } else { Placement::Sealed };
                }
                if at == manifest.scope {
                    break;
                }
                scope = at.parent();
            }
            Placement::Withheld
        })
        .collect()
}

/// The round's published ledger. `keyed` is the servers' keyed hash (the same on every
/// server): the withheld entries' fillers come from it, so every server publishes the
/// same ledger, and nobody without the server secret can tell a filler from an item.
pub fn build(
    round: &LiveRound,
    tokens_issued: u64,
    items: &[LedgerItem],
    key: &ReceiptKey,
    keyed: impl Fn(&[u8], &[u8]) -> [u8; 32],
) -> Result<PublishedLedger, LedgerError> {
    let manifest = round.manifest();
    let mut leaves = Vec::new();
    let mut withheld = Vec::new();
    for (item, placement) in items.iter().zip(placements(round, items)) {
        let token = item.token.as_deref().ok_or(LedgerError::NoTokens)?;
        let sealed = LeafToken::Sealed(Digest32(Sha256::digest(token).into()));
        match placement {
            Placement::Shown => leaves.push(Leaf {
                item: item.item_hash,
                token: LeafToken::Shown(Box::new(Token::parse(token).map_err(|_| LedgerError::Malformed)?)),
            }),
            Placement::Sealed => leaves.push(Leaf { item: item.item_hash, token: sealed }),
            Placement::Withheld => withheld.push(Leaf { item: item.item_hash, token: sealed }),
        }
    }
    let wanted = manifest.threshold.saturating_sub(1) as usize;
    if withheld.len() > wanted {
        return Err(LedgerError::Malformed); // the digest withholds fewer than k
    }
    for filler in 0..wanted - withheld.len() {
        let data = [manifest.round.to_bytes().as_slice(), &(filler as u64).to_be_bytes()].concat();
        withheld.push(Leaf {
            item: candor_protocol::submission::ItemHash(keyed(b"candor/ledger-filler-item/v1", &data)),
            token: LeafToken::Sealed(Digest32(keyed(b"candor/ledger-filler-spend/v1", &data))),
        });
    }
    let offered = OpenRound::new(round.signed.clone(), &round.token_keys.iter().collect::<Vec<_>>());
    let ledger = Ledger::new(manifest, tokens_issued, leaves, withheld, Vec::new());
    Ok(PublishedLedger::sign(offered, ledger, key))
}

/// Built ledgers, as the JSON served, by round, the most recently used first.
///
/// The endpoint is public and every widget of a round will fetch it after the release,
/// so a ledger is built (a read of the round, a digest's grouping, a signature) once, not
/// per request: builds take turns, and a second request for a round waits for the
/// first's instead of building it again. A released round's ledger does not change.
#[derive(Debug, Default)]
pub struct LedgerCache {
    entries: tokio::sync::Mutex<VecDeque<(candor_protocol::domain::RoundId, Bytes)>>,
}

impl LedgerCache {
    /// How many rounds' ledgers it keeps.
    pub const ROUNDS: usize = 8;

    /// The ledger of `round` as served, from the cache or from `build` (kept if it
    /// succeeds).
    pub async fn get_or_build<E>(
        &self,
        round: candor_protocol::domain::RoundId,
        build: impl AsyncFnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Bytes, E> {
        let mut entries = self.entries.lock().await;
        if let Some(at) = entries.iter().position(|(id, _)| *id == round) {
            let entry = entries.remove(at).expect("the entry found");
            let json = entry.1.clone();
            entries.push_front(entry);
            return Ok(json);
        }
        let json = Bytes::from(build().await?);
        entries.push_front((round, json.clone()));
        entries.truncate(Self::ROUNDS);
        Ok(json)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use candor_protocol::domain::RoundId;

    use super::LedgerCache;

    fn round(n: u8) -> RoundId {
        RoundId::parse(&format!("{n:02x}").repeat(16)).expect("id")
    }

    #[tokio::test]
    async fn a_ledger_is_built_once_however_many_ask_and_the_oldest_goes() {
        let cache = LedgerCache::default();
        let builds = AtomicUsize::new(0);
        let build = || async {
            builds.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok::<_, ()>(b"ledger".to_vec())
        };
        let asked = futures::future::join_all((0..10).map(|_| cache.get_or_build(round(1), build))).await;
        let asked: Vec<_> = asked.into_iter().map(Result::unwrap).collect();
        assert!(asked.iter().all(|json| json.as_ref() == b"ledger"));
        assert_eq!(builds.load(Ordering::SeqCst), 1, "ten at once, one build");
        for n in 2..=u8::try_from(LedgerCache::ROUNDS).unwrap() + 1 {
            cache.get_or_build(round(n), build).await.unwrap();
        }
        let before = builds.load(Ordering::SeqCst);
        cache.get_or_build(round(1), build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), before + 1, "the least recently used was dropped");
        // A failed build keeps nothing.
        assert!(cache.get_or_build(round(99), async || Err::<Vec<u8>, ()>(())).await.is_err());
        cache.get_or_build(round(99), build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), before + 2);
    }
}
