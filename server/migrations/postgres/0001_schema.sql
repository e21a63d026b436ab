-- Candor's schema on PostgreSQL: the same tables and promises as SQLite's (see
-- migrations/sqlite). No column anywhere can hold an IP address, a user agent, a
-- cookie, a referrer, a time finer than a day, or a blinded message; no column links
-- an issuance row to an item row.
--
-- What PostgreSQL adds, and the store answers (src/store/postgres.rs): every row has
-- system columns (xmin, cmin, ctid) that order inserts, and the heap fills in arrival
-- order. At release the round's rows are rewritten by one statement per table, in one
-- transaction (one xmin, one cmin for all), and the tables are CLUSTERed on their
-- hash keys (ctid and file order become hash order; dead versions are dropped).

CREATE TABLE rounds (
    id            TEXT PRIMARY KEY,                 -- 32 hex digits
    scope         TEXT NOT NULL,
    manifest      TEXT NOT NULL,                    -- the manifest (signed once imported), JSON
    opens         TEXT NOT NULL,                    -- YYYY-MM-DD
    closes        TEXT NOT NULL,                    -- YYYY-MM-DD
    released      BOOLEAN NOT NULL DEFAULT FALSE,
    signed        BOOLEAN NOT NULL DEFAULT FALSE,
    erased        BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE team_keys (
    round_id           TEXT NOT NULL REFERENCES rounds (id),
    scope              TEXT NOT NULL,
    token_key          BYTEA NOT NULL,          -- the public key, canonical SPKI
    truncated_key_id   SMALLINT NOT NULL,       -- last byte of SHA-256(token_key)
    sealed_private_key BYTEA,                   -- NULL once the round is released
    PRIMARY KEY (round_id, scope)
);
-- A token request names its key by one byte: among live keys that byte is unique.
CREATE UNIQUE INDEX team_keys_live_truncated_key_id
    ON team_keys (truncated_key_id) WHERE sealed_private_key IS NOT NULL;

-- The quota: a keyed hash of the assertion's subject, the round, a count. Nothing else.
CREATE TABLE issuance (
    round_id      TEXT NOT NULL REFERENCES rounds (id),
    subject_hmac  BYTEA NOT NULL,
    tokens        BIGINT NOT NULL CHECK (tokens > 0),
    PRIMARY KEY (round_id, subject_hmac)
);

-- Spent tokens: SHA-256 of the token.
CREATE TABLE spent_tokens (
    token_hash    BYTEA PRIMARY KEY,
    round_id      TEXT NOT NULL REFERENCES rounds (id)
);

-- Items, keyed by their hash. `position` is a random shuffle assigned at release;
-- until then it is NULL and nothing is shown.
CREATE TABLE items (
    item_hash     BYTEA PRIMARY KEY,
    round_id      TEXT NOT NULL REFERENCES rounds (id),
    scope         TEXT NOT NULL,
    answers       TEXT NOT NULL,                    -- JSON
    author_key    BYTEA NOT NULL,
    position      BIGINT
);
CREATE INDEX items_by_round ON items (round_id, position);

CREATE TABLE leaders (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_day   TEXT NOT NULL
);

-- One-time sign-in links and sessions, stored as SHA-256 of the secret.
CREATE TABLE sign_in_links (
    link_hash     BYTEA PRIMARY KEY,
    leader_id     TEXT NOT NULL REFERENCES leaders (id),
    expires_day   TEXT NOT NULL
);

CREATE TABLE sessions (
    session_hash  BYTEA PRIMARY KEY,
    leader_id     TEXT NOT NULL REFERENCES leaders (id),
    expires_day   TEXT NOT NULL
);

-- A counter that every change to `rounds` moves, whichever server or CLI makes it:
-- each server keeps its parsed list of rounds until the counter moves.
CREATE TABLE rounds_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  BIGINT NOT NULL
);
INSERT INTO rounds_generation (id, generation) VALUES (1, 0);
CREATE FUNCTION candor_rounds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE rounds_generation SET generation = generation + 1;
    RETURN NULL;
END;
$$;
CREATE TRIGGER rounds_changed AFTER INSERT OR UPDATE OR DELETE ON rounds
    FOR EACH STATEMENT EXECUTE FUNCTION candor_rounds_changed();
