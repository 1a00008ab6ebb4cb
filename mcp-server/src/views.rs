//! Lean views of core records, for tool results. Claude Code hands the model only a
//! result's structured content, so that is what an agent pays for: these views keep what
//! an agent acts on (ids, names, states, paths, counts) and leave out what it does not
//! (process ids, bookkeeping times, full commit ids, echoes of what it just sent, default
//! values). The text rendering of a result still comes from the full record.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, Serializer};
use switchboard_core::agent::{Agent, AgentKind};
use switchboard_core::claim::{Claim, ClaimState, Mode};
use switchboard_core::clock::Timestamp;
use switchboard_core::message::{
    DeliveryState, Hit, InboxPage, Message, Priority, Reference, SentMessage, Thread,
};
use switchboard_core::session::{
    Holder, Session, SessionPage, SessionTree, Status, WorkSummary, WorktreeRef,
};
use switchboard_core::worktree::{
    ChangedFile, ClaimedWork, MergeOutcome, Strategy, WorktreeDiff, WorktreeStatus,
};

use crate::reply::Render;

/// Length of the commit ids results show (`git` accepts them as they are).
const SHORT_SHA: usize = 12;

/// A tool result whose structured content is the lean view `V` of `T` and whose text is
/// `T`'s rendering.
pub(crate) struct Lean<T, V> {
    full: T,
    view: V,
}

impl<T, V> Lean<T, V>
where
    V: for<'a> From<&'a T>,
{
    pub fn of(full: T) -> Self {
        let view = V::from(&full);
        Lean { full, view }
    }
}

impl<T, V: Serialize> Serialize for Lean<T, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view.serialize(serializer)
    }
}

impl<T: Render, V> Render for Lean<T, V> {
    fn render(&self) -> String {
        self.full.render()
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_normal(p: &Priority) -> bool {
    *p == Priority::Normal
}

fn short(sha: &str) -> String {
    sha.chars().take(SHORT_SHA).collect()
}

/// What a session is changing, in counts.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorkView {
    pub changed_files: u32,
    pub uncommitted_files: u32,
    /// Commits not yet on its base.
    pub unmerged: u32,
}

impl From<&WorkSummary> for WorkView {
    fn from(w: &WorkSummary) -> Self {
        WorkView {
            changed_files: w.changed_files,
            uncommitted_files: w.uncommitted_files,
            unmerged: w.unmerged,
        }
    }
}

/// A session.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionView {
    pub id: String,
    pub agent: String,
    pub role: Option<String>,
    pub intent: String,
    pub status: Status,
    /// Why an active session is reported stale.
    pub stale_reason: Option<String>,
    pub parent: Option<String>,
    pub forked_from: Option<String>,
    pub end_reason: Option<String>,
    pub worktree: Option<WorktreeRef>,
    /// What it is changing, as of its last activity.
    pub work: Option<WorkView>,
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        SessionView {
            id: s.id.clone(),
            agent: s.agent.clone(),
            role: s.role.clone(),
            intent: s.intent.clone(),
            status: s.status,
            stale_reason: s.stale_reason.clone(),
            parent: s.parent.clone(),
            forked_from: s.forked_from.clone(),
            end_reason: s.end_reason.clone(),
            worktree: s.worktree.clone(),
            work: s.work.as_ref().map(WorkView::from),
        }
    }
}

/// Sessions, newest first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionsView {
    pub sessions: Vec<SessionView>,
    /// More sessions matched than were returned.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

impl From<&SessionPage> for SessionsView {
    fn from(p: &SessionPage) -> Self {
        SessionsView {
            sessions: p.sessions.iter().map(SessionView::from).collect(),
            truncated: p.truncated,
        }
    }
}

/// One session of a genealogy, at its depth.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TreeNodeView {
    /// 0 for the root.
    pub depth: u32,
    #[serde(flatten)]
    pub session: SessionView,
}

/// A genealogy, pre-order (each session followed by its descendants).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TreeView {
    pub root: String,
    /// The session asked about.
    pub focus: String,
    pub nodes: Vec<TreeNodeView>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

impl From<&SessionTree> for TreeView {
    fn from(t: &SessionTree) -> Self {
        TreeView {
            root: t.root.clone(),
            focus: t.focus.clone(),
            nodes: t
                .nodes
                .iter()
                .map(|n| TreeNodeView {
                    depth: n.depth,
                    session: SessionView::from(&n.session),
                })
                .collect(),
            truncated: t.truncated,
        }
    }
}

/// A session after a change (update, end, heartbeat): what changed, not the whole record.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SessionChange {
    pub id: String,
    pub status: Status,
    pub intent: String,
    pub role: Option<String>,
    pub end_reason: Option<String>,
    /// What it is changing (heartbeats in a worktree).
    pub work: Option<WorkView>,
}

impl From<&Session> for SessionChange {
    fn from(s: &Session) -> Self {
        SessionChange {
            id: s.id.clone(),
            status: s.status,
            intent: s.intent.clone(),
            role: s.role.clone(),
            end_reason: s.end_reason.clone(),
            work: s.work.as_ref().map(WorkView::from),
        }
    }
}

/// A participant.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AgentView {
    pub name: String,
    pub kind: AgentKind,
    pub role: Option<String>,
    pub description: Option<String>,
    pub last_seen_at: Timestamp,
    /// Sessions of it that are active and not stale.
    pub live_sessions: u32,
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        AgentView {
            name: a.name.clone(),
            kind: a.kind,
            role: a.role.clone(),
            description: a.description.clone(),
            last_seen_at: a.last_seen_at,
            live_sessions: a.live_sessions,
        }
    }
}

/// Serializes participants as [`AgentView`]s.
pub(crate) fn agents<S: Serializer>(list: &[Agent], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(AgentView::from))
}

/// A message as you see it.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MessageView {
    pub id: String,
    /// Position in the repository's message order.
    pub seq: i64,
    pub thread: String,
    pub reply_to: Option<String>,
    pub sender: String,
    /// The recipients as addressed.
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// Absent once deleted.
    pub body: Option<String>,
    /// Absent when normal.
    #[serde(default, skip_serializing_if = "is_normal")]
    pub priority: Priority,
    /// The sender asks you to acknowledge (message_read with ack: true).
    #[serde(default, skip_serializing_if = "is_false")]
    pub ack_required: bool,
    /// Pointers, in the form message_send takes: file:PATH[:12-40], commit:SHA, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    pub sent_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    /// Your state of it, when you are a recipient.
    pub state: Option<DeliveryState>,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        MessageView {
            id: m.id.clone(),
            seq: m.seq,
            thread: m.thread.clone(),
            reply_to: m.reply_to.clone(),
            sender: m.sender.clone(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
            priority: m.priority,
            ack_required: m.ack_required,
            refs: m.refs.iter().map(Reference::to_string).collect(),
            sent_at: m.sent_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            state: m.state,
        }
    }
}

/// Serializes messages as [`MessageView`]s (for result types that hold core messages).
pub(crate) fn messages<S: Serializer>(list: &[Message], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(MessageView::from))
}

/// Serializes one message as a [`MessageView`].
pub(crate) fn message<S: Serializer>(m: &Message, serializer: S) -> Result<S::Ok, S::Error> {
    MessageView::from(m).serialize(serializer)
}

/// A message just sent: where it went (its body is what you wrote).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SentView {
    pub id: String,
    pub seq: i64,
    pub thread: String,
    pub to: Vec<String>,
}

impl From<&Message> for SentView {
    fn from(m: &Message) -> Self {
        SentView {
            id: m.id.clone(),
            seq: m.seq,
            thread: m.thread.clone(),
            to: m.to.clone(),
        }
    }
}

/// A page of your inbox, unread first.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct InboxView {
    pub messages: Vec<MessageView>,
    /// Unread messages in your whole inbox.
    pub unread: u64,
    /// Pass as cursor for the next page.
    pub next_cursor: Option<String>,
}

impl From<&InboxPage> for InboxView {
    fn from(p: &InboxPage) -> Self {
        InboxView {
            messages: p.messages.iter().map(MessageView::from).collect(),
            unread: p.unread,
            next_cursor: p.next_cursor.clone(),
        }
    }
}

/// A thread you take part in.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ThreadView {
    pub id: String,
    pub subject: Option<String>,
    pub participants: Vec<String>,
    /// Oldest first.
    pub messages: Vec<MessageView>,
}

impl From<&Thread> for ThreadView {
    fn from(t: &Thread) -> Self {
        ThreadView {
            id: t.id.clone(),
            subject: t.subject.clone(),
            participants: t.participants.clone(),
            messages: t.messages.iter().map(MessageView::from).collect(),
        }
    }
}

/// A recipient's progress with a message you sent.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryView {
    pub recipient: String,
    pub state: DeliveryState,
}

/// A message you sent, with each recipient's state.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct SentMessageView {
    pub message: MessageView,
    pub deliveries: Vec<DeliveryView>,
}

impl From<&SentMessage> for SentMessageView {
    fn from(s: &SentMessage) -> Self {
        SentMessageView {
            message: MessageView::from(&s.message),
            deliveries: s
                .deliveries
                .iter()
                .map(|d| DeliveryView {
                    recipient: d.recipient.clone(),
                    state: d.state,
                })
                .collect(),
        }
    }
}

/// Serializes sent messages as [`SentMessageView`]s.
pub(crate) fn sent<S: Serializer>(list: &[SentMessage], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(SentMessageView::from))
}

/// A search hit.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HitView {
    pub message: MessageView,
    /// The matching words in context.
    pub snippet: String,
}

/// Serializes search hits with lean messages.
pub(crate) fn hits<S: Serializer>(list: &[Hit], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|h| HitView {
        message: MessageView::from(&h.message),
        snippet: h.snippet.clone(),
    }))
}

/// Someone changing a file.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HolderView {
    pub session: String,
    pub agent: String,
    pub worktree: Option<String>,
    pub added: Option<u32>,
    pub removed: Option<u32>,
    /// Some of the change is not committed yet.
    pub uncommitted: bool,
    /// Its session is live.
    pub live: bool,
    /// The host its session reports from, when it is another than this server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_host: Option<String>,
}

/// Serializes holders as [`HolderView`]s.
pub(crate) fn holders<S: Serializer>(list: &[Holder], serializer: S) -> Result<S::Ok, S::Error> {
    let here = switchboard_core::process::this_host();
    serializer.collect_seq(list.iter().map(|h| HolderView {
        session: h.session.clone(),
        agent: h.agent.clone(),
        worktree: h.worktree.clone(),
        added: h.added,
        removed: h.removed,
        uncommitted: h.uncommitted,
        live: h.live,
        other_host: h.host.clone().filter(|host| *host != here),
    }))
}

/// A worktree with its live state.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeLine {
    pub name: String,
    pub branch: String,
    pub path: String,
    /// The agent of its session.
    pub agent: Option<String>,
    pub session: Option<String>,
    /// The branch it was made from (merges go there).
    pub base: Option<String>,
    /// Files with uncommitted changes.
    pub dirty: u32,
    /// Commits not on its base, and base commits it lacks.
    pub ahead: u32,
    pub behind: u32,
    /// Subject of its last commit.
    pub last_commit: Option<String>,
    /// Its folder is gone (see worktree_prune).
    #[serde(default, skip_serializing_if = "is_false")]
    pub missing: bool,
    /// Its session is live.
    pub session_live: bool,
    /// The host it is on, when it is another than this server's: its folder is not on this
    /// machine and its state is not read from here (ask on that host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_host: Option<String>,
}

/// Serializes worktree states as [`WorktreeLine`]s.
pub(crate) fn worktrees<S: Serializer>(
    list: &[WorktreeStatus],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|s| WorktreeLine {
        name: s.worktree.name.clone(),
        branch: s.worktree.branch.clone(),
        path: s.worktree.path.clone(),
        agent: s.worktree.agent.clone(),
        session: s.worktree.session.clone(),
        base: s.worktree.base_ref.clone(),
        dirty: s.git.dirty,
        ahead: s.git.ahead,
        behind: s.git.behind,
        last_commit: s.git.last_commit.as_ref().map(|c| c.subject.clone()),
        missing: !s.git.exists,
        session_live: s.session_live,
        other_host: s.other_host.clone(),
    }))
}

/// A commit, briefly.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CommitView {
    pub sha: String,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// A worktree's changes against its base.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DiffView {
    pub name: String,
    pub branch: String,
    pub merge_base: String,
    /// Committed and uncommitted changes against the merge-base.
    pub changed: Vec<ChangedFile>,
    /// Files with uncommitted changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncommitted: Vec<String>,
    /// Commits not on the base, newest first.
    pub commits: Vec<CommitView>,
    pub patch: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub patch_truncated: bool,
}

impl From<&WorktreeDiff> for DiffView {
    fn from(d: &WorktreeDiff) -> Self {
        DiffView {
            name: d.worktree.name.clone(),
            branch: d.worktree.branch.clone(),
            merge_base: short(&d.merge_base),
            changed: d.changed.clone(),
            uncommitted: d.uncommitted.clone(),
            commits: d
                .commits
                .iter()
                .map(|c| CommitView {
                    sha: short(&c.sha),
                    subject: c.subject.clone(),
                    files: c.files.clone(),
                })
                .collect(),
            patch: d.patch.clone(),
            patch_truncated: d.patch_truncated,
        }
    }
}

/// A merge that went through.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MergeView {
    pub worktree: String,
    pub into: String,
    pub strategy: Strategy,
    /// The new tip of `into`.
    pub commit: String,
    /// Undo with `git update-ref refs/heads/<into> <backup>`.
    pub backup: String,
    /// Files the merge changed.
    pub files: Vec<String>,
    /// The checkout whose files were updated.
    pub checkout: Option<String>,
    /// Uncommitted files left in the worktree (not merged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_uncommitted: Vec<String>,
    /// Interrupted merges found first, and whether each was completed or undone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<String>,
    /// Merged files another holder claims: tell them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claimed: Vec<ClaimedWork>,
}

impl From<&MergeOutcome> for MergeView {
    fn from(m: &MergeOutcome) -> Self {
        MergeView {
            worktree: m.worktree.clone(),
            into: m.into.clone(),
            strategy: m.strategy,
            commit: short(&m.commit),
            backup: m.backup.clone(),
            files: m.files.clone(),
            checkout: m.checkout.clone(),
            left_uncommitted: m.left_uncommitted.clone(),
            recovered: m.recovered.clone(),
            claimed: m.claimed.clone(),
        }
    }
}

/// A claim just made or renewed: what it is and until when (the rest is what you asked).
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClaimMade {
    pub id: String,
    pub pattern: String,
    pub expires_at: Timestamp,
}

/// Serializes claims as [`ClaimMade`]s.
pub(crate) fn claims_made<S: Serializer>(list: &[Claim], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|c| ClaimMade {
        id: c.id.clone(),
        pattern: c.pattern.clone(),
        expires_at: c.expires_at,
    }))
}

/// A claim, by id and pattern.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClaimRef {
    pub id: String,
    pub pattern: String,
}

/// Serializes claims as [`ClaimRef`]s.
pub(crate) fn claim_refs<S: Serializer>(list: &[Claim], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|c| ClaimRef {
        id: c.id.clone(),
        pattern: c.pattern.clone(),
    }))
}

/// A claim in force and its holder.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct ClaimLine {
    pub id: String,
    pub pattern: String,
    /// Others may claim it shared too (else it is exclusive).
    #[serde(default, skip_serializing_if = "is_false")]
    pub shared: bool,
    /// The holder: an agent, or a person (human:<name>).
    pub agent: String,
    /// The holder's session (none for a person).
    pub session: Option<String>,
    pub reason: String,
    pub expires_at: Timestamp,
    /// Its holder's session is stale: a human or its parent session may take it over.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stale: bool,
    pub stale_reason: Option<String>,
}

/// Serializes claims as [`ClaimLine`]s.
pub(crate) fn claim_lines<S: Serializer>(list: &[Claim], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(list.iter().map(|c| ClaimLine {
        id: c.id.clone(),
        pattern: c.pattern.clone(),
        shared: c.mode == Mode::Shared,
        agent: c.agent.clone(),
        session: c.session.clone(),
        reason: c.reason.clone(),
        expires_at: c.expires_at,
        stale: c.state == ClaimState::Stale,
        stale_reason: c.stale_reason.clone(),
    }))
}
