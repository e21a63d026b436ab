-- Issue 11. Items are kept in (round, item hash) order instead of item-hash order alone:
-- a round's digest then reads its rows in one run of the file, in an order that says
-- nothing of arrival (the hash), instead of one page per item in release order across
-- every round's items. An item's hash covers its round, so it stays unique.

CREATE TABLE items_by_round_and_hash (
    item_hash     BLOB NOT NULL,
    round_id      TEXT NOT NULL REFERENCES rounds (id),
    scope         TEXT NOT NULL,
    answers       TEXT NOT NULL,                    -- JSON
    author_key    BLOB NOT NULL,
    position      INTEGER,
    PRIMARY KEY (round_id, item_hash)
) WITHOUT ROWID;
INSERT INTO items_by_round_and_hash (item_hash, round_id, scope, answers, author_key, position)
    SELECT item_hash, round_id, scope, answers, author_key, position FROM items;
DROP TABLE items;
ALTER TABLE items_by_round_and_hash RENAME TO items;
CREATE INDEX items_by_round ON items (round_id, position);
