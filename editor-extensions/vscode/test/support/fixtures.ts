// Protocol data shaped like `switchboard/state` results (see the demo repository).
import type { Claim, Message, RepoState, Session, StateResult, WorktreeStatus } from '../../src/protocol';

export function session(id: string, agent: string, extra: Partial<Session> = {}): Session {
  return {
    id,
    agent,
    intent: `${agent}'s task`,
    status: 'active',
    started_at: '2026-11-21T13:14:03.588Z',
    last_seen_at: '2026-11-21T13:15:00.000Z',
    ...extra,
  };
}

export function message(id: string, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    seq,
    thread: 'thr_A',
    sender: 'claude',
    to: ['human:ada'],
    priority: 'normal',
    ack_required: false,
    refs: [],
    sent_at: '2026-11-21T13:16:00.000Z',
    body: `body of ${id}`,
    state: 'delivered',
    ...extra,
  };
}

export function worktree(name: string, extra: Partial<WorktreeStatus> = {}): WorktreeStatus {
  return {
    exists: true,
    dirty: 0,
    ahead: 0,
    behind: 0,
    session_live: false,
    worktree: {
      name,
      repo: '/repo',
      path: `/repo/.worktrees/${name}`,
      branch: `sb/${name}`,
      base_commit: '4d30521c221d12c090f628b600305bde54d87425',
      base_ref: 'main',
      port: 44370,
      ports: 10,
      created_by: 'lead',
      created_at: '2026-11-21T13:14:03.606Z',
      agent: 'claude',
    },
    ...extra,
  };
}

export function claim(id: string, pattern: string, agent: string, extra: Partial<Claim> = {}): Claim {
  return {
    id,
    pattern,
    mode: 'exclusive',
    agent,
    session: agent.startsWith('human:') ? null : 'ses_01',
    reason: `${agent}'s reason`,
    created_at: '2026-11-21T13:14:03.588Z',
    expires_at: '2026-11-21T14:05:00.000Z',
    state: 'active',
    ...extra,
  };
}

export function repo(root: string, extra: Partial<RepoState> = {}): RepoState {
  return {
    root,
    stateDb: `${root}/.git/switchboard/state.db`,
    human: 'human:ada',
    sessions: [],
    worktrees: [],
    inbox: { unread: 0, recent: [] },
    overdue: [],
    claims: [],
    ...extra,
  };
}

export function state(...repos: RepoState[]): StateResult {
  return { version: 7, repos };
}
