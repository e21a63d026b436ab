//! Issuance: the RFC 9578 issuer directory and the token-request endpoint.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use candor_protocol::directory::{
    DirectoryKey, ISSUER_DIRECTORY_MEDIA_TYPE, ISSUER_DIRECTORY_PATH, IssuerDirectory,
};
use candor_protocol::token::{IssueError, TOKEN_REQUEST_MEDIA_TYPE, TOKEN_RESPONSE_MEDIA_TYPE, TokenRequest};

use super::{ApiError, AppState, check_content_type};
use crate::assertion::AssertionError;
use crate::store::Reservation;

/// Path of the token-request endpoint.
pub const TOKEN_REQUEST_PATH: &str = "/v1/token-request";

/// The issuance routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(ISSUER_DIRECTORY_PATH, get(issuer_directory))
        .route(TOKEN_REQUEST_PATH, post(token_request))
        .route("/v1/assertion-keys", get(assertion_keys))
}

/// The intranet's public keys and this server's audience: every widget fetches them at
/// every load, to check that an assertion it is handed is the intranet's word before
/// it opens anything kept for that person on a shared browser.
#[tracing::instrument(skip_all)]
async fn assertion_keys(State(state): State<AppState>) -> Response {
    axum::Json(state.inner.verifier.public_keys()).into_response()
}

#[tracing::instrument(skip_all)]
async fn issuer_directory(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = state.now();
    let token_keys = state
        .live_rounds()
        .await?
        .iter()
        .filter(|round| round.is_open(now))
        .flat_map(|round| round.token_keys.iter().map(|key| DirectoryKey::new(key, None)))
        .collect();
    let directory = IssuerDirectory {
        issuer_request_uri: format!("{}{TOKEN_REQUEST_PATH}", state.config().origin()),
        token_keys,
    };
    let body = serde_json::to_string(&directory).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, ISSUER_DIRECTORY_MEDIA_TYPE)], body).into_response())
}

fn bearer(headers: &HeaderMap) -> Result<&str, AssertionError> {
    let value = headers.get(header::AUTHORIZATION).ok_or(AssertionError::Missing)?;
    let value = value.to_str().map_err(|_| AssertionError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(AssertionError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AssertionError::Missing);
    }
    Ok(token.trim())
}

#[tracing::instrument(skip_all)]
async fn token_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let now = chrono::DateTime::from_timestamp(i64::try_from(state.now()).unwrap_or(i64::MAX), 0)
        .ok_or_else(|| ApiError::internal("the clock is out of range"))?;
    let eligibility = state.inner.verifier.verify_at(bearer(&headers)?, now)?;
    check_content_type(&headers, TOKEN_REQUEST_MEDIA_TYPE)?;
    let request = TokenRequest::parse(&body?).map_err(|e| ApiError::TokenRequest(e.to_string()))?;
    // The rounds as cached: the store's reservation says whether the round is still
    // open. If it is not (released elsewhere since they were read), they are read again
    // once: a new round may have taken the released one's truncated key id.
    for fresh in [false, true] {
        if fresh {
            state.forget_rounds();
        }
        let now = state.now();
        let (round, index) = state
            .find_round(|rounds| {
                rounds.iter().filter(|round| round.is_open(now)).find_map(|round| {
                    let teams = &round.manifest().teams;
                    let index = teams
                        .iter()
                        .position(|team| team.token_key_id.truncated() == request.truncated_key_id())?;
                    Some((round.clone(), index))
                })
            })
            .await?
            .ok_or(ApiError::TokenKey)?;
        let team = &round.manifest().teams[index];
        // The team of the key is the team the item will speak for: the assertion must
        // name it (the deepest team of the round that holds one of its scopes), and
        // nothing else.
        if !round.manifest().teams_for(&eligibility.scopes).contains(&team) {
            return Err(ApiError::Team);
        }
        let issuer = round.issuer(team).ok_or(ApiError::RoundNotOpen)?;
        // Count first, sign second: a person whose quota is used up never makes the
        // server do RSA work. A reservation whose signing fails is given back.
        let manifest = round.manifest();
        let subject = state.subject_hmac(&eligibility.subject);
        match state.store().reserve_quota(manifest.round, &subject, manifest.tokens_per_person).await? {
            Reservation::Reserved => {}
            Reservation::QuotaUsed => return Err(ApiError::Quota(manifest.tokens_per_person)),
            Reservation::RoundClosed if !fresh => continue,
            Reservation::RoundClosed => return Err(ApiError::RoundNotOpen),
        }
        let response = match issuer.blind_sign(&request) {
            Ok(response) => response,
            Err(error) => {
                state.store().release_quota(manifest.round, &subject).await?;
                return Err(match error {
                    IssueError::Signing => ApiError::internal("blind signing failed its own check"),
                    other => ApiError::TokenRequest(other.to_string()),
                });
            }
        };
        // Nothing is logged: a log system stamps every line with the time, and a line per
        // token would keep the exact time of each page load.
        return Ok(([(header::CONTENT_TYPE, TOKEN_RESPONSE_MEDIA_TYPE)], response.to_bytes()).into_response());
    }
    Err(ApiError::RoundNotOpen)
}
