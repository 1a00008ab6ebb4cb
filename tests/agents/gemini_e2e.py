#!/usr/bin/env python3
"""The real Gemini CLI (`gemini -p`) against a scripted Gemini API model, with Switchboard's MCP server
and hooks as `switchboard install gemini` writes them into the repository's `.gemini/settings.json`.

The scripted model:
  1. calls mcp_switchboard_session_start {"intent": "e2e"};
  2. on its result, has bob send the agent MARKER-456 (another process: `switchboard send`), then calls
     the built-in read_file — not a Switchboard tool, so only the AfterTool hook can tell of it;
  3. on the file's content, has bob send NOTICE-123, then calls mcp_switchboard_whoami (whose result
     ends with a one-line mail notice; the hook must not repeat it);
  4. on whoami's result, has bob send URGENT-789 (urgent), then gives its final answer;
  5. when the AfterAgent hook's reason comes back (a user part), answers again, and the run must end
     (the stop is held once).

  python3 tests/agents/gemini_e2e.py --switchboard /abs/switchboard [--gemini PATH] [--keep] [--artifacts DIR]

Prints one line per check; exits 1 if any fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

from scripted_models import Call, GeminiServer, Harness, Step, Text, first_match  # noqa: E402

PROMPT = "E2E-PROMPT: start a Switchboard session, then finish."
MODEL = "gemini-2.5-flash"


def contents(req) -> list:
    return (req.json or {}).get("contents", []) if req else []


def parts_text(content: dict) -> str:
    out = []
    for p in content.get("parts", []):
        if "text" in p:
            out.append(p["text"])
        elif "functionResponse" in p:
            out.append(json.dumps(p["functionResponse"].get("response", {})))
    return "\n".join(out)


def function_response(req, name: str):
    """The response (as JSON text) of the last functionResponse named `name` in the request."""
    for c in reversed(contents(req)):
        for p in c.get("parts", []):
            fr = p.get("functionResponse")
            if fr and fr.get("name") == name:
                return json.dumps(fr.get("response", {}))
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--switchboard", default=os.environ.get("SWITCHBOARD_BIN"), help="absolute path of the switchboard binary")
    ap.add_argument("--gemini", default=os.path.join(HERE, "clis", "node_modules", ".bin", "gemini"))
    ap.add_argument("--timeout", type=float, default=100)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--direct", action="store_true",
                    help="hooks run the switchboard binary itself (no logging wrapper); checks then rest on the model requests only")
    ap.add_argument("--artifacts", help="copy the scratch directory (logs, requests, hook runs) here")
    ap.add_argument(
        "--user-level",
        action="store_true",
        help="put the server and hooks into $HOME/.gemini/settings.json instead of the project's .gemini/settings.json",
    )
    ap.add_argument("--trust", default="folder-trust-off",
                    choices=["folder-trust-off", "trusted-folders", "env", "skip-trust", "none"],
                    help="how the repository is trusted: security.folderTrust.enabled=false (default); folder trust on with the "
                         "repository in ~/.gemini/trustedFolders.json; GEMINI_CLI_TRUST_WORKSPACE=true; --skip-trust; not at all")
    ap.add_argument("--approval-mode", default="yolo",
                    help="gemini --approval-mode (default yolo: the project entry has no trust: true, so MCP calls would ask)")
    ap.add_argument("--server-trust", action="store_true",
                    help="(investigation) add \"trust\": true to the switchboard server entry (skips tool confirmations)")
    ap.add_argument("--gemini-arg", action="append", default=[], help="(investigation) one more argument for gemini")
    args = ap.parse_args()
    if not args.switchboard or not os.path.isabs(args.switchboard) or not os.access(args.switchboard, os.X_OK):
        print("gemini_e2e: --switchboard (or SWITCHBOARD_BIN) must be the absolute path of an executable", file=sys.stderr)
        return 2

    t_start = time.monotonic()
    h = Harness("gemini-e2e", args.switchboard, keep=args.keep, direct=args.direct)
    try:
        return drive(h, args)
    finally:
        h.finish(args.artifacts)
        print(f"gemini e2e: {len(h.results) - h.failed()} passed, {h.failed()} failed ({time.monotonic() - t_start:.1f}s)", flush=True)


def drive(h: Harness, args) -> int:
    gemini_home = os.path.join(h.home, ".gemini")
    os.makedirs(gemini_home)
    state: dict = {}

    p = h.sb("install", "gemini")
    project_settings = os.path.join(h.repo, ".gemini", "settings.json")
    h.check("switchboard install gemini writes .gemini/settings.json", os.path.isfile(project_settings),
            p.stdout.strip().replace("\n", "; "))
    with open(project_settings) as f:
        installed = json.load(f)
    if args.server_trust:
        installed["mcpServers"]["switchboard"]["trust"] = True
        with open(project_settings, "w") as f:
            json.dump(installed, f, indent=2)
    user = {
        "security": {
            "auth": {"selectedType": "gemini-api-key"},
            "folderTrust": {"enabled": args.trust != "folder-trust-off"},
        },
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "ui": {"hideTips": True, "hideBanner": True},
    }
    if args.user_level:
        # The same server entry and hooks, at user level; the project's copy is taken back.
        # (Not `switchboard uninstall gemini`: it leaves an empty settings.json, which Gemini CLI refuses.)
        os.remove(project_settings)
        os.rmdir(os.path.dirname(project_settings))
        user["mcpServers"] = installed["mcpServers"]
        user["hooks"] = installed["hooks"]
    with open(os.path.join(gemini_home, "settings.json"), "w") as f:
        json.dump(user, f, indent=2)
    if args.trust == "trusted-folders":
        with open(os.path.join(gemini_home, "trustedFolders.json"), "w") as f:
            json.dump({h.repo: "TRUST_FOLDER"}, f)

    def after_start(req):
        sid = first_match(r"started session (ses_[0-9A-Za-z]+)", req.body) or first_match(r"(ses_[0-9A-Z]{20,})", req.body)
        state["session"] = sid
        state["agent"] = h.agent_of(sid)
        state["client_pids"] = h.client_pids()
        h.sb("send", "--as", "bob", "--to", state["agent"], "MARKER-456: bob says the build is green")
        return [Call("read_file", {"file_path": "README.md"})]

    def after_read(req):
        h.sb("send", "--as", "bob", "--to", state["agent"], "NOTICE-123: bob has a second note")
        return [Call("mcp_switchboard_whoami", {})]

    def after_whoami(req):
        h.sb("send", "--as", "bob", "--to", state["agent"], "--priority", "urgent", "URGENT-789: stop, the release is blocked")
        return [Text("FINAL-ANSWER-1")]

    steps = [
        Step("session_start", [PROMPT], [Call("mcp_switchboard_session_start", {"intent": "e2e"})]),
        Step("after session_start", ["started session ses_"], after_start),
        Step("after read_file", ["E2E-FILE-42"], after_read),
        Step("after whoami", [lambda b: b.count('"functionResponse"') >= 3], after_whoami),
        Step("after hold", ["FINAL-ANSWER-1", "URGENT-789"], [Text("FINAL-ANSWER-2")]),
    ]
    log = os.path.join(h.dir, "requests.jsonl")
    # Side queries (generateContent) get a "the user speaks next" answer.
    with GeminiServer(steps, log_path=log, side_answer='{"reasoning": "the answer is complete", "next_speaker": "user"}') as srv:
        env = dict(h.env, GOOGLE_GEMINI_BASE_URL=srv.url, GEMINI_API_KEY="dummy")
        if args.trust == "env":
            env["GEMINI_CLI_TRUST_WORKSPACE"] = "true"
        argv = [args.gemini, "-p", PROMPT, "--output-format", "json", "-m", MODEL]
        if args.approval_mode:
            argv += ["--approval-mode", args.approval_mode]
        if args.trust == "skip-trust":
            argv.append("--skip-trust")
        argv += args.gemini_arg
        rc, secs, out, err = h.run(argv, env, args.timeout, "gemini")
        reqs = srv.model_requests()
        side = [r for r in srv.requests if r.kind != "model"]
        errors = list(srv.errors)

    hooks = h.hooks()
    h.check(f"gemini -p exits 0 within {args.timeout:.0f}s", rc == 0,
            f"exit {rc} after {secs:.1f}s, {len(reqs)} model request(s), {len(side)} other request(s) {sorted({r.kind for r in side})}")
    for e in errors:
        h.check("scripted model step ran", False, e)
    first = reqs[0].json if reqs and isinstance(reqs[0].json, dict) else {}
    names = [d.get("name") for t in first.get("tools", []) for d in t.get("functionDeclarations", [])]
    sb_tools = [n for n in names if n and n.startswith("mcp_switchboard_")]
    h.check("the first request offers the switchboard MCP tools (mcp_switchboard_*)", bool(sb_tools),
            f"{len(sb_tools)} tools" if sb_tools else f"not offered; tools: {names}")

    # a) session_start called and answered with a ses_ id
    r_start = srv.fired("after session_start")
    sid = state.get("session")
    resp = function_response(r_start, "mcp_switchboard_session_start") or ""
    ok = bool(sid) and sid in resp
    h.check("a) session_start called and answered with a ses_ id", ok,
            f"{sid} for agent {state.get('agent')}" if ok else f"request after session_start: {r_start.body[-600:] if r_start else 'none'}")

    # b) MARKER-456 sent right after session_start's result shows up in the next request as the hook's context
    r_read = srv.fired("after read_file")
    resp = function_response(r_read, "read_file") or ""
    hc = first_match(r"(<hook_context>.*?</hook_context>)", json.loads(resp).get("output", "") if resp else "") or ""
    placed = "MARKER-456" in hc
    after_tool = [r for r in hooks if r.event == "AfterTool"]
    detail = (f"in read_file's result: {hc[:180]!r}" if placed else
              f"request after read_file: {'MARKER-456 in body' if r_read and 'MARKER-456' in r_read.body else 'no MARKER-456'}; "
              f"read_file response {resp[:300]!r}; AfterTool runs: {[r.brief() for r in after_tool]}")
    h.check("b) MARKER-456 (sent after session_start) is in the next request as AfterTool hook context", placed, detail)

    # b') told once: NOTICE-123, sent before whoami, ends whoami's result and the hook does not repeat it
    r_who = srv.fired("after whoami")
    resp = function_response(r_who, "mcp_switchboard_whoami") or ""
    in_result = "NOTICE-123" in resp
    hc = first_match(r"(<hook_context>.*?</hook_context>)", json.loads(resp).get("output", "") if resp else "") or ""
    repeated = resp.count("NOTICE-123") > 1 or "NOTICE-123" in hc
    h.check("b') NOTICE-123 (sent before whoami) ends whoami's result once; the hook does not repeat it",
            in_result and not repeated, f"in whoami's result: {in_result}; hook repeats: {repeated}")

    # c) the urgent message holds the stop once, then the run ends
    held = [r for r in reqs if any(c.get("role") == "user" and "URGENT-789" in parts_text(c) and "Before you stop" in parts_text(c)
                                   for c in contents(r))]
    stop_runs = [r for r in hooks if r.event == "AfterAgent"]
    denies = [r for r in stop_runs if r.output().get("decision") == "deny"]
    after_hold = srv.fired("after hold")
    later = [r for r in reqs if after_hold and r.n > after_hold.n]
    reason = next((parts_text(c) for c in contents(held[0]) if "Before you stop" in parts_text(c)), "") if held else ""
    ok = bool(held) and after_hold is not None and held[0].n == after_hold.n and (h.direct or len(denies) == 1) and not later and rc == 0
    h.check("c) URGENT-789 holds the stop once (AfterAgent deny → a user part with the urgent text), then the run ends", ok,
            f"hold reason {reason[:200]!r}; AfterAgent runs: {[r.brief() for r in stop_runs]}; requests after the held one: {len(later)}")
    urgent_id = first_match(r"(msg_[0-9A-Z]+) from bob \[urgent\]", reason)
    told = [p.get("text", "") for c in contents(after_hold) for p in c.get("parts", []) if urgent_id and urgent_id in p.get("text", "")]
    repeats = sum(parts_text(c).count(urgent_id) for c in contents(after_hold)) if after_hold and urgent_id else 0
    h.check("c') the request after the hold lists the urgent message once (not again as BeforeAgent hook context)", repeats == 1,
            f"{urgent_id} appears {repeats} time(s): {[t[:70] + ' … ' + t[-70:] for t in told]}")
    final = ""
    try:
        final = json.loads(out).get("response", "")
    except ValueError:
        pass
    h.check("the run's answer ends with the one given after the hold", final.strip().endswith("FINAL-ANSWER-2"), f"response {final!r}")
    h.check("no request the script did not expect", not srv.unmatched(), f"unmatched: {[r.n for r in srv.unmatched()]}")

    print("hook runs:", flush=True)
    for r in hooks:
        print(f"  {r.brief()}", flush=True)
    print(f"client pid recorded for the session: {state.get('client_pids')}", flush=True)
    if h.failed():
        try:
            shown = json.loads(out)
            shown = json.dumps({k: v for k, v in shown.items() if k != "stats"}, indent=2)
        except ValueError:
            shown = out
        print(f"--- gemini stdout without stats (last 1500 chars)\n{shown[-1500:]}\n--- gemini stderr (last 1500 chars)\n{err[-1500:]}", flush=True)
        if hooks:
            print(f"--- ancestry of the first hook run (the session's client pid must be in it)\n{hooks[0].ancestry}", flush=True)
    return 1 if h.failed() else 0


if __name__ == "__main__":
    sys.exit(main())
