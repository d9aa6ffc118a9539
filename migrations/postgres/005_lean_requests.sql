-- chargegate cluster schema, version 5: less work per request row (docs/performance.md,
-- "Cluster mode"). Each row is written four times in its life (accept, claim, decision, attempt).

-- Room on every page for the next versions of its rows: an update that changes no indexed
-- column (the claim: lease_owner, lease_until) is then a heap-only (HOT) update, adding no
-- index entries, and the versions it leaves are pruned without vacuum. At the default 100 the
-- pages filled by accepts had no room, and only 16 % of updates were HOT. Applies to pages
-- written from now on.
ALTER TABLE requests SET (fillfactor = 80);

-- Every accept and every non-HOT update of a queued row added an entry to this index, and only
-- the outbox relay used it (every few seconds); the relay now walks requests_queued_seq, which
-- holds the same rows.
DROP INDEX requests_queued;

-- Request ids (UUID text) compared bytewise: the unique index on id takes an entry on every
-- insert and every non-HOT update (three or four per request), each a search with string
-- comparisons, which under the database's default collation (e.g. en_US.UTF-8 or C.UTF-8) go
-- through strcoll. Equality, and so uniqueness, is the same under "C" for these ids. Rows
-- with a unique text index inserted and updated 10-30 % faster with "C" on the benchmark
-- machine. Rebuilds requests_id_key (the table itself is not rewritten) under an exclusive lock
-- on requests: on a large table, migrate at a quiet time.
ALTER TABLE requests ALTER COLUMN id TYPE text COLLATE "C";
