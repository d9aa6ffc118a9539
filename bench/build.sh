#!/usr/bin/env bash
# The build every benchmark in bench/ runs first: installs the packages (with wrk and nginx),
# then builds chargegate in Release into build-bench/ (no tests, with the micro-benchmarks).
# Everything goes to stderr so callers can keep stdout for their table.
set -euo pipefail
cd "$(dirname "$0")/.."
CHARGEGATE_TEST_DEPS=1 scripts/install-deps.sh >&2
BUILD_TYPE=Release scripts/build.sh build-bench -DCG_TESTS=OFF -DCG_BENCH=ON >&2
