#!/usr/bin/env bash
# Runs the README's first command exactly as written, the way a newcomer does: in a fresh clone
# of this repository's HEAD, as root on Debian 12. It must install, build (Release, the binary
# only) and start `build/chargegate serve` on port 8080; then /health/ready must answer 200, and
# SIGTERM must stop the service with exit code 0. Prints one line per step; exit 1 on the first
# failure, with the command's output.
#
# Usage: scripts/check-first-run.sh        (CG_FIRST_RUN_TIMEOUT: seconds to wait for the build
#                                           and start, default 1800)
# The clone is made with `git clone` of HEAD, so uncommitted changes are not part of the check.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
timeout_s="${CG_FIRST_RUN_TIMEOUT:-1800}"

# The README's first fenced `sh` block is the run command; its second is the test command, which
# .ci/run must run word for word.
mapfile -t blocks < <(awk '/^```sh$/ {inb=1; next} /^```$/ && inb {inb=0; n++; next}
                           inb && n < 2 {print n+0 "\t" $0}' README.md)
run_cmd="" test_cmd=""
for line in "${blocks[@]}"; do
  case "${line%%$'\t'*}" in
    0) run_cmd+="${line#*$'\t'}" ;;
    1) test_cmd+="${line#*$'\t'}" ;;
  esac
done
fail() { echo "FAIL first-run: $*" >&2; exit 1; }
[[ -n "$run_cmd" ]] || fail "no run command (first \`\`\`sh block) in README.md"
grep -qxF "$test_cmd" .ci/run || fail ".ci/run does not run the README's test command: $test_cmd"
echo "ok   README's test command is what .ci/run runs: $test_cmd"
[[ "$run_cmd" == *"build/chargegate serve"* ]] || fail "the run command does not start build/chargegate serve: $run_cmd"

if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  fail "port 8080 is in use on this machine; the README's command listens there"
fi

work="$(mktemp -d /tmp/chargegate-first-run.XXXXXX)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$root" "$work/chargegate"
echo "ok   fresh clone of $(git rev-parse --short HEAD) in $work/chargegate"

log="$work/run.log"
started=$(date +%s)
# As written, in its own shell; stdin closed like a detached terminal.
(cd "$work/chargegate" && exec bash -c "$run_cmd") </dev/null >"$log" 2>&1 &
pid=$!

ready=""
while (($(date +%s) - started < timeout_s)); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" && rc=0 || rc=$?
    tail -n 40 "$log" >&2
    fail "the run command ended (exit $rc) before /health/ready answered"
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:8080/health/ready ||
    true)
  if [[ "$code" == "200" ]]; then ready=1; break; fi
  sleep 1
done
[[ -n "$ready" ]] || { tail -n 40 "$log" >&2; fail "/health/ready did not answer 200 in ${timeout_s}s"; }
echo "ok   $run_cmd: /health/ready answers 200 after $(($(date +%s) - started)) s"
[[ -x "$work/chargegate/build/chargegate" ]] || fail "no build/chargegate after the build"
if find "$work/chargegate/build" -maxdepth 1 -type f -perm -u+x \
  \( -name 'unit_*' -o -name '*_tests' -o -name 'micro_bench' \) | grep -q .; then
  fail "the run command built tests or benchmarks; it should build only what running needs"
fi
echo "ok   the build made the binary only (no tests, benchmarks or fuzz targets)"

# bash runs the last command of a `-c` list in its own process (exec), or as a child.
if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "chargegate" ]]; then
  server="$pid"
else
  server="$(pgrep -P "$pid" -x chargegate || true)"
fi
[[ -n "$server" ]] || fail "no chargegate process started by the run command"
kill -TERM "$server"
stopped=""
for _ in $(seq 1 60); do
  if ! kill -0 "$pid" 2>/dev/null; then stopped=1; break; fi
  sleep 0.5
done
[[ -n "$stopped" ]] || fail "still running 30 s after SIGTERM"
wait "$pid" && rc=0 || rc=$?
pid=""
[[ "$rc" == 0 ]] || { tail -n 20 "$log" >&2; fail "exit code $rc after SIGTERM (want 0)"; }
echo "ok   SIGTERM: the service drained and exited 0"
echo "PASS first-run"
