//! The SQLite store: WAL journal, `synchronous = FULL`, `secure_delete`, files private.
//!
//! Why FULL: in WAL mode, NORMAL syncs only at checkpoints, so a transaction that was
//! acknowledged can be lost on power failure. A receipt promises the item is stored, so
//! every commit is synced to disk before it returns; the cost is one fsync per commit.
//!
//! How the promises of [`Store`] are kept here:
//! - *No arrival order*: items and spent tokens are `WITHOUT ROWID` tables keyed by
//!   hashes; at release `VACUUM` rebuilds the file in key order and
//!   `wal_checkpoint(TRUNCATE)` empties the WAL (the `-shm` index is reset with it);
//!   `rounds.erased` records that this finished, and [`Store::finish_erasure`] retries
//!   until it has.
//! - *Private files*: the database's folder is made 0700 and its files 0600.
//! - *Live truncated key ids are unique*: a partial unique index on `team_keys`.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use candor_protocol::domain::{Day, RoundId};
use candor_protocol::manifest::{RoundManifest, SignedManifest};
use rand::seq::SliceRandom as _;
use sqlx::ConnectOptions as _;
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    DatabaseUrl, ItemRecord, Leader, LedgerItem, NewItem, Redemption, Reservation, RoundCounts, RoundRecord,
    RoundState, SecretHash, SpendId, Store, StoreError, SubjectHmac, TeamKey, decode,
};

/// SQLite-backed storage.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Redemptions go through one committer task, quota reservations through another:
    /// see [`group_commit`].
    redemptions: tokio::sync::mpsc::Sender<Queued<Redeem>>,
    reservations: tokio::sync::mpsc::Sender<Queued<Reserve>>,
}

/// The most writes one commit takes.
const MAX_GROUP: usize = 128;

/// A write that waits for the next group commit of its kind.
trait GroupWrite: Sized + Send + Sync + 'static {
    type Outcome: Send + 'static;
    /// Does every write of the group inside the group's transaction, in a few
    /// statements for the whole group (each statement through the driver is a round
    /// trip to its worker thread, which cost more than SQLite's own work): one outcome
    /// per write, in order. A write that is refused leaves nothing behind.
    fn apply_group<'a>(
        group: &'a [Queued<Self>],
        tx: &'a mut sqlx::SqliteConnection,
    ) -> impl Future<Output = Result<Vec<Self::Outcome>, StoreError>> + Send + 'a;
}

/// A write and where its outcome goes.
#[derive(Debug)]
struct Queued<W: GroupWrite> {
    write: W,
    done: tokio::sync::oneshot::Sender<Result<W::Outcome, StoreError>>,
}

/// A redemption: the spent token and its item.
#[derive(Debug)]
struct Redeem {
    spend: SpendId,
    item: NewItem,
    answers: String,
}

/// One more token of a person's quota, if the limit allows and the round is open.
#[derive(Debug)]
struct Reserve {
    round: RoundId,
    subject: SubjectHmac,
    limit: u32,
}

/// Group commit: writes that arrive while a commit is being synced wait, and then all
/// go into the next transaction together, so they share one fsync instead of one each
/// (`synchronous = FULL` stays). Each is answered only after the commit that holds it
/// has returned, so a receipt still means the item is on disk and a token is signed only
/// once its quota is; if the commit fails, every write in it gets the error (no receipt,
/// no signature).
///
/// A group is applied in a few statements over all its writes (a JSON array of them,
/// read with `json_each`), written so that a refused write (spent token, closed round,
/// quota used up) changes nothing and does not affect the others. Redemptions and quota
/// reservations commit apart: an item never shares a transaction with a person's quota
/// row. The order within a group is arrival order, as with one commit each; the erasure
/// at release removes it either way.
async fn group_commit<W: GroupWrite>(pool: SqlitePool, mut queue: tokio::sync::mpsc::Receiver<Queued<W>>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        match commit_group(&pool, &group).await {
            Ok(outcomes) => {
                for (queued, outcome) in group.drain(..).zip(outcomes) {
                    let _ = queued.done.send(Ok(outcome));
                }
            }
            Err(error) => {
                let error = error.to_string();
                for queued in group.drain(..) {
                    let _ = queued.done.send(Err(StoreError::Commit(error.clone())));
                }
            }
        }
    }
}

async fn commit_group<W: GroupWrite>(
    pool: &SqlitePool,
    group: &[Queued<W>],
) -> Result<Vec<W::Outcome>, StoreError> {
    // IMMEDIATE: the write lock from the start, so a group never has to upgrade a read,
    // and what it reads (which rounds are open) cannot change before it commits.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let outcomes = W::apply_group(group, &mut tx).await?;
    if outcomes.len() != group.len() {
        return Err(StoreError::Commit("a group write lost an outcome".into()));
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Queues `write` for its committer and waits for its outcome.
async fn committed<W: GroupWrite>(
    queue: &tokio::sync::mpsc::Sender<Queued<W>>,
    write: W,
) -> Result<W::Outcome, StoreError> {
    let (done, outcome) = tokio::sync::oneshot::channel();
    queue
        .send(Queued { write, done })
        .await
        .map_err(|_| StoreError::Commit("the committer stopped".into()))?;
    outcome.await.map_err(|_| StoreError::Commit("the committer stopped".into()))?
}

/// The group's quota reservations, one limit at a time (a round has one): `?1` is the
/// JSON array of `[round, subject hex]`, `?2` the limit. The check and the count are one
/// statement, so they cannot race; a round that is not open (released, or unsigned) takes
/// none, so a server whose cache of rounds is behind never counts (nor signs) for it.
/// RETURNING gives one row per reservation made, a person twice in a group included.
const RESERVE: &str = "INSERT INTO issuance (round_id, subject_hmac, tokens)
    SELECT w.value ->> 0, unhex(w.value ->> 1), 1 FROM json_each(?1) AS w
    WHERE EXISTS (SELECT 1 FROM rounds WHERE id = w.value ->> 0 AND signed = 1 AND released = 0)
    ORDER BY w.key
    ON CONFLICT (round_id, subject_hmac) DO UPDATE SET tokens = tokens + 1 WHERE tokens < ?2
    RETURNING round_id, hex(subject_hmac)";

/// Of the rounds named in `?1` (a JSON array of ids), those that take writes.
const OPEN_ROUNDS: &str = "SELECT id FROM rounds
    WHERE signed = 1 AND released = 0 AND id IN (SELECT value FROM json_each(?1))";

impl GroupWrite for Reserve {
    type Outcome = Reservation;

    async fn apply_group(
        group: &[Queued<Self>],
        tx: &mut sqlx::SqliteConnection,
    ) -> Result<Vec<Reservation>, StoreError> {
        let key = |write: &Reserve| (write.round.to_string(), hex(write.subject.as_bytes()));
        let mut made: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
        let mut limits: Vec<u32> = group.iter().map(|queued| queued.write.limit).collect();
        limits.sort_unstable();
        limits.dedup();
        for limit in limits {
            let writes: Vec<(String, String)> =
                group.iter().filter(|q| q.write.limit == limit).map(|q| key(&q.write)).collect();
            let rows: Vec<(String, String)> = sqlx::query_as(RESERVE)
                .bind(json_text(&writes)?)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            for (round, subject) in rows {
                *made.entry((round, subject.to_ascii_lowercase())).or_default() += 1;
            }
        }
        let mut outcomes: Vec<Option<Reservation>> = group
            .iter()
            .map(|queued| {
                let count = made.get_mut(&key(&queued.write)).filter(|count| **count > 0)?;
                *count -= 1;
                Some(Reservation::Reserved)
            })
            .collect();
        // Refused: the quota is used up, or the round takes no more tokens.
        if outcomes.iter().any(Option::is_none) {
            let rounds: Vec<String> = group.iter().map(|queued| queued.write.round.to_string()).collect();
            let open: Vec<String> =
                sqlx::query_scalar(OPEN_ROUNDS).bind(json_text(&rounds)?).fetch_all(&mut *tx).await?;
            for (outcome, queued) in outcomes.iter_mut().zip(group) {
                outcome.get_or_insert(if open.contains(&queued.write.round.to_string()) {
                    Reservation::QuotaUsed
                } else {
                    Reservation::RoundClosed
                });
            }
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.unwrap_or(Reservation::RoundClosed)).collect())
    }
}

/// The group's spent tokens, `?1` a JSON array of `[token hash hex, round]`: a token
/// spent before (or twice in the group) is not inserted again, and RETURNING names the
/// ones that were. No error on a spent token: SQLite's error log stays empty too.
const SPEND: &str = "INSERT INTO spent_tokens (token_hash, round_id)
    SELECT unhex(w.value ->> 0), w.value ->> 1 FROM json_each(?1) AS w WHERE true
    ORDER BY w.key
    ON CONFLICT (token_hash) DO NOTHING
    RETURNING hex(token_hash)";

/// The items of the tokens just spent, `?1` a JSON array of
/// `[item hash hex, round, scope, answers JSON text, author key hex, token hex]`. An item
/// already stored (the same body sent with another token) is not stored again: RETURNING
/// names the ones that were.
const STORE_ITEMS: &str = "INSERT INTO items (item_hash, round_id, scope, answers, author_key, token)
    SELECT unhex(w.value ->> 0), w.value ->> 1, w.value ->> 2, w.value ->> 3, unhex(w.value ->> 4), unhex(w.value ->> 5)
    FROM json_each(?1) AS w WHERE true
    ORDER BY w.key
    ON CONFLICT (round_id, item_hash) DO NOTHING
    RETURNING hex(item_hash)";

/// Gives back tokens spent in this group whose item was stored already: `?1` a JSON
/// array of token hashes (hex).
const UNSPEND: &str = "DELETE FROM spent_tokens WHERE token_hash IN (SELECT unhex(value) FROM json_each(?1))";

/// Of the items in `?1` (`[item hash hex, round]`), those stored: hex hashes.
const STORED_ITEMS: &str = "SELECT hex(items.item_hash) FROM json_each(?1) AS w
    JOIN items ON items.round_id = w.value ->> 1 AND items.item_hash = unhex(w.value ->> 0)";

/// Of the tokens in `?1` (hex hashes), those spent: hex hashes.
const SPENT_TOKENS: &str = "SELECT hex(token_hash) FROM spent_tokens
    WHERE token_hash IN (SELECT unhex(value) FROM json_each(?1))";

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Commit(e.to_string()))
}

impl GroupWrite for Redeem {
    type Outcome = Redemption;

    async fn apply_group(
        group: &[Queued<Self>],
        tx: &mut sqlx::SqliteConnection,
    ) -> Result<Vec<Redemption>, StoreError> {
        let writes: Vec<&Redeem> = group.iter().map(|queued| &queued.write).collect();
        let mut rounds: Vec<String> = writes.iter().map(|w| w.item.round.to_string()).collect();
        rounds.sort_unstable();
        rounds.dedup();
        // Which rounds take items: read under the group's write lock, so a release
        // (which takes the same lock) comes wholly before or after.
        let open: Vec<String> =
            sqlx::query_scalar(OPEN_ROUNDS).bind(json_text(&rounds)?).fetch_all(&mut *tx).await?;
        let is_open = |w: &Redeem| open.contains(&w.item.round.to_string());
        let spends: Vec<(String, String)> = writes
            .iter()
            .filter(|w| is_open(w))
            .map(|w| (hex(w.spend.as_bytes()), w.item.round.to_string()))
            .collect();
        let mut spent_now: Vec<String> = if spends.is_empty() {
            Vec::new()
        } else {
            sqlx::query_scalar(SPEND).bind(json_text(&spends)?).fetch_all(&mut *tx).await?
        };
        spent_now.iter_mut().for_each(|hash| hash.make_ascii_lowercase());
        // The first write of each token just spent stores its item; any other write of
        // that token is a retry or a replay, told apart below. Only writes for an open
        // round were spent, so only they are matched.
        let mut outcomes: Vec<Option<Redemption>> = vec![None; writes.len()];
        let mut items = Vec::new();
        let mut storing = Vec::new();
        for (at, w) in writes.iter().enumerate().filter(|(_, w)| is_open(w)) {
            let spend = hex(w.spend.as_bytes());
            if let Some(found) = spent_now.iter().position(|hash| *hash == spend) {
                spent_now.swap_remove(found);
                items.push((
                    hex(&w.item.item_hash.to_bytes()),
                    w.item.round.to_string(),
                    w.item.scope.as_str(),
                    w.answers.as_str(),
                    hex(&w.item.author_key),
                    hex(&w.item.token),
                ));
                storing.push(at);
            }
        }
        if !items.is_empty() {
            let mut stored: Vec<String> =
                sqlx::query_scalar(STORE_ITEMS).bind(json_text(&items)?).fetch_all(&mut *tx).await?;
            stored.iter_mut().for_each(|hash| hash.make_ascii_lowercase());
            // An item that is there already, stored with another token bound to the same
            // nonce: it is not stored twice, and this token is given back unspent.
            let mut give_back = Vec::new();
            for at in storing {
                let item = hex(&writes[at].item.item_hash.to_bytes());
                outcomes[at] = Some(match stored.iter().position(|hash| *hash == item) {
                    Some(found) => {
                        stored.swap_remove(found);
                        Redemption::Stored
                    }
                    None => {
                        give_back.push(hex(writes[at].spend.as_bytes()));
                        Redemption::AlreadyStored
                    }
                });
            }
            if !give_back.is_empty() {
                sqlx::query(UNSPEND).bind(json_text(&give_back)?).execute(&mut *tx).await?;
            }
        }
        // The rest: this very item stored before (a retry), else a token spent on
        // another item, else a round that takes nothing (the token is not spent).
        let rest: Vec<&Redeem> =
            outcomes.iter().zip(&writes).filter(|(outcome, _)| outcome.is_none()).map(|(_, w)| *w).collect();
        if !rest.is_empty() {
            let asked: Vec<(String, String)> =
                rest.iter().map(|w| (hex(&w.item.item_hash.to_bytes()), w.item.round.to_string())).collect();
            let stored: Vec<String> =
                sqlx::query_scalar(STORED_ITEMS).bind(json_text(&asked)?).fetch_all(&mut *tx).await?;
            let tokens: Vec<String> = rest.iter().map(|w| hex(w.spend.as_bytes())).collect();
            let spent: Vec<String> =
                sqlx::query_scalar(SPENT_TOKENS).bind(json_text(&tokens)?).fetch_all(&mut *tx).await?;
            for (outcome, w) in outcomes.iter_mut().zip(&writes).filter(|(outcome, _)| outcome.is_none()) {
                let item = hex(&w.item.item_hash.to_bytes());
                let spend = hex(w.spend.as_bytes());
                *outcome = Some(if stored.iter().any(|hash| hash.eq_ignore_ascii_case(&item)) {
                    Redemption::AlreadyStored
                } else if spent.iter().any(|hash| hash.eq_ignore_ascii_case(&spend)) {
                    Redemption::AlreadySpent
                } else {
                    Redemption::RoundClosed
                });
            }
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.unwrap_or(Redemption::RoundClosed)).collect())
    }
}

/// Makes the database's folder 0700 (creating it) and its files 0600 (creating the
/// database file empty, so SQLite never makes it with the process's umask; SQLite gives
/// the `-wal` and `-shm` files the database file's mode).
fn private_files(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let files = |e| StoreError::Files(path.to_owned(), e);
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(files)?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).map_err(files)?;
    }
    // Never open a database file that exists: closing any descriptor of it drops every
    // POSIX lock this process's SQLite connections hold on it, after which another
    // process may take itself for the last connection and delete the WAL in use.
    // Permissions are set by path (chmod), which opens nothing.
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(files(error)),
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = path.with_file_name(format!(
            "{}{suffix}",
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(files)?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url`.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let path = url.sqlite_path();
        if let Some(path) = &path {
            private_files(path)?;
        }
        let options = SqliteConnectOptions::from_str(url.as_str())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted content (a destroyed private key, a purged session) is zeroed.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10))
            // sqlx logs every statement by default; with a log system's timestamps that
            // would record when each token was issued and each item arrived.
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3_600));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // sqlx also logs a slow connection acquire, with how long it took: a line, on
            // the employee's path, whose timestamp says when a request came.
            .acquire_time_level(log::LevelFilter::Off)
            .acquire_slow_level(log::LevelFilter::Off)
            .connect_with(options)
            .await?;
        migrate(&pool).await?;
        if let Some(path) = &path {
            private_files(path)?;
        }
        let (redemptions, queue) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(group_commit(pool.clone(), queue));
        let (reservations, queue) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(group_commit(pool.clone(), queue));
        Ok(Self { pool, redemptions, reservations })
    }
}

/// A released round's items as one JSON array of `[position, scope, answers]`, read in
/// the table's key order (round, item hash): one run of the file, whatever other rounds
/// hold.
const RELEASED_ITEMS: &str = "SELECT json_group_array(json_array(position, scope, json(answers))) FROM (
        SELECT items.position, items.scope, items.answers
        FROM items JOIN rounds ON rounds.id = items.round_id
        WHERE items.round_id = ? AND rounds.released = 1 AND items.position IS NOT NULL
        ORDER BY items.item_hash
    )";

/// Sets each item's place in the release order: `?1` is the JSON array of the round's
/// item hashes (hex) in that order, `?2` the round. The list is materialised, so SQLite
/// indexes it for the join; joined to `json_each` directly, it scanned the whole list for
/// every item (a 100,000-item release did not end in 13 minutes).
const PLACE_ITEMS: &str =
    "WITH shuffled (hash, place) AS MATERIALIZED (SELECT unhex(value), key FROM json_each(?1))
    UPDATE items SET position = shuffled.place FROM shuffled
    WHERE items.round_id = ?2 AND items.item_hash = shuffled.hash";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The schema, one script per version. Applied by [`migrate`], which records progress
/// in `PRAGMA user_version` — unlike a migrations table, that stores no timestamp.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_schema.sql"),
    include_str!("../../migrations/sqlite/0002_team_keys_erasure_no_days.sql"),
    include_str!("../../migrations/sqlite/0003_items_by_round.sql"),
    include_str!("../../migrations/sqlite/0004_item_tokens.sql"),
];

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let current: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *tx).await?;
    let current =
        usize::try_from(current).map_err(|_| StoreError::Corrupt("negative schema version".into()))?;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {current}, newer than this candor ({})",
            MIGRATIONS.len()
        )));
    }
    for (version, script) in MIGRATIONS.iter().enumerate().skip(current) {
        sqlx::raw_sql(script).execute(&mut *tx).await?;
        sqlx::raw_sql(&format!("PRAGMA user_version = {}", version + 1)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn leader_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Leader, StoreError> {
    let scope: String = row.try_get("scope")?;
    decode::leader(row.try_get("id")?, row.try_get("name")?, &scope)
}

impl SqliteStore {
    async fn keys_of(&self, round: &str) -> Result<Vec<TeamKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT scope, token_key, sealed_private_key FROM team_keys WHERE round_id = ? ORDER BY scope",
        )
        .bind(round)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                let spki: Vec<u8> = row.try_get("token_key")?;
                decode::team_key(&scope, &spki, row.try_get("sealed_private_key")?)
            })
            .collect()
    }

    async fn record_from_row(&self, row: &sqlx::sqlite::SqliteRow) -> Result<RoundRecord, StoreError> {
        let text: String = row.try_get("manifest")?;
        let id: String = row.try_get("id")?;
        let flag = |name: &str| row.try_get::<i64, _>(name).map(|v| v == 1);
        let keys = self.keys_of(&id).await?;
        decode::round(&text, flag("signed")?, flag("released")?, flag("erased")?, keys)
    }

    async fn checkpoint(&self) -> Result<(), StoreError> {
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
        if busy != 0 {
            return Err(StoreError::Busy("a reader kept the write-ahead log from being emptied".into()));
        }
        Ok(())
    }
}

const ROUND_COLUMNS: &str = "id, manifest, signed, released, erased";

#[async_trait]
impl Store for SqliteStore {
    async fn prepare_round(&self, manifest: &RoundManifest, keys: &[TeamKey]) -> Result<(), StoreError> {
        let text = decode::manifest_to_text(manifest)?;
        let round = manifest.round.to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO rounds (id, scope, manifest, opens, closes, released, signed, erased)
             VALUES (?, ?, ?, ?, ?, 0, 0, 0)",
        )
        .bind(&round)
        .bind(manifest.scope.as_str())
        .bind(text)
        .bind(manifest.opens.to_string())
        .bind(manifest.closes.to_string())
        .execute(&mut *tx)
        .await?;
        for key in keys {
            let truncated = key.token_key.id().truncated();
            let inserted = sqlx::query(
                "INSERT INTO team_keys (round_id, scope, token_key, truncated_key_id, sealed_private_key)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&round)
            .bind(key.scope.as_str())
            .bind(key.token_key.spki())
            .bind(i64::from(truncated))
            .bind(key.sealed.as_ref().map(|sealed| sealed.0.as_slice()))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                    return Err(StoreError::TruncatedKeyIdTaken(truncated));
                }
                other => other?,
            };
        }
        tx.commit().await?;
        Ok(())
    }

    async fn import_signature(&self, signed: &SignedManifest) -> Result<(), StoreError> {
        let id = signed.manifest.round;
        let record =
            self.round(id).await?.ok_or_else(|| StoreError::Round(format!("there is no round {id}")))?;
        if record.state != RoundState::Prepared {
            return Err(StoreError::Round(format!("round {id} is already signed")));
        }
        if record.manifest != signed.manifest {
            return Err(StoreError::Round(format!(
                "the signed manifest is not the one prepared for round {id}"
            )));
        }
        let text = decode::manifest_to_text(signed)?;
        sqlx::query("UPDATE rounds SET manifest = ?, signed = 1 WHERE id = ? AND signed = 0")
            .bind(text)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn rounds_generation(&self) -> Result<u64, StoreError> {
        // Moved by triggers on `rounds` (migration 0002), whoever writes.
        let generation: i64 = sqlx::query_scalar("SELECT generation FROM rounds_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(generation).unwrap_or_default())
    }

    async fn rounds(&self) -> Result<Vec<RoundRecord>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds ORDER BY opens, id"))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.record_from_row(row).await?);
        }
        Ok(out)
    }

    async fn round(&self, id: RoundId) -> Result<Option<RoundRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.record_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn live_truncated_key_ids(&self) -> Result<Vec<u8>, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT truncated_key_id FROM team_keys WHERE sealed_private_key IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().filter_map(|id| u8::try_from(id).ok()).collect())
    }

    async fn release_round(&self, id: RoundId) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE rounds SET released = 1, erased = 0 WHERE id = ? AND released = 0 AND signed = 1",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        let mut hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT item_hash FROM items WHERE round_id = ?")
            .bind(id.to_string())
            .fetch_all(&mut *tx)
            .await?;
        // One uniform order over the whole round: every group of the digest takes its
        // items in this order. Its randomness is used once and kept nowhere. One
        // statement sets every position: the i-th hash of the shuffled list gets i.
        hashes.shuffle(&mut rand::rng());
        let order = serde_json::to_string(&hashes.iter().map(Vec::as_slice).map(hex).collect::<Vec<_>>())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let placed = sqlx::query(PLACE_ITEMS).bind(order).bind(id.to_string()).execute(&mut *tx).await?;
        if placed.rows_affected() != hashes.len() as u64 {
            return Err(StoreError::Corrupt(format!(
                "round {id}: {} of {} items placed in the release order",
                placed.rows_affected(),
                hashes.len()
            )));
        }
        // Only the public keys are needed from now on.
        sqlx::query("UPDATE team_keys SET sealed_private_key = NULL WHERE round_id = ?")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.finish_erasure().await?;
        Ok(true)
    }

    async fn finish_erasure(&self) -> Result<usize, StoreError> {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rounds WHERE released = 1 AND erased = 0")
                .fetch_one(&self.pool)
                .await?;
        if pending == 0 {
            return Ok(0);
        }
        // The WAL holds pages in commit order, and B-tree pages are allocated as rows
        // arrive. VACUUM rebuilds the file in key order; TRUNCATE empties the WAL, and
        // says whether a reader kept it from finishing. Only then is the round marked,
        // and that small write is checkpointed too.
        sqlx::query("VACUUM").execute(&self.pool).await?;
        self.checkpoint().await?;
        let marked = sqlx::query("UPDATE rounds SET erased = 1 WHERE released = 1 AND erased = 0")
            .execute(&self.pool)
            .await?;
        self.checkpoint().await?;
        Ok(usize::try_from(marked.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn reserve_quota(
        &self,
        round: RoundId,
        subject: &SubjectHmac,
        limit: u32,
    ) -> Result<Reservation, StoreError> {
        committed(&self.reservations, Reserve { round, subject: *subject, limit }).await
    }

    async fn release_quota(&self, round: RoundId, subject: &SubjectHmac) -> Result<(), StoreError> {
        // A row whose only token is given back goes (every row keeps the same shape);
        // otherwise its count goes down by one.
        let deleted =
            sqlx::query("DELETE FROM issuance WHERE round_id = ? AND subject_hmac = ? AND tokens = 1")
                .bind(round.to_string())
                .bind(subject.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
        if deleted.rows_affected() == 0 {
            sqlx::query("UPDATE issuance SET tokens = tokens - 1 WHERE round_id = ? AND subject_hmac = ? AND tokens > 1")
                .bind(round.to_string())
                .bind(subject.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    async fn redeem(&self, spend: &SpendId, item: &NewItem) -> Result<Redemption, StoreError> {
        let answers = decode::answers_to_text(&item.answers)?;
        committed(&self.redemptions, Redeem { spend: *spend, item: item.clone(), answers }).await
    }

    async fn released_items(&self, round: RoundId) -> Result<Vec<ItemRecord>, StoreError> {
        // The round's rows in key order, a run of the file, sent as one JSON value: a
        // row at a time through the driver cost several times what SQLite spends reading
        // them. Put in release order here.
        let listed: Option<String> =
            sqlx::query_scalar(RELEASED_ITEMS).bind(round.to_string()).fetch_one(&self.pool).await?;
        decode::listed_items(listed.as_deref().unwrap_or("[]"))
    }

    async fn ledger_items(&self, round: RoundId) -> Result<Vec<LedgerItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT items.item_hash, items.scope, items.token
             FROM items JOIN rounds ON rounds.id = items.round_id
             WHERE items.round_id = ? AND rounds.released = 1 AND items.position IS NOT NULL
             ORDER BY items.position",
        )
        .bind(round.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                decode::ledger_item(row.try_get("item_hash")?, row.try_get("scope")?, row.try_get("token")?)
            })
            .collect()
    }

    async fn counts(&self, round: RoundId) -> Result<RoundCounts, StoreError> {
        let tokens: i64 =
            sqlx::query_scalar("SELECT COALESCE(SUM(tokens), 0) FROM issuance WHERE round_id = ?")
                .bind(round.to_string())
                .fetch_one(&self.pool)
                .await?;
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE round_id = ?")
            .bind(round.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(RoundCounts {
            tokens_issued: u64::try_from(tokens).unwrap_or_default(),
            items: u64::try_from(items).unwrap_or_default(),
        })
    }

    async fn add_leader(
        &self,
        leader: &Leader,
        link: &SecretHash,
        today: Day,
        link_expires: Day,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO leaders (id, name, scope, created_day) VALUES (?, ?, ?, ?)")
            .bind(&leader.id)
            .bind(&leader.name)
            .bind(leader.scope.as_str())
            .bind(today.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sign_in_links (link_hash, leader_id, expires_day) VALUES (?, ?, ?)")
            .bind(link.as_bytes().as_slice())
            .bind(&leader.id)
            .bind(link_expires.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn leaders(&self) -> Result<Vec<(Leader, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, scope, (SELECT COUNT(*) FROM sessions WHERE leader_id = leaders.id) AS sessions
             FROM leaders ORDER BY scope, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let sessions: i64 = row.try_get("sessions")?;
                Ok((leader_from_row(row)?, u64::try_from(sessions).unwrap_or_default()))
            })
            .collect()
    }

    async fn add_link(
        &self,
        leader_id: &str,
        link: &SecretHash,
        link_expires: Day,
    ) -> Result<bool, StoreError> {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM leaders WHERE id = ?")
            .bind(leader_id)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO sign_in_links (link_hash, leader_id, expires_day) VALUES (?, ?, ?)")
            .bind(link.as_bytes().as_slice())
            .bind(leader_id)
            .bind(link_expires.to_string())
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    async fn remove_leader(&self, leader_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["sessions", "sign_in_links"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE leader_id = ?"))
                .bind(leader_id)
                .execute(&mut *tx)
                .await?;
        }
        let removed =
            sqlx::query("DELETE FROM leaders WHERE id = ?").bind(leader_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(removed.rows_affected() > 0)
    }

    async fn revoke_sessions(&self, leader_id: &str) -> Result<u64, StoreError> {
        let ended = sqlx::query("DELETE FROM sessions WHERE leader_id = ?")
            .bind(leader_id)
            .execute(&self.pool)
            .await?;
        Ok(ended.rows_affected())
    }

    async fn sign_in(
        &self,
        link: &SecretHash,
        session: &SecretHash,
        today: Day,
        session_expires: Day,
    ) -> Result<Option<Leader>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let leader_id: Option<String> = sqlx::query_scalar(
            "DELETE FROM sign_in_links WHERE link_hash = ? AND expires_day >= ? RETURNING leader_id",
        )
        .bind(link.as_bytes().as_slice())
        .bind(today.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(leader_id) = leader_id else {
            return Ok(None);
        };
        sqlx::query("INSERT INTO sessions (session_hash, leader_id, expires_day) VALUES (?, ?, ?)")
            .bind(session.as_bytes().as_slice())
            .bind(&leader_id)
            .bind(session_expires.to_string())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT id, name, scope FROM leaders WHERE id = ?")
            .bind(&leader_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        leader_from_row(&row).map(Some)
    }

    async fn session(&self, session: &SecretHash, today: Day) -> Result<Option<Leader>, StoreError> {
        let row = sqlx::query(
            "SELECT leaders.id, leaders.name, leaders.scope FROM sessions
             JOIN leaders ON leaders.id = sessions.leader_id
             WHERE sessions.session_hash = ? AND sessions.expires_day >= ?",
        )
        .bind(session.as_bytes().as_slice())
        .bind(today.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(leader_from_row).transpose()
    }

    async fn sign_out(&self, session: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = ?")
            .bind(session.as_bytes().as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_expired(&self, today: Day) -> Result<u64, StoreError> {
        let mut purged = 0;
        for table in ["sessions", "sign_in_links"] {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE expires_day < ?"))
                .bind(today.to_string())
                .execute(&self.pool)
                .await?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for `sql` with these parameters, on a fresh database of the current
    /// schema: one line per step.
    async fn plan_of(sql: &str, parameters: &[&str]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let url =
            DatabaseUrl::parse(&format!("sqlite://{}", dir.path().join("candor.db").display())).unwrap();
        let store = SqliteStore::open(&url).await.unwrap();
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
        for parameter in parameters {
            query = query.bind(*parameter);
        }
        query.fetch_all(&store.pool).await.unwrap().into_iter().map(|(_, _, _, step)| step).collect()
    }

    /// The digest's read walks the table's key range of one round, with no index and no
    /// sort: its cost is the round's own items, read in one run.
    #[tokio::test]
    async fn a_round_is_read_back_in_one_run_of_the_table() {
        let plan = plan_of(RELEASED_ITEMS, &["00000000000000000000000000000001"]).await;
        let steps: Vec<&str> = plan.iter().map(String::as_str).collect();
        assert!(steps.contains(&"SEARCH items USING PRIMARY KEY (round_id=?)"), "{steps:?}");
        assert!(
            !steps.iter().any(|step| step.contains("TEMP B-TREE") || step.contains("items_by_round")),
            "{steps:?}"
        );
    }

    /// The release's one statement looks each item up in the shuffled list through an
    /// index, never by scanning the list per item (quadratic: 100,000 items took hours).
    #[tokio::test]
    async fn the_release_order_is_set_in_one_indexed_pass() {
        let plan = plan_of(PLACE_ITEMS, &[r#"["00", "01"]"#, "00000000000000000000000000000001"]).await;
        let steps: Vec<&str> = plan.iter().map(String::as_str).collect();
        assert!(steps.contains(&"MATERIALIZE shuffled"), "{steps:?}");
        assert!(steps.iter().any(|step| step.starts_with("SEARCH shuffled USING AUTOMATIC")), "{steps:?}");
    }
}
