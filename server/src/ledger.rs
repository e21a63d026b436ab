//! The ledger a released round publishes ([`candor_protocol::ledger`]), built from the
//! store and signed with the receipt key.
//!
//! Which leaves show their token: those of teams that are a group of their own in the
//! round's digest read at the round's own scope — at least k items of their own and
//! nothing rolled up into them. The others are sealed (the token's spend id): a token
//! names its team's key, and the ledger goes to every employee of the round.

use std::collections::BTreeSet;

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
