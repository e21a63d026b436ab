//! The ways the operator, a leader or a few colluders could still link items to people
//! (issue 10), each closed, each with the test that showed it open. The team tests are
//! in `teams.rs`, the adversaries in `adversary.rs`.

mod common;

use std::io::{Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use candor_protocol::domain::{QuestionId, RoundId, Scope};
use candor_protocol::submission::{Answer, AnswerValue, FeedbackText, ItemHash};
use candor_protocol::token::{IssuerKey, Token};
use candor_server::clock::Clock as _;
use candor_server::ops;
use candor_server::store::{NewItem, SealedKey, SpendId, StoreError, TeamKey};
use common::{INTRANET, PUBLIC_URL, spawn_app, spawn_app_with};
use sqlx::Connection as _;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

async fn write_items(app: &common::TestApp, team: &str, n: usize) {
    for i in 0..n {
        let e = app.obtain_token(&format!("{team}-{i}"), &[team], team).await;
        let body =
            serde_json::to_vec(&e.submission(&format!("words {i} from {team}"), 3)).expect("test set-up");
        assert_eq!(app.post_feedback(&e.authorization(), body).await.status(), 201);
    }
}

// ── 2. a rolled-up group's order gives its sub-teams away ───────────────────────────

/// A one-person team rolls up into its parent. Over many releases (the real store's
/// release shuffle, the real digest), where its item sits in the group must be spread
/// evenly. Before: the parent's own items came first and each small team as a block, so
/// the singleton's item was last every time ([0, 0, 0, 0, 100]).
#[tokio::test]
async fn a_singleton_teams_item_is_anywhere_in_its_rolled_up_group() {
    let app = spawn_app().await;
    let eng = Scope::parse("acme/eng").unwrap();
    let solo = Scope::parse("acme/eng/solo").unwrap();
    // Keys that are not live (no private key stored): the same two serve every round.
    let keys: Vec<TeamKey> = [&eng, &solo]
        .into_iter()
        .map(|scope| TeamKey {
            scope: scope.clone(),
            token_key: IssuerKey::generate(&mut rand::rng()).unwrap().token_key().clone(),
            sealed: None,
        })
        .collect();
    const RELEASES: usize = 100;
    let mut at = [0usize; 5];
    for _ in 0..RELEASES {
        let mut manifest = app.spec("acme/eng", &["acme/eng/solo"], 5, 1);
        manifest.rating = None;
        // Build the manifest as `round prepare` would, with these keys.
        let mut round =
            ops::rounds::prepare(&app.config, app.store.as_ref(), &app.clock, manifest).await.unwrap();
        // Replace the prepared round by one on the shared keys (a second, fresh round).
        round.round = RoundId::generate(&mut rand::rng());
        for (team, key) in round.teams.iter_mut().zip(&keys) {
            team.token_key_id = key.token_key.id();
        }
        app.store.prepare_round(&round, &keys).await.unwrap();
        let signed = round.clone().sign(&app.organisation_key).unwrap();
        app.store.import_signature(&signed).await.unwrap();
        for i in 0..5 {
            let (scope, text) = if i == 4 { (&solo, "solo".to_owned()) } else { (&eng, format!("eng {i}")) };
            let mut hash = [0u8; 32];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut hash);
            let mut spend = [0u8; 32];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut spend);
            let item = NewItem {
                item_hash: ItemHash(hash),
                round: round.round,
                scope: scope.clone(),
                answers: vec![Answer {
                    question: QuestionId::parse("text").unwrap(),
                    value: AnswerValue::Text(FeedbackText::parse(&text).unwrap()),
                }],
                author_key: hash,
                token: Vec::new(), // put in the store directly: no ledger is read
            };
            app.store.redeem(&SpendId(spend), &item).await.unwrap();
        }
        assert!(app.store.release_round(round.round).await.unwrap());
        let items = app.store.released_items(round.round).await.unwrap();
        let digest = candor_server::digest::build(&round, &eng, items).unwrap();
        assert_eq!(digest.groups.len(), 1, "the singleton rolls up into acme/eng");
        let position = digest.groups[0]
            .items
            .iter()
            .position(|item| item.answers[0].value == AnswerValue::Text(FeedbackText::parse("solo").unwrap()))
            .unwrap();
        at[position] += 1;
    }
    // Uniform: each of the 5 places 20 times on average (sd 4): within 5 sd, and the
    // old order (always last) far outside.
    println!("positions of the singleton team's item over {RELEASES} releases: {at:?}");
    assert!(at.iter().all(|&n| (1..=40).contains(&n)), "the singleton's item is not spread evenly: {at:?}");
}

// ── 3. "something is withheld" ──────────────────────────────────────────────────────

/// The leader of a one-person team reads the digest of a round where that person wrote
/// and of one where they did not: the two must be the same. Before (5f25abb), the
/// digest carried `withheld: true` for one item and `false` for none.
#[tokio::test]
async fn a_tiny_teams_leader_cannot_tell_whether_anyone_wrote() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for writers in [0, 1] {
        let round = app.open_round_with_teams("acme/eng", &["acme/eng/web"], 3, 1).await;
        write_items(&app, "acme/eng/web", writers).await;
        app.release(round).await;
        let cookie = app.leader_session("Web lead", "acme/eng/web").await;
        let digest = app.digest(&cookie).await;
        let mut mine = digest["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["round"] == round.to_string())
            .unwrap()
            .clone();
        mine["round"] = "R".into();
        seen.push(mine);
    }
    assert_eq!(seen[0], seen[1], "the digest differs between 0 and 1 item");
}

// ── 5. erasing the arrival order is retried ─────────────────────────────────────────

/// Whether the round's arrival order is still in the files (SQLite: the WAL holds the
/// frames; PostgreSQL: the table files still hold the items' old row versions, with
/// their arrival `xmin`s, beside the rewritten ones).
async fn order_still_kept(app: &common::TestApp) -> bool {
    if app.config.database.is_postgres() {
        let tables = app.operator_tables().await;
        let items = tables.iter().find(|t| t.name == "items").expect("items");
        let files = app.database_bytes().await;
        let column = items.column("author_key");
        items.rows.iter().any(|row| {
            let hex = row[column].trim_start_matches("X'").trim_end_matches('\'');
            let key: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            files.windows(key.len()).filter(|w| *w == key.as_slice()).count() > 1
        })
    } else {
        std::fs::metadata(app.db_file("-wal")).expect("test set-up").len() > 0
    }
}

/// What the erasure leaves: SQLite's WAL empty; on PostgreSQL every row of the round's
/// items, spent tokens and quota written by one statement of one transaction, and
/// placed in the order of its hash key.
async fn assert_erased(app: &common::TestApp) {
    if app.config.database.is_postgres() {
        for (table, key) in
            [("items", "item_hash"), ("spent_tokens", "token_hash"), ("issuance", "subject_hmac")]
        {
            let writers = common::postgres::distinct_writers(&app.config.database, table).await;
            assert_eq!(writers, (1, 1), "{table}: one xmin and one cmin for every row");
            assert!(
                common::postgres::placed_in_key_order(&app.config.database, table, key).await,
                "{table}: rows placed in key order"
            );
        }
    } else {
        assert_eq!(
            std::fs::metadata(app.db_file("-wal")).expect("the WAL file").len(),
            0,
            "the WAL is empty"
        );
    }
}

/// A read transaction someone holds open: on SQLite it keeps the WAL from being
/// emptied, on PostgreSQL its snapshot keeps the rows' old versions alive.
enum Reader {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Reader {
    async fn open(app: &common::TestApp) -> Self {
        let url = app.config.database.as_str();
        let count = "SELECT COUNT(*) FROM items";
        if app.config.database.is_postgres() {
            let mut reader = sqlx::PgConnection::connect(url).await.expect("test set-up");
            sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ")
                .execute(&mut reader)
                .await
                .expect("test set-up");
            let _: i64 = sqlx::query_scalar(count).fetch_one(&mut reader).await.expect("test set-up");
            Self::Postgres(reader)
        } else {
            let mut reader = sqlx::SqliteConnection::connect(url).await.expect("test set-up");
            sqlx::query("BEGIN").execute(&mut reader).await.expect("test set-up");
            let _: i64 = sqlx::query_scalar(count).fetch_one(&mut reader).await.expect("test set-up");
            Self::Sqlite(reader)
        }
    }

    async fn close(self) {
        match self {
            Self::Sqlite(mut reader) => {
                sqlx::query("COMMIT").execute(&mut reader).await.expect("test set-up");
                reader.close().await.expect("test set-up");
            }
            Self::Postgres(mut reader) => {
                sqlx::query("COMMIT").execute(&mut reader).await.expect("test set-up");
                reader.close().await.expect("test set-up");
            }
        }
    }
}

async fn release_with_a_reader_open(app: &common::TestApp) -> RoundId {
    let round = app.open_round("acme", 3, 1).await;
    write_items(app, "acme", 3).await;
    // A backup tool (or anyone) holds a read transaction open during the release.
    let reader = Reader::open(app).await;
    let released = app.store.release_round(round).await;
    assert!(matches!(released, Err(StoreError::Busy(_))), "{released:?}");
    assert!(order_still_kept(app).await, "the files still keep the arrival order");
    let list = ops::rounds::list(app.store.as_ref(), &app.clock).await.expect("test set-up");
    assert_eq!((list[0].state, list[0].erased), ("released", "pending"), "round list shows it");
    reader.close().await;
    round
}

/// Before: the release committed, the checkpoint failed, and nothing ever looked again
/// (after a restart the WAL still held 160,712 bytes of frames in arrival order).
#[tokio::test]
async fn an_erasure_that_a_reader_blocked_is_finished_at_start_up() {
    let app = spawn_app().await;
    release_with_a_reader_open(&app).await;
    let app = app.restart().await;
    assert_erased(&app).await;
    let list = ops::rounds::list(app.store.as_ref(), &app.clock).await.unwrap();
    assert_eq!((list[0].state, list[0].erased), ("released", "yes"));
}

#[tokio::test]
async fn an_erasure_that_a_reader_blocked_is_finished_by_the_release_loop() {
    let app = spawn_app().await;
    release_with_a_reader_open(&app).await;
    candor_server::startup::release_due(&app.state).await.unwrap();
    assert_erased(&app).await;
    let list = ops::rounds::list(app.store.as_ref(), &app.clock).await.unwrap();
    assert_eq!((list[0].state, list[0].erased), ("released", "yes"));
}

// ── 6. the database is private; token keys sealed, destroyed at release ─────────────

/// Before: candor.db was 0644 and held each round's RSA private key as PEM.
#[tokio::test]
async fn the_database_is_private_and_its_token_keys_sealed_and_destroyed_at_release() {
    let app = spawn_app().await;
    let round = app.open_round_with_teams("acme", &["acme/eng"], 3, 1).await;
    write_items(&app, "acme/eng", 1).await;
    // SQLite's files are Candor's to make private; PostgreSQL's are the cluster's own
    // (initdb makes its data directory 0700).
    if !app.config.database.is_postgres() {
        let mode = |path: std::path::PathBuf| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(app.dir.path().join("data")), 0o700, "the data folder");
        for suffix in ["", "-wal", "-shm"] {
            assert_eq!(mode(app.db_file(suffix)), 0o600, "candor.db{suffix}");
        }
    }
    assert!(!contains(&app.database_bytes().await, b"PRIVATE KEY"), "a token key is stored in the clear");
    // The sealed keys are there until release (the control: the search finds them)…
    let sealed: Vec<Vec<u8>> = app
        .store
        .round(round)
        .await
        .unwrap()
        .unwrap()
        .keys
        .iter()
        .map(|key| key.sealed.clone().expect("live").0)
        .collect();
    assert_eq!(sealed.len(), 2);
    // (A sealed key spans SQLite pages: look for it in 48-byte pieces.)
    let pieces = |files: &[u8]| -> usize {
        sealed.iter().flat_map(|s| s.chunks_exact(48)).filter(|piece| contains(files, piece)).count()
    };
    let total: usize = sealed.iter().map(|s| s.len() / 48).sum();
    assert!(pieces(&app.database_bytes().await) > total / 2, "the control: the search finds the sealed keys");
    // … and gone, from every file, after it.
    app.release(round).await;
    assert_eq!(pieces(&app.database_bytes().await), 0, "a destroyed private key is still in the files");
    assert!(app.store.round(round).await.unwrap().unwrap().keys.iter().all(|key| key.sealed.is_none()));
}

// ── 7. the issuer counts before it signs; limits ────────────────────────────────────

/// Before: a person over quota still reached the signer (400 "the blinded message is
/// not below the RSA modulus" instead of 429).
#[tokio::test]
async fn a_person_over_quota_gets_no_signing_work_and_a_failed_signing_costs_no_quota() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 1).await;
    app.obtain_token("bob", &["acme"], "acme").await;
    let (_, _, key) = app.round_for("acme").await.unwrap();
    // A blinded message the signer refuses (at or above the modulus): if it reaches the
    // signer, the answer says so; a quota checked first answers 429 without signing.
    let mut probe = vec![0x00, 0x02, key.id().truncated()];
    probe.extend([0xff; 256]);
    let response = app.post_token_request(&app.assertion("bob", &["acme"]), probe.clone()).await;
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(status, 429, "a request over quota reached the signer: {body}");
    // Someone with quota left whose request fails to sign keeps their token.
    let failed = app.post_token_request(&app.assertion("carol", &["acme"]), probe).await;
    assert_eq!(failed.status(), 400);
    assert_eq!(app.store.counts(round).await.unwrap().tokens_issued, 1, "the reservation was given back");
    app.obtain_token("carol", &["acme"], "acme").await;
    assert_eq!(app.store.counts(round).await.unwrap().tokens_issued, 2);
}

fn raw_connection(app: &common::TestApp) -> std::net::TcpStream {
    let stream =
        std::net::TcpStream::connect(app.address.trim_start_matches("http://")).expect("test set-up");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("test set-up");
    stream
}

fn read_answer(stream: &mut std::net::TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buffer).into_owned()
}

/// Before: a client that sent headers and part of a body held its connection and a
/// handler for good (still connected after 15 s).
#[tokio::test]
async fn a_client_that_never_finishes_its_body_is_answered_408() {
    let app = spawn_app_with(|config| config.request_timeout_seconds = 1).await;
    let mut stream = raw_connection(&app);
    stream
        .write_all(b"POST /v1/feedback HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"round\"")
        .unwrap();
    let started = std::time::Instant::now();
    let answer = tokio::task::spawn_blocking(move || read_answer(&mut stream)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn connections_past_the_limit_are_answered_503() {
    let app = spawn_app_with(|config| config.max_connections = 2).await;
    let held: Vec<std::net::TcpStream> = (0..2)
        .map(|_| {
            let mut stream = raw_connection(&app);
            stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
            stream
        })
        .collect();
    let mut held = tokio::task::spawn_blocking(move || {
        held.into_iter()
            .map(|mut stream| {
                assert!(read_answer(&mut stream).starts_with("HTTP/1.1 200"));
                stream // kept alive: each holds its connection
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let over = app.http.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(over.status(), 503);
    assert_eq!(over.json::<serde_json::Value>().await.unwrap()["error"], "rate-limited");
    // One goes away: within a bounded wait, a new connection is served again.
    drop(held.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let client = reqwest::Client::new(); // a fresh connection each time
        let status = client.get(format!("{}/healthz", app.address)).send().await.unwrap().status();
        if status == 200 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still refused after the connection closed");
        tokio::task::yield_now().await;
    }
    drop(held);
}

#[tokio::test]
async fn shutdown_waits_for_requests_in_flight_only_as_long_as_the_grace_period() {
    let mut app = spawn_app_with(|config| {
        config.request_timeout_seconds = 600;
        config.shutdown_grace_seconds = 1;
    })
    .await;
    let mut stream = raw_connection(&app);
    stream.write_all(b"POST /v1/feedback HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{").unwrap();
    // The request is in flight (its handler waits for the body) when the signal comes.
    assert_eq!(app.get("/healthz").await.status(), 200);
    let started = std::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), app.stopped()).await.expect("stopped within the bound");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    drop(stream);
}

#[tokio::test]
async fn the_round_list_is_parsed_again_only_when_a_round_changes() {
    let app = spawn_app().await;
    assert!(app.discover().await.is_empty());
    // A round opened by the CLI in another process: nothing tells this server, and its
    // next request sees the round all the same.
    let spec = app.spec("acme", &[], 3, 1);
    let round = ops::rounds::open(&app.config, app.store.as_ref(), &app.clock, spec, &app.organisation_key)
        .await
        .unwrap();
    assert_eq!(app.discover().await.len(), 1, "a round opened elsewhere is seen at once");
    // While no round changes, every request gets the same parsed list, not a new read.
    let first = app.state.live_rounds().await.unwrap();
    for _ in 0..3 {
        app.discover().await;
        assert!(std::sync::Arc::ptr_eq(&first, &app.state.live_rounds().await.unwrap()), "read again");
    }
    // A release, also from another process, is seen at once too.
    assert!(app.store.release_round(round).await.unwrap());
    assert!(!std::sync::Arc::ptr_eq(&first, &app.state.live_rounds().await.unwrap()));
    assert!(app.discover().await.is_empty(), "a released round is no longer offered");
}

// ── 8. no CORS on the API ───────────────────────────────────────────────────────────

/// Before: the API answered the intranet's preflight with access-control-allow-origin.
#[tokio::test]
async fn no_page_of_the_intranet_may_call_the_api() {
    let app = spawn_app().await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/token-request", app.address))
        .header("origin", INTRANET)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(
        preflight.headers().get("access-control-allow-origin").is_none(),
        "a script on an intranet page may post the assertion: {:?}",
        preflight.headers()
    );
    // The loader keeps its CORS answer: an integrity pin needs one.
    std::fs::create_dir_all(app.config.web_dir.join("widget")).unwrap();
    std::fs::write(app.config.web_dir.join("widget/embed-0123456789abcdef.js"), "/* loader */").unwrap();
    let loader = app.get("/widget/embed-0123456789abcdef.js").await;
    assert_eq!(loader.status(), 200);
    assert_eq!(loader.headers()["access-control-allow-origin"], "*");
}

// ── 9. leader sign-in ───────────────────────────────────────────────────────────────

/// Before: a text/plain form posted from another site signed the leader in (200).
#[tokio::test]
async fn a_cross_site_request_cannot_sign_a_leader_in() {
    let app = spawn_app().await;
    let (_, link) = app.add_leader("Lee", "acme").await;
    let body = serde_json::json!({ "link": link }).to_string();
    let post = |content_type: &'static str, origin: Option<&'static str>| {
        let mut request = app
            .http
            .post(format!("{}/v1/leader/sign-in", app.address))
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(post("text/plain", Some("https://evil.example")).await.unwrap()), 403, "a form");
    assert_eq!(status(post("application/json", Some("https://evil.example")).await.unwrap()), 403);
    assert_eq!(status(post("application/json", None).await.unwrap()), 403, "no Origin");
    assert_eq!(status(post("text/plain", Some(PUBLIC_URL)).await.unwrap()), 415, "same origin, not JSON");
    // None of that used up the link.
    assert_eq!(app.sign_in(&link).await.status(), 200);
}

/// Before: `candor_session=…`, without the prefix that stops a sibling subdomain from
/// planting or shadowing it.
#[tokio::test]
async fn the_session_cookie_has_the_host_prefix() {
    let app = spawn_app().await;
    let (_, link) = app.add_leader("Lee", "acme").await;
    let response = app.sign_in(&link).await;
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-candor_session="), "{cookie}");
    // A cookie without the prefix is no session.
    let value = cookie.split(';').next().unwrap().trim_start_matches("__Host-");
    let digest =
        app.http.get(format!("{}/v1/digest", app.address)).header("cookie", value).send().await.unwrap();
    assert_eq!(digest.status(), 401);
}

#[tokio::test]
async fn an_operator_can_end_sessions_remove_leaders_and_expired_rows_are_purged() {
    let app = spawn_app().await;
    let (id, _) = app.add_leader("Lee", "acme").await;
    let session = {
        let link = ops::leaders::link(&app.config, app.store.as_ref(), &app.clock, &id).await.unwrap();
        let response = app.sign_in(link.expose()).await;
        response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned()
    };
    let digest =
        |cookie: String| app.http.get(format!("{}/v1/digest", app.address)).header("cookie", cookie).send();
    assert_eq!(digest(session.clone()).await.unwrap().status(), 200);
    assert_eq!(ops::leaders::revoke(app.store.as_ref(), &id).await.unwrap(), 1);
    assert_eq!(digest(session).await.unwrap().status(), 401, "a revoked session");
    let session = app.leader_session("Kim", "acme").await;
    let kim = ops::leaders::list(app.store.as_ref()).await.unwrap();
    let kim = kim.iter().find(|(leader, _)| leader.name == "Kim").unwrap().0.id.clone();
    ops::leaders::remove(app.store.as_ref(), &kim).await.unwrap();
    assert_eq!(digest(session).await.unwrap().status(), 401, "a removed leader");
    assert!(ops::leaders::remove(app.store.as_ref(), &kim).await.is_err());

    // Lee's first link (unused) and a new session expire; the release loop purges them.
    app.leader_session("Ana", "acme").await;
    let rows =
        |tables: Vec<common::Table>, name: &str| tables.iter().find(|t| t.name == name).unwrap().rows.len();
    assert!(rows(app.operator_tables().await, "sign_in_links") >= 1);
    assert!(rows(app.operator_tables().await, "sessions") >= 1);
    app.clock.advance(16 * 86_400);
    candor_server::startup::release_due(&app.state).await.unwrap();
    let tables = app.operator_tables().await;
    assert_eq!(rows(tables.clone(), "sign_in_links"), 0);
    assert_eq!(rows(tables, "sessions"), 0);
}

// ── 10. no arrival day; the organisation's time zone ────────────────────────────────

/// Before: every item kept `received_day`.
#[tokio::test]
async fn items_keep_no_arrival_day() {
    let app = spawn_app().await;
    app.open_round("acme", 3, 1).await;
    write_items(&app, "acme", 1).await;
    let tables = app.operator_tables().await;
    let items = tables.iter().find(|t| t.name == "items").unwrap();
    let today = format!("'{}'", common::days_from_today(0));
    assert!(
        !items.rows.iter().flatten().any(|v| *v == today),
        "items keep the day they arrived: {:?}",
        items.columns
    );
    assert!(!items.columns.iter().any(|c| c.contains("day")), "{:?}", items.columns);
}

/// Rounds open and close at the organisation's midnights. In Auckland (UTC+13 in
/// December) the last day ends 13 hours before it ends in UTC.
#[tokio::test]
async fn rounds_open_and_close_by_the_organisations_time_zone() {
    let app = spawn_app_with(|config| {
        config.time_zone = candor_server::clock::OrgTimeZone::parse("Pacific/Auckland").unwrap();
    })
    .await;
    let round = app.open_round("acme", 3, 1).await;
    let manifest = app.discover().await.remove(0).manifest;
    assert_eq!(manifest.time_zone, "Pacific/Auckland");
    let zone = &app.config.time_zone;
    assert_eq!(manifest.opens, zone.day_at(app.clock.now()));
    assert_eq!(manifest.opens_at, zone.start_of(manifest.opens));
    assert_eq!(manifest.closes_at, zone.start_of(manifest.closes.next().unwrap()));
    let offset = manifest.closes.next().unwrap().utc_midnight() - manifest.closes_at;
    assert!(offset == 13 * 3_600 || offset == 12 * 3_600, "Auckland is 12 or 13 hours ahead: {offset}");
    let employee = app.obtain_token("p", &["acme"], "acme").await;
    let body = serde_json::to_vec(&employee.submission("late words", 3)).unwrap();
    // One second before Auckland's midnight after the last day: open.
    app.clock.set(manifest.closes_at - 1);
    app.state.forget_rounds();
    assert_eq!(app.discover().await.len(), 1);
    // At that midnight (still the last day in UTC): closed, and the loop releases it.
    app.clock.set(manifest.closes_at);
    app.state.forget_rounds();
    let refused = app.post_feedback(&employee.authorization(), body).await;
    assert_eq!(refused.status(), 403);
    candor_server::startup::release_due(&app.state).await.unwrap();
    assert!(app.store.round(round).await.unwrap().unwrap().released());
}

// ── 11. regressions: what held already ──────────────────────────────────────────────

/// An authenticator s + n verifies under raw RSA arithmetic mod n if an implementation
/// reduces before comparing; it must be refused (and it fits 256 bytes when s < 2^2048 − n).
#[tokio::test]
async fn an_authenticator_plus_the_modulus_is_refused() {
    let app = spawn_app().await;
    let round = app.open_round("acme", 3, 1).await;
    let (_, _, key) = app.round_for("acme").await.unwrap();
    let modulus = &key.spki()[candor_protocol::token::SPKI_PREFIX.len()..][..256];
    let mut tried = 0;
    let mut refused = 0;
    while refused == 0 {
        tried += 1;
        assert!(tried <= 40, "no token whose authenticator + n fits in 256 bytes");
        let employee = app.obtain_token(&format!("p{tried}"), &["acme"], "acme").await;
        let mut bytes = employee.token.to_bytes();
        // authenticator += n, big-endian, 256 bytes from offset 98.
        let mut carry = 0u16;
        for i in (0..256).rev() {
            let sum = u16::from(bytes[98 + i]) + u16::from(modulus[i]) + carry;
            bytes[98 + i] = (sum & 0xff) as u8;
            carry = sum >> 8;
        }
        if carry != 0 {
            continue; // does not fit: try another token
        }
        let forged = Token::parse(&bytes).unwrap();
        let body = serde_json::to_vec(&employee.submission("forged", 3)).unwrap();
        let authorization = candor_protocol::http_auth::authorization_value(&forged);
        let response = app.post_feedback(&authorization, body.clone()).await;
        assert_eq!(response.status(), 401, "s + n accepted");
        refused += 1;
        // The genuine token still works: nothing was spent.
        assert_eq!(app.post_feedback(&employee.authorization(), body).await.status(), 201);
    }
    assert_eq!(app.item_count(round).await, 1);
}

#[tokio::test]
async fn two_live_team_keys_cannot_share_a_truncated_id_in_the_database() {
    let app = spawn_app().await;
    let first = app.open_round("acme", 3, 1).await;
    let live = app.store.round(first).await.unwrap().unwrap();
    // Another round whose key has the same truncated id (here: the same key).
    let mut manifest = live.manifest.clone();
    manifest.round = RoundId::generate(&mut rand::rng());
    let keys = vec![TeamKey { sealed: Some(SealedKey(vec![1; 40])), ..live.keys[0].clone() }];
    let refused = app.store.prepare_round(&manifest, &keys).await;
    assert!(matches!(refused, Err(StoreError::TruncatedKeyIdTaken(_))), "{refused:?}");
    assert!(app.store.round(manifest.round).await.unwrap().is_none(), "nothing stored");
    // Once the first round is released its key is no longer live.
    app.release(first).await;
    app.store.prepare_round(&manifest, &keys).await.unwrap();
}

/// After release the `-shm` wal-index lists no frames in commit order: the only entries
/// left are those of the one page written after the erasure (the round's `erased`
/// mark), and the WAL is empty.
#[tokio::test]
async fn the_shm_file_after_release_keeps_no_frame_order() {
    let app = spawn_app().await;
    if app.config.database.is_postgres() {
        // SQLite's wal-index has no PostgreSQL counterpart; PostgreSQL's WAL is the
        // cluster's, and docs/THREAT-MODEL.md says what it keeps.
        println!("SQLite's -shm file: this run is on PostgreSQL");
        return;
    }
    let round = app.open_round("acme", 3, 1).await;
    write_items(&app, "acme", 5).await;
    // The wal-index: 136 bytes of headers, then the page number of each frame (u32).
    let frames = |shm: &[u8]| -> Vec<u32> {
        shm[136..136 + 4 * 4062]
            .chunks_exact(4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .filter(|&page| page != 0)
            .collect()
    };
    // The control: mid-round the index lists the frames' pages in commit order.
    let mid_round = frames(&std::fs::read(app.db_file("-shm")).unwrap());
    assert!(mid_round.len() >= 10, "mid-round the index lists the frames: {mid_round:?}");
    app.release(round).await;
    assert_eq!(std::fs::metadata(app.db_file("-wal")).unwrap().len(), 0);
    let after = frames(&std::fs::read(app.db_file("-shm")).unwrap());
    println!("-shm frames: {} mid-round, {after:?} after release", mid_round.len());
    assert!(after.len() <= 2, "the wal-index still lists frames in commit order: {after:?}");
}
