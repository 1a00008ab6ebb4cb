//! The append-only event log: one row per mutation, written in the mutation's transaction.
//! It is the change feed for everything live (waits, resource updates, editor pushes).
//!
//! A row is a type name ([`Kind`]) and a JSON payload. Readers see it as a typed
//! [`Change`]: the facts they act on, read leniently so that a row written by another
//! version never fails a reader — an unknown type, or a payload this version cannot read,
//! is [`Change::Unknown`], which every question answers with "nothing". The questions
//! surfaces ask ([`Change::topics`], [`Change::concerns`], [`Change::mail_for`],
//! [`Change::threads`]) are answered here, once.
//!
//! Writers pass a [`Kind`] and a payload: the payload structs below for the events whose
//! facts are only these, the whole entity (session, group, worktree, merge outcome) for
//! the others, of which readers take what they need. In debug builds every append is read
//! back and must give a known [`Change`], so a payload that drifts from its reader fails
//! the tests that write it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{IdKind, new_id};
use crate::priority::Priority;
use crate::store::Tx;
use crate::{Result, Store};

/// Event types. Their names ([`Kind::as_str`]) are stable: readers in other processes and
/// versions match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A participant was registered, or its role or description changed.
    AgentRegistered,
    /// A session was started, spawned as a subtask or forked.
    SessionStarted,
    /// An agent process claimed a session: its liveness now follows that process.
    SessionClaimed,
    /// A heartbeat changed what a session reports (its work, or its serving process).
    SessionHeartbeat,
    /// A session's intent or role was changed.
    SessionUpdated,
    /// A session ended (completed, failed or abandoned, also when superseded).
    SessionEnded,
    /// A message (or reply) was sent and delivered to its recipients.
    MessageSent,
    /// A participant marked messages read (or read one by replying to it).
    MessageRead,
    /// A participant acknowledged messages (which also marks them read).
    MessageAcked,
    /// Unread messages were put in front of their agent (announced by a hook, or shown
    /// when it looked at its inbox) without being marked read.
    MessageNotified,
    /// An author edited a message; the old text is kept as a version.
    MessageEdited,
    /// An author deleted a message; recipients see a tombstone.
    MessageDeleted,
    /// A group was created or its members changed.
    GroupChanged,
    /// A group was deleted.
    GroupDeleted,
    /// A worktree was created.
    WorktreeCreated,
    /// A worktree was removed (its folder, and on request its branch).
    WorktreeRemoved,
    /// A prune was applied (not a dry run): git's stale entries and records of
    /// worktrees whose folder is gone were cleaned.
    WorktreePruned,
    /// A worktree's branch was merged into another (by default the one it was made
    /// from); also recorded when recovery finds that git completed an interrupted merge.
    WorktreeMerged,
    /// A worktree was rebased onto its base, also when the rebase stopped at a conflict
    /// kept for resolving.
    WorktreeSynced,
    /// An interrupted merge was undone or dropped.
    WorktreeRecovered,
    /// An access token was created.
    TokenCreated,
    /// An access token was revoked (not written when it already was).
    TokenRevoked,
    /// Paths were claimed (new claims, or a holder's claims of the same patterns
    /// replaced), possibly taking over a stale holder's claims.
    ClaimMade,
    /// A holder renewed claims: their expiry moved.
    ClaimRenewed,
    /// Claims were released: by their holder, by a human or the holder's parent, or
    /// because their session ended.
    ClaimReleased,
    /// A commit went through the pre-commit guard over other holders' exclusive claims,
    /// because its committer bypassed the guard (`SWITCHBOARD_GUARD=off`).
    ClaimBypassed,
}

impl Kind {
    /// The type name stored in the log, e.g. `session.started`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AgentRegistered => "agent.registered",
            Kind::SessionStarted => "session.started",
            Kind::SessionClaimed => "session.claimed",
            Kind::SessionHeartbeat => "session.heartbeat",
            Kind::SessionUpdated => "session.updated",
            Kind::SessionEnded => "session.ended",
            Kind::MessageSent => "message.sent",
            Kind::MessageRead => "message.read",
            Kind::MessageAcked => "message.acked",
            Kind::MessageNotified => "message.notified",
            Kind::MessageEdited => "message.edited",
            Kind::MessageDeleted => "message.deleted",
            Kind::GroupChanged => "group.changed",
            Kind::GroupDeleted => "group.deleted",
            Kind::WorktreeCreated => "worktree.created",
            Kind::WorktreeRemoved => "worktree.removed",
            Kind::WorktreePruned => "worktree.pruned",
            Kind::WorktreeMerged => "worktree.merged",
            Kind::WorktreeSynced => "worktree.synced",
            Kind::WorktreeRecovered => "worktree.recovered",
            Kind::TokenCreated => "token.created",
            Kind::TokenRevoked => "token.revoked",
            Kind::ClaimMade => "claim.made",
            Kind::ClaimRenewed => "claim.renewed",
            Kind::ClaimReleased => "claim.released",
            Kind::ClaimBypassed => "claim.bypassed",
        }
    }
}

/// What part of the shared state an event changes, so a view showing it must refresh:
/// `sessions` (sessions and agents), `messages` (messages, threads, groups) or
/// `worktrees` (worktrees and the work in them).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Topic {
    /// Sessions or agents changed.
    Sessions,
    /// Messages, threads or groups changed.
    Messages,
    /// Worktrees, or the work in them, changed.
    Worktrees,
}

/// A session, as read from the session recorded by `session.*` events (the whole session
/// is written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFacts {
    /// Session id (`ses_` and a ULID).
    pub id: String,
    /// Name of the agent working the session.
    pub agent: String,
}

/// `session.heartbeat`: a session's work changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Id of the session whose work changed.
    pub session: String,
    /// How many files it is changing, when it works in a worktree.
    #[serde(default)]
    pub files: Option<usize>,
}

/// `agent.registered`: an agent appeared or its role or description changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRegistered {
    /// Participant name (an agent, or `human:<name>`).
    pub name: String,
    /// `agent` or `human`.
    #[serde(default)]
    pub kind: String,
    /// The role this registration set; `None` when it set none (the current one is kept).
    #[serde(default)]
    pub role: Option<String>,
    /// The description this registration set; `None` when it set none (the current one
    /// is kept).
    #[serde(default)]
    pub description: Option<String>,
    /// First seen now.
    #[serde(default)]
    pub new: bool,
}

/// `message.sent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageSent {
    /// Message id (`msg_` and a ULID).
    pub id: String,
    /// The message's position (its row).
    #[serde(default)]
    pub seq: i64,
    /// Id of its thread (`thr_` and a ULID).
    pub thread: String,
    /// Participant name of its author; empty when the row does not say.
    #[serde(default)]
    pub from: String,
    /// Every participant it was delivered to.
    pub recipients: Vec<String>,
    /// How urgent its author marked it; normal when the row does not say.
    #[serde(default)]
    pub priority: Priority,
}

/// `message.read`, `message.acked`, `message.notified`: what one participant did to some
/// of their messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesTouched {
    /// Ids of the messages whose state changed (those already in that state are left out).
    pub ids: Vec<String>,
    /// Ids of those messages' threads.
    pub threads: Vec<String>,
    /// The participant whose messages they are.
    pub by: String,
}

/// `message.edited`, `message.deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageChanged {
    /// Id of the edited or deleted message.
    pub id: String,
    /// Id of its thread.
    pub thread: String,
}

/// A group, as read from the group recorded by `group.*` events (the whole group is
/// written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFacts {
    /// Group name (addressed as `@name`).
    pub name: String,
}

/// A worktree, as read from what `worktree.created` and `.synced` record (the whole
/// worktree or outcome is written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreeFacts {
    /// The worktree's name (`name` in a worktree, `worktree` in an outcome).
    #[serde(alias = "worktree")]
    pub name: String,
}

/// `worktree.merged`, as read from the merge outcome recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merged {
    /// Name of the merged worktree.
    pub worktree: String,
    /// The branch merged into.
    pub into: String,
    /// The commit the target branch points at after the merge.
    pub commit: String,
    /// The backup ref of the target branch before the merge.
    pub backup: String,
}

/// `worktree.removed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreeRemoved {
    /// The removed worktree.
    pub worktree: WorktreeFacts,
    /// Backup refs written before anything was deleted.
    #[serde(default)]
    pub backups: Vec<String>,
    /// Whether its branch was deleted too (on request); false when the row does not say.
    #[serde(default)]
    pub branch_deleted: bool,
}

/// `worktree.pruned`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreePruned {
    /// git's administrative entries of worktrees whose folders are gone, as
    /// `path: reason`; git pruned them.
    #[serde(default)]
    pub stale_admin_entries: Vec<String>,
    /// Names of the Switchboard worktrees whose folder was gone; their records were
    /// deleted.
    #[serde(default)]
    pub missing_folders: Vec<String>,
}

/// `worktree.recovered`: an interrupted merge was undone or dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorktreeRecovered {
    /// Name of the worktree whose merge was interrupted.
    pub worktree: String,
    /// The branch the merge was going into.
    pub into: String,
    /// The backup ref of that branch from before the merge.
    pub backup: String,
    /// `restored`, `moved` (the branch or checkout moved on without it), `gone` (branch
    /// deleted) or `dropped` (forgotten on request, git untouched).
    pub outcome: String,
}

/// `token.created`, `token.revoked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenChanged {
    /// Token id (`tok_` and a ULID); never the secret.
    pub id: String,
    /// The agent the token acts as.
    pub agent: String,
    /// When a created token expires; absent when it never does, and in `token.revoked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
}

/// `claim.made`, `claim.renewed`, `claim.released`: claims of one holder that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsChanged {
    /// The holder: an agent, or `human:<name>`.
    pub agent: String,
    /// The holder's session; absent for a person's claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Ids of the claims made, renewed or released (`clm_` and a ULID).
    pub ids: Vec<String>,
    /// Their patterns, in the order of `ids`.
    pub patterns: Vec<String>,
    /// When the claims made or renewed expire; absent in `claim.released`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// In `claim.made`: ids of stale holders' claims released to make room (taken over).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken_over: Vec<String>,
    /// In `claim.released`: why, when not released by request (`session ended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// `claim.bypassed`: a commit let through the pre-commit guard over others' exclusive
/// claims. Never holds file contents or paths: the claims and a count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimBypassed {
    /// Who committed: an agent, or `human:<name>`.
    pub agent: String,
    /// The committer's session, when an agent committed in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Ids of the claims the commit went over (`clm_` and a ULID).
    pub ids: Vec<String>,
    /// How many paths the commit staged (all of them, claimed or not).
    pub staged: u64,
}

/// What an event says happened, read from its type and payload. Tagged like the log
/// (`type`, `payload`); any row that is not one of these is [`Change::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum Change {
    /// Event type `agent.registered`: see [`Kind::AgentRegistered`].
    #[serde(rename = "agent.registered")]
    AgentRegistered(AgentRegistered),
    /// Event type `session.started`: see [`Kind::SessionStarted`].
    #[serde(rename = "session.started")]
    SessionStarted(SessionFacts),
    /// Event type `session.claimed`: see [`Kind::SessionClaimed`].
    #[serde(rename = "session.claimed")]
    SessionClaimed(SessionFacts),
    /// Event type `session.heartbeat`: see [`Kind::SessionHeartbeat`].
    #[serde(rename = "session.heartbeat")]
    SessionHeartbeat(Heartbeat),
    /// Event type `session.updated`: see [`Kind::SessionUpdated`].
    #[serde(rename = "session.updated")]
    SessionUpdated(SessionFacts),
    /// Event type `session.ended`: see [`Kind::SessionEnded`].
    #[serde(rename = "session.ended")]
    SessionEnded(SessionFacts),
    /// Event type `message.sent`: see [`Kind::MessageSent`].
    #[serde(rename = "message.sent")]
    MessageSent(MessageSent),
    /// Event type `message.read`: see [`Kind::MessageRead`].
    #[serde(rename = "message.read")]
    MessageRead(MessagesTouched),
    /// Event type `message.acked`: see [`Kind::MessageAcked`].
    #[serde(rename = "message.acked")]
    MessageAcked(MessagesTouched),
    /// Event type `message.notified`: see [`Kind::MessageNotified`].
    #[serde(rename = "message.notified")]
    MessageNotified(MessagesTouched),
    /// Event type `message.edited`: see [`Kind::MessageEdited`].
    #[serde(rename = "message.edited")]
    MessageEdited(MessageChanged),
    /// Event type `message.deleted`: see [`Kind::MessageDeleted`].
    #[serde(rename = "message.deleted")]
    MessageDeleted(MessageChanged),
    /// Event type `group.changed`: see [`Kind::GroupChanged`].
    #[serde(rename = "group.changed")]
    GroupChanged(GroupFacts),
    /// Event type `group.deleted`: see [`Kind::GroupDeleted`].
    #[serde(rename = "group.deleted")]
    GroupDeleted(GroupFacts),
    /// Event type `worktree.created`: see [`Kind::WorktreeCreated`].
    #[serde(rename = "worktree.created")]
    WorktreeCreated(WorktreeFacts),
    /// Event type `worktree.removed`: see [`Kind::WorktreeRemoved`].
    #[serde(rename = "worktree.removed")]
    WorktreeRemoved(WorktreeRemoved),
    /// Event type `worktree.pruned`: see [`Kind::WorktreePruned`].
    #[serde(rename = "worktree.pruned")]
    WorktreePruned(WorktreePruned),
    /// Event type `worktree.merged`: see [`Kind::WorktreeMerged`].
    #[serde(rename = "worktree.merged")]
    WorktreeMerged(Merged),
    /// Event type `worktree.synced`: see [`Kind::WorktreeSynced`].
    #[serde(rename = "worktree.synced")]
    WorktreeSynced(WorktreeFacts),
    /// Event type `worktree.recovered`: see [`Kind::WorktreeRecovered`].
    #[serde(rename = "worktree.recovered")]
    WorktreeRecovered(WorktreeRecovered),
    /// Event type `token.created`: see [`Kind::TokenCreated`].
    #[serde(rename = "token.created")]
    TokenCreated(TokenChanged),
    /// Event type `token.revoked`: see [`Kind::TokenRevoked`].
    #[serde(rename = "token.revoked")]
    TokenRevoked(TokenChanged),
    /// Event type `claim.made`: see [`Kind::ClaimMade`].
    #[serde(rename = "claim.made")]
    ClaimMade(ClaimsChanged),
    /// Event type `claim.renewed`: see [`Kind::ClaimRenewed`].
    #[serde(rename = "claim.renewed")]
    ClaimRenewed(ClaimsChanged),
    /// Event type `claim.released`: see [`Kind::ClaimReleased`].
    #[serde(rename = "claim.released")]
    ClaimReleased(ClaimsChanged),
    /// Event type `claim.bypassed`: see [`Kind::ClaimBypassed`].
    #[serde(rename = "claim.bypassed")]
    ClaimBypassed(ClaimBypassed),
    /// A type this version does not know (a newer one wrote it), or a payload it cannot
    /// read: nobody acts on it.
    #[serde(other)]
    Unknown,
}

impl Change {
    /// Reads a row's type and payload, whatever they hold: never fails.
    pub fn read(kind: &str, payload: serde_json::Value) -> Change {
        let tagged = serde_json::json!({"type": kind, "payload": payload});
        serde_json::from_value(tagged).unwrap_or(Change::Unknown)
    }

    /// The parts of the shared state this changes (empty for tokens, guard bypasses and
    /// unknown events).
    /// Claims are part of sessions' work: a view of sessions or of the work in worktrees
    /// (who is changing or claiming which file) refreshes on them.
    pub fn topics(&self) -> &'static [Topic] {
        use Change::*;
        match self {
            SessionHeartbeat(_) => &[Topic::Sessions, Topic::Worktrees],
            AgentRegistered(_) | SessionStarted(_) | SessionClaimed(_) | SessionUpdated(_)
            | SessionEnded(_) => &[Topic::Sessions],
            MessageSent(_) | MessageRead(_) | MessageAcked(_) | MessageNotified(_)
            | MessageEdited(_) | MessageDeleted(_) | GroupChanged(_) | GroupDeleted(_) => {
                &[Topic::Messages]
            }
            WorktreeCreated(_) | WorktreeRemoved(_) | WorktreePruned(_) | WorktreeMerged(_)
            | WorktreeSynced(_) | WorktreeRecovered(_) => &[Topic::Worktrees, Topic::Sessions],
            ClaimMade(_) | ClaimRenewed(_) | ClaimReleased(_) => {
                &[Topic::Sessions, Topic::Worktrees]
            }
            // A bypass changes no state any view shows: it is a record in the log.
            TokenCreated(_) | TokenRevoked(_) | ClaimBypassed(_) | Unknown => &[],
        }
    }

    /// Whether this changes what `participant`'s inbox shows: mail delivered to them,
    /// their own mail read, acknowledged or announced, or any message edited or deleted
    /// (it may be theirs). Claims never do: they are not mail.
    pub fn concerns(&self, participant: &str) -> bool {
        match self {
            Change::MessageSent(m) => m.recipients.iter().any(|r| r == participant),
            Change::MessageRead(t) | Change::MessageAcked(t) | Change::MessageNotified(t) => {
                t.by == participant
            }
            Change::MessageEdited(_) | Change::MessageDeleted(_) => true,
            _ => false,
        }
    }

    /// The id of the message this delivers to `participant`, if it is a `message.sent`
    /// whose recipients include them.
    pub fn mail_for(&self, participant: &str) -> Option<&str> {
        match self {
            Change::MessageSent(m) if m.recipients.iter().any(|r| r == participant) => Some(&m.id),
            _ => None,
        }
    }

    /// The threads whose messages this changes.
    pub fn threads(&self) -> Vec<&str> {
        match self {
            Change::MessageSent(m) => vec![&m.thread],
            Change::MessageEdited(m) | Change::MessageDeleted(m) => vec![&m.thread],
            Change::MessageRead(t) | Change::MessageAcked(t) | Change::MessageNotified(t) => {
                t.threads.iter().map(String::as_str).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The session this starts, claims, updates, ends or reports the work of, or whose
    /// claims on paths it changes (none for a person's claims).
    pub fn session(&self) -> Option<&str> {
        match self {
            Change::ClaimMade(c) | Change::ClaimRenewed(c) | Change::ClaimReleased(c) => {
                c.session.as_deref()
            }
            Change::SessionStarted(s)
            | Change::SessionClaimed(s)
            | Change::SessionUpdated(s)
            | Change::SessionEnded(s) => Some(&s.id),
            Change::SessionHeartbeat(h) => Some(&h.session),
            _ => None,
        }
    }
}

/// One entry of the event log, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the log; strictly increasing, in commit order.
    pub seq: i64,
    /// Event id (`evt_` and a ULID).
    pub id: String,
    /// The stored type name, e.g. `session.started` (kept for types this version does
    /// not know).
    pub kind: String,
    /// The agent (or `human:…`) that caused it, when known.
    pub actor: Option<String>,
    /// What happened.
    pub change: Change,
    /// When it happened: the time of the mutation that wrote it.
    pub at: Timestamp,
}

/// Appends an event inside the caller's transaction and returns its sequence number.
pub(crate) fn append(
    tx: &Tx<'_>,
    kind: Kind,
    actor: Option<&str>,
    payload: &impl Serialize,
    at: Timestamp,
) -> Result<i64> {
    let payload = serde_json::to_string(payload)?;
    debug_assert!(
        Change::read(kind.as_str(), serde_json::from_str(&payload)?) != Change::Unknown,
        "the {} payload does not read back: {payload}",
        kind.as_str()
    );
    tx.append_event(&new_id(IdKind::Event), kind.as_str(), actor, &payload, at)
}

impl Store {
    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(&mut self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.read(|tx| tx.events_after(after, limit))
    }

    /// The sequence number of the newest event (0 when the log is empty).
    pub fn latest_event_seq(&mut self) -> Result<i64> {
        self.read(|tx| tx.latest_event_seq())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_read_leniently_whatever_their_payload() {
        let sent = json!({"id": "msg_1", "thread": "thr_1", "recipients": ["ann", "human:ada"]});
        let change = Change::read("message.sent", sent.clone());
        assert_eq!(change.mail_for("ann"), Some("msg_1"));
        assert_eq!(change.mail_for("bob"), None);
        assert!(change.concerns("human:ada"));
        assert_eq!(change.threads(), vec!["thr_1"]);
        assert_eq!(change.topics(), &[Topic::Messages]);
        assert_eq!(Change::read("message.read", sent).mail_for("ann"), None);
        for odd in [
            json!(null),
            json!([1, 2]),
            json!({"id": 7, "thread": "t", "recipients": ["ann"]}),
            json!({"id": "msg_1", "thread": "t", "recipients": "ann"}),
            json!({"thread": "t", "recipients": ["ann"]}),
        ] {
            assert_eq!(Change::read("message.sent", odd), Change::Unknown);
        }
        assert_eq!(
            Change::read("comet.sighted", json!({"id": "x"})),
            Change::Unknown
        );
        assert!(Change::Unknown.topics().is_empty());
        assert!(!Change::Unknown.concerns("ann"));
    }

    #[test]
    fn entity_payloads_give_the_facts_readers_use() {
        let session = json!({"id": "ses_1", "agent": "ann", "intent": "x", "status": "active"});
        assert_eq!(
            Change::read("session.ended", session),
            Change::SessionEnded(SessionFacts {
                id: "ses_1".into(),
                agent: "ann".into()
            })
        );
        let outcome =
            json!({"worktree": "feat", "into": "main", "commit": "abc", "backup": "refs/b"});
        assert_eq!(
            Change::read("worktree.merged", outcome),
            Change::WorktreeMerged(Merged {
                worktree: "feat".into(),
                into: "main".into(),
                commit: "abc".into(),
                backup: "refs/b".into(),
            })
        );
        assert_eq!(
            Change::read("worktree.synced", json!({"worktree": "feat", "onto": "x"})),
            Change::WorktreeSynced(WorktreeFacts {
                name: "feat".into()
            })
        );
        let heartbeat = Change::read("session.heartbeat", json!({"session": "ses_1"}));
        assert_eq!(heartbeat.topics(), &[Topic::Sessions, Topic::Worktrees]);
        assert_eq!(heartbeat.session(), Some("ses_1"));
        assert_eq!(
            Change::read("worktree.created", json!({"name": "w"})).session(),
            None
        );
    }

    crate::every_backend! {
        fn the_log_refuses_updates_and_deletes(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let touched = MessagesTouched {
                ids: vec!["msg_1".into()],
                threads: vec!["thr_1".into()],
                by: "ann".into(),
            };
            store
                .write(|tx| {
                    append(tx, Kind::MessageRead, Some("ann"), &touched, Timestamp(5)).map(|_| ())
                })
                .unwrap();
            let update = store.sql_rows("UPDATE events SET type = 'x'", &[]);
            assert!(update.unwrap_err().to_string().contains("append-only"));
            let delete = store.sql_rows("DELETE FROM events", &[]);
            assert!(delete.unwrap_err().to_string().contains("append-only"));
            let events = store.events_after(0, 10).unwrap();
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].kind, "message.read");
            assert_eq!(events[0].change, Change::MessageRead(touched));
            assert_eq!(store.latest_event_seq().unwrap(), events[0].seq);
        }
    }
}
