#!/usr/bin/env bash
# One command for the callback-delivery figures of issue 13: builds chargegate in Release
# (bench/build.sh), then runs each scenario against a fresh chargegate on a temp data dir and
# prints one Markdown table plus bench/delivery-results.json. Figures only: nothing here passes
# or fails on a timing. Everything stays on 127.0.0.1 and every wait is bounded.
#   delay     built-in receiver answering after 0, 1, 10, 50 ms (closed loop, 64 connections)
#   node      the same load, callbacks to bench/receiver.mjs (Node.js http) at 0 and 10 ms
#   capacity  a receiver with 16 workers of 10 ms each: e2e rate, receiver latency vs its
#             unloaded 10 ms, and the concurrency limit chargegate settled at
#   burst     10 s at 1000 connections, immediate receiver: accept time vs drain time
#   backlog   BACKLOG requests accepted through the API while the Node receiver holds every
#             callback unanswered (POST /pause; CALLBACK_TIMEOUT_MS raised so nothing times out),
#             then POST /resume: drain rate vs the steady rate, RSS sampled every 0.5 s
# Usage: bench/delivery.sh [seconds per load, default 10]
#   SCENARIOS="delay node capacity burst backlog" (default: all), BACKLOG=200000,
#   DRAIN_TIMEOUT=60 (seconds to wait for callbacks after a load, per scenario),
#   BACKLOG_TIMEOUT=600 (seconds to wait for the backlog's drain).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
SCENARIOS="${SCENARIOS:-delay node capacity burst backlog}"
BACKLOG="${BACKLOG:-200000}"
DRAIN_TIMEOUT="${DRAIN_TIMEOUT:-60}"
BACKLOG_TIMEOUT="${BACKLOG_TIMEOUT:-600}"
bench/build.sh
BIN="$PWD/build-bench/chargegate"
WORK="$(mktemp -d /tmp/chargegate-delivery-XXXXXX)"
CG_PORT=18681
NODE_PORT=18690
CG_URL="http://127.0.0.1:$CG_PORT"
NODE_URL="http://127.0.0.1:$NODE_PORT"
CG_PID=""
NODE_PID=""
SAMPLER_PID=""
ROWS="$WORK/rows.jsonl"
: >"$ROWS"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

stop_pid() {  # $1: pid; TERM, then KILL after 15 s
  local pid="$1" i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$SAMPLER_PID"
  stop_pid "$CG_PID"
  stop_pid "$NODE_PID"
  # Kept for a look after the run (bench/ ignores it in git).
  cp "$WORK/chargegate.log" bench/delivery-chargegate.log 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Peak RSS of chargegate $1 in kB; 0 when it is no longer running.
hwm_kb() {
  local v
  v=$(awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
  echo "${v:-0}"
}

# Did chargegate survive the scenario? If not, says so with its exit status (143: SIGTERM from
# outside, 134/139: abort/segfault) and the end of its log, for the scenario's row.
cg_check() {
  local st
  [ -n "$CG_PID" ] || return 0
  if ps -p "$CG_PID" -o stat= | grep -qv Z; then return 0; fi
  set +e
  wait "$CG_PID"
  st=$?
  set -e
  echo "chargegate (pid $CG_PID) EXITED during the scenario, status $st; the end of its log:" >&2
  tail -20 "$WORK/chargegate.log" >&2
  echo "$st" >"$WORK/exited"
  CG_PID=""
}

start_chargegate() {  # $1: data dir, then extra VAR=value settings; sets CG_PID
  local dir="$1"
  shift
  env PORT=$CG_PORT BIND_ADDRESS=127.0.0.1 DATA_DIR="$dir" CALLBACK_ALLOW_PRIVATE_NETWORKS=true \
    LOG_LEVEL=WARN "$@" "$BIN" serve >>"$WORK/chargegate.log" 2>&1 &
  CG_PID=$!
  local i
  for ((i = 0; i < 1000; i++)); do
    curl -sf "$CG_URL/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$CG_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "chargegate did not become ready; its log:" >&2
  tail -20 "$WORK/chargegate.log" >&2
  exit 1
}
stop_chargegate() { stop_pid "$CG_PID"; CG_PID=""; }

start_node() {  # $1 delay ms, $2 capacity; sets NODE_PID
  node bench/receiver.mjs --port "$NODE_PORT" --delay-ms "$1" --capacity "$2" \
    >>"$WORK/receiver.log" 2>&1 &
  NODE_PID=$!
  local i
  for ((i = 0; i < 500; i++)); do
    curl -sf "$NODE_URL/stats" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  echo "bench/receiver.mjs did not start" >&2
  cat "$WORK/receiver.log" >&2
  exit 1
}
stop_node() { stop_pid "$NODE_PID"; NODE_PID=""; }

# Polls the Node receiver until it has seen $1 unique callbacks or DRAIN_TIMEOUT passed;
# leaves its last /stats in $WORK/node-stats.json.
wait_node() {
  local want="$1" deadline=$((SECONDS + DRAIN_TIMEOUT)) unique
  while :; do
    curl -sf "$NODE_URL/stats" >"$WORK/node-stats.json"
    unique=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unique"])' \
      "$WORK/node-stats.json")
    [ "$unique" -ge "$want" ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && return 0
    sleep 0.2
  done
}

# Samples chargegate's view of each receiver every 0.5 s into $1 (JSON lines): the flow from
# /api/v1/admin/stats (`receiver_flow`, when the service has it) and the
# callback_concurrency_limit gauges of /metrics.
start_sampler() {
  local out="$1"
  (
    while kill -0 "$CG_PID" 2>/dev/null; do
      stats=$(curl -s --max-time 2 "$CG_URL/api/v1/admin/stats" || true)
      limits=$(curl -s --max-time 2 "$CG_URL/metrics" | grep '^callback_concurrency_limit' || true)
      python3 -c '
import json, re, sys
try:
    s = json.loads(sys.argv[1])
except ValueError:
    s = {}
lim = {m.group(1): float(m.group(2)) for m in
       re.finditer(r"receiver=\"([^\"]*)\"\}\s+(\S+)", sys.argv[2])}
print(json.dumps({"t_ns": int(sys.argv[3]), "flow": s.get("receiver_flow"),
                  "metrics_limit": lim or None, "counters": s.get("counters")}))
' "$stats" "$limits" "$(date +%s%N)" >>"$out"
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
}
stop_sampler() { stop_pid "$SAMPLER_PID"; SAMPLER_PID=""; }

loadtest() {  # $1: JSON output, then loadtest options
  local json="$1"
  shift
  "$BIN" loadtest --url "$CG_URL" --seed-acl --token-count 1000 -q --json "$json" "$@" \
    >"$WORK/loadtest.txt"
  cat "$WORK/loadtest.txt" >&2
}

row() {  # $1: one scenario's JSON object
  local exited=""
  cg_check
  if [ -f "$WORK/exited" ]; then exited=$(cat "$WORK/exited"); rm -f "$WORK/exited"; fi
  python3 -c 'import json,sys; r = json.loads(sys.argv[1])
r["chargegate_exit_status"] = int(sys.argv[2]) if sys.argv[2] else None
print(json.dumps(r))' "$1" "$exited" >>"$ROWS"
}

scenario_delay() {
  local d
  for d in 0 1 10 50; do
    echo "== delay: built-in receiver answering after $d ms" >&2
    start_chargegate "$WORK/data-delay-$d"
    loadtest "$WORK/delay-$d.json" -c 64 -d "$SECS" --drain "$DRAIN_TIMEOUT" \
      --receiver-delay-ms "$d"
    row "$(python3 - "$WORK/delay-$d.json" "$d" "$(hwm_kb "$CG_PID")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"scenario": "delay", "receiver": "loadtest", "delay_ms": float(sys.argv[2]),
    "accepted": r["accepted_total"], "e2e_rate": r["e2e_throughput"],
    "e2e_p99_ms": r["e2e_latency"]["p99_ms"],
    "duplicates": r["callbacks"] - r["callbacks_unique"],
    "missing": max(0, r["accepted_total"] - r["callbacks_unique"]),
    "receiver_p99_ms": r["receiver"]["latency"]["p99_ms"],
    "receiver_peak_in_flight": r["receiver"]["peak_in_flight"],
    "receiver_connections": r["receiver"]["connections"],
    "peak_rss_kb": int(sys.argv[3])}))
PY
)"
    stop_chargegate
  done
}

scenario_node() {
  local d
  for d in 0 10; do
    echo "== node: bench/receiver.mjs answering after $d ms" >&2
    start_node "$d" 0
    start_chargegate "$WORK/data-node-$d"
    loadtest "$WORK/node-$d.json" -c 64 -d "$SECS" --callback-url "$NODE_URL/callback"
    wait_node "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted_total"])' \
      "$WORK/node-$d.json")"
    row "$(python3 - "$WORK/node-$d.json" "$WORK/node-stats.json" "$d" "$(hwm_kb "$CG_PID")" <<'PY'
import json, sys
r, n = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
window = (int(n["last_ns"]) - r["start_steady_ns"]) / 1e9
print(json.dumps({"scenario": "node", "receiver": "node", "delay_ms": float(sys.argv[3]),
    "accepted": r["accepted_total"], "e2e_rate": n["unique"] / window if window > 0 else None,
    "e2e_p99_ms": n["e2e_latency"]["p99_ms"], "duplicates": n["duplicates"],
    "missing": max(0, r["accepted_total"] - n["unique"]),
    "receiver_p99_ms": n["receiver_latency"]["p99_ms"],
    "receiver_peak_in_flight": n["peak_in_flight"], "receiver_connections": n["connections"],
    "peak_rss_kb": int(sys.argv[4])}))
PY
)"
    stop_chargegate
    stop_node
  done
}

scenario_capacity() {
  echo "== capacity: receiver with 16 workers of 10 ms" >&2
  start_chargegate "$WORK/data-capacity"
  start_sampler "$WORK/capacity-samples.jsonl"
  loadtest "$WORK/capacity.json" -c 64 -d "$SECS" --drain "$DRAIN_TIMEOUT" \
    --receiver-capacity 16 --receiver-delay-ms 10
  local ended
  ended=$(date +%s%N)  # the built-in receiver is gone: later attempts fail for that reason
  stop_sampler
  row "$(python3 - "$WORK/capacity.json" "$WORK/capacity-samples.jsonl" "$ended" \
    "$(hwm_kb "$CG_PID")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
samples = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
samples = [s for s in samples if s["t_ns"] < int(sys.argv[3])]
stats = next((s for s in reversed(samples) if s.get("counters")), {})
# The limit chargegate settled at: the last sample that shows one (flow first, then /metrics).
limit, source = None, None
for s in samples:
    if s.get("flow"):
        limit, source = max(f.get("concurrency_limit", 0) for f in s["flow"]), "admin/stats"
    elif s.get("metrics_limit"):
        limit, source = max(s["metrics_limit"].values()), "metrics"
limits_seen = sorted({f.get("concurrency_limit") for s in samples for f in (s.get("flow") or [])}
                     | {v for s in samples for v in (s.get("metrics_limit") or {}).values()})
c = stats.get("counters", {})
print(json.dumps({"scenario": "capacity", "receiver": "loadtest K=16", "delay_ms": 10.0,
    "accepted": r["accepted_total"], "e2e_rate": r["e2e_throughput"],
    "e2e_p99_ms": r["e2e_latency"]["p99_ms"],
    "duplicates": r["callbacks"] - r["callbacks_unique"],
    "missing": max(0, r["accepted_total"] - r["callbacks_unique"]),
    "receiver_p50_ms": r["receiver"]["latency"]["p50_ms"],
    "receiver_p99_ms": r["receiver"]["latency"]["p99_ms"], "receiver_unloaded_ms": 10.0,
    "receiver_peak_in_flight": r["receiver"]["peak_in_flight"],
    "receiver_connections": r["receiver"]["connections"],
    "settled_limit": limit, "limit_source": source, "limits_seen": limits_seen,
    "attempts_failed": c.get("attempts_failed"), "retries_scheduled": c.get("retries_scheduled"),
    "samples": len(samples), "peak_rss_kb": int(sys.argv[4])}))
PY
)"
  stop_chargegate
}

scenario_burst() {
  echo "== burst: 10 s at 1000 connections, immediate receiver" >&2
  # The ACL seeding connection may still count while the 1000 open: no per-client cap here.
  start_chargegate "$WORK/data-burst" MAX_CONNECTIONS_PER_CLIENT=0
  loadtest "$WORK/burst.json" -c 1000 -d 10 --warmup 0 --drain "$DRAIN_TIMEOUT"
  row "$(python3 - "$WORK/burst.json" "$(hwm_kb "$CG_PID")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
accept_s = (r["end_steady_ns"] - r["start_steady_ns"]) / 1e9
missing = max(0, r["accepted_total"] - r["callbacks_unique"])
last = r["receiver"]["last_unique_steady_ns"]
drain_s = max(0.0, (last - r["end_steady_ns"]) / 1e9) if missing == 0 else None
print(json.dumps({"scenario": "burst", "receiver": "loadtest", "delay_ms": 0.0,
    "accepted": r["accepted_total"], "accept_s": accept_s, "drain_s": drain_s,
    "drain_within_2x_accept": drain_s is not None and drain_s <= 2 * accept_s,
    "e2e_rate": r["e2e_throughput"], "e2e_p99_ms": r["e2e_latency"]["p99_ms"],
    "duplicates": r["callbacks"] - r["callbacks_unique"], "missing": missing,
    "errors": sum(r["errors"].values()),
    "receiver_connections": r["receiver"]["connections"],
    "receiver_peak_in_flight": r["receiver"]["peak_in_flight"],
    "peak_rss_kb": int(sys.argv[2])}))
PY
)"
  stop_chargegate
}

scenario_backlog() {
  echo "== backlog: $BACKLOG requests accepted while the receiver holds callbacks" >&2
  start_node 0 0
  curl -sf -X POST "$NODE_URL/pause" >/dev/null
  start_chargegate "$WORK/data-backlog" CALLBACK_TIMEOUT_MS=3600000
  loadtest "$WORK/backlog.json" -c 64 -d 3600 --warmup 0 -n "$BACKLOG" \
    --callback-url "$NODE_URL/callback"
  local accepted
  accepted=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted_total"])' \
    "$WORK/backlog.json")
  local accept_kb
  accept_kb=$(hwm_kb "$CG_PID")
  : >"$WORK/rss.txt"
  (
    while kill -0 "$CG_PID" 2>/dev/null; do
      awk '/VmRSS/ {print $2}' "/proc/$CG_PID/status" >>"$WORK/rss.txt" 2>/dev/null || true
      sleep 0.5
    done
  ) &
  SAMPLER_PID=$!
  curl -sf -X POST "$NODE_URL/resume" >"$WORK/resume.json"
  DRAIN_TIMEOUT="$BACKLOG_TIMEOUT" wait_node "$accepted"
  stop_sampler
  row "$(python3 - "$WORK/backlog.json" "$WORK/node-stats.json" "$WORK/resume.json" \
    "$WORK/rss.txt" "$accept_kb" "$(hwm_kb "$CG_PID")" "$ROWS" <<'PY'
import json, sys
r, n, resume = (json.load(open(p)) for p in sys.argv[1:4])
rss = [int(x) for x in open(sys.argv[4]) if x.strip()]
steady = [json.loads(l) for l in open(sys.argv[7]) if l.strip()]
steady = next((s["e2e_rate"] for s in steady if s["scenario"] == "node" and s["delay_ms"] == 0),
              None)
drain_s = (int(n["last_ns"]) - int(resume["resumed_ns"])) / 1e9
missing = max(0, r["accepted_total"] - n["unique"])
rate = n["unique"] / drain_s if drain_s > 0 else None
print(json.dumps({"scenario": "backlog", "receiver": "node (paused, then resumed)",
    "delay_ms": 0.0, "accepted": r["accepted_total"], "accept_rate": r["throughput_rps"],
    "drain_s": drain_s if missing == 0 else None, "e2e_rate": rate, "steady_rate": steady,
    "drain_vs_steady": rate / steady if rate and steady else None,
    "duplicates": n["duplicates"], "missing": missing,
    "rss_min_kb": min(rss) if rss else None, "rss_max_kb": max(rss) if rss else None,
    "rss_samples": len(rss), "accept_peak_rss_kb": int(sys.argv[5]),
    "peak_rss_kb": int(sys.argv[6])}))
PY
)"
  stop_chargegate
  stop_node
}

# Each scenario in a subshell that stops its own processes: one that fails (say, chargegate
# was stopped from outside mid-run) is reported and the others still run.
for s in $SCENARIOS; do
  case "$s" in
    delay | node | capacity | burst | backlog) ;;
    *) echo "unknown scenario: $s (delay node capacity burst backlog)" >&2; exit 2 ;;
  esac
  set +e
  (
    trap 'stop_pid "$SAMPLER_PID"; stop_pid "$CG_PID"; stop_pid "$NODE_PID"' EXIT
    set -e
    "scenario_$s"
  )
  rc=$?
  set -e
  [ "$rc" = 0 ] || echo "scenario $s FAILED (status $rc); its rows are missing" >&2
done

python3 - "$ROWS" "$SECS" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def f(v, unit=""):
    if v is None: return "n/a"
    if isinstance(v, bool): return "yes" if v else "no"
    if isinstance(v, float): return (f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}") + unit
    return f"{v}{unit}"
def mb(kb): return None if kb is None else kb / 1024
print("| scenario | receiver | delay ms | accepted | e2e sessions/s | e2e p99 ms | dup | missing "
      "| peak RSS MB | notes |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    st = r.get("chargegate_exit_status")
    notes = [f"**chargegate exited during the run, status {st}**"] if st is not None else []
    if r["scenario"] in ("delay", "node", "capacity"):
        notes.append(f"receiver p99 {f(r.get('receiver_p99_ms'))} ms, "
                     f"peak {r.get('receiver_peak_in_flight')} in flight, "
                     f"{r.get('receiver_connections')} conns")
    if r["scenario"] == "capacity":
        notes.append(f"unloaded {f(r['receiver_unloaded_ms'])} ms; chargegate limit "
                     f"{f(r['settled_limit'])}"
                     + (f" ({r['limit_source']})" if r["limit_source"] else "")
                     + f"; attempts failed {f(r['attempts_failed'])}, "
                     f"retries {f(r['retries_scheduled'])}")
    if r["scenario"] == "burst":
        notes.append(f"accept {f(r['accept_s'])} s, drain {f(r['drain_s'])} s after it, "
                     f"drain <= 2x accept: {f(r['drain_within_2x_accept'])}; "
                     f"errors {r['errors']}, {r['receiver_connections']} receiver conns")
    if r["scenario"] == "backlog":
        vs = (f"{f(r['drain_vs_steady'])}x the steady {f(r['steady_rate'])}/s"
              if r["steady_rate"] else "steady rate n/a (run the node scenario too)")
        notes.append(f"accepted at {f(r['accept_rate'])}/s; drain {f(r['drain_s'])} s, {vs}; "
                     f"RSS during drain {f(mb(r['rss_min_kb']))}–{f(mb(r['rss_max_kb']))} MB "
                     f"({r['rss_samples']} samples)")
    print(f"| {r['scenario']} | {r['receiver']} | {f(r['delay_ms'])} | {r['accepted']} | "
          f"{f(r.get('e2e_rate'))} | {f(r.get('e2e_p99_ms'))} | {r['duplicates']} | "
          f"{r['missing']} | {f(mb(r['peak_rss_kb']))} | {'; '.join(notes)} |")
json.dump({"seconds": int(sys.argv[2]), "commit": sys.argv[3], "scenarios": rows},
          open("bench/delivery-results.json", "w"), indent=2)
print("\nwritten: bench/delivery-results.json")
PY
