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
