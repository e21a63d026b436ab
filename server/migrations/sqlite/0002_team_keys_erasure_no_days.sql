-- Issue 10. Token keys get a table of their own: one per team, the private key sealed
-- (XChaCha20-Poly1305 under a key derived from the server secret) and destroyed at
-- release, and a database constraint that no two live keys share a truncated key id.
-- Rounds get a state: prepared (waiting for the organisation's signature, which may be
-- made on another machine) and erased (the arrival order gone from the files). Items
-- lose the day they arrived: the digest dates them by their round.
--
-- The product has not been released: rounds made before this migration lose their
-- token keys (they were kept in the clear in rounds.token_key, which is dropped here).

ALTER TABLE rounds DROP COLUMN token_key;
ALTER TABLE rounds DROP COLUMN truncated_key_id;
ALTER TABLE rounds ADD COLUMN signed INTEGER NOT NULL DEFAULT 1 CHECK (signed IN (0, 1));
ALTER TABLE rounds ADD COLUMN erased INTEGER NOT NULL DEFAULT 0 CHECK (erased IN (0, 1));

CREATE TABLE team_keys (
    round_id           TEXT NOT NULL REFERENCES rounds (id),
    scope              TEXT NOT NULL,
    token_key          BLOB NOT NULL,           -- the public key, canonical SPKI
    truncated_key_id   INTEGER NOT NULL,        -- last byte of SHA-256(token_key)
    sealed_private_key BLOB,                    -- NULL once the round is released
    PRIMARY KEY (round_id, scope)
) WITHOUT ROWID;
-- A token request names its key by one byte: among live keys that byte is unique.
CREATE UNIQUE INDEX team_keys_live_truncated_key_id
    ON team_keys (truncated_key_id) WHERE sealed_private_key IS NOT NULL;

ALTER TABLE items DROP COLUMN received_day;

-- A counter that every change to a round's row moves, whichever process makes it (the
-- CLI opens and closes rounds while the server runs): the server keeps its parsed list
-- of rounds until the counter moves, instead of reading every manifest per request.
CREATE TABLE rounds_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO rounds_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER rounds_inserted AFTER INSERT ON rounds
    BEGIN UPDATE rounds_generation SET generation = generation + 1; END;
CREATE TRIGGER rounds_updated AFTER UPDATE ON rounds
    BEGIN UPDATE rounds_generation SET generation = generation + 1; END;
CREATE TRIGGER rounds_deleted AFTER DELETE ON rounds
    BEGIN UPDATE rounds_generation SET generation = generation + 1; END;
