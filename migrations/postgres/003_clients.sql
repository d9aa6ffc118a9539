-- chargegate cluster schema, version 3: API clients. Mirrors migrations/sqlite/002_clients.sql.

-- The client that sent a request (NULL: sent while API authentication was off). Only that
-- client may read the request's status.
ALTER TABLE requests ADD COLUMN client_id text;

-- API keys. A key is `cgk_<key_id>_<secret>`; only the SHA-256 of the secret is stored.
CREATE TABLE api_keys (
    key_id        text    PRIMARY KEY,
    client_id     text    NOT NULL,
    secret_hash   bytea   NOT NULL,
    label         text    NOT NULL DEFAULT '',
    created_at    bigint  NOT NULL,
    revoked_at    bigint
);

-- A client's own webhook signing secrets (space-separated `whsec_...`), used instead of
-- CALLBACK_SIGNING_SECRET for that client's callbacks.
CREATE TABLE client_webhook_secrets (
    client_id     text    PRIMARY KEY,
    secrets       text    NOT NULL,
    updated_at    bigint  NOT NULL
);
