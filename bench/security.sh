#!/usr/bin/env bash
# What the security features cost on the accept path (issue 6, docs/security.md): the same
# wrk load of POST /api/v1/charging-session against chargegate (embedded store, every request
# fsync'd) with authentication off, with an API key, with an HS256 JWT, and with an API key
# plus a per-client rate limit high enough never to refuse. Prints requests/s and latency
# percentiles per configuration. Everything stays on 127.0.0.1, each load is bounded in time.
# Usage: bench/security.sh [seconds per configuration, default 10] [connections, default 64]
# CHARGEGATE_BIN=path uses that binary instead of building build-bench/chargegate (Release).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
CONNS="${2:-64}"
if [ -n "${CHARGEGATE_BIN:-}" ]; then
  BIN="$CHARGEGATE_BIN"
else
  bench/build.sh
  BIN="$PWD/build-bench/chargegate"
fi
WORK="$(mktemp -d /tmp/chargegate-secbench-XXXXXX)"
PORT=18681
RECEIVER_PORT=18682
JWT_SECRET="bench-hs256-secret-0123456789-abcdefghij"
cleanup() {
  [ -n "${CG_PID:-}" ] && kill "$CG_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

# The callback receiver: nginx answering 200 to everything (so delivery does no retries).
cat >"$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$RECEIVER_PORT reuseport backlog=4096;
    keepalive_requests 100000000;
    location / { return 200 'ok'; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"

# An HS256 token valid for an hour (header and claims are fixed JSON; openssl signs).
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
claims=$(printf '{"sub":"bench","iat":%d,"exp":%d}' "$now" $((now + 3600)) | b64url)
sig=$(printf '%s.%s' "$header" "$claims" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64url)
JWT="$header.$claims.$sig"

run() {  # $1: name, $2: extra header line for wrk ("" for none), then env assignments
  local name="$1" header_line="$2"
  shift 2
  local data="$WORK/data-$name"
  mkdir -p "$data"
  env "$@" DATA_DIR="$data" "$BIN" api-key create --client bench >"$WORK/key" 2>/dev/null
  local key
  key=$(cat "$WORK/key")
  env "$@" PORT=$PORT BIND_ADDRESS=127.0.0.1 DATA_DIR="$data" CALLBACK_ALLOW_PRIVATE_NETWORKS=true \
    LOG_LEVEL=WARN JWT_HS256_SECRET="$JWT_SECRET" "$BIN" serve >>"$WORK/chargegate.log" 2>&1 &
  CG_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1; do sleep 0.01; done
  sleep 0.3  # the key directory is loaded at start
  {
    echo 'wrk.method = "POST"'
    echo 'wrk.headers["Content-Type"] = "application/json"'
    [ -n "$header_line" ] && echo "${header_line//KEY/$key}"
    echo "wrk.body = '{\"station_id\":\"123e4567-e89b-12d3-a456-426614174000\",\"driver_token\":\"ABCD-efgh1234567890_~valid.token\",\"callback_url\":\"http://127.0.0.1:$RECEIVER_PORT/cb\"}'"
  } >"$WORK/post.lua"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$WORK/post.lua" \
    "http://127.0.0.1:$PORT/api/v1/charging-session" >"$WORK/wrk.txt" 2>&1 || true
  local statuses
  statuses=$(curl -s "http://127.0.0.1:$PORT/metrics" |
    awk '/^http_requests_total\{route="charging_session_create"/ {printf "%s ", $0}')
  kill "$CG_PID"
  wait "$CG_PID" 2>/dev/null || true
  CG_PID=
  python3 - "$name" "$WORK/wrk.txt" "$statuses" <<'PY'
import re, sys
name, path, statuses = sys.argv[1], sys.argv[2], sys.argv[3]
t = open(path).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", t, re.M))
codes = ", ".join(f"{c}: {n}" for c, n in re.findall(r'code="(\d+)"\} (\d+)', statuses))
print(f"{name:<28} {float(rps.group(1)) if rps else 0:>10.0f} req/s   p50 {pct.get('50','?'):>8}"
      f"   p99 {pct.get('99','?'):>8}   ({codes})")
PY
}

echo "== accept path, ${SECS}s each, $CONNS connections (wrk -t2), embedded store"
run "auth off" ""
run "API key (X-API-Key)" 'wrk.headers["X-API-Key"] = "KEY"' API_AUTH=on
run "JWT HS256 (Bearer)" "wrk.headers[\"Authorization\"] = \"Bearer $JWT\"" API_AUTH=on
run "API key + rate limit" 'wrk.headers["X-API-Key"] = "KEY"' API_AUTH=on \
  RATE_LIMIT_PER_SECOND=1000000 RATE_LIMIT_BURST=1000000
