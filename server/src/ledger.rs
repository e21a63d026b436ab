//! The ledger a released round publishes ([`candor_protocol::ledger`]), built from the
//! store and signed with the receipt key.
//!
//! Which leaves show their token: those of teams that are a group of their own in the
//! round's digest read at the round's own scope — at least k items of their own and
//! nothing rolled up into them. The others are sealed (the token's spend id): a token
//! names its team's key, and the ledger goes to every employee of the round.

use std::collections::{BTreeSet, VecDeque};

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

/// The teams whose leaves show their tokens: each a group of its own, with nothing
/// rolled up into it, in the digest of the round's whole scope.
pub fn shown_teams(round: &LiveRound, items: &[LedgerItem]) -> BTreeSet<Scope> {
    let manifest = round.manifest();
    let records =
        items.iter().map(|item| ItemRecord { scope: item.scope.clone(), answers: Vec::new() }).collect();
    crate::digest::build(manifest, &manifest.scope, records)
        .map(|digest| {
            digest
                .groups
                .into_iter()
                .filter(|group| !group.includes_smaller_teams)
                .map(|group| group.scope)
                .collect()
        })
        .unwrap_or_default()
}

/// The round's published ledger.
pub fn build(
    round: &LiveRound,
    tokens_issued: u64,
    items: &[LedgerItem],
    key: &ReceiptKey,
) -> Result<PublishedLedger, LedgerError> {
    let shown = shown_teams(round, items);
    let leaves = items
        .iter()
        .map(|item| {
            let token = item.token.as_deref().ok_or(LedgerError::NoTokens)?;
            let token = if shown.contains(&item.scope) {
                LeafToken::Shown(Box::new(Token::parse(token).map_err(|_| LedgerError::Malformed)?))
            } else {
                LeafToken::Sealed(Digest32(Sha256::digest(token).into()))
            };
            Ok(Leaf { item: item.item_hash, token })
        })
        .collect::<Result<Vec<_>, LedgerError>>()?;
    let offered = OpenRound::new(round.signed.clone(), &round.token_keys.iter().collect::<Vec<_>>());
    let ledger = Ledger::new(round.manifest(), tokens_issued, leaves, Vec::new());
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
