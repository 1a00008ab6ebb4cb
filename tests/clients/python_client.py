"""Independent client test: the official Python MCP SDK (mcp==2.3.0) against the switchboard binary.

Runs four combinations, {legacy, auto} x {stdio, http}:

  legacy  initialize handshake, protocol 2025-11-25, resources/subscribe + message_handler
  auto    server/discover probe, must negotiate 2026-07-28, subscriptions/listen

Each combination, as its own agent:
  1. connects and checks the negotiated protocol version;
  2. tools/list contains session_start, message_send and message_wait;
  3. session_start (the identity comes from --agent over stdio, from the bearer token over HTTP);
  4. message_send to another agent, checked from another process (`switchboard inbox --as PEER`);
  5. message_wait is woken by a message sent by ANOTHER PROCESS (`switchboard send --as PEER`);
  6. resources/read switchboard://inbox returns JSON holding that message;
  7. a subscription to switchboard://inbox gets notifications/resources/updated when another
     process sends a message, and the inbox then holds it.

usage: python_client.py --bin ABS_SWITCHBOARD --repo GIT_REPO --url http://127.0.0.1:PORT/mcp [--only legacy-stdio ...]
Needs `switchboard serve` already running on that repo at --url. Exits non-zero on the first failure of a
combination (the other combinations still run), printing one PASS/FAIL line per combination.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
import warnings

import anyio
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated
from mcp.shared._httpx_utils import create_mcp_http_client

# subscribe_resource/unsubscribe_resource are deprecated for 2026 servers; the legacy combo uses them on purpose.
warnings.filterwarnings("ignore", message="resources/(un)?subscribe is removed")

INBOX = "switchboard://inbox"
WAIT_SECS = 30  # message_wait timeout given to the server
BOUND = 40  # client-side bound on anything that waits for the server
LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
COMBOS = ["legacy-stdio", "legacy-http", "auto-stdio", "auto-http"]
RUN_TAG = os.urandom(2).hex()


class Check(AssertionError):
    pass


def check(cond: object, what: str) -> None:
    if not cond:
        raise Check(what)


def log(combo: str, msg: str) -> None:
    print(f"[python {combo}] {msg}", flush=True)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    return env


async def sb(args: list[str], repo: str, binary: str) -> str:
    """Run the switchboard CLI in another process; return stdout, fail loudly on a non-zero exit."""
    with anyio.fail_after(BOUND):
        proc = await anyio.run_process([binary, *args], cwd=repo, env=clean_env(), check=False)
    out = proc.stdout.decode()
    if proc.returncode != 0:
        raise Check(f"`switchboard {' '.join(args)}` exited {proc.returncode}: {proc.stderr.decode().strip()}")
    return out


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def tool_ok(result: types.CallToolResult, name: str) -> dict:
    check(not result.is_error, f"{name} returned isError: {text_of(result)!r}")
    check(isinstance(result.structured_content, dict), f"{name} has no structuredContent: {result!r}")
    check(text_of(result).strip() != "", f"{name} has no text content")
    return result.structured_content  # type: ignore[return-value]


def inbox_json(result: types.ReadResourceResult) -> dict:
    check(len(result.contents) >= 1, f"{INBOX} returned no contents")
    content = result.contents[0]
    check(str(content.uri) == INBOX, f"{INBOX} content has uri {content.uri!r}")
    check(isinstance(content, types.TextResourceContents), f"{INBOX} content is not text: {content!r}")
    try:
        data = json.loads(content.text)
    except json.JSONDecodeError as e:
        raise Check(f"{INBOX} is not JSON ({e}): {content.text[:200]!r}") from e
    check(isinstance(data, dict) and isinstance(data.get("messages"), list), f"{INBOX} JSON has no messages list: {data!r}"[:400])
    return data


def bodies(messages: list) -> list:
    return [m.get("body") for m in messages if isinstance(m, dict)]


async def run_combo(combo: str, binary: str, repo: str, url: str) -> None:
    mode, transport = combo.split("-")
    # Agent names are [a-z0-9][a-z0-9_-]{0,31}; a per-run tag keeps reruns on one repo independent.
    me = f"py-{mode}-{transport}-{RUN_TAG}"
    peer = f"{me}-peer"
    stamp = f"{int(time.time() * 1000)}"

    # The peer must exist before we message it (unknown recipients fail the whole send). Sending as it
    # registers it; `me` may not exist yet, so this first message goes to the peer itself.
    await sb(["send", "--as", peer, "--to", peer, f"peer {peer} says hello to itself"], repo, binary)

    updates: list[tuple[float, str]] = []

    async def on_message(msg) -> None:  # every server notification, and transport exceptions
        if isinstance(msg, Exception):
            log(combo, f"transport exception: {msg!r}")
            return
        if isinstance(msg, types.ResourceUpdatedNotification):
            updates.append((time.monotonic(), str(msg.params.uri)))

    async def flow(server) -> None:
        async with Client(server, mode=mode, message_handler=on_message, read_timeout_seconds=BOUND) as client:
            # 1. negotiated version
            want = LEGACY_VERSION if mode == "legacy" else MODERN_VERSION
            check(client.protocol_version == want, f"negotiated {client.protocol_version!r}, expected {want!r}")
            log(combo, f"negotiated {client.protocol_version}")

            # 2. tools/list
            tools = {t.name: t for t in (await client.list_tools()).tools}
            for name in ("session_start", "message_send", "message_wait"):
                check(name in tools, f"tools/list lacks {name}; has {sorted(tools)}")
            log(combo, f"tools/list: {len(tools)} tools")

            # 3. session_start
            started = tool_ok(await client.call_tool("session_start", {"intent": f"python sdk {combo}"}), "session_start")
            session = started.get("session") or {}
            check(started.get("agent") == me, f"session_start: agent is {started.get('agent')!r}, expected {me!r}: {started!r}"[:600])
            check(str(session.get("id", "")).startswith("ses_"), f"session_start: no ses_ id: {started!r}"[:600])
            check(session.get("status") == "active", f"session_start: status {session.get('status')!r}")
            log(combo, f"session_start -> {session['id']}")

            # 4. message_send to another agent, checked from another process
            out_body = f"hello from {me} {stamp}"
            sent = tool_ok(
                await client.call_tool("message_send", {"to": [peer], "body": out_body, "subject": "sdk test"}),
                "message_send",
            )
            # The answer says where the message went; it does not echo the body back.
            check(sent.get("to") == [peer], f"message_send: to {sent.get('to')!r}")
            check(str(sent.get("thread", "")).startswith("thr_"), f"message_send: thread {sent.get('thread')!r}")
            check(str(sent.get("id", "")).startswith("msg_"), f"message_send: id {sent.get('id')!r}")
            peer_inbox = json.loads(await sb(["inbox", "--as", peer, "--from", me, "--json"], repo, binary))
            peer_msgs = peer_inbox["messages"] if isinstance(peer_inbox, dict) else peer_inbox
            check(out_body in bodies(peer_msgs), f"peer's inbox (other process) lacks the sent message: {peer_inbox!r}"[:600])
            log(combo, f"message_send -> {sent['id']}, seen in {peer}'s inbox by another process")

            # 5. message_wait woken by another process
            wake_body = f"wake up {me} {stamp}"
            box: dict = {}

            async def waiter() -> None:
                box["result"] = await client.call_tool(
                    "message_wait", {"timeout_secs": WAIT_SECS, "from": peer}, read_timeout_seconds=BOUND
                )

            t0 = time.monotonic()
            with anyio.fail_after(BOUND):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(waiter)
                    await anyio.sleep(1.0)
                    check("result" not in box, f"message_wait returned before any message was sent: {box.get('result')!r}"[:600])
                    await sb(["send", "--as", peer, "--to", me, wake_body], repo, binary)
            waited = time.monotonic() - t0
            woke = tool_ok(box["result"], "message_wait")
            check(woke.get("timed_out") is False, f"message_wait timed_out={woke.get('timed_out')!r}: {woke!r}"[:600])
            check(wake_body in bodies(woke.get("messages", [])), f"message_wait messages lack {wake_body!r}: {woke!r}"[:600])
            check(all(m.get("sender") == peer for m in woke["messages"]), f"message_wait: a message not from {peer}: {woke!r}"[:600])
            check(waited < WAIT_SECS, f"message_wait took {waited:.1f}s (it was not woken, it timed out)")
            log(combo, f"message_wait woken by another process after {waited:.2f}s")

            # 6. resources/read switchboard://inbox
            inbox = inbox_json(await client.read_resource(INBOX, cache_mode="bypass"))
            check(wake_body in bodies(inbox["messages"]), f"{INBOX} lacks {wake_body!r}: {inbox!r}"[:600])
            log(combo, f"resources/read {INBOX}: {len(inbox['messages'])} messages")

            # 7. subscription: notifications/resources/updated for the inbox after another process sends
            note_body = f"notify {me} {stamp}"
            if mode == "legacy":
                await client.subscribe_resource(INBOX)
                sent_at = time.monotonic()
                await sb(["send", "--as", peer, "--to", me, note_body], repo, binary)
                with anyio.fail_after(BOUND):
                    while not any(t >= sent_at and uri == INBOX for t, uri in updates):
                        await anyio.sleep(0.05)
                got_after = time.monotonic() - sent_at
                await client.unsubscribe_resource(INBOX)
            else:
                async with client.listen(resource_subscriptions=[INBOX]) as sub:
                    honored = list(sub.honored.resource_subscriptions or [])
                    check(INBOX in honored, f"subscriptions/listen did not honour {INBOX}: {sub.honored!r}")
                    sent_at = time.monotonic()
                    await sb(["send", "--as", peer, "--to", me, note_body], repo, binary)
                    event = None
                    with anyio.fail_after(BOUND):
                        async for ev in sub:
                            if isinstance(ev, ResourceUpdated) and ev.uri == INBOX:
                                event = ev
                                break
                    check(event is not None, "listen stream ended without a resources/updated event")
                    got_after = time.monotonic() - sent_at
                # The SDK also tees listen notifications to message_handler after validating them against
                # the 2026-07-28 schema (an invalid one is dropped with a warning): wait for that copy too.
                try:
                    with anyio.fail_after(5):
                        while not any(t >= sent_at and uri == INBOX for t, uri in updates):
                            await anyio.sleep(0.02)
                except TimeoutError:
                    raise Check("the listen notification never reached message_handler (failed SDK validation?)") from None
            inbox = inbox_json(await client.read_resource(INBOX, cache_mode="bypass"))
            check(note_body in bodies(inbox["messages"]), f"{INBOX} after the update lacks {note_body!r}")
            log(combo, f"notifications/resources/updated {INBOX} {got_after:.2f}s after another process sent")

    if transport == "stdio":
        params = StdioServerParameters(
            command=binary,
            args=["mcp", "--agent", me],
            env={k: v for k, v in clean_env().items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "RUST_LOG")},
            cwd=repo,
        )
        await flow(params)
    else:
        token = (await sb(["token", "create", "--agent", me], repo, binary)).strip()
        check(token.startswith("sbt_"), f"token create printed {token[:12]!r}…, expected an sbt_ secret")
        # The transport logs a warning when the session DELETE it sends on close is not answered as it
        # expects (200, 204, or 405 = not supported); collect those to assert the session ended cleanly.
        transport_log = logging.getLogger("mcp.client.streamable_http")
        records: list[logging.LogRecord] = []
        collector = logging.Handler(logging.WARNING)
        collector.emit = records.append  # type: ignore[method-assign]
        transport_log.addHandler(collector)
        try:
            async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
                await flow(streamable_http_client(url, http_client=http))
        finally:
            transport_log.removeHandler(collector)
        failed = [r.getMessage() for r in records if "termination failed" in r.getMessage()]
        check(
            not failed,
            f"closing the session (HTTP DELETE with Mcp-Session-Id) was reported as failed by the SDK: {failed} "
            "(mcp 2.3.0 accepts 200 or 204, or 405 for 'not supported')",
        )
        if mode == "legacy":
            log(combo, "session DELETE on close accepted by the SDK")


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
            await run_combo(combo, a.bin, a.repo, a.url)
            results[combo] = f"PASS ({time.monotonic() - t0:.1f}s)"
        except BaseException as e:  # noqa: BLE001 - report every combination
            if isinstance(e, KeyboardInterrupt):
                raise
            log(combo, "FAILED:")
            traceback.print_exc()
            leaf = e
            while isinstance(leaf, BaseExceptionGroup) and leaf.exceptions:
                leaf = leaf.exceptions[0]
            results[combo] = f"FAIL: {type(leaf).__name__}: {leaf}"[:400]
    print("python sdk (mcp==2.3.0) results:")
    for combo, res in results.items():
        print(f"  {combo:13} {res}")
    return 0 if all(r.startswith("PASS") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
