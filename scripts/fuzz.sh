#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang, ASan+UBSan) and runs them side by side, each
# for the given number of CPU seconds, on a copy of its seed corpus, so the repository's corpus is
# never changed. Usage: scripts/fuzz.sh [seconds per target, default 60]
# CG_FUZZ_BUILD_DIR names the build directory (default build-fuzz). When it is not configured yet
# it is configured here (clang, RelWithDebInfo, CG_FUZZ=ON, no tests, ccache when installed);
# one already configured is only built, and must have CG_FUZZ=ON: scripts/test.sh passes
# build-asan, the clang build its ASan+UBSan test pass ran in, so nothing is built twice.
# Prints executions, exec/s, corpus (units/bytes), coverage (edges) and crashes per target.
# Exits non-zero when a target crashed, leaked, ran out of memory or timed out; the input that
# did it is kept under <build dir>/artifacts/<target>/ and its path is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: scripts/fuzz.sh [seconds per target > 0]" >&2
  exit 2
fi

# Target → longest input: the HTTP target must be able to send a charging-session body just
# above its 16 KiB limit; a JSON body of 16 KiB is the most the service accepts; callback URLs
# are refused above 2 KiB.
targets=(http_request request_validation callback_url)
declare -A max_len=([http_request]=24576 [request_validation]=16384 [callback_url]=4096)

dir="${CG_FUZZ_BUILD_DIR:-build-fuzz}"
echo "== fuzz build (clang, libFuzzer, ASan+UBSan) in $dir"
if [ -f "$dir/CMakeCache.txt" ]; then
  # Configured already (by an earlier run, or by scripts/test.sh with the tests on): its
  # settings are kept, so that the tests' build is not reconfigured without them.
  if ! grep -q '^CG_FUZZ:BOOL=ON$' "$dir/CMakeCache.txt"; then
    echo "scripts/fuzz.sh: $dir is not a CG_FUZZ=ON build" >&2
    exit 2
  fi
else
  launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    export CCACHE_BASEDIR="$PWD"
  fi
  cmake -S . -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCG_FUZZ=ON -DCG_TESTS=OFF -DCG_BENCH=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/%/_fuzz}"

# Corpus copies and the HTTP target's store live in a temp dir, on tmpfs when there is one
# (the store syncs every accepted request).
base="${TMPDIR:-/tmp}"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then base=/dev/shm; fi
work="$(mktemp -d "$base/chargegate-fuzz.XXXXXX")"
declare -A pid_of before_of
# Fuzzers still running (an interrupted run) are stopped by PID before their files go.
trap 'for p in "${pid_of[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# A value of libFuzzer's -print_final_stats from a log.
final_stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -1; }

# Every target runs at once; with fewer cores than targets each runs longer, so that each still
# gets `seconds` of CPU time (3 targets on 2 cores: 90 s of wall time each, 90 s in all instead of
# 180 s one after another).
cores="$(nproc)"
parallel=$(( cores < ${#targets[@]} ? cores : ${#targets[@]} ))
wall=$(( (seconds * ${#targets[@]} + parallel - 1) / parallel ))
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  artifacts="$dir/artifacts/$t"
  log="$dir/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")" "$work/tmp/$t"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  dict=()
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  before_of[$t]="$(find "$artifacts" -type f | wc -l)"
  echo "== fuzzing $t for ${wall}s of wall time, ${seconds}s of CPU (log: $log)"
  TMPDIR="$work/tmp/$t" "$dir/fuzz/${t}_fuzz" -max_total_time="$wall" \
    -max_len="${max_len[$t]}" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" >"$log" 2>&1 &
  pid_of[$t]=$!
done

failed=0
summary=()
for t in "${targets[@]}"; do
  artifacts="$dir/artifacts/$t"
  log="$dir/logs/$t.log"
  rc=0
  wait "${pid_of[$t]}" || rc=$?
  before="${before_of[$t]}"
  execs="$(final_stat "$log" number_of_executed_units)"
  rate="$(final_stat "$log" average_exec_per_sec)"
  # Corpus and coverage as libFuzzer last reported them: "corp: <units>/<size> ... cov: <edges>".
  last="$(grep -a -E '^#[0-9]+' "$log" | tail -1 || true)"
  corp="$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  if [ "$rc" -ne 0 ] || [ "$(find "$artifacts" -type f | wc -l)" -ne "$before" ]; then
    failed=1
    echo "!! $t failed (exit $rc); last lines of $log:"
    tail -n 40 "$log"
    artifact="$(grep -o "Test unit written to [^ ]*" "$log" | sed 's/Test unit written to //' | tail -1)"
    echo "!! $t: reproduce with $dir/fuzz/${t}_fuzz ${artifact:-<see log>}"
    summary+=("$(printf '%-20s %12s %8s %16s %6s  %s' "$t" "${execs:-?}" "${rate:-?}" \
      "${corp:-?}" "${cov:-?}" "FAILED: ${artifact:-see $log}")")
  else
    summary+=("$(printf '%-20s %12s %8s %16s %6s  %s' "$t" "$execs" "$rate" "$corp" "$cov" 0)")
  fi
done

echo "== fuzz summary (${seconds}s of CPU per target: ${#targets[@]} side by side on ${cores} cores, ${wall}s of wall time)"
printf '%-20s %12s %8s %16s %6s  %s\n' target executions exec/s corpus coverage crashes
printf '%s\n' "${summary[@]}"
exit "$failed"
