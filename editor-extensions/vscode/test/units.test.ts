import './support/vscode-stub';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { GitRevisionDocuments, gitUri, runGit } from '../src/documents';
import { isUnread, renderThread, unreadStatusText } from '../src/format';
import { preflight } from '../src/preflight';
import { Refresher } from '../src/refresher';
import { message } from './support/fixtures';

test('refresher merges triggers that arrive during a load into one more load', async () => {
  let loads = 0;
  let release!: () => void;
  const applied: number[] = [];
  const r = new Refresher(
    () =>
      new Promise<number>((resolve) => {
        loads++;
        release = () => resolve(loads);
      }),
    (v) => applied.push(v),
    (e) => assert.fail(String(e)),
  );
  const done = r.trigger();
  void r.trigger();
  void r.trigger();
  release();
  await new Promise((s) => setImmediate(s));
  release();
  await done;
  assert.equal(loads, 2);
  assert.deepEqual(applied, [1, 2]);
});

test('refresher reports a failed load and keeps working', async () => {
  const errors: unknown[] = [];
  let fail = true;
  const applied: string[] = [];
  const r = new Refresher(
    async () => {
      if (fail) throw new Error('server gone');
      return 'ok';
    },
    (v) => applied.push(v),
    (e) => errors.push(e),
  );
  await r.trigger();
  fail = false;
  await r.trigger();
  assert.equal(String(errors[0]), 'Error: server gone');
  assert.deepEqual(applied, ['ok']);
});

test('a thread renders as Markdown with every message in order', () => {
  const text = renderThread({
    id: 'thr_A',
    subject: 'Deploy?',
    participants: ['claude', 'human:ada'],
    messages: [
      message('msg_1', 1, { body: 'Can I deploy?', priority: 'urgent' }),
      message('msg_2', 2, { sender: 'human:ada', to: ['claude'], body: null, deleted_at: '2026-11-21T13:20:00Z', state: null }),
    ],
  });
  assert.equal(
    text,
    [
      '# Deploy?',
      '',
      'Participants: claude, human:ada',
      '',
      '## claude → human:ada — 2026-11-21 13:16 UTC (urgent, delivered)',
      '',
      'Can I deploy?',
      '',
      '<!-- msg_1 -->',
      '',
      '## human:ada → claude — 2026-11-21 13:16 UTC',
      '',
      '_(deleted)_',
      '',
      '<!-- msg_2 -->',
      '',
    ].join('\n'),
  );
  assert.equal(unreadStatusText(3), '$(mail) 3');
  assert.equal(unreadStatusText(0), '$(mail-read) 0');
});

test('git revision documents show a file at a commit, empty when it did not exist', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-git-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('config', 'user.name', 'Ada');
  git('config', 'user.email', 'ada@example.com');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'first\n');
  git('add', '.');
  git('commit', '-qm', 'one');
  const base = git('rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'second\n');
  const docs = new GitRevisionDocuments(runGit);
  assert.equal(await docs.provideTextDocumentContent(gitUri(dir, base, 'a.txt') as never), 'first\n');
  assert.equal(await docs.provideTextDocumentContent(gitUri(dir, base, 'new.txt') as never), '');
  assert.equal(await docs.provideTextDocumentContent(gitUri(dir, '', 'a.txt') as never), '');
  await assert.rejects(
    docs.provideTextDocumentContent(gitUri(dir, 'no-such-rev', 'a.txt') as never),
    /git show no-such-rev:a\.txt failed/,
  );
});

test('preflight explains a missing binary and accepts a working one', async () => {
  assert.match(String(await preflight('/nonexistent/switchboard')), /"\/nonexistent\/switchboard" binary was not found.*switchboard\.path/);
  assert.match(String(await preflight('/bin/false')), /"\/bin\/false --version" failed/);
  assert.equal(await preflight(process.env.SWITCHBOARD_BIN ?? path.resolve(__dirname, '../../../../target/debug/switchboard')), null);
});

test('a message put in front of its agent but not read yet is still unread', () => {
  assert.equal(isUnread(message('msg_1', 1, { state: 'notified' })), true);
  assert.equal(isUnread(message('msg_2', 2, { state: 'delivered' })), true);
  assert.equal(isUnread(message('msg_3', 3, { state: 'read' })), false);
});
