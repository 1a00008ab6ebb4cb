// Independent client test: the official TypeScript SDK 1.x (@modelcontextprotocol/sdk@1.32.2) against the
// switchboard binary, over stdio and over streamable HTTP with a bearer token. SDK 1.x only speaks the
// 2025-11-25 era: initialize, resources/subscribe and notifications/resources/updated.
//
// Each transport, as its own agent:
//   1. initialize negotiates 2025-11-25;
//   2. tools/list contains session_start, message_send and message_wait;
//   3. session_start; 4. message_send to another agent (checked from another process);
//   5. message_wait is woken by a message sent by ANOTHER PROCESS (`switchboard send --as PEER`);
//   6. resources/read switchboard://inbox is JSON holding that message;
//   7. resources/subscribe switchboard://inbox, then another process sends: notifications/resources/updated.
//
// usage: node ts_client.mjs --bin ABS_SWITCHBOARD --repo GIT_REPO --url http://127.0.0.1:PORT/mcp [--only stdio|http]
// Needs `switchboard serve` already running on that repo at --url. Runs on Node >= 18 (tested with 20 and 22).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs, promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const run = promisify(execFile);
const INBOX = 'switchboard://inbox';
const WAIT_SECS = 30; // message_wait timeout given to the server
const BOUND_MS = 40_000; // client-side bound on anything that waits for the server
const RUN_TAG = randomBytes(2).toString('hex');

const { values: opt } = parseArgs({
  options: {
    bin: { type: 'string' },
    repo: { type: 'string' },
    url: { type: 'string' },
    only: { type: 'string', multiple: true },
  },
});
if (!opt.bin || !opt.repo || !opt.url) {
  console.error('usage: node ts_client.mjs --bin ABS_SWITCHBOARD --repo GIT_REPO --url URL [--only stdio|http]');
  process.exit(2);
}

class Check extends Error {}
function check(cond, what) {
  if (!cond) throw new Check(what);
}
const clip = (v) => JSON.stringify(v)?.slice(0, 600);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function within(ms, promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Check(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  return env;
}

/** Runs the switchboard CLI in another process; returns stdout; a non-zero exit fails the check. */
async function sb(args) {
  try {
    const { stdout } = await run(opt.bin, args, { cwd: opt.repo, env: cleanEnv(), timeout: BOUND_MS });
    return stdout;
  } catch (e) {
    throw new Check(`\`switchboard ${args.join(' ')}\` failed (exit ${e.code}): ${String(e.stderr ?? e).trim()}`);
  }
}

function textOf(result) {
  return (result.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}
function toolOk(result, name) {
  check(!result.isError, `${name} returned isError: ${textOf(result)}`);
  check(result.structuredContent && typeof result.structuredContent === 'object', `${name} has no structuredContent: ${clip(result)}`);
  check(textOf(result).trim() !== '', `${name} has no text content`);
  return result.structuredContent;
}
function inboxJson(result) {
  check(result.contents?.length >= 1, `${INBOX} returned no contents`);
  const c = result.contents[0];
  check(c.uri === INBOX, `${INBOX} content has uri ${c.uri}`);
  check(typeof c.text === 'string', `${INBOX} content is not text: ${clip(c)}`);
  let data;
  try {
    data = JSON.parse(c.text);
  } catch (e) {
    throw new Check(`${INBOX} is not JSON (${e.message}): ${c.text.slice(0, 200)}`);
  }
  check(data && Array.isArray(data.messages), `${INBOX} JSON has no messages list: ${clip(data)}`);
  return data;
}
const bodies = (messages) => messages.map((m) => m?.body);

/** Records the raw JSON-RPC messages the server sends, whatever handler the SDK installs. */
function spyOn(transport) {
  const seen = [];
  let handler;
  Object.defineProperty(transport, 'onmessage', {
    configurable: true,
    get: () => handler && ((msg, extra) => { seen.push(msg); return handler(msg, extra); }),
    set: (h) => { handler = h; },
  });
  return seen;
}

async function runCombo(kind) {
  const me = `ts-${kind}-${RUN_TAG}`; // agent names: [a-z0-9][a-z0-9_-]{0,31}
  const peer = `${me}-peer`;
  const stamp = Date.now();
  const log = (m) => console.log(`[ts-sdk ${kind}] ${m}`);

  // The peer must exist before we message it; sending as it registers it (to itself: `me` may not exist yet).
  await sb(['send', '--as', peer, '--to', peer, `peer ${peer} says hello to itself`]);

  let transport;
  if (kind === 'stdio') {
    // StdioClientTransport's default env is a restricted allow-list: pass env and cwd explicitly.
    transport = new StdioClientTransport({
      command: opt.bin,
      args: ['mcp', '--agent', me],
      env: cleanEnv(),
      cwd: opt.repo,
      stderr: 'inherit',
    });
  } else {
    const token = (await sb(['token', 'create', '--agent', me])).trim();
    check(token.startsWith('sbt_'), `token create printed ${token.slice(0, 12)}…, expected an sbt_ secret`);
    transport = new StreamableHTTPClientTransport(new URL(opt.url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
  }
  const wire = spyOn(transport);

  const client = new Client({ name: 'switchboard-ts-sdk-test', version: '0.0.0' }, { capabilities: {} });
  const updates = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push({ at: Date.now(), uri: n.params.uri });
  });
  const reqOpts = { timeout: BOUND_MS };

  await within(BOUND_MS, client.connect(transport), 'initialize');
  try {
    // 1. negotiated version (from the initialize result on the wire)
    const init = wire.find((m) => m.id !== undefined && m.result?.protocolVersion);
    check(init, 'no initialize result seen');
    check(init.result.protocolVersion === '2025-11-25', `negotiated ${init.result.protocolVersion}, expected 2025-11-25`);
    check(client.getServerCapabilities()?.resources?.subscribe === true, `server does not advertise resources.subscribe: ${clip(client.getServerCapabilities())}`);
    if (kind === 'http') check(transport.sessionId, 'no Mcp-Session-Id after initialize');
    log(`negotiated ${init.result.protocolVersion} with ${client.getServerVersion()?.name} ${client.getServerVersion()?.version}`);

    // 2. tools/list
    const tools = (await client.listTools(undefined, reqOpts)).tools.map((t) => t.name);
    for (const name of ['session_start', 'message_send', 'message_wait']) {
      check(tools.includes(name), `tools/list lacks ${name}; has ${tools.join(',')}`);
    }
    log(`tools/list: ${tools.length} tools`);

    // 3. session_start (the SDK also validates structuredContent against the tool's outputSchema)
    const started = toolOk(await client.callTool({ name: 'session_start', arguments: { intent: `ts sdk ${kind}` } }, undefined, reqOpts), 'session_start');
    const session = started.session ?? {};
    check(started.agent === me, `session_start: agent is ${started.agent}, expected ${me}: ${clip(started)}`);
    check(String(session.id).startsWith('ses_'), `session_start: no ses_ id: ${clip(started)}`);
    check(session.status === 'active', `session_start: status ${session.status}`);
    log(`session_start -> ${session.id}`);

    // 4. message_send to another agent, checked from another process
    const outBody = `hello from ${me} ${stamp}`;
    const sent = toolOk(await client.callTool({ name: 'message_send', arguments: { to: [peer], body: outBody, subject: 'sdk test' } }, undefined, reqOpts), 'message_send');
    // The answer says where the message went; it does not echo the body back.
    check(JSON.stringify(sent.to) === JSON.stringify([peer]), `message_send: to ${clip(sent.to)}`);
    check(String(sent.thread).startsWith('thr_'), `message_send: thread ${sent.thread}`);
    check(String(sent.id).startsWith('msg_'), `message_send: id ${sent.id}`);
    const peerInbox = JSON.parse(await sb(['inbox', '--as', peer, '--from', me, '--json']));
    const peerMsgs = Array.isArray(peerInbox) ? peerInbox : peerInbox.messages;
    check(bodies(peerMsgs).includes(outBody), `peer's inbox (other process) lacks the sent message: ${clip(peerInbox)}`);
    log(`message_send -> ${sent.id}, seen in ${peer}'s inbox by another process`);

    // 5. message_wait woken by another process
    const wakeBody = `wake up ${me} ${stamp}`;
    const t0 = Date.now();
    let done = false;
    const waiting = client
      .callTool({ name: 'message_wait', arguments: { timeout_secs: WAIT_SECS, from: peer } }, undefined, reqOpts)
      .finally(() => { done = true; });
    await sleep(1000);
    check(!done, 'message_wait returned before any message was sent');
    await sb(['send', '--as', peer, '--to', me, wakeBody]);
    const woke = toolOk(await within(BOUND_MS, waiting, 'message_wait'), 'message_wait');
    const waited = (Date.now() - t0) / 1000;
    check(woke.timed_out === false, `message_wait timed_out=${woke.timed_out}: ${clip(woke)}`);
    check(bodies(woke.messages ?? []).includes(wakeBody), `message_wait messages lack ${wakeBody}: ${clip(woke)}`);
    check(woke.messages.every((m) => m.sender === peer), `message_wait: a message not from ${peer}: ${clip(woke)}`);
    check(waited < WAIT_SECS, `message_wait took ${waited}s (it was not woken, it timed out)`);
    log(`message_wait woken by another process after ${waited.toFixed(2)}s`);

    // 6. resources/read switchboard://inbox
    let inbox = inboxJson(await client.readResource({ uri: INBOX }, reqOpts));
    check(bodies(inbox.messages).includes(wakeBody), `${INBOX} lacks ${wakeBody}: ${clip(inbox)}`);
    log(`resources/read ${INBOX}: ${inbox.messages.length} messages`);

    // 7. resources/subscribe + notifications/resources/updated after another process sends
    const noteBody = `notify ${me} ${stamp}`;
    await client.subscribeResource({ uri: INBOX }, reqOpts);
    const sentAt = Date.now();
    await sb(['send', '--as', peer, '--to', me, noteBody]);
    await within(BOUND_MS, (async () => {
      while (!updates.some((u) => u.at >= sentAt && u.uri === INBOX)) await sleep(20);
    })(), `notifications/resources/updated for ${INBOX}`);
    const gotAfter = (Date.now() - sentAt) / 1000;
    await client.unsubscribeResource({ uri: INBOX }, reqOpts);
    inbox = inboxJson(await client.readResource({ uri: INBOX }, reqOpts));
    check(bodies(inbox.messages).includes(noteBody), `${INBOX} after the update lacks ${noteBody}`);
    log(`notifications/resources/updated ${INBOX} ${gotAfter.toFixed(2)}s after another process sent`);

    if (kind === 'http') {
      // DELETE with Mcp-Session-Id; the SDK throws unless the answer is 2xx or 405.
      await within(BOUND_MS, transport.terminateSession(), 'session DELETE');
      check(transport.sessionId === undefined, 'session id kept after terminateSession');
      log('session DELETE accepted');
    }
  } finally {
    await client.close();
  }
}

const results = {};
for (const kind of opt.only ?? ['stdio', 'http']) {
  const t0 = Date.now();
  try {
    await runCombo(kind);
    results[kind] = `PASS (${((Date.now() - t0) / 1000).toFixed(1)}s)`;
  } catch (e) {
    console.error(`[ts-sdk ${kind}] FAILED:`, e);
    results[kind] = `FAIL: ${e?.constructor?.name}: ${e?.message}`.slice(0, 400);
  }
}
console.log(`typescript sdk (@modelcontextprotocol/sdk@1.32.2, node ${process.version}) results:`);
for (const [k, v] of Object.entries(results)) console.log(`  ${k.padEnd(6)} ${v}`);
process.exit(Object.values(results).every((v) => v.startsWith('PASS')) ? 0 : 1);
