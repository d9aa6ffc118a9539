-- chargegate cluster schema (PostgreSQL), version 1. Mirrors migrations/sqlite/001_init.sql,
-- plus the columns that share work between processes (docs/architecture.md, "Cluster mode").
-- Times are bigint milliseconds since the Unix epoch (UTC).

CREATE TABLE requests (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                text    NOT NULL UNIQUE,      -- request_id (UUID text)
    station_id        text    NOT NULL,
    driver_token      text    NOT NULL,
    callback_url      text    NOT NULL,
    traceparent       text    NOT NULL DEFAULT '',
    state             smallint NOT NULL,            -- 0 queued, 2 delivering, 3 delivered, 4 failed
    created_at        bigint  NOT NULL,
    -- Outbox: when the request was last handed to the Redis stream. The relay hands it again
    -- if it is still queued and unleased long after that (lost by Redis, or never published).
    published_at      bigint  NOT NULL,
    -- The worker process that holds the request (authorizing it, or sending its callback)
    -- and until when; past lease_until any worker may take it over.
    lease_owner       text,
    lease_until       bigint,
    decision_status   smallint,                     -- 0 allowed, 1 not_allowed, 2 unknown
    decision_reason   text,
    decided_at        bigint,
    attempts          integer NOT NULL DEFAULT 0,
    round_attempts    integer NOT NULL DEFAULT 0,
    last_status_code  integer,
    last_error        text,
    next_attempt_at   bigint,                       -- due time while state = 2
    delivered_at      bigint
);

-- Requests waiting for a decision (relay scans and counts).
CREATE INDEX requests_queued ON requests (published_at) WHERE state = 0;
-- Deliveries by due time (parked retries, and leases of deliveries in flight).
CREATE INDEX requests_due ON requests (next_attempt_at) WHERE state = 2;

-- Audit trail: every delivery attempt.
CREATE TABLE delivery_attempts (
    request_seq   bigint  NOT NULL,
    attempt_no    integer NOT NULL,
    started_at    bigint  NOT NULL,
    duration_ms   bigint  NOT NULL,
    http_status   integer,
    error         text,
    worker        text,
    PRIMARY KEY (request_seq, attempt_no)
);

CREATE TABLE idempotency_keys (
    key           text    PRIMARY KEY,
    body_hash     bytea   NOT NULL,
    request_id    text    NOT NULL,
    created_at    bigint  NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Local authorization list (contract §4).
CREATE TABLE acl (
    driver_token  text    PRIMARY KEY,
    status        smallint NOT NULL,                -- 0 allowed, 1 blocked
    stations      text,                             -- JSON array of lower-case UUIDs, NULL = all
    expires_at    bigint,
    updated_at    bigint  NOT NULL
);

CREATE TABLE stations (
    station_id    text    PRIMARY KEY,
    active        boolean NOT NULL,
    updated_at    bigint  NOT NULL
);

-- Leases and due times are compared with the database's clock, so the processes' clocks may
-- differ without one worker taking another's work early.
CREATE FUNCTION cg_now_ms() RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
