#!/usr/bin/env bash
# Real agent CLIs, offline, against a scripted model server, with switchboard's MCP server and hooks:
#   - Claude Code @anthropic-ai/claude-code@2.1.197 (claude_e2e.py against model_server.py, a scripted
#     Anthropic API on 127.0.0.1): session_start over MCP; a message from another process reaching the agent
#     through the PostToolUse hook, once; an urgent one holding the Stop hook once (not again in a later
#     turn); one sent between turns reaching it through UserPromptSubmit; the session in `switchboard sessions`;
#     the message the hook told of shown `notified` in the agent's inbox (then `read` once marked read); with
#     streaming input, an idle session woken by mail through the asyncRewake `Wake` hook; and `claude mcp list`
#     reporting the switchboard server connected, stdio and over `switchboard serve` (http, with a token), once
#     the folder is trusted (install's enabledMcpjsonServers approves it then, not before).
# Installs what it needs (npm ci here, reused while package-lock.json is unchanged), then runs the test.
# Needs: bash, git, coreutils, Node >= 18 with npm, python3 (stdlib only), and the npm registry.
#
#   SWITCHBOARD_BIN=/abs/path/to/switchboard tests/agents/run.sh
#
# Exits non-zero if anything fails. Leaves no process behind, nor a temp dir unless a check failed (then the
# failing scenario's scratch directory, with requests.jsonl and hooks.jsonl, is kept and its path printed).
# By hand: python3 tests/agents/claude_e2e.py --bin ABS --keep --trace-hooks [--only one-turn|two-turns|idle-wake|mcp-list].
# Hook payload fixtures (tests/fixtures/hooks/): python3 tests/agents/record_hook_fixtures.py --bin ABS.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
START=$SECONDS
CLAUDE_VERSION=2.1.197

die() { echo "tests/agents: $*" >&2; exit 2; }

# shellcheck source=../switchboard-bin.sh
. "$HERE/../switchboard-bin.sh"

command -v node >/dev/null 2>&1 || die "node (>= 18, with npm) is required"
command -v npm >/dev/null 2>&1 || die "npm is required"
command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.8) is required"
command -v git >/dev/null 2>&1 || die "git is required"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-agents-run.XXXXXX")
CHILD=
stop_pid() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  [ -z "$CHILD" ] || stop_pid "$CHILD"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs "$@" in directory $1, in the background (so a signal to this script reaches cleanup), and waits.
run_in() {
  local dir=$1; shift
  (cd "$dir" && exec "$@") &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=
  return "$rc"
}

# ---------------------------------------------------------------- install
t_install=$SECONDS
stamp="$HERE/node_modules/.switchboard-lock.sha256"
want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
if [ -d "$HERE/node_modules" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "npm: node_modules up to date with package-lock.json"
else
  echo "npm: npm ci (exact pins from package-lock.json)"
  # npm 11 warns that claude-code's postinstall is not covered by allowScripts; the postinstall still
  # links bin/claude.exe to the platform package's binary (claude_e2e.py falls back to that binary).
  if ! run_in "$HERE" npm ci --no-audit --no-fund --loglevel=error > "$TMP/npm.log" 2>&1; then
    cat "$TMP/npm.log" >&2
    die "npm ci failed"
  fi
  grep -v '^npm warn install-scripts' "$TMP/npm.log" || true
  echo "$want" > "$stamp"
fi
t_install=$((SECONDS - t_install))
echo "install: ${t_install}s"

# ---------------------------------------------------------------- tests
declare -A RESULT TIME
ORDER=()
step() {
  local name=$1; shift
  ORDER+=("$name")
  local t0=$SECONDS rc=0
  echo
  echo "== $name"
  run_in "$HERE" timeout -k 5 110 "$@" || rc=$?
  TIME[$name]=$((SECONDS - t0))
  case $rc in
    0) RESULT[$name]=PASS ;;
    124) RESULT[$name]="FAIL (timed out after 110 s)" ;;
    *) RESULT[$name]="FAIL (exit $rc)" ;;
  esac
}

step "claude code $CLAUDE_VERSION: MCP + hooks + notified state + idle wake + claude mcp list" \
  python3 "$HERE/claude_e2e.py" --bin "$SWITCHBOARD_BIN" --claude-version "$CLAUDE_VERSION"

# ---------------------------------------------------------------- summary
echo
echo "== agent CLIs: summary (install ${t_install}s, total $((SECONDS - START))s)"
passed=0 failed=0
for name in "${ORDER[@]}"; do
  printf '  %-72s %s (%ss)\n' "$name" "${RESULT[$name]}" "${TIME[$name]}"
  if [ "${RESULT[$name]}" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "agents: $passed passed, $failed failed"
[ "$failed" = 0 ]
