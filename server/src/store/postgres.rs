//! The PostgreSQL store: for several stateless `candor` servers on one database.
//!
//! How the promises of [`Store`] are kept here:
//! - *Durable*: a commit returns once PostgreSQL has flushed its WAL (`synchronous_commit`
//!   is set `on` for every connection, whatever the server's default).
//! - *No arrival order*: PostgreSQL's heap fills in arrival order, and every row version
//!   carries system columns that order writes: `xmin` (the writing transaction), `cmin`
//!   (the statement within it) and `ctid` (where it sits). At release the erasure
//!   ([`Store::finish_erasure`]) rewrites every row of the round's items, spent tokens,
//!   quota rows and team keys by one statement per table, in one transaction, so they
//!   share one `xmin` and one `cmin`; then, once no other transaction can still see the
//!   old versions, `CLUSTER`s those tables on their hash keys, which writes new files in
//!   hash order and drops the old versions. What PostgreSQL's WAL (and a WAL archive or
//!   a backup taken mid-round) still holds is in docs/THREAT-MODEL.md.
//! - *Nothing on the employee's path raises an error*: PostgreSQL logs a failed
//!   statement with its text and a timestamp by default, so a replayed token is an
//!   `ON CONFLICT DO NOTHING`, not a unique violation.
//! - *Several servers*: every check-and-write is one statement or holds a row lock, so
//!   two servers racing on one token, one quota or one release agree.

use std::str::FromStr as _;
use std::time::Duration;

use async_trait::async_trait;
use candor_protocol::domain::{Day, RoundId};
use candor_protocol::manifest::{RoundManifest, SignedManifest};
use rand::seq::SliceRandom as _;
use sqlx::ConnectOptions as _;
use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

use super::{
    DatabaseUrl, ItemRecord, Leader, LedgerItem, NewItem, Redemption, Reservation, RoundCounts, RoundRecord,
    RoundState, SecretHash, SpendId, Store, StoreError, SubjectHmac, TeamKey, decode,
};

/// PostgreSQL-backed storage.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

/// The schema, one script per version, applied by [`migrate`], which records progress
/// in a one-row table holding only the version number: no timestamp.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_schema.sql"),
    include_str!("../../migrations/postgres/0002_item_tokens.sql"),
];

/// The tables whose rows the erasure rewrites and clusters, each with the statement
/// that rewrites one round's rows (`$1`: the rounds' ids) and its hash-keyed index.
const ERASED: [(&str, &str, &str); 4] = [
    ("items", "UPDATE items SET position = position WHERE round_id = ANY($1)", "items_pkey"),
    (
        "spent_tokens",
        "UPDATE spent_tokens SET round_id = round_id WHERE round_id = ANY($1)",
        "spent_tokens_pkey",
    ),
    ("issuance", "UPDATE issuance SET tokens = tokens WHERE round_id = ANY($1)", "issuance_pkey"),
    (
        "team_keys",
        "UPDATE team_keys SET sealed_private_key = NULL WHERE round_id = ANY($1)",
        "team_keys_pkey",
    ),
];

impl PostgresStore {
    /// Connects to the database at `url` and migrates it.
    pub async fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url.as_str())?
            // The receipt promises the item is stored: never acknowledge before the WAL
            // is on disk, whatever the cluster's default.
            .options([("synchronous_commit", "on")])
            // sqlx logs every statement by default; with a log system's timestamps that
            // would record when each token was issued and each item arrived.
            .log_statements(log::LevelFilter::Off)
            .log_slow_statements(log::LevelFilter::Off, Duration::from_secs(3_600));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // A slow acquire is logged with how long it took: a line, on the employee's
            // path, whose timestamp says when a request came.
            .acquire_time_level(log::LevelFilter::Off)
            .acquire_slow_level(log::LevelFilter::Off)
            .connect_with(options)
            .await?;
        // The erasure waits for every snapshot that still sees a round's old rows; a
        // role that cannot see other roles' snapshots (a backup tool's) would not wait.
        let sees_all: bool =
            sqlx::query_scalar("SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')")
                .fetch_one(&pool)
                .await?;
        if !sees_all {
            return Err(StoreError::Round(
                "the database role cannot see other sessions' snapshots, which the erasure at \
                 release must wait for: GRANT pg_read_all_stats TO it"
                    .into(),
            ));
        }
        migrate(&pool).await?;
        Ok(Self { pool })
    }
}

async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    // Several servers may start at once: one migrates, the others wait and find it done.
    sqlx::query("SELECT pg_advisory_xact_lock(20261202)").execute(&mut *tx).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS candor_schema (version INTEGER NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let current: Option<i32> =
        sqlx::query_scalar("SELECT version FROM candor_schema").fetch_optional(&mut *tx).await?;
    let current = match current {
        Some(version) => version,
        None => {
            sqlx::query("INSERT INTO candor_schema (version) VALUES (0)").execute(&mut *tx).await?;
            0
        }
    };
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
        sqlx::query("UPDATE candor_schema SET version = $1")
            .bind(i32::try_from(version + 1).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn leader_from_row(row: &PgRow) -> Result<Leader, StoreError> {
    let scope: String = row.try_get("scope")?;
    decode::leader(row.try_get("id")?, row.try_get("name")?, &scope)
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

const ROUND_COLUMNS: &str = "id, manifest, signed, released, erased";

impl PostgresStore {
    async fn keys_of(&self, round: &str) -> Result<Vec<TeamKey>, StoreError> {
        let rows =
            sqlx::query("SELECT scope, token_key, sealed_private_key FROM team_keys WHERE round_id = $1")
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

    async fn record_from_row(&self, row: &PgRow) -> Result<RoundRecord, StoreError> {
        let text: String = row.try_get("manifest")?;
        let id: String = row.try_get("id")?;
        let keys = self.keys_of(&id).await?;
        decode::round(&text, row.try_get("signed")?, row.try_get("released")?, row.try_get("erased")?, keys)
    }

    /// How many other transactions (of this database: PostgreSQL keeps old versions of
    /// a database's rows only for its own), prepared transactions or replication slots
    /// may still see row versions that transaction `xid` replaced: CLUSTER keeps those
    /// ("recently dead"), with their old `xmin`s, so the erasure must wait for them.
    async fn old_snapshots(&self, xid: i64) -> Result<i64, StoreError> {
        let xid = (xid % (1_i64 << 32)).to_string();
        let old: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM pg_stat_activity
                      WHERE pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
                        AND datname = current_database()
                        AND age(backend_xmin) >= age($1::text::xid))
                  + (SELECT count(*) FROM pg_prepared_xacts WHERE age(transaction) >= age($1::text::xid))
                  + (SELECT count(*) FROM pg_replication_slots
                      WHERE xmin IS NOT NULL AND age(xmin) >= age($1::text::xid))",
        )
        .bind(xid)
        .fetch_one(&self.pool)
        .await?;
        Ok(old)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn prepare_round(&self, manifest: &RoundManifest, keys: &[TeamKey]) -> Result<(), StoreError> {
        let text = decode::manifest_to_text(manifest)?;
        let round = manifest.round.to_string();
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO rounds (id, scope, manifest, opens, closes) VALUES ($1, $2, $3, $4, $5)")
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
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&round)
            .bind(key.scope.as_str())
            .bind(key.token_key.spki())
            .bind(i16::from(truncated))
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
        sqlx::query("UPDATE rounds SET manifest = $1, signed = TRUE WHERE id = $2 AND NOT signed")
            .bind(decode::manifest_to_text(signed)?)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn rounds_generation(&self) -> Result<u64, StoreError> {
        let generation: i64 = sqlx::query_scalar("SELECT generation FROM rounds_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(count(generation))
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
        let row = sqlx::query(&format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.record_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    async fn live_truncated_key_ids(&self) -> Result<Vec<u8>, StoreError> {
        let ids: Vec<i16> =
            sqlx::query_scalar("SELECT truncated_key_id FROM team_keys WHERE sealed_private_key IS NOT NULL")
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().filter_map(|id| u8::try_from(id).ok()).collect())
    }

    async fn release_round(&self, id: RoundId) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The row lock this takes waits for every redemption holding the round open
        // (`FOR SHARE` in `redeem`), and makes later ones see it released.
        let updated = sqlx::query(
            "UPDATE rounds SET released = TRUE, erased = FALSE WHERE id = $1 AND signed AND NOT released",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        let mut hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT item_hash FROM items WHERE round_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut *tx)
            .await?;
        // One uniform order over the whole round, drawn now and kept nowhere; written by
        // one statement, so every row gets the same xmin and cmin.
        hashes.shuffle(&mut rand::rng());
        let positions: Vec<i64> = (0..i64::try_from(hashes.len()).unwrap_or(i64::MAX)).collect();
        sqlx::query(
            "UPDATE items SET position = shuffled.position
             FROM unnest($1::bytea[], $2::bigint[]) AS shuffled (item_hash, position)
             WHERE items.item_hash = shuffled.item_hash",
        )
        .bind(&hashes)
        .bind(&positions)
        .execute(&mut *tx)
        .await?;
        // Only the public keys are needed from now on.
        sqlx::query("UPDATE team_keys SET sealed_private_key = NULL WHERE round_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.finish_erasure().await?;
        Ok(true)
    }

    async fn finish_erasure(&self) -> Result<usize, StoreError> {
        let pending: Vec<String> = sqlx::query_scalar("SELECT id FROM rounds WHERE released AND NOT erased")
            .fetch_all(&self.pool)
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        // 1. One transaction rewrites every row of these rounds, one statement per
        //    table: one xmin, one cmin for them all.
        let mut tx = self.pool.begin().await?;
        let xid: i64 =
            sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint").fetch_one(&mut *tx).await?;
        for (_, rewrite, _) in ERASED {
            sqlx::query(rewrite).bind(&pending).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // 2. The versions it replaced, with their arrival-order xmins, stay in the heap
        //    while anything may still see them; CLUSTER would copy them.
        let old = self.old_snapshots(xid).await?;
        if old > 0 {
            return Err(StoreError::Busy(format!(
                "{old} transaction(s) or slot(s) older than the release still see the old rows"
            )));
        }
        // 3. New files in hash order: ctid and the file's bytes follow the hash, and the
        //    old versions (and the destroyed private keys) are gone from the table files.
        for (table, _, index) in ERASED {
            sqlx::query(&format!("CLUSTER {table} USING {index}")).execute(&self.pool).await?;
        }
        let marked =
            sqlx::query("UPDATE rounds SET erased = TRUE WHERE id = ANY($1) AND released AND NOT erased")
                .bind(&pending)
                .execute(&self.pool)
                .await?;
        Ok(usize::try_from(marked.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn reserve_quota(
        &self,
        round: RoundId,
        subject: &SubjectHmac,
        limit: u32,
    ) -> Result<Reservation, StoreError> {
        // One statement: the check and the count cannot race, across servers too; a
        // round that is not open takes none (this server's cache may be behind). The
        // round's row is locked FOR SHARE, as a redemption locks it: a release (which
        // updates the row) waits for this to commit, or this sees it released.
        let reserved: Option<i32> = sqlx::query_scalar(
            "WITH open AS (SELECT id FROM rounds WHERE id = $1 AND signed AND NOT released FOR SHARE)
             INSERT INTO issuance (round_id, subject_hmac, tokens)
             SELECT open.id, $2, 1 FROM open
             ON CONFLICT (round_id, subject_hmac) DO UPDATE SET tokens = issuance.tokens + 1
             WHERE issuance.tokens < $3
             RETURNING 1",
        )
        .bind(round.to_string())
        .bind(subject.as_bytes().as_slice())
        .bind(i64::from(limit))
        .fetch_optional(&self.pool)
        .await?;
        if reserved.is_some() {
            return Ok(Reservation::Reserved);
        }
        let open: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM rounds WHERE id = $1 AND signed AND NOT released")
                .bind(round.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(if open.is_some() { Reservation::QuotaUsed } else { Reservation::RoundClosed })
    }

    async fn release_quota(&self, round: RoundId, subject: &SubjectHmac) -> Result<(), StoreError> {
        // A row whose only token is given back goes (every row keeps the same shape);
        // otherwise its count goes down by one.
        let deleted =
            sqlx::query("DELETE FROM issuance WHERE round_id = $1 AND subject_hmac = $2 AND tokens = 1")
                .bind(round.to_string())
                .bind(subject.as_bytes().as_slice())
                .execute(&self.pool)
                .await?;
        if deleted.rows_affected() == 0 {
            sqlx::query(
                "UPDATE issuance SET tokens = tokens - 1 WHERE round_id = $1 AND subject_hmac = $2 AND tokens > 1",
            )
            .bind(round.to_string())
            .bind(subject.as_bytes().as_slice())
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    async fn redeem(&self, spend: &SpendId, item: &NewItem) -> Result<Redemption, StoreError> {
        let answers = decode::answers_to_text(&item.answers)?;
        let mut tx = self.pool.begin().await?;
        // The round stays open until this commits: a release waits for this lock.
        let open: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM rounds WHERE id = $1 AND signed AND NOT released FOR SHARE")
                .bind(item.round.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        // A second redemption of one token waits here on the first's uninserted key,
        // then finds it taken: no error, so nothing in PostgreSQL's own log.
        let spent: Option<i32> = sqlx::query_scalar(
            "INSERT INTO spent_tokens (token_hash, round_id) VALUES ($1, $2)
             ON CONFLICT (token_hash) DO NOTHING RETURNING 1",
        )
        .bind(spend.as_bytes().as_slice())
        .bind(item.round.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if spent.is_none() {
            let stored: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM items WHERE item_hash = $1 AND round_id = $2")
                    .bind(item.item_hash.to_bytes().as_slice())
                    .bind(item.round.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(if stored.is_some() { Redemption::AlreadyStored } else { Redemption::AlreadySpent });
        }
        if open.is_none() {
            return Ok(Redemption::RoundClosed); // rolled back: the token is not spent
        }
        // The same body sent with another token bound to the same nonce: the item is
        // there already, and this token stays unspent (the transaction is dropped).
        let stored: Option<i32> = sqlx::query_scalar(
            "INSERT INTO items (item_hash, round_id, scope, answers, author_key, token) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (item_hash) DO NOTHING RETURNING 1",
        )
        .bind(item.item_hash.to_bytes().as_slice())
        .bind(item.round.to_string())
        .bind(item.scope.as_str())
        .bind(answers)
        .bind(item.author_key.as_slice())
        .bind(item.token.as_slice())
        .fetch_optional(&mut *tx)
        .await?;
        if stored.is_none() {
            return Ok(Redemption::AlreadyStored);
        }
        tx.commit().await?;
        Ok(Redemption::Stored)
    }

    async fn released_items(&self, round: RoundId) -> Result<Vec<ItemRecord>, StoreError> {
        // One JSON value for the whole round, as on SQLite: a row at a time through the
        // driver cost more than the database's own work. Put in release order by decode.
        let listed: String = sqlx::query_scalar(
            "SELECT COALESCE(json_agg(json_build_array(items.position, items.scope, items.answers::json)), '[]')::text
             FROM items JOIN rounds ON rounds.id = items.round_id
             WHERE items.round_id = $1 AND rounds.released AND items.position IS NOT NULL",
        )
        .bind(round.to_string())
        .fetch_one(&self.pool)
        .await?;
        decode::listed_items(&listed)
    }

    async fn ledger_items(&self, round: RoundId) -> Result<Vec<LedgerItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT items.item_hash, items.scope, items.token
             FROM items JOIN rounds ON rounds.id = items.round_id
             WHERE items.round_id = $1 AND rounds.released AND items.position IS NOT NULL
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
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(SUM(tokens), 0)::bigint FROM issuance WHERE round_id = $1) AS tokens,
                    (SELECT COUNT(*) FROM items WHERE round_id = $1) AS items",
        )
        .bind(round.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(RoundCounts { tokens_issued: count(row.try_get("tokens")?), items: count(row.try_get("items")?) })
    }

    async fn add_leader(
        &self,
        leader: &Leader,
        link: &SecretHash,
        today: Day,
        link_expires: Day,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO leaders (id, name, scope, created_day) VALUES ($1, $2, $3, $4)")
            .bind(&leader.id)
            .bind(&leader.name)
            .bind(leader.scope.as_str())
            .bind(today.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO sign_in_links (link_hash, leader_id, expires_day) VALUES ($1, $2, $3)")
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
        rows.iter().map(|row| Ok((leader_from_row(row)?, count(row.try_get("sessions")?)))).collect()
    }

    async fn add_link(
        &self,
        leader_id: &str,
        link: &SecretHash,
        link_expires: Day,
    ) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO sign_in_links (link_hash, leader_id, expires_day)
             SELECT $1, id, $3 FROM leaders WHERE id = $2",
        )
        .bind(link.as_bytes().as_slice())
        .bind(leader_id)
        .bind(link_expires.to_string())
        .execute(&self.pool)
        .await?;
        Ok(added.rows_affected() == 1)
    }

    async fn remove_leader(&self, leader_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        for table in ["sessions", "sign_in_links"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE leader_id = $1"))
                .bind(leader_id)
                .execute(&mut *tx)
                .await?;
        }
        let removed =
            sqlx::query("DELETE FROM leaders WHERE id = $1").bind(leader_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(removed.rows_affected() > 0)
    }

    async fn revoke_sessions(&self, leader_id: &str) -> Result<u64, StoreError> {
        let ended = sqlx::query("DELETE FROM sessions WHERE leader_id = $1")
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
            "DELETE FROM sign_in_links WHERE link_hash = $1 AND expires_day >= $2 RETURNING leader_id",
        )
        .bind(link.as_bytes().as_slice())
        .bind(today.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(leader_id) = leader_id else {
            return Ok(None);
        };
        sqlx::query("INSERT INTO sessions (session_hash, leader_id, expires_day) VALUES ($1, $2, $3)")
            .bind(session.as_bytes().as_slice())
            .bind(&leader_id)
            .bind(session_expires.to_string())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query("SELECT id, name, scope FROM leaders WHERE id = $1")
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
             WHERE sessions.session_hash = $1 AND sessions.expires_day >= $2",
        )
        .bind(session.as_bytes().as_slice())
        .bind(today.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(leader_from_row).transpose()
    }

    async fn sign_out(&self, session: &SecretHash) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
            .bind(session.as_bytes().as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_expired(&self, today: Day) -> Result<u64, StoreError> {
        let mut purged = 0;
        for table in ["sessions", "sign_in_links"] {
            let done = sqlx::query(&format!("DELETE FROM {table} WHERE expires_day < $1"))
                .bind(today.to_string())
                .execute(&self.pool)
                .await?;
            purged += done.rows_affected();
        }
        Ok(purged)
    }
}
