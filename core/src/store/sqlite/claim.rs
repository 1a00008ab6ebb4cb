//! Claims on paths, in SQL.

use rusqlite::{OptionalExtension, Row, named_params};

use super::Tx;
use crate::Result;
use crate::claim::{Claim, Holding, Mode, StoredClaim};
use crate::clock::Timestamp;
use crate::process::ProcessInfo;
use crate::store::rows::ClaimRows;

/// A claim's columns and, when it has a session, the session's liveness columns.
const SELECT: &str = "SELECT c.id, c.session_id, c.agent, c.pattern, c.mode, c.reason, \
                      c.created_at, c.expires_at, s.status, s.pid, s.host, s.last_seen_at \
                      FROM claims c LEFT JOIN sessions s ON s.id = c.session_id";

/// A claim from a row of [`SELECT`], judged at `now` against `cutoff`.
fn from_row(r: &Row<'_>, now: Timestamp, cutoff: Timestamp) -> rusqlite::Result<Claim> {
    let stored = StoredClaim {
        id: r.get(0)?,
        session: r.get(1)?,
        agent: r.get(2)?,
        pattern: r.get(3)?,
        mode: r.get(4)?,
        reason: r.get(5)?,
        created_at: Timestamp(r.get(6)?),
        expires_at: Timestamp(r.get(7)?),
    };
    let status: Option<String> = r.get(8)?;
    let pid: Option<u32> = r.get(9)?;
    let host: Option<String> = r.get(10)?;
    let holding = match status {
        Some(status) => Some(Holding {
            status,
            process: pid.zip(host).map(|(pid, host)| ProcessInfo { pid, host }),
            last_seen: Timestamp(r.get(11)?),
        }),
        None => None,
    };
    Ok(stored.judge(holding, now, cutoff))
}

impl ClaimRows for Tx<'_> {
    fn list_claims(&self, now: Timestamp, cutoff: Timestamp) -> Result<Vec<Claim>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("{SELECT} ORDER BY c.created_at, c.id"))?;
        let claims = stmt
            .query_map([], |r| from_row(r, now, cutoff))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(claims)
    }

    fn fetch_claim(&self, id: &str, now: Timestamp, cutoff: Timestamp) -> Result<Option<Claim>> {
        Ok(self
            .tx
            .prepare_cached(&format!("{SELECT} WHERE c.id = ?1"))?
            .query_row([id], |r| from_row(r, now, cutoff))
            .optional()?)
    }

    fn insert_claim(&self, claim: &Claim) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO claims (id, session_id, agent, pattern, mode, reason, created_at, expires_at)
                 VALUES (:id, :session, :agent, :pattern, :mode, :reason, :created_at, :expires_at)",
            )?
            .execute(named_params! {
                ":id": claim.id, ":session": claim.session, ":agent": claim.agent,
                ":pattern": claim.pattern, ":mode": claim.mode.as_str(), ":reason": claim.reason,
                ":created_at": claim.created_at.millis(), ":expires_at": claim.expires_at.millis(),
            })?;
        Ok(())
    }

    fn update_claim(
        &self,
        id: &str,
        mode: Mode,
        reason: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE claims SET mode = ?2, reason = ?3, expires_at = ?4 WHERE id = ?1",
            )?
            .execute((id, mode.as_str(), reason, expires_at.millis()))?;
        Ok(())
    }

    fn delete_claim(&self, id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM claims WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }

    fn delete_session_claims(&self, session: &str) -> Result<Vec<(String, String)>> {
        let deleted = self
            .tx
            .prepare_cached(
                "SELECT id, pattern FROM claims WHERE session_id = ?1 ORDER BY created_at, id",
            )?
            .query_map([session], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        if !deleted.is_empty() {
            self.tx
                .prepare_cached("DELETE FROM claims WHERE session_id = ?1")?
                .execute([session])?;
        }
        Ok(deleted)
    }
}
