// Pure presentation logic: labels, descriptions, icons and documents built from protocol data.
import type { Claim, Message, Overdue, Priority, Session, Thread, WorktreeStatus } from './protocol';

/** A codicon id and an optional theme colour id. */
export interface Icon {
  id: string;
  color?: string;
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/** `2026-11-21T13:14:03.865Z` → `2026-11-21 13:14 UTC` (deterministic, locale-free). */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function firstLine(text: string | null | undefined): string {
  return (text ?? '').split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

// ---- sessions ----

export function isLive(s: Session): boolean {
  return s.status === 'active';
}

export function sessionIcon(s: Session): Icon {
  switch (s.status) {
    case 'active':
      return { id: 'circle-filled', color: 'testing.iconPassed' };
    case 'stale':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'completed':
      return { id: 'pass' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'abandoned':
      return { id: 'circle-slash', color: 'disabledForeground' };
  }
}

export function sessionDescription(s: Session): string {
  const parts = [s.intent];
  if (s.status !== 'active') parts.push(s.status);
  if (s.worktree) parts.push(`⎇ ${s.worktree.name}`);
  return (s.forked_from ? '⑂ ' : '') + parts.join(' · ');
}

export function sessionTooltip(s: Session): string {
  const lines = [`**${s.agent}** — ${s.intent}`, '', `\`${s.id}\` · ${s.status}`];
  if (s.stale_reason) lines.push(`stale: ${s.stale_reason}`);
  if (s.role) lines.push(`role: ${s.role}`);
  if (s.forked_from) lines.push(`forked from \`${s.forked_from}\``);
  lines.push(`started ${formatTime(s.started_at)}, last seen ${formatTime(s.last_seen_at)}`);
  if (s.ended_at) lines.push(`ended ${formatTime(s.ended_at)}${s.end_reason ? `: ${s.end_reason}` : ''}`);
  if (s.worktree) lines.push(`worktree ${s.worktree.name} on \`${s.worktree.branch}\``);
  if (s.work) {
    lines.push(
      `changing ${s.work.changed_files} file(s), ${s.work.uncommitted_files} uncommitted, ${s.work.unmerged} unmerged commit(s)`,
    );
  }
  return lines.join('  \n');
}

/** `contextValue` of a session item: `session`, then `:live` or `:ended`, then `:worktree` if it has one. */
export function sessionContext(s: Session): string {
  return ['session', isLive(s) || s.status === 'stale' ? 'live' : 'ended', ...(s.worktree ? ['worktree'] : [])].join(':');
}

// ---- messages ----

export function isUnread(m: Message): boolean {
  return (m.state === 'delivered' || m.state === 'notified') && !m.deleted_at;
}

export function messageTitle(m: Message): string {
  if (m.deleted_at || m.body === null || m.body === undefined) return '(deleted)';
  return m.subject || firstLine(m.body) || '(empty)';
}

export function messageIcon(m: Message): Icon {
  const color =
    m.priority === 'urgent' ? 'errorForeground' : m.priority === 'high' ? 'list.warningForeground' : undefined;
  if (m.deleted_at) return { id: 'trash' };
  if (m.state === 'acked') return { id: 'check', color };
  if (m.state === 'read') return { id: 'mail-read', color };
  return { id: 'mail', color };
}

export function messageDescription(m: Message): string {
  const parts = [m.sender];
  if (m.priority !== 'normal') parts.push(m.priority);
  if (m.ack_required && m.state !== 'acked') parts.push('ack requested');
  if (isUnread(m)) parts.push('unread');
  return parts.join(' · ');
}

/** `contextValue` of a message item: `message`, plus `:unread` and `:ackable` when those actions apply. */
export function messageContext(m: Message): string {
  const flags = ['message'];
  if (isUnread(m)) flags.push('unread');
  if (m.state !== 'acked' && m.state !== null && m.state !== undefined) flags.push('ackable');
  return flags.join(':');
}

export interface ThreadGroup {
  thread: string;
  title: string;
  /** Oldest first. */
  messages: Message[];
  unread: number;
  priority: Priority;
}

/** Groups messages by thread: threads with unread messages first, then by newest message. */
export function groupThreads(messages: Message[]): ThreadGroup[] {
  const byThread = new Map<string, Message[]>();
  for (const m of messages) byThread.set(m.thread, [...(byThread.get(m.thread) ?? []), m]);
  const groups = [...byThread.entries()].map(([thread, ms]): ThreadGroup => {
    const sorted = [...ms].sort((a, b) => a.seq - b.seq);
    const top = sorted.reduce((p, m) => (PRIORITY_RANK[m.priority] > PRIORITY_RANK[p] ? m.priority : p), 'low' as Priority);
    return {
      thread,
      title: sorted.find((m) => m.subject)?.subject ?? messageTitle(sorted[0]),
      messages: sorted,
      unread: sorted.filter(isUnread).length,
      priority: top,
    };
  });
  const newest = (g: ThreadGroup) => g.messages[g.messages.length - 1].seq;
  return groups.sort((a, b) => Number(b.unread > 0) - Number(a.unread > 0) || newest(b) - newest(a));
}

export function threadDescription(g: ThreadGroup): string {
  const from = [...new Set(g.messages.map((m) => m.sender))].join(', ');
  const parts = [from];
  if (g.unread > 0) parts.push(`${g.unread} unread`);
  if (g.priority === 'urgent' || g.priority === 'high') parts.push(g.priority);
  return parts.join(' · ');
}

export function threadIcon(g: ThreadGroup): Icon {
  const color =
    g.priority === 'urgent' ? 'errorForeground' : g.priority === 'high' ? 'list.warningForeground' : undefined;
  return { id: g.unread > 0 ? 'comment-unresolved' : 'comment-discussion', color };
}

/** The thread as a Markdown document (shown read-only). */
export function renderThread(t: Thread): string {
  const out = [`# ${t.subject ?? firstLine(t.messages[0]?.body) ?? t.id}`, '', `Participants: ${t.participants.join(', ')}`, ''];
  for (const m of t.messages) {
    const flags = [m.priority !== 'normal' ? m.priority : '', m.state ?? '', m.edited_at ? 'edited' : '']
      .filter(Boolean)
      .join(', ');
    out.push(`## ${m.sender} → ${m.to.join(', ')} — ${formatTime(m.sent_at)}${flags ? ` (${flags})` : ''}`, '');
    out.push(m.deleted_at ? '_(deleted)_' : (m.body ?? ''), '');
    out.push(`<!-- ${m.id} -->`, '');
  }
  return out.join('\n');
}

export function unreadStatusText(unread: number): string {
  return unread > 0 ? `$(mail) ${unread}` : '$(mail-read) 0';
}

// ---- worktrees ----

export function worktreeDescription(w: WorktreeStatus): string {
  const parts = [w.worktree.branch];
  if (!w.exists) parts.push('folder missing');
  if (w.dirty > 0) parts.push(`${w.dirty} dirty`);
  if (w.ahead > 0 || w.behind > 0) parts.push(`↑${w.ahead} ↓${w.behind}`);
  if (w.worktree.agent) parts.push(w.worktree.agent + (w.session_live ? ' (live)' : ''));
  return parts.join(' · ');
}

export function worktreeIcon(w: WorktreeStatus): Icon {
  if (!w.exists) return { id: 'warning', color: 'list.warningForeground' };
  if (w.session_live) return { id: 'git-branch', color: 'testing.iconPassed' };
  if (w.dirty > 0) return { id: 'git-branch', color: 'gitDecoration.modifiedResourceForeground' };
  return { id: 'git-branch' };
}

export function worktreeTooltip(w: WorktreeStatus): string {
  const t = w.worktree;
  const lines = [`**${t.name}** on \`${t.branch}\``, '', t.path, `base ${t.base_ref ?? t.base_commit.slice(0, 12)}`];
  lines.push(`${w.ahead} ahead, ${w.behind} behind, ${w.dirty} dirty file(s)`);
  if (w.last_commit) lines.push(`last commit: ${w.last_commit.subject} (${w.last_commit.sha.slice(0, 8)})`);
  if (t.session) lines.push(`session \`${t.session}\`${w.session_live ? ' (live)' : ''}`);
  lines.push(`ports ${t.port}–${t.port + t.ports - 1}`);
  return lines.join('  \n');
}

export function worktreeContext(w: WorktreeStatus): string {
  return `worktree:${w.exists ? 'exists' : 'missing'}`;
}

// ---- mail agents leave unread too long ----

export function overdueTitle(o: Overdue): string {
  return `${o.recipient} has not read ${o.sender}'s message`;
}

export function overdueDescription(o: Overdue): string {
  const parts = [o.about];
  if (o.priority !== 'normal') parts.push(o.priority);
  parts.push(`since ${formatTime(o.delivered_at)}`);
  return parts.join(' · ');
}

export function overdueIcon(o: Overdue): Icon {
  return { id: 'warning', color: o.priority === 'urgent' ? 'errorForeground' : 'list.warningForeground' };
}

// ---- claims ----

/** `HH:MM` of an RFC 3339 time in this machine's time zone, with the date (`YYYY-MM-DD HH:MM`) on another day (as the companion's diagnostics say it). */
export function localHhmm(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}`;
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

/** Holder, expiry (local time), reason, and a stale marker: `claude · until 14:05 · refactoring auth · stale`. */
export function claimDescription(c: Claim): string {
  const parts = [c.agent, `until ${localHhmm(c.expires_at)}`, c.reason];
  if (c.state === 'stale') parts.push('stale');
  return parts.join(' · ');
}

export function claimIcon(c: Claim): Icon {
  const id = c.mode === 'shared' ? 'unlock' : 'lock';
  return c.state === 'stale' ? { id, color: 'list.warningForeground' } : { id };
}

export function claimTooltip(c: Claim): string {
  const lines = [`**${c.pattern}** claimed by ${c.agent}`, '', `\`${c.id}\` · ${c.mode}`, c.reason];
  if (c.session) lines.push(`session \`${c.session}\``);
  lines.push(`since ${formatTime(c.created_at)}, until ${formatTime(c.expires_at)}`);
  if (c.state === 'stale') lines.push(`holder stale${c.stale_reason ? `: ${c.stale_reason}` : ''}`);
  return lines.join('  \n');
}

/** `contextValue` of a claim item: `claim:mine` (held by `human`, the human at this editor) or `claim:other`, then `:stale`. */
export function claimContext(c: Claim, human: string): string {
  return ['claim', c.agent === human ? 'mine' : 'other', ...(c.state === 'stale' ? ['stale'] : [])].join(':');
}

/**
 * The claim pattern naming exactly one file, from its path relative to its checkout's root
 * (`/`-separated): glob characters escaped, and a leading `/` for a file at the root (a name
 * without a `/` would cover that name in every directory, as in .gitignore).
 */
export function filePattern(relative: string): string {
  const escaped = relative.replace(/[\\*?[\]{}!#]/g, (ch) => `\\${ch}`);
  return relative.includes('/') ? escaped : `/${escaped}`;
}

/** Patterns typed by the user: separated by commas or whitespace. */
export function patterns(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
