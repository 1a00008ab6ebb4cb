// Tree data providers for the Sessions, Messages, Worktrees and Claims views. They hold the last
// `switchboard/state` result and only change when `update` is called (on `stateChanged`).
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  claimContext,
  claimDescription,
  claimIcon,
  claimTooltip,
  groupThreads,
  Icon,
  messageContext,
  messageDescription,
  messageIcon,
  messageTitle,
  overdueDescription,
  overdueIcon,
  overdueTitle,
  sessionContext,
  sessionDescription,
  sessionIcon,
  sessionTooltip,
  threadDescription,
  threadIcon,
  ThreadGroup,
  worktreeContext,
  worktreeDescription,
  worktreeIcon,
  worktreeTooltip,
} from './format';
import type { Claim, Message, Overdue, RepoState, SessionNode, StateResult, WorktreeStatus } from './protocol';

export type SbNode =
  | { kind: 'repo'; repo: string }
  | { kind: 'session'; repo: string; node: SessionNode }
  | { kind: 'thread'; repo: string; group: ThreadGroup }
  | { kind: 'message'; repo: string; message: Message }
  | { kind: 'overdue'; repo: string; overdue: Overdue }
  | { kind: 'worktree'; repo: string; status: WorktreeStatus }
  /** `human`: the human at this editor in that repository (whose own claims these may be). */
  | { kind: 'claim'; repo: string; claim: Claim; human: string };

export const OPEN_THREAD_COMMAND = 'switchboard.openThread';

function themeIcon(icon: Icon): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

function markdown(text: string): vscode.MarkdownString {
  // Tooltips show agent-written text: no command links, no HTML.
  const md = new vscode.MarkdownString(text);
  md.isTrusted = false;
  md.supportHtml = false;
  return md;
}

abstract class StateTree implements vscode.TreeDataProvider<SbNode> {
  private readonly changed = new vscode.EventEmitter<SbNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected repos: RepoState[] = [];

  update(state: StateResult): void {
    this.repos = state.repos;
    this.changed.fire(undefined);
  }

  getChildren(element?: SbNode): SbNode[] {
    if (!element) {
      if (this.repos.length === 1) return this.roots(this.repos[0]);
      return this.repos.map((r) => ({ kind: 'repo', repo: r.root }));
    }
    if (element.kind === 'repo') {
      const repo = this.repos.find((r) => r.root === element.repo);
      return repo ? this.roots(repo) : [];
    }
    return this.children(element);
  }

  getTreeItem(element: SbNode): vscode.TreeItem {
    if (element.kind === 'repo') {
      const item = new vscode.TreeItem(path.basename(element.repo), vscode.TreeItemCollapsibleState.Expanded);
      item.description = element.repo;
      item.iconPath = new vscode.ThemeIcon('repo');
      item.id = `repo:${element.repo}`;
      return item;
    }
    return this.item(element);
  }

  protected abstract roots(repo: RepoState): SbNode[];
  protected abstract children(element: SbNode): SbNode[];
  protected abstract item(element: SbNode): vscode.TreeItem;
}

export class SessionsTree extends StateTree {
  protected roots(repo: RepoState): SbNode[] {
    return repo.sessions.map((node) => ({ kind: 'session', repo: repo.root, node }));
  }

  protected children(element: SbNode): SbNode[] {
    if (element.kind !== 'session') return [];
    return element.node.children.map((node) => ({ kind: 'session', repo: element.repo, node }));
  }

  protected item(element: SbNode): vscode.TreeItem {
    if (element.kind !== 'session') throw new Error(`not a session node: ${element.kind}`);
    const s = element.node.session;
    const item = new vscode.TreeItem(
      s.agent,
      element.node.children.length > 0
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `${element.repo}/${s.id}`;
    item.description = sessionDescription(s);
    item.tooltip = markdown(sessionTooltip(s));
    item.iconPath = themeIcon(sessionIcon(s));
    item.contextValue = sessionContext(s);
    return item;
  }
}

export class MessagesTree extends StateTree {
  /** Unread messages over all repositories (for the status bar and the view badge). */
  unread(): number {
    return this.repos.reduce((n, r) => n + r.inbox.unread, 0);
  }

  /** Mail agents have left unread too long comes first (for the human to chase), then threads. */
  protected roots(repo: RepoState): SbNode[] {
    const late: SbNode[] = (repo.overdue ?? []).map((overdue) => ({ kind: 'overdue', repo: repo.root, overdue }));
    const threads: SbNode[] = groupThreads(repo.inbox.recent).map((group) => ({ kind: 'thread', repo: repo.root, group }));
    return [...late, ...threads];
  }

  protected children(element: SbNode): SbNode[] {
    if (element.kind !== 'thread') return [];
    return element.group.messages.map((message) => ({ kind: 'message', repo: element.repo, message }));
  }

  protected item(element: SbNode): vscode.TreeItem {
    if (element.kind === 'overdue') {
      const o = element.overdue;
      const item = new vscode.TreeItem(overdueTitle(o), vscode.TreeItemCollapsibleState.None);
      item.id = `${element.repo}/overdue/${o.id}/${o.recipient}`;
      item.description = overdueDescription(o);
      item.tooltip = markdown(`${o.recipient} has not read ${o.id} from ${o.sender} since ${o.delivered_at}`);
      item.iconPath = themeIcon(overdueIcon(o));
      item.contextValue = 'overdue';
      return item;
    }
    if (element.kind === 'thread') {
      const g = element.group;
      const item = new vscode.TreeItem(g.title, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `${element.repo}/${g.thread}`;
      item.description = threadDescription(g);
      item.iconPath = themeIcon(threadIcon(g));
      item.contextValue = g.unread > 0 ? 'thread:unread' : 'thread';
      item.command = { title: 'Open Thread', command: OPEN_THREAD_COMMAND, arguments: [element] };
      return item;
    }
    if (element.kind !== 'message') throw new Error(`not a message node: ${element.kind}`);
    const m = element.message;
    const item = new vscode.TreeItem(messageTitle(m), vscode.TreeItemCollapsibleState.None);
    item.id = `${element.repo}/${m.id}`;
    item.description = messageDescription(m);
    item.tooltip = markdown(m.body ?? '(deleted)');
    item.iconPath = themeIcon(messageIcon(m));
    item.contextValue = messageContext(m);
    item.command = { title: 'Open Thread', command: OPEN_THREAD_COMMAND, arguments: [element] };
    return item;
  }
}

export class WorktreesTree extends StateTree {
  protected roots(repo: RepoState): SbNode[] {
    return repo.worktrees.map((status) => ({ kind: 'worktree', repo: repo.root, status }));
  }

  protected children(): SbNode[] {
    return [];
  }

  protected item(element: SbNode): vscode.TreeItem {
    if (element.kind !== 'worktree') throw new Error(`not a worktree node: ${element.kind}`);
    const w = element.status;
    const item = new vscode.TreeItem(w.worktree.name, vscode.TreeItemCollapsibleState.None);
    item.id = `${element.repo}/wt/${w.worktree.name}`;
    item.description = worktreeDescription(w);
    item.tooltip = markdown(worktreeTooltip(w));
    item.iconPath = themeIcon(worktreeIcon(w));
    item.contextValue = worktreeContext(w);
    return item;
  }
}

export class ClaimsTree extends StateTree {
  /** The claims in force, oldest first, as the companion lists them. */
  protected roots(repo: RepoState): SbNode[] {
    return repo.claims.map((claim) => ({ kind: 'claim', repo: repo.root, claim, human: repo.human }));
  }

  protected children(): SbNode[] {
    return [];
  }

  protected item(element: SbNode): vscode.TreeItem {
    if (element.kind !== 'claim') throw new Error(`not a claim node: ${element.kind}`);
    const c = element.claim;
    const item = new vscode.TreeItem(c.pattern, vscode.TreeItemCollapsibleState.None);
    item.id = `${element.repo}/${c.id}`;
    item.description = claimDescription(c);
    item.tooltip = markdown(claimTooltip(c));
    item.iconPath = themeIcon(claimIcon(c));
    item.contextValue = claimContext(c, element.human);
    return item;
  }
}
