# Sourced by the test runners (tests/clients, tests/agents, tests/agents/clis) after they define
# die(): checks SWITCHBOARD_BIN, then drops every other SWITCHBOARD_* variable, since every
# switchboard process must find its state from its working directory (the scratch repo), not from
# anything that would point it elsewhere or pick an identity for it.

if [ -z "${SWITCHBOARD_BIN:-}" ]; then
  die "set SWITCHBOARD_BIN to the absolute path of a built switchboard binary (e.g. SWITCHBOARD_BIN=\$PWD/target/debug/switchboard after cargo build --bin switchboard)"
fi
case "$SWITCHBOARD_BIN" in /*) ;; *) die "SWITCHBOARD_BIN must be an absolute path, got '$SWITCHBOARD_BIN'" ;; esac
[ -x "$SWITCHBOARD_BIN" ] || die "SWITCHBOARD_BIN=$SWITCHBOARD_BIN is not an executable file"

for v in $(compgen -e | grep '^SWITCHBOARD_' || true); do
  [ "$v" = SWITCHBOARD_BIN ] || unset "$v"
done
