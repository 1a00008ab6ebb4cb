//! The work sessions report on heartbeat (worktree, branch, head, changed files) and
//! the questions asked of it: who is changing a file, and which of a session's files
//! other live sessions are changing too.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Session;
use crate::clock::Timestamp;
use crate::store::Tx;
use crate::{Result, Store};

/// One file changed in a worktree relative to its merge-base with the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangedFile {
    /// Repository-relative path of the file.
    pub path: String,
    /// Lines added against the merge-base, committed and uncommitted together.
    pub added: u32,
    /// Lines removed against the merge-base, committed and uncommitted together.
    pub removed: u32,
    /// Some of its change is not committed yet.
    pub uncommitted: bool,
}

/// The work a session's worktree holds, recorded on heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkContext {
    /// Name of the session's worktree.
    pub worktree: String,
    /// Branch checked out in the worktree.
    pub branch: String,
    /// Full sha of the worktree's HEAD commit.
    pub head: String,
    /// Commits on the branch not yet on the base.
    pub unmerged: u32,
    /// Files changed against the merge-base with the base, committed or not.
    pub files: Vec<ChangedFile>,
    /// The host the work was read on: the worktree's (its host name, or `SWITCHBOARD_HOST`
    /// there).
    pub host: String,
}

/// Whether `work` differs from what `session` last recorded (head, unmerged count, or any
/// file's change).
pub(super) fn work_changed(tx: &Tx<'_>, session: &Session, work: &WorkContext) -> Result<bool> {
    let Some(before) = &session.work else {
        return Ok(true);
    };
    if before.head.as_deref() != Some(work.head.as_str()) || before.unmerged != work.unmerged {
        return Ok(true);
    }
    let as_tuple = |f: &ChangedFile| (f.path.clone(), f.added, f.removed, f.uncommitted);
    let recorded: Vec<(String, u32, u32, bool)> = tx
        .session_changed_files(&session.id)?
        .iter()
        .map(as_tuple)
        .collect();
    let mut now: Vec<(String, u32, u32, bool)> = work.files.iter().map(as_tuple).collect();
    now.sort();
    Ok(recorded != now)
}

/// A session changing a file right now (as of its last heartbeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holder {
    /// Id of the session changing the file.
    pub session: String,
    /// Name of that session's agent.
    pub agent: String,
    /// Name of the worktree the session reported from; null if not recorded.
    pub worktree: Option<String>,
    /// Branch checked out in that worktree; null if not recorded.
    pub branch: Option<String>,
    /// The host the session reported from, where that worktree is; null if reported before
    /// hosts were recorded.
    pub host: Option<String>,
    /// Lines the session's change adds to the file against the merge-base; null if not
    /// recorded.
    pub added: Option<u32>,
    /// Lines the session's change removes from the file against the merge-base; null if not
    /// recorded.
    pub removed: Option<u32>,
    /// Some of the session's change to the file is not committed yet.
    pub uncommitted: bool,
    /// The session is live now (active, not stale); a stale session's report may be out of
    /// date.
    pub live: bool,
    /// When the session last recorded its work (RFC 3339 UTC).
    pub reported_at: Timestamp,
}

/// Which open sessions are changing `path` (repository-relative), per their latest heartbeat.
pub fn who_has(store: &mut Store, path: &str) -> Result<Vec<Holder>> {
    let path = crate::input::repo_path(path)?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| tx.sessions_changing(&path, cutoff))
}

/// The files `session` has changed (as of its last activity) that other live sessions
/// are changing too, each with those sessions' agents; in path order.
pub fn shared_files(store: &mut Store, session: &str) -> Result<Vec<(String, Vec<String>)>> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let mut shared: Vec<(String, Vec<String>)> = Vec::new();
        for (path, agent) in tx.session_shared_files(session, cutoff)? {
            match shared.last_mut() {
                Some((last, agents)) if *last == path => {
                    if !agents.contains(&agent) {
                        agents.push(agent);
                    }
                }
                _ => shared.push((path, vec![agent])),
            }
        }
        Ok(shared)
    })
}
