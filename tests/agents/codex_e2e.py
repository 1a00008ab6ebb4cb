#!/usr/bin/env python3
"""The real Codex CLI (`codex exec`) against a scripted Responses API model, with Switchboard's MCP
server and hooks as `switchboard install codex` writes them into the repository's `.codex/`.

The scripted model:
  1. calls mcp__switchboard.session_start {"intent": "e2e"};
  2. on its result, has bob send the agent MARKER-456 (another process: `switchboard send`), then calls
     the shell tool exec_command — not a Switchboard tool, so only the PostToolUse hook can tell of it;
  3. on the shell's output, has bob send NOTICE-123, then calls mcp__switchboard.whoami (whose result
     ends with a one-line mail notice; the hook must not repeat it);
  4. on whoami's result, has bob send URGENT-789 (urgent), then gives its final answer;
  5. when the Stop hook's reason comes back (a <hook_prompt> user message), answers again, and the run
     must end (the stop is held once).

  python3 tests/agents/codex_e2e.py --switchboard /abs/switchboard [--codex PATH] [--keep] [--artifacts DIR]

Prints one line per check; exits 1 if any fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from scripted_models import Call, Harness, ResponsesServer, Step, Text, first_match  # noqa: E402

PROMPT = "E2E-PROMPT: start a Switchboard session, then finish."
NS = "mcp__switchboard"


def items(req) -> list:
    return (req.json or {}).get("input", []) if req else []


def text_of(item: dict) -> str:
    content = item.get("content")
    if isinstance(content, list):
        return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))
    return content if isinstance(content, str) else ""


def call_index(inp: list, name: str):
    """(index of the last function_call `name`, its call_id, index of its output)."""
    for i in range(len(inp) - 1, -1, -1):
        it = inp[i]
        if it.get("type") == "function_call" and it.get("name") == name:
            cid = it.get("call_id")
            out = next((j for j in range(i + 1, len(inp)) if inp[j].get("type") == "function_call_output" and inp[j].get("call_id") == cid), None)
            return i, cid, out
    return None, None, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--switchboard", default=os.environ.get("SWITCHBOARD_BIN"), help="absolute path of the switchboard binary")
    ap.add_argument("--codex", default=os.path.join(HERE, "clis", "node_modules", ".bin", "codex"))
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--direct", action="store_true",
                    help="hooks run the switchboard binary itself (no logging wrapper); checks then rest on the model requests only")
    ap.add_argument("--artifacts", help="copy the scratch directory (logs, requests, hook runs) here")
    ap.add_argument(
        "--user-level",
        action="store_true",
        help="put the server and hooks into $CODEX_HOME (config.toml, hooks.json) instead of the project's .codex/",
    )
    ap.add_argument("--untrusted", action="store_true", help="(investigation) do not mark the project trusted in config.toml")
    ap.add_argument("--no-hook-trust-bypass", action="store_true", help="(investigation) run without --dangerously-bypass-hook-trust")
    args = ap.parse_args()
    if not args.switchboard or not os.path.isabs(args.switchboard) or not os.access(args.switchboard, os.X_OK):
        print("codex_e2e: --switchboard (or SWITCHBOARD_BIN) must be the absolute path of an executable", file=sys.stderr)
        return 2

    t_start = time.monotonic()
    h = Harness("codex-e2e", args.switchboard, keep=args.keep, direct=args.direct)
    try:
        return drive(h, args)
    finally:
        h.finish(args.artifacts)
        print(f"codex e2e: {len(h.results) - h.failed()} passed, {h.failed()} failed ({time.monotonic() - t_start:.1f}s)", flush=True)


def drive(h: Harness, args) -> int:
    codex_home = os.path.join(h.home, ".codex")
    os.makedirs(codex_home)
    state: dict = {}

    p = h.sb("install", "codex")
    h.check("switchboard install codex writes .codex/config.toml and .codex/hooks.json",
            os.path.isfile(os.path.join(h.repo, ".codex", "config.toml")) and os.path.isfile(os.path.join(h.repo, ".codex", "hooks.json")),
            p.stdout.strip().replace("\n", "; "))
    if args.user_level:
        # The same server entry and hooks, at user level; the project's copies are taken back.
        with open(os.path.join(h.repo, ".codex", "config.toml")) as f:
            project_toml = f.read()
        with open(os.path.join(h.repo, ".codex", "hooks.json")) as f:
            hooks_json = f.read()
        # (Not `switchboard uninstall codex`: it leaves empty files behind.)
        for name in ("config.toml", "hooks.json"):
            os.remove(os.path.join(h.repo, ".codex", name))
        os.rmdir(os.path.join(h.repo, ".codex"))
        with open(os.path.join(codex_home, "hooks.json"), "w") as f:
            f.write(hooks_json)
    else:
        project_toml = ""

    def after_start(req):
        sid = first_match(r"started session (ses_[0-9A-Za-z]+)", req.body) or first_match(r"(ses_[0-9A-Z]{20,})", req.body)
        state["session"] = sid
        state["agent"] = h.agent_of(sid)
        state["client_pids"] = h.client_pids()
        h.sb("send", "--as", "bob", "--to", state["agent"], "MARKER-456: bob says the build is green")
        return [Call("exec_command", {"cmd": "echo E2E-SHELL-$((40+2))", "yield_time_ms": 5000})]

    def after_shell(req):
        h.sb("send", "--as", "bob", "--to", state["agent"], "NOTICE-123: bob has a second note")
        return [Call("whoami", {}, NS)]

    def after_whoami(req):
        h.sb("send", "--as", "bob", "--to", state["agent"], "--priority", "urgent", "URGENT-789: stop, the release is blocked")
        return [Text("FINAL-ANSWER-1")]

    steps = [
        Step("session_start", [PROMPT], [Call("session_start", {"intent": "e2e"}, NS)]),
        Step("after session_start", ["started session ses_"], after_start),
        Step("after shell", ["E2E-SHELL-42"], after_shell),
        Step("after whoami", [lambda b: b.count("function_call_output") >= 3], after_whoami),
        Step("after hold", ["FINAL-ANSWER-1", "URGENT-789"], [Text("FINAL-ANSWER-2")]),
    ]
    log = os.path.join(h.dir, "requests.jsonl")
    with ResponsesServer(steps, log_path=log) as srv:
        trust = "" if args.untrusted else f'[projects."{h.repo}"]\ntrust_level = "trusted"\n'
        with open(os.path.join(codex_home, "config.toml"), "w") as f:
            f.write(
                f"""model = "scripted-model"
model_provider = "fake"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.fake]
name = "fake"
base_url = "{srv.url}/v1"
wire_api = "responses"
env_key = "FAKE_API_KEY"
request_max_retries = 0
stream_max_retries = 0

{trust}
{project_toml}"""
            )
        env = dict(h.env, CODEX_HOME=codex_home, FAKE_API_KEY="dummy")
        argv = [args.codex, "exec", PROMPT, "--json", "--ephemeral", "--skip-git-repo-check"]
        if not args.no_hook_trust_bypass:
            argv.append("--dangerously-bypass-hook-trust")
        rc, secs, out, err = h.run(argv, env, args.timeout, "codex")
        reqs = srv.model_requests()
        errors = list(srv.errors)

    hooks = h.hooks()
    h.check(f"codex exec exits 0 within {args.timeout:.0f}s", rc == 0, f"exit {rc} after {secs:.1f}s, {len(reqs)} model request(s)")
    for e in errors:
        h.check("scripted model step ran", False, e)
    first = reqs[0].json if reqs and isinstance(reqs[0].json, dict) else {}
    offered = next((t for t in first.get("tools", []) if t.get("type") == "namespace" and t.get("name") == NS), None)
    h.check("the first request offers the switchboard MCP tools (namespace mcp__switchboard)", offered is not None,
            f"{len(offered.get('tools', []))} tools" if offered else "not offered: the MCP server did not start or was not configured")

    # a) session_start called and answered with a ses_ id
    r_start = srv.fired("after session_start")
    sid = state.get("session")
    ok = r_start is not None and bool(sid)
    if ok:
        i, cid, o = call_index(items(r_start), "session_start")
        ok = o is not None and sid in items(r_start)[o].get("output", "")
    h.check("a) session_start called and answered with a ses_ id", ok,
            f"{sid} for agent {state.get('agent')}" if ok else f"request after session_start: {r_start.body[-600:] if r_start else 'none'}")

    # b) MARKER-456 sent right after session_start's result shows up in the next request as the hook's context
    r_shell = srv.fired("after shell")
    inp = items(r_shell)
    i, cid, o = call_index(inp, "exec_command")
    dev = [j for j, it in enumerate(inp) if it.get("type") == "message" and it.get("role") == "developer" and "MARKER-456" in text_of(it)]
    placed = i is not None and o is not None and any(i < j < o for j in dev)
    post = [r for r in hooks if r.event == "PostToolUse"]
    detail = (f"developer message between exec_command and its output: {text_of(inp[dev[0]])[:160]!r}" if placed else
              f"request after the shell call: {'MARKER-456 in body' if r_shell and 'MARKER-456' in r_shell.body else 'no MARKER-456'}; "
              f"PostToolUse runs: {[r.brief() for r in post]}")
    h.check("b) MARKER-456 (sent after session_start) is in the next request as PostToolUse hook context", placed, detail)

    # b') told once: NOTICE-123, sent before whoami, ends whoami's result and the hook does not repeat it
    r_who = srv.fired("after whoami")
    inp = items(r_who)
    i, cid, o = call_index(inp, "whoami")
    in_result = o is not None and "NOTICE-123" in inp[o].get("output", "")
    repeated = [it for it in inp if it.get("type") == "message" and it.get("role") == "developer" and "NOTICE-123" in text_of(it)]
    h.check("b') NOTICE-123 (sent before whoami) ends whoami's result once; the hook does not repeat it",
            in_result and not repeated,
            f"in whoami's result: {in_result}; hook repeats: {len(repeated)}")

    # c) the urgent message holds the stop once, then the run ends
    held = [r for r in reqs if any(it.get("type") == "message" and it.get("role") == "user" and "URGENT-789" in text_of(it)
                                   and "hook_prompt" in text_of(it) for it in items(r))]
    stop_runs = [r for r in hooks if r.event == "Stop"]
    blocks = [r for r in stop_runs if r.output().get("decision") == "block"]
    after_hold = srv.fired("after hold")
    later = [r for r in reqs if after_hold and r.n > after_hold.n]
    reason = next((text_of(it) for it in items(held[0]) if "hook_prompt" in text_of(it)), "") if held else ""
    ok = bool(held) and after_hold is not None and held[0].n == after_hold.n and (h.direct or len(blocks) == 1) and not later and rc == 0
    h.check("c) URGENT-789 holds the stop once (Stop hook block → <hook_prompt> with the urgent text), then the run ends", ok,
            f"hold reason {reason[:200]!r}; Stop hook runs: {[r.brief() for r in stop_runs]}; requests after the held one: {len(later)}")
    urgent_id = first_match(r"(msg_[0-9A-Z]+) from bob \[urgent\]", reason)
    repeats = after_hold.body.count(urgent_id) if after_hold and urgent_id else 0
    h.check("c') the request after the hold lists the urgent message once", repeats == 1, f"{urgent_id} appears {repeats} time(s)")
    h.check("no request the script did not expect", not srv.unmatched(), f"unmatched: {[r.n for r in srv.unmatched()]}")

    # What the hooks saw, for the record.
    print("hook runs:", flush=True)
    for r in hooks:
        print(f"  {r.brief()}", flush=True)
    print(f"client pid recorded for the session: {state.get('client_pids')}", flush=True)
    if h.failed():
        print(f"--- codex stdout (last 1500 chars)\n{out[-1500:]}\n--- codex stderr (last 1500 chars)\n{err[-1500:]}", flush=True)
        if hooks:
            print(f"--- ancestry of the first hook run (the session's client pid must be in it)\n{hooks[0].ancestry}", flush=True)
    return 1 if h.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
