#!/usr/bin/env bash
# Builds chargegate with its tests and runs every test: first the README's run command as a
# newcomer runs it (scripts/check-first-run.sh: fresh clone, Release build of the binary, start,
# ready, SIGTERM, exit 0), then unit and integration tests in the Release build that users, the
# benches and the image get (the benches' own build too), recording the service's answers, which
# scripts/api-check.sh then checks against docs/openapi.yaml; the deployment-file checks, the
# deployment files run for real with podman (scripts/check-containers.sh: the image built from
# deploy/Dockerfile and run, the compose stack under load with a worker killed, the Kubernetes
# manifests played; CG_CONTAINER_CHECKS=0 skips it) and the dashboard's browser test against that
# build, then the unit and integration tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and under ThreadSanitizer, then each libFuzzer
# target for CG_FUZZ_SECONDS (default 60) seconds.
# One clang build (build-asan: Debug, CG_FUZZ=ON, which instruments every library with
# ASan+UBSan and libFuzzer's coverage) serves both the ASan+UBSan test pass and the fuzz targets,
# which scripts/fuzz.sh then only builds and runs there (CG_FUZZ_BUILD_DIR): three builds of
# everything instead of four.
# Both sanitizer builds are unity builds (CMAKE_UNITY_BUILD: each group of 8 source files of a
# target compiled as one), which roughly halves their compile time from scratch, as on CI's
# clean machine (the Boost headers are parsed once per group, not once per file). The Release
# build stays file by file: it is what users build, and it shares the first-run check's objects
# through ccache.
# Set CG_SANITIZERS=0 to skip the sanitizer pass, CG_FUZZ_SECONDS=0 to skip fuzzing (either
# still builds build-asan when the other needs it).
# Cluster mode's tests (ctest label `cluster`) start their own Redis and PostgreSQL; set
# CG_CLUSTER_TESTS=OFF to leave them out of every pass. The integration suite's second run
# against Redis and PostgreSQL (ctest prefix `cluster.`) is part of the Release pass only: under
# the sanitizers, the store conformance suite (unit_store, both backends in process) and
# tests/cluster/ (several processes) cover the cluster code (measured: ~4 min each under ASan
# and TSan on the 2-core machine).
# Each stage's header shows the minutes and seconds since the start.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
cluster="${CG_CLUSTER_TESTS:-ON}"
stage() { printf '== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

stage "the README's run command in a fresh clone (install, Release build, start, ready, SIGTERM)"
scripts/check-first-run.sh

stage "build (Release, warnings as errors, with tests and micro-benchmarks)"
BUILD_TYPE=Release scripts/build.sh build -DCG_WERROR=ON -DCG_TESTS=ON -DCG_BENCH=ON \
  -DCG_CLUSTER_TESTS="$cluster"

stage "the benchmarks' build (bench/build.sh: Release, micro-benchmarks, wrk and nginx)"
bench/build.sh

stage "unit and integration tests (recording the service's answers for the API check)"
api_records="$(mktemp -d)"
trap 'rm -rf "$api_records"' EXIT
CG_API_RECORD_DIR="$api_records" ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300

stage "API description (docs/openapi.yaml valid; the answers recorded above conform to it)"
scripts/api-check.sh "$api_records"

stage "deployment files (YAML, promtool on the alert rules and a live /metrics)"
CHARGEGATE_BIN=build/chargegate scripts/check-deploy.sh

if [ "${CG_CONTAINER_CHECKS:-1}" != "0" ]; then
  stage "containers (podman: the image built and run, compose under load, Kubernetes manifests played)"
  scripts/check-containers.sh
fi

stage "dashboard in a real browser (playwright-core driving Debian's chromium, headless)"
CHARGEGATE_BIN=build/chargegate scripts/browser-test.sh

fuzz_seconds="${CG_FUZZ_SECONDS:-60}"
if [ "${CG_SANITIZERS:-1}" != "0" ] || [ "$fuzz_seconds" != "0" ]; then
  # clang, as libFuzzer needs; CXX is read when build-asan is first configured.
  # Debug (-O0): on a cold cache clang compiled a Boost.Beast translation unit with these
  # sanitizers in 10.6 s at -O0 against 22.6 s at -O2 and 20.0 s at -O1 (line tables only), and
  # the tests wait on timers and processes more than they compute. The fuzz targets run slower
  # unoptimised; CI's fuzzing is a fixed time per target, and scripts/fuzz.sh alone (build-fuzz)
  # still builds them optimised for longer runs.
  stage "clang build with ASan+UBSan and libFuzzer coverage (Debug, tests and fuzz targets)"
  CXX=clang++ CC=clang BUILD_TYPE=Debug scripts/build.sh build-asan -DCG_FUZZ=ON \
    -DCG_WERROR=ON -DCG_TESTS=ON -DCG_CLUSTER_TESTS="$cluster" -DCMAKE_UNITY_BUILD=ON
fi

if [ "${CG_SANITIZERS:-1}" != "0" ]; then
  stage "unit and integration tests under ASan+UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 300 -E '^cluster\.'

  stage "unit and integration tests under TSan"
  # Debug, not RelWithDebInfo: the tests wait on timers, sockets and child processes far more
  # than they compute, so -O2 hardly speeds them up under TSan (measured on the 2-core machine:
  # unit_delivery 10.9 s Debug vs 10.7 s RelWithDebInfo, unit_store's SQLite half 5.4 s vs 5.0 s),
  # while an optimised build costs more compile time on CI's cold cache.
  BUILD_TYPE=Debug scripts/build.sh build-tsan -DCG_SANITIZE=thread -DCG_TESTS=ON \
    -DCG_CLUSTER_TESTS="$cluster" -DCMAKE_UNITY_BUILD=ON
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan --output-on-failure -j"$jobs" --timeout 300 -E '^cluster\.'
fi

if [ "$fuzz_seconds" != "0" ]; then
  stage "fuzz targets, ${fuzz_seconds}s each (built in build-asan above)"
  CG_FUZZ_BUILD_DIR=build-asan scripts/fuzz.sh "$fuzz_seconds"
fi

stage "all passed"
