//! Worktree records, ports, merges and interrupted operations, in SQL.

use rusqlite::{OptionalExtension, Row, named_params, params};

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::store::rows::WorktreeRows;
use crate::worktree::{Operation, OperationOwner, Worktree};

const COLUMNS: &str = "w.name, w.repo, w.path, w.branch, w.base_commit, w.base_ref, w.session_id, s.agent, \
     w.port, w.ports, w.created_by, w.created_at, w.host";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Worktree> {
    Ok(Worktree {
        name: r.get(0)?,
        repo: r.get(1)?,
        path: r.get(2)?,
        host: r.get(12)?,
        branch: r.get(3)?,
        base_commit: r.get(4)?,
        base_ref: r.get(5)?,
        session: r.get(6)?,
        agent: r.get(7)?,
        port: r.get(8)?,
        ports: r.get(9)?,
        created_by: r.get(10)?,
        created_at: Timestamp(r.get(11)?),
    })
}

impl WorktreeRows for Tx<'_> {
    fn fetch_worktree(&self, name: &str) -> Result<Option<Worktree>> {
        Ok(self
            .tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id WHERE w.name = ?1"
            ))?
            .query_row([name], from_row)
            .optional()?)
    }

    fn all_worktrees(&self) -> Result<Vec<Worktree>> {
        let rows = self
            .tx.prepare_cached(&format!("SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id ORDER BY w.name"))?
            .query_map([], from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn worktree_at_path(&self, path: &str) -> Result<Option<Worktree>> {
        Ok(self
            .tx.prepare_cached(&format!("SELECT {COLUMNS} FROM worktrees w LEFT JOIN sessions s ON s.id = w.session_id WHERE w.path = ?1"))?
            .query_row([path], from_row)
            .optional()?)
    }

    fn worktree_of_session(&self, session: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT name FROM worktrees WHERE session_id = ?1 ORDER BY created_at LIMIT 1",
            )?
            .query_row([session], |r| r.get(0))
            .optional()?)
    }

    fn worktree_reported_files(&self, name: &str) -> Result<Vec<String>> {
        let files = self
            .tx
            .prepare_cached(
                "SELECT f.path FROM worktrees w
                 JOIN work_context c ON c.session_id = w.session_id AND c.worktree = w.name
                 JOIN work_files f ON f.session_id = c.session_id
                 WHERE w.name = ?1 ORDER BY f.path",
            )?
            .query_map([name], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(files)
    }

    fn worktree_ports(&self) -> Result<Vec<u32>> {
        let used = self
            .tx
            .prepare_cached("SELECT port FROM worktrees")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(used)
    }

    fn insert_worktree(&self, w: &Worktree) -> Result<()> {
        self.tx.prepare_cached(
            "INSERT INTO worktrees (name, repo, path, branch, base_commit, base_ref, session_id, port, ports, created_by, created_at, host)
             VALUES (:name, :repo, :path, :branch, :base, :base_ref, :session, :port, :ports, :actor, :now, :host)",
        )?
        .execute(named_params! {
            ":name": w.name, ":repo": w.repo, ":path": w.path, ":branch": w.branch, ":base": w.base_commit,
            ":base_ref": w.base_ref, ":session": w.session, ":port": w.port, ":ports": w.ports,
            ":actor": w.created_by, ":now": w.created_at.millis(), ":host": w.host,
        })?;
        Ok(())
    }

    fn delete_worktree(&self, name: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM worktrees WHERE name = ?1")?
            .execute([name])?;
        Ok(())
    }

    fn update_worktree_base_commit(&self, name: &str, base_commit: &str) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE worktrees SET base_commit = ?2 WHERE name = ?1")?
            .execute((name, base_commit))?;
        Ok(())
    }

    fn worktree_session_ended_at(&self, session: &str) -> Result<Option<Timestamp>> {
        let ended: Option<i64> = self
            .tx
            .prepare_cached("SELECT ended_at FROM sessions WHERE id = ?1")?
            .query_row([session], |r| r.get(0))
            .optional()?
            .flatten();
        Ok(ended.map(Timestamp))
    }

    fn worktree_session_state(&self, session: &str) -> Result<Option<(bool, bool)>> {
        Ok(self
            .tx.prepare_cached(
                "SELECT s.status = 'active', EXISTS (SELECT 1 FROM worktrees w WHERE w.session_id = s.id)
                 FROM sessions s WHERE s.id = ?1",
            )?
            .query_row([session], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn insert_merge_operation(
        &self,
        id: &str,
        repo: &str,
        plan: &str,
        owner: &OperationOwner,
        started_at: Timestamp,
    ) -> Result<()> {
        self.tx.execute(
            "INSERT INTO operations (id, repo, kind, plan, pid, host, start_ticks, started_at)
                 VALUES (?1, ?2, 'merge', ?3, ?4, ?5, ?6, ?7)",
            params![
                id,
                repo,
                plan,
                owner.pid,
                owner.host,
                owner.ticks,
                started_at.millis()
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
        let claimed = self.tx.execute(
            "UPDATE operations SET pid = ?2, host = ?3, start_ticks = ?4
             WHERE id = ?1 AND pid = ?5 AND host = ?6 AND start_ticks IS ?7",
            params![
                id, to.pid, to.host, to.ticks, from.pid, from.host, from.ticks
            ],
        )?;
        Ok(claimed != 0)
    }

    fn delete_operation(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM operations WHERE id = ?1", [id])?;
        Ok(())
    }

    fn merge_operations(&self, repo: Option<&str>) -> Result<Vec<Operation>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT id, plan, pid, host, start_ticks FROM operations
             WHERE kind = 'merge' AND (?1 IS NULL OR repo = ?1) ORDER BY id",
        )?;
        let rows = stmt
            .query_map([&repo], |r| {
                Ok(Operation {
                    id: r.get(0)?,
                    plan: r.get(1)?,
                    owner: OperationOwner {
                        pid: r.get(2)?,
                        host: r.get(3)?,
                        ticks: r.get(4)?,
                    },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }
}
