//! The HTTP application: one cloneable [`AppState`], a router per resource, one
//! [`ApiError`], the headers every response carries, and the accept loop.
//!
//! Nothing here traces requests. On the issuance and submission paths nothing is logged
//! at all, except internal errors: any log line gets a timestamp from whatever collects
//! it, and one line per token or item would be a record of when each arrived.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use candor_protocol::domain::RoundId;
use candor_protocol::manifest::{RoundManifest, SignedManifest, Team};
use candor_protocol::token::{IssuerKey, TokenKey};
use tokio::net::TcpListener;

use crate::assertion::AssertionVerifier;
use crate::clock::Clock;
use crate::config::Config;
use crate::keyfiles::ServerKeys;
use crate::sealing::TokenKeySeal;
use crate::store::{RoundState, Store, SubjectHmac};

mod error;
pub mod feedback;
pub mod issuance;
pub mod leader;
pub mod openapi;
pub mod rounds;
pub mod web;

pub use error::ApiError;

/// The most a request body may hold.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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
    seal: TokenKeySeal,
    verifier: AssertionVerifier,
    clock: Arc<dyn Clock>,
    /// The signed rounds, with the rounds' generation they were read at.
    rounds: Mutex<Option<(u64, std::time::Instant, LiveRounds)>>,
    /// Unsealed, parsed keys by round: unsealing and parsing RSA keys is too slow to do
    /// per request.
    parsed: Mutex<HashMap<RoundId, Arc<LiveRound>>>,
    /// Released rounds' digests, once built.
    digests: crate::digest::DigestCache,
    /// Released rounds' ledgers, once built.
    ledgers: crate::ledger::LedgerCache,
}

/// How long the token and item paths use the cached rounds before asking the store
/// whether they changed (one small read).
const ROUNDS_RECHECK: Duration = Duration::from_secs(2);

/// Every signed round, as one shared list.
pub type LiveRounds = Arc<Vec<Arc<LiveRound>>>;

/// A signed round with its parsed keys.
#[derive(Debug)]
pub struct LiveRound {
    /// The signed manifest, as served.
    pub signed: SignedManifest,
    /// The teams' public keys, in the manifest's team order.
    pub token_keys: Vec<TokenKey>,
    /// The teams' private keys; none once released.
    pub issuers: Option<Vec<IssuerKey>>,
    /// Released to leaders.
    pub released: bool,
}

impl LiveRound {
    /// The manifest.
    pub fn manifest(&self) -> &RoundManifest {
        &self.signed.manifest
    }

    /// Whether it takes tokens and feedback at this Unix time.
    pub fn is_open(&self, now: u64) -> bool {
        !self.released && self.issuers.is_some() && self.manifest().is_open_at(now)
    }

    /// The teams with their public keys.
    pub fn teams(&self) -> impl Iterator<Item = (&Team, &TokenKey)> {
        self.manifest().teams.iter().zip(&self.token_keys)
    }

    /// The issuer key of a team, while the round is live.
    pub fn issuer(&self, team: &Team) -> Option<&IssuerKey> {
        let index = self.manifest().teams.iter().position(|t| t == team)?;
        self.issuers.as_ref()?.get(index)
    }
}

impl AppState {
    /// Builds the state.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        keys: ServerKeys,
        verifier: AssertionVerifier,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let seal = keys.token_key_seal();
        Self {
            inner: Arc::new(Inner {
                config,
                store,
                keys,
                seal,
                verifier,
                clock,
                rounds: Mutex::default(),
                parsed: Mutex::default(),
                digests: crate::digest::DigestCache::default(),
                ledgers: crate::ledger::LedgerCache::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The digests built so far.
    pub fn digests(&self) -> &crate::digest::DigestCache {
        &self.inner.digests
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Unix seconds now.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// Forgets the cached rounds: the next request reads them again. (The cache also
    /// follows the store's rounds generation at every [`AppState::live_rounds`], which
    /// the page-load paths call, so a round the CLI or another server opens or closes
    /// is seen at the next page load; the token and item paths see a new round when
    /// they miss it in the cache, and a closed one when the store refuses a write.)
    pub fn forget_rounds(&self) {
        if let Ok(mut rounds) = self.inner.rounds.lock() {
            *rounds = None;
        }
    }

    /// Every signed round, parsed: from the cache while no round has changed (one small
    /// read per request instead of every manifest).
    pub async fn live_rounds(&self) -> Result<LiveRounds, ApiError> {
        let generation = self.inner.store.rounds_generation().await?;
        if let Ok(mut cached) = self.inner.rounds.lock()
            && let Some((read_at, _, rounds)) = cached.as_ref()
            && *read_at == generation
        {
            let rounds = rounds.clone();
            if let Some(entry) = cached.as_mut() {
                entry.1 = std::time::Instant::now();
            }
            return Ok(rounds);
        }
        let records = self.inner.store.rounds().await?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let Some(signed) = record.signed() else { continue };
            let released = record.released();
            let id = record.id();
            let cached = self.inner.parsed.lock().ok().and_then(|parsed| parsed.get(&id).cloned());
            let live = match cached {
                Some(live) if live.released == released => live,
                _ => {
                    let issuers = if released || record.state == RoundState::Prepared {
                        None
                    } else {
                        let mut issuers = Vec::with_capacity(record.keys.len());
                        for key in &record.keys {
                            let sealed = key.sealed.as_ref().ok_or_else(|| {
                                ApiError::internal(format!("round {id}: a live key was destroyed"))
                            })?;
                            let issuer = self
                                .inner
                                .seal
                                .unseal(id, &key.scope, sealed)
                                .map_err(|e| ApiError::internal(format!("round {id}: {e}")))?;
                            if issuer.token_key() != &key.token_key {
                                return Err(ApiError::internal(format!(
                                    "round {id}: a key does not match its team"
                                )));
                            }
                            issuers.push(issuer);
                        }
                        Some(issuers)
                    };
                    let live = Arc::new(LiveRound {
                        signed,
                        token_keys: record.keys.iter().map(|key| key.token_key.clone()).collect(),
                        issuers,
                        released,
                    });
                    if let Ok(mut parsed) = self.inner.parsed.lock() {
                        parsed.insert(id, live.clone());
                    }
                    live
                }
            };
            out.push(live);
        }
        let out = Arc::new(out);
        if let Ok(mut cached) = self.inner.rounds.lock() {
            // The generation read before the rounds: a change in between only means one
            // more read at the next request.
            *cached = Some((generation, std::time::Instant::now(), out.clone()));
        }
        Ok(out)
    }

    /// What `find` finds in the rounds as cached, without asking the store whether they
    /// changed; only if there is no cache yet, or `find` finds nothing in it (a round
    /// that another server or the CLI opened since), are they read again.
    ///
    /// For the token-request and submission paths, which run once per token and item:
    /// they leave the judgement of whether a round still takes tokens and items to the
    /// store's own write ([`Store::reserve_quota`], [`Store::redeem`]), which cannot be
    /// behind, and call [`AppState::forget_rounds`] when it says the round is closed.
    pub async fn find_round<T>(
        &self,
        find: impl Fn(&[Arc<LiveRound>]) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        // Checked against the store's generation every few seconds even so: a round
        // released elsewhere leaves this server's memory, with its private keys, soon
        // after, whatever traffic the server gets.
        let cached = self.inner.rounds.lock().ok().and_then(|cached| {
            cached
                .as_ref()
                .filter(|(_, checked, _)| checked.elapsed() < ROUNDS_RECHECK)
                .map(|(_, _, r)| r.clone())
        });
        if let Some(found) = cached.as_deref().and_then(|rounds| find(rounds)) {
            return Ok(Some(found));
        }
        Ok(find(&self.live_rounds().await?))
    }

    /// One signed round, as [`AppState::find_round`] finds it.
    pub async fn live_round(&self, id: RoundId) -> Result<Option<Arc<LiveRound>>, ApiError> {
        self.find_round(|rounds| rounds.iter().find(|round| round.manifest().round == id).cloned()).await
    }

    /// The keyed hash of an assertion's subject: all the quota keeps of a person.
    pub fn subject_hmac(&self, subject: &str) -> SubjectHmac {
        SubjectHmac(self.inner.keys.keyed_hash(b"candor/subject/v1", subject.as_bytes()))
    }
}

/// Checks a request body's media type.
pub(crate) fn check_content_type(headers: &HeaderMap, expected: &'static str) -> Result<(), ApiError> {
    let given = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("");
    let essence = given.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case(expected) { Ok(()) } else { Err(ApiError::ContentType(expected)) }
}

/// Every route. The widget's requests are same-origin (it runs in an iframe on this
/// server), so the API sends no CORS headers: no script on an intranet page may call it.
pub fn router(state: AppState) -> Router {
    let headers = Arc::new(SecurityHeaders::new(&state.inner.config));
    let timeout = Duration::from_secs(u64::from(state.inner.config.request_timeout_seconds));
    Router::new()
        .merge(issuance::router())
        .merge(rounds::router())
        .merge(feedback::router())
        .merge(leader::router())
        .merge(openapi::router())
        .merge(web::router(&state.inner.config))
        .layer(json_compression())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(headers, security_headers))
        .layer(middleware::from_fn_with_state(timeout, request_timeout))
        .with_state(state)
}

/// JSON answers of some size go out brotli- or gzip-compressed, as the client accepts
/// (the built files are compressed ahead of time, see [`web`]). Only JSON: token
/// responses are random bytes, and every JSON answer an employee's widget fetches is the
/// same for everyone, so its compressed length says nothing about who asked.
fn json_compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    let json_of_some_size =
        |_: StatusCode, _: axum::http::Version, headers: &HeaderMap, _: &axum::http::Extensions| {
            let json = headers
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.starts_with("application/json"));
            let length = headers
                .get(header::CONTENT_LENGTH)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            json && length.is_none_or(|length| length >= 256)
        };
    tower_http::compression::CompressionLayer::new().no_deflate().no_zstd().compress_when(json_of_some_size)
}

/// A request (body included) that takes longer than the configured bound is answered
/// 408 and its connection closed.
async fn request_timeout(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::Timeout.into_response();
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
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
            config.intranet_origins.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(" ")
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
    // credentials, so any origin may read it. Nothing else carries CORS headers.
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

/// Limits of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// The most connections served at once.
    pub max_connections: usize,
    /// The longest a client may take to send its headers.
    pub header_timeout: Duration,
    /// How long requests in flight may finish after the shutdown signal.
    pub shutdown_grace: Duration,
}

impl ServeLimits {
    /// The limits a configuration sets.
    pub fn of(config: &Config) -> Self {
        Self {
            max_connections: usize::try_from(config.max_connections).unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(u64::from(config.request_timeout_seconds)),
            shutdown_grace: Duration::from_secs(u64::from(config.shutdown_grace_seconds)),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish for at most the grace period.
///
/// The accept loop is our own rather than `axum::serve`, for two things Candor must not
/// do: answer with a `Date` header (the exact time, on every response), and hand the
/// peer's address to anything — it is dropped here, where the connection is accepted,
/// so no handler, middleware or log line can ever see it. Past `max_connections` a
/// connection is answered 503 and closed at once.
pub async fn serve(
    app: Router,
    listener: TcpListener,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.auto_date_header(false)
        .timer(hyper_util::rt::TokioTimer::new())
        // A client that never finishes its headers is cut off (slowloris).
        .header_read_timeout(limits.header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let busy = Router::new().fallback(|| async {
        let mut response = ApiError::Busy.into_response();
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer_address_dropped)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::error!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let io = hyper_util::rt::TokioIo::new(stream);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                let service = hyper_util::service::TowerToHyperService::new(app.clone());
                let connection = graceful.watch(http.serve_connection(io, service));
                tokio::spawn(async move {
                    // A client that goes away mid-request is its own business; nothing to log.
                    let _ = connection.await;
                    drop(permit);
                });
            }
            Err(_) => {
                let service = hyper_util::service::TowerToHyperService::new(busy.clone());
                let connection = http.serve_connection(io, service);
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                });
            }
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    Ok(())
}
