// Talks to the real `switchboard lsp` (SWITCHBOARD_BIN) over stdio with vscode-jsonrpc, the
// JSON-RPC library VS Code's language client is built on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { Claim, Methods, ServerCommands, StateChanged, StateResult, Thread } from '../src/protocol';
import { serverExecutable } from '../src/server';
import { BIN, cli, env, liveAgent, tempRepo } from './support/sandbox';

test('switchboard lsp serves state and pushes stateChanged for changes made by other processes', async (t) => {
  const dir = tempRepo();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  cli(dir, 'inbox', '--as', 'codex'); // registers the agent that will write to us
  const agent = await liveAgent(dir, 'claude', 'Fix the parser');
  t.after(() => agent.stop());

  // Started exactly as the extension's language client starts it (stdio, no extra arguments).
  const exe = serverExecutable(BIN, dir);
  assert.equal(exe.transport, undefined, 'a stdio transport would make the client append --stdio');
  const server = spawn(exe.command, exe.args ?? [], { cwd: exe.options?.cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => server.kill());
  const conn = createMessageConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  const changes: StateChanged[] = [];
  const waiters: (() => void)[] = [];
  conn.onNotification(Methods.stateChanged, (p: StateChanged) => {
    changes.push(p);
    waiters.splice(0).forEach((w) => w());
  });
  conn.onRequest(() => null);
  conn.listen();
  t.after(() => conn.dispose());
  const changeAbout = async (topic: string): Promise<StateChanged> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const hit = changes.find((c) => c.changed.includes(topic as never));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no stateChanged about ${topic} within 10s (got ${JSON.stringify(changes)})`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };

  const uri = pathToFileURL(dir).toString();
  const init = await conn.sendRequest<{ capabilities: { executeCommandProvider: { commands: string[] } } }>('initialize', {
    processId: process.pid,
    rootUri: uri,
    capabilities: {},
    workspaceFolders: [{ uri, name: 'repo' }],
  });
  assert.deepEqual([...init.capabilities.executeCommandProvider.commands].sort(), Object.values(ServerCommands).sort());
  await conn.sendNotification('initialized', {});

  const state = await conn.sendRequest<StateResult>(Methods.state, {});
  assert.equal(state.repos.length, 1);
  const repo = state.repos[0];
  assert.equal(repo.root, dir);
  assert.equal(repo.human, 'human:ada-lovelace');
  assert.deepEqual(
    repo.sessions.map((n) => [n.session.id, n.session.agent, n.session.intent, n.session.status]),
    [[agent.session, 'claude', 'Fix the parser', 'active']],
  );
  assert.equal(repo.inbox.unread, 0);

  // Another process writes to the human; the server notices and says what changed.
  cli(dir, 'send', '--as', 'codex', '--to', repo.human, '--subject', 'Review?', 'Please review sb/codex');
  const note = await changeAbout('messages');
  assert.equal(note.repo, dir);
  const after = await conn.sendRequest<StateResult>(Methods.state, {});
  assert.ok(after.version >= note.version && note.version > 0, `version ${after.version} vs note ${note.version}`);
  const inbox = after.repos[0].inbox;
  assert.equal(inbox.unread, 1);
  const [msg] = inbox.recent;
  assert.deepEqual([msg.sender, msg.subject, msg.body, msg.state], ['codex', 'Review?', 'Please review sb/codex', 'delivered']);

  const thread = await conn.sendRequest<Thread>(Methods.thread, { thread: msg.thread });
  assert.deepEqual(thread.messages.map((m) => m.id), [msg.id]);

  // The extension's commands go through workspace/executeCommand with one object argument.
  changes.length = 0;
  await conn.sendRequest('workspace/executeCommand', { command: ServerCommands.markRead, arguments: [{ ids: [msg.id] }] });
  await changeAbout('messages');
  const read = await conn.sendRequest<StateResult>(Methods.state, {});
  assert.equal(read.repos[0].inbox.unread, 0);
  assert.equal(read.repos[0].inbox.recent[0].state, 'read');

  // Claims: made in the human's name, listed in the state after the push, released by id.
  changes.length = 0;
  const run = (command: string, arg: object) => conn.sendRequest<Claim[]>('workspace/executeCommand', { command, arguments: [arg] });
  const made = await run(ServerCommands.claim, { patterns: ['src/**'], reason: 'parser rewrite', ttl: '30m' });
  assert.deepEqual(made.map((c) => [c.pattern, c.agent, c.mode]), [['src/**', repo.human, 'exclusive']]);
  await changeAbout('sessions');
  const claimed = await conn.sendRequest<StateResult>(Methods.state, {});
  assert.deepEqual(claimed.repos[0].claims.map((c) => [c.id, c.reason]), [[made[0].id, 'parser rewrite']]);
  const released = await run(ServerCommands.release, { id: made[0].id });
  assert.deepEqual(released.map((c) => c.id), [made[0].id]);

  await assert.rejects(
    conn.sendRequest('workspace/executeCommand', { command: ServerCommands.reply, arguments: [{ message: 'msg_nope', body: 'x' }] }),
    (e: Error) => /msg_nope|no message/i.test(e.message),
  );
});
