//! The work sessions report on heartbeat (worktree, branch, head, changed files) and
//! the questions asked of it: who is changing a file, and which of a session's files
//! other live sessions are changing too.

use rusqlite::named_params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Session;
use crate::clock::Timestamp;
use crate::store::Tx;
use crate::{Result, Store};

/// One file changed in a worktree relative to its merge-base with the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangedFile {
    pub path: String,
    pub added: u32,
    pub removed: u32,
    /// Some of its change is not committed yet.
    pub uncommitted: bool,
}

/// The work a session's worktree holds, recorded on heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkContext {
    pub worktree: String,
    pub branch: String,
    pub head: String,
    pub unmerged: u32,
    pub files: Vec<ChangedFile>,
}

/// Whether `work` differs from what `session` last recorded (head, unmerged count, or any
/// file's change).
pub(super) fn work_changed(conn: &Tx<'_>, session: &Session, work: &WorkContext) -> Result<bool> {
    let Some(before) = &session.work else {
        return Ok(true);
    };
    if before.head.as_deref() != Some(work.head.as_str()) || before.unmerged != work.unmerged {
        return Ok(true);
    }
    let recorded: Vec<(String, u32, u32, bool)> = conn
        .prepare_cached(
            "SELECT path, added, removed, uncommitted FROM work_files WHERE session_id = ?1 ORDER BY path",
        )?
        .query_map([&session.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut now: Vec<(String, u32, u32, bool)> = work
        .files
        .iter()
        .map(|f| (f.path.clone(), f.added, f.removed, f.uncommitted))
        .collect();
    now.sort();
    Ok(recorded != now)
}

pub(super) fn record_work(
    conn: &Tx<'_>,
    session: &str,
    work: &WorkContext,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (session_id) DO UPDATE SET worktree = excluded.worktree, branch = excluded.branch,
             head = excluded.head, unmerged = excluded.unmerged, updated_at = excluded.updated_at",
    )?
    .execute((session, &work.worktree, &work.branch, &work.head, work.unmerged, now.millis()))?;
    conn.prepare_cached("DELETE FROM work_files WHERE session_id = ?1")?
        .execute([session])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO work_files (session_id, path, added, removed, uncommitted) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for f in &work.files {
        insert.execute((session, &f.path, f.added, f.removed, f.uncommitted))?;
    }
    Ok(())
}

/// A session changing a file right now (as of its last heartbeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holder {
    pub session: String,
    pub agent: String,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    pub added: Option<u32>,
    pub removed: Option<u32>,
    pub uncommitted: bool,
    pub live: bool,
    pub reported_at: Timestamp,
}

/// Which open sessions are changing `path` (repository-relative), per their latest heartbeat.
pub fn who_has(store: &mut Store, path: &str) -> Result<Vec<Holder>> {
    let path = crate::input::repo_path(path)?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let sql = format!(
            "SELECT s.id, s.agent, c.worktree, c.branch, f.added, f.removed, f.uncommitted, {live}, c.updated_at
             FROM work_files f JOIN sessions s ON s.id = f.session_id JOIN work_context c ON c.session_id = f.session_id
             WHERE f.path = :path AND s.status = 'active' ORDER BY c.updated_at DESC",
            live = crate::liveness::condition("s.")
        );
        let holders = tx
            .prepare_cached(&sql)?
            .query_map(named_params! {":path": path, ":cutoff": cutoff.millis()}, |r| {
                Ok(Holder {
                    session: r.get(0)?,
                    agent: r.get(1)?,
                    worktree: r.get(2)?,
                    branch: r.get(3)?,
                    added: r.get(4)?,
                    removed: r.get(5)?,
                    uncommitted: r.get(6)?,
                    live: r.get(7)?,
                    reported_at: Timestamp(r.get(8)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(holders)
    })
}

/// The files `session` has changed (as of its last activity) that other live sessions
/// are changing too, each with those sessions' agents; in path order.
pub fn shared_files(store: &mut Store, session: &str) -> Result<Vec<(String, Vec<String>)>> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let sql = format!(
            "SELECT mine.path, s.agent FROM work_files mine
             JOIN work_files theirs ON theirs.path = mine.path AND theirs.session_id <> mine.session_id
             JOIN sessions s ON s.id = theirs.session_id
             WHERE mine.session_id = :session AND {live}
             ORDER BY mine.path, s.agent",
            live = crate::liveness::condition("s.")
        );
        let mut shared: Vec<(String, Vec<String>)> = Vec::new();
        let rows = tx
            .prepare_cached(&sql)?
            .query_map(named_params! {":session": session, ":cutoff": cutoff.millis()}, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (path, agent) in rows {
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
