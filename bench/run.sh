#!/usr/bin/env bash
# One command for the performance figures of issue 3 / docs/performance.md:
#   builds chargegate in Release, starts nginx with a fixed answer (the HTTP ceiling) and
#   chargegate on a fresh data dir (every request fsync'd), runs the scenarios with wrk and
#   `chargegate loadtest`, and prints one table (chargegate, ceiling, ratio) plus
#   bench/results.json. Everything stays on 127.0.0.1 and every load is bounded in time.
# Usage: bench/run.sh [seconds per scenario, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
bench/build.sh
BIN="$PWD/build-bench/chargegate"
WORK="$(mktemp -d /tmp/chargegate-bench-XXXXXX)"
NGINX_PORT=18580
CG_PORT=18581
cleanup() {
  [ -n "${CG_PID:-}" ] && kill "$CG_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport backlog=4096;
    keepalive_requests 100000000;
    location / {
      default_type application/json;
      return 200 '{"status":"accepted","message":"Request queued for async processing.","request_id":"123e4567-e89b-12d3-a456-426614174000"}';
    }
  }
}
NGINX
nginx -c "$WORK/nginx.conf"

cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"station_id":"123e4567-e89b-12d3-a456-426614174000","driver_token":"ABCD-efgh1234567890_~valid.token","callback_url":"http://127.0.0.1:18590/cb"}'
LUA
# The accept scenarios' callbacks go to nginx too (any 2xx is success).
sed -i "s/18590/$NGINX_PORT/" "$WORK/post.lua"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

start_chargegate() {  # $1: data dir; sets CG_PID and READY_MS (start → /health/ready 200)
  local t0 t1
  t0=$(date +%s%N)
  PORT=$CG_PORT BIND_ADDRESS=127.0.0.1 DATA_DIR="$1" CALLBACK_ALLOW_PRIVATE_NETWORKS=true \
    LOG_LEVEL=WARN "$BIN" serve >>"$WORK/chargegate.log" 2>&1 &
  CG_PID=$!
  until curl -sf "http://127.0.0.1:$CG_PORT/health/ready" >/dev/null 2>&1; do sleep 0.005; done
  t1=$(date +%s%N)
  READY_MS=$(( (t1 - t0) / 1000000 ))
}
stop_chargegate() { kill -TERM "$CG_PID"; wait "$CG_PID" || true; CG_PID=""; }

wrk_json() {  # $1 url, $2 connections → JSON line
  wrk -t2 -c"$2" -d"${SECS}s" --latency -s "$WORK/post.lua" "$1" > "$WORK/wrk.txt" 2>&1 || true
  python3 - "$WORK/wrk.txt" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
lat = {p: ms(v, u) for p, v, u in re.findall(r"\s(50|75|90|99)%\s+([\d.]+)(us|ms|s)", t)}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
errors = (sum(int(x) for x in err.groups()) if err else 0) + (int(non2xx.group(1)) if non2xx else 0)
print(json.dumps({"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"), "errors": errors}))
PY
}

echo "== ceiling: nginx fixed answer" >&2
N64=$(wrk_json "http://127.0.0.1:$NGINX_PORT/api/v1/charging-session" 64)
N1K=$(wrk_json "http://127.0.0.1:$NGINX_PORT/api/v1/charging-session" 1000)

echo "== chargegate accept" >&2
start_chargegate "$WORK/data-accept"
START_EMPTY_MS=$READY_MS
IDLE_KB=$(rss_kb "$CG_PID")
C64=$(wrk_json "http://127.0.0.1:$CG_PORT/api/v1/charging-session" 64)
C1K=$(wrk_json "http://127.0.0.1:$CG_PORT/api/v1/charging-session" 1000)
ACCEPT_PEAK_KB=$(hwm_kb "$CG_PID")
stop_chargegate

echo "== chargegate end to end (loadtest, built-in receiver)" >&2
start_chargegate "$WORK/data-e2e"
"$BIN" loadtest --url "http://127.0.0.1:$CG_PORT" -c 64 -d "$SECS" --warmup 1 --seed-acl \
  --token-count 1000 --drain 60 --json "$WORK/e2e.json" -q > "$WORK/e2e.txt"
E2E_PEAK_KB=$(hwm_kb "$CG_PID")
stop_chargegate
cat "$WORK/e2e.txt" >&2

BACKLOG="${BACKLOG:-200000}"
echo "== backlog: $BACKLOG queued requests on disk, then start and drain" >&2
"$BIN" migrate --data-dir "$WORK/data-backlog" >/dev/null
sqlite3 "$WORK/data-backlog/chargegate.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $BACKLOG)
INSERT INTO requests (id, station_id, driver_token, callback_url, state, created_at)
SELECT printf('00000000-0000-7000-8000-%012d', i), '123e4567-e89b-12d3-a456-426614174000',
       'ABCD-efgh1234567890_~valid.token', 'http://127.0.0.1:$NGINX_PORT/cb', 0, 0 FROM n;
SQL
start_chargegate "$WORK/data-backlog"
BACKLOG_READY_MS=$READY_MS
D0=$(date +%s%N)
until curl -s "http://127.0.0.1:$CG_PORT/health" | python3 -c '
import json,sys; c=json.load(sys.stdin)["components"]
sys.exit(0 if c["queue"]["depth"] == 0 and c["delivery"]["pending"] == 0 else 1)'; do sleep 0.2; done
D1=$(date +%s%N)
BACKLOG_PEAK_KB=$(hwm_kb "$CG_PID")
stop_chargegate
BACKLOG_RATE=$(( BACKLOG * 1000000000 / (D1 - D0) ))

python3 - "$WORK" "$N64" "$N1K" "$C64" "$C1K" "$IDLE_KB" "$ACCEPT_PEAK_KB" "$E2E_PEAK_KB" \
  "$START_EMPTY_MS" "$BACKLOG" "$BACKLOG_READY_MS" "$BACKLOG_RATE" "$BACKLOG_PEAK_KB" <<'PY'
import json, sys
work, n64, n1k, c64, c1k = sys.argv[1], *map(json.loads, sys.argv[2:6])
idle_kb, accept_peak_kb, e2e_peak_kb, start_ms = map(int, sys.argv[6:10])
backlog, backlog_ready_ms, backlog_rate, backlog_peak_kb = map(int, sys.argv[10:14])
e2e = json.load(open(f"{work}/e2e.json"))
def ratio(a, b): return round(a / b, 2) if b else None
rows = [
  ("accept rps, 64 conn", c64["rps"], n64["rps"], ratio(c64["rps"], n64["rps"]), ">= 0.5x ceiling"),
  ("accept p99 ms, 64 conn", c64["p99_ms"], n64["p99_ms"], ratio(c64["p99_ms"], n64["p99_ms"]), "<= 5"),
  ("accept rps, 1000 conn", c1k["rps"], n1k["rps"], ratio(c1k["rps"], n1k["rps"]), "no errors"),
  ("accept p99 ms, 1000 conn", c1k["p99_ms"], n1k["p99_ms"], ratio(c1k["p99_ms"], n1k["p99_ms"]), "<= 25"),
  ("accept errors, 1000 conn", c1k["errors"], n1k["errors"], None, "0"),
  ("end-to-end sessions/s", round(e2e["e2e_throughput"]), None, None, ">= 30000"),
  ("end-to-end p99 ms", e2e["e2e_latency"]["p99_ms"], None, None, ""),
  ("peak RSS MB (e2e run)", round(e2e_peak_kb / 1024, 1), None, None, "<= 64"),
  ("idle RSS MB", round(idle_kb / 1024, 1), None, None, "<= 20"),
  ("ready after start, ms (empty)", start_ms, None, None, "<= 100"),
  (f"ready ms, {backlog} queued", backlog_ready_ms, None, None, "<= 2000 (1M)"),
  ("backlog drain sessions/s", backlog_rate, None, None, "= e2e rate"),
  ("peak RSS MB (backlog drain)", round(backlog_peak_kb / 1024, 1), None, None, "flat"),
]
print(f"{'scenario':32} {'chargegate':>12} {'nginx':>12} {'ratio':>7}  target")
for name, c, n, r, target in rows:
    f = lambda v: "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
    print(f"{name:32} {f(c):>12} {f(n):>12} {f(r):>7}  {target}")
out = {"ceiling": {"c64": n64, "c1000": n1k}, "chargegate": {"c64": c64, "c1000": c1k,
       "e2e": e2e, "idle_rss_kb": idle_kb, "accept_peak_rss_kb": accept_peak_kb,
       "e2e_peak_rss_kb": e2e_peak_kb, "ready_ms_empty": start_ms,
       "backlog": {"requests": backlog, "ready_ms": backlog_ready_ms,
                   "drain_rate": backlog_rate, "peak_rss_kb": backlog_peak_kb}}}
json.dump(out, open("bench/results.json", "w"), indent=2)
print("\nwritten: bench/results.json")
PY
