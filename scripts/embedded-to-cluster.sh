#!/usr/bin/env bash
# Copies an embedded chargegate store (DATA_DIR/chargegate.db) into a cluster database.
# Usage: DATABASE_URL=postgresql://... scripts/embedded-to-cluster.sh DATA_DIR
# Stop the embedded service first. The database must be migrated (`chargegate migrate`) and empty.
# Needs the sqlite3 and psql command-line tools (Debian packages sqlite3, postgresql-client).
set -euo pipefail
db="${1:?usage: DATABASE_URL=... $0 DATA_DIR}/chargegate.db"
: "${DATABASE_URL:?set DATABASE_URL}"
[ -f "$db" ] || { echo "no embedded store at $db" >&2; exit 1; }

copy() {  # copy TABLE "COLUMNS" "SQLITE SELECT"
  sqlite3 -bail -csv "$db" "$3" |
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "\\copy $1 ($2) FROM STDIN WITH (FORMAT csv)"
}

psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -c "SELECT 1 FROM requests LIMIT 0" >/dev/null
if [ "$(psql "$DATABASE_URL" -At -c "SELECT count(*) FROM requests")" != "0" ]; then
  echo "the cluster database already holds requests; refusing to mix stores" >&2
  exit 1
fi

copy acl "driver_token, status, stations, expires_at, updated_at" \
  "SELECT driver_token, status, stations, expires_at, updated_at FROM acl"
copy stations "station_id, active, updated_at" \
  "SELECT station_id, CASE WHEN active <> 0 THEN 'true' ELSE 'false' END, updated_at FROM stations"
copy idempotency_keys "key, body_hash, request_id, created_at" \
  "SELECT key, '\\x' || lower(hex(body_hash)), request_id, created_at FROM idempotency_keys"
# Queued requests are published by the workers' relay (published_at = arrival time); deliveries
# that were in flight become due at once.
copy requests "seq, id, station_id, driver_token, callback_url, traceparent, state, created_at,
  published_at, decision_status, decision_reason, decided_at, attempts, round_attempts,
  last_status_code, last_error, next_attempt_at, delivered_at, client_id" \
  "SELECT seq, id, station_id, driver_token, callback_url, traceparent, state, created_at,
     created_at, decision_status, decision_reason, decided_at, attempts, round_attempts,
     last_status_code, last_error,
     CASE WHEN state = 2 THEN coalesce(next_attempt_at, 0) END, delivered_at, client_id
     FROM requests"
copy api_keys "key_id, client_id, secret_hash, label, created_at, revoked_at" \
  "SELECT key_id, client_id, '\\x' || lower(hex(secret_hash)), label, created_at, revoked_at
     FROM api_keys"
copy client_webhook_secrets "client_id, secrets, updated_at" \
  "SELECT client_id, secrets, updated_at FROM client_webhook_secrets"
copy delivery_attempts "request_seq, attempt_no, started_at, duration_ms, http_status, error" \
  "SELECT request_seq, attempt_no, started_at, duration_ms, http_status, error
     FROM delivery_attempts"
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -At -c \
  "SELECT setval(pg_get_serial_sequence('requests', 'seq'), greatest(1, (SELECT max(seq) FROM requests)))" >/dev/null
echo "copied: $(psql "$DATABASE_URL" -At -c "SELECT count(*) FROM requests") requests," \
  "$(psql "$DATABASE_URL" -At -c "SELECT count(*) FROM acl") ACL entries," \
  "$(psql "$DATABASE_URL" -At -c "SELECT count(*) FROM api_keys") API keys"
