-- Candor's schema. What is NOT here matters as much as what is: no column anywhere can
-- hold an IP address, a user agent, a cookie, a referrer, a time finer than a day, or a
-- blinded message; and no column links an issuance row to an item row.

CREATE TABLE rounds (
    id            TEXT PRIMARY KEY NOT NULL,        -- 32 hex digits
    scope         TEXT NOT NULL,
    manifest      TEXT NOT NULL,                    -- the signed manifest, JSON
    token_key     TEXT NOT NULL,                    -- the round's RSA issuer key, PKCS#8 PEM
    truncated_key_id INTEGER NOT NULL,
    opens         TEXT NOT NULL,                    -- YYYY-MM-DD
    closes        TEXT NOT NULL,                    -- YYYY-MM-DD
    released      INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1))
);

-- The quota: a keyed hash of the assertion's subject, the round, a count. Nothing else.
CREATE TABLE issuance (
    round_id      TEXT NOT NULL REFERENCES rounds (id),
    subject_hmac  BLOB NOT NULL,
    tokens        INTEGER NOT NULL CHECK (tokens > 0),
    PRIMARY KEY (round_id, subject_hmac)
) WITHOUT ROWID;

-- Spent tokens: SHA-256 of the token. WITHOUT ROWID, so storage order says nothing.
CREATE TABLE spent_tokens (
    token_hash    BLOB PRIMARY KEY NOT NULL,
    round_id      TEXT NOT NULL REFERENCES rounds (id)
) WITHOUT ROWID;

-- Items, keyed by their hash: no row id, so no arrival order. `position` is a random
-- shuffle assigned at release; until then it is NULL and nothing is shown.
CREATE TABLE items (
    item_hash     BLOB PRIMARY KEY NOT NULL,
    round_id      TEXT NOT NULL REFERENCES rounds (id),
    scope         TEXT NOT NULL,
    answers       TEXT NOT NULL,                    -- JSON
    author_key    BLOB NOT NULL,
    received_day  TEXT NOT NULL,                    -- YYYY-MM-DD
    position      INTEGER
) WITHOUT ROWID;
CREATE INDEX items_by_round ON items (round_id, position);

CREATE TABLE leaders (
    id            TEXT PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_day   TEXT NOT NULL
);

-- One-time sign-in links and sessions, stored as SHA-256 of the secret.
CREATE TABLE sign_in_links (
    link_hash     BLOB PRIMARY KEY NOT NULL,
    leader_id     TEXT NOT NULL REFERENCES leaders (id),
    expires_day   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sessions (
    session_hash  BLOB PRIMARY KEY NOT NULL,
    leader_id     TEXT NOT NULL REFERENCES leaders (id),
    expires_day   TEXT NOT NULL
) WITHOUT ROWID;
