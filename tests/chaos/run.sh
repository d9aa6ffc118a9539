#!/usr/bin/env bash
# The long versions of the chaos scenarios (docs/reliability.md, "Chaos and outage tests"):
# builds chargegate and chaos_tests in Release, then runs
#   - kill -9 chaos with CHAOS_CYCLES=20 (random kills, receiver and authorizer outages),
#   - the receiver outage with OUTAGE_SECONDS=300,
# and prints their summaries. Takes about 6–8 minutes. Any setting the tests read
# (CHAOS_*, OUTAGE_*) can be overridden from the environment, e.g. CHAOS_SEED to repeat a run.
# Usage: tests/chaos/run.sh [build-dir, default build-chaos]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="${1:-build-chaos}"

echo "== build (Release) in $dir" >&2
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCG_TESTS=ON -DCG_BENCH=OFF >/dev/null
cmake --build "$dir" -j"${JOBS:-2}" --target chaos_tests >&2

export CHAOS_CYCLES="${CHAOS_CYCLES:-20}"
export OUTAGE_SECONDS="${OUTAGE_SECONDS:-300}"
log="$(mktemp /tmp/chargegate-chaos-XXXXXX.log)"
status=0
for t in 'KillChaosTest.*' 'ReceiverOutageTest.*'; do
  echo "== $t" >&2
  "$dir/chaos_tests" --gtest_filter="$t" 2>&1 | tee -a "$log" || status=1
done

echo
echo "== summaries (full output: $log)"
grep -E '^\[ (chaos|outage) \] (seed|summary|details|anon|mean gap|rss_kib)|^\[  (PASSED|FAILED)' "$log" || true
exit "$status"
