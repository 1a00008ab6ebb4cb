// The extension in real VS Code: code-server (VS Code for the browser) with the packaged .vsix,
// driven through Debian's Chromium by playwright-core, against the real `switchboard` binary.
// Agents are real `switchboard mcp` processes; the message and the claim come from another process
// (the CLI).
// Screenshots of each step go to <repository>/test-artifacts/vscode/.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Browser, chromium, Page } from 'playwright-core';
import { BIN, cli, env, liveAgent, tempRepo } from '../test/support/sandbox';
import { CodeServer, startCodeServer } from './code-server';

const VSIX = path.resolve(process.env.SWITCHBOARD_VSIX ?? path.join(__dirname, '../../../switchboard.vsix'));
const ARTIFACTS = path.resolve(
  process.env.SWITCHBOARD_E2E_ARTIFACTS ?? path.join(__dirname, '../../../../../test-artifacts/vscode'),
);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const HUMAN = 'human:ada-lovelace'; // `human:` + the slug of the repository's git user.name
const SUBJECT = 'Parser refactor ready for review';
const BODY = 'The tokenizer now keeps comment trivia; please review sb/claude before I merge.';

/** A quiet, offline workbench. Values are in their current form: VS Code rewrites settings.json to migrate old ones. */
const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': 'off',
  'extensions.ignoreRecommendations': true,
  'remote.autoForwardPorts': false,
  'git.autofetch': false,
};

/** Waits until `probe` returns something truthy; on time-out says what was awaited and what was last seen. */
async function until<T>(what: string, probe: () => Promise<T | false | undefined | null>, seconds = 30): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0] : e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${seconds} s waiting for ${what} (last seen: ${JSON.stringify(last)})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Monaco renders spaces as no-break spaces. */
const text = (s: string | null) => (s ?? '').replace(/\u00a0/g, ' ');

fs.mkdirSync(ARTIFACTS, { recursive: true });
for (const f of fs.readdirSync(ARTIFACTS)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACTS, f));

interface Editor {
  repo: string;
  server: CodeServer;
  page: Page;
  /** Saves `<prefix>-NN-<name>.png` in the artifacts directory. */
  shot(name: string): Promise<void>;
  step(name: string): void;
  /** Adds a clean-up, run last-in first-out after the test. */
  defer(cleanup: () => Promise<void> | void): void;
}

/**
 * Runs `body` against a fresh repository opened in code-server in headless Chromium, with
 * `switchboard.path` set to `binary`. `before` runs once the repository exists, before the editor
 * starts. On failure: a screenshot, the browser's console errors, code-server's output and logs.
 * Afterwards everything is stopped by PID and the temporary directories are removed.
 */
async function inEditor(
  prefix: string,
  binary: string,
  before: (repo: string, defer: Editor['defer']) => Promise<void>,
  body: (e: Editor) => Promise<void>,
): Promise<void> {
  assert.ok(fs.existsSync(VSIX), `no packaged extension at ${VSIX}: run \`npm run package\` first`);
  assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium`);
  const cleanups: (() => Promise<void> | void)[] = [];
  const defer = (c: () => Promise<void> | void) => void cleanups.push(c);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  const consoleErrors: string[] = [];
  const started = Date.now();
  const step = (name: string) => console.log(`[${prefix} ${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`);
  let shots = 0;
  const shot = async (name: string) => {
    const file = path.join(ARTIFACTS, `${prefix}-${String(++shots).padStart(2, '0')}-${name}.png`);
    await page!.mouse.move(900, 700); // no hover tooltip over what the picture should show
    await page!.screenshot({ path: file });
    console.log(`  screenshot ${path.relative(process.cwd(), file)}`);
  };
  try {
    step('repository');
    const repo = tempRepo();
    defer(() => fs.rmSync(repo, { recursive: true, force: true }));
    await before(repo, defer);

    step('code-server');
    const machineSettings = { 'switchboard.path': binary, 'switchboard.trace.server': 'messages' };
    server = await startCodeServer({
      folder: repo,
      vsix: VSIX,
      // No inherited SWITCHBOARD_DB/HUMAN/AGENT: the companion finds the state and the human from the repository.
      env: Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('SWITCHBOARD_'))),
      settings: USER_SETTINGS,
      machineSettings,
    });
    const cs = server;
    console.log(`  ${cs.url} (pid ${cs.pid})`);

    step('Chromium');
    // Chromium keeps crash reports and a dconf cache under XDG directories: throwaway ones, not the real home.
    const chromiumHome = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-chromium-'));
    defer(() => fs.rmSync(chromiumHome, { recursive: true, force: true }));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      env: {
        ...process.env,
        XDG_CONFIG_HOME: path.join(chromiumHome, 'config'),
        XDG_CACHE_HOME: path.join(chromiumHome, 'cache'),
      },
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const p = page;
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    p.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    // The browser talks to this code-server only (no CDN, gallery or telemetry requests leave the machine).
    const blocked = new Set<string>();
    await p.route(
      (u) => u.origin !== cs.url,
      (route) => {
        blocked.add(new URL(route.request().url()).origin);
        return route.abort('blockedbyclient');
      },
    );
    defer(() => {
      if (blocked.size > 0) console.log(`  blocked requests to ${[...blocked].join(', ')}`);
    });
    await p.goto(`${cs.url}/?folder=${encodeURIComponent(repo)}`);
    await p.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });

    await body({ repo, server: cs, page: p, shot, step, defer });

    // Settings VS Code rewrote (to migrate them) can be lost for a while: that would make this test flaky.
    const settingsFile = (d: string) => JSON.parse(fs.readFileSync(path.join(cs.userDataDir, d, 'settings.json'), 'utf8'));
    assert.deepEqual(settingsFile('User'), USER_SETTINGS, 'VS Code rewrote User/settings.json');
    assert.deepEqual(settingsFile('Machine'), machineSettings, 'VS Code rewrote Machine/settings.json');
    step('passed');
  } catch (e) {
    console.error(`FAILED: ${e instanceof Error ? e.stack : e}`);
    if (page) {
      const file = path.join(ARTIFACTS, `${prefix}-failure.png`);
      await page
        .screenshot({ path: file })
        .then(() => console.error(`failure screenshot: ${file}`))
        .catch((err) => console.error(`no failure screenshot: ${err}`));
    }
    if (consoleErrors.length > 0) console.error(`---- browser console errors\n${consoleErrors.slice(-40).join('\n')}`);
    if (server) {
      console.error(`---- code-server output\n${server.output().split('\n').slice(-60).join('\n')}`);
      console.error(`---- VS Code server logs (extension host, Switchboard output) and settings\n${server.logs()}`);
    }
    throw e;
  } finally {
    await browser?.close();
    await server?.stop();
    for (const c of cleanups.reverse()) await c();
  }
}

/** The activity-bar entry of the Switchboard view container. */
const switchboardActivity = (p: Page) =>
  p.locator('.activitybar li.action-item:has(a.action-label[aria-label^="Switchboard"])');

test('the Switchboard sidebar, live messages and thread documents work in real VS Code', { timeout: 300_000 }, async () => {
  assert.ok(path.isAbsolute(BIN) && fs.existsSync(BIN), `SWITCHBOARD_BIN must be the built binary (got ${BIN})`);
  await inEditor(
    'main',
    BIN,
    async (repo, defer) => {
      assert.match(cli(repo, 'lsp', '--check'), new RegExp(`you are\\s+${HUMAN}\\b`), `the editor human should be ${HUMAN}`);
      const claude = await liveAgent(repo, 'claude', 'Refactor the parser');
      defer(() => claude.stop());
      const codex = await liveAgent(repo, 'codex', 'Write the user guide');
      defer(() => codex.stop());
      console.log(`  claude ${claude.session} (pid ${claude.pid}), codex ${codex.session} (pid ${codex.pid})`);
    },
    async ({ repo, page: p, shot, step }) => {
      step('activity bar: Switchboard');
      const activity = switchboardActivity(p);
      await activity.waitFor({ state: 'visible', timeout: 60_000 });
      await shot('workbench');
      await activity.click();
      await until('the Switchboard view container to open', async () => (await activity.getAttribute('aria-selected')) === 'true');

      step('Sessions view shows both live agents with their intents');
      const rows = p.getByRole('tree', { name: 'Sessions' }).getByRole('treeitem');
      const labels = await until('two sessions in the Sessions view', async () => {
        const all = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
        return all.length === 2 && all;
      });
      assert.deepEqual(
        [...labels].sort(),
        ['claude Refactor the parser, has actions', 'codex Write the user guide, has actions'],
        'session rows: agent name and intent',
      );
      const claudeRow = rows.filter({ hasText: 'claude' });
      assert.equal(await claudeRow.locator('.label-name').textContent(), 'claude');
      assert.equal(await claudeRow.locator('.label-description').textContent(), 'Refactor the parser');
      assert.equal(await claudeRow.locator('.codicon-circle-filled').count(), 1, 'a live session shows the active icon');
      const codexRow = rows.filter({ hasText: 'codex' });
      assert.equal(await codexRow.locator('.label-name').textContent(), 'codex');
      assert.equal(await codexRow.locator('.label-description').textContent(), 'Write the user guide');

      const status = p.locator('[id="switchboard.switchboard.switchboard.unread"]');
      await until('the unread status item to show 0', async () => (await status.textContent())?.trim() === '0');
      assert.equal(await status.locator('.codicon-mail-read').count(), 1);
      const messagesPane = p.locator('.pane', { has: p.locator('.pane-header h3.title', { hasText: /^Messages$/ }) });
      await messagesPane.getByText('No messages for you yet.').waitFor({ state: 'visible', timeout: 30_000 });
      await shot('sessions');

      step(`a message from claude to ${HUMAN}, sent by another process`);
      // Marks this page: if the workbench reloaded, the mark would be gone.
      await p.evaluate(() => ((window as unknown as { __switchboardE2e: boolean }).__switchboardE2e = true));
      const sent = cli(repo, 'send', '--as', 'claude', '--to', HUMAN, '--subject', SUBJECT, BODY);
      console.log(`  ${sent.trim()}`);

      step('Messages view, status bar and badge update live');
      const thread = p.getByRole('tree', { name: 'Messages' }).getByRole('treeitem', { name: new RegExp(`^${SUBJECT}\\b`) });
      await until('the thread in the Messages view', async () => (await thread.count()) === 1);
      assert.equal(await thread.locator('.label-name').textContent(), SUBJECT);
      assert.equal(await thread.locator('.label-description').textContent(), 'claude · 1 unread');
      assert.equal(await thread.locator('.codicon-comment-unresolved').count(), 1, 'an unread thread has the unread icon');
      await until('the unread status item to show 1', async () => (await status.textContent())?.trim() === '1');
      assert.equal(await status.locator('.codicon-mail').count(), 1);
      assert.match((await status.getAttribute('aria-label')) ?? '', /1 unread Switchboard message\(s\)/);
      const badge = activity.locator('.badge');
      await until('the activity-bar badge to show 1', async () => (await badge.isVisible()) && (await badge.textContent())?.trim() === '1');
      assert.equal(
        await p.evaluate(() => (window as unknown as { __switchboardE2e?: boolean }).__switchboardE2e),
        true,
        'the page must not have reloaded',
      );
      await shot('message-arrived');

      step('a claim made with the CLI shows in the Claims view');
      cli(repo, 'claim', 'src/**', '--reason', 'parser rewrite', '--as', 'human:grace');
      const claimRow = p.getByRole('tree', { name: 'Claims' }).getByRole('treeitem', { name: /^src\/\*\*/ });
      await until('the claim in the Claims view', async () => (await claimRow.count()) === 1);
      assert.equal(await claimRow.locator('.label-name').textContent(), 'src/**');
      assert.match(
        (await claimRow.locator('.label-description').textContent()) ?? '',
        /^human:grace · until (\d{4}-\d\d-\d\d )?\d\d:\d\d · parser rewrite$/,
      );
      assert.equal(await claimRow.locator('.codicon-lock').count(), 1, 'an exclusive claim shows the lock');
      await shot('claim');

      step('open the thread');
      await thread.click();
      const lines = p.locator('.editor-group-container .monaco-editor .view-lines').first();
      const shown = await until('the thread document in the editor', async () => {
        const t = text(await lines.textContent());
        return t.includes(BODY) && t;
      });
      assert.match(shown, new RegExp(`# ${SUBJECT}`));
      assert.match(shown, new RegExp(`claude → ${HUMAN}`));
      const tab = p.locator('.tabs-container .tab.active');
      assert.match((await tab.getAttribute('aria-label')) ?? '', /^thr_[0-9A-Za-z]+\.md\b/, 'the tab names the thread document');
      await shot('thread-open');

      step('the thread document is read-only');
      await lines.click();
      await p.keyboard.type('x');
      await p
        .locator('.monaco-editor-overlaymessage', { hasText: 'Cannot edit in read-only editor' })
        .waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(text(await lines.textContent()), shown, 'typing must not change the thread document');
    },
  );
});

test('a missing switchboard binary is explained, and the views do not hang activating', { timeout: 300_000 }, async () => {
  const missing = '/nonexistent/switchboard';
  await inEditor(
    'missing-binary',
    missing,
    async () => undefined,
    async ({ page: p, shot, step }) => {
      step('open the Switchboard views');
      const activity = switchboardActivity(p);
      await activity.click({ timeout: 60_000 });
      step('an error notification names the binary and the setting');
      const toast = p.locator('.notification-toast', { hasText: `the "${missing}" binary was not found` });
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(text(await toast.textContent()), /set "switchboard\.path" to its full path/);
      assert.equal(await toast.getByRole('button', { name: 'Open Settings' }).count(), 1);
      step('activation finished while the notification is open');
      const sidebar = p.locator('.part.sidebar');
      await until(
        'the Switchboard views to stop showing progress',
        async () =>
          (await sidebar.locator('.monaco-progress-container.active').count()) === 0 &&
          (await activity.locator('.badge.progress-badge').count()) === 0,
      );
      await sidebar.getByText('No agent sessions in this repository yet.').waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await toast.isVisible(), true, 'the notification stays until the user answers it');
      await shot('notification');
    },
  );
});
