#!/usr/bin/env python3
"""A scripted Anthropic Messages API model server for driving a real Claude Code offline.

    python3 model_server.py --script SCRIPT.json --log REQUESTS.jsonl

Listens on 127.0.0.1 on a free port and prints one line, `model_server: listening on http://127.0.0.1:PORT`,
once it accepts connections. `GET` of anything is a 404; `POST /v1/messages` (any query string) answers from
the script; every POST is appended to the log as one JSON line:
`{"n", "t", "arrived", "path", "step", "body", "runs": [{"argv", "rc", "stdout", "stderr", "t0", "t1"}],
"reply"}` (`arrived`: when its headers had been read; `t0`/`t1`: when a command started and ended; `t`: when
the entry was written, after the commands ran; all `time.time()`).

The script (JSON):

    {"cwd": "/path/for/commands",
     "steps": [
       {"name": "...",
        "when": "substring",            # required: in the *last turn* of the request (below)
        "capture": {"NAME": "regex"},   # optional: group 1 of each regex over the last turn, as {NAME}
        "run": [["argv0", "{NAME}"]],   # optional: run synchronously before replying, only the first
                                        #   time the step matches; {NAME} substituted in each argument
        "reply": {"text": "..."} | {"tool_use": {"id": "...", "name": "...", "input": {...}}}}
     ],
     "default": {"text": "..."}}

Steps are keyed on the content of the request, never on request counts: the first step (in script order)
whose `when` occurs in the last turn answers. The last turn is every string in the messages after the last
`assistant` message (tool_result contents, hook reminders, user text), joined by newlines, so a tool result's
JSON text is searched unescaped. A request no step matches gets `default`. Requests with `stream: true` get
SSE (message_start, content_block_start/delta/stop, message_delta, message_stop; a tool call is a tool_use
block filled by one input_json_delta); others get the plain JSON message.

Stdlib only. Stops on SIGTERM/SIGINT.
"""

import argparse
import json
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def strings(value):
    """Every string inside a JSON value, depth first."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def last_turn(body):
    messages = body.get("messages") or []
    start = 0
    for i, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "assistant":
            start = i + 1
    return "\n".join(strings(messages[start:]))


class Script:
    def __init__(self, spec):
        self.cwd = spec.get("cwd")
        self.steps = spec.get("steps", [])
        self.default = spec.get("default", {"text": "ok"})
        self.fired = set()
        self.lock = threading.Lock()
        self.count = 0

    def answer(self, body):
        """(step name, reply, runs) for a request body."""
        turn = last_turn(body)
        for step in self.steps:
            if step["when"] not in turn:
                continue
            values = {}
            for name, pattern in (step.get("capture") or {}).items():
                m = re.search(pattern, turn)
                values[name] = m.group(1) if m else ""
            runs = []
            with self.lock:
                first = step["name"] not in self.fired
                self.fired.add(step["name"])
            if first:
                for argv in step.get("run") or []:
                    argv = [a.format(**values) for a in argv]
                    t0 = time.time()
                    try:
                        p = subprocess.run(argv, cwd=self.cwd, capture_output=True, text=True, timeout=30,
                                           stdin=subprocess.DEVNULL)
                        runs.append({"argv": argv, "rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr,
                                     "t0": t0, "t1": time.time()})
                    except (OSError, subprocess.TimeoutExpired) as e:
                        runs.append({"argv": argv, "rc": None, "stdout": "", "stderr": repr(e), "t0": t0,
                                     "t1": time.time()})
            return step["name"], step["reply"], runs
        return "default", self.default, []


def content_blocks(reply):
    if "tool_use" in reply:
        t = reply["tool_use"]
        return [{"type": "tool_use", "id": t["id"], "name": t["name"], "input": t.get("input", {})}], "tool_use"
    return [{"type": "text", "text": reply["text"]}], "end_turn"


def sse_events(message_id, model, blocks, stop_reason):
    usage = {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    yield "message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}}
    for i, block in enumerate(blocks):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": i,
                                          "content_block": {"type": "text", "text": ""}}
            yield "content_block_delta", {"type": "content_block_delta", "index": i,
                                          "delta": {"type": "text_delta", "text": block["text"]}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": i, "content_block": {
                "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}}
            yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}
        yield "content_block_stop", {"type": "content_block_stop", "index": i}
    yield "message_delta", {"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                            "usage": {"output_tokens": 5}}
    yield "message_stop", {"type": "message_stop"}


def make_handler(script, log_path):
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: everything goes to the JSONL log
            pass

        def do_GET(self):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def do_POST(self):
            arrived = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            with script.lock:
                script.count += 1
                n = script.count
            if not self.path.split("?")[0].endswith("/v1/messages"):
                step, reply, runs = "not-messages", None, []
            else:
                step, reply, runs = script.answer(body)
            with log_lock, open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"n": n, "t": time.time(), "arrived": arrived, "path": self.path, "step": step,
                                      "body": body, "runs": runs, "reply": reply}) + "\n")
            if reply is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            blocks, stop_reason = content_blocks(reply)
            model = body.get("model", "scripted-model")
            message_id = "msg_scripted_%04d" % n
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                for event, data in sse_events(message_id, model, blocks, stop_reason):
                    self.wfile.write(("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode())
                self.wfile.flush()
                self.close_connection = True
            else:
                payload = json.dumps({"id": message_id, "type": "message", "role": "assistant", "model": model,
                                      "content": blocks, "stop_reason": stop_reason, "stop_sequence": None,
                                      "usage": {"input_tokens": 10, "output_tokens": 5}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--script", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = Script(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script, args.log))
    server.daemon_threads = True

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("model_server: listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
