-- chargegate embedded schema, version 3: the dead-letter list (docs/operations.md).

-- Failed requests, newest first, for GET /api/v1/admin/dead-letters and `chargegate dlq`.
CREATE INDEX requests_failed ON requests (seq) WHERE state = 4;
