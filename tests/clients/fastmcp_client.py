"""Independent client test: the FastMCP client (PyPI `fastmcp` 2.13.x) against the switchboard binary.

FastMCP's `Client.call_tool` does more than the official SDK: besides the SDK's jsonschema validation of
`structuredContent` against the tool's `outputSchema` (mcp 1.x `ClientSession._validate_tool_result`,
which raises), it turns the `outputSchema` into Python types (`fastmcp.utilities.json_schema_type.
json_schema_to_type`: a dataclass per object schema, one field per property) and validates the result
into them, giving `.data`. When that fails it does NOT raise: it logs
    [<client name>] Error parsing structured content: <exception>
at ERROR on the logger `fastmcp.client.client`, and returns `.data = None`. This script captures that
logger and fails on any such record, so every tool's output schema must be one FastMCP can turn into
types (no property named after a Python keyword such as `from`, ...).

Two combinations, each as its own agent:
  stdio  `switchboard mcp` started WITHOUT --agent in the scratch repo; session_start names the agent;
  http   the running `switchboard serve` at --url, with a bearer token made by `switchboard token create`.
Each one: tools/list, then session_start, whoami, agent_register (itself), message_send to the peer,
inbox_read and message_wait (timeout_secs 1) of a message the peer sent from ANOTHER PROCESS
(`switchboard send --as PEER`), message_wait that times out, message_search, session_list, session_tree,
worktree_list, agent_list, group_create, group_list. For every call:
  - the call succeeds (no isError, no jsonschema error from the SDK);
  - `structured_content` is a dict with the expected keys;
  - FastMCP parsed it: nothing logged on `fastmcp.client.client`, and `.data` is not None and has the
    same keys (and, where checked, the same values).
After tools/list, every listed tool's outputSchema (also the tools not called) must convert to FastMCP's
types, and on a parse failure the line also gives a diagnosis: the schema's keyword-named properties and
the error FastMCP gives with an empty type cache (its process-wide cache of generated classes keeps a
placeholder for a sub-schema that failed, so later tools sharing it fail with misleading ForwardRef('Root')
or "Field required" errors).

usage: fastmcp_client.py --bin ABS_SWITCHBOARD --repo GIT_REPO --url http://127.0.0.1:PORT/mcp [--only stdio|http ...]
Needs `switchboard serve` already running on that repo at --url (for the http combination). Prints one
PASS/FAIL line per check and exits non-zero if any check failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import keyword
import logging
import os
import sys
import time
import traceback
import warnings

# fastmcp 2.13 imports authlib modules that warn about their own deprecation on import: not ours to judge.
# (authlib.deprecate installs an "always" filter for its warning class, so ours goes in after it.)
import authlib.deprecate  # noqa: E402

warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)

import anyio  # noqa: E402
import fastmcp  # noqa: E402
import fastmcp.client.client as fastmcp_client_module  # noqa: E402
import pydantic  # noqa: E402
from fastmcp import Client  # noqa: E402
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport  # noqa: E402
from fastmcp.utilities import json_schema_type  # noqa: E402
from fastmcp.utilities.types import get_cached_typeadapter  # noqa: E402

BOUND = 40  # client-side bound on anything that waits for the server
COMBOS = ["stdio", "http"]
RUN_TAG = os.urandom(2).hex()
PARSE_ERROR = "Error parsing structured content"
# The logger FastMCP's Client.call_tool logs the parse failure on (fastmcp/client/client.py:
# `logger = get_logger(__name__)`, `logger.error(f"[{self.name}] Error parsing structured content: {e}")`).
PARSE_LOGGER = fastmcp_client_module.logger.name
TOOLS_USED = [
    "session_start", "whoami", "agent_register", "message_send", "inbox_read", "message_wait",
    "message_search", "session_list", "session_tree", "worktree_list", "agent_list", "group_create", "group_list",
]


class Check(AssertionError):
    pass


def check(cond: object, what: str) -> None:
    if not cond:
        raise Check(what)


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}


class Collector(logging.Handler):
    """Keeps every record at WARNING or above logged under fastmcp.client.client."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def data_keys(data: object) -> set[str] | None:
    """The keys FastMCP's parsed `.data` holds (a dataclass, a pydantic model or a dict)."""
    if isinstance(data, dict):
        return set(data)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return {f.name for f in dataclasses.fields(data)}
    if isinstance(data, pydantic.BaseModel):
        return set(type(data).model_fields) | set(data.model_extra or {})
    return None


def get(data: object, key: str) -> object:
    return data[key] if isinstance(data, dict) else getattr(data, key)


def keyword_properties(schema: object, path: str = "") -> list[str]:
    """JSON paths of the properties named after a Python keyword (FastMCP makes a dataclass field of each)."""
    found = []
    if isinstance(schema, dict):
        for name in schema.get("properties") or {}:
            if keyword.iskeyword(name):
                found.append(f"{path}/properties/{name}")
        for k, v in schema.items():
            found += keyword_properties(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            found += keyword_properties(v, f"{path}/{i}")
    return found


def diagnose(schema: dict | None, structured: object) -> str:
    """Why FastMCP cannot parse: the schema's keyword-named properties, and the error it gives with an empty
    type cache. (After one failure FastMCP's process-wide cache of generated classes keeps a placeholder for
    the failed sub-schema, so later tools sharing it report a misleading ForwardRef('Root') error instead.)"""
    if not schema:
        return "no outputSchema"
    notes = []
    if kw := keyword_properties(schema):
        notes.append(f"properties named after a Python keyword: {', '.join(kw)}")
    saved = dict(json_schema_type._classes)
    json_schema_type._classes.clear()
    try:
        get_cached_typeadapter(json_schema_type.json_schema_to_type(schema)).validate_python(structured)
        notes.append("with an empty type cache it parses")
    except Exception as e:  # noqa: BLE001 - this is the diagnosis
        notes.append(f"with an empty type cache: {type(e).__name__}: {e}")
    finally:
        json_schema_type._classes.clear()
        json_schema_type._classes.update(saved)
    return "; ".join(notes)


class Run:
    """One combination: counts checks and prints one line per check."""

    def __init__(self, combo: str, binary: str, repo: str) -> None:
        self.combo, self.binary, self.repo = combo, binary, repo
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.collector = Collector()
        self.output_schemas: dict[str, dict | None] = {}

    def line(self, ok: bool, name: str, msg: str) -> None:
        (self.passed if ok else self.failed).append(name)
        msg = " ".join(msg.split())  # pydantic's errors span lines: one line per check
        print(f"[fastmcp {self.combo}] {'PASS' if ok else 'FAIL'} {name}: {msg}", flush=True)

    async def sb(self, args: list[str]) -> str:
        """Run the switchboard CLI in another process; return stdout, fail loudly on a non-zero exit."""
        with anyio.fail_after(BOUND):
            proc = await anyio.run_process([self.binary, *args], cwd=self.repo, env=clean_env(), check=False)
        if proc.returncode != 0:
            raise Check(f"`switchboard {' '.join(args)}` exited {proc.returncode}: {proc.stderr.decode().strip()}")
        return proc.stdout.decode()

    async def call(self, client: Client, tool: str, args: dict, keys: list[str], label: str | None = None):
        """Calls a tool and checks FastMCP parsed its structured content; returns (structured, data) or None."""
        name = label or tool
        start = len(self.collector.records)
        try:
            with anyio.fail_after(BOUND):
                res = await client.call_tool(tool, args, raise_on_error=False)
        except Exception as e:  # noqa: BLE001 - e.g. the SDK's RuntimeError for a jsonschema mismatch
            self.line(False, name, f"call raised {type(e).__name__}: {e}"[:1500])
            return None
        logged = [r.getMessage() for r in self.collector.records[start:]]
        problems = []
        parse_errors = [m for m in logged if PARSE_ERROR in m]
        if parse_errors:
            for m in parse_errors:
                problems.append(f"fastmcp could not parse the structured content of {tool}: {m}")
            problems.append(f"diagnosis: {diagnose(self.output_schemas.get(tool), res.structured_content)}")
        elif logged:
            problems.append(f"{PARSE_LOGGER} logged: {logged}")
        sc = res.structured_content
        if res.is_error:
            text = " ".join(getattr(c, "text", "") for c in res.content)
            problems.append(f"isError: {text}")
        elif not isinstance(sc, dict):
            problems.append(f"no structured_content (got {sc!r})")
        else:
            missing = [k for k in keys if k not in sc]
            if missing:
                problems.append(f"structured_content lacks {missing}; has {sorted(sc)}")
            if res.data is None:
                problems.append(".data is None (fastmcp did not parse the structured content)")
            else:
                dk = data_keys(res.data)
                if dk is None:
                    problems.append(f".data is a {type(res.data).__name__}, not a dataclass, model or dict")
                else:
                    missing = [k for k in keys if k not in dk]
                    if missing:
                        problems.append(f".data ({type(res.data).__name__}) lacks {missing}; has {sorted(dk)}")
        if problems:
            self.line(False, name, " | ".join(problems)[:4000])
            return None
        return sc, res.data

    async def checked(self, client: Client, tool: str, args: dict, keys: list[str], verify=None, label: str | None = None):
        """call() plus a tool-specific check of the values; prints the one line for this check."""
        name = label or tool
        got = await self.call(client, tool, args, keys, label)
        if got is None:
            return None
        sc, data = got
        try:
            note = verify(sc, data) if verify else None
        except Check as e:
            self.line(False, name, str(e)[:1500])
            return None
        except Exception as e:  # noqa: BLE001 - e.g. an attribute the parsed .data lacks
            self.line(False, name, f"checking the result raised {type(e).__name__}: {e}"[:1500])
            return None
        self.line(True, name, note or f"structured content parsed into {type(data).__name__} with {sorted(keys)}")
        return sc, data


async def run_combo(combo: str, binary: str, repo: str, url: str) -> Run:
    run = Run(combo, binary, repo)
    me = f"fm-{combo}-{RUN_TAG}"
    peer = f"{me}-peer"
    group = f"fm-{combo}-{RUN_TAG}-group"
    stamp = f"{int(time.time() * 1000)}"
    word = f"fmword{RUN_TAG}{combo}"

    if combo == "stdio":
        # No --agent: session_start names the agent. Only a minimal environment (no SWITCHBOARD_*).
        env = {k: v for k, v in clean_env().items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "RUST_LOG")}
        transport = StdioTransport(command=binary, args=["mcp"], env=env, cwd=repo, keep_alive=False)
    else:
        token = (await run.sb(["token", "create", "--agent", me])).strip()
        check(token.startswith("sbt_"), f"token create printed {token[:12]!r}…, expected an sbt_ secret")
        transport = StreamableHttpTransport(url, headers={"Authorization": f"Bearer {token}"})

    parse_log = logging.getLogger(PARSE_LOGGER)
    parse_log.addHandler(run.collector)
    # The checks print what FastMCP logs there; its own (multi-line, rich) console handler need not.
    parse_log_propagate, parse_log.propagate = parse_log.propagate, False
    # The SDK's streamable HTTP transport warns when the session DELETE sent on close is not accepted.
    http_log = logging.getLogger("mcp.client.streamable_http")
    http_records = Collector()
    http_log.addHandler(http_records)
    try:
        async with Client(transport, name=f"fastmcp-{combo}", timeout=BOUND, init_timeout=BOUND) as client:
            init = client.initialize_result
            run.line(True, "initialize", f"protocol {init.protocolVersion}, server {init.serverInfo.name} {init.serverInfo.version}")

            tools = {t.name: t for t in await client.list_tools()}
            run.output_schemas = {name: t.outputSchema for name, t in tools.items()}
            missing = [n for n in TOOLS_USED if n not in tools]
            no_schema = [n for n in TOOLS_USED if n in tools and not tools[n].outputSchema]
            run.line(not missing and not no_schema, "tools/list",
                     f"{len(tools)} tools" + (f"; missing {missing}" if missing else "")
                     + (f"; without outputSchema {no_schema}" if no_schema else ""))

            # Every tool's outputSchema, also those not called below, must be one FastMCP can make types of
            # (json_schema_to_type + TypeAdapter, as Client.call_tool does), each with an empty type cache.
            unbuildable = []
            for name, schema in sorted(run.output_schemas.items()):
                saved = dict(json_schema_type._classes)
                json_schema_type._classes.clear()
                try:
                    get_cached_typeadapter(json_schema_type.json_schema_to_type(schema or {"type": "object"})).core_schema
                except Exception as e:  # noqa: BLE001
                    kw = keyword_properties(schema)
                    unbuildable.append(f"{name} ({type(e).__name__}: {e}{'; keyword properties: ' + ', '.join(kw) if kw else ''})")
                finally:
                    json_schema_type._classes.clear()
                    json_schema_type._classes.update(saved)
            run.line(not unbuildable, "outputSchema -> fastmcp types",
                     f"{len(unbuildable)} of {len(tools)} tools' output schemas fail: {'; '.join(unbuildable)}" if unbuildable
                     else f"all {len(tools)} tools' output schemas convert")

            # session_start: over stdio it names the agent; over HTTP the token does.
            start_args = {"intent": f"fastmcp {combo}"}
            if combo == "stdio":
                start_args["agent"] = me

            def v_start(sc, data):
                s = sc["session"]
                check(sc.get("agent") == me, f"agent is {sc.get('agent')!r}, expected {me!r}")
                check(str(s.get("id", "")).startswith("ses_"), f"no ses_ id: {s!r}"[:400])
                check(s.get("status") == "active", f"session.status {s.get('status')!r}")
                check(get(get(data, "session"), "id") == s["id"], f".data.session.id != {s['id']}")
                check(get(data, "agent") == me, f".data.agent is not {me}")
                return f"{s['id']} for {me}; .data.session.id matches"

            started = await run.checked(client, "session_start", start_args, ["agent", "session", "unread", "note"], v_start)
            session_id = started[0]["session"]["id"] if started else None

            def v_whoami(sc, data):
                check(sc["agent"] == me, f"agent {sc['agent']!r}, expected {me!r}")
                check(get(data, "agent") == me, f".data.agent {get(data, 'agent')!r}")
                if session_id:
                    check((sc.get("session") or {}).get("id") == session_id, f"session {sc.get('session')!r}"[:400])
                return f"agent {me}, session {session_id}"

            await run.checked(client, "whoami", {}, ["agent", "session", "process", "state_db"], v_whoami)

            def v_register(sc, data):
                check(sc["name"] == me and get(data, "name") == me, f"registered {sc['name']!r}")
                check(sc["description"] == "fastmcp test", f"description {sc['description']!r}")
                return f"registered {me} (an agent registers only itself)"

            await run.checked(client, "agent_register", {"description": "fastmcp test"},
                              ["name", "kind", "description", "last_seen_at", "live_sessions"], v_register)

            # The peer takes part from ANOTHER PROCESS (the CLI registers it as it sends): a message from
            # it, for message_wait and inbox_read.
            in_body = f"hi {me} from {peer} {stamp}"
            await run.sb(["send", "--as", peer, "--to", me, in_body])

            # A message is identified by its body; its sender is `sender` (`from` would be a Python keyword).
            msg_keys = ["id", "seq", "thread", "sender", "to", "subject", "body", "priority", "sent_at"]
            out_body = f"hello from {me} {stamp} {word}"

            def v_send(sc, data):
                check(sc["to"] == [peer], f"to {sc['to']!r}")
                check("body" not in sc, f"the body is echoed back: {sc!r}"[:400])
                check(str(sc["id"]).startswith("msg_"), f"id {sc['id']!r}")
                check(get(data, "id") == sc["id"], f".data.id {get(data, 'id')!r}")
                return f"{sc['id']} to {peer}"

            await run.checked(client, "message_send", {"to": [peer], "body": out_body, "subject": "fastmcp test"},
                              ["id", "seq", "thread", "to"], v_send)

            def body_in(items, what):
                bodies = [m.get("body") for m in items]
                check(in_body in bodies, f"{what} lacks the peer's message {in_body!r}: {bodies!r}"[:600])
                return next(m for m in items if m.get("body") == in_body)

            def v_wait(sc, data):
                check(sc["timed_out"] is False, f"timed_out {sc['timed_out']!r} with an unread message waiting")
                m = body_in(sc["messages"], "message_wait messages")
                check(m.get("sender") == peer, f"sender {m.get('sender')!r}, expected {peer!r}")
                check(len(get(data, "messages")) == len(sc["messages"]), ".data.messages differs")
                return "returned the waiting message at once"

            await run.checked(client, "message_wait", {"timeout_secs": 1}, ["messages", "timed_out"], v_wait)

            def v_inbox(sc, data):
                m = body_in(sc["messages"], "inbox_read messages")
                # The peer's message has no subject and a normal priority: absent and default
                # fields are left out, never null.
                keys = [k for k in msg_keys if k not in ("subject", "priority")]
                check(all(k in m for k in keys), f"a message lacks some of {keys}: {sorted(m)}")
                check(all(v is not None for v in m.values()), f"a null in {m!r}"[:400])
                check(any(get(d, "body") == in_body for d in get(data, "messages")), ".data.messages lacks the message")
                return f"{len(sc['messages'])} messages, {sc['unread']} unread, the peer's among them"

            await run.checked(client, "inbox_read", {}, ["messages", "unread"], v_inbox)

            def v_wait_empty(sc, data):
                check(sc["timed_out"] is True and sc["messages"] == [], f"expected a timeout with no messages: {sc!r}"[:400])
                check(sc.get("older_unread", 0) >= 1, f"the unread message shown before is not counted: {sc!r}"[:400])
                check(get(data, "timed_out") is True, ".data.timed_out is not True")
                return "timed out after 1 s: the message already shown is counted in older_unread, not repeated"

            await run.checked(client, "message_wait", {"timeout_secs": 1},
                              ["messages", "older_unread", "timed_out"], v_wait_empty, label="message_wait (timeout)")

            def v_search(sc, data):
                check(len(sc["hits"]) >= 1, f"no hits for {word!r}: {sc!r}"[:400])
                check(len(get(data, "hits")) == len(sc["hits"]), ".data.hits differs")
                return f"{len(sc['hits'])} hit(s) for {word}"

            await run.checked(client, "message_search", {"query": word}, ["hits"], v_search)

            def v_sessions(sc, data):
                ids = [s.get("id") for s in sc["sessions"]]
                check(session_id in ids, f"{session_id} not in {ids}"[:400])
                check(len(get(data, "sessions")) == len(ids), ".data.sessions differs")
                return f"{len(ids)} sessions, ours among them"

            await run.checked(client, "session_list", {}, ["sessions"], v_sessions)

            def v_tree(sc, data):
                check(sc["root"] == session_id and sc["focus"] == session_id, f"root {sc['root']!r} focus {sc['focus']!r}")
                check(get(get(data, "nodes")[0], "id") == session_id, ".data.nodes[0].id differs")
                return f"root {sc['root']}, {len(sc['nodes'])} node(s)"

            await run.checked(client, "session_tree", {}, ["root", "focus", "nodes"], v_tree)

            def v_worktrees(sc, data):
                check(isinstance(sc["worktrees"], list), f"worktrees {sc['worktrees']!r}")
                return f"{len(sc['worktrees'])} worktree(s)"

            await run.checked(client, "worktree_list", {}, ["worktrees"], v_worktrees)

            def v_agents(sc, data):
                names = [a.get("name") for a in sc["agents"]]
                check(me in names and peer in names, f"{me} or {peer} not in {names}"[:400])
                check(len(get(data, "agents")) == len(names), ".data.agents differs")
                return f"{len(names)} agents, {me} and {peer} among them"

            await run.checked(client, "agent_list", {}, ["agents"], v_agents)

            def v_group(sc, data):
                members = sorted(m.get("name") for m in sc["members"])
                check(sc["name"] == group and members == sorted([me, peer]), f"group {sc!r}"[:400])
                check(get(data, "name") == group, ".data.name differs")
                check(sorted(get(m, "name") for m in get(data, "members")) == members, ".data.members differ")
                return f"@{group} with {members}"

            await run.checked(client, "group_create", {"name": group, "members": [me, peer], "description": "fastmcp test"},
                              ["name", "description", "members", "created_by", "created_at"], v_group)

            def v_groups(sc, data):
                names = [g.get("name") for g in sc["groups"]]
                check(group in names, f"{group} not in {names}")
                return f"{len(names)} group(s), ours among them"

            await run.checked(client, "group_list", {}, ["groups"], v_groups)
    finally:
        parse_log.removeHandler(run.collector)
        parse_log.propagate = parse_log_propagate
        http_log.removeHandler(http_records)
    if combo == "http":
        failed = [r.getMessage() for r in http_records.records if "termination failed" in r.getMessage()]
        run.line(not failed, "session DELETE on close", f"not accepted: {failed}" if failed else "accepted")
    return run


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--only", action="append", choices=COMBOS)
    a = ap.parse_args()
    results: dict[str, str] = {}
    for combo in a.only or COMBOS:
        t0 = time.monotonic()
        try:
            run = await run_combo(combo, a.bin, a.repo, a.url)
            n_ok, bad = len(run.passed), run.failed
            results[combo] = (f"PASS ({n_ok} checks" if not bad else f"FAIL ({len(bad)} of {n_ok + len(bad)} checks failed: {', '.join(bad)}") + f", {time.monotonic() - t0:.1f}s)"
        except BaseException as e:  # noqa: BLE001 - report every combination
            if isinstance(e, KeyboardInterrupt):
                raise
            print(f"[fastmcp {combo}] FAIL: aborted:", flush=True)
            traceback.print_exc()
            leaf = e
            while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                leaf = leaf.exceptions[0]
            results[combo] = f"FAIL: {type(leaf).__name__}: {leaf}"[:400]
    print(f"fastmcp {fastmcp.__version__} client (mcp {__import__('importlib.metadata').metadata.version('mcp')}) results:")
    for combo, res in results.items():
        print(f"  {combo:6} {res}")
    return 0 if all(r.startswith("PASS") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
