//! [`Application`]: the server as `candor serve` runs it and as every test runs it —
//! the same store, keys, state, router, accept loop, release loop and log subscriber.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::assertion::{AssertionVerifier, JwksError};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::http::{self, AppState, ServeLimits};
use crate::keyfiles::{KeyFileError, ServerKeys};
use crate::ops::OpsError;
use crate::store::{self, StoreError};

/// How often the release loop looks for rounds past their close.
pub const RELEASE_INTERVAL: Duration = Duration::from_secs(60);

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The receipt key or the server secret.
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    /// The intranet's keys.
    #[error(transparent)]
    Jwks(#[from] JwksError),
    /// The listening socket.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// A server bound to its address, ready to run.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
}

impl Application {
    /// Builds the server the configuration describes, on the system clock.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// Builds the server with the given clock. It needs only the receipt key and the
    /// server secret from `keys_dir` (never the organisation key), and before it
    /// listens it finishes any erasure of arrival order left pending by an earlier run.
    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        let store = store::open(&config.database).await?;
        if let Err(error) = store.finish_erasure().await {
            // The release loop tries again; `candor round list` shows it as pending.
            tracing::error!("erasing the arrival order of released rounds: {error}");
        }
        let keys = ServerKeys::load(&config.keys_dir)?;
        let verifier = AssertionVerifier::from_jwks_file(
            &config.jwks,
            &config.audience,
            config.assertion_leeway_seconds,
            config.assertion_max_lifetime_seconds,
        )?;
        let listener =
            TcpListener::bind(config.listen).await.map_err(|e| StartError::Listen(config.listen, e))?;
        let address = listener.local_addr().map_err(|e| StartError::Listen(config.listen, e))?;
        let state = AppState::new(config, store, keys, verifier, clock);
        Ok(Self { listener, address, state })
    }

    /// The address it listens on (a test binds port 0 and reads the port here).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its state: the store, the clock, the configuration.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, releasing due rounds every
    /// [`RELEASE_INTERVAL`]; then lets requests in flight finish within the grace period.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = ServeLimits::of(self.state.config());
        let app = http::router(self.state.clone());
        let state = self.state.clone();
        let release = tokio::spawn(async move {
            loop {
                if let Err(error) = release_due(&state).await {
                    tracing::error!("releasing rounds: {error}");
                }
                tokio::time::sleep(RELEASE_INTERVAL).await;
            }
        });
        let backend = candor_protocol::token::Backend::preferred();
        tracing::info!("blind signing with {backend}; listening on {}", self.address);
        let served = http::serve(app, self.listener, limits, shutdown).await;
        release.abort();
        tracing::info!("shut down");
        served
    }
}

/// One turn of the release loop: releases every round past its close, finishes any
/// pending erasure, and purges expired sign-in links and sessions.
pub async fn release_due(state: &AppState) -> Result<(), OpsError> {
    let released = crate::ops::rounds::release_due(state.store().as_ref(), state.clock().as_ref()).await?;
    if !released.is_empty() {
        state.forget_rounds();
    }
    for round in released {
        tracing::info!("round {round} released");
    }
    let today = state.config().time_zone.day_at(state.now());
    state.store().purge_expired(today).await?;
    Ok(())
}
