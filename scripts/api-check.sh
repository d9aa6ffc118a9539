#!/usr/bin/env bash
# Checks the API description against itself and against real answers:
#  1. docs/openapi.yaml is a valid OpenAPI 3.1 document whose schemas compile (tests/api/validate.mjs);
#  2. with a record dir, every answer the integration tests recorded there conforms to it
#     (tests/api/conformance.mjs: route, method, status, required headers, body schema; its own
#     self-test, tests/api/conformance.test.mjs, runs first).
# Record answers by running the integration tests with CG_API_RECORD_DIR set (scripts/test.sh
# does it in its release pass). Installs the pinned npm packages from tests/api/package-lock.json
# when node_modules is missing or the lock changed. Usage:
#   scripts/api-check.sh              # validate docs/openapi.yaml only
#   scripts/api-check.sh RECORD_DIR   # validate, then check the recorded answers
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
record_dir="${1:-}"
case "$record_dir" in "" | /*) ;; *) record_dir="$root/$record_dir" ;; esac

source scripts/lib/node-deps.sh
ensure_node_deps tests/api api-check
cd tests/api

node validate.mjs "$root/docs/openapi.yaml"
if [[ -n "$record_dir" ]]; then
  node --test --test-reporter=dot conformance.test.mjs
  node conformance.mjs "$record_dir" "$root/docs/openapi.yaml"
fi
