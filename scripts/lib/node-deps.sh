# Sourced by the scripts that run a node project of tests/ (browser-test.sh, api-check.sh).
# ensure_node_deps DIR NAME: checks that node and npm are there (Debian packages nodejs and npm),
# then installs DIR's pinned packages from its package-lock.json with `npm ci` when node_modules
# is missing or the lock changed since the last install. NAME prefixes the error message.
ensure_node_deps() {
  local dir="$1" name="$2"
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "$name: node and npm are needed (Debian packages nodejs and npm)" >&2
    return 1
  fi
  local stamp="$dir/node_modules/.chargegate-lock.sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
}
