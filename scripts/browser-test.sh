#!/usr/bin/env bash
# Runs the dashboard's browser test (tests/browser/dashboard.test.mjs): the built binary driven
# through /dashboard in Debian's chromium, headless, by playwright-core. Installs playwright-core
# from the lock file when node_modules is missing or the lock changed. Usage:
#   scripts/browser-test.sh            # CHARGEGATE_BIN defaults to build/chargegate
# SAVE_SCREENSHOT=1 (the default here) rewrites docs/dashboard.png; SAVE_SCREENSHOT=0 leaves it.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser-test: node and npm are needed (Debian packages nodejs and npm)" >&2
  exit 1
fi
if [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
  echo "browser-test: ${CHROMIUM:-/usr/bin/chromium} not found (Debian package chromium)" >&2
  exit 1
fi

cd tests/browser
stamp=node_modules/.chargegate-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

export CHARGEGATE_BIN="${CHARGEGATE_BIN:-$root/build/chargegate}"
case "$CHARGEGATE_BIN" in /*) ;; *) CHARGEGATE_BIN="$root/$CHARGEGATE_BIN" ;; esac
export SAVE_SCREENSHOT="${SAVE_SCREENSHOT:-1}"
exec node dashboard.test.mjs
