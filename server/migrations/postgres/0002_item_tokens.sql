-- Issue 12. Each item keeps the Privacy Pass token it was redeemed with: the round's
-- ledger publishes it (or, for a team rolled up in the digest, its spend id), so that
-- anyone can check that every item carries a valid token and none was used twice. The
-- token is unlinkable to its issuance (a blind signature); the spent_tokens row already
-- holds its hash. Items stored before this version have none and are sealed leaves.
ALTER TABLE items ADD COLUMN token BYTEA;
