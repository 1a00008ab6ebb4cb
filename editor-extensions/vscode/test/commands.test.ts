import { answers, callsTo, reset, vscodeStub } from './support/vscode-stub';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { SwitchboardApi } from '../src/api';
import { CommandHandlers, placeIn, recipients, reportingErrors } from '../src/commands';
import type { Claim, StateResult, WorktreeDiff } from '../src/protocol';
import type { SbNode } from '../src/trees';
import { filePattern, groupThreads, patterns } from '../src/format';
import { claim, message, repo, session, state, worktree } from './support/fixtures';

/** An API double that records every call and can be told to fail. */
function fakeApi(overrides: Partial<SwitchboardApi> = {}) {
  const sent: [string, unknown][] = [];
  const record = (name: string) => async (arg: unknown) => {
    sent.push([name, arg]);
    return {};
  };
  const api: SwitchboardApi = {
    state: async () => ({ version: 0, repos: [] }),
    thread: async () => ({ id: 't', participants: [], messages: [] }),
    worktreeDiff: async () => {
      throw new Error('not stubbed');
    },
    send: record('send'),
    reply: record('reply'),
    markRead: record('markRead'),
    ack: record('ack'),
    endSession: record('endSession'),
    createWorktree: record('createWorktree'),
    removeWorktree: record('removeWorktree'),
    mergeWorktree: record('mergeWorktree'),
    claim: async (arg) => {
      sent.push(['claim', arg]);
      return arg.patterns.map((p, i) => claim(`clm_${i}`, p, 'human:ada'));
    },
    release: async (arg) => {
      sent.push(['release', arg]);
      return [];
    },
    ...overrides,
  };
  return { api, sent };
}

const sessionNode: SbNode = { kind: 'session', repo: '/repo', node: { session: session('ses_1', 'claude'), children: [] } };
const wtNode: SbNode = { kind: 'worktree', repo: '/repo', status: worktree('cl') };

test('message agent sends to the agent of the session, in its repository', async () => {
  const { api, sent } = fakeApi();
  reset('claude, @reviewers', 'please rebase');
  await new CommandHandlers(api, () => undefined).newMessage(sessionNode);
  assert.equal((callsTo('showInputBox')[0][0] as { value: string }).value, 'claude');
  assert.deepEqual(sent, [['send', { repo: '/repo', to: ['claude', '@reviewers'], body: 'please rebase' }]]);
});

test('cancelling an input sends nothing', async () => {
  const { api, sent } = fakeApi();
  reset('claude', undefined);
  await new CommandHandlers(api, () => '/repo').newMessage();
  assert.deepEqual(sent, []);
});

test('a command with no node and no open repository fails clearly', async () => {
  const { api } = fakeApi();
  reset();
  await assert.rejects(new CommandHandlers(api, () => undefined).newMessage(), /no Switchboard repository is open/);
});

test('reply to a thread answers its newest message; mark read sends only unread ids', async () => {
  const { api, sent } = fakeApi();
  const group = groupThreads([
    message('msg_2', 2, { state: 'read' }),
    message('msg_3', 3),
    message('msg_1', 1),
  ])[0];
  const node: SbNode = { kind: 'thread', repo: '/repo', group };
  reset('on it');
  const h = new CommandHandlers(api, () => undefined);
  await h.replyToMessage(node);
  await h.markMessagesRead(node);
  assert.deepEqual(sent, [
    ['reply', { repo: '/repo', message: 'msg_3', body: 'on it' }],
    ['markRead', { repo: '/repo', ids: ['msg_1', 'msg_3'] }],
  ]);
});

test('ending a session needs the modal confirmation', async () => {
  const { api, sent } = fakeApi();
  const h = new CommandHandlers(api, () => undefined);
  reset(undefined);
  await h.stopSession(sessionNode);
  assert.deepEqual(sent, []);
  reset('End Session', 'wrong approach');
  await h.stopSession(sessionNode);
  assert.deepEqual(sent, [['endSession', { repo: '/repo', session: 'ses_1', reason: 'wrong approach' }]]);
  assert.equal((callsTo('showWarningMessage')[0][1] as { modal: boolean }).modal, true);
});

test('removing a worktree with work at stake offers a confirmed force removal', async () => {
  const attempts: unknown[] = [];
  const { api } = fakeApi({
    removeWorktree: async (a) => {
      attempts.push(a);
      if (!a.force) throw new Error("worktree 'cl' has uncommitted changes: a.txt");
      return {};
    },
  });
  reset('Remove', 'Force Remove');
  await new CommandHandlers(api, () => undefined).worktreeRemove(wtNode);
  assert.deepEqual(attempts, [
    { repo: '/repo', name: 'cl', delete_branch: false },
    { repo: '/repo', name: 'cl', delete_branch: false, force: true },
  ]);
  assert.match(String(callsTo('showErrorMessage')[0][0]), /uncommitted changes: a\.txt/);

  attempts.length = 0;
  reset('Remove and Delete Branch', undefined);
  await new CommandHandlers(api, () => undefined).worktreeRemove(wtNode);
  assert.deepEqual(attempts, [{ repo: '/repo', name: 'cl', delete_branch: true }], 'no force without the second confirmation');
});

test('merge asks for a strategy and a confirmation', async () => {
  const { api, sent } = fakeApi();
  reset({ label: 'squash', strategy: 'squash' }, 'Merge');
  await new CommandHandlers(api, () => undefined).worktreeMerge(wtNode);
  assert.deepEqual(sent, [['mergeWorktree', { repo: '/repo', name: 'cl', strategy: 'squash' }]]);
  reset({ label: 'ff', strategy: 'ff' }, undefined);
  await new CommandHandlers(api, () => undefined).worktreeMerge(wtNode);
  assert.equal(sent.length, 1, 'a dismissed confirmation merges nothing');
});

test('show diff opens the merge-base version against the worktree file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-diff-'));
  fs.writeFileSync(path.join(dir, 'kept.txt'), 'new');
  const diff = {
    merge_base: 'abcdef0123456789',
    worktree: { ...worktree('cl').worktree, path: dir },
    changed: [
      { path: 'kept.txt', added: 1, removed: 1, uncommitted: true },
      { path: 'gone.txt', added: 0, removed: 3, uncommitted: false },
    ],
  } as unknown as WorktreeDiff;
  const asked: string[] = [];
  const { api } = fakeApi({
    worktreeDiff: async (name, repo) => {
      asked.push(`${name}@${repo}`);
      return diff;
    },
  });
  const h = new CommandHandlers(api, () => undefined);
  reset();
  answers.push({ change: diff.changed[0] });
  await h.worktreeDiff(wtNode);
  answers.push({ change: diff.changed[1] });
  await h.showDiff('cl', '/repo');
  assert.deepEqual(asked, ['cl@/repo', 'cl@/repo']);
  const picks = callsTo('showQuickPick')[0][0] as { label: string; description: string }[];
  assert.deepEqual(picks.map((p) => [p.label, p.description]), [
    ['kept.txt', '+1 −1 · uncommitted'],
    ['gone.txt', '+0 −3'],
  ]);
  const [first, second] = callsTo('executeCommand').map((a) => a.map(String));
  assert.deepEqual(first, [
    'vscode.diff',
    `switchboard-git:/kept.txt?${JSON.stringify({ cwd: dir, rev: diff.merge_base })}`,
    `file:${dir}/kept.txt`,
    'kept.txt (cl: abcdef01 ↔ worktree)',
  ]);
  assert.equal(second[2], `switchboard-git:/gone.txt?${JSON.stringify({ cwd: dir, rev: '' })}`, 'a deleted file diffs against empty');
});

test('reportingErrors turns a failure into an error notification', async () => {
  reset();
  await reportingErrors(async () => {
    throw new Error('no session matches ses_zz');
  })();
  assert.deepEqual(callsTo('showErrorMessage'), [['Switchboard: no session matches ses_zz']]);
});

test('recipients are split on commas', () => {
  assert.deepEqual(recipients(' claude, ,@team ,human:ada'), ['claude', '@team', 'human:ada']);
});

/** A repository with a Switchboard worktree `cl`, the human's claim and an agent's claim. */
const withClaims: StateResult = state(
  repo('/repo', {
    worktrees: [worktree('cl')],
    claims: [claim('clm_MINE', '/app.rs', 'human:ada'), claim('clm_THEIRS', 'src/**', 'claude', { reason: 'refactoring auth' })],
  }),
);

function editing(file: string | undefined): void {
  vscodeStub.window.activeTextEditor = file === undefined ? undefined : { document: { uri: vscodeStub.Uri.file(file) } };
}

test('a file is claimed by its path in its checkout: escaped, anchored at the root', () => {
  const repos = withClaims.repos;
  assert.deepEqual(placeIn('/repo/src/a.rs', repos), { repo: '/repo', relative: 'src/a.rs' });
  assert.deepEqual(placeIn('/repo/.worktrees/cl/src/a.rs', repos), { repo: '/repo', relative: 'src/a.rs' }, 'a worktree file is relative to the worktree');
  assert.equal(placeIn('/elsewhere/a.rs', repos), undefined);
  assert.equal(placeIn('/repo', repos), undefined, 'the root itself is no file');
  assert.equal(filePattern('src/a.rs'), 'src/a.rs');
  assert.equal(filePattern('app.rs'), '/app.rs', 'a root file alone, not every app.rs');
  assert.equal(filePattern('src/[id]/*x?.ts'), 'src/\\[id\\]/\\*x\\?.ts');
  assert.deepEqual(patterns(' src/auth/**, *.sql  docs/ ,'), ['src/auth/**', '*.sql', 'docs/']);
});

test('claim this file claims the active editor file in its repository with the reason asked', async () => {
  const { api, sent } = fakeApi();
  const h = new CommandHandlers(api, () => '/repo', () => withClaims);
  editing('/repo/.worktrees/cl/lib/parse.rs');
  reset('rewriting the parser');
  await h.claimFile();
  assert.deepEqual(sent, [['claim', { repo: '/repo', patterns: ['lib/parse.rs'], reason: 'rewriting the parser' }]]);
  assert.match(String(callsTo('showInformationMessage')[0][0]), /^Claimed lib\/parse\.rs until (\d{4}-\d\d-\d\d )?\d\d:\d\d\.$/);

  sent.length = 0;
  reset(undefined);
  await h.claimFile(vscodeStub.Uri.file('/repo/README.md') as never);
  assert.deepEqual(sent, [], 'no reason, no claim');
  assert.equal((callsTo('showInputBox')[0][0] as { title: string }).title, 'Claim /README.md', 'the uri given wins over the editor');

  editing(undefined);
  await assert.rejects(h.claimFile(), /needs a file open in the editor/);
  editing('/elsewhere/x.rs');
  await assert.rejects(h.claimFile(), /not in a Switchboard repository open in this window/);
});

test('claim paths asks patterns (preset to the file folder), reason and mode', async () => {
  const { api, sent } = fakeApi();
  const h = new CommandHandlers(api, () => '/repo', () => withClaims);
  editing('/repo/src/auth/login.rs');
  reset('src/auth/**, migrations/*.sql', 'auth rework', { label: 'Shared', shared: true });
  await h.claimPaths();
  assert.equal((callsTo('showInputBox')[0][0] as { value: string }).value, 'src/auth/**');
  assert.deepEqual(sent, [
    ['claim', { repo: '/repo', patterns: ['src/auth/**', 'migrations/*.sql'], reason: 'auth rework', shared: true }],
  ]);
  sent.length = 0;
  reset('src/**', 'x', undefined);
  await h.claimPaths();
  assert.deepEqual(sent, [], 'a dismissed mode claims nothing');
  editing(undefined);
});

test('release claim: a tree item, or a pick among the human own claims; another holder only when confirmed', async () => {
  const { api, sent } = fakeApi();
  const h = new CommandHandlers(api, () => '/repo', () => withClaims);
  const [mine, theirs] = withClaims.repos[0].claims as [Claim, Claim];
  reset();
  await h.releaseClaim({ kind: 'claim', repo: '/repo', claim: mine, human: 'human:ada' });
  assert.deepEqual(sent, [['release', { repo: '/repo', id: 'clm_MINE' }]]);
  assert.deepEqual(callsTo('showWarningMessage'), [], 'no confirmation for your own claim');

  sent.length = 0;
  reset(undefined);
  await h.releaseClaim({ kind: 'claim', repo: '/repo', claim: theirs, human: 'human:ada' });
  assert.deepEqual(sent, [], 'dismissed');
  assert.equal(callsTo('showWarningMessage')[0][0], "Release claude's claim of src/**?");
  reset('Release');
  await h.releaseClaim({ kind: 'claim', repo: '/repo', claim: theirs, human: 'human:ada' });
  assert.deepEqual(sent, [['release', { repo: '/repo', id: 'clm_THEIRS' }]]);

  sent.length = 0;
  reset();
  answers.push({ mine: { repo: '/repo', claim: mine, human: 'human:ada' } });
  await h.releaseClaim();
  const picks = callsTo('showQuickPick')[0][0] as { label: string }[];
  assert.deepEqual(picks.map((p) => p.label), ['/app.rs'], 'only the human own claims are offered');
  assert.deepEqual(sent, [['release', { repo: '/repo', id: 'clm_MINE' }]]);

  sent.length = 0;
  reset();
  await new CommandHandlers(api, () => '/repo', () => state(repo('/repo'))).releaseClaim();
  assert.deepEqual(callsTo('showInformationMessage'), [['You hold no claims.']]);
  assert.deepEqual(sent, []);
});
