//! Values as both backends store them, parsed back and checked: a stored value that no
//! longer parses is [`StoreError::Corrupt`], never a panic or a guess.

use candor_protocol::domain::Scope;
use candor_protocol::manifest::{RoundManifest, SignedManifest};
use candor_protocol::submission::Answer;
use candor_protocol::token::TokenKey;

use super::{ItemRecord, Leader, RoundRecord, RoundState, SealedKey, StoreError, TeamKey};

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

/// Released items from a JSON array of `[position, scope, answers]` in any order, put in
/// release order. A round has a few teams and many items: each scope is parsed once.
pub(super) fn listed_items(json: &str) -> Result<Vec<ItemRecord>, StoreError> {
    let listed: Vec<(i64, String, Vec<Answer>)> =
        serde_json::from_str(json).map_err(|e| corrupt("released items")(e.to_string()))?;
    let mut scopes: std::collections::HashMap<String, Scope> = std::collections::HashMap::new();
    let mut items = listed
        .into_iter()
        .map(|(position, scope_text, answers)| {
            let scope = match scopes.get(&scope_text) {
                Some(scope) => scope.clone(),
                None => {
                    let parsed = scope("item scope", &scope_text)?;
                    scopes.insert(scope_text, parsed.clone());
                    parsed
                }
            };
            Ok((position, ItemRecord { scope, answers }))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    items.sort_unstable_by_key(|(position, _)| *position);
    Ok(items.into_iter().map(|(_, item)| item).collect())
}

/// A ledger row: item hash, team, token.
pub(super) fn ledger_item(
    item_hash: Vec<u8>,
    scope_text: String,
    token: Option<Vec<u8>>,
) -> Result<super::LedgerItem, StoreError> {
    let item_hash = candor_protocol::submission::ItemHash::from_slice(&item_hash)
        .map_err(|e| corrupt("item hash")(e.to_string()))?;
    Ok(super::LedgerItem { item_hash, scope: scope("item scope", &scope_text)?, token })
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

#[cfg(test)]
mod tests {
    use candor_protocol::domain::QuestionId;
    use candor_protocol::submission::{AnswerValue, FeedbackText};

    use super::*;

    #[test]
    fn answers_read_back_as_written_and_anything_else_is_corrupt() {
        let written = vec![
            Answer { question: QuestionId::parse("rating").unwrap(), value: AnswerValue::Rating(7) },
            Answer {
                question: QuestionId::parse("text").unwrap(),
                value: AnswerValue::Text(FeedbackText::normalise("Stand-ups run “long”.").unwrap()),
            },
        ];
        let answers = |text: &str| {
            listed_items(&format!(r#"[[0, "acme", {text}]]"#)).map(|items| items[0].answers.clone())
        };
        assert_eq!(answers(&answers_to_text(&written).unwrap()).unwrap(), written);
        for corrupt in [
            r#"[{"question":"text","text":""}]"#,
            r#"[{"question":"rating","rating":3,"text":"both"}]"#,
            r#"[{"question":"rating"}]"#,
            r#"[{"question":"rating","rating":300}]"#,
            r#"[{"question":"Not an id","rating":3}]"#,
            r#"[{"question":"rating","rating":3,"day":"2026-01-01"}]"#,
            r#"{"question":"rating","rating":3}"#,
        ] {
            assert!(matches!(answers(corrupt), Err(StoreError::Corrupt(_))), "{corrupt}");
        }
    }

    #[test]
    fn released_items_come_in_release_order_and_a_bad_row_is_corrupt() {
        let rating = |n: u8| format!(r#"[{{"question":"rating","rating":{n}}}]"#);
        let listed = format!(
            r#"[[2, "acme/b", {}], [0, "acme/a", {}], [1, "acme/a", {}]]"#,
            rating(2),
            rating(0),
            rating(1)
        );
        let items = listed_items(&listed).unwrap();
        let read: Vec<(&str, &AnswerValue)> =
            items.iter().map(|item| (item.scope.as_str(), &item.answers[0].value)).collect();
        assert_eq!(
            read,
            [
                ("acme/a", &AnswerValue::Rating(0)),
                ("acme/a", &AnswerValue::Rating(1)),
                ("acme/b", &AnswerValue::Rating(2))
            ]
        );
        assert!(listed_items("[]").unwrap().is_empty());
        for corrupt in [
            format!(r#"[[0, "Not a scope", {}]]"#, rating(1)),
            format!(r#"[["zero", "acme", {}]]"#, rating(1)),
            "[[0, \"acme\"]]".to_owned(),
        ] {
            assert!(matches!(listed_items(&corrupt), Err(StoreError::Corrupt(_))), "{corrupt}");
        }
    }
}
