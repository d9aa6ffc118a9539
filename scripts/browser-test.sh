#!/usr/bin/env bash
# Runs the dashboard's browser test (tests/browser/dashboard.test.mjs): the built binary driven
# through /dashboard in Debian's chromium, headless, by playwright-core. Installs playwright-core
# from the lock file when node_modules is missing or the lock changed. Usage:
#   scripts/browser-test.sh            # CHARGEGATE_BIN defaults to build/chargegate
# SAVE_SCREENSHOT=1 (the default here) rewrites docs/dashboard.png; SAVE_SCREENSHOT=0 leaves it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  echo "browser-test: ${CHROMIUM:-/usr/bin/chromium} not found (Debian package chromium)" >&2
  exit 1
fi

source scripts/lib/node-deps.sh
ensure_node_deps tests/browser browser-test
cd tests/browser

export CHARGEGATE_BIN="${CHARGEGATE_BIN:-$root/build/chargegate}"
case "$CHARGEGATE_BIN" in /*) ;; *) CHARGEGATE_BIN="$root/$CHARGEGATE_BIN" ;; esac
export SAVE_SCREENSHOT="${SAVE_SCREENSHOT:-1}"
exec node dashboard.test.mjs
