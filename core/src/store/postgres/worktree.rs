//! Worktree records, ports, merges and interrupted operations, in SQL.

use tokio_postgres::Row;

use super::Tx;
use super::integer::narrow;
use crate::Result;
use crate::clock::Timestamp;
use crate::store::rows::WorktreeRows;
use crate::worktree::{Operation, OperationOwner, Worktree};

const COLUMNS: &str = "w.name, w.repo, w.path, w.branch, w.base_commit, w.base_ref, w.session_id, s.agent, \
     w.port, w.ports, w.created_by, w.created_at, w.host";

fn from_row(r: &Row) -> Result<Worktree> {
    Ok(Worktree {
        name: r.get(0),
        repo: r.get(1),
        path: r.get(2),
        host: r.get(12),
        branch: r.get(3),
        base_commit: r.get(4),
        base_ref: r.get(5),
        session: r.get(6),
        agent: r.get(7),
        port: narrow(r, 8)?,
        ports: narrow(r, 9)?,
        created_by: r.get(10),
        created_at: Timestamp(r.get(11)),
    })
}

impl WorktreeRows for Tx<'_> {
    fn fetch_worktree(&self, name: &str) -> Result<Option<Worktree>> {
        self.query_opt(
            &format!(
                "SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id WHERE w.name = $1"
            ),
            &[&name],
        )?
        .map(|r| from_row(&r))
        .transpose()
    }

    fn all_worktrees(&self) -> Result<Vec<Worktree>> {
        self.query(
            &format!(
                "SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id ORDER BY w.name"
            ),
            &[],
        )?
        .iter()
        .map(from_row)
        .collect()
    }

    fn worktree_at_path(&self, path: &str) -> Result<Option<Worktree>> {
        self.query_opt(
            &format!(
                "SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id WHERE w.path = $1"
            ),
            &[&path],
        )?
        .map(|r| from_row(&r))
        .transpose()
    }

    fn worktree_of_session(&self, session: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT name FROM worktrees WHERE session_id = $1 ORDER BY created_at LIMIT 1",
                &[&session],
            )?
            .map(|r| r.get(0)))
    }

    fn worktree_reported_files(&self, name: &str) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT f.path FROM worktrees w
                 JOIN work_context c ON c.session_id = w.session_id AND c.worktree = w.name
                 JOIN work_files f ON f.session_id = c.session_id
                 WHERE w.name = $1 ORDER BY f.path",
                &[&name],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn worktree_ports(&self) -> Result<Vec<u32>> {
        self.query("SELECT port FROM worktrees", &[])?
            .iter()
            .map(|r| narrow(r, 0))
            .collect()
    }

    fn insert_worktree(&self, w: &Worktree) -> Result<()> {
        self.execute(
            "INSERT INTO worktrees (name, repo, path, branch, base_commit, base_ref, session_id, port, ports, created_by, created_at, host)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                &w.name,
                &w.repo,
                &w.path,
                &w.branch,
                &w.base_commit,
                &w.base_ref,
                &w.session,
                &i64::from(w.port),
                &i64::from(w.ports),
                &w.created_by,
                &w.created_at.millis(),
                &w.host,
            ],
        )?;
        Ok(())
    }

    fn delete_worktree(&self, name: &str) -> Result<()> {
        self.execute("DELETE FROM worktrees WHERE name = $1", &[&name])?;
        Ok(())
    }

    fn update_worktree_base_commit(&self, name: &str, base_commit: &str) -> Result<()> {
        self.execute(
            "UPDATE worktrees SET base_commit = $2 WHERE name = $1",
            &[&name, &base_commit],
        )?;
        Ok(())
    }

    fn worktree_session_ended_at(&self, session: &str) -> Result<Option<Timestamp>> {
        let ended: Option<i64> = self
            .query_opt("SELECT ended_at FROM sessions WHERE id = $1", &[&session])?
            .and_then(|r| r.get(0));
        Ok(ended.map(Timestamp))
    }

    fn worktree_session_state(&self, session: &str) -> Result<Option<(bool, bool)>> {
        Ok(self
            .query_opt(
                "SELECT s.status = 'active', EXISTS (SELECT 1 FROM worktrees w WHERE w.session_id = s.id)
                 FROM sessions s WHERE s.id = $1",
                &[&session],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn insert_merge_operation(
        &self,
        id: &str,
        repo: &str,
        plan: &str,
        owner: &OperationOwner,
        started_at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO operations (id, repo, kind, plan, pid, host, start_ticks, started_at)
             VALUES ($1, $2, 'merge', $3, $4, $5, $6, $7)",
            &[
                &id,
                &repo,
                &plan,
                &i64::from(owner.pid),
                &owner.host,
                &owner.ticks,
                &started_at.millis(),
            ],
        )?;
        Ok(())
    }

    fn claim_operation(
        &self,
        id: &str,
        from: &OperationOwner,
        to: &OperationOwner,
    ) -> Result<bool> {
        let claimed = self.execute(
            "UPDATE operations SET pid = $2, host = $3, start_ticks = $4
             WHERE id = $1 AND pid = $5 AND host = $6 AND start_ticks IS NOT DISTINCT FROM $7",
            &[
                &id,
                &i64::from(to.pid),
                &to.host,
                &to.ticks,
                &i64::from(from.pid),
                &from.host,
                &from.ticks,
            ],
        )?;
        Ok(claimed != 0)
    }

    fn delete_operation(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM operations WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn merge_operations(&self, repo: Option<&str>) -> Result<Vec<Operation>> {
        self.query(
            "SELECT id, plan, pid, host, start_ticks FROM operations
             WHERE kind = 'merge' AND ($1::text IS NULL OR repo = $1) ORDER BY id",
            &[&repo],
        )?
        .iter()
        .map(|r| {
            Ok(Operation {
                id: r.get(0),
                plan: r.get(1),
                owner: OperationOwner {
                    pid: narrow(r, 2)?,
                    host: r.get(3),
                    ticks: r.get(4),
                },
            })
        })
        .collect()
    }
}
