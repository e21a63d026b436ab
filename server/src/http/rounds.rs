//! Round discovery: `GET /v1/rounds`, every open round, the same list for everyone; and
//! `GET /v1/rounds/{round}/ledger`, a released round's signed ledger, the same for
//! everyone too.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use candor_protocol::api::OpenRound;

use super::{ApiError, AppState};

/// The discovery route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/rounds", get(open_rounds)).route("/v1/rounds/{round}/ledger", get(ledger))
}

/// Every open round. Every widget of the organisation fetches the same list, so the
/// request says nothing about who asks; each widget picks the round with a team for
/// its employee.
#[tracing::instrument(skip_all)]
async fn open_rounds(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = state.now();
    let rounds: Vec<OpenRound> = state
        .live_rounds()
        .await?
        .iter()
        .filter(|round| round.is_open(now))
        .map(|round| OpenRound::new(round.signed.clone(), &round.token_keys.iter().collect::<Vec<_>>()))
        .collect();
    Ok(axum::Json(rounds).into_response())
}

/// A released round's ledger. Every widget of the round fetches it at every load after
/// the release, whether or not its person wrote, and it is the same for everyone.
#[tracing::instrument(skip_all)]
async fn ledger(
    State(state): State<AppState>,
    round: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = round
        .ok()
        .and_then(|Path(round)| candor_protocol::domain::RoundId::parse(&round).ok())
        .ok_or(ApiError::NotFound("no such round"))?;
    let live = state.live_rounds().await?;
    let round = live.iter().find(|round| round.manifest().round == id).ok_or(ApiError::Round(id))?;
    if !round.released {
        return Err(ApiError::NotFound("a round's ledger is published when it is released"));
    }
    let json = state
        .inner
        .ledgers
        .get_or_build(id, async || {
            let items = state.store().ledger_items(id).await?;
            let tokens_issued = state.store().counts(id).await?.tokens_issued;
            let keys = &state.inner.keys;
            let published =
                crate::ledger::build(round, tokens_issued, &items, &keys.receipt, |label, data| {
                    keys.keyed_hash(label, data)
                })
                .map_err(|error| match error {
                    crate::ledger::LedgerError::NoTokens => ApiError::NotFound(
                        "this round's items were stored before Candor kept their tokens: it has no ledger",
                    ),
                    crate::ledger::LedgerError::Malformed => ApiError::internal(error.to_string()),
                })?;
            serde_json::to_vec(&published).map_err(|e| ApiError::internal(e.to_string()))
        })
        .await?;
    let name = format!("inline; filename=\"candor-ledger-{id}.json\"");
    let headers =
        [(header::CONTENT_TYPE, "application/json".to_owned()), (header::CONTENT_DISPOSITION, name)];
    Ok((headers, json).into_response())
}
