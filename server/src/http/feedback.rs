//! Feedback: `POST /v1/feedback`, a submission redeemed with its Privacy Pass token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use candor_protocol::http_auth;
use candor_protocol::receipt::Receipt;
use candor_protocol::submission::Submission;
use candor_protocol::token::VerifyError;

use super::{ApiError, AppState};
use crate::store::{NewItem, Redemption, SpendId};

/// The feedback route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/feedback", post(feedback))
}

#[tracing::instrument(skip_all)]
async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Token("a Privacy Pass token is required (Authorization: PrivateToken token=…)".into())
        })?
        .to_str()
        .map_err(|_| ApiError::Token("the Authorization header is not ASCII".into()))?;
    let token = http_auth::parse_authorization(authorization).map_err(|e| ApiError::Token(e.to_string()))?;
    let body = body?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::Utf8)?;
    let submission: Submission = serde_json::from_str(text)
        .map_err(|e| ApiError::Json(format!("the body is not a submission: {e}")))?;

    let round_id = submission.body.round;
    let round = state.live_round(round_id).await?.ok_or(ApiError::Round(round_id))?;
    if !round.is_open(state.now()) {
        return Err(ApiError::RoundNotOpen);
    }
    let manifest = round.manifest();
    // The item's team is the team of the key its token was issued under.
    let (team, key) = round
        .teams()
        .find(|(team, _)| team.token_key_id == token.token_key_id())
        .ok_or_else(|| ApiError::Token("the token's key id is not a token key of this round".into()))?;
    token.verify(key, &manifest.token_challenge()).map_err(|error| match error {
        VerifyError::WrongKey => ApiError::Token("the token's key id is not this round's token key".into()),
        other => ApiError::Token(other.to_string()),
    })?;
    submission.verify(&token).map_err(|e| ApiError::Signature(e.to_string()))?;
    manifest.check_submission(&submission.body).map_err(|e| ApiError::Answers(e.to_string()))?;

    let item_hash = submission.item_hash();
    let item = NewItem {
        item_hash,
        round: round_id,
        scope: team.scope.clone(),
        answers: submission.body.answers,
        author_key: submission.body.author_key.to_bytes(),
        token: token.to_bytes(),
    };
    let receipt = || Receipt { round: round_id, item: item_hash }.sign(&state.inner.keys.receipt);
    match state.store().redeem(&SpendId(token.spend_id()), &item).await? {
        Redemption::AlreadySpent => Err(ApiError::Spent),
        Redemption::RoundClosed => {
            // Released since this server read its rounds (by another server, or the
            // CLI): read them again, so its cache drops the round and its keys.
            state.forget_rounds();
            Err(ApiError::RoundNotOpen)
        }
        // The commit is durable: only now is the receipt signed and sent. Nothing is
        // logged: a log line's timestamp would be the item's exact arrival time.
        Redemption::Stored => Ok((StatusCode::CREATED, axum::Json(receipt())).into_response()),
        // A retry of a stored item whose answer was lost: the same receipt again. Only
        // the holder of the token and of the signed body can ask.
        Redemption::AlreadyStored => Ok((StatusCode::OK, axum::Json(receipt())).into_response()),
    }
}
