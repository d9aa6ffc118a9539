#!/usr/bin/env bash
# Installs every package chargegate needs to build, run and test, by Debian package name.
# Safe to run again; meant for a fresh Debian 12 machine as root (uses sudo when not root).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PKGS=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libcurl4-openssl-dev libsqlite3-dev sqlite3 libssl-dev openssl
  libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format python3 ccache
  clang libclang-rt-14-dev
  libhiredis-dev libpq-dev redis-server postgresql
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
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
