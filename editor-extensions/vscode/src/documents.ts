// Read-only virtual documents: a thread rendered as Markdown, and a file as of a git revision.
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import type { SwitchboardApi } from './api';
import { renderThread } from './format';

export const THREAD_SCHEME = 'switchboard-thread';
export const GIT_SCHEME = 'switchboard-git';

export function threadUri(thread: string, repo: string): vscode.Uri {
  return vscode.Uri.from({ scheme: THREAD_SCHEME, path: `/${thread}.md`, query: repo });
}

export class ThreadDocuments implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Map<string, vscode.Uri>();

  constructor(private readonly api: SwitchboardApi) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const thread = uri.path.replace(/^\//, '').replace(/\.md$/, '');
    this.open.set(uri.toString(), uri);
    return renderThread(await this.api.thread(thread, uri.query));
  }

  /** Re-renders every thread shown so far (on `stateChanged` with `messages`). */
  refresh(): void {
    for (const uri of this.open.values()) this.changed.fire(uri);
  }

  forget(uri: vscode.Uri): void {
    this.open.delete(uri.toString());
  }
}

/** Runs git with an argument vector (never a shell) and returns stdout. */
export type Git = (cwd: string, args: string[]) => Promise<string>;

export const runGit: Git = (cwd, args) =>
  new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args.join(' ')} failed in ${cwd}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });

/** `switchboard-git:/<path>?{"cwd":…,"rev":…}`: the file at `rev` (empty when it does not exist there). */
export function gitUri(cwd: string, rev: string, file: string): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_SCHEME, path: `/${file}`, query: JSON.stringify({ cwd, rev }) });
}

export class GitRevisionDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly git: Git) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { cwd, rev } = JSON.parse(uri.query) as { cwd: string; rev: string };
    if (rev === '') return '';
    const file = uri.path.replace(/^\//, '');
    try {
      return await this.git(cwd, ['show', `${rev}:${file}`]);
    } catch (e) {
      // Added in the worktree: the file did not exist at the merge-base.
      if (/does not exist|exists on disk, but not in/.test(String(e))) return '';
      throw e;
    }
  }
}
