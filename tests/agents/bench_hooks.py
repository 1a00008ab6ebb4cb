#!/usr/bin/env python3
"""Benchmarks of `switchboard hook` as agent CLIs run it: real processes, Python stdlib only.

    python3 tests/agents/bench_hooks.py --bin /abs/path/to/switchboard [--out benches/hooks.json]
                                        [--skip-claude] [--claude PATH] [--cpu-seconds 60]

Each part runs on its own scratch git repository (HOME and the state database inside it), one at a time:

  a) hook run time: `switchboard hook claude PostToolUse`, timed from just before the process is spawned to
     its exit (process start, stdin {"cwd", "hook_event_name"}, answer), 200 runs with nothing new and 200
     runs each with one new message (sent with the CLI before the run, untimed). The hook finds its session
     the way it does under a client: this process starts `switchboard mcp --agent alice` (speaking minimal
     MCP JSON-RPC over its stdin/stdout: initialize, notifications/initialized, tools/call session_start)
     and the hooks, so the hooks' parent is the MCP server's client process;
  b) idle wake latency: `switchboard hook claude Wake` started (payload on stdin, then closed), 300 ms
     later a message sent with the CLI; from just before the send to the hook's exit (must be 2), 50
     rounds; the CLI send's own duration is reported separately. The hook looks every 200 ms, so a fixed
     300 ms pause meets its polls at the same phase every round: 50 more rounds pause 300-500 ms (uniform,
     seeded), which samples the latency a message arriving at a random moment sees;
  c) CPU of a waiting wake hook: utime+stime from /proc/PID/stat over 60 s, as % of one core (then a
     message ends it, which also proves it was still waiting);
  d) send -> context in the agent's next model request, with the real Claude Code (claude_e2e.py's
     machinery: a scratch repo with `switchboard install claude`, model_server.py): the scripted model
     calls Read 20 times; before answering each request the model server runs `switchboard send`
     (synchronously) and answers with the next Read call; the PostToolUse hook of that Read puts the
     message into the following request. Latency: from the send's completion to that request's
     arrival at the model server (Claude Code's handling of the answer, the Read, the hook, the HTTP
     request). 3 runs of claude -p, 60 rounds.

Percentiles by linear interpolation between the nearest ranks. Writes the figures as JSON (--out) and
prints a markdown table. Exits 1 if any run misbehaved (wrong exit code, missing or unexpected output).
Every process it starts is stopped by PID.
"""

import argparse
import json
import os
import platform
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNS = 200
WAKE_ROUNDS = 50
WAKE_PAUSE = 0.3
D_RUNS, D_ROUNDS = 3, 20
TARGET_HOOK_P99_MS = 30

problems = []


def problem(text):
    problems.append(text)
    print("PROBLEM: " + text, flush=True)


def pct(values, p):
    v = sorted(values)
    if not v:
        return None
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def summary(values_ms):
    return {"n": len(values_ms), "p50_ms": round(pct(values_ms, 50), 2), "p99_ms": round(pct(values_ms, 99), 2),
            "min_ms": round(min(values_ms), 2), "max_ms": round(max(values_ms), 2),
            "mean_ms": round(sum(values_ms) / len(values_ms), 2)}


def stop_pid(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Repo:
    """A scratch git repository with its own HOME; every switchboard process runs in it."""

    def __init__(self, sb, name):
        self.sb = sb
        self.tmp = os.path.realpath(tempfile.mkdtemp(prefix="switchboard-bench-%s-" % name))
        self.path = os.path.join(self.tmp, "repo")
        os.makedirs(self.path)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SWITCHBOARD_", "GIT_", "XDG_"))}
        env["HOME"] = self.tmp
        self.env = env
        for argv in (["git", "init", "-q", "-b", "main"], ["git", "config", "user.name", "Bench"],
                     ["git", "config", "user.email", "bench@example.invalid"],
                     ["git", "commit", "-q", "--allow-empty", "-m", "scratch"]):
            subprocess.run(argv, cwd=self.path, env=env, check=True, capture_output=True)
        self.mcp = None

    def send(self, to, text):
        """`switchboard send --as bob`; returns its duration in ms."""
        t = time.perf_counter()
        p = subprocess.run([self.sb, "send", "--as", "bob", "--to", to, text], cwd=self.path, env=self.env,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        ms = (time.perf_counter() - t) * 1000
        if p.returncode != 0:
            problem("send %s: exit %s %s" % (text, p.returncode, p.stderr.strip()))
        return ms

    def hook(self, event, payload):
        return subprocess.Popen([self.sb, "hook", "claude", event], cwd=self.path, env=self.env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def start_agent(self, agent):
        """`switchboard mcp --agent AGENT` as our child, with a session started over MCP."""
        self.mcp = subprocess.Popen([self.sb, "mcp", "--agent", agent], cwd=self.path, env=self.env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        lines = queue.Queue()

        def pump():
            for line in self.mcp.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

        def rpc(method, params, id_=None):
            msg = {"jsonrpc": "2.0", "method": method, "params": params}
            if id_ is not None:
                msg["id"] = id_
            self.mcp.stdin.write((json.dumps(msg) + "\n").encode())
            self.mcp.stdin.flush()
            if id_ is None:
                return None
            while True:
                line = lines.get(timeout=30)
                if line is None:
                    raise RuntimeError("switchboard mcp exited")
                reply = json.loads(line)
                if reply.get("id") == id_:
                    if "error" in reply:
                        raise RuntimeError("%s: %s" % (method, reply["error"]))
                    return reply["result"]

        rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "bench_hooks", "version": "0"}}, 1)
        rpc("notifications/initialized", {})
        result = rpc("tools/call", {"name": "session_start", "arguments": {"intent": "bench"}}, 2)
        text = json.dumps(result)
        if "ses_" not in text or result.get("isError"):
            raise RuntimeError("session_start: %s" % text[:500])

    def close(self):
        if self.mcp is not None:
            try:
                self.mcp.stdin.close()
                self.mcp.wait(timeout=5)
            except (subprocess.TimeoutExpired, OSError):
                stop_pid(self.mcp)
        shutil.rmtree(self.tmp, ignore_errors=True)


def bench_hook_runs(sb):
    """a) PostToolUse hook: nothing new, then one new message per run."""
    repo = Repo(sb, "hook")
    try:
        repo.start_agent("alice")
        payload = json.dumps({"cwd": repo.path, "hook_event_name": "PostToolUse"}).encode()

        def run(expect):
            t = time.perf_counter()
            p = repo.hook("PostToolUse", payload)
            out, err = p.communicate(payload)
            ms = (time.perf_counter() - t) * 1000
            out = out.decode()
            if p.returncode != 0 or (expect is None and out.strip()) or (expect is not None and expect not in out):
                problem("PostToolUse hook (expecting %s): exit %s, stdout %r, stderr %r"
                        % (expect, p.returncode, out[:300], err.decode()[:300]))
            return ms

        for _ in range(5):  # warm the page cache and the database file
            run(None)
        idle = [run(None) for _ in range(RUNS)]
        new, sends = [], []
        for i in range(RUNS):
            marker = "HOOK-%03d" % i
            sends.append(repo.send("alice", marker + ": bench"))
            new.append(run(marker))
        return {"nothing_new": summary(idle), "one_new_message": summary(new), "cli_send": summary(sends)}
    finally:
        repo.close()


def wait_thread(proc):
    """Starts a thread that waits for proc and records when it exited (perf_counter)."""
    box = {}

    def waiter():
        proc.wait()
        box["t"] = time.perf_counter()

    th = threading.Thread(target=waiter, daemon=True)
    th.start()
    return th, box


def bench_wake(sb, cpu_seconds):
    """b) wake latency, c) CPU of a waiting wake hook."""
    repo = Repo(sb, "wake")
    try:
        repo.start_agent("alice")
        payload = json.dumps({"cwd": repo.path, "hook_event_name": "Stop", "stop_hook_active": False}).encode()
        latencies, sends = {"fixed": [], "jittered": []}, []
        rng = random.Random(42)
        for i in range(2 * WAKE_ROUNDS):
            kind = "fixed" if i < WAKE_ROUNDS else "jittered"
            marker = "WAKE-%03d" % i
            p = repo.hook("Wake", payload)
            p.stdin.write(payload)
            p.stdin.close()
            th, box = wait_thread(p)
            time.sleep(WAKE_PAUSE + (rng.uniform(0, 0.2) if kind == "jittered" else 0))
            if p.poll() is not None:
                problem("wake hook ended before the send: exit %s %s" % (p.returncode, p.stderr.read()[:300]))
                continue
            t = time.perf_counter()
            sends.append(repo.send("alice", marker + ": wake up"))
            th.join(timeout=10)
            if "t" not in box:
                problem("wake hook still running 10 s after the send")
                stop_pid(p)
                continue
            err = p.stderr.read().decode()
            p.stdout.close()
            p.stderr.close()
            if p.returncode != 2 or marker not in err:
                problem("wake hook: exit %s, stderr %r" % (p.returncode, err[:300]))
                continue
            latencies[kind].append((box["t"] - t) * 1000)

        # c) CPU while waiting
        p = repo.hook("Wake", payload)
        p.stdin.write(payload)
        p.stdin.close()
        th, box = wait_thread(p)
        time.sleep(1.0)  # past its start-up

        def ticks():
            with open("/proc/%d/stat" % p.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)

        hz = os.sysconf("SC_CLK_TCK")
        c0, t0 = ticks(), time.monotonic()
        time.sleep(cpu_seconds)
        c1, t1 = ticks(), time.monotonic()
        cpu = {"seconds": round(t1 - t0, 2), "cpu_ms": (c1 - c0) * 1000.0 / hz,
               "percent_of_one_core": round(100.0 * (c1 - c0) / hz / (t1 - t0), 3), "clock_tick_ms": 1000.0 / hz}
        repo.send("alice", "CPU-END: wake up")
        th.join(timeout=10)
        err = p.stderr.read().decode()
        if p.returncode != 2 or "CPU-END" not in err:
            problem("wake hook after the CPU measurement: exit %s %r" % (p.returncode, err[:300]))
            stop_pid(p)
        cpu["still_waiting_then_woke"] = p.returncode == 2
        return {"latency": summary(latencies["fixed"]), "pause_before_send_ms": WAKE_PAUSE * 1000,
                "latency_jittered": summary(latencies["jittered"]), "pause_jittered_ms": [300, 500],
                "cli_send": summary(sends)}, cpu
    finally:
        repo.close()


def bench_claude(sb, claude_path):
    """d) send -> context in Claude Code's next model request (its PostToolUse hook after a Read)."""
    sys.path.insert(0, HERE)
    import claude_e2e as e2e

    claude, version = e2e.find_claude(claude_path)
    latencies, runs_info = [], []
    for run in range(D_RUNS):
        sc = e2e.Scenario("bench-d", sb, claude, False, False)
        try:
            if not sc.setup():
                problem("d) setup failed")
                return None
            agent_file = os.path.join(sc.tmp, "agent.txt")
            notes = os.path.join(sc.repo, e2e.NOTES)

            def send(k):
                return ["sh", "-c", 'exec "$0" send --as bob --to "$(cat "$1")" "$2"', sb, agent_file,
                        "DMARK-%03d: bench message" % k]

            def read(k):
                return {"tool_use": {"id": "toolu_bench_read_%03d" % k, "name": "Read",
                                     "input": {"file_path": notes}}}

            steps = [{"name": "round-%03d" % D_ROUNDS, "when": "DMARK-%03d" % D_ROUNDS,
                      "reply": {"text": "BENCH-DONE"}}]
            for k in range(D_ROUNDS, 1, -1):  # newest marker first: it decides the step
                steps.append({"name": "round-%03d" % (k - 1), "when": "DMARK-%03d" % (k - 1), "run": [send(k)],
                              "reply": read(k)})
            steps.append({"name": "round-000", "when": "toolu_bench_session_start", "capture": {"agent": e2e.AGENT_RE},
                          "run": [["sh", "-c", 'printf %s "$0" > "$1"', "{agent}", agent_file], send(1)],
                          "reply": read(1)})
            steps.append({"name": "prompt", "when": "BENCH-PROMPT", "reply": {"tool_use": {
                "id": "toolu_bench_session_start", "name": "mcp__switchboard__session_start",
                "input": {"intent": "bench"}}}})
            sc.start_model(steps)
            proc = sc.start_claude(["BENCH-PROMPT: start a session, then read NOTES.md again and again.",
                                    "--output-format", "json"], subprocess.DEVNULL)
            t = time.time()
            try:
                out, err = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                e2e.stop_pid(proc.pid, pgroup=True)
                out, err = proc.communicate()
            took = time.time() - t
            sc.after_claude()
            posts = sc.requests()
            by_step = {e["step"]: e for e in posts}
            n = 0
            for k in range(1, D_ROUNDS + 1):
                sent = by_step.get("round-%03d" % (k - 1))
                got = by_step.get("round-%03d" % k)
                marker = "DMARK-%03d" % k
                if not sent or not got or not sent["runs"] or sent["runs"][-1]["rc"] != 0:
                    problem("d) run %d round %d: missing request or failed send (steps %s)"
                            % (run, k, [e["step"] for e in posts]))
                    continue
                context = [b for b in e2e.blocks_of(e2e.last_turn(got["body"]))
                           if marker in b[1] and "PostToolUse" in b[1]]
                if not context:
                    problem("d) run %d round %d: %s not in a PostToolUse context of the next request" % (run, k, marker))
                    continue
                latencies.append((got["arrived"] - sent["runs"][-1]["t1"]) * 1000)
                n += 1
            ok = proc.returncode == 0 and '"BENCH-DONE"' in out
            if not ok:
                problem("d) run %d: claude exit %s, %s %s" % (run, proc.returncode, out[-300:], err[-300:]))
            runs_info.append({"rounds": n, "claude_seconds": round(took, 2), "requests": len(posts)})
        finally:
            sc.close()
    return {"claude": version, "runs": runs_info, "latency": summary(latencies) if latencies else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("SWITCHBOARD_BIN"), help="absolute path of switchboard")
    ap.add_argument("--out", default=os.path.join(ROOT, "benches", "hooks.json"))
    ap.add_argument("--claude", help="Claude Code binary (default: from node_modules here)")
    ap.add_argument("--skip-claude", action="store_true", help="skip d) (the real Claude Code)")
    ap.add_argument("--cpu-seconds", type=float, default=60)
    args = ap.parse_args()
    if not args.bin or not os.path.isabs(args.bin) or not os.access(args.bin, os.X_OK):
        sys.exit("bench_hooks: --bin (or SWITCHBOARD_BIN) must be the absolute path of a switchboard binary")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.time()
    load_before = os.getloadavg()
    print("a) PostToolUse hook runs ...", flush=True)
    hooks = bench_hook_runs(args.bin)
    print("b) wake latency, c) waiting CPU (%.0f s) ..." % args.cpu_seconds, flush=True)
    wake, cpu = bench_wake(args.bin, args.cpu_seconds)
    claude = None
    if not args.skip_claude:
        print("d) send -> next model request with the real Claude Code ...", flush=True)
        claude = bench_claude(args.bin, args.claude)
    size = os.path.getsize(args.bin)
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "binary": {"path": args.bin, "bytes": size,
                   "version": subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()},
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "hook_post_tool_use": hooks,
        "wake": wake,
        "wake_waiting_cpu": cpu,
        "send_to_next_request_claude_code": claude,
        "seconds": round(time.time() - started, 1),
        "problems": problems,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    def ms(s):
        return "p50 %.1f ms, p99 %.1f ms" % (s["p50_ms"], s["p99_ms"])

    rows = [
        ("`switchboard hook claude PostToolUse`, nothing new (%d runs, incl. process start)" % RUNS,
         ms(hooks["nothing_new"]), "p99 < %d ms" % TARGET_HOOK_P99_MS),
        ("`switchboard hook claude PostToolUse`, one new message each run (%d runs)" % RUNS,
         ms(hooks["one_new_message"]), "p99 < %d ms" % TARGET_HOOK_P99_MS),
        ("idle wake: send issued → `hook claude Wake` exits 2 (%d rounds, send 300 ms after the hook starts)"
         % WAKE_ROUNDS, ms(wake["latency"]), ""),
        ("idle wake, send 300–500 ms (uniform) after the hook starts (%d rounds)" % WAKE_ROUNDS,
         ms(wake["latency_jittered"]), ""),
        ("`switchboard send` (CLI, whole process) during the wake rounds", ms(wake["cli_send"]), ""),
        ("CPU of a waiting wake hook over %.0f s" % cpu["seconds"],
         "%.3f %% of one core (%.0f ms)" % (cpu["percent_of_one_core"], cpu["cpu_ms"]), ""),
    ]
    if claude and claude.get("latency"):
        rows.append(("send completed → next model request of the real Claude Code carries it (%d rounds)"
                     % claude["latency"]["n"], ms(claude["latency"]), ""))
    print("\n| measurement | result | target |\n|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)
    print("\nwrote %s in %.0f s%s" % (args.out, time.time() - started,
                                       "; %d problem(s)" % len(problems) if problems else ""))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
