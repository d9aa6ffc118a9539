#!/usr/bin/env bash
# Installs every package chargegate needs to build, run and test, by Debian package name.
# Safe to run again; meant for a fresh Debian 12 machine as root (uses sudo when not root).
#
#   scripts/install-deps.sh           everything: build, tests, benches, browser and deploy checks
#   scripts/install-deps.sh build     only what scripts/build.sh needs for the binary alone (the
#                                     container image's build stage, deploy/Dockerfile)
set -euo pipefail
profile="${1:-all}"
case "$profile" in
  all | build) ;;
  *) echo "install-deps.sh: unknown profile '$profile' (use: all, build)" >&2; exit 2 ;;
esac
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# What compiling and linking the binary needs (CMakeLists.txt's find_package/pkg_check_modules).
BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libcurl4-openssl-dev libsqlite3-dev libssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libhiredis-dev libpq-dev
)
PKGS=(
  "${BUILD_PKGS[@]}" git curl sqlite3 openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format python3 ccache
  clang libclang-rt-14-dev
  redis-server postgresql
  # Operators' view (issue 7): the browser test drives Debian's chromium through playwright-core
  # from npm; promtool (from prometheus) checks the alert rules and a live /metrics; PyYAML
  # checks the deployment manifests.
  nodejs chromium prometheus python3-yaml
)
# Debian's npm package; a nodejs from another source (e.g. NodeSource) ships its own npm and
# conflicts with Debian's.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(npm); fi
if [ "${CHARGEGATE_TEST_DEPS:-0}" = "1" ]; then
  PKGS+=(wrk nginx-light)
fi
if [ "$profile" = build ]; then PKGS=("${BUILD_PKGS[@]}"); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
