//! The companion's custom protocol: `switchboard/…` requests, the `switchboard/stateChanged`
//! notification and `switchboard.…` commands. Every type derives a JSON Schema, exported to
//! `schemas/lsp/` (the editor extensions generate their types from those).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::claim::{Claim, ClaimRequest, ReleaseRequest};
use switchboard_core::message::{Draft, InboxFilter, InboxPage, Message, Reply, Thread};
use switchboard_core::session::{EndRequest, Session, SessionTree};
use switchboard_core::worktree::{
    MergeRequest, NewWorktree, RemoveRequest, WorktreeDiff, WorktreeStatus,
};

/// Custom request: everything the sidebar shows.
pub const STATE: &str = "switchboard/state";
/// Custom request: one thread.
pub const THREAD: &str = "switchboard/thread";
/// Custom request: the human's inbox.
pub const INBOX: &str = "switchboard/inbox";
/// Custom request: one session and its genealogy.
pub const SESSION: &str = "switchboard/session";
/// Custom request: one worktree's status and changed files.
pub const WORKTREE: &str = "switchboard/worktree";
/// Notification to the editor: something changed (debounced).
pub const STATE_CHANGED: &str = "switchboard/stateChanged";

/// Commands (`workspace/executeCommand`); each takes one object argument.
pub mod command {
    /// Sends a new message (a new thread) from the human ([`super::SendArgs`]); returns the
    /// sent message.
    pub const SEND: &str = "switchboard.send";
    /// Replies in a message's thread as the human ([`super::ReplyArgs`]); returns the reply.
    pub const REPLY: &str = "switchboard.reply";
    /// Marks messages addressed to the human as read ([`super::MarkArgs`]); returns them
    /// as now seen.
    pub const MARK_READ: &str = "switchboard.markRead";
    /// Acknowledges messages addressed to the human, which also marks them read
    /// ([`super::MarkArgs`]); returns them as now seen.
    pub const ACK: &str = "switchboard.ack";
    /// Ends a session, the human as the actor ([`super::EndSessionArgs`]); returns the
    /// ended session.
    pub const END_SESSION: &str = "switchboard.endSession";
    /// Creates a worktree, optionally bound to a session ([`super::CreateWorktreeArgs`]);
    /// returns it with the files copied and the setup command's run. Reports work-done
    /// progress when the request carries a token.
    pub const CREATE_WORKTREE: &str = "switchboard.createWorktree";
    /// Removes a worktree ([`super::RemoveWorktreeArgs`]); refused while it holds work that
    /// would be lost, unless forced.
    pub const REMOVE_WORKTREE: &str = "switchboard.removeWorktree";
    /// Merges a worktree's branch ([`super::MergeWorktreeArgs`]); refused, changing nothing,
    /// if it would conflict. Reports work-done progress when the request carries a token.
    pub const MERGE_WORKTREE: &str = "switchboard.mergeWorktree";
    /// A worktree's changes with the patch ([`super::ShowDiffArgs`]); returns the same as
    /// `switchboard/worktree` with `patch: true`.
    pub const SHOW_DIFF: &str = "switchboard.showDiff";
    /// Claims paths or globs in the human's own name ([`super::ClaimArgs`]); returns the
    /// claims made. Refused, claiming nothing, over another holder's claim (exclusive, or
    /// any claim when claiming exclusively) with the core's text naming the holders.
    pub const CLAIM: &str = "switchboard.claim";
    /// Releases the human's claims, or by id anyone's the human may release
    /// ([`super::ReleaseArgs`]); returns the released claims as they were.
    pub const RELEASE: &str = "switchboard.release";
    /// Every command, as advertised in the server capabilities.
    pub const ALL: &[&str] = &[
        SEND,
        REPLY,
        MARK_READ,
        ACK,
        END_SESSION,
        CREATE_WORKTREE,
        REMOVE_WORKTREE,
        MERGE_WORKTREE,
        SHOW_DIFF,
        CLAIM,
        RELEASE,
    ];
}

/// `switchboard/state` params. The result covers every open repository, whatever `repo`
/// says.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoParams {
    /// A repository root, or a path or `file:` URI inside one of its checkouts (read, and
    /// not used yet: the state holds every repository).
    pub repo: Option<String>,
}

/// `switchboard/state` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateResult {
    /// The last event seen; increases with every change.
    pub version: i64,
    /// Every repository open in the editor, in workspace-folder order.
    pub repos: Vec<RepoState>,
}

/// One repository's live state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoState {
    /// Absolute path of the repository's main checkout: the `repo` of its `stateChanged`
    /// pushes, and a `repo` value every request and command accepts.
    pub root: String,
    /// Absolute path of the state database (SQLite) this repository's state lives in.
    pub state_db: String,
    /// The human at this editor, e.g. `human:ada-lovelace`.
    pub human: String,
    /// Recent sessions as genealogy trees (children and forks under their parents).
    pub sessions: Vec<SessionNode>,
    /// Every worktree Switchboard manages in the repository, with its live git status.
    pub worktrees: Vec<WorktreeStatus>,
    /// The human's unread count and newest messages.
    pub inbox: InboxSummary,
    /// Mail agents have left unread longer than the repository's `escalate_after`
    /// (default 10 minutes), oldest first: for the human to chase.
    pub overdue: Vec<switchboard_core::message::Overdue>,
    /// The claims in force (active, or held by a stale session), oldest first: who
    /// reserved which paths, until when and why.
    pub claims: Vec<Claim>,
}

/// A session and the sessions spawned or forked from it.
pub use switchboard_core::session::SessionNode;

/// The human's inbox at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InboxSummary {
    /// Unread messages in the human's whole inbox (not only those in `recent`).
    pub unread: u64,
    /// The newest messages, unread first.
    pub recent: Vec<Message>,
}

/// `switchboard/thread` params.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadParams {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Thread id (`thr_…`) or a unique prefix of one.
    pub thread: String,
}

/// `switchboard/inbox` params: which page of the human's inbox to return.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxParams {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Filters and paging (`unread_only`, `from`, `thread`, `cursor`, `limit`), given at
    /// the top level of the params.
    #[serde(flatten)]
    pub filter: InboxFilter,
}

/// `switchboard/session` params.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionParams {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Session id (`ses_…`) or a unique prefix of one.
    pub session: String,
}

/// `switchboard/session` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SessionResult {
    /// The session as it is now.
    pub session: Session,
    /// Its genealogy: from its root (up through parents and forks) down through every
    /// child and fork, up to 32 levels each way.
    pub tree: SessionTree,
}

/// `switchboard/worktree` params.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorktreeParams {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Worktree name (its folder name, unique in the repository).
    pub name: String,
    /// Include the patch text.
    pub patch: Option<bool>,
}

/// What changed, for `switchboard/stateChanged`: the core's topics of an event.
pub use switchboard_core::event::Topic;

/// `switchboard/stateChanged` params.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateChanged {
    /// Sequence number of the last event this push covers (the counter of
    /// `StateResult.version`). A push because the overdue mail changed carries the current
    /// version unchanged.
    pub version: i64,
    /// The repository that changed: its `RepoState.root`.
    pub repo: String,
    /// What changed, each topic once: refresh the views that show those.
    pub changed: Vec<Topic>,
}

/// `switchboard.send` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// The message (`to`, `body` and the optional fields), given at the top level of the
    /// argument. The sender is the human at the editor.
    #[serde(flatten)]
    pub draft: Draft,
}

/// `switchboard.reply` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// The reply (`message`, the id replied to, `body` and the optional fields), given at
    /// the top level of the argument. The sender is the human at the editor.
    #[serde(flatten)]
    pub reply: Reply,
}

/// `switchboard.markRead` / `switchboard.ack` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Message ids (`msg_…`) or unique prefixes; at least one, each addressed to the human.
    pub ids: Vec<String>,
}

/// `switchboard.endSession` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndSessionArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Session id (`ses_…`) or a unique prefix of one; it must still be open.
    pub session: String,
    /// How it ends (`status`, `reason`), given at the top level of the argument. Without a
    /// status it ends `abandoned` (`completed` if it is the human's own session).
    #[serde(flatten)]
    pub end: EndRequest,
}

/// `switchboard.createWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorktreeArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Session to bind (id or prefix).
    pub session: Option<String>,
    /// What to create (`name`, `base`, `branch`), given at the top level of the argument.
    #[serde(flatten)]
    pub new: NewWorktree,
}

/// `switchboard.removeWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveWorktreeArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Worktree name (its folder name, unique in the repository).
    pub name: String,
    /// Whether to force and to delete the branch (the core's request; both default false).
    #[serde(flatten)]
    pub remove: RemoveRequest,
}

/// `switchboard.mergeWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeWorktreeArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Worktree name (its folder name, unique in the repository).
    pub name: String,
    /// Where, how and with what message (the core's request).
    #[serde(flatten)]
    pub merge: MergeRequest,
}

/// `switchboard.showDiff` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowDiffArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Worktree name (its folder name, unique in the repository).
    pub worktree: String,
}

/// `switchboard.claim` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// What to claim (`patterns`, `reason`, `shared`, `ttl`, `take_over`), given at the top
    /// level of the argument. The patterns are relative to the repository root; the
    /// holder is the human at the editor, in their own name.
    #[serde(flatten)]
    pub request: ClaimRequest,
}

/// `switchboard.release` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseArgs {
    /// Which open repository: its root, or a path or `file:` URI inside its main checkout
    /// or one of its worktrees. Default: the first one open (from the first workspace folder).
    pub repo: Option<String>,
    /// Which claims: exactly one of `id` (any claim the human may release), `pattern` (the
    /// human's claim of it) or `all: true` (every claim of the human), given at the top
    /// level of the argument.
    #[serde(flatten)]
    pub request: ReleaseRequest,
}

// Result types of requests whose schema is a core type.

/// `switchboard/inbox` result: a page of the human's inbox, unread first.
pub type InboxResult = InboxPage;
/// `switchboard/thread` result: the thread and every message in it the human can see.
pub type ThreadResult = Thread;
/// `switchboard/worktree` (and `switchboard.showDiff`) result: what the worktree changes
/// against its base, its unmerged commits and, on request, the patch.
pub type WorktreeResult = WorktreeDiff;

fn schema<T: JsonSchema>() -> String {
    let mut text = serde_json::to_string_pretty(&schemars::schema_for!(T)).unwrap_or_default();
    text.push('\n');
    text
}

/// Every exported schema, by file name under `schemas/lsp/`.
pub fn schema_files() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut add = |name: &str, text: String| {
        files.insert(format!("{name}.json"), text);
    };
    add("state.params", schema::<RepoParams>());
    add("state.result", schema::<StateResult>());
    add("thread.params", schema::<ThreadParams>());
    add("thread.result", schema::<ThreadResult>());
    add("inbox.params", schema::<InboxParams>());
    add("inbox.result", schema::<InboxResult>());
    add("session.params", schema::<SessionParams>());
    add("session.result", schema::<SessionResult>());
    add("worktree.params", schema::<WorktreeParams>());
    add("worktree.result", schema::<WorktreeResult>());
    add("stateChanged", schema::<StateChanged>());
    add("command.send", schema::<SendArgs>());
    add("command.reply", schema::<ReplyArgs>());
    add("command.markRead", schema::<MarkArgs>());
    add("command.ack", schema::<MarkArgs>());
    add("command.endSession", schema::<EndSessionArgs>());
    add("command.createWorktree", schema::<CreateWorktreeArgs>());
    add("command.removeWorktree", schema::<RemoveWorktreeArgs>());
    add("command.mergeWorktree", schema::<MergeWorktreeArgs>());
    add("command.showDiff", schema::<ShowDiffArgs>());
    add("command.claim", schema::<ClaimArgs>());
    add("command.release", schema::<ReleaseArgs>());
    files
}
