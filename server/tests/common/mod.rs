//! `spawn_app()`: a real server on a random loopback port, a fresh SQLite file, its own
//! keys and intranet key, and captured logs. Plus a client that does what the widget does.

#![allow(dead_code)] // each test file uses a different part of this

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use candor_protocol::api::{OpenRound as DiscoveredRound, VerifiedRound};
use candor_protocol::domain::{QuestionId, RoundId, Scope};
use candor_protocol::http_auth;
use candor_protocol::keys::{AuthorKey, OrganisationPublicKey};
use candor_protocol::manifest::RoundManifest;
use candor_protocol::receipt::{Receipt, SignedReceipt};
use candor_protocol::submission::{Answer, AnswerValue, NonceSalt, Submission, SubmissionBody};
use candor_protocol::token::{Token, TokenKey, TokenRequest, TokenResponse};
use candor_server::app::AppState;
use candor_server::assertion::{AssertionVerifier, IntranetKey};
use candor_server::cli::{OpenRound, Rating};
use candor_server::config::Config;
use candor_server::keyfiles::ServerKeys;
use candor_server::store::{self, Store};

/// Logs written by the server under test.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("logs")).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every (target, field name) that any log event or span carried while the server ran.
#[derive(Clone, Default)]
pub struct Fields(Arc<Mutex<std::collections::BTreeSet<(String, String)>>>);

impl Fields {
    pub fn seen(&self) -> std::collections::BTreeSet<(String, String)> {
        self.0.lock().expect("fields").clone()
    }

    fn record(&self, target: &str, fields: &tracing::field::FieldSet) {
        let mut seen = self.0.lock().expect("fields");
        for field in fields {
            seen.insert((target.to_owned(), field.name().to_owned()));
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Fields {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.record(event.metadata().target(), event.metadata().fields());
    }

    fn on_new_span(
        &self,
        attributes: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.record(attributes.metadata().target(), attributes.metadata().fields());
    }
}

pub struct TestApp {
    pub address: String,
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub organisation: OrganisationPublicKey,
    pub intranet: IntranetKey,
    pub dir: tempfile::TempDir,
    pub logs: Logs,
    pub fields: Fields,
    pub http: reqwest::Client,
    _guard: tracing::subscriber::DefaultGuard,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

pub const INTRANET: &str = "http://intranet.test";

/// Starts a server. Tests using it run on a current-thread runtime, so the log capture
/// (a thread-local subscriber) sees everything the server logs.
pub async fn spawn_app() -> TestApp {
    use tracing_subscriber::layer::SubscriberExt as _;
    let logs = Logs::default();
    let writer = logs.clone();
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .without_time()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(fields.clone())
        // Everything the server side logs, at every level; the test client's own HTTP
        // logs (which rightly name the server's address) are not the server's.
        .with(tracing_subscriber::EnvFilter::new(
            "trace,reqwest=off,hyper_util::client=off,hyper::client=off",
        ));
    let guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().expect("tempdir");
    let keys_dir = dir.path().join("keys");
    let keys = ServerKeys::create(&keys_dir).expect("keys");
    let organisation = keys.organisation.public_key();
    let intranet = IntranetKey::generate();
    let jwks = intranet.add_to_jwks(None).expect("jwks");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let config = Config {
        listen: listener.local_addr().expect("address"),
        database: format!("sqlite://{}", dir.path().join("candor.db").display()),
        // Browsers reach it by name; the tests connect by address. Either way the
        // client's own address (127.0.0.1) must appear nowhere in what is stored.
        public_url: "https://candor.test".into(),
        intranet_origins: vec![INTRANET.into()],
        keys_dir,
        ..Config::default()
    };
    let store = store::open(&config.database).await.expect("store");
    let verifier = AssertionVerifier::from_jwks(&jwks, &config.audience, 30, 3_600).expect("verifier");
    let state = AppState::new(config.clone(), store.clone(), keys, verifier);
    let (shutdown, stop) = tokio::sync::oneshot::channel();
    tokio::spawn(candor_server::app::launch(state, listener, async {
        let _ = stop.await;
    }));
    TestApp {
        address,
        config,
        store,
        organisation,
        intranet,
        dir,
        logs,
        fields,
        http: reqwest::Client::new(),
        _guard: guard,
        shutdown: Some(shutdown),
    }
}

pub fn days_from_today(days: u64) -> String {
    let seconds =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    candor_protocol::domain::Day::from_unix_seconds(seconds + days * 86_400).expect("day").to_string()
}

impl TestApp {
    pub async fn open_round(&self, scope: &str, threshold: u32, tokens_per_person: u32) -> RoundId {
        self.open_round_with_teams(scope, &[], threshold, tokens_per_person).await
    }

    /// A round with teams below its scope, each with its own token key.
    pub async fn open_round_with_teams(
        &self,
        scope: &str,
        teams: &[&str],
        threshold: u32,
        tokens_per_person: u32,
    ) -> RoundId {
        candor_server::cli::open_round(
            &self.config,
            self.store.as_ref(),
            OpenRound {
                scope: scope.into(),
                teams: teams.iter().map(|team| (*team).to_owned()).collect(),
                question: "What should your leader hear?".into(),
                rating: Some(Rating::Enps),
                rating_prompt: None,
                closes: days_from_today(7),
                threshold,
                tokens_per_person,
                send_delay_minutes: 1,
                max_chars: 500,
                id_patterns: Vec::new(),
                keep_on_device_days: 30,
            },
        )
        .await
        .expect("round")
    }

    pub fn assertion(&self, subject: &str, scopes: &[&str]) -> String {
        let scopes: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s).expect("scope")).collect();
        self.intranet.mint(subject, &scopes, &self.config.audience, 300)
    }

    /// Every open round, verified as the widget does.
    pub async fn discover(&self) -> Vec<VerifiedRound> {
        let rounds: Vec<DiscoveredRound> = self
            .http
            .get(format!("{}/v1/rounds", self.address))
            .send()
            .await
            .expect("rounds")
            .json()
            .await
            .expect("rounds json");
        rounds.iter().map(|round| round.verify(&self.organisation).expect("the round verifies")).collect()
    }

    /// The first open round with a team for a member of `scope`, and that team's key.
    pub async fn round_for(&self, scope: &str) -> Option<(RoundManifest, Scope, TokenKey)> {
        let scope = Scope::parse(scope).expect("scope");
        self.discover().await.into_iter().find_map(|round| {
            let team = round.manifest.team_for_scope(&scope)?.clone();
            let key = round.key_of(&team)?.clone();
            Some((round.manifest, team.scope, key))
        })
    }

    /// A GET on the server, as an anonymous client.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.address)).send().await.expect("GET")
    }

    pub async fn post_token_request(&self, assertion: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/token-request", self.address))
            .bearer_auth(assertion)
            .header("content-type", "application/private-token-request")
            .body(body)
            .send()
            .await
            .expect("token request")
    }

    /// What the widget does on load: an author key, a bound nonce, a token under the key
    /// of the team that `team` answers as (the widget takes it from the assertion; a
    /// test can claim another).
    pub async fn obtain_token(&self, subject: &str, scopes: &[&str], team: &str) -> Employee {
        match self.try_obtain_token(subject, scopes, team).await {
            Ok(employee) => employee,
            Err((status, body)) => panic!("no token ({status}): {body}"),
        }
    }

    /// As [`obtain_token`](Self::obtain_token), with the server's refusal as an error.
    pub async fn try_obtain_token(
        &self,
        subject: &str,
        scopes: &[&str],
        team: &str,
    ) -> Result<Employee, (u16, String)> {
        let (manifest, team, key) = self.round_for(team).await.expect("an open round for the team");
        let mut rng = rand::rng();
        let author = AuthorKey::generate(&mut rng);
        let salt = NonceSalt::generate(&mut rng);
        let nonce = candor_protocol::submission::bound_nonce(&author.public_key(), &salt);
        let (request, pending) =
            TokenRequest::blind(&mut rng, &key, &manifest.token_challenge(), nonce).expect("blind");
        let response = self.post_token_request(&self.assertion(subject, scopes), request.to_bytes()).await;
        let status = response.status().as_u16();
        if status != 200 {
            return Err((status, response.text().await.unwrap_or_default()));
        }
        assert_eq!(response.headers()["content-type"], "application/private-token-response");
        let bytes = response.bytes().await.expect("body");
        let token = pending.finalize(&TokenResponse::parse(&bytes).expect("256 bytes")).expect("finalize");
        Ok(Employee { manifest, author, salt, token, team })
    }

    pub async fn post_feedback(
        &self,
        authorization: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/feedback", self.address))
            .header("authorization", authorization)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("feedback")
    }

    pub async fn item_count(&self, round: RoundId) -> u64 {
        self.store.counts(round).await.expect("counts").items
    }

    pub async fn leader_session(&self, name: &str, scope: &str) -> String {
        let link = candor_server::cli::add_leader(&self.config, self.store.as_ref(), name, scope)
            .await
            .expect("leader");
        let response = self
            .http
            .post(format!("{}/v1/leader/sign-in", self.address))
            .json(&serde_json::json!({ "link": link }))
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure")
        );
        cookie.split(';').next().expect("pair").to_owned()
    }

    pub async fn digest(&self, cookie: &str) -> serde_json::Value {
        let response = self
            .http
            .get(format!("{}/v1/digest", self.address))
            .header("cookie", cookie)
            .send()
            .await
            .expect("digest");
        assert_eq!(response.status(), 200);
        response.json().await.expect("digest json")
    }

    /// Every byte SQLite has written: the database file and its WAL.
    pub fn database_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(mut data) = std::fs::read(self.dir.path().join(format!("candor.db{suffix}"))) {
                bytes.append(&mut data);
            }
        }
        bytes
    }

    /// Everything the operator can read in the database: every row of every table, each
    /// value as SQLite's own literal (`quote()`: X'…' for blobs, '…' for text), in the
    /// order SQLite stores the rows.
    pub async fn operator_tables(&self) -> Vec<Table> {
        let pool = sqlx::SqlitePool::connect(&self.config.database).await.expect("operator's connection");
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("tables");
        let mut tables = Vec::new();
        for name in names {
            let columns: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{name}')"))
                    .fetch_all(&pool)
                    .await
                    .expect("columns");
            let select: Vec<String> = columns.iter().map(|c| format!("quote(\"{c}\")")).collect();
            let rows = sqlx::query(&format!("SELECT {} FROM \"{name}\"", select.join(", ")))
                .fetch_all(&pool)
                .await
                .expect("rows")
                .iter()
                .map(|row| {
                    use sqlx::Row as _;
                    (0..columns.len()).map(|i| row.try_get::<String, _>(i).expect("quoted value")).collect()
                })
                .collect();
            tables.push(Table { name, columns, rows });
        }
        pool.close().await;
        tables
    }

    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::io::stdout().flush();
    }
}

/// One table as the operator reads it.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn column(&self, name: &str) -> usize {
        self.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("{}.{name}", self.name))
    }
}

pub struct Employee {
    pub manifest: RoundManifest,
    pub author: AuthorKey,
    pub salt: NonceSalt,
    pub token: Token,
    /// The team of the token's key.
    pub team: Scope,
}

impl Employee {
    pub fn submission(&self, text: &str, rating: u8) -> Submission {
        SubmissionBody {
            round: self.manifest.round,
            answers: vec![
                Answer {
                    question: QuestionId::parse("rating").expect("id"),
                    value: AnswerValue::Rating(rating),
                },
                Answer {
                    question: QuestionId::parse("text").expect("id"),
                    value: AnswerValue::Text(candor_protocol::scrub::normalise(text)),
                },
            ],
            author_key: self.author.public_key(),
            nonce_salt: self.salt,
        }
        .sign(&self.author)
        .expect("sign")
    }

    pub fn authorization(&self) -> String {
        http_auth::authorization_value(&self.token)
    }

    pub fn check_receipt(&self, submission: &Submission, receipt: &SignedReceipt) {
        let expected = Receipt { round: self.manifest.round, item: submission.item_hash() };
        receipt.verify(&self.manifest.receipt_key, &expected).expect("receipt verifies");
    }
}
