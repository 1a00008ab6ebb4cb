// Handlers of the extension's UI commands. Each takes the tree node it was invoked on.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SwitchboardApi } from './api';
import { gitUri, threadUri } from './documents';
import { claimDescription, filePattern, isUnread, localHhmm, patterns } from './format';
import type { Claim, ClaimArgs, RepoState, StateResult, Strategy } from './protocol';
import type { SbNode } from './trees';

/** Contributed command ids (distinct from the server's `switchboard.send` etc., which the client registers). */
export const Commands = {
  newMessage: 'switchboard.newMessage',
  messageAgent: 'switchboard.messageAgent',
  openThread: 'switchboard.openThread',
  replyToMessage: 'switchboard.replyToMessage',
  markMessagesRead: 'switchboard.markMessagesRead',
  ackMessage: 'switchboard.ackMessage',
  stopSession: 'switchboard.stopSession',
  sessionDiff: 'switchboard.sessionDiff',
  newWorktree: 'switchboard.newWorktree',
  openWorktree: 'switchboard.openWorktree',
  worktreeDiff: 'switchboard.worktreeDiff',
  worktreeMerge: 'switchboard.worktreeMerge',
  worktreeRemove: 'switchboard.worktreeRemove',
  claimFile: 'switchboard.claimFile',
  claimPaths: 'switchboard.claimPaths',
  releaseClaim: 'switchboard.releaseClaim',
  showMessages: 'switchboard.showMessages',
  showOutput: 'switchboard.showOutput',
} as const;

export class CommandHandlers {
  constructor(
    private readonly api: SwitchboardApi,
    /** The repository a command not invoked on a node applies to (the first one open). */
    private readonly defaultRepo: () => string | undefined,
    /** The last `switchboard/state` (for the claims and checkouts of the open repositories). */
    private readonly state: () => StateResult | undefined = () => undefined,
  ) {}

  private repoOf(node?: SbNode): string {
    const repo = node?.repo ?? this.defaultRepo();
    if (!repo) throw new Error('no Switchboard repository is open yet; open a folder inside a git repository');
    return repo;
  }

  async newMessage(node?: SbNode): Promise<void> {
    const repo = this.repoOf(node);
    const preset = node?.kind === 'session' ? node.node.session.agent : '';
    const toText = await vscode.window.showInputBox({
      title: 'Switchboard: New Message',
      prompt: 'To: agent names, @group, @role, @everyone or human:<name>, separated by commas',
      value: preset,
      validateInput: (v) => (recipients(v).length === 0 ? 'Name at least one recipient' : undefined),
    });
    if (toText === undefined) return;
    const body = await askBody(`Message to ${recipients(toText).join(', ')}`);
    if (body === undefined) return;
    await this.api.send({ repo, to: recipients(toText), body });
    vscode.window.showInformationMessage(`Sent to ${recipients(toText).join(', ')}.`);
  }

  async openThread(node: SbNode): Promise<void> {
    const thread =
      node.kind === 'thread' ? node.group.thread : node.kind === 'message' ? node.message.thread : undefined;
    if (!thread) throw new Error('Open Thread needs a message or a thread');
    const doc = await vscode.workspace.openTextDocument(threadUri(thread, node.repo));
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async replyToMessage(node: SbNode): Promise<void> {
    const message =
      node.kind === 'message'
        ? node.message
        : node.kind === 'thread'
          ? node.group.messages[node.group.messages.length - 1]
          : undefined;
    if (!message) throw new Error('Reply needs a message or a thread');
    const body = await askBody(`Reply to ${message.sender}`);
    if (body === undefined) return;
    await this.api.reply({ repo: node.repo, message: message.id, body });
  }

  async markMessagesRead(node: SbNode): Promise<void> {
    const ids =
      node.kind === 'message'
        ? [node.message.id]
        : node.kind === 'thread'
          ? node.group.messages.filter(isUnread).map((m) => m.id)
          : [];
    if (ids.length === 0) return;
    await this.api.markRead({ repo: node.repo, ids });
  }

  async ackMessage(node: SbNode): Promise<void> {
    if (node.kind !== 'message') throw new Error('Acknowledge needs a message');
    await this.api.ack({ repo: node.repo, ids: [node.message.id] });
  }

  async stopSession(node: SbNode): Promise<void> {
    if (node.kind !== 'session') throw new Error('End Session needs a session');
    const s = node.node.session;
    const choice = await vscode.window.showWarningMessage(
      `End ${s.agent}'s session "${s.intent}"?`,
      { modal: true, detail: 'It is recorded as abandoned, ended by you. The agent is not stopped.' },
      'End Session',
    );
    if (choice !== 'End Session') return;
    const reason = await vscode.window.showInputBox({ title: 'Reason (optional)', prompt: 'Why end it?' });
    if (reason === undefined) return;
    await this.api.endSession({ repo: node.repo, session: s.id, reason: reason || null });
  }

  async sessionDiff(node: SbNode): Promise<void> {
    if (node.kind !== 'session' || !node.node.session.worktree) throw new Error('this session has no worktree');
    await this.showDiff(node.node.session.worktree.name, node.repo);
  }

  async worktreeDiff(node: SbNode): Promise<void> {
    if (node.kind !== 'worktree') throw new Error('Show Diff needs a worktree');
    await this.showDiff(node.status.worktree.name, node.repo);
  }

  /** Picks a changed file of the worktree and opens merge-base ↔ worktree file in the diff editor. */
  async showDiff(worktree: string, repo?: string): Promise<void> {
    const diff = await this.api.worktreeDiff(worktree, this.repoOf(repo ? { kind: 'repo', repo } : undefined));
    if (diff.changed.length === 0) {
      vscode.window.showInformationMessage(`Worktree ${worktree} has no changes against its base.`);
      return;
    }
    const picked =
      diff.changed.length === 1
        ? diff.changed[0]
        : (
            await vscode.window.showQuickPick(
              diff.changed.map((c) => ({
                label: c.path,
                description: `+${c.added} −${c.removed}${c.uncommitted ? ' · uncommitted' : ''}`,
                change: c,
              })),
              { title: `Changes in ${worktree}`, placeHolder: 'Pick a file to diff' },
            )
          )?.change;
    if (!picked) return;
    const root = diff.worktree.path;
    const onDisk = path.join(root, picked.path);
    const left = gitUri(root, diff.merge_base, picked.path);
    const right = fs.existsSync(onDisk) ? vscode.Uri.file(onDisk) : gitUri(root, '', picked.path);
    await vscode.commands.executeCommand(
      'vscode.diff',
      left,
      right,
      `${picked.path} (${worktree}: ${diff.merge_base.slice(0, 8)} ↔ worktree)`,
    );
  }

  async newWorktree(node?: SbNode): Promise<void> {
    const repo = this.repoOf(node);
    const name = await vscode.window.showInputBox({
      title: 'Switchboard: New Worktree',
      prompt: 'Name (branch sb/<name>, folder .worktrees/<name>)',
      validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ? undefined : 'Letters, digits, ".", "_" and "-"'),
    });
    if (name === undefined) return;
    await this.api.createWorktree({ repo, name });
  }

  async openWorktree(node: SbNode): Promise<void> {
    if (node.kind !== 'worktree') throw new Error('Open in New Window needs a worktree');
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(node.status.worktree.path), {
      forceNewWindow: true,
    });
  }

  async worktreeMerge(node: SbNode): Promise<void> {
    if (node.kind !== 'worktree') throw new Error('Merge needs a worktree');
    const w = node.status.worktree;
    const into = w.base_ref ?? 'the current branch';
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'merge', description: 'a merge commit', strategy: 'merge' as Strategy },
        { label: 'squash', description: 'one new commit with all the changes', strategy: 'squash' as Strategy },
        { label: 'ff', description: 'fast-forward only', strategy: 'ff' as Strategy },
      ],
      { title: `Merge ${w.branch} into ${into}` },
    );
    if (!pick) return;
    const ok = await vscode.window.showWarningMessage(
      `Merge ${w.branch} into ${into} (${pick.label})?`,
      { modal: true, detail: 'Refused without changes on conflict or dirty files; a backup ref is kept.' },
      'Merge',
    );
    if (ok !== 'Merge') return;
    await this.api.mergeWorktree({ repo: node.repo, name: w.name, strategy: pick.strategy });
    vscode.window.showInformationMessage(`Merged ${w.branch} into ${into}.`);
  }

  async worktreeRemove(node: SbNode): Promise<void> {
    if (node.kind !== 'worktree') throw new Error('Remove needs a worktree');
    const w = node.status.worktree;
    const choice = await vscode.window.showWarningMessage(
      `Remove worktree ${w.name}?`,
      { modal: true, detail: `Deletes the folder ${w.path}. Uncommitted or unmerged work is refused.` },
      'Remove',
      'Remove and Delete Branch',
    );
    if (choice === undefined) return;
    const deleteBranch = choice === 'Remove and Delete Branch';
    try {
      await this.api.removeWorktree({ repo: node.repo, name: w.name, delete_branch: deleteBranch });
    } catch (e) {
      const again = await vscode.window.showErrorMessage(
        `Switchboard: ${errorText(e)}`,
        { modal: true, detail: 'Force removal discards that work; a backup ref is kept under refs/switchboard/backup/.' },
        'Force Remove',
      );
      if (again !== 'Force Remove') return;
      await this.api.removeWorktree({ repo: node.repo, name: w.name, delete_branch: deleteBranch, force: true });
    }
    vscode.window.showInformationMessage(`Removed worktree ${w.name}.`);
  }

  /** Claims one file (`uri`, else the active editor's) for the human, asking why. */
  async claimFile(uri?: vscode.Uri): Promise<void> {
    const file = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!file || file.scheme !== 'file') throw new Error('Claim This File needs a file open in the editor');
    const place = placeIn(file.fsPath, this.state()?.repos ?? []);
    if (!place) throw new Error(`${file.fsPath} is not in a Switchboard repository open in this window`);
    const pattern = filePattern(place.relative);
    const reason = await askReason(`Claim ${pattern}`);
    if (reason === undefined) return;
    await this.claim({ repo: place.repo, patterns: [pattern], reason });
  }

  /** Claims paths or globs for the human: asks the patterns (preset to the active file's folder), why, and the mode. */
  async claimPaths(): Promise<void> {
    const file = vscode.window.activeTextEditor?.document.uri;
    const place = file?.scheme === 'file' ? placeIn(file.fsPath, this.state()?.repos ?? []) : undefined;
    const repo = place?.repo ?? this.repoOf();
    const folder = place ? path.posix.dirname(place.relative) : '.';
    const text = await vscode.window.showInputBox({
      title: 'Switchboard: Claim Paths',
      prompt: 'Paths or gitignore-style globs relative to the repository root, separated by commas (e.g. src/auth/**, *.sql)',
      value: folder === '.' ? '' : `${folder}/**`,
      validateInput: (v) => (patterns(v).length === 0 ? 'Give at least one path or glob' : undefined),
    });
    if (text === undefined) return;
    const reason = await askReason(`Claim ${patterns(text).join(', ')}`);
    if (reason === undefined) return;
    const mode = await vscode.window.showQuickPick(
      [
        { label: 'Exclusive', description: 'nobody else may claim them', shared: false },
        { label: 'Shared', description: 'others may claim them shared too', shared: true },
      ],
      { title: 'Switchboard: Claim Paths' },
    );
    if (!mode) return;
    await this.claim({ repo, patterns: patterns(text), reason, shared: mode.shared });
  }

  private async claim(args: ClaimArgs): Promise<void> {
    const made = await this.api.claim(args);
    const until = made[0] ? ` until ${localHhmm(made[0].expires_at)}` : '';
    vscode.window.showInformationMessage(`Claimed ${made.map((c) => c.pattern).join(', ')}${until}.`);
  }

  /**
   * Releases the claim of `node`, or one the human picks among their own. Another holder's claim
   * (a human may release anyone's) is released only after a modal confirmation.
   */
  async releaseClaim(node?: SbNode): Promise<void> {
    let chosen: { repo: string; claim: Claim; human: string };
    if (node) {
      if (node.kind !== 'claim') throw new Error('Release Claim needs a claim');
      chosen = node;
    } else {
      const mine = (this.state()?.repos ?? []).flatMap((r) =>
        r.claims.filter((c) => c.agent === r.human).map((claim) => ({ repo: r.root, claim, human: r.human })),
      );
      if (mine.length === 0) {
        vscode.window.showInformationMessage('You hold no claims.');
        return;
      }
      const pick = await vscode.window.showQuickPick(
        mine.map((m) => ({ label: m.claim.pattern, description: claimDescription(m.claim), mine: m })),
        { title: 'Switchboard: Release Claim', placeHolder: 'Pick a claim of yours to release' },
      );
      if (!pick) return;
      chosen = pick.mine;
    }
    const c = chosen.claim;
    if (c.agent !== chosen.human) {
      const ok = await vscode.window.showWarningMessage(
        `Release ${c.agent}'s claim of ${c.pattern}?`,
        { modal: true, detail: `${c.reason}. They are not asked first; the release is recorded with you as the actor.` },
        'Release',
      );
      if (ok !== 'Release') return;
    }
    await this.api.release({ repo: chosen.repo, id: c.id });
    vscode.window.showInformationMessage(`Released ${c.pattern}.`);
  }
}

/**
 * Which open repository `file` lies in and its `/`-separated path relative to the checkout
 * holding it: a Switchboard worktree of that repository (the deepest match), else its main
 * checkout. `undefined` outside them all.
 */
export function placeIn(file: string, repos: RepoState[]): { repo: string; relative: string } | undefined {
  let best: { repo: string; relative: string; depth: number } | undefined;
  for (const r of repos) {
    for (const root of [r.root, ...r.worktrees.map((w) => w.worktree.path)]) {
      const rel = path.relative(root, file);
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
      if (!best || root.length > best.depth) best = { repo: r.root, relative: rel.split(path.sep).join('/'), depth: root.length };
    }
  }
  return best && { repo: best.repo, relative: best.relative };
}

async function askReason(title: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: 'Why? Agents read this when they are refused (e.g. refactoring auth)',
    validateInput: (v) => (v.trim() === '' ? 'Give a reason' : undefined),
  });
}

export function recipients(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function askBody(title: string): Promise<string | undefined> {
  return vscode.window.showInputBox({
    title,
    prompt: 'Markdown text',
    validateInput: (v) => (v.trim() === '' ? 'The message is empty' : undefined),
  });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Wraps a handler so failures become an error notification instead of an unhandled rejection. */
export function reportingErrors<A extends unknown[]>(
  run: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (e) {
      vscode.window.showErrorMessage(`Switchboard: ${errorText(e)}`);
    }
  };
}
