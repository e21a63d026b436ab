//! The SQLite store: WAL journal, `synchronous = FULL`.
//!
//! Why FULL: in WAL mode, NORMAL syncs only at checkpoints, so a transaction that was
//! acknowledged can be lost on power failure. A receipt promises the item is stored, so
//! every commit is synced to disk before it returns; the cost is one fsync per commit.

use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use candor_protocol::domain::{Day, RoundId, Scope};
use candor_protocol::manifest::SignedManifest;
use candor_protocol::submission::Answer;
use rand::seq::SliceRandom as _;
use sqlx::ConnectOptions as _;
use sqlx::Row as _;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{ItemRecord, Leader, NewItem, Redemption, RoundCounts, RoundRecord, Store, StoreError};

/// SQLite-backed storage.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // sqlx logs every statement by default; with a log system's timestamps that
            // would record when each token was issued and each item arrived.
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3_600));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        migrate(&pool).await?;
        Ok(Self { pool })
    }
}

/// The schema, one script per version. Applied by [`migrate`], which records progress
/// in `PRAGMA user_version` — unlike a migrations table, that stores no timestamp.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_schema.sql")];

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

fn corrupt(what: &str) -> impl FnOnce(String) -> StoreError + '_ {
    move |detail| StoreError::Corrupt(format!("{what}: {detail}"))
}

fn round_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<RoundRecord, StoreError> {
    let manifest: String = row.try_get("manifest")?;
    let manifest: SignedManifest =
        serde_json::from_str(&manifest).map_err(|e| corrupt("manifest")(e.to_string()))?;
    let keys = zeroize::Zeroizing::new(row.try_get::<String, _>("token_key")?);
    let keys: Vec<String> = serde_json::from_str(&keys).map_err(|e| corrupt("token keys")(e.to_string()))?;
    Ok(RoundRecord {
        manifest,
        token_keys_pem: keys.into_iter().map(zeroize::Zeroizing::new).collect(),
        released: row.try_get::<i64, _>("released")? == 1,
    })
}

fn leader_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Leader, StoreError> {
    let scope: String = row.try_get("scope")?;
    Ok(Leader {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        scope: Scope::parse(&scope).map_err(|e| corrupt("leader scope")(e.to_string()))?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_round(&self, round: &RoundRecord) -> Result<(), StoreError> {
        let m = &round.manifest.manifest;
        let manifest =
            serde_json::to_string(&round.manifest).map_err(|e| corrupt("manifest")(e.to_string()))?;
        // The teams' keys, as one JSON list of PEM texts.
        let keys: Vec<&str> = round.token_keys_pem.iter().map(|pem| pem.as_str()).collect();
        let keys = zeroize::Zeroizing::new(
            serde_json::to_string(&keys).map_err(|e| corrupt("token keys")(e.to_string()))?,
        );
        let truncated = m.teams.first().map_or(0, |team| team.token_key_id.truncated());
        sqlx::query(
            "INSERT INTO rounds (id, scope, manifest, token_key, truncated_key_id, opens, closes, released)
             VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        )
        .bind(m.round.to_string())
        .bind(m.scope.as_str())
        .bind(manifest)
        .bind(keys.as_str())
        .bind(i64::from(truncated))
        .bind(m.opens.to_string())
        .bind(m.closes.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn rounds(&self) -> Result<Vec<RoundRecord>, StoreError> {
        let rows = sqlx::query("SELECT manifest, token_key, released FROM rounds ORDER BY opens, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(round_from_row).collect()
    }

    async fn round(&self, id: RoundId) -> Result<Option<RoundRecord>, StoreError> {
        let row = sqlx::query("SELECT manifest, token_key, released FROM rounds WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(round_from_row).transpose()
    }

    async fn release_round(&self, id: RoundId) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE rounds SET released = 1 WHERE id = ? AND released = 0")
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
        // The shuffle's randomness is used once and kept nowhere: nobody can recover it.
        hashes.shuffle(&mut rand::rng());
        for (position, hash) in hashes.iter().enumerate() {
            sqlx::query("UPDATE items SET position = ? WHERE item_hash = ?")
                .bind(i64::try_from(position).unwrap_or(i64::MAX))
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.erase_arrival_order().await?;
        Ok(true)
    }

    async fn erase_arrival_order(&self) -> Result<(), StoreError> {
        // The WAL holds pages in commit order, and B-tree pages are allocated as rows
        // arrive. VACUUM rebuilds the file in key order; TRUNCATE empties the WAL, and
        // says in its first column whether another connection kept it from finishing.
        // (Mid-round, a copy of the files still shows arrival order: see the threat model.)
        sqlx::query("VACUUM").execute(&self.pool).await?;
        let (busy, _, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
        if busy != 0 {
            return Err(StoreError::Busy("the write-ahead log could not be emptied".into()));
        }
        Ok(())
    }

    async fn take_quota(
        &self,
        round: RoundId,
        subject_hmac: &[u8; 32],
        limit: u32,
    ) -> Result<bool, StoreError> {
        // One statement, one transaction: the check and the count cannot race.
        let result = sqlx::query(
            "INSERT INTO issuance (round_id, subject_hmac, tokens) VALUES (?1, ?2, 1)
             ON CONFLICT (round_id, subject_hmac) DO UPDATE SET tokens = tokens + 1 WHERE tokens < ?3",
        )
        .bind(round.to_string())
        .bind(subject_hmac.as_slice())
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn redeem(&self, token_hash: &[u8; 32], item: &NewItem) -> Result<Redemption, StoreError> {
        let answers = serde_json::to_string(&item.answers).map_err(|e| corrupt("answers")(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let spent = sqlx::query("INSERT INTO spent_tokens (token_hash, round_id) VALUES (?, ?)")
            .bind(token_hash.as_slice())
            .bind(item.round.to_string())
            .execute(&mut *tx)
            .await;
        match spent {
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                let stored: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM items WHERE item_hash = ? AND round_id = ?")
                        .bind(item.item_hash.to_bytes().as_slice())
                        .bind(item.round.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                return Ok(if stored.is_some() {
                    Redemption::AlreadyStored
                } else {
                    Redemption::AlreadySpent
                });
            }
            other => other?,
        };
        sqlx::query(
            "INSERT INTO items (item_hash, round_id, scope, answers, author_key, received_day)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(item.item_hash.to_bytes().as_slice())
        .bind(item.round.to_string())
        .bind(item.scope.as_str())
        .bind(answers)
        .bind(item.author_key.as_slice())
        .bind(item.received_day.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Redemption::Stored)
    }

    async fn released_items(&self, round: RoundId) -> Result<Vec<ItemRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT items.scope, items.answers, items.received_day FROM items
             JOIN rounds ON rounds.id = items.round_id
             WHERE items.round_id = ? AND rounds.released = 1 AND items.position IS NOT NULL
             ORDER BY items.position",
        )
        .bind(round.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let scope: String = row.try_get("scope")?;
                let answers: String = row.try_get("answers")?;
                let day: String = row.try_get("received_day")?;
                Ok(ItemRecord {
                    scope: Scope::parse(&scope).map_err(|e| corrupt("item scope")(e.to_string()))?,
                    answers: serde_json::from_str::<Vec<Answer>>(&answers)
                        .map_err(|e| corrupt("answers")(e.to_string()))?,
                    received_day: Day::parse(&day).map_err(|e| corrupt("day")(e.to_string()))?,
                })
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
        link_hash: &[u8; 32],
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
            .bind(link_hash.as_slice())
            .bind(&leader.id)
            .bind(link_expires.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn sign_in(
        &self,
        link_hash: &[u8; 32],
        session_hash: &[u8; 32],
        today: Day,
        session_expires: Day,
    ) -> Result<Option<Leader>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let leader_id: Option<String> = sqlx::query_scalar(
            "DELETE FROM sign_in_links WHERE link_hash = ? AND expires_day >= ? RETURNING leader_id",
        )
        .bind(link_hash.as_slice())
        .bind(today.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(leader_id) = leader_id else {
            return Ok(None);
        };
        sqlx::query("INSERT INTO sessions (session_hash, leader_id, expires_day) VALUES (?, ?, ?)")
            .bind(session_hash.as_slice())
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

    async fn session(&self, session_hash: &[u8; 32], today: Day) -> Result<Option<Leader>, StoreError> {
        let row = sqlx::query(
            "SELECT leaders.id, leaders.name, leaders.scope FROM sessions
             JOIN leaders ON leaders.id = sessions.leader_id
             WHERE sessions.session_hash = ? AND sessions.expires_day >= ?",
        )
        .bind(session_hash.as_slice())
        .bind(today.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(leader_from_row).transpose()
    }

    async fn sign_out(&self, session_hash: &[u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = ?")
            .bind(session_hash.as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
