#!/usr/bin/env bash
# Cluster-mode figures for docs/performance.md: how accept and end-to-end throughput move with
# the number of API and worker processes over one PostgreSQL and one Redis.
#   builds chargegate in Release (bench/build.sh), starts redis-server (appendonly, fsync every
#   second) and PostgreSQL 15 (fsync and synchronous_commit on) on free loopback ports in a temp
#   dir, then for each scenario (API processes x worker processes) creates a fresh database,
#   migrates it, imports the loadtest's tokens into the ACL, starts the processes, waits for
#   /health/ready of each and runs `chargegate loadtest` (closed loop, 32 connections in total,
#   split evenly over the API processes, one loadtest and one callback receiver per API).
#   Prints one Markdown table and writes bench/cluster-results.json.
# Everything listens on and talks to 127.0.0.1; every process is stopped by PID and the temp dir
# removed on exit, Ctrl-C or failure.
# Usage: bench/cluster.sh [seconds per scenario, default 10]
# Environment: SCENARIOS="1x1 2x4" (API x workers; default all six), DRAIN (seconds to wait for
#   the last callbacks, default 60), CONNECTIONS (total, default 32), LOADTEST_ARGS (more
#   `chargegate loadtest` options, e.g. "--receiver-delay-ms 10" for a receiver that takes 10 ms),
#   PG_STATEMENTS=1 (loads pg_stat_statements and writes, per scenario, PostgreSQL's statements
#   with calls and time per session, per-table tuple and HOT counts, and WAL bytes per session
#   to the JSON and stderr; the extension itself costs some CPU, so figures taken with it are
#   for finding where the time goes, not for the table).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
SCENARIOS="${SCENARIOS:-1x1 1x2 1x4 2x1 2x2 2x4}"
DRAIN="${DRAIN:-60}"
CONNECTIONS="${CONNECTIONS:-32}"
LOADTEST_ARGS="${LOADTEST_ARGS:-}"
PG_STATEMENTS="${PG_STATEMENTS:-}"
PG_BIN=/usr/lib/postgresql/15/bin
READY_TIMEOUT_S=30

bench/build.sh
BIN="$PWD/build-bench/chargegate"
# The commit that last changed what is measured (so a merge of other files keeps the figure's id).
COMMIT="$(git log -1 --format=%h -- src migrations CMakeLists.txt)"
git diff --quiet HEAD -- src migrations CMakeLists.txt || COMMIT="$COMMIT-dirty"
WORK="$(mktemp -d /tmp/chargegate-cluster-XXXXXX)"
chmod 755 "$WORK"
mkdir -p "$WORK/logs" "$WORK/redis" "$WORK/pg" "$WORK/results"
chown postgres: "$WORK/pg"

PIDS=()        # chargegate processes of the current scenario
LOAD_PIDS=()   # loadtests of the current scenario
REDIS_PID=""
PG_STARTED=""

# Stops one process: SIGTERM, up to $2 seconds for its drain, then SIGKILL.
stop_pid() {
  local pid=$1 grace=${2:-20} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid did not stop within ${grace}s of SIGTERM: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
stop_scenario() {
  local p
  for p in "${LOAD_PIDS[@]}"; do stop_pid "$p" 5; done
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  LOAD_PIDS=()
  PIDS=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_scenario
  [ -n "$REDIS_PID" ] && stop_pid "$REDIS_PID" 10
  if [ -n "$PG_STARTED" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 ||
      true
  fi
  if [ "$rc" != 0 ]; then
    echo "== stopped with exit status $rc; the last log lines:" >&2
    for f in "$WORK"/logs/*.log "$WORK"/pg/postgres.log; do
      [ -s "$f" ] && { echo "-- $f" >&2; tail -n 20 "$f" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints $1 free loopback TCP ports (all held open until every one is picked, so they differ).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
read -r REDIS_PORT PG_PORT <<<"$(free_ports 2)"

echo "== redis-server on 127.0.0.1:$REDIS_PORT (appendonly yes, appendfsync everysec)" >&2
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --appendonly yes \
  --appendfsync everysec --save '' --logfile "$WORK/logs/redis.log" >/dev/null 2>&1 &
REDIS_PID=$!
until redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; do
  kill -0 "$REDIS_PID" 2>/dev/null || { echo "redis-server exited" >&2; exit 1; }
  sleep 0.05
done

echo "== PostgreSQL 15 on 127.0.0.1:$PG_PORT (fsync on, synchronous_commit on)" >&2
runuser -u postgres -- "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres -A trust -E UTF8 \
  >"$WORK/pg/initdb.log" 2>&1 || { cat "$WORK/pg/initdb.log" >&2; exit 1; }
PG_STARTED=1
PG_EXTRA=""
[ -n "$PG_STATEMENTS" ] && PG_EXTRA="-c shared_preload_libraries=pg_stat_statements \
  -c pg_stat_statements.track_planning=on -c track_io_timing=on"
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/postgres.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$WORK/pg \
      -c fsync=on -c synchronous_commit=on -c max_connections=200 $PG_EXTRA" start >/dev/null
psql_db() {  # $1 database, rest: psql arguments
  local db=$1; shift
  runuser -u postgres -- psql -X -q -h "$WORK/pg" -p "$PG_PORT" -U postgres -d "$db" \
    -v ON_ERROR_STOP=1 "$@"
}
[ "$(psql_db postgres -tAc 'SHOW fsync')" = on ] && \
  [ "$(psql_db postgres -tAc 'SHOW synchronous_commit')" = on ] || {
  echo "PostgreSQL does not run with fsync and synchronous_commit on" >&2; exit 1; }

# The loadtest's tokens, allowed in the ACL of each fresh database before the load starts (one
# import instead of a --seed-acl per loadtest, so the loadtests start together).
TOKENS=1000
python3 - "$WORK" "$TOKENS" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
tokens = [f"BENCH-cluster-token-{i:08d}" for i in range(n)]
open(f"{work}/tokens.txt", "w").write("\n".join(tokens) + "\n")
open(f"{work}/acl.csv", "w").write(
    "driver_token,status,stations,expires_at\n" + "".join(f"{t},allowed,,\n" for t in tokens))
PY

wait_ready() {  # $1 port, $2 pid, $3 log
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null 2>&1; do
    if ! kill -0 "$2" 2>/dev/null; then echo "process $2 exited; see $3" >&2; exit 1; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "port $1 not ready after ${READY_TIMEOUT_S}s" >&2
      curl -s "http://127.0.0.1:$1/health" >&2 || true
      exit 1
    fi
    sleep 0.05
  done
}

# CPU seconds used so far, as one JSON object: by component (our processes), by finished
# children of this script (the loadtests, once waited for) and by the whole machine (busy and
# available), so that a scenario's figures can be read against what else ran meanwhile.
# Arguments: component=pid,pid,... ; PostgreSQL's backends are found under the postmaster.
cpu_snapshot() {
  times >"$WORK/times.txt"  # in this shell: a subshell would not see the waited-for children
  python3 - "$WORK/pg/data/postmaster.pid" "$(tail -n 1 "$WORK/times.txt")" "$@" <<'PY'
import json, os, re, sys
tck = os.sysconf("SC_CLK_TCK")
def stat(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return {"ppid": int(f[1]), "self": (int(f[11]) + int(f[12])) / tck,
            "children": (int(f[13]) + int(f[14])) / tck}
out = {}
for arg in sys.argv[3:]:
    name, pids = arg.split("=", 1)
    out[name] = sum((stat(p) or {"self": 0})["self"] for p in pids.split(",") if p)
pm = int(open(sys.argv[1]).readline())
pg = stat(pm)
procs = [s for s in (stat(p) for p in os.listdir("/proc") if p.isdigit()) if s]
out["postgres"] = pg["self"] + pg["children"] + sum(s["self"] for s in procs if s["ppid"] == pm)
# Kernel threads (writeback, journal commits of the fsyncs): nobody's process, often ours.
out["kernel_threads"] = sum(s["self"] for s in procs if s["ppid"] == 2)
out["script_children"] = sum(int(m) * 60 + float(x)
                             for m, x in re.findall(r"(\d+)m([\d.]+)s", sys.argv[2]))
# user nice system idle iowait irq softirq steal: loopback TCP work done in softirq context is
# not charged to any process, so it is kept apart from the processes' time.
cpu = [int(v) for v in open("/proc/stat").readline().split()[1:9]]
out["machine_total"] = sum(cpu) / tck
out["machine_processes"] = (cpu[0] + cpu[1] + cpu[2]) / tck
out["machine_interrupts"] = (cpu[5] + cpu[6]) / tck
out["machine_steal"] = cpu[7] / tck
print(json.dumps(out))
PY
}

N=0  # scenarios run so far; names databases, stream prefixes, logs and results
run_scenario() {  # $1 API processes, $2 worker processes
  N=$((N + 1))
  local apis=$1 workers=$2 name="s$N-a$1w$2" i pid
  local db="cg_s$N" conns=$((CONNECTIONS / $1))
  echo "== $apis API x $workers worker processes (WORKERS=2 each), $CONNECTIONS connections" >&2
  runuser -u postgres -- "$PG_BIN/createdb" -h "$WORK/pg" -p "$PG_PORT" -U postgres "$db"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
  local env=(DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$db"
             REDIS_URL="redis://127.0.0.1:$REDIS_PORT" REDIS_STREAM_PREFIX="bench-s$N"
             BIND_ADDRESS=127.0.0.1 DATA_DIR="$WORK/data" LOG_LEVEL=WARN
             CALLBACK_ALLOW_PRIVATE_NETWORKS=true)
  env "${env[@]}" "$BIN" migrate >>"$WORK/logs/$name-migrate.log" 2>&1
  env "${env[@]}" "$BIN" acl import "$WORK/acl.csv" >/dev/null
  if [ -n "$PG_STATEMENTS" ]; then
    psql_db "$db" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
      -c "SELECT pg_stat_statements_reset(), pg_stat_reset(), pg_stat_reset_shared('wal')" >/dev/null
  fi

  local ports
  read -r -a ports <<<"$(free_ports $((apis + workers)))"
  local api_ports=("${ports[@]:0:apis}")
  for ((i = 0; i < apis + workers; i++)); do
    local role=api id
    id="api-$((i + 1))"
    if [ "$i" -ge "$apis" ]; then role=worker; id="worker-$((i - apis + 1))"; fi
    env "${env[@]}" ROLE=$role INSTANCE_ID="$id" PORT="${ports[$i]}" WORKERS=2 \
      "$BIN" serve >>"$WORK/logs/$name-$id.log" 2>&1 &
    PIDS+=($!)
  done
  for ((i = 0; i < apis + workers; i++)); do
    wait_ready "${ports[$i]}" "${PIDS[$i]}" "$WORK/logs/$name-*.log"
  done

  local groups=("api=$(IFS=,; echo "${PIDS[*]:0:apis}")" "worker=$(IFS=,; echo "${PIDS[*]:apis}")"
                "redis=$REDIS_PID")
  cpu_snapshot "${groups[@]}" >"$WORK/results/$name-cpu-start.json"
  # One loadtest per API process, each with its own receiver on a free port (never shared).
  for ((i = 0; i < apis; i++)); do
    # shellcheck disable=SC2086  # LOADTEST_ARGS is a list of options
    "$BIN" loadtest --url "http://127.0.0.1:${api_ports[$i]}" -c "$conns" -t 1 -d "$SECS" \
      --warmup 1 --receiver-port 0 --tokens "$WORK/tokens.txt" --drain "$DRAIN" \
      --json "$WORK/results/$name-load$i.json" -q $LOADTEST_ARGS >"$WORK/logs/$name-load$i.txt" 2>&1 &
    LOAD_PIDS+=($!)
  done
  local failed=0
  for pid in "${LOAD_PIDS[@]}"; do wait "$pid" || failed=1; done
  LOAD_PIDS=()
  if [ "$failed" != 0 ]; then cat "$WORK"/logs/"$name"-load*.txt >&2; exit 1; fi
  cpu_snapshot "${groups[@]}" >"$WORK/results/$name-cpu-end.json"

  # What the database and the processes say once the loadtests are done, before they stop.
  psql_db "$db" -tA -F' ' -c "SELECT state, count(*), sum(attempts) FROM requests GROUP BY state" \
    >"$WORK/results/$name-states.txt"
  psql_db "$db" -tA -F' | ' -c "SELECT pid, state, wait_event_type, wait_event,
      round(extract(epoch FROM now() - xact_start) * 1000), left(query, 100) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'" \
    >"$WORK/results/$name-pg-activity.txt"
  for ((i = 0; i < apis + workers; i++)); do
    curl -s -m 5 "http://127.0.0.1:${ports[$i]}/health" || echo '{"error":"no answer in 5 s"}'
    echo
  done >"$WORK/results/$name-health.txt"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" xlen "bench-s$N:dead" >"$WORK/results/$name-dead.txt"
  if [ -n "$PG_STATEMENTS" ]; then
    psql_db "$db" -tA -F$'\t' -c "SELECT calls, round(total_exec_time::numeric, 1),
        round(total_plan_time::numeric, 1), rows, regexp_replace(query, '\s+', ' ', 'g')
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
        WHERE datname = current_database()) ORDER BY total_exec_time + total_plan_time DESC" \
      >"$WORK/results/$name-pg-statements.txt"
    psql_db "$db" -tA -F$'\t' -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del,
        seq_scan, idx_scan FROM pg_stat_user_tables ORDER BY relname" \
      >"$WORK/results/$name-pg-tables.txt"
    psql_db "$db" -tA -F$'\t' -c "SELECT indexrelname, idx_scan, idx_tup_read
        FROM pg_stat_user_indexes ORDER BY indexrelname" >"$WORK/results/$name-pg-indexes.txt"
    psql_db "$db" -tA -F$'\t' -c "SELECT wal_records, wal_bytes, wal_sync FROM pg_stat_wal" \
      >"$WORK/results/$name-pg-wal.txt"
    psql_db "$db" -tA -F$'\t' -c "SELECT xact_commit, xact_rollback FROM pg_stat_database
        WHERE datname = current_database()" >"$WORK/results/$name-pg-xacts.txt"
    # CPU of each of the scenario's backends since it connected, with the last statement it ran
    # (which tells a connection's role: writer, ledger, reader, monitor).
    psql_db "$db" -tA -F$'\t' -c "SELECT pid, regexp_replace(left(query, 90), '\s+', ' ', 'g')
        FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" |
      while IFS=$'\t' read -r bpid bquery; do
        bcpu=$(awk '{print $14 + $15}' "/proc/$bpid/stat" 2>/dev/null || echo 0)
        printf '%s\t%s\t%s\n' "$bpid" "$bcpu" "$bquery"
      done >"$WORK/results/$name-pg-backends.txt"
  fi
  stop_scenario
  # Warnings and errors the processes logged (LOG_LEVEL=WARN), minus the two start-up notices.
  cat "$WORK"/logs/"$name"-{api,worker}-*.log |
    grep -v -e 'ADMIN_TOKEN is not set' -e 'CALLBACK_ALLOW_PRIVATE_NETWORKS is on' \
      >"$WORK/results/$name-warnings.txt" || true

  echo "$name" >>"$WORK/results/scenarios.txt"
  python3 - "$WORK/results" "$name" "$apis" "$workers" <<'PY'
import glob, json, os, sys
d, name, apis, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
loads = [json.load(open(f)) for f in sorted(glob.glob(f"{d}/{name}-load*.json"))]
states = {}
for line in open(f"{d}/{name}-states.txt"):
    if line.strip():
        s, n, attempts = line.split()
        states[{"0": "queued", "2": "delivering", "3": "delivered", "4": "failed"}.get(s, s)] = {
            "requests": int(n), "attempts": int(attempts)}
warnings = [l.rstrip("\n") for l in open(f"{d}/{name}-warnings.txt")]
c0, c1 = (json.load(open(f"{d}/{name}-cpu-{w}.json")) for w in ("start", "end"))
cpu = {k: round(c1[k] - c0[k], 2) for k in c0}
cpu["loadtest"] = cpu.pop("script_children")
ours = ("api", "worker", "postgres", "redis", "loadtest")
cpu["other_processes"] = round(max(0.0, cpu.pop("machine_processes") - cpu["kernel_threads"]
                                    - sum(cpu[k] for k in ours)), 2)
sessions = sum(l["callbacks_unique"] for l in loads)
s = {
    "api_processes": apis, "worker_processes": workers,
    "accepted_per_s": sum(l["throughput_rps"] for l in loads),
    # Percentiles of two loadtests cannot be merged: the worse of the two is reported.
    "accept_p50_ms": max(l["accept_latency"]["p50_ms"] for l in loads),
    "accept_p99_ms": max(l["accept_latency"]["p99_ms"] for l in loads),
    "e2e_sessions_per_s": sum(l["e2e_throughput"] for l in loads),
    "e2e_p99_ms": max(l["e2e_latency"]["p99_ms"] for l in loads),
    "errors": sum(sum(l["errors"].values()) for l in loads),
    "duplicates": sum(l["callbacks"] - l["callbacks_unique"] for l in loads),
    "missing": sum(max(0, l["accepted_total"] - l["callbacks_unique"]) for l in loads),
    # From just before the loadtests start until they end (warm-up, load and drain).
    "cpu_seconds": cpu,
    # CPU per delivered session, by component: steadier than rates on a shared machine.
    "cpu_ms_per_session": {k: round(cpu[k] * 1000 / sessions, 3) if sessions else None
                           for k in ours},
    "db_states": states,
    "dead_lettered": int(open(f"{d}/{name}-dead.txt").read().strip() or 0),
    "log_warnings": len(warnings),
    "log_warnings_sample": warnings[:20],
    "health_after_load": [json.loads(l) for l in open(f"{d}/{name}-health.txt") if l.strip()],
    "pg_sessions_busy_after_load": [l.rstrip("\n") for l in open(f"{d}/{name}-pg-activity.txt")],
    "loadtests": loads,
}
pg_files = {k: f"{d}/{name}-pg-{k}.txt" for k in ("statements", "tables", "indexes", "wal", "xacts")}
if os.path.exists(pg_files["statements"]):
    per = lambda v: round(float(v) / sessions, 4) if sessions else None
    rows = lambda k: [l.rstrip("\n").split("\t") for l in open(pg_files[k]) if l.strip()]
    s["pg_statements"] = [
        {"calls": int(c), "calls_per_session": per(c), "exec_ms": float(e), "plan_ms": float(p),
         "exec_us_per_session": per(float(e) * 1000), "rows": int(r), "query": q}
        for c, e, p, r, q in rows("statements")]
    s["pg_tables"] = [dict(zip(("table", "ins", "upd", "hot_upd", "del", "seq_scan", "idx_scan"),
                               r)) for r in rows("tables")]
    s["pg_indexes"] = [dict(zip(("index", "idx_scan", "idx_tup_read"), r)) for r in rows("indexes")]
    wal = rows("wal")[0]
    xacts = rows("xacts")[0]
    s["pg_per_session"] = {"wal_records": per(wal[0]), "wal_bytes": per(wal[1]),
                           "wal_syncs": per(wal[2]), "commits": per(xacts[0]),
                           "rollbacks": per(xacts[1])}
json.dump(s, open(f"{d}/{name}.json", "w"), indent=2)
print(f"   accepted {s['accepted_per_s']:.0f}/s, e2e {s['e2e_sessions_per_s']:.0f}/s, "
      f"errors {s['errors']}, duplicates {s['duplicates']}, missing {s['missing']}, "
      f"log warnings {s['log_warnings']}", file=sys.stderr)
print("   CPU seconds: " + ", ".join(f"{k} {v:g}" for k, v in cpu.items()), file=sys.stderr)
print("   CPU ms per session: " + ", ".join(f"{k} {v:g}" for k, v in s["cpu_ms_per_session"].items()
                                            if v is not None), file=sys.stderr)
for w in warnings[:10]:
    print("   log: " + w[:300], file=sys.stderr)
if "pg_statements" in s:
    print("   PostgreSQL per session: " + ", ".join(f"{k} {v:g}" for k, v in
                                                    s["pg_per_session"].items()), file=sys.stderr)
    print("   calls/session  exec us/session  plan ms  rows  statement", file=sys.stderr)
    for st in s["pg_statements"][:25]:
        print(f"   {st['calls_per_session']:>13} {st['exec_us_per_session']:>16} "
              f"{st['plan_ms']:>8} {st['rows']:>6}  {st['query'][:150]}", file=sys.stderr)
    for t in s["pg_tables"]:
        print("   table " + " ".join(f"{k}={v}" for k, v in t.items()), file=sys.stderr)
    for i in s["pg_indexes"]:
        print("   index " + " ".join(f"{k}={v}" for k, v in i.items()), file=sys.stderr)
    tck = os.sysconf("SC_CLK_TCK")
    s["pg_backends"] = sorted(
        ({"pid": int(p), "cpu_us_per_session": per(int(c) * 1e6 / tck), "last_query": q}
         for p, c, q in (l.rstrip("\n").split("\t", 2) for l in open(f"{d}/{name}-pg-backends.txt")
                         if l.strip())), key=lambda b: -(b["cpu_us_per_session"] or 0))
    for b in s["pg_backends"]:
        print(f"   backend {b['pid']}: {b['cpu_us_per_session']} us/session, last: "
              f"{b['last_query'][:90]}", file=sys.stderr)
    json.dump(s, open(f"{d}/{name}.json", "w"), indent=2)
PY
}

# Other work on the machine skews every figure: say how busy it was before the first scenario.
LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== load average before the scenarios: $LOADAVG" >&2
for s in $SCENARIOS; do run_scenario "${s%x*}" "${s#*x}"; done

python3 - "$WORK/results" "$(nproc)" "$SECS" "$CONNECTIONS" "$COMMIT" "$LOADAVG" <<'PY'
import json, sys
d, cores, secs, conns, commit, loadavg = (sys.argv[1], int(sys.argv[2]), float(sys.argv[3]),
                                          int(sys.argv[4]), sys.argv[5], sys.argv[6])
rows = [json.load(open(f"{d}/{n.strip()}.json")) for n in open(f"{d}/scenarios.txt")]
print(f"`bench/cluster.sh {secs:g}` at {commit}: closed loop, {conns} connections in total "
      f"split over the API processes, WORKERS=2 per worker process.\n")
print("| API | workers | accepted/s | accept p50 ms | accept p99 ms | end to end sessions/s "
      "| e2e p99 ms | errors | duplicates | missing |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['api_processes']} | {r['worker_processes']} | {r['accepted_per_s']:,.0f} "
          f"| {r['accept_p50_ms']:.1f} | {r['accept_p99_ms']:.1f} "
          f"| {r['e2e_sessions_per_s']:,.0f} | {r['e2e_p99_ms']:,.1f} | {r['errors']} "
          f"| {r['duplicates']} | {r['missing']} |")
print(f"\nmeasured on this machine: {cores} cores (nproc), every process — load generator, API, "
      "workers, Redis, PostgreSQL — shares them")
out = {"commit": commit, "cores": cores, "load_average_before": loadavg,
       "seconds_per_scenario": secs, "connections": conns, "scenarios": rows}
json.dump(out, open("bench/cluster-results.json", "w"), indent=2)
print("\nwritten: bench/cluster-results.json")
PY
