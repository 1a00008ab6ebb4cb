import type {
  Claim,
  ClaimArgs,
  EndSessionArgs,
  MarkArgs,
  MergeWorktreeArgs,
  RemoveWorktreeArgs,
  ReleaseArgs,
  ReplyArgs,
  SendArgs,
  CreateWorktreeArgs,
  StateResult,
  Thread,
  WorktreeDiff,
} from './protocol';

/** What the UI needs from `switchboard lsp`; the extension implements it over the language client. */
export interface SwitchboardApi {
  state(): Promise<StateResult>;
  thread(thread: string, repo: string): Promise<Thread>;
  worktreeDiff(name: string, repo: string): Promise<WorktreeDiff>;
  send(args: SendArgs): Promise<unknown>;
  reply(args: ReplyArgs): Promise<unknown>;
  markRead(args: MarkArgs): Promise<unknown>;
  ack(args: MarkArgs): Promise<unknown>;
  endSession(args: EndSessionArgs): Promise<unknown>;
  createWorktree(args: CreateWorktreeArgs): Promise<unknown>;
  removeWorktree(args: RemoveWorktreeArgs): Promise<unknown>;
  mergeWorktree(args: MergeWorktreeArgs): Promise<unknown>;
  /** Claims in the human's own name; returns the claims made. */
  claim(args: ClaimArgs): Promise<Claim[]>;
  /** Releases claims; returns the released ones. */
  release(args: ReleaseArgs): Promise<Claim[]>;
}
