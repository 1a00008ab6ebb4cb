#!/usr/bin/env bash
# The real Codex CLI and Gemini CLI, offline, each against a scripted model server (stdlib Python, 127.0.0.1,
# random port), with Switchboard's MCP server and hooks exactly as `switchboard install codex|gemini` writes
# them into a scratch repository:
#   - Codex CLI @openai/codex@0.171.0      `codex exec`  (codex_e2e.py)
#   - Gemini CLI @google/gemini-cli@0.61.0 `gemini -p`   (gemini_e2e.py)
# Each driver checks (one line per check) that session_start is called and answered with a ses_ id, that a message sent by another
# process reaches the next model request as the hook's context (PostToolUse / AfterTool), and that an urgent
# message holds the stop once (Stop / AfterAgent), after which the run ends.
# Installs the CLIs with npm ci here (exact pins from package-lock.json); node_modules stays out of git.
#
#   SWITCHBOARD_BIN=/abs/path/to/switchboard tests/agents/clis/run.sh
#
# Exits non-zero if anything fails. Leaves no process or temp dir behind. Each run's scratch directory
# (model requests as JSON lines, every hook run's stdin/stdout/stderr, the CLI's output) is kept in
# $AGENT_CLIS_ARTIFACTS (default <repo>/target/agent-clis-artifacts). The hook payload fixtures in tests/fixtures/hooks/
# are recorded from these drivers (and claude_e2e.py) by tests/agents/record_hook_fixtures.py.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AGENTS=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
START=$SECONDS

die() { echo "tests/agents/clis: $*" >&2; exit 2; }

# shellcheck source=../../switchboard-bin.sh
. "$HERE/../../switchboard-bin.sh"

export PYTHONDONTWRITEBYTECODE=1

command -v node >/dev/null 2>&1 || die "node (>= 20, with npm) is required"
command -v npm >/dev/null 2>&1 || die "npm is required"
command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.8) is required"
command -v git >/dev/null 2>&1 || die "git is required"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Gemini CLI 0.61.0 needs Node >= 20, found $(node --version)"

ARTIFACTS=${AGENT_CLIS_ARTIFACTS:-$ROOT/target/agent-clis-artifacts}
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-agent-clis.XXXXXX")
# Every process this script starts, as an empty file named by its PID in $PIDS, removed once it has been
# waited for (so cleanup never signals a PID that was reused). The drivers stop their own children.
PIDS="$TMP/pids"
mkdir "$PIDS"

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
install_node() {
  local stamp="$HERE/node_modules/.switchboard-lock.sha256" want
  want=$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)
  if [ -x "$HERE/node_modules/.bin/codex" ] && [ -x "$HERE/node_modules/.bin/gemini" ] \
      && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "npm: node_modules up to date with package-lock.json"
    return 0
  fi
  echo "npm: npm ci (exact pins from package-lock.json)"
  (cd "$HERE" && run_bg npm ci --no-audit --no-fund --loglevel=error) || return 1
  echo "$want" > "$stamp"
}
if ! install_node > "$TMP/install.log" 2>&1; then
  cat "$TMP/install.log" >&2
  die "npm ci failed"
fi
cat "$TMP/install.log"
codex_version=$("$HERE/node_modules/.bin/codex" --version 2>/dev/null || true)
gemini_version=$("$HERE/node_modules/.bin/gemini" --version 2>/dev/null || true)
[ "$codex_version" = "codex-cli 0.171.0" ] || die "expected codex-cli 0.171.0, got '$codex_version'"
[ "$gemini_version" = "0.61.0" ] || die "expected Gemini CLI 0.61.0, got '$gemini_version'"
t_install=$((SECONDS - t_install))
echo "install: ${t_install}s ($codex_version, gemini-cli $gemini_version, node $(node --version))"

# ---------------------------------------------------------------- drivers
declare -A RESULT TIME
ORDER=()
step() {
  local name=$1; shift
  ORDER+=("$name")
  echo
  echo "== $name"
  local t0=$SECONDS rc=0
  run_bg timeout -k 5 150 python3 "$@" --switchboard "$SWITCHBOARD_BIN" --artifacts "$ARTIFACTS/$(printf '%02d' ${#ORDER[@]})" || rc=$?
  TIME[$name]=$((SECONDS - t0))
  case "$rc" in
    0) RESULT[$name]=PASS ;;
    124|137) RESULT[$name]="FAIL (timed out after 150 s)" ;;
    *) RESULT[$name]="FAIL (exit $rc)" ;;
  esac
}

# Each CLI twice: with every hook run logged (a wrapper in front of the binary records stdin, stdout, stderr and
# the process ancestry), and with the binary itself as the hook, exactly as installed.
step "codex 0.171.0: codex exec, project .codex/ (trusted), hooks logged" "$AGENTS/codex_e2e.py"
step "codex 0.171.0: codex exec, project .codex/ (trusted), hooks direct" "$AGENTS/codex_e2e.py" --direct
step "gemini 0.61.0: gemini -p --approval-mode yolo, project .gemini/, hooks logged" "$AGENTS/gemini_e2e.py"
step "gemini 0.61.0: gemini -p --approval-mode yolo, project .gemini/, hooks direct" "$AGENTS/gemini_e2e.py" --direct

# ---------------------------------------------------------------- summary
echo
echo "== agent CLIs: summary (install ${t_install}s, total $((SECONDS - START))s)"
passed=0 failed=0
for name in "${ORDER[@]}"; do
  printf '  %-80s %s (%ss)\n' "$name" "${RESULT[$name]}" "${TIME[$name]}"
  if [ "${RESULT[$name]}" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "  requests, hook runs and CLI output: $ARTIFACTS"
echo "agent clis: $passed passed, $failed failed"
[ "$failed" = 0 ]
