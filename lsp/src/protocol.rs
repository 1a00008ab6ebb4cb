//! The companion's custom protocol: `switchboard/…` requests, the `switchboard/stateChanged`
//! notification and `switchboard.…` commands. Every type derives a JSON Schema, exported to
//! `schemas/lsp/` (the editor extensions generate their types from those).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::message::{Draft, InboxFilter, InboxPage, Message, Reply, Thread};
use switchboard_core::session::{EndRequest, Session, SessionTree};
use switchboard_core::worktree::{NewWorktree, Strategy, WorktreeDiff, WorktreeStatus};

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
    pub const SEND: &str = "switchboard.send";
    pub const REPLY: &str = "switchboard.reply";
    pub const MARK_READ: &str = "switchboard.markRead";
    pub const ACK: &str = "switchboard.ack";
    pub const END_SESSION: &str = "switchboard.endSession";
    pub const CREATE_WORKTREE: &str = "switchboard.createWorktree";
    pub const REMOVE_WORKTREE: &str = "switchboard.removeWorktree";
    pub const MERGE_WORKTREE: &str = "switchboard.mergeWorktree";
    pub const SHOW_DIFF: &str = "switchboard.showDiff";
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
    ];
}

/// Which repository a request is about: a workspace folder path (default: the first).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoParams {
    pub repo: Option<String>,
}

/// `switchboard/state` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateResult {
    /// The last event seen; increases with every change.
    pub version: i64,
    pub repos: Vec<RepoState>,
}

/// One repository's live state.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepoState {
    pub root: String,
    pub state_db: String,
    /// The human at this editor, e.g. `human:ada-lovelace`.
    pub human: String,
    /// Recent sessions as genealogy trees (children and forks under their parents).
    pub sessions: Vec<SessionNode>,
    pub worktrees: Vec<WorktreeStatus>,
    pub inbox: InboxSummary,
    /// Mail agents have left unread longer than the repository's `escalate_after`
    /// (default 10 minutes), oldest first: for the human to chase.
    pub overdue: Vec<switchboard_core::message::Overdue>,
}

/// A session and the sessions spawned or forked from it.
pub use switchboard_core::session::SessionNode;

/// The human's inbox at a glance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InboxSummary {
    pub unread: u64,
    /// The newest messages, unread first.
    pub recent: Vec<Message>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadParams {
    pub repo: Option<String>,
    pub thread: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxParams {
    pub repo: Option<String>,
    #[serde(flatten)]
    pub filter: InboxFilter,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionParams {
    pub repo: Option<String>,
    pub session: String,
}

/// `switchboard/session` result.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SessionResult {
    pub session: Session,
    pub tree: SessionTree,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorktreeParams {
    pub repo: Option<String>,
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
    pub version: i64,
    pub repo: String,
    pub changed: Vec<Topic>,
}

/// `switchboard.send` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendArgs {
    pub repo: Option<String>,
    #[serde(flatten)]
    pub draft: Draft,
}

/// `switchboard.reply` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplyArgs {
    pub repo: Option<String>,
    #[serde(flatten)]
    pub reply: Reply,
}

/// `switchboard.markRead` / `switchboard.ack` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarkArgs {
    pub repo: Option<String>,
    pub ids: Vec<String>,
}

/// `switchboard.endSession` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndSessionArgs {
    pub repo: Option<String>,
    pub session: String,
    #[serde(flatten)]
    pub end: EndRequest,
}

/// `switchboard.createWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateWorktreeArgs {
    pub repo: Option<String>,
    /// Session to bind (id or prefix).
    pub session: Option<String>,
    #[serde(flatten)]
    pub new: NewWorktree,
}

/// `switchboard.removeWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemoveWorktreeArgs {
    pub repo: Option<String>,
    pub name: String,
    pub force: Option<bool>,
    pub delete_branch: Option<bool>,
}

/// `switchboard.mergeWorktree` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergeWorktreeArgs {
    pub repo: Option<String>,
    pub name: String,
    pub into: Option<String>,
    pub strategy: Option<Strategy>,
    pub message: Option<String>,
}

/// `switchboard.showDiff` argument.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowDiffArgs {
    pub repo: Option<String>,
    pub worktree: String,
}

/// Result types of requests and commands that are not defined here.
pub type InboxResult = InboxPage;
pub type ThreadResult = Thread;
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
    files
}
