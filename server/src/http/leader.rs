//! Leaders: sign-in with a one-time link, sign-out, and the digest.
//!
//! Sign-in and sign-out take only JSON (`application/json`, which no HTML form can
//! send) from a page of this server's own origin (`Origin` must be it): a page
//! elsewhere cannot sign a leader in with its own link (login CSRF). The session
//! cookie is `__Host-` prefixed behind https (Secure, Path=/, no Domain), HttpOnly,
//! SameSite=Strict.

use axum::Router;
use axum::body::Bytes;
use std::sync::Arc;

use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use candor_protocol::api::{DigestView, LeaderView, RoundDigest, RoundHeading, SignIn};
use candor_protocol::b64;
use candor_protocol::domain::{RoundId, Scope};

use super::{ApiError, AppState, check_content_type};
use crate::ops::leaders::secret_hash;
use crate::store::Leader;

/// How long a leader session lasts, in days.
pub const SESSION_DAYS: u64 = 7;

/// The session cookie's name: `__Host-candor_session` behind https (browsers accept
/// the prefix only on Secure cookies), `candor_session` on plain http (demos).
pub fn session_cookie_name(https: bool) -> &'static str {
    if https { "__Host-candor_session" } else { "candor_session" }
}

/// The leader routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/leader/sign-in", post(sign_in))
        .route("/v1/leader/sign-out", post(sign_out))
        .route("/v1/digest", get(digest))
        .route("/v1/digest/rounds/{round}", get(round_digest))
        .route("/v1/digest/rounds/{round}/items", get(item_page))
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|value| value.to_str().ok());
    if origin.is_some_and(|origin| origin.eq_ignore_ascii_case(&state.config().origin())) {
        Ok(())
    } else {
        Err(ApiError::Origin)
    }
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    check_content_type(&headers, "application/json")?;
    let body = body?;
    let sign_in: SignIn =
        serde_json::from_slice(&body).map_err(|_| ApiError::Json("expected {\"link\": \"…\"}".into()))?;
    // Accept the whole link or only its secret part.
    let secret = sign_in.link.rsplit(['=', '/', '#']).next().unwrap_or_default();
    let mut session = zeroize::Zeroizing::new([0u8; 32]);
    rand::Rng::fill_bytes(&mut rand::rng(), &mut session[..]);
    let session = zeroize::Zeroizing::new(b64::encode(&session[..]));
    let now = state.now();
    let zone = &state.config().time_zone;
    let leader = state
        .store()
        .sign_in(
            &secret_hash(secret),
            &secret_hash(&session),
            zone.day_at(now),
            zone.day_after(now, SESSION_DAYS),
        )
        .await?
        .ok_or(ApiError::Link)?;
    let https = state.config().is_https();
    let secure = if https { "; Secure" } else { "" };
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        session_cookie_name(https),
        session.as_str(),
        SESSION_DAYS * 86_400
    );
    tracing::info!("leader signed in");
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(LeaderView { name: leader.name, scope: leader.scope }))
        .into_response())
}

fn session_cookie<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = session_cookie_name(state.config().is_https());
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value)
}

async fn signed_in_leader(state: &AppState, headers: &HeaderMap) -> Result<Leader, ApiError> {
    let session = session_cookie(state, headers).ok_or(ApiError::Session)?;
    let today = state.config().time_zone.day_at(state.now());
    state.store().session(&secret_hash(session), today).await?.ok_or(ApiError::Session)
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    same_origin(&state, &headers)?;
    if let Some(session) = session_cookie(&state, &headers) {
        state.store().sign_out(&secret_hash(session)).await?;
    }
    let https = state.config().is_https();
    let secure = if https { "; Secure" } else { "" };
    let cookie =
        format!("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}", session_cookie_name(https));
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

/// The index: the released rounds the leader may read, newest first, from their
/// manifests alone.
async fn digest(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let leader = signed_in_leader(&state, &headers).await?;
    // Read fresh, not from the employee path's cache: a round the CLI released a moment
    // ago is in the digest at once.
    let mut rounds: Vec<RoundHeading> = state
        .store()
        .rounds()
        .await?
        .iter()
        .filter(|round| round.released())
        .filter_map(|round| {
            let manifest = &round.manifest;
            Some(RoundHeading {
                round: manifest.round,
                scope: manifest.scope.clone(),
                covers: crate::digest::covers(manifest, &leader.scope)?,
                opens: manifest.opens,
                closes: manifest.closes,
            })
        })
        .collect();
    rounds.sort_by_key(|heading| std::cmp::Reverse((heading.closes, heading.opens, heading.round)));
    Ok(axum::Json(DigestView { leader: LeaderView { name: leader.name, scope: leader.scope }, rounds })
        .into_response())
}

/// One released round's digest for the signed-in leader, built once per server and
/// covered scope: it reads this round's items only.
async fn round_digest_of(
    state: &AppState,
    headers: &HeaderMap,
    round: Result<Path<String>, PathRejection>,
) -> Result<Arc<RoundDigest>, ApiError> {
    let leader = signed_in_leader(state, headers).await?;
    let round = round
        .ok()
        .and_then(|Path(round)| RoundId::parse(&round).ok())
        .ok_or(ApiError::NotFound("there is no such round"))?;
    // An unreleased round is answered as one that does not exist, and so is a round the
    // leader's scope does not overlap.
    let record =
        state.store().round(round).await?.filter(|record| record.released()).ok_or(ApiError::Round(round))?;
    let covers = crate::digest::covers(&record.manifest, &leader.scope).ok_or(ApiError::Round(round))?;
    if let Some(digest) = state.digests().get(round, &covers) {
        return Ok(digest);
    }
    let items = state.store().released_items(round).await?;
    let digest =
        Arc::new(crate::digest::build(&record.manifest, &leader.scope, items).ok_or(ApiError::Round(round))?);
    state.digests().put(digest.clone());
    Ok(digest)
}

async fn round_digest(
    State(state): State<AppState>,
    headers: HeaderMap,
    round: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let digest = round_digest_of(&state, &headers, round).await?;
    Ok(axum::Json(crate::digest::first_page(&digest)).into_response())
}

/// Which page of which group.
#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    group: String,
    from: usize,
}

async fn item_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    round: Result<Path<String>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let digest = round_digest_of(&state, &headers, round).await?;
    let Query(query) = query.map_err(|_| {
        ApiError::Query("expected ?group=SCOPE&from=N: a team's scope and the place of the first item".into())
    })?;
    let group = Scope::parse(&query.group)
        .map_err(|_| ApiError::Query(format!("`{}` is not a scope", query.group)))?;
    let page = crate::digest::page(&digest, &group, query.from)
        .ok_or(ApiError::NotFound("no such group in this digest"))?;
    Ok(axum::Json(page).into_response())
}
