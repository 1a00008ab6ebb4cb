//! Sessions: periods of work by one agent, with their genealogy.
//!
//! `spawn` makes a child (a subtask, `parent` = the spawning session); `fork` makes a
//! sibling that records `forked_from` (an alternative approach from the same point).
//! An active session is reported `stale` when its serving process is gone or its last
//! heartbeat is older than [`crate::Settings::stale_after`]; that is computed on read,
//! never written.
//!
//! This module holds the types, the limits and the row helpers every part shares; the
//! parts are `lifecycle` (starting, joining, claiming, heartbeats, updates and ends, and
//! the notices a parent gets), `work` (the work a heartbeat reports and who is changing
//! a file), `list` (one session, a filtered list, the session of a client process) and
//! `genealogy` (sessions arranged as trees).

mod genealogy;
mod lifecycle;
mod list;
#[cfg(test)]
mod tests;
mod work;

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use genealogy::{SessionNode, SessionTree, TreeNode, forest, tree};
pub use lifecycle::{
    Begin, Begun, Claim, EndRequest, NewSession, SessionUpdate, begin, claim, end, fork, heartbeat,
    spawn, start, touch, update, worker,
};
pub(crate) use lifecycle::{abandon, tell_parent};
pub use list::{Filter, SessionPage, get, list, of_client};
pub use work::{ChangedFile, Holder, WorkContext, shared_files, who_has};

use crate::clock::Timestamp;
use crate::id::{self, IdKind};
use crate::process::ProcessInfo;
use crate::store::Tx;
use crate::{Error, Result};

const MAX_INTENT_LEN: usize = 4000;
const MAX_REASON_LEN: usize = 4000;
/// Number of sessions one list returns when no limit is given.
pub const DEFAULT_LIST_LIMIT: u32 = 50;
/// Largest limit one list accepts; a larger one is refused, not capped.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Depth of a genealogy walk, up and down, when none is given.
pub const DEFAULT_TREE_DEPTH: u32 = 32;
/// Largest depth a genealogy walk accepts; a larger one is refused, not capped.
pub const MAX_TREE_DEPTH: u32 = 256;
const MAX_TREE_NODES: u32 = 1000;

/// A session's reported status. `stale` is computed: an active session whose process is
/// gone or whose heartbeat is too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Open and live: its serving process (if one claimed it) still runs and it was seen
    /// within the stale window.
    Active,
    /// Open, but its serving process is gone or it has not been seen within the stale
    /// window (see `stale_reason`). Judged when read, never stored; it can still heartbeat,
    /// be claimed or be ended.
    Stale,
    /// Ended with its work done.
    Completed,
    /// Ended with its work not done: it could not be finished.
    Failed,
    /// Ended with its work stopped unfinished: ended by someone other than its agent,
    /// replaced by a newer session of its agent, or its worktree could not be created.
    Abandoned,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    /// The work is done; the default when the session's own agent ends it.
    Completed,
    /// The work could not be done.
    Failed,
    /// The work was stopped unfinished; the default when someone else (a human, the parent
    /// session's agent) ends the session.
    Abandoned,
}

impl EndStatus {
    /// How a session ends when the caller does not say: `completed` when its own agent
    /// ends it (its work is done), `abandoned` when someone else does (a human, its
    /// parent's agent: the work was stopped, not finished). Every surface uses this.
    pub fn default_for(session_agent: &str, actor: &str) -> EndStatus {
        if session_agent == actor {
            EndStatus::Completed
        } else {
            EndStatus::Abandoned
        }
    }
}

impl Status {
    /// The lowercase name used in the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Stale => "stale",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            Status::Active,
            Status::Stale,
            Status::Completed,
            Status::Failed,
            Status::Abandoned,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "unknown status '{s}': use active, stale, completed, failed or abandoned"
            ))
        })
    }
}

impl From<EndStatus> for Status {
    fn from(e: EndStatus) -> Self {
        match e {
            EndStatus::Completed => Status::Completed,
            EndStatus::Failed => Status::Failed,
            EndStatus::Abandoned => Status::Abandoned,
        }
    }
}

impl FromStr for EndStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "completed" => Ok(EndStatus::Completed),
            "failed" => Ok(EndStatus::Failed),
            "abandoned" => Ok(EndStatus::Abandoned),
            _ => Err(Error::Invalid(format!(
                "unknown end status '{s}': use completed, failed or abandoned"
            ))),
        }
    }
}

/// A session as reported to callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Session {
    /// Session id: `ses_` and a ULID, e.g. `ses_01JD2N5Q7Z8K3M4P5R6S7T8V9W`. Wherever a
    /// session id is taken, a unique prefix of at least 4 characters after `ses_` is
    /// accepted too.
    pub id: String,
    /// Name of the agent working the session (`[a-z0-9][a-z0-9_-]{0,31}`); never a person
    /// (`human:…`). Fixed at start.
    pub agent: String,
    /// Role declared for the session (same characters as agent names); null when none was
    /// given. Changed by a claim or an update.
    pub role: Option<String>,
    /// What the session is for, in its agent's words (trimmed, at most 4000 characters).
    /// Changed by a claim or an update.
    pub intent: String,
    /// Reported status; `stale` is judged when read (see `stale_reason`).
    pub status: Status,
    /// Why an active session is reported stale.
    pub stale_reason: Option<String>,
    /// Id of the session this one is a subtask of (the one that spawned it, or the parent
    /// given at start); a fork shares its source's parent. Null for a top-level session.
    pub parent: Option<String>,
    /// Id of the session this one was forked from (an alternative approach from the same
    /// point); null unless it is a fork.
    pub forked_from: Option<String>,
    /// Why it ended, as the one who ended it said (trimmed); null while open or when no
    /// reason was given.
    pub end_reason: Option<String>,
    /// The process serving the session; null until an agent process claims it.
    pub process: Option<ProcessInfo>,
    /// When the session started (RFC 3339 UTC, millisecond precision).
    pub started_at: Timestamp,
    /// Last sign of life (RFC 3339 UTC): its start, claim, heartbeats, updates, and its
    /// agent's tool calls. Liveness is judged from it.
    pub last_seen_at: Timestamp,
    /// When the session ended (RFC 3339 UTC); null while open.
    pub ended_at: Option<Timestamp>,
    /// The session's worktree, when it has one.
    pub worktree: Option<WorktreeRef>,
    /// What it is changing, as of its last heartbeat in a worktree.
    pub work: Option<WorkSummary>,
}

/// Where a session works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeRef {
    /// Worktree name, unique in the repository (1-64 ASCII letters, digits, `-`, `_` or
    /// `.`).
    pub name: String,
    /// Absolute path of the worktree's folder.
    pub path: String,
    /// Branch checked out in the worktree (by default `sb/<name>`).
    pub branch: String,
    /// First of the ports reserved for the worktree (`SWITCHBOARD_PORT` in its env file).
    pub port: u16,
}

/// The work a session reported on its last heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkSummary {
    /// Branch the worktree had checked out; null if not recorded.
    pub branch: Option<String>,
    /// Full sha of the worktree's HEAD commit; null if not recorded.
    pub head: Option<String>,
    /// Commits not yet on the base.
    pub unmerged: u32,
    /// Files changed against the merge-base with the base, committed or not.
    pub changed_files: u32,
    /// How many of the changed files have uncommitted changes.
    pub uncommitted_files: u32,
    /// When this work was recorded (RFC 3339 UTC): the last heartbeat or tool call in the
    /// worktree.
    pub updated_at: Timestamp,
}

/// Fills in the worktree and work summary of a loaded session.
fn attach(tx: &Tx<'_>, session: &mut Session) -> Result<()> {
    session.worktree = tx.session_worktree(&session.id)?;
    session.work = tx.session_work_summary(&session.id)?;
    Ok(())
}

impl Session {
    /// Active and not stale.
    pub fn is_live(&self) -> bool {
        self.status == Status::Active
    }
}

/// Computes the reported status and stale reason from stored values (the stored status,
/// the serving process, the last heartbeat) and the stale window's start.
pub(crate) fn judge(
    stored: &str,
    process: Option<&ProcessInfo>,
    last_seen: Timestamp,
    cutoff: Timestamp,
) -> (Status, Option<String>) {
    let status = match stored {
        "completed" => Status::Completed,
        "failed" => Status::Failed,
        "abandoned" => Status::Abandoned,
        _ => Status::Active,
    };
    if status != Status::Active {
        return (status, None);
    }
    let process = process.map(|p| (p.host.as_str(), p.pid));
    match crate::liveness::stale_reason(process, last_seen, cutoff) {
        Some(reason) => (Status::Stale, Some(reason)),
        None => (Status::Active, None),
    }
}

/// The validated row of a session about to be created.
#[derive(Debug, Clone)]
pub(crate) struct SessionDraft {
    pub(crate) agent: String,
    pub(crate) role: Option<String>,
    pub(crate) intent: String,
    pub(crate) parent: Option<String>,
    pub(crate) forked_from: Option<String>,
    pub(crate) process: Option<ProcessInfo>,
}

/// Loads the session `id` with its worktree and work summary.
fn fetch(tx: &Tx<'_>, id: &str, cutoff: Timestamp) -> Result<Session> {
    let mut session = tx
        .fetch_session(id, cutoff)?
        .ok_or_else(|| Error::NotFound {
            kind: crate::error::Record::Session,
            id: id.to_string(),
        })?;
    attach(tx, &mut session)?;
    Ok(session)
}

/// Resolves an id or unique prefix and loads the session.
fn lookup(tx: &Tx<'_>, id_or_prefix: &str, cutoff: Timestamp) -> Result<Session> {
    let id = id::resolve(tx, IdKind::Session, id_or_prefix)?;
    fetch(tx, &id, cutoff)
}
