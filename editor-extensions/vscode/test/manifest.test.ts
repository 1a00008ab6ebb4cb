import './support/vscode-stub';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Commands } from '../src/commands';
import { ServerCommands } from '../src/protocol';

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8'));

test('package.json contributes exactly the commands the extension registers', () => {
  const contributed = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(contributed, Object.values(Commands).sort());
  const serverIds = new Set<string>(Object.values(ServerCommands));
  assert.deepEqual(contributed.filter((c: string) => serverIds.has(c)), [], 'the language client registers the server commands itself');
});

test('every menu entry names a contributed command and a contributed view', () => {
  const commands = new Set(Object.values(Commands) as string[]);
  const views = new Set(manifest.contributes.views.switchboard.map((v: { id: string }) => v.id));
  for (const [menu, entries] of Object.entries(manifest.contributes.menus) as [string, { command: string; when: string }[]][]) {
    for (const e of entries) {
      assert.ok(commands.has(e.command), `${menu}: unknown command ${e.command}`);
      const view = /view == ([\w.]+)/.exec(e.when)?.[1];
      if (view) assert.ok(views.has(view), `${menu}: unknown view ${view}`);
    }
  }
  assert.deepEqual(manifest.activationEvents, ['workspaceContains:.git']);
  assert.equal(manifest.contributes.configuration.properties['switchboard.path'].default, 'switchboard');
});
