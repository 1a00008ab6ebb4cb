#!/usr/bin/env python3
"""Records what each real agent CLI sends on stdin to `switchboard hook`, as tests/fixtures/hooks/<client>-<Event>.json.

    python3 tests/agents/record_hook_fixtures.py --bin /abs/path/to/switchboard [--out DIR]

Runs, with every hook run logged by the drivers' own trace wrappers:
  - Claude Code: claude_e2e.py's "one-turn" scenario (in process, --trace-hooks): SessionStart, UserPromptSubmit,
    PostToolUse, Stop, and Wake (the asyncRewake hook on Stop: its input is a Stop input);
  - Codex CLI: codex_e2e.py (logged hooks): SessionStart, UserPromptSubmit, PostToolUse, Stop;
  - Gemini CLI: gemini_e2e.py (logged hooks): SessionStart, BeforeAgent, AfterTool, AfterAgent.
and keeps one payload per client and event: the first one, except that for PostToolUse / AfterTool it is the
first after a tool that is not Switchboard's (the call a hook has something to add to), and for Stop, AfterAgent
and Wake the first with stop_hook_active false (the one Switchboard acts on).

Machine-specific values become placeholders, in every string of the payload (also inside tool results):
the scratch repository (the payload's cwd) -> {{CWD}}; the scratch directory around it (the CLI's HOME, so
transcript paths) -> {{TMP}}; Claude Code's name for the project folder in its transcript path (the repository
path with each character other than a letter or digit as "-") -> {{CWD_SLUG}}. Ids, timestamps and other values
stay as recorded. Fails if a scratch path is left over, if a CLI run fails a check, or if an event is missing.

Then, as a smoke check, runs `switchboard hook <client> <Event>` on each fixture with the placeholders
substituted (a fresh git repository as {{CWD}}): each must exit 0 with nothing on stderr.

Needs the CLIs installed (tests/agents/run.sh and tests/agents/clis/run.sh do that) and about 10 s.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

EVENTS = {
    "claude": ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop", "Wake"],
    "codex": ["SessionStart", "UserPromptSubmit", "PostToolUse", "Stop"],
    "gemini": ["SessionStart", "BeforeAgent", "AfterTool", "AfterAgent"],
}
SWITCHBOARD_TOOL = re.compile(r"^mcp_+switchboard_")


def claude_runs(sb):
    """[(event, stdin text)] of one Claude Code one-turn run, and (repo, scratch dir)."""
    import claude_e2e

    claude, version = claude_e2e.find_claude(None)
    print("claude: %s (%s)" % (claude, version), flush=True)
    sc = claude_e2e.Scenario("one-turn", sb, claude, False, True)
    try:
        if sc.setup():
            sc.start_model()
            claude_e2e.one_turn(sc)
        runs = [(h["argv"][-1], h["stdin"]) for h in claude_e2e.read_jsonl(sc.hook_log)
                if h["argv"][-3:-1] == ["hook", "claude"]]
        return runs, sc.repo, sc.tmp, list(claude_e2e.failures)
    finally:
        sc.close()


def driver_runs(sb, client, script):
    """[(event, stdin text)] of one codex_e2e.py / gemini_e2e.py run (hooks logged), and (repo, scratch dir)."""
    art = tempfile.mkdtemp(prefix="switchboard-hook-fixtures-")
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, script), "--switchboard", sb, "--artifacts", art],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=200)
        print(p.stdout, end="", flush=True)
        failed = [] if p.returncode == 0 else ["%s exited %s: %s" % (script, p.returncode, p.stderr[-2000:])]
        runs = []
        for d in sorted(glob.glob(os.path.join(art, "*", "hooks", "*"))):
            with open(os.path.join(d, "args")) as f:
                args = f.read().split()
            with open(os.path.join(d, "stdin"), encoding="utf-8") as f:
                stdin = f.read()
            if args[:2] == ["hook", client]:
                runs.append((args[-1], stdin))
        cwd = next((json.loads(s).get("cwd") for _, s in runs if s.strip()), None)
        if not cwd:
            failed.append("%s: no hook run with a cwd" % script)
            return runs, "/nonexistent", "/nonexistent", failed
        return runs, cwd, os.path.dirname(cwd), failed
    finally:
        shutil.rmtree(art, ignore_errors=True)


def pick(runs, event):
    """The representative payload of `event` among the runs (see the module docstring), parsed."""
    payloads = []
    for ev, stdin in runs:
        if ev == event:
            try:
                payloads.append(json.loads(stdin))
            except ValueError:
                pass
    for p in payloads:
        if SWITCHBOARD_TOOL.match(str(p.get("tool_name", ""))) or p.get("stop_hook_active") is True:
            continue
        return p
    return payloads[0] if payloads else None


def placeholders(value, subs):
    if isinstance(value, str):
        for old, new in subs:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [placeholders(v, subs) for v in value]
    if isinstance(value, dict):
        return {placeholders(k, subs): placeholders(v, subs) for k, v in value.items()}
    return value


def substitutions(repo, scratch):
    subs = []
    for path, name in ((repo, "{{CWD}}"), (scratch, "{{TMP}}")):
        for form in {path, os.path.realpath(path)}:
            subs.append((form, name))
    for form in {repo, os.path.realpath(repo)}:
        subs.append((re.sub(r"[^A-Za-z0-9]", "-", form), "{{CWD_SLUG}}"))
    return subs


def smoke(sb, out_dir, names):
    """Each fixture through `switchboard hook` in a fresh repository: exit 0, nothing on stderr."""
    ok = True
    tmp = tempfile.mkdtemp(prefix="switchboard-hook-fixtures-check-")
    try:
        repo = os.path.join(tmp, "repo")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q", repo], check=True, capture_output=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
        for name in names:
            client, event = name[:-len(".json")].split("-", 1)
            with open(os.path.join(out_dir, name), encoding="utf-8") as f:
                text = f.read()
            text = text.replace("{{CWD}}", repo).replace("{{TMP}}", tmp).replace("{{CWD_SLUG}}", "-repo")
            json.loads(text)
            p = subprocess.run([sb, "hook", client, event], input=text, cwd=tmp, env=env, capture_output=True,
                               text=True, timeout=30)
            good = p.returncode == 0 and not p.stderr.strip()
            ok = ok and good
            print("%s  switchboard hook %s %s < %s (exit %s%s)" % (
                "PASS" if good else "FAIL", client, event, name, p.returncode,
                ", stderr: " + p.stderr.strip() if p.stderr.strip() else ""), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("SWITCHBOARD_BIN"), help="absolute path of switchboard")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "hooks"))
    ap.add_argument("--only", choices=sorted(EVENTS), action="append", help="record only this client (repeatable)")
    args = ap.parse_args()
    if not args.bin or not os.path.isabs(args.bin) or not os.access(args.bin, os.X_OK):
        sys.exit("record_hook_fixtures: --bin (or SWITCHBOARD_BIN) must be the absolute path of a switchboard binary")
    for v in [k for k in os.environ if k.startswith("SWITCHBOARD_")]:
        del os.environ[v]

    problems, written = [], []
    for client in EVENTS:
        if args.only and client not in args.only:
            continue
        print("\n-- %s" % client, flush=True)
        if client == "claude":
            runs, repo, scratch, failed = claude_runs(args.bin)
        else:
            runs, repo, scratch, failed = driver_runs(args.bin, client, "%s_e2e.py" % client)
        if failed:
            problems += ["%s: %s" % (client, f) for f in failed]
            continue
        subs = substitutions(repo, scratch)
        for event in EVENTS[client]:
            payload = pick(runs, event)
            if payload is None:
                problems.append("%s: no %s hook run recorded (saw %s)" % (client, event, sorted({e for e, _ in runs})))
                continue
            text = json.dumps(placeholders(payload, subs), indent=2, ensure_ascii=False) + "\n"
            left = [s for s in {repo, scratch, os.path.basename(scratch)} if s in text]
            if left:
                problems.append("%s %s: scratch path left over: %s" % (client, event, left))
                continue
            os.makedirs(args.out, exist_ok=True)
            name = "%s-%s.json" % (client, event)
            with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
                f.write(text)
            written.append(name)
            print("wrote %s (%s)" % (os.path.join(args.out, name), ", ".join(payload)), flush=True)

    print("\n-- smoke check", flush=True)
    if not smoke(args.bin, args.out, written):
        problems.append("a fixture did not pass through `switchboard hook` cleanly")
    for p in problems:
        print("FAIL  " + p, flush=True)
    print("%d fixture(s) written to %s; %s" % (len(written), args.out,
                                               "%d problem(s)" % len(problems) if problems else "no problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
