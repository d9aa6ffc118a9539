#!/usr/bin/env bash
# Configures and builds chargegate. Usage: scripts/build.sh [build-dir] [cmake args...]
#
# With no cmake arguments it builds what running the service needs and nothing else: the
# `chargegate` binary in the Release configuration (no tests, micro-benchmarks or fuzz targets).
# Arguments given after the build directory are passed to cmake and win over these defaults, e.g.
#   scripts/build.sh build -DCG_TESTS=ON         # the binary and every test (scripts/test.sh)
# BUILD_TYPE picks the configuration (default Release: what users, the benches and the image get).
# Warnings are errors (CG_WERROR, default ON), so every configuration is kept warning-free.
# ccache is used when it is installed (scripts/install-deps.sh installs it); its paths are taken
# relative to this checkout, so a second clone of the same commit reuses the first one's objects.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"; shift || true
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD"
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" -DCG_TESTS=OFF \
  -DCG_BENCH=OFF "${launcher[@]}" "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
