//! The ledger a released round publishes ([`candor_protocol::ledger`]), built from the
//! store and signed with the receipt key.
//!
//! A token names its team's key, and the ledger goes to every employee of the round. So
//! only the items of a team with no team below it that sent at least k of its own are
//! listed with their tokens; every other item is sealed (the token's spend id) among
//! fillers, in a number rounded up to a multiple of k: see [`listed`] and
//! [`sealed_entries`].

use std::collections::VecDeque;

use axum::body::Bytes;

use candor_protocol::api::OpenRound;
use candor_protocol::domain::Scope;
use candor_protocol::keys::ReceiptKey;
use candor_protocol::ledger::{Digest32, Leaf, LeafToken, Ledger, PublishedLedger};
use candor_protocol::token::Token;
use sha2::{Digest as _, Sha256};

use crate::http::LiveRound;
use crate::store::LedgerItem;

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

/// Which items a ledger lists with their tokens: those of a team that has no team of
/// the round below it and sent at least k items of its own. Both conditions are the
/// manifest's and the team's own count, never how other teams' items roll up: a
/// parent's tokens shown or not would tell whether a small team below it wrote.
pub fn listed(round: &LiveRound, items: &[LedgerItem]) -> Vec<bool> {
    let manifest = round.manifest();
    let k = manifest.threshold as usize;
    let is_leaf = |scope: &Scope| {
        !manifest.teams.iter().any(|team| &team.scope != scope && scope.contains(&team.scope))
    };
    // One pass for the teams' own counts: a 100,000-item round has at most 128 teams.
    let mut counts: std::collections::HashMap<&Scope, usize> = std::collections::HashMap::new();
    for item in items {
        *counts.entry(&item.scope).or_default() += 1;
    }
    let listed: std::collections::HashMap<&Scope, bool> =
        counts.iter().map(|(&scope, &count)| (scope, is_leaf(scope) && count >= k)).collect();
    items.iter().map(|item| listed.get(&item.scope).copied().unwrap_or(false)).collect()
}

/// How many sealed entries a ledger with `sealed` unlisted items has: rounded up to a
/// multiple of k, and at least k, so that the number says nothing finer than k items.
pub fn sealed_entries(sealed: usize, k: usize) -> usize {
    let k = k.max(1);
    sealed.div_ceil(k).max(1) * k
}

/// The round's published ledger. `keyed` is the servers' keyed hash (the same on every
/// server): the sealed entries' fillers come from it, so every server publishes the
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
    for (item, listed) in items.iter().zip(listed(round, items)) {
        let token = item.token.as_deref().ok_or(LedgerError::NoTokens)?;
        if listed {
            let token = Token::parse(token).map_err(|_| LedgerError::Malformed)?;
            leaves.push(Leaf { item: item.item_hash, token: LeafToken::Shown(Box::new(token)) });
        } else {
            let spend_id = Digest32(Sha256::digest(token).into());
            withheld.push(Leaf { item: item.item_hash, token: LeafToken::Sealed(spend_id) });
        }
    }
    let entries = sealed_entries(withheld.len(), manifest.threshold as usize);
    for filler in 0..entries - withheld.len() {
        let data = [manifest.round.to_bytes().as_slice(), &(filler as u64).to_be_bytes()].concat();
        withheld.push(Leaf {
            item: candor_protocol::submission::ItemHash(keyed(b"candor/ledger-filler-item/v1", &data)),
            token: LeafToken::Sealed(Digest32(keyed(b"candor/ledger-filler-spend/v1", &data))),
        });
    }
    // Every widget takes a token whether or not its person writes; but where nearly all
    // wrote, tokens issued less the items listed would bound the sealed items finer
    // than the padding does. The published count is at least listed + sealed entries.
    let floor = u64::try_from(leaves.len() + withheld.len()).unwrap_or(u64::MAX);
    let offered = OpenRound::new(round.signed.clone(), &round.token_keys.iter().collect::<Vec<_>>());
    let ledger = Ledger::new(manifest, tokens_issued.max(floor), leaves, withheld, Vec::new());
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
