//! Two `candor serve` processes on one database, behind nginx with Candor's reference
//! configuration (deploy/nginx/): one service. On PostgreSQL (`CANDOR_TEST_BACKEND=
//! postgres`, as `cargo xtask test` runs it) this is the deployment README describes;
//! on SQLite it is two processes on one machine's file.
//!
//! * 100 concurrent redemptions of one token, split across the two, store one item;
//! * the issuance quota holds across both;
//! * a token issued by one is redeemed at the other: both sign with the round's key;
//! * a round that is due is released, and its arrival order erased, once;
//! * the proxy's logs hold nothing of the employee's paths and no address, time or user
//!   agent; TLS sessions are not resumed. Control: nginx's stock log and session
//!   settings, under the same requests, show all of it.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use candor_protocol::domain::RoundId;
use candor_server::clock::Clock as _;
use common::process::{Nginx, NginxLog, ServerProcess, write_config};
use common::{PUBLIC_URL, TestApp, spawn_app};

const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) CandorTestBrowser/99.0";
const HOST: &str = "candor.test";
const DAY: u64 = 86_400;

/// What the proxy recorded that it must not have: every line of its access and error
/// logs that names an employee's path, an address, a time or the user agent.
fn proxy_log_problems(nginx: &Nginx) -> Vec<String> {
    let access = std::fs::read_to_string(&nginx.access_log).unwrap_or_default();
    let errors = std::fs::read_to_string(&nginx.error_log).unwrap_or_default();
    let time =
        regex_lite::Regex::new(r"\d{1,2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}|\d{2}/\w{3}/\d{4}").expect("regex");
    let mut problems = Vec::new();
    for line in access.lines().chain(errors.lines()) {
        for (what, found) in [
            ("an employee's path", ["/v1/", "/widget/", "/.well-known/"].iter().any(|p| line.contains(p))),
            ("an address", line.contains("127.0.0.1")),
            ("the user agent", line.contains("CandorTestBrowser")),
            ("a time", time.is_match(line)),
        ] {
            if found {
                problems.push(format!("{what}: {line}"));
            }
        }
    }
    problems
}

/// Whether a later connection with `openssl s_client -reconnect` resumed the first's
/// TLS session, in TLS 1.2 or 1.3 (either would let the server link the connections).
fn tls_session_resumed(nginx: &Nginx) -> bool {
    ["-tls1_2", "-tls1_3"].into_iter().any(|version| tls_session_resumed_with(nginx, version))
}

fn tls_session_resumed_with(nginx: &Nginx, version: &str) -> bool {
    let output = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", nginx.port),
            "-servername",
            HOST,
            "-reconnect",
        ])
        .arg(version)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl s_client");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("New, TLS"), "no TLS handshake: {text}");
    text.contains("Reused, TLS")
}

/// Requests of every kind an employee and a leader make, through the proxy.
async fn browse(app: &TestApp, round: RoundId, subject: &str) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    let _ = app.get("/widget/index.html").await;
    assert_eq!(app.get("/.well-known/private-token-issuer-directory").await.status(), 200);
    let employee = app.obtain_token(subject, &["acme/eng"], "acme/eng").await;
    assert_eq!(employee.manifest.round, round);
    let submission = employee.submission("Through the proxy, over TLS.", 8);
    let response =
        app.post_feedback(&employee.authorization(), serde_json::to_vec(&submission).expect("json")).await;
    assert_eq!(response.status(), 201);
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(60), "{what}: not within 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_servers_behind_nginx_are_one_service() {
    let mut app = spawn_app().await;
    // Both rounds are opened ten days ago: one closed three days ago (the servers find it
    // due when they start), one still open for four more days.
    let now = app.clock.now();
    app.clock.set(now - 10 * DAY);
    let mut past = app.spec("acme/ops", &[], 3, 1);
    past.closes = app.config.time_zone.day_after(app.clock.now(), 7);
    let past = app.open(past).await;
    for i in 0..5 {
        let employee = app.obtain_token(&format!("ops-{i}"), &["acme/ops"], "acme/ops").await;
        let body = serde_json::to_vec(&employee.submission(&format!("ops item {i}"), 6)).expect("json");
        assert_eq!(app.post_feedback(&employee.authorization(), body).await.status(), 201);
    }
    let mut open = app.spec("acme/eng", &[], 3, 2);
    open.closes = app.config.time_zone.day_after(app.clock.now(), 14);
    let round = app.open(open).await;
    app.stopped().await;
    app.clock.set(now);

    let config = write_config(&app, "candor.toml");
    let a = ServerProcess::start(&config, "a.log");
    let b = ServerProcess::start(&config, "b.log");
    let nginx = Nginx::start(app.dir.path(), "nginx", HOST, &[&a.address, &b.address], NginxLog::Reference);
    let direct = app.http.clone();
    app.http = nginx.client(HOST, USER_AGENT);
    app.address = format!("https://{HOST}:{}", nginx.port);
    assert!(PUBLIC_URL.ends_with(HOST));

    // Both servers release the due round as they start; it happens once.
    wait_until("the due round released and erased", async || {
        let round = app.store.round(past).await.expect("round").expect("stored");
        matches!(round.state, candor_server::store::RoundState::Released { erased: true })
    })
    .await;
    // The server logs the release once it is done; under load the line can come a
    // moment after the store shows it (a CI run read the log first and found none).
    let released = format!("round {past} released");
    let lines = || [&a, &b].map(|server| server.log().lines().filter(|l| l.contains(&released)).count());
    wait_until("the release logged", async || lines().iter().sum::<usize>() > 0).await;
    let lines = lines();
    assert_eq!(lines.iter().sum::<usize>(), 1, "the release ran {lines:?} times (a, b)");
    let items = app.operator_tables().await.into_iter().find(|t| t.name == "items").expect("items");
    let position = items.column("position");
    let positions: BTreeSet<String> = items.rows.iter().map(|row| row[position].clone()).collect();
    assert_eq!(positions, (0..5).map(|p| p.to_string()).collect(), "one shuffle, positions 0..5");

    // The employee's and the leader's requests, through the proxy, over TLS.
    for i in 0..4 {
        browse(&app, round, &format!("browser-{i}")).await;
    }

    // 100 concurrent redemptions of one token, 50 at each server, each with another
    // item: one is stored.
    let employee = app.obtain_token("one-token", &["acme/eng"], "acme/eng").await;
    let attempts = (0..100).map(|i| {
        let address = if i % 2 == 0 { &a.address } else { &b.address };
        let body = serde_json::to_vec(&employee.submission(&format!("attempt {i}"), 5)).expect("json");
        direct
            .post(format!("{address}/v1/feedback"))
            .header("authorization", employee.authorization())
            .header("content-type", "application/json")
            .body(body)
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|response| response.expect("answered").status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 409).count(), 99, "{statuses:?}");

    // The quota (two tokens a person) holds across both: eight requests at once, four
    // at each, give two tokens.
    let (manifest, _, key) = app.round_for("acme/eng").await.expect("round");
    let assertion = app.assertion("quota-person", &["acme/eng"]);
    let requests = (0..8).map(|i| {
        let address = if i % 2 == 0 { &a.address } else { &b.address };
        let nonce = candor_protocol::token::Nonce([i; 32]);
        let (request, _) = candor_protocol::token::TokenRequest::blind(
            &mut rand::rng(),
            &key,
            &manifest.token_challenge(),
            nonce,
        )
        .expect("blind");
        direct
            .post(format!("{address}/v1/token-request"))
            .bearer_auth(&assertion)
            .header("content-type", "application/private-token-request")
            .body(request.to_bytes())
            .send()
    });
    let statuses: Vec<u16> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|response| response.expect("answered").status().as_u16())
        .collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 2, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 6, "{statuses:?}");

    // Issued at one, redeemed at the other, both ways.
    for (issuer, redeemer) in [(&a, &b), (&b, &a)] {
        app.address = issuer.address.clone();
        app.http = direct.clone();
        let employee =
            app.obtain_token(&format!("cross-{}", issuer.address), &["acme/eng"], "acme/eng").await;
        app.address = redeemer.address.clone();
        let body = serde_json::to_vec(&employee.submission("Issued there, sent here.", 4)).expect("json");
        assert_eq!(app.post_feedback(&employee.authorization(), body).await.status(), 201);
    }

    // The proxy kept nothing of the above, and resumed no TLS session.
    assert_eq!(proxy_log_problems(&nginx), Vec::<String>::new());
    let access = std::fs::read_to_string(&nginx.access_log).expect("access log");
    assert!(access.contains("GET /healthz 200"), "the leaders' paths are logged, without who: {access}");
    assert!(!tls_session_resumed(&nginx), "a TLS session was resumed");

    // Control: the same requests through nginx's stock log and session settings.
    let stock = Nginx::start(app.dir.path(), "stock", HOST, &[&a.address, &b.address], NginxLog::Stock);
    app.http = stock.client(HOST, USER_AGENT);
    app.address = format!("https://{HOST}:{}", stock.port);
    browse(&app, round, "browser-control").await;
    let problems = proxy_log_problems(&stock);
    for what in ["an employee's path", "an address", "the user agent", "a time"] {
        assert!(
            problems.iter().any(|p| p.starts_with(what)),
            "the control's log showed no {what}: {problems:?}"
        );
    }
    assert!(tls_session_resumed(&stock), "the control resumed no TLS session: the check proves nothing");
}
