//! Nothing acknowledged is ever lost: a real `candor serve` under submission load is
//! killed with SIGKILL at random moments and started again, over and over. After each
//! restart:
//!
//! * every item whose receipt was received is stored: sending it again is answered
//!   200 with the same receipt (a 201 would mean it had been lost and was stored anew);
//! * every item whose answer was cut off is either stored or not, never half: sending
//!   it again is answered 201 or 200, and then it is stored;
//! * no token is spent twice: the same token with another item is refused, and the
//!   database holds exactly one spent token per item and exactly the acknowledged items;
//! * the backend's own consistency check (`PRAGMA integrity_check`, PostgreSQL's
//!   `amcheck`) finds nothing.
//!
//! `CANDOR_CRASH_KILLS` sets the number of kills (`cargo xtask crash` runs a long loop;
//! the test suite, on both backends, a short one).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use candor_protocol::receipt::SignedReceipt;
use candor_protocol::submission::Submission;
use common::process::{ServerProcess, write_config};
use common::{Employee, TestApp, spawn_app};
use rand::RngExt as _;

/// Kills in the test suite's run.
const DEFAULT_KILLS: usize = 10;
/// Submissions in flight at each kill.
const PER_CYCLE: usize = 48;

struct Sent {
    employee: Employee,
    submission: Submission,
    body: Vec<u8>,
}

enum Outcome {
    /// 201 or 200, with a receipt that verifies.
    Acknowledged(u16),
    /// The connection was refused or cut before a whole answer arrived.
    Cut,
}

async fn send(app: &TestApp, address: &str, sent: &Sent) -> Outcome {
    let response = app
        .http
        .post(format!("{address}/v1/feedback"))
        .header("authorization", sent.employee.authorization())
        .header("content-type", "application/json")
        .body(sent.body.clone())
        .timeout(Duration::from_secs(20))
        .send()
        .await;
    let Ok(response) = response else { return Outcome::Cut };
    let status = response.status().as_u16();
    let Ok(bytes) = response.bytes().await else { return Outcome::Cut };
    assert!(matches!(status, 200 | 201), "refused ({status}): {}", String::from_utf8_lossy(&bytes));
    let receipt: SignedReceipt = serde_json::from_slice(&bytes).expect("a receipt");
    sent.employee.check_receipt(&sent.submission, &receipt);
    Outcome::Acknowledged(status)
}

fn literal(sent: &Sent) -> String {
    let hex: String = sent.submission.item_hash().to_bytes().iter().map(|b| format!("{b:02X}")).collect();
    format!("X'{hex}'")
}

/// What the database holds against what was acknowledged: `Err` names each difference.
async fn check_database(app: &TestApp, acknowledged: &BTreeSet<String>) -> Result<(), String> {
    let tables = app.operator_tables().await;
    let table = |name: &str| tables.iter().find(|t| t.name == name).expect("table");
    let items = table("items");
    let hash = items.column("item_hash");
    let stored: BTreeSet<String> = items.rows.iter().map(|row| row[hash].clone()).collect();
    let mut problems = Vec::new();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    if !lost.is_empty() {
        problems.push(format!("{} acknowledged item(s) lost, e.g. {}", lost.len(), lost[0]));
    }
    let unknown = stored.difference(acknowledged).count();
    if unknown > 0 {
        problems.push(format!("{unknown} stored item(s) that nobody sent"));
    }
    let spent = table("spent_tokens").rows.len();
    if spent != items.rows.len() {
        problems.push(format!("{spent} spent token(s) for {} item(s)", items.rows.len()));
    }
    problems.extend(app.integrity_problems().await);
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_across_sigkills() {
    let kills: usize =
        std::env::var("CANDOR_CRASH_KILLS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_KILLS);
    let mut app = spawn_app().await;
    app.open_round("acme/eng", 3, 1).await;
    // The round is opened; from here on only the real process serves.
    app.stopped().await;
    let config = write_config(&app, "candor.toml");
    let mut server = ServerProcess::start(&config, "candor.log");
    app.address = server.address.clone();

    let mut rng = rand::rng();
    let mut acknowledged = BTreeSet::new();
    let (mut mid_batch, mut cut_total, mut acknowledged_before_kill) = (0, 0, 0);
    // The first batch runs to the end: how long it takes sets the window the kills fall
    // in, which then follows how they land: shorter after a kill that came when every
    // answer was in, longer after one that cut every request.
    let mut window = None::<Duration>;
    let mut first_batch = Duration::ZERO;
    let started = Instant::now();
    for cycle in 0..=kills {
        let employees = futures::future::join_all((0..PER_CYCLE).map(|k| {
            let subject = format!("person-{cycle}-{k}");
            let app = &app;
            async move { app.obtain_token(&subject, &["acme/eng"], "acme/eng").await }
        }))
        .await;
        let batch: Vec<Sent> = employees
            .into_iter()
            .enumerate()
            .map(|(k, employee)| {
                let submission = employee.submission(&format!("crash loop item {cycle}-{k}"), 7);
                let body = serde_json::to_vec(&submission).expect("json");
                Sent { employee, submission, body }
            })
            .collect();

        let address = server.address.clone();
        let sends = futures::future::join_all(batch.iter().map(|sent| send(&app, &address, sent)));
        let outcomes = match window {
            None => {
                let began = Instant::now();
                let outcomes = sends.await;
                first_batch = began.elapsed();
                window = Some(first_batch);
                outcomes
            }
            Some(window) => {
                let at = window.mul_f64(rng.random_range(0.0..1.0));
                let (outcomes, ()) = tokio::join!(sends, async {
                    tokio::time::sleep(at).await;
                    server.kill();
                });
                server = ServerProcess::start(&config, "candor.log");
                app.address = server.address.clone();
                outcomes
            }
        };

        let acked = outcomes.iter().filter(|o| matches!(o, Outcome::Acknowledged(_))).count();
        let cut = outcomes.len() - acked;
        if let Some(current) = window.filter(|_| cycle > 0) {
            mid_batch += usize::from(acked > 0 && cut > 0);
            cut_total += cut;
            acknowledged_before_kill += acked;
            let factor = if cut == 0 {
                0.7
            } else if acked == 0 {
                1.4
            } else {
                1.0
            };
            window = Some(current.mul_f64(factor).max(Duration::from_millis(1)));
        }
        for (sent, outcome) in batch.iter().zip(&outcomes) {
            let again = send(&app, &server.address, sent).await;
            match (outcome, again) {
                // Stored before the kill: found again, not stored anew.
                (Outcome::Acknowledged(_), Outcome::Acknowledged(status)) => {
                    assert_eq!(status, 200, "cycle {cycle}: an acknowledged item was lost and stored again")
                }
                // Its fate was unknown: now it is stored, once.
                (Outcome::Cut, Outcome::Acknowledged(_)) => {}
                (_, Outcome::Cut) => panic!("cycle {cycle}: the restarted server did not answer"),
            }
            acknowledged.insert(literal(sent));
            // The same token with another item: refused, the token is spent.
            let other = sent.employee.submission(&format!("a second item with token {cycle}"), 3);
            let response = app
                .post_feedback(&sent.employee.authorization(), serde_json::to_vec(&other).expect("json"))
                .await;
            assert_eq!(response.status(), 409, "cycle {cycle}: a token was spent twice");
        }
        if let Err(problems) = check_database(&app, &acknowledged).await {
            panic!("cycle {cycle}: {problems}\n{}", server.log());
        }
    }
    println!(
        "{kills} SIGKILLs in {:.1?}: {} items acknowledged, {acknowledged_before_kill} of them before a kill, \
         {cut_total} cut off and sent again; {mid_batch} kills landed mid-batch (batch of {PER_CYCLE} in {:.0?})",
        started.elapsed(),
        acknowledged.len(),
        first_batch,
    );
    if kills >= DEFAULT_KILLS {
        assert!(mid_batch > 0, "no kill landed while submissions were in flight: the loop proved nothing");
    }

    // Control: the check sees a lost item. Remove one acknowledged item behind the
    // server's back, as a lost commit would, and it must be reported.
    server.kill();
    remove_one_item(&app).await;
    let found = check_database(&app, &acknowledged).await;
    assert!(
        found.is_err_and(|problems| problems.contains("1 acknowledged item(s) lost")),
        "a lost item went unseen"
    );
}

async fn remove_one_item(app: &TestApp) {
    let url = app.config.database.as_str();
    let statements = [
        "DELETE FROM spent_tokens WHERE token_hash IN (SELECT token_hash FROM spent_tokens LIMIT 1)",
        "DELETE FROM items WHERE item_hash IN (SELECT item_hash FROM items LIMIT 1)",
    ];
    if app.config.database.is_postgres() {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        for statement in statements {
            sqlx::query(statement).execute(&pool).await.expect("delete");
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        for statement in statements {
            sqlx::query(statement).execute(&pool).await.expect("delete");
        }
        pool.close().await;
    }
}
