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

#[tokio::test]
async fn neither_the_database_nor_the_logs_know_who_or_when() {
    let mut app = spawn_app().await;
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
        let employee = app.obtain_token(&format!("alice-{i}@acme.example"), &["acme/eng"], "acme/eng").await;
        let submission = employee.submission("Stand-ups run long", 6);
        let response =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(response.status(), 201);
        // A replay and a bad request, so the error paths are in the logs too.
        let replay =
            app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).unwrap()).await;
        assert_eq!(replay.status(), 409);
    }
    let bad = app.post_feedback("PrivateToken token=\"AAAA\"", "{}").await;
    assert_eq!(bad.status(), 401);
    app.store.release_round(round).await.unwrap();
    let cookie = app.leader_session("Lee", "acme").await;
    app.digest(&cookie).await;
    app.stop();

    let database = app.database_bytes();
    let logs = app.logs.text();
    assert!(!database.is_empty());
    assert!(logs.contains("item stored"), "the capture works: {logs}");
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
    // and the clock time as HH:MM.
    for t in [started.as_secs(), ended.as_secs()] {
        forbidden.push((t / 10_000).to_string());
        let clock = chrono::DateTime::from_timestamp(i64::try_from(t).unwrap(), 0).unwrap();
        forbidden.push(clock.format("%H:%M").to_string());
        forbidden.push(clock.format("T%H").to_string());
    }
    for needle in &forbidden {
        assert!(!contains(&database, needle), "the database holds {needle:?}");
        assert!(!logs.contains(needle.as_str()), "the logs hold {needle:?}:\n{logs}");
    }
    // Only days are stored: today's date is there, nothing finer.
    assert!(contains(&database, &common::days_from_today(0)));
}
