//! The HTTP application: routes, state, errors and the headers every response carries.
//!
//! Nothing here traces requests. On the issuance and submission paths nothing is logged
//! at all, except internal errors: any log line gets a timestamp from whatever collects
//! it, and one line per token or item would be a record of when each arrived.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use candor_protocol::api::{DigestView, ErrorBody, ErrorCode, LeaderView, OpenRound, SignIn};
use candor_protocol::directory::{
    DirectoryKey, ISSUER_DIRECTORY_MEDIA_TYPE, ISSUER_DIRECTORY_PATH, IssuerDirectory,
};
use candor_protocol::domain::RoundId;
use candor_protocol::manifest::{RoundManifest, SignedManifest, Team};
use candor_protocol::receipt::Receipt;
use candor_protocol::submission::Submission;
use candor_protocol::token::{
    IssueError, IssuerKey, TOKEN_REQUEST_MEDIA_TYPE, TOKEN_RESPONSE_MEDIA_TYPE, TokenKey, TokenRequest,
    VerifyError,
};
use candor_protocol::{b64, http_auth};
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::assertion::{AssertionError, AssertionVerifier};
use crate::config::Config;
use crate::keyfiles::ServerKeys;
use crate::store::{NewItem, Redemption, Store, StoreError};

/// The most a request body may hold.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Path of the token-request endpoint.
pub const TOKEN_REQUEST_PATH: &str = "/v1/token-request";
/// The session cookie's name.
pub const SESSION_COOKIE: &str = "candor_session";
/// How long a leader session lasts, in days.
pub const SESSION_DAYS: u64 = 7;

/// Everything a handler needs.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    keys: ServerKeys,
    verifier: AssertionVerifier,
    /// Parsed round keys, by round: parsing an RSA key is too slow to do per request.
    rounds: RwLock<HashMap<RoundId, Arc<LiveRound>>>,
}

/// A round with its parsed keys.
#[derive(Debug)]
pub struct LiveRound {
    /// The signed manifest, as served.
    pub signed: SignedManifest,
    /// The issuer keys of its teams, in the manifest's team order.
    pub issuers: Vec<IssuerKey>,
    /// Released to leaders.
    pub released: bool,
}

impl LiveRound {
    fn manifest(&self) -> &RoundManifest {
        &self.signed.manifest
    }

    /// Whether it takes tokens and feedback at this Unix time.
    pub fn is_open(&self, now: u64) -> bool {
        !self.released && self.manifest().is_open_at(now)
    }

    /// The teams with their issuer keys.
    fn teams(&self) -> impl Iterator<Item = (&Team, &IssuerKey)> {
        self.manifest().teams.iter().zip(&self.issuers)
    }

    /// The token keys, in team order.
    fn token_keys(&self) -> Vec<&TokenKey> {
        self.issuers.iter().map(IssuerKey::token_key).collect()
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(config: Config, store: Arc<dyn Store>, keys: ServerKeys, verifier: AssertionVerifier) -> Self {
        Self { inner: Arc::new(Inner { config, store, keys, verifier, rounds: RwLock::default() }) }
    }

    /// Every round, parsed. Rounds are made by the CLI, maybe while the server runs, so
    /// the list is read each time; only the parsed keys are cached.
    async fn live_rounds(&self) -> Result<Vec<Arc<LiveRound>>, ApiError> {
        let records = self.inner.store.rounds().await?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let id = record.id();
            let cached = self.inner.rounds.read().ok().and_then(|rounds| rounds.get(&id).cloned());
            let live = match cached {
                Some(live) if live.released == record.released => live,
                _ => {
                    let issuers = record
                        .token_keys_pem
                        .iter()
                        .map(|pem| IssuerKey::from_pem(pem))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| ApiError::internal(format!("round {id}: stored token key: {e}")))?;
                    if issuers.len() != record.manifest.manifest.teams.len() {
                        return Err(ApiError::internal(format!("round {id}: a key per team is stored")));
                    }
                    let live =
                        Arc::new(LiveRound { signed: record.manifest, issuers, released: record.released });
                    if let Ok(mut rounds) = self.inner.rounds.write() {
                        rounds.insert(id, live.clone());
                    }
                    live
                }
            };
            out.push(live);
        }
        Ok(out)
    }

    async fn live_round(&self, id: RoundId) -> Result<Option<Arc<LiveRound>>, ApiError> {
        Ok(self.live_rounds().await?.into_iter().find(|round| round.manifest().round == id))
    }

    fn subject_hmac(&self, subject: &str) -> [u8; 32] {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.inner.keys.server_secret[..])
            .expect("HMAC takes keys of any length");
        mac.update(b"candor/subject/v1");
        mac.update(subject.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// An error a client sees: a status and a JSON body naming the problem.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    fn internal(detail: String) -> Self {
        tracing::error!("{detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server could not complete the request",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error.to_string())
    }
}

impl From<AssertionError> for ApiError {
    fn from(error: AssertionError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Assertion, error.to_string())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(status, ErrorCode::TooLarge, format!("the body is larger than {MAX_BODY_BYTES} bytes"))
        } else {
            Self::new(status, ErrorCode::Body, rejection.body_text())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&ErrorBody { error: self.code, message: self.message })
            .unwrap_or_else(|_| "{}".into());
        (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// Serves the application on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
///
/// The accept loop is our own rather than `axum::serve`, for two things Candor must not
/// do: answer with a `Date` header (the exact time, on every response), and hand the
/// peer's address to anything — it is dropped here, where the connection is accepted,
/// so no handler, middleware or log line can ever see it.
pub async fn launch(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.auto_date_header(false)
        .timer(hyper_util::rt::TokioTimer::new())
        // A client that never finishes its headers is cut off (slowloris).
        .header_read_timeout(std::time::Duration::from_secs(20));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer_address_dropped)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::error!("accept failed: {error}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(hyper_util::rt::TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business; nothing to log.
            let _ = connection.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The routes.
pub fn router(state: AppState) -> Router {
    let config = &state.inner.config;
    let origins: Vec<HeaderValue> =
        config.intranet_origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600));
    let employee = Router::new()
        .route(ISSUER_DIRECTORY_PATH, get(issuer_directory))
        .route(TOKEN_REQUEST_PATH, post(token_request))
        .route("/v1/rounds", get(open_rounds))
        .route("/v1/feedback", post(feedback))
        .layer(cors);
    let leader = Router::new()
        .route("/v1/leader/sign-in", post(sign_in))
        .route("/v1/leader/sign-out", post(sign_out))
        .route("/v1/digest", get(digest));
    let headers = Arc::new(SecurityHeaders::new(config));
    // The built front ends. The widget's folder also holds embed.js, the host-page loader.
    let web = &config.web_dir;
    let widget = tower_http::services::ServeDir::new(web.join("widget"));
    let digest_page = tower_http::services::ServeDir::new(web.join("digest"));
    employee
        .merge(leader)
        .route("/healthz", get(|| async { "ok" }))
        .route("/", get(|| async { axum::response::Redirect::to("/digest/") }))
        .nest_service("/widget", widget)
        .nest_service("/digest", digest_page)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(headers, security_headers))
        .with_state(state)
}

/// The headers on every response.
#[derive(Debug)]
struct SecurityHeaders {
    /// CSP for the widget's pages: framable by the intranet only.
    widget_csp: HeaderValue,
    /// CSP for everything else: framable by nobody.
    csp: HeaderValue,
}

impl SecurityHeaders {
    fn new(config: &Config) -> Self {
        let base = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                    form-action 'self'";
        let ancestors = if config.intranet_origins.is_empty() {
            "'none'".to_owned()
        } else {
            config.intranet_origins.join(" ")
        };
        Self {
            widget_csp: HeaderValue::from_str(&format!("{base}; frame-ancestors {ancestors}"))
                .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
            csp: HeaderValue::from_str(&format!("{base}; frame-ancestors 'none'"))
                .unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'")),
        }
    }
}

async fn security_headers(
    State(security): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let widget = request.uri().path().starts_with("/widget");
    // The host-page loader is fetched by intranet pages with an integrity pin, which
    // browsers check only on a CORS response. It is public code and sent without
    // credentials, so any origin may read it.
    let loader = request.uri().path().starts_with("/widget/embed") && request.uri().path().ends_with(".js");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if loader {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    let csp = if widget { &security.widget_csp } else { &security.csp };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !widget {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

// ── Issuance ─────────────────────────────────────────────────────────────────────────

#[tracing::instrument(skip_all)]
async fn issuer_directory(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = crate::now();
    let token_keys = state
        .live_rounds()
        .await?
        .iter()
        .filter(|round| round.is_open(now))
        .flat_map(|round| round.token_keys().into_iter().map(|key| DirectoryKey::new(key, None)))
        .collect();
    let directory = IssuerDirectory {
        issuer_request_uri: format!("{}{TOKEN_REQUEST_PATH}", state.inner.config.origin()),
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

fn check_content_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let given = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::ContentType,
            format!("the body must be {expected}"),
        ))
    }
}

#[tracing::instrument(skip_all)]
async fn token_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let eligibility = state.inner.verifier.verify(bearer(&headers)?)?;
    check_content_type(&headers, TOKEN_REQUEST_MEDIA_TYPE)?;
    let request = TokenRequest::parse(&body?)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::TokenRequest, e.to_string()))?;
    let now = crate::now();
    let rounds = state.live_rounds().await?;
    let (round, team, issuer) = rounds
        .iter()
        .filter(|round| round.is_open(now))
        .flat_map(|round| round.teams().map(move |(team, issuer)| (round, team, issuer)))
        .find(|(_, team, _)| team.token_key_id.truncated() == request.truncated_key_id())
        .ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::TokenKey, "no open round has this token key")
        })?;
    // The team of the key is the team the item will speak for: the assertion must name
    // it (the deepest team of the round that holds one of its scopes), and nothing else.
    if !round.manifest().teams_for(&eligibility.scopes).contains(&team) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Team,
            "this token key is for a team your assertion does not name",
        ));
    }
    // Sign first, count second: a request that cannot be signed costs no quota, and
    // the signature is handed out only once the count is committed.
    let response = issuer.blind_sign(&request).map_err(|error| match error {
        IssueError::Signing => ApiError::internal("blind signing failed its own check".into()),
        other => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::TokenRequest, other.to_string()),
    })?;
    let hmac = state.subject_hmac(&eligibility.subject);
    let manifest = round.manifest();
    if !state.inner.store.take_quota(manifest.round, &hmac, manifest.tokens_per_person).await? {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Quota,
            format!("you have already received {} token(s) for this round", manifest.tokens_per_person),
        ));
    }
    // Nothing is logged: a log system stamps every line with the time, and a line per
    // token would keep the exact time of each page load.
    Ok(([(header::CONTENT_TYPE, TOKEN_RESPONSE_MEDIA_TYPE)], response.to_bytes()).into_response())
}

// ── Round discovery ──────────────────────────────────────────────────────────────────

/// Every open round. Every widget of the organisation fetches the same list, so the
/// request says nothing about who asks; each widget picks the round with a team for
/// its employee.
#[tracing::instrument(skip_all)]
async fn open_rounds(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = crate::now();
    let rounds: Vec<OpenRound> = state
        .live_rounds()
        .await?
        .iter()
        .filter(|round| round.is_open(now))
        .map(|round| OpenRound::new(round.signed.clone(), &round.token_keys()))
        .collect();
    Ok(axum::Json(rounds).into_response())
}

// ── Feedback ─────────────────────────────────────────────────────────────────────────

#[tracing::instrument(skip_all)]
async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let unauthorized = |message: String| ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Token, message);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            unauthorized("a Privacy Pass token is required (Authorization: PrivateToken token=…)".into())
        })?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not ASCII".into()))?;
    let token = http_auth::parse_authorization(authorization).map_err(|e| unauthorized(e.to_string()))?;
    let body = body?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Utf8, "the body is not valid UTF-8")
    })?;
    let submission: Submission = serde_json::from_str(text).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Json, format!("the body is not a submission: {e}"))
    })?;

    let round_id = submission.body.round;
    let round = state.live_round(round_id).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::Round, format!("there is no round {round_id}"))
    })?;
    let now = crate::now();
    if !round.is_open(now) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, ErrorCode::RoundNotOpen, "this round is not open"));
    }
    let manifest = round.manifest();
    // The item's team is the team of the key its token was issued under.
    let (team, issuer) = round
        .teams()
        .find(|(team, _)| team.token_key_id == token.token_key_id())
        .ok_or_else(|| unauthorized("the token's key id is not a token key of this round".into()))?;
    token.verify(issuer.token_key(), &manifest.token_challenge()).map_err(|error| match error {
        VerifyError::WrongKey => unauthorized("the token's key id is not this round's token key".into()),
        other => unauthorized(other.to_string()),
    })?;
    submission
        .verify(&token)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Signature, e.to_string()))?;
    manifest
        .check_submission(&submission.body)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::Answers, e.to_string()))?;

    let item_hash = submission.item_hash();
    let item = NewItem {
        item_hash,
        round: round_id,
        scope: team.scope.clone(),
        answers: submission.body.answers,
        author_key: submission.body.author_key.to_bytes(),
        received_day: crate::today(),
    };
    match state.inner.store.redeem(&token.spend_id(), &item).await? {
        Redemption::AlreadySpent => {
            Err(ApiError::new(StatusCode::CONFLICT, ErrorCode::Spent, "this token has already been used"))
        }
        Redemption::Stored => {
            // The commit is durable: only now is the receipt signed and sent. Nothing is
            // logged: a log line's timestamp would be the item's exact arrival time.
            let receipt = Receipt { round: round_id, item: item_hash }.sign(&state.inner.keys.receipt);
            Ok((StatusCode::CREATED, axum::Json(receipt)).into_response())
        }
        Redemption::AlreadyStored => {
            // A retry of a stored item whose answer was lost: the same receipt again.
            // Only the holder of the token and of the signed body can ask.
            let receipt = Receipt { round: round_id, item: item_hash }.sign(&state.inner.keys.receipt);
            Ok((StatusCode::OK, axum::Json(receipt)).into_response())
        }
    }
}

// ── Leaders ──────────────────────────────────────────────────────────────────────────

/// Hashes a link or session secret for storage.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

async fn sign_in(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let sign_in: SignIn = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::Json, "expected {\"link\": \"…\"}"))?;
    // Accept the whole link or only its secret part.
    let secret = sign_in.link.rsplit(['=', '/', '#']).next().unwrap_or_default();
    let mut session = [0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut session);
    let session = b64::encode(session);
    let leader = state
        .inner
        .store
        .sign_in(
            &secret_hash(secret),
            &secret_hash(&session),
            crate::today(),
            crate::days_from_today(SESSION_DAYS),
        )
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Link,
                "this sign-in link is unknown, used or expired",
            )
        })?;
    let secure = if state.inner.config.is_https() { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_DAYS * 86_400
    );
    tracing::info!("leader signed in");
    Ok(([(header::SET_COOKIE, cookie)], axum::Json(LeaderView { name: leader.name, scope: leader.scope }))
        .into_response())
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

async fn signed_in_leader(state: &AppState, headers: &HeaderMap) -> Result<crate::store::Leader, ApiError> {
    let unauthorized =
        || ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::Session, "sign in with your link first");
    let session = session_cookie(headers).ok_or_else(unauthorized)?;
    state.inner.store.session(&secret_hash(session), crate::today()).await?.ok_or_else(unauthorized)
}

async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(session) = session_cookie(&headers) {
        state.inner.store.sign_out(&secret_hash(session)).await?;
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(header::SET_COOKIE, cookie)], StatusCode::NO_CONTENT).into_response())
}

async fn digest(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let leader = signed_in_leader(&state, &headers).await?;
    let mut rounds = Vec::new();
    for round in state.live_rounds().await?.iter().filter(|round| round.released) {
        let items = state.inner.store.released_items(round.manifest().round).await?;
        if let Some(digest) = crate::digest::build(round.manifest(), &leader.scope, items) {
            rounds.push(digest);
        }
    }
    Ok(axum::Json(DigestView { leader: LeaderView { name: leader.name, scope: leader.scope }, rounds })
        .into_response())
}
