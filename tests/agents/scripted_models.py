"""Scripted stand-ins for model APIs, for running real agent CLIs offline (stdlib only).

Two servers, each on 127.0.0.1 and a random port, recording every request:

- ResponsesServer: the OpenAI Responses API as Codex CLI uses it (`POST /v1/responses`, SSE).
- GeminiServer: the Gemini API as Gemini CLI uses it (`POST /v1beta/models/M:streamGenerateContent?alt=sse`,
  also `:generateContent` and `:countTokens`).

A script is a list of Steps. Each model request is answered by the first step, in order, that has not
fired yet and whose `when` substrings all occur in the request body (and none of its `unless` ones;
an entry may also be a predicate on the body);
a step fires once. Its `reply` is a list of Replies, or a callable taking the Request and returning
one (it may do things first, e.g. send a Switchboard message, so they happen before the client sees
the answer). A request no step matches gets the server's `fallback` (a short final text) and is
marked unmatched. Requests are kept in `server.requests` and, with `log_path`, appended as JSON lines.

Harness is what the drivers (codex_e2e.py, gemini_e2e.py) share: a scratch git repository and HOME, a
`switchboard` on PATH that logs every hook run (HOOK_WRAPPER) or is the binary itself (direct), the CLI
run with a timeout, one printed line per check, and every process of the run stopped by PID at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional, Union


@dataclass
class Call:
    """A tool call. `namespace` is for Codex's MCP namespaces (e.g. "mcp__switchboard")."""

    name: str
    args: dict = field(default_factory=dict)
    namespace: Optional[str] = None


@dataclass
class Text:
    """Assistant text (a final answer when the reply has no Call)."""

    text: str


Reply = Union[Call, Text]


@dataclass
class Step:
    label: str
    when: list
    reply: Union[list, Callable[["Request"], list]]
    unless: list = field(default_factory=list)
    fired_by: Optional[int] = None  # the request number that fired it

    def matches(self, body: str) -> bool:
        def has(c):
            return c(body) if callable(c) else c in body

        return all(has(c) for c in self.when) and not any(has(c) for c in self.unless)


@dataclass
class Request:
    n: int
    t: float  # seconds since the server started
    method: str
    path: str
    body: str
    json: object
    kind: str  # "model" (scripted), or the server's name for an auxiliary endpoint
    step: Optional[str] = None  # label of the step that answered, "unmatched", or None
    reply: Optional[list] = None

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "t": round(self.t, 3),
            "method": self.method,
            "path": self.path,
            "kind": self.kind,
            "step": self.step,
            "reply": [r.__dict__ for r in self.reply] if self.reply else None,
            "body": self.json if self.json is not None else self.body,
        }


class ScriptedServer:
    name = "scripted"

    def __init__(self, steps: list, log_path: Optional[str] = None, fallback: str = "FALLBACK-ANSWER"):
        self.steps = steps
        self.fallback = fallback
        self.log_path = log_path
        self.requests: list = []
        self.errors: list = []  # exceptions raised by reply callables
        self.lock = threading.Lock()
        self.script_lock = threading.Lock()  # model requests are answered one at a time
        self.counter = itertools.count(1)
        self.ids = itertools.count(1)
        self.t0 = time.monotonic()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_GET(self):
                outer._handle(self, "GET")

            def do_POST(self):
                outer._handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ queries
    def model_requests(self) -> list:
        with self.lock:
            return [r for r in self.requests if r.kind == "model"]

    def unmatched(self) -> list:
        return [r for r in self.model_requests() if r.step == "unmatched"]

    def fired(self, label: str) -> Optional[Request]:
        for s in self.steps:
            if s.label == label and s.fired_by is not None:
                return next(r for r in self.model_requests() if r.n == s.fired_by)
        return None

    def after(self, req: Request) -> Optional[Request]:
        """The model request right after `req`."""
        later = [r for r in self.model_requests() if r.n > req.n]
        return later[0] if later else None

    # ------------------------------------------------------------------ handling
    def _record(self, req: Request):
        with self.lock:
            self.requests.append(req)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(req.to_json()) + "\n")

    def _choose(self, req: Request) -> list:
        for step in self.steps:
            if step.fired_by is None and step.matches(req.body):
                step.fired_by = req.n
                req.step = step.label
                try:
                    return step.reply(req) if callable(step.reply) else step.reply
                except Exception as e:  # noqa: BLE001 — reported by the driver
                    self.errors.append(f"step {step.label}: {e!r}")
                    return [Text(f"SCRIPT-ERROR in {step.label}")]
        req.step = "unmatched"
        return [Text(self.fallback)]

    def _handle(self, h: BaseHTTPRequestHandler, method: str):
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        kind = self.classify(method, h.path, parsed)
        req = Request(next(self.counter), time.monotonic() - self.t0, method, h.path, body, parsed, kind)
        if kind == "model":
            with self.script_lock:
                req.reply = self._choose(req)
                self._record(req)
                status, ctype, payload = self.render(req, req.reply)
        else:
            self._record(req)
            status, ctype, payload = self.auxiliary(req)
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(payload)
        h.wfile.flush()
        h.close_connection = True

    # Subclasses: which requests are scripted, how replies are rendered, what the rest get.
    def classify(self, method: str, path: str, body) -> str:
        raise NotImplementedError

    def render(self, req: Request, replies: list):
        raise NotImplementedError

    def auxiliary(self, req: Request):
        return 404, "application/json", b'{"error":{"code":404,"message":"not scripted"}}'


# ---------------------------------------------------------------------- OpenAI Responses (Codex)
class ResponsesServer(ScriptedServer):
    """`POST /v1/responses` with `stream: true`, answered as SSE events."""

    name = "responses"

    def classify(self, method, path, body):
        return "model" if method == "POST" and path.split("?")[0].endswith("/responses") else "other"

    def render(self, req, replies):
        rid = f"resp_{next(self.ids)}"
        events = [("response.created", {"type": "response.created", "response": {"id": rid}})]
        for i, r in enumerate(replies):
            if isinstance(r, Call):
                item = {
                    "type": "function_call",
                    "id": f"fc_{next(self.ids)}",
                    "call_id": f"call_{next(self.ids)}",
                    "name": r.name,
                    "arguments": json.dumps(r.args),
                }
                if r.namespace:
                    item["namespace"] = r.namespace
                events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": i, "item": item}))
                events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": item}))
            else:
                mid = f"msg_{next(self.ids)}"
                empty = {"type": "message", "id": mid, "role": "assistant", "status": "in_progress", "content": []}
                done = {
                    "type": "message",
                    "id": mid,
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": r.text, "annotations": []}],
                }
                events.append(("response.output_item.added", {"type": "response.output_item.added", "output_index": i, "item": empty}))
                events.append(
                    (
                        "response.output_text.delta",
                        {"type": "response.output_text.delta", "item_id": mid, "output_index": i, "content_index": 0, "delta": r.text},
                    )
                )
                events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": done}))
        usage = {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 5,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 15,
        }
        events.append(("response.completed", {"type": "response.completed", "response": {"id": rid, "usage": usage}}))
        payload = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
        return 200, "text/event-stream", payload.encode()

    def auxiliary(self, req):
        if req.method == "GET" and req.path.split("?")[0].endswith("/models"):
            return 200, "application/json", b'{"models":[]}'
        return super().auxiliary(req)


# ---------------------------------------------------------------------- Gemini API (Gemini CLI)
class GeminiServer(ScriptedServer):
    """`:streamGenerateContent?alt=sse` is scripted; `:generateContent` (the CLI's side queries) gets
    `side_answer` (JSON text) and `:countTokens` a count."""

    name = "gemini"

    def __init__(self, steps, log_path=None, fallback="FALLBACK-ANSWER", side_answer: str = "{}"):
        super().__init__(steps, log_path, fallback)
        self.side_answer = side_answer

    def classify(self, method, path, body):
        p = path.split("?")[0]
        if method == "POST" and p.endswith(":streamGenerateContent"):
            return "model"
        if p.endswith(":generateContent"):
            return "generate"
        if p.endswith(":countTokens"):
            return "count"
        return "other"

    @staticmethod
    def _response(parts: list) -> dict:
        return {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
            "modelVersion": "gemini-2.5-flash",
        }

    def render(self, req, replies):
        parts = []
        for r in replies:
            if isinstance(r, Call):
                parts.append({"functionCall": {"name": r.name, "args": r.args}})
            else:
                parts.append({"text": r.text})
        payload = f"data: {json.dumps(self._response(parts))}\r\n\r\n"
        return 200, "text/event-stream", payload.encode()

    def auxiliary(self, req):
        if req.kind == "generate":
            return 200, "application/json", json.dumps(self._response([{"text": self.side_answer}])).encode()
        if req.kind == "count":
            return 200, "application/json", b'{"totalTokens": 10}'
        return super().auxiliary(req)


# ---------------------------------------------------------------------- the drivers' harness
# Put in front of the real binary on PATH: `switchboard hook …` runs are logged (stdin, stdout, stderr,
# exit status, the process ancestry up to the driver) and then run by the real binary as a child of this
# script, so the hook still has the client among its ancestors; everything else (`switchboard mcp`) is
# exec'd, so the server keeps the PID and parent the client gave it. Paths are written into the script:
# clients pass their MCP servers a filtered environment.
HOOK_WRAPPER = r"""#!/usr/bin/env bash
SB_E2E_REAL=@REAL@
if [ "${1:-}" != hook ]; then exec "$SB_E2E_REAL" "$@"; fi
d="@LOG@/$(date +%s%N)-$$"
mkdir -p "$d"
printf '%s\n' "$*" > "$d/args"
p=$$
while [ -n "$p" ] && [ "$p" -gt 1 ] && [ "$p" != @DRIVER@ ] && [ -r "/proc/$p/stat" ]; do
  printf '%s %s\n' "$p" "$(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-200)" >> "$d/ancestry"
  p=$(sed 's/.*) //' "/proc/$p/stat" | cut -d' ' -f2)
done
timeout 10 cat > "$d/stdin"
rc=0
"$SB_E2E_REAL" "$@" < "$d/stdin" > "$d/stdout" 2> "$d/stderr" || rc=$?
echo "$rc" > "$d/rc"
cat "$d/stdout"
cat "$d/stderr" >&2
exit "$rc"
"""


@dataclass
class HookRun:
    args: str
    stdin: str
    stdout: str
    stderr: str
    rc: str
    ancestry: str

    @property
    def event(self) -> str:
        return self.args.split()[-1]

    def input(self) -> dict:
        try:
            return json.loads(self.stdin)
        except ValueError:
            return {}

    def output(self) -> dict:
        try:
            return json.loads(self.stdout) if self.stdout.strip() else {}
        except ValueError:
            return {}

    def brief(self) -> str:
        inp = self.input()
        keys = ",".join(sorted(inp)) if isinstance(inp, dict) else type(inp).__name__
        return f"{self.args} (rc {self.rc}; stdin keys {keys}; stdout {self.stdout.strip()[:300]!r}; stderr {self.stderr.strip()[:300]!r})"


class Harness:
    """A scratch directory with a git repository, a HOME, a logging `switchboard` on PATH, checks, and
    the processes started for a run (found by a marker in their environment, stopped by PID)."""

    def __init__(self, name: str, switchboard: str, keep: bool = False, direct: bool = False):
        """`direct`: the `switchboard` on PATH is the real binary (a symlink), hooks are not logged."""
        self.switchboard = switchboard
        self.keep = keep
        self.direct = direct
        self.dir = tempfile.mkdtemp(prefix=f"switchboard-{name}.")
        self.repo = os.path.join(self.dir, "repo")
        self.home = os.path.join(self.dir, "home")
        self.bin = os.path.join(self.dir, "bin")
        self.hook_log = os.path.join(self.dir, "hooks")
        for d in (self.repo, self.home, self.bin, self.hook_log):
            os.makedirs(d)
        wrapper = os.path.join(self.bin, "switchboard")
        if direct:
            os.symlink(switchboard, wrapper)
        else:
            with open(wrapper, "w") as f:
                f.write(
                    HOOK_WRAPPER.replace("@REAL@", shlex.quote(switchboard))
                    .replace("@LOG@", shlex.quote(self.hook_log))
                    .replace("@DRIVER@", str(os.getpid()))
                )
            os.chmod(wrapper, 0o755)
        self.marker = uuid.uuid4().hex
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_") and k not in ("CODEX_HOME", "GEMINI_API_KEY", "GOOGLE_API_KEY")
        }
        self.env.update(
            PATH=f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            HOME=self.home,
            XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
            XDG_DATA_HOME=os.path.join(self.home, ".local", "share"),
            XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
            SB_E2E_RUN=self.marker,
            NO_COLOR="1",
        )
        self.results: list = []
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Ada Lovelace")
        self.git("config", "user.email", "ada@example.invalid")
        with open(os.path.join(self.repo, "README.md"), "w") as f:
            f.write("scratch repository for an agent CLI end-to-end test (E2E-FILE-42)\n")
        self.git("add", "README.md")
        self.git("commit", "-q", "-m", "scratch repository")

    def git(self, *args):
        subprocess.run(["git", *args], cwd=self.repo, env=self.env, check=True, capture_output=True)

    def sb(self, *args, check=True) -> subprocess.CompletedProcess:
        """The real switchboard binary, run in the repository."""
        p = subprocess.run([self.switchboard, *args], cwd=self.repo, env=self.env, capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise RuntimeError(f"switchboard {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def agent_of(self, session_id: str) -> str:
        data = json.loads(self.sb("sessions", "--json").stdout)
        for s in data["sessions"]:
            if s["id"] == session_id:
                return s["agent"]
        raise RuntimeError(f"no session {session_id} in `switchboard sessions --json`")

    def client_pids(self) -> dict:
        """session id -> client_pid recorded for it (read-only look at the state database)."""
        db = os.path.join(self.repo, ".git", "switchboard", "state.db")
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
            try:
                return dict(con.execute("SELECT id, client_pid FROM sessions").fetchall())
            finally:
                con.close()
        except sqlite3.Error as e:
            return {"error": str(e)}

    def hooks(self) -> list:
        runs = []
        for name in sorted(os.listdir(self.hook_log)):
            d = os.path.join(self.hook_log, name)

            def read(f):
                try:
                    with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
                        return fh.read()
                except OSError:
                    return ""

            runs.append(HookRun(read("args").strip(), read("stdin"), read("stdout"), read("stderr"), read("rc").strip(), read("ancestry")))
        return runs

    # ------------------------------------------------------------------ processes
    def ours(self) -> list:
        """PIDs of live processes of this run: with its marker in their environment, or working in its
        scratch directory (clients start MCP servers with a filtered environment)."""
        found = []
        needle = f"SB_E2E_RUN={self.marker}".encode()
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == os.getpid():
                continue
            try:
                cwd = os.readlink(f"/proc/{p}/cwd")
                with open(f"/proc/{p}/environ", "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if needle in env or cwd == self.dir or cwd.startswith(self.dir + os.sep):
                found.append(int(p))
        return found

    def stop_ours(self) -> list:
        left = self.ours()
        for pid in left:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.ours():
            time.sleep(0.1)
        for pid in self.ours():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return left

    def run(self, argv: list, env: dict, timeout: float, log_prefix: str) -> tuple:
        """Runs the CLI with stdin closed; returns (exit status or None on timeout, seconds, stdout, stderr)."""
        out_path = os.path.join(self.dir, f"{log_prefix}.stdout")
        err_path = os.path.join(self.dir, f"{log_prefix}.stderr")
        t0 = time.monotonic()
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(argv, cwd=self.repo, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                rc = None
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # the group of the process started here
                except OSError:
                    pass
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        secs = time.monotonic() - t0
        with open(out_path) as f:
            stdout = f.read()
        with open(err_path) as f:
            stderr = f.read()
        return rc, secs, stdout, stderr

    # ------------------------------------------------------------------ checks
    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.results.append((name, bool(ok)))
        line = f"{'PASS' if ok else 'FAIL'}  {name}"
        if detail:
            line += f"  — {detail}"
        print(line, flush=True)
        return bool(ok)

    def failed(self) -> int:
        return sum(1 for _, ok in self.results if not ok)

    def finish(self, artifacts: Optional[str]) -> None:
        left = self.stop_ours()
        if left:
            print(f"note: stopped {len(left)} leftover process(es) of this run: {left}", flush=True)
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
            dst = os.path.join(artifacts, os.path.basename(self.dir))
            shutil.rmtree(dst, ignore_errors=True)
            shutil.copytree(self.dir, dst, ignore=shutil.ignore_patterns("*.db", "*.db-*", "*.sqlite", "*.sqlite-*", "skills", "node_modules", ".git"), symlinks=True)
            print(f"artifacts: {dst}", flush=True)
        if self.keep:
            print(f"kept: {self.dir}", flush=True)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def first_match(pattern: str, text: str, flags: int = re.S) -> Optional[str]:
    m = re.search(pattern, text, flags)
    return m.group(1) if m else None
