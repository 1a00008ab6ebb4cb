// Method and command names of `switchboard lsp` (see schemas/lsp/ and lsp/src/protocol.rs).
export * from './protocol.generated';

export const Methods = {
  state: 'switchboard/state',
  thread: 'switchboard/thread',
  inbox: 'switchboard/inbox',
  session: 'switchboard/session',
  worktree: 'switchboard/worktree',
  stateChanged: 'switchboard/stateChanged',
} as const;

/** Server-side commands, run through `workspace/executeCommand` with one object argument. */
export const ServerCommands = {
  send: 'switchboard.send',
  reply: 'switchboard.reply',
  markRead: 'switchboard.markRead',
  ack: 'switchboard.ack',
  endSession: 'switchboard.endSession',
  createWorktree: 'switchboard.createWorktree',
  removeWorktree: 'switchboard.removeWorktree',
  mergeWorktree: 'switchboard.mergeWorktree',
  showDiff: 'switchboard.showDiff',
  claim: 'switchboard.claim',
  release: 'switchboard.release',
} as const;
