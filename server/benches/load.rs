//! The server measured from outside, over loopback: real `candor serve` processes (this
//! profile's build) on SQLite and PostgreSQL, one and two of them, driven by a load
//! generator in this process that keeps N requests in flight. Each level is bounded in
//! count and in time. Every figure is put beside a ceiling measured in the same run:
//! `openssl speed rsa2048` for issuance, and for submissions the verification bound —
//! one token verification and one Ed25519 verification per item, per core.
//!
//! `cargo xtask bench` runs it and writes the report; alone:
//! `cargo bench -p candor-server --bench load` (JSON on stdout and in
//! `CANDOR_BENCH_OUT`). `CANDOR_BENCH_ONLY=sqlite` measures only the SQLite
//! submissions, `CANDOR_BENCH_ONLY=issuance` only issuance (for a before/after),
//! `CANDOR_BENCH_ONLY=digest` only the digest, `CANDOR_BENCH_QUICK=1` a few requests per
//! level and a small digest.
//!
//! The digest: a round of 3,000 items and one of 100,000, released with the real
//! `candor round close` (timed), then read by a leader from a fresh `candor serve`: the
//! small round's digest before and after the large one exists, the large one's first
//! answer (built) and again (kept), a later page, and the index. The items go into the
//! store directly, not through issuance and submission: what is measured starts at the
//! release, and 100,000 blind signatures would only make the run long.

#[path = "../tests/common/mod.rs"]
#[allow(unused_qualifications, clippy::all)]
mod common;

use std::cell::Cell;
use std::time::{Duration, Instant};

use candor_protocol::submission::Submission;
use candor_protocol::token::TokenRequest;
use common::process::{ServerProcess, write_config};
use common::{Employee, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};

const SUBMISSION_CLIENTS: [usize; 4] = [1, 8, 32, 64];
const ISSUANCE_CLIENTS: [usize; 3] = [1, 2, 4];
/// The longest one level may run.
const LEVEL_TIME: Duration = Duration::from_secs(20);

struct Sizes {
    submissions: usize,
    issuance: usize,
}

fn main() {
    // cargo bench passes `--bench`; nothing else is taken.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let report = runtime.block_on(run());
    let text = serde_json::to_string_pretty(&report).expect("json");
    if let Ok(path) = std::env::var("CANDOR_BENCH_OUT") {
        std::fs::write(&path, &text).expect("report file");
    }
    println!("{text}");
}

async fn run() -> Value {
    let quick = std::env::var("CANDOR_BENCH_QUICK").is_ok();
    let only = std::env::var("CANDOR_BENCH_ONLY").ok();
    let sizes = if quick {
        Sizes { submissions: 40, issuance: 20 }
    } else {
        Sizes { submissions: 3_000, issuance: 2_000 }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut report =
        json!({ "cores": cores, "profile": if cfg!(debug_assertions) { "debug" } else { "release" } });
    let mut submissions = Vec::new();
    let mut bound = None;
    if only.as_deref() == Some("digest") {
        report["digest"] = digest(quick).await;
        return report;
    }
    let configurations: &[(&str, usize)] = match only.as_deref() {
        Some("sqlite" | "issuance") => &[("sqlite", 1)],
        _ => &[("sqlite", 1), ("sqlite", 2), ("postgres", 1), ("postgres", 2)],
    };
    for &(backend, servers) in configurations {
        let bench = Bench::start(backend, servers).await;
        if bound.is_none() {
            bound = Some(bench.verification_bound(cores).await);
        }
        let bound = bound.unwrap_or(1.0);
        for clients in SUBMISSION_CLIENTS.into_iter().filter(|_| only.as_deref() != Some("issuance")) {
            let level = bench.submissions(clients, sizes.submissions).await;
            eprintln!("submissions, {backend}, {servers} server(s), {clients} client(s): {level}");
            let mut level = level;
            let rate = level["items_per_s"].as_f64().unwrap_or(0.0);
            level["ratio_to_bound"] = json!(rate / bound);
            submissions.push(level);
        }
        if backend == "sqlite" && servers == 1 && only.as_deref() != Some("sqlite") {
            let openssl = openssl_speed();
            let mut issuance = Vec::new();
            for clients in ISSUANCE_CLIENTS {
                let mut level = bench.issuance(clients, sizes.issuance).await;
                eprintln!("issuance, {clients} client(s): {level}");
                let rate = level["tokens_per_s"].as_f64().unwrap_or(0.0);
                if let Some(sign) = openssl {
                    level["ratio_to_openssl"] = json!(rate / (sign * cores as f64));
                }
                issuance.push(level);
            }
            report["openssl_speed_rsa2048_sign_per_s_one_core"] = json!(openssl);
            report["issuance"] = json!(issuance);
        }
        bench.stop().await;
    }
    report["verification_bound_items_per_s"] = json!(bound);
    report["submissions"] = json!(submissions);
    if only.is_none() {
        report["digest"] = digest(quick).await;
    }
    report
}

/// The teams of the digest's rounds: five, under one scope.
const DIGEST_TEAMS: [&str; 5] =
    ["acme/eng/platform", "acme/eng/web", "acme/eng/data", "acme/eng/mobile", "acme/eng/sre"];

async fn digest(quick: bool) -> Value {
    let (small, large) = if quick { (300, 3_000) } else { (3_000, 100_000) };
    let mut app = spawn_app().await;
    let small_round = app.open_round_with_teams("acme/eng", &DIGEST_TEAMS, 5, 1).await;
    let large_round = app.open_round_with_teams("acme/eng", &DIGEST_TEAMS, 5, 1).await;
    seed(&app, small_round, small).await;
    app.stopped().await;
    let config = write_config(&app, "candor.toml");
    let close_small = round_close(&config, small_round);

    let server = ServerProcess::start(&config, "candor-digest.log");
    app.address = server.address.clone();
    let cookie = app.leader_session("Bench lead", "acme/eng").await;
    let small_alone = timed_get(&app, &cookie, &format!("/v1/digest/rounds/{small_round}")).await;
    let mut server = server;
    server.kill();

    seed(&app, large_round, large).await;
    let close_large = round_close(&config, large_round);

    // Building the digest from the round's items, apart from reading them (in this
    // process, from the same store).
    let items = app.store.released_items(large_round).await.expect("items");
    let manifest = app.store.round(large_round).await.expect("round").expect("the round").manifest;
    let started = Instant::now();
    let leader_scope = candor_protocol::domain::Scope::parse("acme/eng").expect("scope");
    let built_digest = candor_server::digest::build(&manifest, &leader_scope, items).expect("digest");
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    drop(built_digest);

    let mut server = ServerProcess::start(&config, "candor-digest.log");
    app.address = server.address.clone();
    let cpu = server.cpu_seconds();
    let small_beside = timed_get(&app, &cookie, &format!("/v1/digest/rounds/{small_round}")).await;
    let built = timed_get(&app, &cookie, &format!("/v1/digest/rounds/{large_round}")).await;
    let cpu_built = server.cpu_seconds() - cpu;
    let mut kept = Vec::new();
    for _ in 0..20 {
        kept.push(
            timed_get(&app, &cookie, &format!("/v1/digest/rounds/{large_round}")).await["ms"]
                .as_f64()
                .unwrap_or(0.0),
        );
    }
    let group = DIGEST_TEAMS[0];
    let page =
        timed_get(&app, &cookie, &format!("/v1/digest/rounds/{large_round}/items?group={group}&from=10000"))
            .await;
    let index = timed_get(&app, &cookie, "/v1/digest").await;
    server.kill();
    json!({
        "small_items": small,
        "large_items": large,
        "round_close_small_s": close_small,
        "round_close_large_s": close_large,
        "small_digest_alone": small_alone,
        "small_digest_beside_large": small_beside,
        "large_digest_first": built,
        "large_digest_first_server_cpu_ms": cpu_built * 1e3,
        "large_build_ms": build_ms,
        "large_digest_again_median_ms": median(&mut kept),
        "large_page": page,
        "index": index,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// A leader's GET, timed from sending to the last byte: ms, bytes (uncompressed).
async fn timed_get(app: &TestApp, cookie: &str, path: &str) -> Value {
    let started = Instant::now();
    let response =
        app.http.get(format!("{}{path}", app.address)).header("cookie", cookie).send().await.expect("get");
    assert_eq!(response.status(), 200, "GET {path}");
    let body = response.bytes().await.expect("body");
    json!({ "ms": started.elapsed().as_secs_f64() * 1e3, "bytes": body.len() })
}

/// `candor round close ID`, as the operator runs it: its wall time in seconds.
fn round_close(config: &std::path::Path, round: candor_protocol::domain::RoundId) -> f64 {
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_candor"))
        .env_remove("CANDOR_CONFIG")
        .args([
            "--config".as_ref(),
            config.as_os_str(),
            "round".as_ref(),
            "close".as_ref(),
            round.to_string().as_ref(),
        ])
        .output()
        .expect("candor round close");
    assert!(output.status.success(), "round close: {}", String::from_utf8_lossy(&output.stderr));
    started.elapsed().as_secs_f64()
}

async fn seed(app: &TestApp, round: candor_protocol::domain::RoundId, count: usize) {
    seed_store(app.store.as_ref(), round, count).await;
}

/// `count` items spread over the teams, as redemptions of distinct tokens would store
/// them: a rating and a text of about 200 characters each.
async fn seed_store(
    store: &dyn candor_server::store::Store,
    round: candor_protocol::domain::RoundId,
    count: usize,
) {
    use candor_protocol::domain::{QuestionId, Scope};
    use candor_protocol::submission::{Answer, AnswerValue, FeedbackText, ItemHash};
    use candor_server::store::{NewItem, SpendId};
    use sha2::Digest as _;
    let hash =
        |kind: &str, i: usize| -> [u8; 32] { sha2::Sha256::digest(format!("{round}/{kind}/{i}")).into() };
    let teams: Vec<Scope> = DIGEST_TEAMS.iter().map(|team| Scope::parse(team).expect("team")).collect();
    for chunk in (0..count).collect::<Vec<_>>().chunks(256) {
        let writes = chunk.iter().map(|&i| {
            let item = NewItem {
                item_hash: ItemHash(hash("item", i)),
                round,
                scope: teams[i % teams.len()].clone(),
                answers: vec![
                    Answer { question: QuestionId::parse("rating").expect("id"), value: AnswerValue::Rating((i % 11) as u8) },
                    Answer {
                        question: QuestionId::parse("text").expect("id"),
                        value: AnswerValue::Text(
                            FeedbackText::normalise(&format!(
                                "Item {i}: the planning meetings run long and the decisions taken there are not \
                                 written down, so the same questions come back every week. A short written \
                                 summary would help everyone."
                            ))
                            .expect("text"),
                        ),
                    },
                ],
                author_key: hash("author", i),
                token: hash("token", i).to_vec(), // put in the store directly: no ledger is read
            };
            async move { store.redeem(&SpendId(hash("token", i)), &item).await.expect("redeem") }
        });
        futures::future::join_all(writes).await;
    }
}

/// One configuration: a round, its servers, a client.
struct Bench {
    app: TestApp,
    backend: &'static str,
    servers: Vec<ServerProcess>,
    next_subject: Cell<usize>,
}

impl Bench {
    async fn start(backend: &'static str, count: usize) -> Bench {
        let database =
            if backend == "postgres" { Some(common::postgres::fresh_database().await) } else { None };
        let mut app = spawn_app_with(move |config| {
            if let Some(database) = database {
                config.database = database;
            }
        })
        .await;
        app.open_round("acme/eng", 3, 1).await;
        app.stopped().await;
        let config = write_config(&app, "candor.toml");
        let servers: Vec<ServerProcess> =
            (0..count).map(|i| ServerProcess::start(&config, &format!("candor-{i}.log"))).collect();
        app.address = servers[0].address.clone();
        Bench { app, backend, servers, next_subject: Cell::new(0) }
    }

    fn subject(&self) -> String {
        let n = self.next_subject.get();
        self.next_subject.set(n + 1);
        format!("person-{n}")
    }

    async fn employees(&self, count: usize) -> Vec<Employee> {
        let mut employees = Vec::with_capacity(count);
        for chunk in (0..count).collect::<Vec<_>>().chunks(16) {
            let subjects: Vec<String> = chunk.iter().map(|_| self.subject()).collect();
            let batch = futures::future::join_all(
                subjects.iter().map(|subject| self.app.obtain_token(subject, &["acme/eng"], "acme/eng")),
            )
            .await;
            employees.extend(batch);
        }
        employees
    }

    fn cpu(&self) -> f64 {
        self.servers.iter().map(ServerProcess::cpu_seconds).sum()
    }

    /// One token verification and one submission signature check, per core: what a
    /// server that did nothing else could take.
    async fn verification_bound(&self, cores: usize) -> f64 {
        let employees = self.employees(200).await;
        let (_, _, key) = self.app.round_for("acme/eng").await.expect("round");
        let submissions: Vec<Submission> = employees.iter().map(|e| e.submission("bound", 5)).collect();
        let challenge = employees[0].manifest.token_challenge();
        let started = Instant::now();
        let mut rounds = 0;
        while started.elapsed() < Duration::from_secs(2) {
            for (employee, submission) in employees.iter().zip(&submissions) {
                employee.token.verify(&key, &challenge).expect("token");
                submission.verify(&employee.token).expect("signature");
            }
            rounds += 1;
        }
        let per_core = (rounds * employees.len()) as f64 / started.elapsed().as_secs_f64();
        per_core * cores as f64
    }

    async fn submissions(&self, clients: usize, count: usize) -> Value {
        let employees = self.employees(count).await;
        let bodies: Vec<(String, Vec<u8>)> = employees
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let body = serde_json::to_vec(&e.submission(&format!("bench item {i}"), 5)).expect("json");
                (e.authorization(), body)
            })
            .collect();
        let addresses: Vec<String> = self.servers.iter().map(|s| s.address.clone()).collect();
        let (elapsed, latencies, cpu) = self
            .drive(clients, bodies.len(), |i, worker| {
                let (authorization, body) = &bodies[i];
                self.app
                    .http
                    .post(format!("{}/v1/feedback", addresses[worker % addresses.len()]))
                    .header("authorization", authorization)
                    .header("content-type", "application/json")
                    .body(body.clone())
            })
            .await;
        level_report(
            json!({ "backend": self.backend, "servers": self.servers.len(), "clients": clients }),
            elapsed,
            &latencies,
            cpu,
            "items",
        )
    }

    async fn issuance(&self, clients: usize, count: usize) -> Value {
        let (manifest, _, key) = self.app.round_for("acme/eng").await.expect("round");
        let mut rng = rand::rng();
        let requests: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| {
                let nonce = candor_protocol::token::Nonce([u8::try_from(i % 256).unwrap_or(0); 32]);
                let (request, _) =
                    TokenRequest::blind(&mut rng, &key, &manifest.token_challenge(), nonce).expect("blind");
                (self.app.assertion(&self.subject(), &["acme/eng"]), request.to_bytes())
            })
            .collect();
        let addresses: Vec<String> = self.servers.iter().map(|s| s.address.clone()).collect();
        let (elapsed, latencies, cpu) = self
            .drive(clients, requests.len(), |i, worker| {
                let (assertion, body) = &requests[i];
                self.app
                    .http
                    .post(format!("{}/v1/token-request", addresses[worker % addresses.len()]))
                    .bearer_auth(assertion)
                    .header("content-type", "application/private-token-request")
                    .body(body.clone())
            })
            .await;
        level_report(
            json!({ "clients": clients, "servers": self.servers.len() }),
            elapsed,
            &latencies,
            cpu,
            "tokens",
        )
    }

    /// `clients` workers keep one request each in flight until `count` are done or
    /// [`LEVEL_TIME`] has passed. Every answer must be a success.
    async fn drive(
        &self,
        clients: usize,
        count: usize,
        request: impl Fn(usize, usize) -> reqwest::RequestBuilder,
    ) -> (Duration, Vec<Duration>, Cpu) {
        let next = Cell::new(0);
        let latencies = std::cell::RefCell::new(Vec::with_capacity(count));
        let (cpu, own) = (self.cpu(), common::process::cpu_seconds(std::process::id()));
        let started = Instant::now();
        let worker = |worker: usize| {
            let (next, latencies, request, started) = (&next, &latencies, &request, started);
            async move {
                loop {
                    let i = next.get();
                    if i >= count || started.elapsed() > LEVEL_TIME {
                        return;
                    }
                    next.set(i + 1);
                    let sent = Instant::now();
                    let response = request(i, worker).send().await.expect("the server answers");
                    let status = response.status();
                    let body = response.bytes().await.expect("body");
                    assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
                    latencies.borrow_mut().push(sent.elapsed());
                }
            }
        };
        futures::future::join_all((0..clients).map(worker)).await;
        let elapsed = started.elapsed();
        let cpu =
            Cpu { server: self.cpu() - cpu, client: common::process::cpu_seconds(std::process::id()) - own };
        (elapsed, latencies.into_inner(), cpu)
    }

    async fn stop(mut self) {
        for server in &mut self.servers {
            server.kill();
        }
        drop(self.app);
    }
}

/// CPU seconds a level took: the servers', and the load generator's own (this process:
/// the HTTP client, on the same cores, which the ratios' bounds do not count).
struct Cpu {
    server: f64,
    client: f64,
}

fn level_report(mut level: Value, elapsed: Duration, latencies: &[Duration], cpu: Cpu, what: &str) -> Value {
    let mut sorted: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        sorted.get(((sorted.len() as f64 * q) as usize).min(sorted.len().saturating_sub(1))).copied()
    };
    let done = latencies.len();
    level["requests"] = json!(done);
    level["seconds"] = json!(elapsed.as_secs_f64());
    level[format!("{what}_per_s")] = json!(done as f64 / elapsed.as_secs_f64());
    level["p50_ms"] = json!(quantile(0.50));
    level["p99_ms"] = json!(quantile(0.99));
    level[format!("server_cpu_ms_per_{}", what.trim_end_matches('s'))] =
        json!(cpu.server * 1e3 / done.max(1) as f64);
    level["client_cpu_ms_per_request"] = json!(cpu.client * 1e3 / done.max(1) as f64);
    level
}

/// `openssl speed rsa2048`, one core: private-key operations per second.
fn openssl_speed() -> Option<f64> {
    let output =
        std::process::Command::new("openssl").args(["speed", "-seconds", "3", "rsa2048"]).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "rsa 2048 bits 0.000712s 0.000021s   1404.5  47619.0": sign, verify, sign/s, verify/s.
    let line = text.lines().find(|line| line.starts_with("rsa 2048 bits"))?;
    line.split_whitespace().nth(5)?.parse().ok()
}
