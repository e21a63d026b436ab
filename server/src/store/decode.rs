//! Values as both backends store them, parsed back and checked: a stored value that no
//! longer parses is [`StoreError::Corrupt`], never a panic or a guess.

use candor_protocol::domain::Scope;
use candor_protocol::manifest::{RoundManifest, SignedManifest};
use candor_protocol::submission::Answer;
use candor_protocol::token::TokenKey;

use super::{Leader, RoundRecord, RoundState, SealedKey, StoreError, TeamKey};

pub(super) fn corrupt(what: &str) -> impl FnOnce(String) -> StoreError + '_ {
    move |detail| StoreError::Corrupt(format!("{what}: {detail}"))
}

pub(super) fn scope(what: &str, text: &str) -> Result<Scope, StoreError> {
    Scope::parse(text).map_err(|e| corrupt(what)(e.to_string()))
}

pub(super) fn leader(id: String, name: String, scope_text: &str) -> Result<Leader, StoreError> {
    Ok(Leader { id, name, scope: scope("leader scope", scope_text)? })
}

pub(super) fn team_key(
    scope_text: &str,
    spki: &[u8],
    sealed: Option<Vec<u8>>,
) -> Result<TeamKey, StoreError> {
    Ok(TeamKey {
        scope: scope("team scope", scope_text)?,
        token_key: TokenKey::from_spki(spki).map_err(|e| corrupt("token key")(e.to_string()))?,
        sealed: sealed.map(SealedKey),
    })
}

pub(super) fn answers_to_text(answers: &[Answer]) -> Result<String, StoreError> {
    serde_json::to_string(answers).map_err(|e| corrupt("answers")(e.to_string()))
}

pub(super) fn answers(text: &str) -> Result<Vec<Answer>, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt("answers")(e.to_string()))
}

pub(super) fn manifest_to_text(manifest: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(manifest).map_err(|e| corrupt("manifest")(e.to_string()))
}

/// A round from its stored columns and its team keys (in any order).
pub(super) fn round(
    text: &str,
    signed: bool,
    released: bool,
    erased: bool,
    keys: Vec<TeamKey>,
) -> Result<RoundRecord, StoreError> {
    let (manifest, signature) = if signed {
        let signed: SignedManifest =
            serde_json::from_str(text).map_err(|e| corrupt("manifest")(e.to_string()))?;
        (signed.manifest, Some(signed.signature))
    } else {
        let manifest: RoundManifest =
            serde_json::from_str(text).map_err(|e| corrupt("manifest")(e.to_string()))?;
        (manifest, None)
    };
    let state = match (signed, released) {
        (false, _) => RoundState::Prepared,
        (true, false) => RoundState::Signed,
        (true, true) => RoundState::Released { erased },
    };
    // Keys in the manifest's team order.
    let keys = manifest
        .teams
        .iter()
        .map(|team| {
            keys.iter()
                .find(|key| key.scope == team.scope && key.token_key.id() == team.token_key_id)
                .cloned()
                .ok_or_else(|| {
                    corrupt("team keys")(format!("round {}: no key for {}", manifest.round, team.scope))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RoundRecord { manifest, signature, keys, state })
}
