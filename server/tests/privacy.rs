//! After a full run, nothing identifying is in the database file or the logs: not the
//! client's address, its user agent, its referrer, its cookie, nor the exact time.

mod common;

use common::spawn_app;

const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) CandorTracer/7.7.7";
const REFERER: &str = "http://intranet.test/people/alice-smith/profile";
const COOKIE: &str = "intranet_sid=S3cr3tS3ss10nOfAlice";

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

/// Whether `haystack` holds a decimal number that starts with `prefix` (a Unix time
/// to the 10 000 s) and is not a day's midnight: the manifest keeps its days as the
/// Unix time of their midnight too (`opens_at`, `closes_at`; the tests' rounds are in
/// UTC), and a midnight is no more than the day it starts. Run in the first hours
/// after midnight, a plain search for the prefix found `opens_at` and failed.
fn holds_unix_time(haystack: &[u8], prefix: &str) -> bool {
    let is_digit = |i: usize| haystack.get(i).is_some_and(u8::is_ascii_digit);
    (0..haystack.len().saturating_sub(prefix.len() - 1)).any(|start| {
        if &haystack[start..start + prefix.len()] != prefix.as_bytes() || (start > 0 && is_digit(start - 1)) {
            return false;
        }
        let end = (start..).find(|&i| !is_digit(i)).unwrap_or(haystack.len());
        let number: Option<u64> =
            std::str::from_utf8(&haystack[start..end]).ok().and_then(|n| n.parse().ok());
        number.is_none_or(|n| !(n.is_multiple_of(86_400) || n.is_multiple_of(86_400_000)))
    })
}

#[tokio::test]
async fn neither_the_database_nor_the_logs_know_who_or_when() {
    let mut app = spawn_app().await;
    tracing::info!(target: "candor_server::tests", "capture check");
    let round = app.open_round("acme", 3, 1).await;
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();

    // Browsers send all of this; the server must drop every bit of it.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("user-agent", USER_AGENT.parse().unwrap());
    headers.insert("referer", REFERER.parse().unwrap());
    headers.insert("cookie", COOKIE.parse().unwrap());
    headers.insert("x-forwarded-for", "10.1.2.3".parse().unwrap());
    app.http = reqwest::Client::builder().default_headers(headers).build().unwrap();

    for i in 0..4 {
        // What every widget fetches at load, then issuance and feedback.
        assert_eq!(app.get("/v1/rounds").await.status(), 200);
        assert_eq!(app.get("/v1/assertion-keys").await.status(), 200);
        let employee = app.obtain_token(&format!("alice-{i}@acme.example"), &["acme/eng"], "acme/eng").await;
        let submission = employee.submission("Stand-ups run long", 6);
        let response =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(response.status(), 201);
        // A retry, a replay with other text and a bad request, so every path is in the logs too.
        let retry =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(retry.status(), 200);
        let other = employee.submission("Something else entirely", 1);
        let replay = app.post_feedback(&employee.authorization(), serde_json::to_vec(&other).unwrap()).await;
        assert_eq!(replay.status(), 409);
    }
    let bad = app.post_feedback("PrivateToken token=\"AAAA\"", "{}").await;
    assert_eq!(bad.status(), 401);
    // The files as they are mid-round (the WAL full), and again after release.
    let mid_round = app.database_bytes().await;
    app.release(round).await;
    // What every widget of the round fetches after the release: on the employee's path
    // too, so nothing of it may reach the logs.
    assert_eq!(app.get(&format!("/v1/rounds/{round}/ledger")).await.status(), 200);
    let cookie = app.leader_session("Lee", "acme").await;
    app.digest(&cookie).await;
    app.stop();

    let database = app.database_bytes().await;
    // The server's own start line names the address it listens on (loopback here, as
    // the client's is): it is logged once, before any request, and is not the client's.
    let logs: String =
        app.logs.text().lines().filter(|l| !l.contains("listening on")).map(|l| format!("{l}\n")).collect();
    assert!(!database.is_empty());
    assert!(logs.contains("capture check"), "the capture works: {logs}");
    // On the employee's path nothing is logged at all, at any level: a log system stamps
    // each line with the time. Only the server's start and stop, and the leader's
    // sign-in, are.
    let other: Vec<&str> = logs
        .lines()
        .filter(|l| {
            !["capture check", "leader signed in", "listening on", "shut down"]
                .iter()
                .any(|ok| l.contains(ok))
        })
        .collect();
    assert!(other.is_empty(), "logged on the employee's path: {other:#?}");
    let ended = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();

    let mut forbidden: Vec<String> = vec![
        "127.0.0.1".into(),
        "10.1.2.3".into(),
        "CandorTracer".into(),
        "alice-smith".into(),
        "S3cr3tS3ss10n".into(),
        "alice-0@acme.example".into(), // the assertion's subject: only its keyed hash is kept
    ];
    // Exact times: the Unix time of the run, to the 10 000 s, in seconds and millis,
    // and the clock time as HH:MM and as an ISO hour ("T15:"; without its colon these
    // are three characters that the base64url of the stored keys and signatures can
    // hold by chance, which failed a CI run on PostgreSQL).
    let mut unix_times = Vec::new();
    for t in [started.as_secs(), ended.as_secs()] {
        unix_times.push((t / 10_000).to_string());
        let clock = chrono::DateTime::from_timestamp(i64::try_from(t).unwrap(), 0).unwrap();
        forbidden.push(clock.format("%H:%M").to_string());
        forbidden.push(clock.format("T%H:").to_string());
    }
    assert!(contains(&mid_round, "Stand-ups run long"), "the mid-round copy holds the items");
    for needle in &forbidden {
        assert!(!contains(&mid_round, needle), "the database, mid-round, holds {needle:?}");
        assert!(!contains(&database, needle), "the database holds {needle:?}");
        assert!(!logs.contains(needle.as_str()), "the logs hold {needle:?}:\n{logs}");
    }
    for prefix in &unix_times {
        assert!(!holds_unix_time(&mid_round, prefix), "the database, mid-round, holds a Unix time {prefix}…");
        assert!(!holds_unix_time(&database, prefix), "the database holds a Unix time {prefix}…");
        assert!(!holds_unix_time(logs.as_bytes(), prefix), "the logs hold a Unix time {prefix}…:\n{logs}");
    }
    // Only days are stored (the round's and the leader's): today's date is there,
    // nothing finer.
    assert!(contains(&database, &common::days_from_today(0)));
}

/// Every column of the schema, with what it holds. A new column fails this test until
/// it is reviewed against docs/THREAT-MODEL.md and added here.
const COLUMNS: &[(&str, &[&str])] = &[
    // PostgreSQL only: the schema's version (SQLite keeps it in `PRAGMA user_version`).
    ("candor_schema", &["version"]),
    ("issuance", &["round_id", "subject_hmac", "tokens"]), // keyed hash of the subject, a count
    // No arrival day, no row id: nothing about when an item came.
    // `token`: the Privacy Pass token the item was redeemed with, for the round's ledger
    // (a blind signature: unlinkable to its issuance; spent_tokens holds its hash).
    ("items", &["item_hash", "round_id", "scope", "answers", "author_key", "position", "token"]),
    ("leaders", &["id", "name", "scope", "created_day"]),
    // `signed`: prepared rounds wait for the organisation's signature; `erased`: the
    // arrival order is gone from the files.
    ("rounds", &["id", "scope", "manifest", "opens", "closes", "released", "signed", "erased"]),
    // A counter that every change to `rounds` moves (triggers): it counts rounds opened,
    // signed, released and erased, nothing an employee does.
    ("rounds_generation", &["id", "generation"]),
    ("sessions", &["session_hash", "leader_id", "expires_day"]),
    ("sign_in_links", &["link_hash", "leader_id", "expires_day"]),
    ("spent_tokens", &["token_hash", "round_id"]),
    // The public key and, until release, the sealed private key of each team.
    ("team_keys", &["round_id", "scope", "token_key", "truncated_key_id", "sealed_private_key"]),
];

/// Every field any log event or span may carry, by target, with why it is harmless.
const LOG_FIELDS: &[(&str, &str)] = &[
    // Our own events' fixed messages (and a store error's text, if one happens).
    ("candor_server", "message"),
];

/// Every header a response on the employee's path may carry.
const RESPONSE_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "cache-control",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "vary",
    // On a 405 answer: the methods a route takes.
    "allow",
];

/// Text that could be an exact time: a clock time, an ISO timestamp, or a Unix time in
/// seconds or milliseconds of this decade.
fn looks_like_a_time(value: &str) -> bool {
    let bytes = value.as_bytes();
    let clock = bytes.windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b':'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    });
    let iso = bytes.windows(3).any(|w| w[0] == b'T' && w[1].is_ascii_digit() && w[2].is_ascii_digit())
        && bytes.windows(5).any(|w| w[4] == b'-' && w[..4].iter().all(u8::is_ascii_digit));
    let unix = value.parse::<u64>().is_ok_and(|n| {
        (1_700_000_000..2_100_000_000).contains(&n) || (1_700_000_000_000..2_100_000_000_000).contains(&n)
    });
    clock || iso || unix
}

#[tokio::test]
async fn the_submission_path_has_no_place_for_identifying_data() {
    let mut app = spawn_app().await;
    tracing::info!(target: "candor_server::tests", "capture check");
    let round = app.open_round("acme", 3, 1).await;
    let mut headers = std::collections::BTreeSet::new();
    let mut note = |response: &reqwest::Response| {
        headers.extend(response.headers().keys().map(|name| name.as_str().to_owned()));
    };
    // The whole employee path, with its error answers: discovery, issuance, feedback.
    note(&app.get("/v1/rounds").await);
    note(&app.get("/v1/assertion-keys").await);
    note(&app.get("/.well-known/private-token-issuer-directory").await);
    let refused = app.post_token_request("not-an-assertion", vec![0; 259]).await;
    assert_eq!(refused.status(), 401);
    note(&refused);
    for i in 0..3 {
        let employee = app.obtain_token(&format!("person-{i}"), &["acme/eng"], "acme/eng").await;
        let body = serde_json::to_vec(&employee.submission("Stand-ups run long", 6)).unwrap();
        let stored = app.post_feedback(&employee.authorization(), body.clone()).await;
        assert_eq!(stored.status(), 201);
        note(&stored);
        let retry = app.post_feedback(&employee.authorization(), body).await;
        assert_eq!(retry.status(), 200);
        note(&retry);
        let other = serde_json::to_vec(&employee.submission("Other words", 2)).unwrap();
        let replay = app.post_feedback(&employee.authorization(), other).await;
        assert_eq!(replay.status(), 409);
        note(&replay);
    }
    note(&app.post_feedback("PrivateToken token=\"AAAA\"", "{}").await);
    let big = app.obtain_token("person-big", &["acme/eng"], "acme/eng").await;
    let too_big = app.post_feedback(&big.authorization(), vec![b'x'; 70_000]).await;
    assert_eq!(too_big.status(), 413);
    note(&too_big);
    app.release(round).await;
    app.stop();

    // Response headers: only the listed ones. No Date (the exact time), no Set-Cookie,
    // no Server, no ETag or Last-Modified.
    let unexpected: Vec<&String> =
        headers.iter().filter(|h| !RESPONSE_HEADERS.contains(&h.as_str())).collect();
    assert!(unexpected.is_empty(), "unreviewed response headers on the employee path: {unexpected:?}");
    assert!(!headers.contains("date") && !headers.contains("set-cookie"));

    // Columns: exactly the reviewed ones, none named for what must never be stored.
    let tables = app.operator_tables().await;
    let schema: Vec<(String, Vec<String>)> =
        tables.iter().map(|t| (t.name.clone(), t.columns.clone())).collect();
    let reviewed: Vec<(String, Vec<String>)> = COLUMNS
        .iter()
        .filter(|(table, _)| *table != "candor_schema" || app.config.database.is_postgres())
        .map(|(table, columns)| ((*table).to_owned(), columns.iter().map(|c| (*c).to_owned()).collect()))
        .collect();
    assert_eq!(schema, reviewed, "the schema changed: review each new column against the threat model");
    for (table, columns) in &schema {
        for column in columns {
            for word in [
                "ip",
                "addr",
                "agent",
                "cookie",
                "refer",
                "time",
                "created_at",
                "updated_at",
                "stamp",
                "subject",
            ] {
                let is_hmac = column == "subject_hmac";
                assert!(is_hmac || !column.split('_').any(|part| part == word), "{table}.{column}");
            }
        }
    }
    // Values: nothing anywhere looks like an exact time; dates are days.
    for table in &tables {
        for row in &table.rows {
            for (column, value) in table.columns.iter().zip(row) {
                if table.name == "rounds" && column == "manifest" {
                    continue; // signed JSON: its instants are the round's (protocol), not a request's
                }
                assert!(!looks_like_a_time(value.trim_matches('\'')), "{}.{column} = {value}", table.name);
                if column.ends_with("_day") || column == "opens" || column == "closes" {
                    let day = value.trim_matches('\'');
                    assert!(day.len() == 10 && candor_protocol::domain::Day::parse(day).is_ok(), "{day}");
                }
            }
        }
    }

    // Log fields: only the reviewed ones.
    let fields = app.fields.seen();
    assert!(fields.contains(&("candor_server::tests".into(), "message".into())), "the recorder works");
    let unreviewed: Vec<&(String, String)> = fields
        .iter()
        .filter(|(target, name)| {
            !LOG_FIELDS.iter().any(|(prefix, allowed)| target.starts_with(prefix) && name == allowed)
        })
        .collect();
    assert!(unreviewed.is_empty(), "unreviewed log fields: {unreviewed:?}");
}

#[test]
fn the_time_detector_catches_times() {
    for time in ["12:34", "2026-11-29T12:34:56Z", "1764420000", "1764420000123", "at 09:05 today"] {
        assert!(looks_like_a_time(time), "{time}");
    }
    for not_a_time in ["2026-11-29", "7", "X'0A0B'", "acme/eng", "{\"rating\":7}", "How likely (0–10)"] {
        assert!(!looks_like_a_time(not_a_time), "{not_a_time}");
    }
    // The Unix-time search: a time of the run is found, in seconds or millis, anywhere;
    // a midnight (a day, as the manifest keeps it) is not.
    for held in ["at 1796343123", "\"t\":1796349999}", "x1796340000123", "1796342401"] {
        assert!(holds_unix_time(held.as_bytes(), "179634"), "{held}");
    }
    for not_held in ["\"opens_at\":1796342400,", "1796342400000", "2179634111", "17963", "0179634"] {
        assert!(!holds_unix_time(not_held.as_bytes(), "179634"), "{not_held}");
    }
}
