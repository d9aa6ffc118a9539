-- chargegate embedded schema, version 2: API clients (docs/security.md).
-- Times are integer milliseconds since the Unix epoch (UTC).

-- The client that sent a request (NULL: sent while API authentication was off). Only that
-- client may read the request's status.
ALTER TABLE requests ADD COLUMN client_id TEXT;

-- API keys. A key is `cgk_<key_id>_<secret>`; only the SHA-256 of the secret is stored, so a
-- copy of the database does not give anyone a usable key.
CREATE TABLE api_keys (
    key_id        TEXT    PRIMARY KEY,
    client_id     TEXT    NOT NULL,
    secret_hash   BLOB    NOT NULL,
    label         TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) WITHOUT ROWID;

-- A client's own webhook signing secrets (`whsec_...`, space-separated, every one signs), used
-- instead of CALLBACK_SIGNING_SECRET for that client's callbacks.
CREATE TABLE client_webhook_secrets (
    client_id     TEXT    PRIMARY KEY,
    secrets       TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
