#!/usr/bin/env python3
"""End to end: the real Claude Code CLI, offline, with Switchboard's MCP server and hooks.

    python3 claude_e2e.py --bin /abs/path/to/switchboard [--claude PATH] [--claude-version V] [--keep]
                          [--trace-hooks] [--only one-turn|two-turns|idle-wake|mcp-list]

Each scenario makes its own scratch git repository, runs `switchboard install claude` in it (the hooks and
`.mcp.json` exactly as installed, `switchboard` found on PATH), and runs Claude Code there against
model_server.py (a scripted Anthropic API on 127.0.0.1). The scripted model, in the first turn:

  1. on the prompt, calls mcp__switchboard__session_start {"intent": "e2e"};
  2. on its result, runs `switchboard send --as bob --to <agent> MARKER-123` (another process, before it
     answers), then calls the built-in Read tool on a file of the repository, so a PostToolUse hook runs
     while that message is unheard. (Not a Switchboard tool: every Switchboard tool result ends with a
     `mail` line for news, which counts as telling the session, so the hook after it rightly says nothing);
  3. on the Read result, calls mcp__switchboard__whoami (its result must not repeat MARKER-123);
  4. on the whoami result, has bob send URGENT-456 (urgent) the same way, then ends its turn with text;
  5. on "Stop hook feedback", ends its turn with text again.

Scenario "one turn": `claude -p PROMPT --output-format json`. Checks:
  a) the session_start tool call was answered by Switchboard with a session id (ses_...);
  b) the request after Read carries MARKER-123 in the PostToolUse hook's system-reminder, and the whoami
     after it neither repeats it in its result nor gets it again from its hook (told once per session);
  c) the Stop hook held the stop once with URGENT-456, the model answered again and the run ended;
  d) `switchboard sessions --json` lists the agent's session (the one the hooks found, by b and c);
  e) nothing claude started is left running once it exits;
  n) the recipient state of MARKER-123 in the agent's own inbox (`switchboard inbox --as <agent> --json`, run
     by the model server): "delivered" right after bob sent it, "notified" in the request after Read (the
     PostToolUse hook told the agent); after the run still "notified" (nobody read it) while CONTROL-000, sent
     once claude exited, is "delivered" (so an inbox look from the command line tells nobody); "read" only
     after `switchboard inbox --as <agent> --mark-read`.

Scenario "two turns": `claude -p --input-format stream-json --output-format stream-json`, the same first turn,
then bob sends BETWEEN-789 and a second prompt follows. Checks:
  f) the second prompt's request carries BETWEEN-789 from the UserPromptSubmit hook;
  g) the second turn's stop is not held again for URGENT-456, which is still unread, although Claude Code
     reports no stop hook active then (Switchboard's own once-per-message rule, read from the hook trace:
     this scenario always wraps the hooks with a logger).

Scenario "idle-wake": streaming input as in "two turns" (so Claude Code runs the `asyncRewake` Wake hook in the
background, as an interactive session does), stdin kept open. The first turn calls session_start and ends
with text; once its result is out and the wake hook waits (its pid file beside the state database), bob sends
WAKE-321 from another process, and no user message follows. Checks:
  w0) the first turn ended and a wake hook waits for the session;
  w1) Claude Code sends a new model request carrying WAKE-321 ("Stop hook blocking error …") within 10 s of
      the send, with no new user input;
  w2) the model's answer to it ends that turn cleanly (a second result). Before answering, the model server
      has bob send WAKE2-654;
  w3) WAKE2-654, which came in during the woken turn after its last hook, wakes the idle session once
      more after that turn stops (one waiter per session: never two wakes at once);
  w4) WAKE3-987, sent once idle again, wakes it again (the re-armed hook) and that turn ends cleanly;
  w5) in the hook trace, exactly three Wake hooks exited 2 (WAKE-321, WAKE2-654, then WAKE3-987);
  and, once stdin closes, claude exits 0 after four results, leaving nothing running.

Scenario "mcp-list" (no model server): `claude mcp list` in the scratch repository, which exits 0 whatever it
finds, so each check reads the status on the `switchboard:` line. Claude Code keeps a project `.mcp.json`
server "pending approval" until it is approved; `switchboard install claude` writes the approval
(`"enabledMcpjsonServers": ["switchboard"]`) into the checked-in `.claude/settings.json`, which Claude Code
honours only in a trusted folder (`projects[<repo>].hasTrustDialogAccepted` in $CLAUDE_CONFIG_DIR/.claude.json).
  m1) stdio (`switchboard install claude`), folder not trusted: pending approval;
  m2) folder trusted, install's `enabledMcpjsonServers` the only approval: connected (`switchboard mcp`);
  m3) trusted but that entry taken out of .claude/settings.json: pending again (so it is install's entry that
      approves the server);
  m4) `switchboard token create --agent claude-e2e`, `switchboard serve --listen 127.0.0.1:0` (a free port, read
      from its first line), `switchboard install claude --http http://127.0.0.1:PORT/mcp`: .mcp.json has the
      http entry with `Authorization: Bearer ${SWITCHBOARD_TOKEN}`;
  m5) http, folder not trusted: pending approval;
  m6) http, trusted, SWITCHBOARD_TOKEN exported: connected, and `switchboard token list` shows the token used;
  m7) http with a wrong token: failed to connect (so m6 rests on the token);
  m8) `switchboard serve` stopped by its PID exits 0; nothing left running.

Prints one line per check; exits 1 if any fails, printing the relevant request excerpt and keeping the
scratch directory. Every process it starts is stopped by PID (also on SIGTERM).
"""

import argparse
import glob
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = "E2E-PROMPT: start a switchboard session, check who you are, then stop."
SECOND_PROMPT = "E2E-SECOND: anything new?"
SESSION_START_ID = "toolu_e2e_session_start_01"
READ_ID = "toolu_e2e_read_01"
WHOAMI_ID = "toolu_e2e_whoami_01"
NOTES = "NOTES.md"
NOTES_TEXT = "NOTES-TEXT: a file for the scripted model to read.\n"
MARKER = "MARKER-123"
CONTROL = "CONTROL-000"
URGENT = "URGENT-456"
BETWEEN = "BETWEEN-789"
DONE_TEXT = "DONE-TEXT: first end of turn"
FINAL_TEXT = "FINAL-TEXT: read the urgent mail, ending now"
SECOND_TEXT = "SECOND-TEXT: nothing more to do"
IDLE_PROMPT = "E2E-IDLE: start a switchboard session, then wait for mail."
IDLE_SESSION_START_ID = "toolu_e2e_idle_session_start_01"
IDLE_TEXT = "IDLE-TEXT: session started, waiting"
WAKE = "WAKE-321"
WAKE2 = "WAKE2-654"
WAKE3 = "WAKE3-987"
WOKEN_TEXT = "WOKEN-TEXT: read the mail, idle again"
WOKEN2_TEXT = "WOKEN-BY-SECOND: read the message that came in during the last turn"
WOKEN_AGAIN_TEXT = "WOKEN-AGAIN-TEXT: read that one too"
WAKE_WITHIN = 10  # seconds from a send to the request it wakes
CLAUDE_TIMEOUT = 45  # seconds for one claude run (about 1-2 s when things work)
AGENT_RE = r'"agent"\s*:\s*"([A-Za-z0-9_-]+)"'

failures = []

# Wraps a hook command (its arguments): logs what it got and what it said as one JSON line, passes both on.
TRACE_HOOK = r"""#!/bin/sh
log=%(log)s
in=$(mktemp) out=$(mktemp) err=$(mktemp)
cat > "$in"
"$@" < "$in" > "$out" 2> "$err"
rc=$?
# One write(2) per record on an O_APPEND descriptor: hooks that run at once never
# interleave their lines (a buffered print of a long record could be split).
python3 -c 'import json, os, sys
r = lambda p: open(p, encoding="utf-8", errors="replace").read()
line = json.dumps({"argv": sys.argv[6:], "rc": int(sys.argv[2]), "stdin": r(sys.argv[3]), "stdout": r(sys.argv[4]),
                   "stderr": r(sys.argv[5])}) + "\n"
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, line.encode())' "$log" "$rc" "$in" "$out" "$err" "$@"
cat "$out"; cat "$err" >&2
rm -f "$in" "$out" "$err"
exit $rc
"""


def check(name, ok, detail=""):
    print("%s  %s" % ("PASS" if ok else "FAIL", name), flush=True)
    if not ok:
        failures.append(name)
        if detail:
            for line in detail.rstrip("\n").split("\n"):
                print("      " + line, flush=True)
    return ok


def show(text, limit=400):
    print("      " + excerpt(text.strip(), limit).replace("\n", "\n      "), flush=True)


def excerpt(value, limit=1500):
    text = value if isinstance(value, str) else json.dumps(value, indent=1)
    return text if len(text) <= limit else text[:limit] + "\n… (%d more characters)" % (len(text) - limit)


def find_claude(explicit):
    candidates = [explicit] if explicit else [
        os.path.join(HERE, "node_modules", ".bin", "claude"),
        os.path.join(HERE, "node_modules", "@anthropic-ai", "claude-code", "bin", "claude.exe"),
    ] + sorted(glob.glob(os.path.join(HERE, "node_modules", "@anthropic-ai", "claude-code-*", "claude")))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            # Without its postinstall, the package's bin/claude.exe is a placeholder that fails.
            try:
                v = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30,
                                   stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if v.returncode == 0 and "Claude Code" in v.stdout:
                return path, v.stdout.strip()
    sys.exit("claude_e2e: no working Claude Code binary among %s (run npm ci in %s)" % (candidates, HERE))


def stop_pid(pid, pgroup=False):
    """SIGTERM, then SIGKILL after 5 s, one process (or the process group it leads), by PID."""
    kill = os.killpg if pgroup else os.kill
    try:
        kill(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return
    for _ in range(50):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child: reaped
                return
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def processes_under(path):
    """(PID, command) of processes whose working directory is inside path: all started by this test."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % entry)
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        if cwd == path or cwd.startswith(path + os.sep):
            found.append((int(entry), cmd))
    return found


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def last_turn(body):
    """The messages after the last assistant message: what this request adds (tool results, hook text)."""
    messages = body.get("messages") or []
    start = 0
    for i, m in enumerate(messages):
        if isinstance(m, dict) and m.get("role") == "assistant":
            start = i + 1
    return messages[start:]


def blocks_of(messages):
    """(kind, text) for each content block of the given messages, tool_result text flattened."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            out.append(("%s-text" % m.get("role"), content))
            continue
        for block in content or []:
            if block.get("type") == "tool_result":
                c = block.get("content")
                text = c if isinstance(c, str) else "\n".join(
                    b.get("text", "") for b in (c or []) if isinstance(b, dict))
                out.append(("tool_result:%s%s" % (block.get("tool_use_id"), ":error" if block.get("is_error") else ""),
                            text))
            elif block.get("type") == "text":
                out.append(("%s-text" % m.get("role"), block.get("text", "")))
            else:
                out.append((block.get("type", "?"), json.dumps(block)))
    return out


class Scenario:
    """A scratch repository with `switchboard install claude`, a Claude config dir, and a model server."""

    def __init__(self, name, sb, claude, keep, trace_hooks):
        self.name, self.sb, self.claude, self.keep = name, sb, claude, keep
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="switchboard-agents-%s-" % name))
        self.repo = os.path.join(self.tmp, "repo")
        self.config_dir = os.path.join(self.tmp, "home", ".claude")
        self.log_path = os.path.join(self.tmp, "requests.jsonl")
        self.hook_log = os.path.join(self.tmp, "hooks.jsonl") if trace_hooks else None
        self.agent_file = os.path.join(self.tmp, "agent.name")  # the first turn's agent, for the model server
        self.server = self.proc = None
        self.leftovers = []
        sbdir = os.path.join(self.tmp, "sbpath")  # a PATH entry holding only `switchboard`
        for d in (self.repo, self.config_dir, sbdir):
            os.makedirs(d)
        os.symlink(sb, os.path.join(sbdir, "switchboard"))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SWITCHBOARD_", "ANTHROPIC_", "CLAUDE_", "CLAUDECODE", "GIT_", "XDG_"))}
        env["PATH"] = sbdir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["HOME"] = os.path.join(self.tmp, "home")
        self.env = env

    def run(self, argv):
        return subprocess.run(argv, cwd=self.repo, env=self.env, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)

    def setup(self):
        for argv in (["git", "init", "-q", "-b", "main"], ["git", "config", "user.name", "Ada Lovelace"],
                     ["git", "config", "user.email", "ada@example.invalid"], ["git", "add", NOTES],
                     ["git", "commit", "-q", "-m", "scratch repository for the agent tests"]):
            if argv[1] == "add":
                with open(os.path.join(self.repo, NOTES), "w") as f:
                    f.write(NOTES_TEXT)
            p = self.run(argv)
            if p.returncode:
                sys.exit("claude_e2e: %s failed: %s" % (" ".join(argv), p.stderr))
        p = self.run(["switchboard", "install", "claude"])
        settings_path = os.path.join(self.repo, ".claude", "settings.json")
        ok = p.returncode == 0 and os.path.exists(os.path.join(self.repo, ".mcp.json")) and os.path.exists(
            settings_path)
        settings = json.load(open(settings_path)) if os.path.exists(settings_path) else {}
        hooks = settings.get("hooks", {})
        ok = ok and all(e in hooks for e in ("SessionStart", "PostToolUse", "UserPromptSubmit", "Stop"))
        if not check("switchboard install claude wrote .mcp.json and the four hooks", ok,
                     "exit %s\n%s%s\nsettings: %s" % (p.returncode, p.stdout, p.stderr, excerpt(settings))):
            return False
        if self.hook_log:
            wrapper = os.path.join(self.tmp, "trace-hook.sh")
            with open(wrapper, "w") as f:
                f.write(TRACE_HOOK % {"log": self.hook_log})
            for groups in hooks.values():
                for group in groups:
                    for h in group.get("hooks", []):
                        h["command"] = "sh %s %s" % (wrapper, h["command"])
            with open(settings_path, "w") as f:
                json.dump(settings, f, indent=2)
        # Claude Code's own state: onboarding done, the key approved, the folder trusted.
        with open(os.path.join(self.config_dir, ".claude.json"), "w") as f:
            json.dump({"hasCompletedOnboarding": True,
                       "customApiKeyResponses": {"approved": ["dummy"], "rejected": []},
                       "projects": {self.repo: {"hasTrustDialogAccepted": True}}}, f)
        return True

    def send_argv(self, priority, text, to="{agent}"):
        argv = [self.sb, "send", "--as", "bob", "--to", to]
        if priority:
            argv += ["--priority", priority]
        return argv + [text]

    def idle_steps(self):
        """The idle-wake scenario's steps; first in the script, since a rewake request also says
        "Stop hook feedback". The woken step sends WAKE2 (to the agent the test wrote to agent.txt)
        before it answers, so that it arrives while the woken turn is still running."""
        send2 = ["sh", "-c", 'exec "$0" send --as bob --to "$(cat "$1")" "$2"', self.sb,
                 os.path.join(self.tmp, "agent.txt"), WAKE2 + ": sent while you answer the first"]
        return [
            {"name": "woken-again", "when": WAKE3, "reply": {"text": WOKEN_AGAIN_TEXT}},
            {"name": "woken-by-second", "when": WAKE2, "reply": {"text": WOKEN2_TEXT}},
            {"name": "woken", "when": WAKE, "run": [send2], "reply": {"text": WOKEN_TEXT}},
            {"name": "idle-started", "when": IDLE_SESSION_START_ID, "reply": {"text": IDLE_TEXT}},
            {"name": "idle-prompt", "when": "E2E-IDLE",
             "reply": {"tool_use": {"id": IDLE_SESSION_START_ID, "name": "mcp__switchboard__session_start",
                                    "input": {"intent": "e2e idle"}}}},
        ]

    def start_model(self, steps=None):
        """Starts model_server.py with `steps` (default: the scripted e2e model below)."""
        script = {
            "cwd": self.repo,
            "steps": steps if steps is not None else self.idle_steps() + [
                {"name": "after-stop-feedback", "when": "Stop hook feedback", "reply": {"text": FINAL_TEXT}},
                {"name": "second-prompt", "when": "E2E-SECOND", "reply": {"text": SECOND_TEXT}},
                {"name": "after-whoami", "when": WHOAMI_ID, "capture": {"agent": AGENT_RE},
                 "run": [self.send_argv("urgent", URGENT + ": drop everything and read this")],
                 "reply": {"text": DONE_TEXT}},
                # After the send, the agent's inbox as it is then (MARKER delivered, not yet told), and the
                # agent's name for the next step, which has no agent name to capture.
                {"name": "after-session-start", "when": SESSION_START_ID, "capture": {"agent": AGENT_RE},
                 "run": [self.send_argv(None, MARKER + ": hello from bob"),
                         [self.sb, "inbox", "--as", "{agent}", "--json"],
                         ["sh", "-c", 'printf %s "$0" > "$1"', "{agent}", self.agent_file]],
                 "reply": {"tool_use": {"id": READ_ID, "name": "Read",
                                        "input": {"file_path": os.path.join(self.repo, NOTES)}}}},
                # The agent's inbox once the PostToolUse hook after Read has told it of MARKER.
                {"name": "after-read", "when": READ_ID,
                 "run": [["sh", "-c", 'exec "$0" inbox --as "$(cat "$1")" --json', self.sb, self.agent_file]],
                 "reply": {"tool_use": {"id": WHOAMI_ID, "name": "mcp__switchboard__whoami", "input": {}}}},
                {"name": "prompt", "when": "E2E-PROMPT",
                 "reply": {"tool_use": {"id": SESSION_START_ID, "name": "mcp__switchboard__session_start",
                                        "input": {"intent": "e2e"}}}},
            ],
            "default": {"text": "UNSCRIPTED"},
        }
        script_path = os.path.join(self.tmp, "script.json")
        with open(script_path, "w") as f:
            json.dump(script, f, indent=1)
        err_path = os.path.join(self.tmp, "model_server.stderr")
        with open(err_path, "w") as err:
            self.server = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "model_server.py"), "--script", script_path, "--log",
                 self.log_path], cwd=self.tmp, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=err, text=True)
        line = self.server.stdout.readline()  # printed once it listens, or EOF if it died
        m = re.match(r"model_server: listening on (http://127\.0\.0\.1:\d+)$", line.strip())
        if not m:
            time.sleep(0.2)
            sys.exit("claude_e2e: the model server did not start: %r %s" % (line, open(err_path).read()))
        print("model server: %s (pid %d)" % (m.group(1), self.server.pid), flush=True)
        self.claude_env = dict(self.env, CLAUDE_CONFIG_DIR=self.config_dir, ANTHROPIC_BASE_URL=m.group(1),
                               ANTHROPIC_API_KEY="dummy", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
                               DISABLE_AUTOUPDATER="1")

    def start_claude(self, extra, stdin):
        argv = [self.claude, "-p"] + extra + ["--allowedTools", "mcp__switchboard,Read"]
        self.proc = subprocess.Popen(argv, cwd=self.repo, env=self.claude_env, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        return self.proc

    def after_claude(self):
        """Stops (and records) whatever claude left running after a grace period: its MCP server,
        hooks (the background wake hook ends by itself once the agent's server is gone)."""
        deadline = time.time() + 3
        while True:
            time.sleep(0.25)
            self.leftovers = [(pid, cmd) for pid, cmd in processes_under(self.tmp)
                              if self.server is None or pid != self.server.pid]
            if not self.leftovers or time.time() > deadline:
                break
        for pid, _ in self.leftovers:
            stop_pid(pid)

    def requests(self):
        return [e for e in read_jsonl(self.log_path) if e["step"] != "not-messages"]

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            stop_pid(self.proc.pid, pgroup=True)
        if self.server is not None:
            stop_pid(self.server.pid)
            self.server.wait()
        for pid, _ in processes_under(self.tmp):
            stop_pid(pid)
        if self.keep:
            print("kept: %s (requests: %s%s)" % (self.tmp, self.log_path,
                                                 ", hooks: %s" % self.hook_log if self.hook_log else ""))
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def check_first_turn(sc, posts):
    """Checks a), b) and c) on the first turn's requests; returns (session id, agent)."""
    first = posts[0]["body"] if posts else {}
    offered = [t.get("name") for t in first.get("tools") or [] if isinstance(t, dict)]
    check("the first model request offers mcp__switchboard__session_start (%d switchboard tools)"
          % sum(1 for n in offered if str(n).startswith("mcp__switchboard__")),
          "mcp__switchboard__session_start" in offered, "tools offered: %s" % excerpt(offered))

    # a) session_start answered by switchboard
    session_id = agent = None
    req = next((e for e in posts if e["step"] == "after-session-start"), None)
    result_text = ""
    for kind, text in blocks_of(last_turn(req["body"])) if req else []:
        if kind.startswith("tool_result:" + SESSION_START_ID):
            result_text = text
            if not kind.endswith(":error"):
                m = re.search(r'"id"\s*:\s*"(ses_[0-9A-Za-z]+)"', text) or re.search(r"(ses_[0-9A-Za-z]+)", text)
                session_id = m and m.group(1)
                m = re.search(AGENT_RE, text)
                agent = m and m.group(1)
    check("a) session_start tool call answered by switchboard with a session id (%s, agent %s)"
          % (session_id, agent), bool(session_id and agent),
          "session_start tool_result: %s\nrequest: %s" % (
              excerpt(result_text), excerpt(req["body"]["messages"][-2:] if req else "no such request")))

    # b) MARKER in the PostToolUse reminder, once
    runs = req["runs"] if req else []
    check("b0) `switchboard send --as bob --to %s %s` from another process, before the next tool call"
          % (agent, MARKER), bool(runs) and all(r["rc"] == 0 for r in runs), excerpt(runs))
    req = next((e for e in posts if e["step"] == "after-read"), None)
    blocks = blocks_of(last_turn(req["body"])) if req else []
    read_result = [(k, t) for k, t in blocks if k.startswith("tool_result:" + READ_ID)]
    check("b1) the built-in Read tool ran (its result holds the file)",
          bool(read_result) and not read_result[0][0].endswith(":error") and "NOTES-TEXT" in read_result[0][1],
          excerpt(blocks, 3000) if req else "no request after the Read call")
    reminder = next((t for k, t in blocks if not k.startswith("tool_result")
                     and "PostToolUse:Read hook additional context" in t), None)
    if check("b) the request after Read carries the PostToolUse hook's context with %s" % MARKER,
             bool(reminder and MARKER in reminder), "blocks of the last turn: %s" % excerpt(blocks, 3000)):
        show(reminder)
    req = next((e for e in posts if e["step"] == "after-whoami"), None)
    blocks = blocks_of(last_turn(req["body"])) if req else []
    check("b2) told once per session: whoami's result and its PostToolUse hook do not repeat %s" % MARKER,
          bool(blocks) and not any(MARKER in t for k, t in blocks),
          "blocks of the last turn: %s" % excerpt(blocks, 3000) if req else "no request after the whoami call")

    # c) the Stop hook held once
    runs = req["runs"] if req else []
    check("c0) urgent `switchboard send --as bob --priority urgent %s` before the agent ends its turn" % URGENT,
          bool(runs) and all(r["rc"] == 0 for r in runs), excerpt(runs))
    held = [e for e in posts if e["step"] == "after-stop-feedback"]
    feedback = next((t for k, t in blocks_of(last_turn(held[0]["body"])) if "Stop hook feedback" in t), "") \
        if held else ""
    if check("c) the Stop hook held the stop with %s in its feedback" % URGENT, bool(held) and URGENT in feedback,
             "feedback: %s\nsteps seen: %s" % (excerpt(feedback), [e["step"] for e in posts])):
        show(feedback)
    return session_id, agent, held


def check_session_listed(sc, session_id, agent):
    p = sc.run(["switchboard", "sessions", "--json"])
    try:
        sessions = json.loads(p.stdout)
    except ValueError:
        sessions = None
    items = sessions if isinstance(sessions, list) else (sessions or {}).get("sessions", [])
    mine = [s for s in items if isinstance(s, dict) and s.get("id") == session_id]
    check("d) `switchboard sessions --json` lists %s of %s" % (session_id, agent),
          bool(mine) and mine[0].get("agent") == agent, "exit %s\n%s%s" % (p.returncode, excerpt(p.stdout), p.stderr))


def inbox_states(text):
    """{body prefix (up to the first colon): state} from `switchboard inbox --json` output, or None."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    items = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    return {str(m.get("body", "")).split(":")[0]: m.get("state") for m in items if isinstance(m, dict)}


def check_notified(sc, posts, agent):
    """n) MARKER's recipient state: delivered, then notified by the PostToolUse hook, read only when marked."""
    def run_of(step, verb):
        req = next((e for e in posts if e["step"] == step), None)
        return next((r for r in (req["runs"] if req else []) if verb in " ".join(r["argv"])), None)

    sent, told = run_of("after-session-start", " inbox "), run_of("after-read", " inbox ")
    before = inbox_states(sent["stdout"]) if sent else None
    after = inbox_states(told["stdout"]) if told else None
    check("n) %s in the inbox of %s: %s right after the send, %s once the PostToolUse hook told the agent"
          % (MARKER, agent, (before or {}).get(MARKER), (after or {}).get(MARKER)),
          bool(before and after) and before.get(MARKER) == "delivered" and after.get(MARKER) == "notified",
          "inbox after the send: %s\ninbox after Read: %s" % (excerpt(sent or "not run"), excerpt(told or "not run")))

    # After the run: nobody read it. A message sent now (never told) shows what an untold one looks like.
    p = sc.run(sc.send_argv(None, CONTROL + ": sent after claude exited", to=agent or "nobody"))
    look = sc.run([sc.sb, "inbox", "--as", agent or "nobody", "--json"])
    now = inbox_states(look.stdout) or {}
    check("n2) after the run: %s still %s (nobody read it), %s (sent after claude exited) %s"
          % (MARKER, now.get(MARKER), CONTROL, now.get(CONTROL)),
          p.returncode == 0 and now.get(MARKER) == "notified" and now.get(CONTROL) == "delivered",
          "send: exit %s %s%s\ninbox: exit %s %s%s" % (p.returncode, p.stdout, p.stderr, look.returncode,
                                                        excerpt(look.stdout), look.stderr))
    mark = sc.run([sc.sb, "inbox", "--as", agent or "nobody", "--mark-read"])
    look = sc.run([sc.sb, "inbox", "--as", agent or "nobody", "--json"])
    now = inbox_states(look.stdout) or {}
    check("n3) `switchboard inbox --as %s --mark-read` makes %s read (%s)" % (agent, MARKER, now.get(MARKER)),
          mark.returncode == 0 and now.get(MARKER) == "read" and now.get(CONTROL) == "read",
          "mark-read: exit %s %s%s\ninbox: %s" % (mark.returncode, mark.stdout, mark.stderr, excerpt(look.stdout)))


def check_unscripted(posts):
    check("no unscripted model request", all(e["step"] != "default" for e in posts),
          "\n".join(excerpt(e["body"].get("messages", [])[-1:], 600) for e in posts if e["step"] == "default"))


def check_leftovers(sc):
    check("e) nothing left running after claude exited", not sc.leftovers,
          "stopped: %s" % "\n".join("%d %s" % pc for pc in sc.leftovers))


def one_turn(sc):
    """claude -p PROMPT --output-format json."""
    proc = sc.start_claude([PROMPT, "--output-format", "json"], subprocess.DEVNULL)
    t = time.time()
    try:
        out, err = proc.communicate(timeout=CLAUDE_TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        stop_pid(proc.pid, pgroup=True)
        out, err = proc.communicate()
        timed_out = True
    print("claude -p: exit %s in %.1fs%s" % (proc.returncode, time.time() - t, " (TIMED OUT)" if timed_out else ""),
          flush=True)
    sc.after_claude()
    try:
        result = json.loads(out)
    except ValueError:
        result = None
    check("claude -p exited 0 with a JSON result, not an error",
          not timed_out and proc.returncode == 0 and isinstance(result, dict) and not result.get("is_error"),
          "stdout: %s\nstderr: %s" % (excerpt(out), excerpt(err)))
    posts = sc.requests()
    print("model requests: %d (%s)" % (len(posts), ", ".join(e["step"] for e in posts)), flush=True)
    session_id, agent, held = check_first_turn(sc, posts)
    scripted = [e["step"] for e in posts if e["step"] != "default"]
    check("c2) held once: after the model answered again the run ended (no second hold)",
          len(held) == 1 and scripted[-1:] == ["after-stop-feedback"] and isinstance(result, dict)
          and result.get("result") == FINAL_TEXT,
          "holds: %d; scripted steps in order: %s; result: %s" % (
              len(held), scripted, excerpt(result if result is not None else out, 600)))
    check_unscripted(posts)
    check_session_listed(sc, session_id, agent)
    check_leftovers(sc)
    check_notified(sc, posts, agent)


def two_turns(sc):
    """Two prompts over stream-json in one claude process: the second after bob sends BETWEEN-789."""
    proc = sc.start_claude(["--input-format", "stream-json", "--output-format", "stream-json", "--verbose"],
                           subprocess.PIPE)
    lines = queue.Queue()

    def pump(stream, sink):
        for line in stream:
            sink.put(line)
        sink.put(None)

    threading.Thread(target=pump, args=(proc.stdout, lines), daemon=True).start()
    errs = []
    threading.Thread(target=lambda: errs.extend(proc.stderr), daemon=True).start()
    events, results = [], []

    def user(text):
        proc.stdin.write(json.dumps({"type": "user", "message": {"role": "user", "content": text}}) + "\n")
        proc.stdin.flush()

    def until_result(deadline):
        while time.time() < deadline:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                return False
            try:
                event = json.loads(line)
            except ValueError:
                continue
            events.append(event)
            if event.get("type") == "result":
                results.append(event)
                return True
        return False

    t = time.time()
    deadline = t + CLAUDE_TIMEOUT
    user(PROMPT)
    first_done = until_result(deadline)
    agent = None
    for e in sc.requests():
        m = re.search(AGENT_RE, json.dumps(last_turn(e["body"])).replace('\\"', '"'))
        if e["step"] == "after-session-start" and m:
            agent = m.group(1)
    p = sc.run(sc.send_argv(None, BETWEEN + ": between your turns", to=agent or "nobody"))
    check("f0) first turn ended (%s); `switchboard send --as bob --to %s %s` between the turns"
          % (results[0].get("subtype") if results else "no result", agent, BETWEEN),
          first_done and p.returncode == 0, "send: exit %s %s%s\nstderr: %s" % (
              p.returncode, p.stdout, p.stderr, excerpt("".join(errs))))
    user(SECOND_PROMPT)
    second_done = until_result(deadline)
    proc.stdin.close()
    try:
        proc.wait(timeout=max(1, deadline - time.time()))
        timed_out = False
    except subprocess.TimeoutExpired:
        stop_pid(proc.pid, pgroup=True)
        timed_out = True
    print("claude -p (stream-json): exit %s in %.1fs%s" % (
        proc.returncode, time.time() - t, " (TIMED OUT)" if timed_out else ""), flush=True)
    sc.after_claude()
    check("claude exited 0 after two results, neither an error",
          second_done and not timed_out and proc.returncode == 0 and len(results) == 2
          and not any(r.get("is_error") for r in results),
          "results: %s\nstderr: %s" % (excerpt(results), excerpt("".join(errs))))

    posts = sc.requests()
    print("model requests: %d (%s)" % (len(posts), ", ".join(e["step"] for e in posts)), flush=True)
    session_id, agent, held = check_first_turn(sc, posts)

    # f) UserPromptSubmit
    req = next((e for e in posts if e["step"] == "second-prompt"), None)
    blocks = blocks_of(last_turn(req["body"])) if req else []
    context = next((t for k, t in blocks if BETWEEN in t and "E2E-SECOND" not in t), None)
    if check("f) the second prompt's request carries %s from the UserPromptSubmit hook" % BETWEEN,
             bool(context) and "UserPromptSubmit" in context,
             "blocks of the last turn: %s" % excerpt(blocks, 3000) if req else "no request for the second prompt"):
        show(context)

    # g) the second turn's stop is not held again
    hooks = read_jsonl(sc.hook_log)
    stops = []
    for h in hooks:
        if h["argv"][-1:] == ["Stop"]:
            try:
                stops.append((json.loads(h["stdin"]), h["stdout"].strip()))
            except ValueError:
                stops.append(({}, h["stdout"].strip()))
    second = [s for s in stops if s[0].get("last_assistant_message") == SECOND_TEXT]
    inbox = sc.run([sc.sb, "inbox", "--as", agent or "nobody"])
    scripted = [e["step"] for e in posts if e["step"] != "default"]
    check("g) the second turn's stop (stop_hook_active false) is not held again for %s, still unread" % URGENT,
          len(held) == 1 and scripted[-1:] == ["second-prompt"] and len(second) == 1
          and second[0][0].get("stop_hook_active") is False and second[0][1] == ""
          and URGENT in inbox.stdout and len(results) == 2 and results[1].get("result") == SECOND_TEXT,
          "holds: %d; scripted steps: %s\nStop hook runs (input, output): %s\ninbox of %s: %s%s" % (
              len(held), scripted, excerpt(stops, 3000), agent, inbox.stdout, inbox.stderr))
    check_unscripted(posts)
    check_leftovers(sc)


class Stream:
    """A claude -p --input-format stream-json session: user messages in, stream-json events out."""

    def __init__(self, sc):
        self.proc = sc.start_claude(["--input-format", "stream-json", "--output-format", "stream-json",
                                     "--verbose"], subprocess.PIPE)
        self.lines = queue.Queue()
        self.errs = []
        self.events, self.results = [], []
        self.result_times = []

        def pump(stream, sink):
            for line in stream:
                sink.put(line)
            sink.put(None)

        threading.Thread(target=pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=lambda: self.errs.extend(self.proc.stderr), daemon=True).start()

    def user(self, text):
        self.proc.stdin.write(json.dumps({"type": "user", "message": {"role": "user", "content": text}}) + "\n")
        self.proc.stdin.flush()

    def until_result(self, deadline):
        """Reads events until the next `result` (True) or the deadline or the end of output (False)."""
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                return False
            try:
                event = json.loads(line)
            except ValueError:
                continue
            self.events.append(event)
            if event.get("type") == "result":
                self.results.append(event)
                self.result_times.append(time.time())
                return True
        return False

    def finish(self, deadline):
        """Closes stdin and waits for claude to exit; returns whether it timed out."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=max(1, deadline - time.time()))
            return False
        except subprocess.TimeoutExpired:
            stop_pid(self.proc.pid, pgroup=True)
            return True


def wake_waiters(sc):
    """Session ids with a waiting wake hook (its pid file beside the state database)."""
    return [os.path.basename(p)[len("wake-"):-len(".pid")]
            for p in glob.glob(os.path.join(sc.repo, ".git", "switchboard", "wake-*.pid"))]


def wait_for(predicate, timeout, step=0.02):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() >= deadline:
            return value
        time.sleep(step)


def idle_wake(sc):
    """Streaming input, so the asyncRewake hook runs in the background as in an interactive session: one
    turn, then mail from another process wakes the idle session with no new user input."""
    s = Stream(sc)
    t = time.time()
    deadline = t + CLAUDE_TIMEOUT
    s.user(IDLE_PROMPT)
    first_done = s.until_result(deadline)
    session_id = agent = None
    for e in sc.requests():
        if e["step"] == "idle-started":
            text = json.dumps(last_turn(e["body"])).replace('\\"', '"')
            m = re.search(AGENT_RE, text)
            agent = m and m.group(1)
            m = re.search(r"(ses_[0-9A-Za-z]+)", text)
            session_id = m and m.group(1)
    with open(os.path.join(sc.tmp, "agent.txt"), "w") as f:
        f.write(agent or "nobody")
    # The session is idle once its result is out; the wake hook Claude Code started at the stop takes the
    # session's slot (its pid file) and then opens the change feed: give it that moment.
    armed = wait_for(lambda: session_id in wake_waiters(sc), 5)
    time.sleep(0.2)
    check("w0) first turn ended (%s: %s) with session %s of %s; a wake hook waits for it"
          % (s.results[0].get("subtype") if s.results else "no result",
             s.results[0].get("result") if s.results else "", session_id, agent),
          first_done and bool(agent) and s.results[0].get("result") == IDLE_TEXT and armed,
          "results: %s\nwaiters: %s\nstderr: %s" % (excerpt(s.results), wake_waiters(sc), excerpt("".join(s.errs))))

    t_send = time.time()
    p = sc.run(sc.send_argv(None, WAKE + ": wake up", to=agent or "nobody"))
    t_sent = time.time()
    woken_done = s.until_result(t_sent + WAKE_WITHIN + 5)
    print("send %s: exit %s, %.0f ms" % (WAKE, p.returncode, 1000 * (t_sent - t_send)), flush=True)
    posts = sc.requests()
    woken = [e for e in posts if e["step"] == "woken"]
    latency = woken[0]["arrived"] - t_send if woken else None
    blocks = blocks_of(last_turn(woken[0]["body"])) if woken else []
    told = next((t for k, t in blocks if WAKE in t), "")
    typed = [t for e in woken[:1] for k, t in blocks_of(e["body"].get("messages") or [])
             if k == "user-text" and t.startswith("E2E-")]
    if check("w1) idle, Claude Code sent a new request carrying %s from the wake hook %s after the send "
             "(within %d s), with no new user input" % (WAKE, "%.2f s" % latency if woken else "never", WAKE_WITHIN),
             p.returncode == 0 and len(woken) == 1 and latency <= WAKE_WITHIN and "Stop hook blocking error" in told
             and typed == [IDLE_PROMPT],
             "send: exit %s %s%s\nsteps: %s\nwoken request, last turn: %s\nuser prompts in it: %s" % (
                 p.returncode, p.stdout, p.stderr, [e["step"] for e in posts], excerpt(blocks, 3000), typed)):
        show(told)
    runs = woken[0]["runs"] if woken else []
    check("w2) the model's answer ended the woken turn cleanly (result %r); %s was sent before that answer"
          % (s.results[1].get("result") if len(s.results) > 1 else None, WAKE2),
          woken_done and len(s.results) == 2 and s.results[1].get("result") == WOKEN_TEXT
          and not s.results[1].get("is_error") and bool(runs) and all(r["rc"] == 0 for r in runs),
          "results: %s\nsend of %s: %s" % (excerpt(s.results), WAKE2, excerpt(runs)))

    # WAKE2 came in during the woken turn, after its last hook: once that turn stops, the re-armed waiter
    # wakes the idle session for it, once (one waiter per session).
    second_done = s.until_result(time.time() + WAKE_WITHIN + 5)
    extra = s.until_result(time.time() + 2)
    posts = sc.requests()
    second = [e for e in posts if e["step"] == "woken-by-second"]
    wakes = [e for e in posts if "Stop hook blocking error" in json.dumps(last_turn(e["body"]))]
    blocks = blocks_of(last_turn(second[0]["body"])) if second else []
    told = next((t for k, t in blocks if WAKE2 in t), "")
    if check("w3) %s, sent during the woken turn after its last hook, woke the idle session once more after "
             "that turn (two wake requests so far, that turn ended cleanly, nothing in the 2 s after)" % WAKE2,
             second_done and len(second) == 1 and len(wakes) == 2 and not extra and len(s.results) == 3
             and s.results[2].get("result") == WOKEN2_TEXT,
             "steps: %s\nresults: %s" % ([e["step"] for e in posts], excerpt(s.results))):
        show(told)

    # Idle again: the re-armed waiter wakes it for the next mail.
    rearmed = wait_for(lambda: session_id in wake_waiters(sc), 5)
    time.sleep(0.2)
    t3 = time.time()
    p = sc.run(sc.send_argv(None, WAKE3 + ": and another", to=agent or "nobody"))
    again_done = s.until_result(time.time() + WAKE_WITHIN + 5)
    posts = sc.requests()
    again = [e for e in posts if e["step"] == "woken-again"]
    blocks = blocks_of(last_turn(again[0]["body"])) if again else []
    told = next((t for k, t in blocks if WAKE3 in t), "")
    if check("w4) idle again, the re-armed wake hook (armed: %s) woke it for %s %s after the send; that turn "
             "ended cleanly" % (bool(rearmed), WAKE3, "%.2f s" % (again[0]["arrived"] - t3) if again else "never"),
             p.returncode == 0 and rearmed and len(again) == 1 and again_done and len(s.results) == 4
             and s.results[3].get("result") == WOKEN_AGAIN_TEXT,
             "send: exit %s %s%s\nsteps: %s\nresults: %s" % (
                 p.returncode, p.stdout, p.stderr, [e["step"] for e in posts], excerpt(s.results))):
        show(told)

    timed_out = s.finish(deadline)
    print("claude -p (stream-json): exit %s in %.1fs%s" % (
        s.proc.returncode, time.time() - t, " (TIMED OUT)" if timed_out else ""), flush=True)
    sc.after_claude()
    check("claude exited 0 once its input closed, after four results, none an error",
          not timed_out and s.proc.returncode == 0 and len(s.results) == 4
          and not any(r.get("is_error") for r in s.results),
          "results: %s\nstderr: %s" % (excerpt(s.results), excerpt("".join(s.errs))))
    hooks = read_jsonl(sc.hook_log)
    woke = [h for h in hooks if h["argv"][-1:] == ["Wake"] and h["rc"] == 2]
    check("w5) hook trace: three Wake hooks exited 2 (for %s, %s, then %s), no other Wake hook exited non-zero"
          % (WAKE, WAKE2, WAKE3),
          len(woke) == 3 and WAKE in woke[0]["stderr"] and WAKE2 in woke[1]["stderr"]
          and WAKE3 in woke[2]["stderr"]
          and all(h["rc"] in (0, 2) for h in hooks if h["argv"][-1:] == ["Wake"]),
          excerpt([(h["argv"][-1], h["rc"], h["stderr"]) for h in hooks], 3000))
    check_unscripted(sc.requests())
    check_leftovers(sc)


def write_claude_json(sc, trusted):
    """Claude Code's own state: onboarding done, the key approved, the folder trusted or not (no approvals)."""
    state = {"hasCompletedOnboarding": True, "customApiKeyResponses": {"approved": ["dummy"], "rejected": []}}
    if trusted:
        state["projects"] = {sc.repo: {"hasTrustDialogAccepted": True}}
    with open(os.path.join(sc.config_dir, ".claude.json"), "w") as f:
        json.dump(state, f)


def mcp_list_status(sc, token=None):
    """Runs `claude mcp list` in the repository: (status of the switchboard server, its line, the output).
    Status: "connected", "pending" (approval), "failed", or "?" (no or another line)."""
    env = dict(sc.env, CLAUDE_CONFIG_DIR=sc.config_dir, ANTHROPIC_API_KEY="dummy",
               ANTHROPIC_BASE_URL="http://127.0.0.1:9", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
               DISABLE_AUTOUPDATER="1")
    if token is not None:
        env["SWITCHBOARD_TOKEN"] = token
    sc.proc = subprocess.Popen([sc.claude, "mcp", "list"], cwd=sc.repo, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = sc.proc.communicate(timeout=CLAUDE_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_pid(sc.proc.pid, pgroup=True)
        out, err = sc.proc.communicate()
        err += "\n(timed out after %d s)" % CLAUDE_TIMEOUT
    line = next((l.strip() for l in out.splitlines() if l.startswith("switchboard:")), "")
    status = ("connected" if "Connected" in line else "pending" if "Pending approval" in line
              else "failed" if "Failed" in line else "?")
    return status, line, "exit %s\n%s%s" % (sc.proc.returncode, out, err)


def edit_settings(sc, change):
    path = os.path.join(sc.repo, ".claude", "settings.json")
    with open(path) as f:
        settings = json.load(f)
    change(settings)
    with open(path, "w") as f:
        json.dump(settings, f, indent=2)


def mcp_list(sc):
    """`claude mcp list` reports the switchboard server connected, stdio and http, once approved as
    `switchboard install claude` approves it (its enabledMcpjsonServers) in a trusted folder."""
    # stdio, as setup() installed it
    write_claude_json(sc, trusted=False)
    status, line, out = mcp_list_status(sc)
    check("m1) stdio, folder not trusted: %r (install's enabledMcpjsonServers is not honoured yet)" % line,
          status == "pending", out)
    write_claude_json(sc, trusted=True)
    status, line, out = mcp_list_status(sc)
    check("m2) stdio, folder trusted, no approval but install's enabledMcpjsonServers: %r" % line,
          status == "connected" and "switchboard mcp" in line, out)
    saved = {}
    edit_settings(sc, lambda st: saved.update(enabled=st.pop("enabledMcpjsonServers", None)))
    status, line, out = mcp_list_status(sc)
    check("m3) trusted, with enabledMcpjsonServers (%s) taken out of .claude/settings.json: %r"
          % (saved.get("enabled"), line), status == "pending" and saved.get("enabled") == ["switchboard"], out)
    edit_settings(sc, lambda st: st.update(enabledMcpjsonServers=saved.get("enabled")))
    sessions = sc.run([sc.sb, "sessions", "--json"])
    print("after the stdio health checks, `switchboard sessions --json`: %s" % " ".join(sessions.stdout.split()),
          flush=True)

    # http: a token, a running `switchboard serve` on a free port, install --http
    p = sc.run([sc.sb, "token", "create", "--agent", "claude-e2e", "--json"])
    try:
        created = json.loads(p.stdout)
        token, token_id = created["secret"], created["token"]["id"]
    except (ValueError, KeyError, TypeError):
        token = token_id = None
    serve_err = os.path.join(sc.tmp, "serve.stderr")
    with open(serve_err, "w") as err:
        serve = subprocess.Popen([sc.sb, "serve", "--listen", "127.0.0.1:0"], cwd=sc.repo, env=sc.env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        first = serve.stdout.readline()  # `switchboard serve: listening on http://127.0.0.1:PORT/mcp`, or EOF
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+/mcp)\s*$", first)
        url = m and m.group(1)
        inst = sc.run(["switchboard", "install", "claude", "--http", url or "http://127.0.0.1:9/mcp"])
        try:
            entry = json.load(open(os.path.join(sc.repo, ".mcp.json")))["mcpServers"]["switchboard"]
        except (OSError, ValueError, KeyError):
            entry = {}
        check("m4) token %s for claude-e2e; serve (pid %d) at %s; `switchboard install claude --http` wrote %s"
              % (token_id, serve.pid, url, json.dumps(entry)),
              bool(token and url) and inst.returncode == 0 and entry.get("type") == "http"
              and entry.get("url") == url
              and entry.get("headers", {}).get("Authorization") == "Bearer ${SWITCHBOARD_TOKEN}",
              "token create: exit %s %s%s\nserve said: %r %s\ninstall: exit %s %s%s" % (
                  p.returncode, p.stdout, p.stderr, first, open(serve_err).read(), inst.returncode, inst.stdout,
                  inst.stderr))
        write_claude_json(sc, trusted=False)
        status, line, out = mcp_list_status(sc, token)
        check("m5) http, folder not trusted: %r" % line, status == "pending", out)
        write_claude_json(sc, trusted=True)
        status, line, out = mcp_list_status(sc, token)
        tokens = sc.run([sc.sb, "token", "list", "--json"])
        try:
            used = [t.get("last_used_at") for t in json.loads(tokens.stdout) if t.get("id") == token_id]
        except (ValueError, AttributeError):
            used = []
        check("m6) http, folder trusted, SWITCHBOARD_TOKEN exported: %r; the token was used (%s)"
              % (line, used[0] if used else None),
              status == "connected" and "(HTTP)" in line and bool(url) and url in line and bool(used and used[0]),
              "%s\ntoken list: %s%s" % (out, tokens.stdout, tokens.stderr))
        status, line, out = mcp_list_status(sc, "sbt_not_a_token")
        check("m7) http with a wrong SWITCHBOARD_TOKEN: %r" % line, status == "failed", out)
    finally:
        stop_pid(serve.pid)
        try:
            rc = serve.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
    sc.after_claude()
    check("m8) switchboard serve stopped by its pid (exit %s); nothing left running" % rc,
          rc == 0 and not sc.leftovers,
          "serve stderr: %s\nstopped: %s" % (open(serve_err).read(), "\n".join("%d %s" % pc for pc in sc.leftovers)))


def main():
    ap = argparse.ArgumentParser(description="Claude Code + Switchboard end to end")
    ap.add_argument("--bin", default=os.environ.get("SWITCHBOARD_BIN"), help="absolute path of switchboard")
    ap.add_argument("--claude", help="Claude Code binary (default: from node_modules here)")
    ap.add_argument("--claude-version", help="fail unless `claude --version` reports this version")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories and print their paths")
    ap.add_argument("--trace-hooks", action="store_true",
                    help="also in the one-turn scenario, log every hook's input and output to hooks.jsonl")
    ap.add_argument("--only", choices=["one-turn", "two-turns", "idle-wake", "mcp-list"], help="run one scenario")
    args = ap.parse_args()
    if not args.bin or not os.path.isabs(args.bin) or not os.access(args.bin, os.X_OK):
        sys.exit("claude_e2e: --bin (or SWITCHBOARD_BIN) must be the absolute path of a switchboard binary")
    claude, claude_version = find_claude(args.claude)
    print("claude: %s (%s)" % (claude, claude_version), flush=True)
    if args.claude_version and not claude_version.startswith(args.claude_version + " "):
        sys.exit("claude_e2e: expected Claude Code %s, %s reports %r" % (args.claude_version, claude, claude_version))
    # A SIGTERM (e.g. from timeout) unwinds through the finally below, which stops what was started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    t0 = time.time()
    for name, run, trace in (("one-turn", one_turn, args.trace_hooks), ("two-turns", two_turns, True),
                             ("idle-wake", idle_wake, True), ("mcp-list", mcp_list, False)):
        if args.only and args.only != name:
            continue
        print("\n-- scenario %s" % name, flush=True)
        before = len(failures)
        sc = Scenario(name, args.bin, claude, args.keep, trace)
        try:
            if sc.setup():
                if run is not mcp_list:  # `claude mcp list` asks no model
                    sc.start_model()
                run(sc)
        finally:
            if len(failures) > before:
                sc.keep = True
            sc.close()
    print("\ntime: %.1fs; %s" % (time.time() - t0, "%d check(s) failed" % len(failures) if failures else "all passed"),
          flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
