//! Round discovery: `GET /v1/rounds`, every open round, the same list for everyone.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use candor_protocol::api::OpenRound;

use super::{ApiError, AppState};

/// The discovery route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/rounds", get(open_rounds))
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
