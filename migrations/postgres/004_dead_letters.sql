-- chargegate cluster schema, version 4: the dead-letter list (docs/operations.md).

-- Failed requests, newest first, for GET /api/v1/admin/dead-letters and `chargegate dlq`.
CREATE INDEX requests_failed ON requests (seq) WHERE state = 4;
-- The oldest request waiting for a decision (authorization_queue_oldest_age_seconds).
CREATE INDEX requests_queued_seq ON requests (seq) WHERE state = 0;
