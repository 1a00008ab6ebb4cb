// Real processes for the protocol test: a temp git repository, `switchboard lsp`, and an agent's
// `switchboard mcp` holding a live session.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

export const BIN = process.env.SWITCHBOARD_BIN ?? path.resolve(__dirname, '../../../../../target/debug/switchboard');

export function tempRepo(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sb-vscode-')));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Ada Lovelace');
  git('config', 'user.email', 'ada@example.com');
  fs.writeFileSync(path.join(dir, 'README.md'), '# test\n');
  git('add', '.');
  git('commit', '-qm', 'initial');
  return dir;
}

/** The environment for Switchboard processes: state found from the repository, not an inherited DB. */
export const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'SWITCHBOARD_DB'));

export function cli(cwd: string, ...args: string[]): string {
  return execFileSync(BIN, args, { cwd, encoding: 'utf8', env });
}

/** An agent's MCP server with a started session; stop() ends the process (by its PID) and waits for it. */
export async function liveAgent(
  cwd: string,
  agent: string,
  intent: string,
): Promise<{ stop(): Promise<void>; session: string; pid: number }> {
  const proc: ChildProcess = spawn(BIN, ['mcp', '--agent', agent], { cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  // A server that dies (or never starts) fails the pending call instead of hanging the test.
  const died = new Promise<never>((_, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code, signal) =>
      reject(new Error(`switchboard mcp --agent ${agent} exited (${signal ?? code}) before answering`)),
    );
  });
  died.catch(() => undefined);
  const lines = readline.createInterface({ input: proc.stdout! });
  const pending = new Map<number, (v: { result?: { structuredContent?: { session?: { id: string } } }; error?: unknown }) => void>();
  lines.on('line', (l) => {
    const msg = JSON.parse(l);
    if (typeof msg.id === 'number') pending.get(msg.id)?.(msg);
  });
  let next = 1;
  const call = (method: string, params: object) =>
    Promise.race([
      new Promise<Parameters<NonNullable<ReturnType<typeof pending.get>>>[0]>((resolve) => {
        const id = next++;
        pending.set(id, resolve);
        proc.stdin!.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
      }),
      died,
    ]);
  await call('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'vscode-test', version: '0' } });
  proc.stdin!.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');
  const started = await call('tools/call', { name: 'session_start', arguments: { intent } });
  const content = started.result?.structuredContent;
  const session = content?.session?.id;
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill();
    await exited;
  };
  if (!session) {
    await stop();
    throw new Error(`session_start failed: ${JSON.stringify(started)}`);
  }
  return { session, pid: proc.pid!, stop };
}
