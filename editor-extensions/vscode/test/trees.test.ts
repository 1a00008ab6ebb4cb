import './support/vscode-stub';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClaimsTree, MessagesTree, SbNode, SessionsTree, WorktreesTree } from '../src/trees';
import { claim, message, repo, session, state, worktree } from './support/fixtures';

const genealogy = repo('/repo', {
  sessions: [
    {
      session: session('ses_LEAD', 'lead', { status: 'completed', intent: 'Ship login' }),
      children: [
        {
          session: session('ses_BACK', 'backend', {
            worktree: { name: 'backend-1', path: '/repo/.worktrees/backend-1', branch: 'sb/backend-1', port: 1 },
          }),
          children: [],
        },
        {
          session: session('ses_ALT', 'frontend-alt', { status: 'stale', stale_reason: 'process 42 is gone', forked_from: 'ses_F' }),
          children: [],
        },
      ],
    },
  ],
});

test('sessions tree shows the genealogy with status icons and actions', () => {
  const tree = new SessionsTree();
  tree.update(state(genealogy));
  const roots = tree.getChildren();
  assert.equal(roots.length, 1);
  const lead = tree.getTreeItem(roots[0]);
  assert.equal(lead.label, 'lead');
  assert.equal(lead.description, 'Ship login · completed');
  assert.equal(lead.contextValue, 'session:ended');
  assert.equal(lead.collapsibleState, 2, 'a parent is expanded');
  assert.deepEqual((lead.iconPath as { id: string }).id, 'pass');

  const kids = tree.getChildren(roots[0]).map((n) => tree.getTreeItem(n));
  assert.deepEqual(
    kids.map((k) => [k.label, k.description, k.contextValue]),
    [
      ['backend', "backend's task · ⎇ backend-1", 'session:live:worktree'],
      ['frontend-alt', "⑂ frontend-alt's task · stale", 'session:live'],
    ],
  );
  const icon = kids[1].iconPath as { id: string; color?: { id: string } };
  assert.equal(icon.id, 'warning');
  assert.match((kids[1].tooltip as { value: string }).value, /stale: process 42 is gone/);
  assert.equal((kids[1].tooltip as { isTrusted: boolean }).isTrusted, false, 'agent text is never trusted markdown');
});

test('views change only when update is called, and say so', () => {
  const tree = new WorktreesTree();
  let fired = 0;
  tree.onDidChangeTreeData(() => fired++);
  assert.deepEqual(tree.getChildren(), []);
  tree.update(state(repo('/repo', { worktrees: [worktree('cl', { dirty: 2, ahead: 3, behind: 1, session_live: true })] })));
  assert.equal(fired, 1);
  const [node] = tree.getChildren();
  const item = tree.getTreeItem(node);
  assert.equal(item.label, 'cl');
  assert.equal(item.description, 'sb/cl · 2 dirty · ↑3 ↓1 · claude (live)');
  assert.equal(item.contextValue, 'worktree:exists');
  tree.update(state(repo('/repo', { worktrees: [worktree('gone', { exists: false })] })));
  assert.equal(fired, 2);
  const gone = tree.getTreeItem(tree.getChildren()[0]);
  assert.equal(gone.contextValue, 'worktree:missing');
  assert.match(String(gone.description), /folder missing/);
});

test('messages tree groups threads, unread first, with counts, priority and open command', () => {
  const tree = new MessagesTree();
  tree.update(
    state(
      repo('/repo', {
        inbox: {
          unread: 2,
          recent: [
            message('msg_3', 3, { thread: 'thr_B', subject: 'Deploy?', priority: 'urgent' }),
            message('msg_1', 1, { thread: 'thr_A', subject: 'Old news', state: 'read' }),
            message('msg_4', 4, { thread: 'thr_B', sender: 'codex', ack_required: true }),
            message('msg_5', 5, { thread: 'thr_C', state: 'acked', body: 'done\nmore' }),
          ],
        },
      }),
    ),
  );
  assert.equal(tree.unread(), 2);
  const threads = tree.getChildren();
  const items = threads.map((t) => tree.getTreeItem(t));
  assert.deepEqual(
    items.map((i) => [i.label, i.description, i.contextValue]),
    [
      ['Deploy?', 'claude, codex · 2 unread · urgent', 'thread:unread'],
      ['done', 'claude', 'thread'],
      ['Old news', 'claude', 'thread'],
    ],
  );
  assert.equal(items[0].command?.command, 'switchboard.openThread');
  assert.deepEqual(items[0].command?.arguments, [threads[0]]);
  const msgs = tree.getChildren(threads[0]).map((n) => tree.getTreeItem(n));
  assert.deepEqual(
    msgs.map((m) => [m.label, m.description, m.contextValue]),
    [
      ['Deploy?', 'claude · urgent · unread', 'message:unread:ackable'],
      ['body of msg_4', 'codex · ack requested · unread', 'message:unread:ackable'],
    ],
  );
});

test('several repositories get one node each', () => {
  const tree = new SessionsTree();
  tree.update(state(genealogy, repo('/other', { sessions: [{ session: session('ses_X', 'gemini'), children: [] }] })));
  const roots = tree.getChildren();
  assert.deepEqual(roots, [
    { kind: 'repo', repo: '/repo' },
    { kind: 'repo', repo: '/other' },
  ]);
  assert.equal(tree.getTreeItem(roots[1]).label, 'other');
  const inOther = tree.getChildren(roots[1]) as Extract<SbNode, { kind: 'session' }>[];
  assert.deepEqual(
    inOther.map((n) => [n.repo, n.node.session.agent]),
    [['/other', 'gemini']],
  );
});

test('messages tree puts mail agents left unread too long first, with a warning', () => {
  const tree = new MessagesTree();
  tree.update(
    state(
      repo('/repo', {
        inbox: { unread: 0, recent: [message('msg_1', 1, { subject: 'Hello', state: 'read' })] },
        overdue: [
          {
            id: 'msg_9',
            thread: 'thr_Z',
            sender: 'lead',
            recipient: 'worker',
            about: 'rebase please',
            priority: 'urgent',
            delivered_at: '2026-11-30T08:00:00Z',
          },
        ],
      }),
    ),
  );
  const [first, second] = tree.getChildren();
  const late = tree.getTreeItem(first);
  assert.equal(late.label, "worker has not read lead's message");
  assert.match(String(late.description), /^rebase please · urgent · since /);
  assert.equal(late.contextValue, 'overdue');
  assert.equal(tree.getTreeItem(second).label, 'Hello');
});

test('claims tree shows each claim with holder, local expiry, reason, stale marker and release action', () => {
  const tree = new ClaimsTree();
  const expires = '2026-11-21T14:05:00.000Z';
  const local = new Date(expires);
  const two = (n: number) => String(n).padStart(2, '0');
  const hhmm = `${local.getFullYear()}-${two(local.getMonth() + 1)}-${two(local.getDate())} ${two(local.getHours())}:${two(local.getMinutes())}`;
  tree.update(
    state(
      repo('/repo', {
        claims: [
          claim('clm_A', 'src/auth/**', 'claude', { reason: 'refactoring auth', expires_at: expires }),
          claim('clm_B', 'docs/', 'codex', { mode: 'shared', state: 'stale', stale_reason: 'process 42 is gone', expires_at: expires }),
          claim('clm_C', '/app.rs', 'human:ada', { reason: 'release prep', expires_at: expires }),
        ],
      }),
    ),
  );
  const items = tree.getChildren().map((n) => tree.getTreeItem(n));
  assert.deepEqual(
    items.map((i) => [i.label, i.description, i.contextValue, (i.iconPath as { id: string }).id]),
    [
      ['src/auth/**', `claude · until ${hhmm} · refactoring auth`, 'claim:other', 'lock'],
      ['docs/', `codex · until ${hhmm} · codex's reason · stale`, 'claim:other:stale', 'unlock'],
      ['/app.rs', `human:ada · until ${hhmm} · release prep`, 'claim:mine', 'lock'],
    ],
  );
  assert.equal((items[1].iconPath as { color?: { id: string } }).color?.id, 'list.warningForeground', 'a stale holder is flagged');
  const tip = items[1].tooltip as { value: string; isTrusted: boolean };
  assert.match(tip.value, /`clm_B` · shared/, 'the tooltip has the id and the mode');
  assert.match(tip.value, /holder stale: process 42 is gone/);
  assert.equal(tip.isTrusted, false);
  assert.equal(items[0].id, '/repo/clm_A');
});
