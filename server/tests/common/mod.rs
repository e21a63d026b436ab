//! `spawn_app()`: the production server (`Application::build`, the production log
//! subscriber) on a random loopback port, a fresh SQLite file, its own keys and
//! intranet key, a clock the test can move, and captured logs. Plus a client that does
//! what the widget does.

#![allow(dead_code)] // each test file uses a different part of this

pub mod postgres;
pub mod process;

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use candor_protocol::api::{OpenRound as DiscoveredRound, VerifiedRound};
use candor_protocol::domain::{QuestionId, RoundId, Scope};
use candor_protocol::http_auth;
use candor_protocol::keys::{AuthorKey, OrganisationKey, OrganisationPublicKey};
use candor_protocol::manifest::RoundManifest;
use candor_protocol::receipt::{Receipt, SignedReceipt};
use candor_protocol::submission::{Answer, AnswerValue, FeedbackText, NonceSalt, Submission, SubmissionBody};
use candor_protocol::token::{Token, TokenKey, TokenRequest, TokenResponse};
use candor_server::assertion::IntranetKey;
use candor_server::clock::{Clock as _, ManualClock};
use candor_server::config::{Config, Origin, PublicUrl};
use candor_server::http::AppState;
use candor_server::keyfiles::{self, ServerKeys};
use candor_server::ops;
use candor_server::ops::rounds::{Rating, RoundSpec};
use candor_server::startup::Application;
use candor_server::store::{DatabaseUrl, Store};

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
    pub state: AppState,
    pub clock: ManualClock,
    pub organisation: OrganisationPublicKey,
    pub organisation_key: OrganisationKey,
    pub intranet: IntranetKey,
    pub dir: tempfile::TempDir,
    pub logs: Logs,
    pub fields: Fields,
    pub http: reqwest::Client,
    _guard: tracing::subscriber::DefaultGuard,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub const INTRANET: &str = "http://intranet.test";
/// How browsers reach the server under test; the tests connect by address.
pub const PUBLIC_URL: &str = "https://candor.test";

/// Which backend the servers of this test run use: `CANDOR_TEST_BACKEND=postgres` runs
/// every suite that starts a server on PostgreSQL (a database of its own per test);
/// anything else, or nothing, on SQLite. `cargo xtask test` runs them on both.
pub fn on_postgres() -> bool {
    std::env::var("CANDOR_TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// The configuration a test server runs with, in `dir` (on SQLite; a test on
/// PostgreSQL gets its database in [`spawn_app_with`]).
pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        database: DatabaseUrl::parse(&format!("sqlite://{}", dir.join("data/candor.db").display()))
            .expect("url"),
        // Browsers reach it by name; the tests connect by address. Either way the
        // client's own address (127.0.0.1) must appear nowhere in what is stored.
        public_url: PublicUrl::parse(PUBLIC_URL).expect("url"),
        intranet_origins: vec![Origin::parse(INTRANET).expect("origin")],
        keys_dir: dir.join("keys"),
        jwks: dir.join("intranet-jwks.json"),
        web_dir: dir.join("dist"),
        ..Config::default()
    }
}

/// Starts a server. Tests using it run on a current-thread runtime, so the log capture
/// (a thread-local subscriber: the production one, with a capturing writer and a field
/// recorder on top) sees everything the server logs.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server with some settings of the test's own.
pub async fn spawn_app_with(settings: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(dir.path());
    if on_postgres() {
        config.database = postgres::fresh_database().await;
    }
    settings(&mut config);
    ServerKeys::create(&config.keys_dir).expect("keys");
    let intranet = IntranetKey::generate();
    std::fs::write(&config.jwks, intranet.add_to_jwks(None).expect("jwks")).expect("jwks file");
    spawn_app_in(dir, config, intranet).await
}

/// Starts a server on an existing folder and configuration (a restart, or a test's own
/// settings).
pub async fn spawn_app_in(dir: tempfile::TempDir, config: Config, intranet: IntranetKey) -> TestApp {
    use tracing_subscriber::layer::SubscriberExt as _;
    let logs = Logs::default();
    let writer = logs.clone();
    let fields = Fields::default();
    // Everything the server side logs, at every level; the test client's own HTTP logs
    // (which rightly name the server's address) are not the server's, nor is the line
    // sqlx writes when the harness's own operator connections parse a PostgreSQL URL
    // and find no `.pgpass` (the server parses its URL once, at start).
    let subscriber = candor_server::telemetry::subscriber(
        "trace,reqwest=off,hyper_util::client=off,hyper::client=off,sqlx_postgres::options::pgpass=off",
        move || writer.clone(),
    )
    .with(fields.clone());
    let guard = tracing::subscriber::set_default(subscriber);

    let clock = ManualClock::starting_now();
    let application =
        Application::build_with_clock(config, Arc::new(clock.clone())).await.expect("the server starts");
    let address = format!("http://{}", application.address());
    let state = application.state().clone();
    let (shutdown, stop) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(application.run_until_stopped(async {
        let _ = stop.await;
    }));
    let organisation_key =
        keyfiles::load_organisation_key(&state.config().keys_dir.join(keyfiles::ORGANISATION_KEY))
            .expect("key");
    TestApp {
        address,
        config: state.config().clone(),
        store: state.store().clone(),
        organisation: organisation_key.public_key(),
        organisation_key,
        state,
        clock,
        intranet,
        dir,
        logs,
        fields,
        http: reqwest::Client::new(),
        _guard: guard,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// An error answer's status and `error` code.
pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    (status, body["error"].as_str().expect("an error code").to_owned())
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

    /// The round the helpers open: a rating and a text question, closing in a week.
    pub fn spec(&self, scope: &str, teams: &[&str], threshold: u32, tokens_per_person: u32) -> RoundSpec {
        let closes = self.config.time_zone.day_after(self.clock.now(), 7);
        RoundSpec {
            teams: teams.iter().map(|team| Scope::parse(team).expect("team")).collect(),
            rating: Some(Rating::Enps),
            threshold,
            tokens_per_person,
            send_delay_minutes: 1,
            max_chars: 500,
            ..RoundSpec::new(Scope::parse(scope).expect("scope"), "What should your leader hear?", closes)
        }
    }

    /// A round with teams below its scope, each with its own token key.
    pub async fn open_round_with_teams(
        &self,
        scope: &str,
        teams: &[&str],
        threshold: u32,
        tokens_per_person: u32,
    ) -> RoundId {
        self.open(self.spec(scope, teams, threshold, tokens_per_person)).await
    }

    /// Opens a round as `candor round open` does, and has the server read it at once.
    pub async fn open(&self, spec: RoundSpec) -> RoundId {
        let id =
            ops::rounds::open(&self.config, self.store.as_ref(), &self.clock, spec, &self.organisation_key)
                .await
                .expect("round");
        self.state.forget_rounds();
        id
    }

    /// Releases a round as `candor round close` does.
    pub async fn release(&self, round: RoundId) {
        assert!(self.store.release_round(round).await.expect("release"), "released");
        self.state.forget_rounds();
    }

    /// An assertion as the intranet mints it at the test's time: it expires five minutes
    /// after the test clock's now (the servers judge `exp` by their own clock).
    pub fn assertion(&self, subject: &str, scopes: &[&str]) -> String {
        let real_now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs();
        let offset = i64::try_from(self.clock.now()).expect("time") - i64::try_from(real_now).expect("time");
        let claims = serde_json::json!({ "sub": subject, "aud": self.config.audience, "scopes": scopes });
        self.intranet.mint_raw(&claims, offset + 300)
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

    /// Adds a leader as `candor leader add` does; returns their id and link.
    pub async fn add_leader(&self, name: &str, scope: &str) -> (String, String) {
        let (id, link) = ops::leaders::add(
            &self.config,
            self.store.as_ref(),
            &self.clock,
            name,
            &Scope::parse(scope).expect("scope"),
        )
        .await
        .expect("leader");
        (id, link.expose().to_owned())
    }

    /// Signs in with a link as the digest page does: JSON, from the server's own origin.
    pub async fn sign_in(&self, link: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/leader/sign-in", self.address))
            .header("origin", PUBLIC_URL)
            .json(&serde_json::json!({ "link": link }))
            .send()
            .await
            .expect("sign in")
    }

    pub async fn leader_session(&self, name: &str, scope: &str) -> String {
        let (_, link) = self.add_leader(name, scope).await;
        let response = self.sign_in(&link).await;
        assert_eq!(response.status(), 200);
        let cookie = response.headers()["set-cookie"].to_str().expect("cookie").to_owned();
        assert!(
            cookie.starts_with("__Host-candor_session=")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Secure")
                && cookie.contains("Path=/")
                && !cookie.contains("Domain"),
            "{cookie}"
        );
        cookie.split(';').next().expect("pair").to_owned()
    }

    /// A leader's GET of `path` (under /v1/digest), as JSON; it must succeed.
    pub async fn leader_get(&self, cookie: &str, path: &str) -> serde_json::Value {
        let response = self
            .http
            .get(format!("{}{path}", self.address))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// The whole digest as the page reads it: the index, each round's digest, and every
    /// further page of every group, put together as `{leader, rounds: [digest…]}` with
    /// each group's `items` complete.
    pub async fn digest(&self, cookie: &str) -> serde_json::Value {
        let mut index = self.leader_get(cookie, "/v1/digest").await;
        let mut rounds = Vec::new();
        for heading in index["rounds"].as_array().expect("rounds") {
            let round = heading["round"].as_str().expect("round id");
            let mut digest = self.leader_get(cookie, &format!("/v1/digest/rounds/{round}")).await;
            for group in digest["groups"].as_array_mut().expect("groups") {
                let total = group["item_count"].as_u64().expect("count") as usize;
                let scope = group["scope"].as_str().expect("scope").to_owned();
                let items = group["items"].as_array_mut().expect("items");
                while items.len() < total {
                    let query = format!("group={scope}&from={}", items.len());
                    let page =
                        self.leader_get(cookie, &format!("/v1/digest/rounds/{round}/items?{query}")).await;
                    let more = page["items"].as_array().expect("page items");
                    assert!(!more.is_empty(), "a page before the group's end holds items");
                    items.extend(more.iter().cloned());
                }
                assert_eq!(items.len(), total, "every item of {scope} once");
            }
            rounds.push(digest);
        }
        index["rounds"] = serde_json::Value::Array(rounds);
        index
    }

    /// Every byte the backend has written: SQLite's database file and its WAL, or the
    /// PostgreSQL database's table, index and TOAST files after a checkpoint.
    pub async fn database_bytes(&self) -> Vec<u8> {
        if self.config.database.is_postgres() {
            return postgres::file_bytes(&self.config.database).await;
        }
        let mut bytes = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            if let Ok(mut data) = std::fs::read(self.db_file(suffix)) {
                bytes.append(&mut data);
            }
        }
        bytes
    }

    /// The database file, or its `-wal` or `-shm`.
    pub fn db_file(&self, suffix: &str) -> std::path::PathBuf {
        self.dir.path().join(format!("data/candor.db{suffix}"))
    }

    /// Everything the operator can read in the database: every row of every table, each
    /// value as SQLite's own literal (`quote()`: X'…' for blobs, '…' for text), in the
    /// order SQLite stores the rows — on PostgreSQL, in the order its system columns give.
    pub async fn operator_tables(&self) -> Vec<Table> {
        if self.config.database.is_postgres() {
            return postgres::tables(&self.config.database)
                .await
                .into_iter()
                .map(|(name, columns, rows)| Table { name, columns, rows })
                .collect();
        }
        let pool =
            sqlx::SqlitePool::connect(self.config.database.as_str()).await.expect("operator's connection");
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

    /// The backend's own consistency check: `PRAGMA integrity_check` on SQLite,
    /// `amcheck` on PostgreSQL. Empty when the database is sound.
    pub async fn integrity_problems(&self) -> Vec<String> {
        if self.config.database.is_postgres() {
            return postgres::integrity_problems(&self.config.database).await;
        }
        let pool =
            sqlx::SqlitePool::connect(self.config.database.as_str()).await.expect("operator's connection");
        let found: Vec<String> =
            sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&pool).await.expect("integrity_check");
        pool.close().await;
        found.into_iter().filter(|line| line != "ok").collect()
    }

    /// Stops the server (it finishes what is in flight, within its grace period).
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::io::stdout().flush();
    }

    /// Stops the server and starts it again on the same folder, configuration and keys,
    /// as after a crash or a deploy.
    pub async fn restart(mut self) -> TestApp {
        self.stopped().await;
        let TestApp { dir, config, intranet, _guard, .. } = self;
        drop(_guard);
        spawn_app_in(dir, config, intranet).await
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stopped(&mut self) {
        self.stop();
        if let Some(server) = self.server.take() {
            server.await.expect("the server task").expect("the server");
        }
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
                    value: AnswerValue::Text(FeedbackText::normalise(text).expect("text")),
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
