-- chargegate embedded schema, version 1.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE requests (
    seq               INTEGER PRIMARY KEY,          -- arrival order
    id                TEXT    NOT NULL UNIQUE,      -- request_id (UUID text)
    station_id        TEXT    NOT NULL,
    driver_token      TEXT    NOT NULL,
    callback_url      TEXT    NOT NULL,
    traceparent       TEXT    NOT NULL DEFAULT '',
    state             INTEGER NOT NULL,             -- 0 queued, 2 delivering, 3 delivered, 4 failed
    created_at        INTEGER NOT NULL,
    decision_status   INTEGER,                      -- 0 allowed, 1 not_allowed, 2 unknown
    decision_reason   TEXT,
    decided_at        INTEGER,
    attempts          INTEGER NOT NULL DEFAULT 0,   -- over the request's life
    round_attempts    INTEGER NOT NULL DEFAULT 0,   -- in the current delivery round
    last_status_code  INTEGER,
    last_error        TEXT,
    next_attempt_at   INTEGER,                      -- set while parked for a later attempt
    delivered_at      INTEGER
);

-- The queue: requests waiting for a decision, in arrival order.
CREATE INDEX requests_queued ON requests (seq) WHERE state = 0;
-- Decided requests not yet delivered or failed (counted at start-up).
CREATE INDEX requests_delivering ON requests (seq) WHERE state = 2;
-- Parked deliveries, earliest first.
CREATE INDEX requests_due ON requests (next_attempt_at, seq) WHERE next_attempt_at IS NOT NULL;

-- Audit trail: every delivery attempt.
CREATE TABLE delivery_attempts (
    request_seq   INTEGER NOT NULL,
    attempt_no    INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    http_status   INTEGER,
    error         TEXT,
    PRIMARY KEY (request_seq, attempt_no)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    key           TEXT    PRIMARY KEY,
    body_hash     BLOB    NOT NULL,
    request_id    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Local authorization list (contract §4).
CREATE TABLE acl (
    driver_token  TEXT    PRIMARY KEY,
    status        INTEGER NOT NULL,                 -- 0 allowed, 1 blocked
    stations      TEXT,                             -- JSON array of lower-case UUIDs, NULL = all
    expires_at    INTEGER,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE stations (
    station_id    TEXT    PRIMARY KEY,              -- lower-case UUID
    active        INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
