//! Sessions, their genealogy, heartbeats and work context, in SQL.

use rusqlite::{OptionalExtension, Row, ToSql, named_params};

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::process::ProcessInfo;
use crate::session::{
    ChangedFile, EndStatus, Filter, Holder, Session, SessionDraft, Status, WorkContext,
    WorkSummary, WorktreeRef, judge,
};
use crate::store::rows::SessionRows;

/// The SQL condition "this session is live" over `sessions` columns qualified by
/// `alias` (e.g. `"s."`), with the stale window's start as the named parameter `:cutoff`:
/// asks [`crate::liveness::stale_reason`] through `sb_live` (see [`super::register_live`]).
pub(crate) fn condition(alias: &str) -> String {
    format!(
        "({a}status = 'active' AND sb_live({a}host, {a}pid, {a}last_seen_at, :cutoff))",
        a = alias
    )
}

const COLUMNS: &str = "id, agent, role, intent, status, parent_id, forked_from, end_reason, pid, host, started_at, last_seen_at, ended_at";

/// Reads a session from a row whose [`COLUMNS`] start at index `at`.
fn from_row(r: &Row<'_>, at: usize, cutoff: Timestamp) -> rusqlite::Result<Session> {
    let stored: String = r.get(at + 4)?;
    let pid: Option<u32> = r.get(at + 8)?;
    let host: Option<String> = r.get(at + 9)?;
    let process = pid.zip(host).map(|(pid, host)| ProcessInfo { pid, host });
    let last_seen_at = Timestamp(r.get(at + 11)?);
    let (status, stale_reason) = judge(&stored, process.as_ref(), last_seen_at, cutoff);
    Ok(Session {
        id: r.get(at)?,
        agent: r.get(at + 1)?,
        role: r.get(at + 2)?,
        intent: r.get(at + 3)?,
        status,
        stale_reason,
        parent: r.get(at + 5)?,
        forked_from: r.get(at + 6)?,
        end_reason: r.get(at + 7)?,
        process,
        started_at: Timestamp(r.get(at + 10)?),
        last_seen_at,
        ended_at: r.get::<_, Option<i64>>(at + 12)?.map(Timestamp),
        worktree: None,
        work: None,
    })
}

impl SessionRows for Tx<'_> {
    fn fetch_session(&self, id: &str, cutoff: Timestamp) -> Result<Option<Session>> {
        Ok(self
            .tx
            .prepare_cached(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"))?
            .query_row([id], |r| from_row(r, 0, cutoff))
            .optional()?)
    }

    fn session_worktree(&self, session: &str) -> Result<Option<WorktreeRef>> {
        Ok(self
            .tx.prepare_cached("SELECT name, path, branch, port FROM worktrees WHERE session_id = ?1 ORDER BY created_at LIMIT 1")?
            .query_row([session], |r| Ok(WorktreeRef { name: r.get(0)?, path: r.get(1)?, branch: r.get(2)?, port: r.get(3)? }))
            .optional()?)
    }

    fn session_work_summary(&self, session: &str) -> Result<Option<WorkSummary>> {
        Ok(self
            .tx.prepare_cached(
                "SELECT branch, head, unmerged, updated_at,
                    (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id),
                    (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id AND f.uncommitted)
             FROM work_context c WHERE session_id = ?1",
            )?
            .query_row([session], |r| {
                Ok(WorkSummary {
                    branch: r.get(0)?,
                    head: r.get(1)?,
                    unmerged: r.get(2)?,
                    updated_at: Timestamp(r.get(3)?),
                    changed_files: r.get(4)?,
                    uncommitted_files: r.get(5)?,
                })
            })
            .optional()?)
    }

    fn insert_session(
        &self,
        id: &str,
        draft: &SessionDraft,
        client: Option<u32>,
        now: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO sessions (id, agent, role, intent, parent_id, forked_from, status, pid, host, client_pid, started_at, last_seen_at)
         VALUES (:id, :agent, :role, :intent, :parent, :forked_from, 'active', :pid, :host, :client, :now, :now)",
        )?
        .execute(named_params! {
            ":id": id, ":agent": draft.agent, ":role": draft.role, ":intent": draft.intent,
            ":parent": draft.parent, ":forked_from": draft.forked_from,
            ":pid": draft.process.as_ref().map(|p| p.pid), ":host": draft.process.as_ref().map(|p| &p.host),
            ":client": client,
            ":now": now.millis(),
        })?;
        Ok(())
    }

    fn claim_session(
        &self,
        id: &str,
        process: &ProcessInfo,
        intent: Option<&str>,
        role: Option<&str>,
        client: Option<u32>,
        now: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "UPDATE sessions SET pid = ?2, host = ?3, last_seen_at = ?4,
                 intent = COALESCE(?5, intent), role = COALESCE(?6, role), client_pid = ?7 WHERE id = ?1",
        )?
        .execute((
            id,
            process.pid,
            &process.host,
            now.millis(),
            intent,
            role,
            client,
        ))?;
        Ok(())
    }

    fn heartbeat_session(
        &self,
        id: &str,
        now: Timestamp,
        process: Option<&ProcessInfo>,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "UPDATE sessions SET last_seen_at = ?2, pid = COALESCE(?3, pid), host = COALESCE(?4, host) WHERE id = ?1",
        )?
        .execute((id, now.millis(), process.map(|p| p.pid), process.map(|p| &p.host)))?;
        Ok(())
    }

    fn touch_session(&self, id: &str, now: Timestamp) -> Result<()> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND status = 'active'",
            )?
            .execute((id, now.millis()))?;
        if changed > 0 {
            self.tx.prepare_cached("UPDATE agents SET last_seen_at = ?2 WHERE name = (SELECT agent FROM sessions WHERE id = ?1)")?
                .execute((id, now.millis()))?;
        }
        Ok(())
    }

    fn update_session(
        &self,
        id: &str,
        intent: Option<&str>,
        role: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.tx.prepare_cached(
            "UPDATE sessions SET intent = COALESCE(?2, intent), role = COALESCE(?3, role), last_seen_at = ?4 WHERE id = ?1",
        )?
        .execute((id, intent, role, now.millis()))?;
        Ok(())
    }

    fn end_session(
        &self,
        id: &str,
        status: EndStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE sessions SET status = ?2, end_reason = ?3, ended_at = ?4 WHERE id = ?1",
            )?
            .execute((id, Status::from(status).as_str(), reason, now.millis()))?;
        Ok(())
    }

    fn list_sessions(
        &self,
        filter: &Filter,
        parent: Option<&str>,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<Session>> {
        let mut conditions = Vec::new();
        let mut values: Vec<(&str, Box<dyn ToSql>)> = vec![
            (":cutoff", Box::new(cutoff.millis())),
            (":limit", Box::new(i64::from(limit))),
        ];
        if let Some(agent) = &filter.agent {
            conditions.push("agent = :agent".to_string());
            values.push((":agent", Box::new(agent.clone())));
        }
        if let Some(parent) = parent {
            conditions.push("parent_id = :parent".to_string());
            values.push((":parent", Box::new(parent.to_string())));
        }
        match filter.status {
            Some(Status::Active) => conditions.push(condition("")),
            Some(Status::Stale) => {
                conditions.push(format!("status = 'active' AND NOT {}", condition("")))
            }
            Some(ended) => {
                conditions.push("status = :status".to_string());
                values.push((":status", Box::new(ended.as_str())));
            }
            None => {}
        }
        if filter.live_only {
            conditions.push(condition(""));
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions {filter_sql} ORDER BY started_at DESC, rowid DESC LIMIT :limit"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        // Bind only the parameters the statement uses (":cutoff" may be absent).
        let params: Vec<(&str, &dyn ToSql)> = values
            .iter()
            .filter(|(name, _)| sql.contains(name))
            .map(|(name, value)| (*name, value.as_ref()))
            .collect();
        let sessions = stmt
            .query_map(params.as_slice(), |r| from_row(r, 0, cutoff))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(sessions)
    }

    fn session_of_client(
        &self,
        host: &str,
        clients: &[u32],
        cutoff: Timestamp,
    ) -> Result<Option<String>> {
        let mut find = self.tx.prepare_cached(&format!(
            "SELECT id FROM sessions s WHERE s.host = :host AND s.client_pid = :client AND {}
             ORDER BY s.last_seen_at DESC LIMIT 1",
            condition("s.")
        ))?;
        for client in clients {
            let found: Option<String> = find
                .query_row(
                    named_params! {":host": host, ":client": client, ":cutoff": cutoff.millis()},
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    fn session_root(&self, focus: &str, depth: u32) -> Result<Option<(String, u32)>> {
        Ok(self
            .tx
            .prepare_cached(
                "WITH RECURSIVE up (id, next, level) AS (
                     SELECT id, COALESCE(parent_id, forked_from), 0 FROM sessions WHERE id = :focus
                     UNION ALL
                     SELECT s.id, COALESCE(s.parent_id, s.forked_from), up.level + 1
                     FROM up CROSS JOIN sessions s ON s.id = up.next WHERE up.level < :depth
                 )
                 SELECT id, level FROM up ORDER BY level DESC LIMIT 1",
            )?
            .query_row(named_params! {":focus": focus, ":depth": depth}, |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    fn session_has_origin(&self, id: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT COALESCE(parent_id, forked_from) IS NOT NULL FROM sessions WHERE id = ?1",
            )?
            .query_row([id], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    fn session_descendants(
        &self,
        root: &str,
        depth: u32,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<(u32, Session, bool)>> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "WITH RECURSIVE down (id, level, path) AS (
                 SELECT id, 0, printf('%016d', rowid) FROM sessions WHERE id = :root
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.parent_id = down.id WHERE down.level < :depth
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.forked_from = down.id
                 WHERE s.parent_id IS NULL AND down.level < :depth
             )
             SELECT down.level, {cols},
                 EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = down.id)
                 OR EXISTS (SELECT 1 FROM sessions c WHERE c.forked_from = down.id AND c.parent_id IS NULL)
             FROM down CROSS JOIN sessions USING (id)
             ORDER BY down.path LIMIT :limit",
            cols = COLUMNS.split(", ").map(|c| format!("sessions.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let nodes = stmt
            .query_map(
                named_params! {":root": root, ":depth": depth, ":limit": limit},
                |r| {
                    let level: u32 = r.get(0)?;
                    let session = from_row(r, 1, cutoff)?;
                    let has_children: bool = r.get(14)?;
                    Ok((level, session, has_children))
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(nodes)
    }

    fn session_changed_files(&self, session: &str) -> Result<Vec<ChangedFile>> {
        let files = self
            .tx.prepare_cached(
                "SELECT path, added, removed, uncommitted FROM work_files WHERE session_id = ?1 ORDER BY path",
            )?
            .query_map([session], |r| {
                Ok(ChangedFile {
                    path: r.get(0)?,
                    added: r.get(1)?,
                    removed: r.get(2)?,
                    uncommitted: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(files)
    }

    fn record_session_work(&self, session: &str, work: &WorkContext, now: Timestamp) -> Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at, host) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (session_id) DO UPDATE SET worktree = excluded.worktree, branch = excluded.branch,
             head = excluded.head, unmerged = excluded.unmerged, updated_at = excluded.updated_at,
             host = excluded.host",
        )?
        .execute((session, &work.worktree, &work.branch, &work.head, work.unmerged, now.millis(), &work.host))?;
        self.tx
            .prepare_cached("DELETE FROM work_files WHERE session_id = ?1")?
            .execute([session])?;
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO work_files (session_id, path, added, removed, uncommitted) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for f in &work.files {
            insert.execute((session, &f.path, f.added, f.removed, f.uncommitted))?;
        }
        Ok(())
    }

    fn sessions_changing(&self, path: &str, cutoff: Timestamp) -> Result<Vec<Holder>> {
        let sql = format!(
            "SELECT s.id, s.agent, c.worktree, c.branch, f.added, f.removed, f.uncommitted, {live}, c.updated_at, c.host
             FROM work_files f JOIN sessions s ON s.id = f.session_id JOIN work_context c ON c.session_id = f.session_id
             WHERE f.path = :path AND s.status = 'active' ORDER BY c.updated_at DESC",
            live = condition("s.")
        );
        let holders = self
            .tx
            .prepare_cached(&sql)?
            .query_map(
                named_params! {":path": path, ":cutoff": cutoff.millis()},
                |r| {
                    Ok(Holder {
                        session: r.get(0)?,
                        agent: r.get(1)?,
                        worktree: r.get(2)?,
                        branch: r.get(3)?,
                        host: r.get(9)?,
                        added: r.get(4)?,
                        removed: r.get(5)?,
                        uncommitted: r.get(6)?,
                        live: r.get(7)?,
                        reported_at: Timestamp(r.get(8)?),
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(holders)
    }

    fn session_shared_files(
        &self,
        session: &str,
        cutoff: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT mine.path, s.agent FROM work_files mine
             JOIN work_files theirs ON theirs.path = mine.path AND theirs.session_id <> mine.session_id
             JOIN sessions s ON s.id = theirs.session_id
             WHERE mine.session_id = :session AND {live}
             ORDER BY mine.path, s.agent",
            live = condition("s.")
        );
        let rows = self
            .tx
            .prepare_cached(&sql)?
            .query_map(
                named_params! {":session": session, ":cutoff": cutoff.millis()},
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn session_parent_agent(&self, session: &str) -> Result<Option<String>> {
        Ok(self
            .tx.prepare_cached(
                "SELECT p.agent FROM sessions s JOIN sessions p ON p.id = s.parent_id WHERE s.id = ?1",
            )?
            .query_row([session], |r| r.get(0))
            .optional()?)
    }
}
