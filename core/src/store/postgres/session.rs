//! Sessions, their genealogy, heartbeats and work context, in SQL.
//!
//! Liveness is defined once, by [`crate::liveness::stale_reason`]; PostgreSQL cannot call
//! it, so a query that filters or counts live sessions judges the lease in SQL and the
//! serving process in Rust beforehand ([`Live::gather`]), and [`condition`] combines both.
//!
//! Sessions started in the same millisecond keep the order they were written in, by
//! `rowid` (an identity column, as SQLite's implicit one).

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::Tx;
use super::integer::{narrow, narrow_opt};
use crate::Result;
use crate::clock::Timestamp;
use crate::process::{ProcessInfo, is_alive, this_host};
use crate::session::{
    ChangedFile, EndStatus, Filter, Holder, Session, SessionDraft, Status, WorkContext,
    WorkSummary, WorktreeRef, judge,
};
use crate::store::rows::SessionRows;

/// The values [`condition`] is bound to, as of one statement: the stale window's start,
/// this host's name and the pids of this host's processes serving open sessions that
/// still run.
pub(super) struct Live {
    cutoff: i64,
    host: String,
    pids: Vec<i64>,
}

impl Live {
    /// Judges, with [`is_alive`], the processes on this host that serve open sessions seen
    /// since `cutoff` (the only ones whose verdict the condition needs: another host's
    /// cannot be judged and counts as running, and a lease older than `cutoff` is stale
    /// whatever runs).
    pub(super) fn gather(tx: &Tx<'_>, cutoff: Timestamp) -> Result<Live> {
        let host = this_host();
        let candidates = tx.query(
            "SELECT DISTINCT pid FROM sessions
             WHERE status = 'active' AND host = $1 AND pid IS NOT NULL AND last_seen_at >= $2",
            &[&host, &cutoff.millis()],
        )?;
        let pids = candidates
            .iter()
            .map(|r| r.get::<_, i64>(0))
            .filter(|pid| u32::try_from(*pid).is_ok_and(|pid| is_alive(&host, pid)))
            .collect();
        Ok(Live {
            cutoff: cutoff.millis(),
            host,
            pids,
        })
    }

    /// The parameters of [`condition`], in its order.
    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 3] {
        [&self.cutoff, &self.host, &self.pids]
    }
}

/// The SQL condition "this session is live" over `sessions` columns qualified by `alias`
/// (e.g. `"s."`), bound to [`Live::params`] as the parameters numbered from `$first`.
/// It is [`crate::liveness::stale_reason`] finding nothing: open, seen since the cutoff,
/// and served by no process (no host or pid, or a pid that is not a process id, as the
/// SQLite store reads it), by one on another host, or by one [`Live::gather`] found
/// running.
pub(super) fn condition(alias: &str, first: usize) -> String {
    format!(
        "({a}status = 'active' AND {a}last_seen_at >= ${cutoff}
          AND ({a}host IS NULL OR {a}pid IS NULL OR {a}pid NOT BETWEEN 0 AND {max}
               OR {a}host <> ${host} OR {a}pid = ANY(${pids})))",
        a = alias,
        cutoff = first,
        host = first + 1,
        pids = first + 2,
        max = u32::MAX,
    )
}

const COLUMNS: &str = "id, agent, role, intent, status, parent_id, forked_from, end_reason, pid, host, started_at, last_seen_at, ended_at";

/// Reads a session from a row whose [`COLUMNS`] start at index `at`.
fn from_row(r: &Row, at: usize, cutoff: Timestamp) -> Result<Session> {
    let stored: String = r.get(at + 4);
    let pid: Option<u32> = narrow_opt(r, at + 8)?;
    let host: Option<String> = r.get(at + 9);
    let process = pid.zip(host).map(|(pid, host)| ProcessInfo { pid, host });
    let last_seen_at = Timestamp(r.get(at + 11));
    let (status, stale_reason) = judge(&stored, process.as_ref(), last_seen_at, cutoff);
    Ok(Session {
        id: r.get(at),
        agent: r.get(at + 1),
        role: r.get(at + 2),
        intent: r.get(at + 3),
        status,
        stale_reason,
        parent: r.get(at + 5),
        forked_from: r.get(at + 6),
        end_reason: r.get(at + 7),
        process,
        started_at: Timestamp(r.get(at + 10)),
        last_seen_at,
        ended_at: r.get::<_, Option<i64>>(at + 12).map(Timestamp),
        worktree: None,
        work: None,
    })
}

impl SessionRows for Tx<'_> {
    fn fetch_session(&self, id: &str, cutoff: Timestamp) -> Result<Option<Session>> {
        self.query_opt(
            &format!("SELECT {COLUMNS} FROM sessions WHERE id = $1"),
            &[&id],
        )?
        .map(|r| from_row(&r, 0, cutoff))
        .transpose()
    }

    fn session_worktree(&self, session: &str) -> Result<Option<WorktreeRef>> {
        self.query_opt(
            "SELECT name, path, branch, port FROM worktrees WHERE session_id = $1 ORDER BY created_at LIMIT 1",
            &[&session],
        )?
        .map(|r| {
            Ok(WorktreeRef {
                name: r.get(0),
                path: r.get(1),
                branch: r.get(2),
                port: narrow(&r, 3)?,
            })
        })
        .transpose()
    }

    fn session_work_summary(&self, session: &str) -> Result<Option<WorkSummary>> {
        self.query_opt(
            "SELECT branch, head, unmerged, updated_at,
                 (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id),
                 (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id AND f.uncommitted <> 0)
             FROM work_context c WHERE session_id = $1",
            &[&session],
        )?
        .map(|r| {
            Ok(WorkSummary {
                branch: r.get(0),
                head: r.get(1),
                unmerged: narrow(&r, 2)?,
                updated_at: Timestamp(r.get(3)),
                changed_files: narrow(&r, 4)?,
                uncommitted_files: narrow(&r, 5)?,
            })
        })
        .transpose()
    }

    fn insert_session(
        &self,
        id: &str,
        draft: &SessionDraft,
        client: Option<u32>,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO sessions (id, agent, role, intent, parent_id, forked_from, status, pid, host, client_pid, started_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $10)",
            &[
                &id,
                &draft.agent,
                &draft.role,
                &draft.intent,
                &draft.parent,
                &draft.forked_from,
                &draft.process.as_ref().map(|p| i64::from(p.pid)),
                &draft.process.as_ref().map(|p| &p.host),
                &client.map(i64::from),
                &now.millis(),
            ],
        )?;
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
        self.execute(
            "UPDATE sessions SET pid = $2, host = $3, last_seen_at = $4,
                 intent = COALESCE($5, intent), role = COALESCE($6, role), client_pid = $7 WHERE id = $1",
            &[
                &id,
                &i64::from(process.pid),
                &process.host,
                &now.millis(),
                &intent,
                &role,
                &client.map(i64::from),
            ],
        )?;
        Ok(())
    }

    fn heartbeat_session(
        &self,
        id: &str,
        now: Timestamp,
        process: Option<&ProcessInfo>,
    ) -> Result<()> {
        self.execute(
            "UPDATE sessions SET last_seen_at = $2, pid = COALESCE($3, pid), host = COALESCE($4, host) WHERE id = $1",
            &[
                &id,
                &now.millis(),
                &process.map(|p| i64::from(p.pid)),
                &process.map(|p| &p.host),
            ],
        )?;
        Ok(())
    }

    fn touch_session(&self, id: &str, now: Timestamp) -> Result<()> {
        let changed = self.execute(
            "UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND status = 'active'",
            &[&id, &now.millis()],
        )?;
        if changed > 0 {
            self.execute(
                "UPDATE agents SET last_seen_at = $2 WHERE name = (SELECT agent FROM sessions WHERE id = $1)",
                &[&id, &now.millis()],
            )?;
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
        self.execute(
            "UPDATE sessions SET intent = COALESCE($2, intent), role = COALESCE($3, role), last_seen_at = $4 WHERE id = $1",
            &[&id, &intent, &role, &now.millis()],
        )?;
        Ok(())
    }

    fn end_session(
        &self,
        id: &str,
        status: EndStatus,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.execute(
            "UPDATE sessions SET status = $2, end_reason = $3, ended_at = $4 WHERE id = $1",
            &[&id, &Status::from(status).as_str(), &reason, &now.millis()],
        )?;
        Ok(())
    }

    fn list_sessions(
        &self,
        filter: &Filter,
        parent: Option<&str>,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<Session>> {
        let judged =
            filter.live_only || matches!(filter.status, Some(Status::Active) | Some(Status::Stale));
        let live = judged.then(|| Live::gather(self, cutoff)).transpose()?;
        let limit = i64::from(limit);
        let ended = filter.status.map(Status::as_str);
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&limit];
        let mut live_sql = String::new();
        if let Some(live) = &live {
            live_sql = condition("", params.len() + 1);
            params.extend(live.params());
        }
        let mut conditions = Vec::new();
        if let Some(agent) = &filter.agent {
            params.push(agent);
            conditions.push(format!("agent = ${}", params.len()));
        }
        if let Some(parent) = &parent {
            params.push(parent);
            conditions.push(format!("parent_id = ${}", params.len()));
        }
        match filter.status {
            Some(Status::Active) => conditions.push(live_sql.clone()),
            Some(Status::Stale) => conditions.push(format!("status = 'active' AND NOT {live_sql}")),
            Some(_) => {
                params.push(&ended);
                conditions.push(format!("status = ${}", params.len()));
            }
            None => {}
        }
        if filter.live_only {
            conditions.push(live_sql);
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions {filter_sql} ORDER BY started_at DESC, rowid DESC LIMIT $1"
        );
        self.query(&sql, &params)?
            .iter()
            .map(|r| from_row(r, 0, cutoff))
            .collect()
    }

    fn session_of_client(
        &self,
        host: &str,
        clients: &[u32],
        cutoff: Timestamp,
    ) -> Result<Option<String>> {
        let live = Live::gather(self, cutoff)?;
        let [live_cutoff, live_host, live_pids] = live.params();
        let sql = format!(
            "SELECT id FROM sessions s WHERE s.host = $1 AND s.client_pid = $2 AND {}
             ORDER BY s.last_seen_at DESC LIMIT 1",
            condition("s.", 3)
        );
        for client in clients {
            let found = self.query_opt(
                &sql,
                &[
                    &host,
                    &i64::from(*client),
                    live_cutoff,
                    live_host,
                    live_pids,
                ],
            )?;
            if let Some(found) = found {
                return Ok(Some(found.get(0)));
            }
        }
        Ok(None)
    }

    fn session_root(&self, focus: &str, depth: u32) -> Result<Option<(String, u32)>> {
        self.query_opt(
            "WITH RECURSIVE up (id, next, level) AS (
                 SELECT id, COALESCE(parent_id, forked_from), 0::bigint FROM sessions WHERE id = $1
                 UNION ALL
                 SELECT s.id, COALESCE(s.parent_id, s.forked_from), up.level + 1
                 FROM up JOIN sessions s ON s.id = up.next WHERE up.level < $2
             )
             SELECT id, level FROM up ORDER BY level DESC LIMIT 1",
            &[&focus, &i64::from(depth)],
        )?
        .map(|r| Ok((r.get(0), narrow(&r, 1)?)))
        .transpose()
    }

    fn session_has_origin(&self, id: &str) -> Result<bool> {
        Ok(self
            .query_opt(
                "SELECT COALESCE(parent_id, forked_from) IS NOT NULL FROM sessions WHERE id = $1",
                &[&id],
            )?
            .is_some_and(|r| r.get(0)))
    }

    fn session_descendants(
        &self,
        root: &str,
        depth: u32,
        limit: u32,
        cutoff: Timestamp,
    ) -> Result<Vec<(u32, Session, bool)>> {
        // A node's path is its ancestors' row numbers then its own: ordering by it (an
        // array orders below its extensions) is pre-order, siblings in the order written.
        let sql = format!(
            "WITH RECURSIVE down (id, level, path) AS (
                 SELECT id, 0::bigint, ARRAY[rowid] FROM sessions WHERE id = $1
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || s.rowid
                 FROM down JOIN sessions s
                     ON s.parent_id = down.id OR (s.forked_from = down.id AND s.parent_id IS NULL)
                 WHERE down.level < $2
             )
             SELECT down.level, {cols},
                 EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = down.id)
                 OR EXISTS (SELECT 1 FROM sessions c WHERE c.forked_from = down.id AND c.parent_id IS NULL)
             FROM down JOIN sessions USING (id)
             ORDER BY down.path LIMIT $3",
            cols = COLUMNS
                .split(", ")
                .map(|c| format!("sessions.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.query(&sql, &[&root, &i64::from(depth), &i64::from(limit)])?
            .iter()
            .map(|r| Ok((narrow(r, 0)?, from_row(r, 1, cutoff)?, r.get(14))))
            .collect()
    }

    fn session_changed_files(&self, session: &str) -> Result<Vec<ChangedFile>> {
        self.query(
            "SELECT path, added, removed, uncommitted FROM work_files WHERE session_id = $1 ORDER BY path",
            &[&session],
        )?
        .iter()
        .map(|r| {
            Ok(ChangedFile {
                path: r.get(0),
                added: narrow(r, 1)?,
                removed: narrow(r, 2)?,
                uncommitted: r.get::<_, i64>(3) != 0,
            })
        })
        .collect()
    }

    fn record_session_work(&self, session: &str, work: &WorkContext, now: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at, host) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (session_id) DO UPDATE SET worktree = excluded.worktree, branch = excluded.branch,
                 head = excluded.head, unmerged = excluded.unmerged, updated_at = excluded.updated_at,
                 host = excluded.host",
            &[
                &session,
                &work.worktree,
                &work.branch,
                &work.head,
                &i64::from(work.unmerged),
                &now.millis(),
                &work.host,
            ],
        )?;
        self.execute("DELETE FROM work_files WHERE session_id = $1", &[&session])?;
        for f in &work.files {
            self.execute(
                "INSERT INTO work_files (session_id, path, added, removed, uncommitted) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &session,
                    &f.path,
                    &i64::from(f.added),
                    &i64::from(f.removed),
                    &i64::from(f.uncommitted),
                ],
            )?;
        }
        Ok(())
    }

    fn sessions_changing(&self, path: &str, cutoff: Timestamp) -> Result<Vec<Holder>> {
        let live = Live::gather(self, cutoff)?;
        let [live_cutoff, live_host, live_pids] = live.params();
        let sql = format!(
            "SELECT s.id, s.agent, c.worktree, c.branch, f.added, f.removed, f.uncommitted, {live}, c.updated_at, c.host
             FROM work_files f JOIN sessions s ON s.id = f.session_id JOIN work_context c ON c.session_id = f.session_id
             WHERE f.path = $1 AND s.status = 'active' ORDER BY c.updated_at DESC",
            live = condition("s.", 2)
        );
        self.query(&sql, &[&path, live_cutoff, live_host, live_pids])?
            .iter()
            .map(|r| {
                Ok(Holder {
                    session: r.get(0),
                    agent: r.get(1),
                    worktree: r.get(2),
                    branch: r.get(3),
                    host: r.get(9),
                    added: narrow_opt(r, 4)?,
                    removed: narrow_opt(r, 5)?,
                    uncommitted: r.get::<_, i64>(6) != 0,
                    live: r.get(7),
                    reported_at: Timestamp(r.get(8)),
                })
            })
            .collect()
    }

    fn session_shared_files(
        &self,
        session: &str,
        cutoff: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let live = Live::gather(self, cutoff)?;
        let [live_cutoff, live_host, live_pids] = live.params();
        let sql = format!(
            "SELECT mine.path, s.agent FROM work_files mine
             JOIN work_files theirs ON theirs.path = mine.path AND theirs.session_id <> mine.session_id
             JOIN sessions s ON s.id = theirs.session_id
             WHERE mine.session_id = $1 AND {live}
             ORDER BY mine.path, s.agent",
            live = condition("s.", 2)
        );
        Ok(self
            .query(&sql, &[&session, live_cutoff, live_host, live_pids])?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn session_parent_agent(&self, session: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT p.agent FROM sessions s JOIN sessions p ON p.id = s.parent_id WHERE s.id = $1",
                &[&session],
            )?
            .map(|r| r.get(0)))
    }
}
