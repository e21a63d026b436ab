//! Throwaway PostgreSQL databases for tests: one per test, on the cluster that
//! `CANDOR_TEST_POSTGRES` names (an administrator's URL; by default the machine's
//! `postgres://postgres@127.0.0.1:5432/postgres`). `cargo xtask test` sets it, starting
//! a cluster of its own when the machine has none. A test that needs PostgreSQL and
//! cannot reach it fails, saying so: it is never skipped.

use candor_server::store::DatabaseUrl;

/// The variable that names the administrator's URL.
pub const ADMIN_ENV: &str = "CANDOR_TEST_POSTGRES";
const DEFAULT_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Databases made by tests are named `candor_test_<pid>_<random>`.
const PREFIX: &str = "candor_test_";

/// The administrator's URL.
pub fn admin_url() -> String {
    std::env::var(ADMIN_ENV).unwrap_or_else(|_| DEFAULT_ADMIN.to_owned())
}

/// The URL of database `name` on the same cluster.
fn url_of(name: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base.to_owned(), format!("?{query}")),
        None => (admin.clone(), String::new()),
    };
    let server = base.rsplit_once('/').map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{name}{query}")
}

/// The operator's own connection, which logs no statements (the tests read the server's
/// log, and it must hold only the server's lines).
async fn operator(url: &DatabaseUrl) -> sqlx::PgPool {
    use sqlx::ConnectOptions as _;
    let options: sqlx::postgres::PgConnectOptions = url.as_str().parse().expect("a postgres URL");
    sqlx::PgPool::connect_with(options.log_statements(log::LevelFilter::Off))
        .await
        .expect("operator's connection")
}

/// A new, empty database, and its URL. Databases left by test processes that have
/// ended are dropped first, so runs do not pile them up.
pub async fn fresh_database() -> DatabaseUrl {
    use sqlx::Connection as _;
    let admin = admin_url();
    let options: sqlx::postgres::PgConnectOptions = admin.parse().expect("a postgres URL");
    let options = sqlx::ConnectOptions::log_statements(options, log::LevelFilter::Off);
    let mut connection = sqlx::ConnectOptions::connect(&options).await.unwrap_or_else(|error| {
        panic!(
            "PostgreSQL at {admin} does not answer ({error}); `cargo xtask test` starts one, \
             or set {ADMIN_ENV} to an administrator's URL"
        )
    });
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{PREFIX}%"))
        .fetch_all(&mut connection)
        .await
        .expect("list databases");
    for name in names {
        let pid = name.trim_start_matches(PREFIX).split('_').next().and_then(|p| p.parse::<u32>().ok());
        let ended = pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if ended {
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut connection)
                .await
                .ok();
        }
    }
    let name = format!("{PREFIX}{}_{:016x}", std::process::id(), rand::random::<u64>());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut connection)
        .await
        .expect("create database");
    connection.close().await.ok();
    DatabaseUrl::parse(&url_of(&name)).expect("a postgres URL")
}

/// Every row of every table of the database, each value as SQLite's `quote()` writes
/// it (X'…' for bytes, '…' for text, numbers and booleans as integers, NULL), rows in
/// the order an operator reading the system columns would take for arrival order:
/// by writing transaction (`xmin`), statement within it (`cmin`), then place (`ctid`).
pub async fn tables(url: &DatabaseUrl) -> Vec<(String, Vec<String>, Vec<Vec<String>>)> {
    let pool = operator(url).await;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    let mut out = Vec::new();
    for name in names {
        let columns: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .expect("columns");
        let select: Vec<String> = columns
            .iter()
            .map(|(column, kind)| {
                let literal = match kind.as_str() {
                    "bytea" => format!("'X''' || upper(encode(\"{column}\", 'hex')) || ''''"),
                    "boolean" => format!("CASE WHEN \"{column}\" THEN '1' ELSE '0' END"),
                    "text" | "character varying" => format!("quote_literal(\"{column}\")"),
                    _ => format!("\"{column}\"::text"),
                };
                format!("COALESCE({literal}, 'NULL')")
            })
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {} FROM \"{name}\" ORDER BY xmin::text::bigint, cmin::text::bigint, ctid",
            select.join(", ")
        ))
        .fetch_all(&pool)
        .await
        .expect("rows")
        .iter()
        .map(|row| {
            use sqlx::Row as _;
            (0..columns.len()).map(|i| row.try_get::<String, _>(i).expect("literal")).collect()
        })
        .collect();
        out.push((name, columns.into_iter().map(|(c, _)| c).collect(), rows));
    }
    pool.close().await;
    out
}

/// What the system columns of one table say: how many distinct writing transactions
/// and statements its rows carry.
pub async fn distinct_writers(url: &DatabaseUrl, table: &str) -> (i64, i64) {
    let pool = operator(url).await;
    let counts = sqlx::query_as(&format!(
        "SELECT count(DISTINCT xmin::text), count(DISTINCT xmin::text || '/' || cmin::text) FROM \"{table}\""
    ))
    .fetch_one(&pool)
    .await
    .expect("system columns");
    pool.close().await;
    counts
}

/// Whether the rows of `table` sit in the order of `key`: what `ctid` (and the file's
/// bytes) then tell is the order of a hash.
pub async fn placed_in_key_order(url: &DatabaseUrl, table: &str, key: &str) -> bool {
    let pool = operator(url).await;
    let by_place: Vec<Vec<u8>> =
        sqlx::query_scalar(&format!("SELECT \"{key}\" FROM \"{table}\" ORDER BY ctid"))
            .fetch_all(&pool)
            .await
            .expect("rows by place");
    pool.close().await;
    let mut by_key = by_place.clone();
    by_key.sort();
    by_place == by_key
}

/// Every byte of the database's table, index and TOAST files, as the cluster has them
/// after a checkpoint (which writes out what was only in memory and in the WAL). The
/// WAL itself is the cluster's, not the database's: docs/THREAT-MODEL.md says what it
/// keeps.
pub async fn file_bytes(url: &DatabaseUrl) -> Vec<u8> {
    let pool = operator(url).await;
    sqlx::query("CHECKPOINT").execute(&pool).await.expect("checkpoint (needs a superuser)");
    let data: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&pool)
        .await
        .expect("data dir");
    let files: Vec<String> = sqlx::query_scalar(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't')
           AND pg_relation_filepath(c.oid) IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .expect("relation files");
    pool.close().await;
    let mut bytes = Vec::new();
    for file in files {
        let path = std::path::Path::new(&data).join(&file);
        for segment in 0.. {
            let path = if segment == 0 {
                path.clone()
            } else {
                path.with_file_name(format!(
                    "{}.{segment}",
                    path.file_name().expect("name").to_string_lossy()
                ))
            };
            match std::fs::read(&path) {
                Ok(mut data) => bytes.append(&mut data),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => break,
                Err(error) => panic!("read {}: {error} (the tests read the cluster's files)", path.display()),
            }
        }
    }
    assert!(!bytes.is_empty(), "the database's files were found under {data}");
    bytes
}

/// PostgreSQL's own consistency checks (`amcheck`: `verify_heapam` on every table,
/// `bt_index_check` with `heapallindexed` on every B-tree index): what each found.
pub async fn integrity_problems(url: &DatabaseUrl) -> Vec<String> {
    let pool = operator(url).await;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck").execute(&pool).await.expect("amcheck");
    let relations = |kind: &'static str| {
        sqlx::query_scalar::<_, String>(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_am a ON a.oid = c.relam \
             WHERE n.nspname = 'public' AND c.relkind = $1::\"char\" AND ($1 = 'r' OR a.amname = 'btree')",
        )
        .bind(kind)
        .fetch_all(&pool)
    };
    let mut problems = Vec::new();
    for table in relations("r").await.expect("tables") {
        let found: Vec<String> =
            sqlx::query_scalar("SELECT msg FROM verify_heapam($1::regclass) WHERE msg IS NOT NULL")
                .bind(&table)
                .fetch_all(&pool)
                .await
                .expect("verify_heapam");
        problems.extend(found.into_iter().map(|msg| format!("{table}: {msg}")));
    }
    for index in relations("i").await.expect("indexes") {
        if let Err(error) =
            sqlx::query("SELECT bt_index_check($1::regclass, true)").bind(&index).execute(&pool).await
        {
            problems.push(format!("{index}: {error}"));
        }
    }
    pool.close().await;
    problems
}
