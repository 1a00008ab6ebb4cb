#!/usr/bin/env bash
# Installs what the VS Code extension's tests need and runs them all; fails on any failure.
# The last step, e2e/run.sh, runs the packaged extension in real VS Code (see e2e/run.sh).
# SWITCHBOARD_BIN: the built binary (default ../../target/debug/switchboard).
set -euo pipefail
cd "$(dirname "$0")"

export SWITCHBOARD_BIN="$(realpath "${SWITCHBOARD_BIN:-../../target/debug/switchboard}")"
if [ ! -x "$SWITCHBOARD_BIN" ]; then
  echo "test.sh: no switchboard binary at $SWITCHBOARD_BIN; run 'cargo build' in the repository or set SWITCHBOARD_BIN" >&2
  exit 1
fi
command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' ||
  { echo "test.sh: Node 20 or newer is needed (found $(node --version))" >&2; exit 1; }

echo "== npm ci"
npm ci --no-audit --no-fund
echo "== type-check, unit and protocol tests"
npm test
echo "== bundle and package"
rm -f switchboard.vsix
npm run package
test -s switchboard.vsix
echo "== end-to-end test in real VS Code (code-server, playwright-core, Debian's Chromium)"
SWITCHBOARD_VSIX="$PWD/switchboard.vsix" e2e/run.sh
echo "test.sh: all passed"
