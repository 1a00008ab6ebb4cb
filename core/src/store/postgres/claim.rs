//! Claims on paths, in SQL.

use tokio_postgres::Row;

use super::Tx;
use super::integer::narrow_opt;
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
fn from_row(r: &Row, now: Timestamp, cutoff: Timestamp) -> Result<Claim> {
    let stored = StoredClaim {
        id: r.get(0),
        session: r.get(1),
        agent: r.get(2),
        pattern: r.get(3),
        mode: r.get(4),
        reason: r.get(5),
        created_at: Timestamp(r.get(6)),
        expires_at: Timestamp(r.get(7)),
    };
    let status: Option<String> = r.get(8);
    let pid: Option<u32> = narrow_opt(r, 9)?;
    let host: Option<String> = r.get(10);
    let holding = status.map(|status| Holding {
        status,
        process: pid.zip(host).map(|(pid, host)| ProcessInfo { pid, host }),
        last_seen: Timestamp(r.get::<_, Option<i64>>(11).unwrap_or_default()),
    });
    Ok(stored.judge(holding, now, cutoff))
}

impl ClaimRows for Tx<'_> {
    fn list_claims(&self, now: Timestamp, cutoff: Timestamp) -> Result<Vec<Claim>> {
        let rows = self.query(&format!("{SELECT} ORDER BY c.created_at, c.id"), &[])?;
        rows.iter().map(|r| from_row(r, now, cutoff)).collect()
    }

    fn fetch_claim(&self, id: &str, now: Timestamp, cutoff: Timestamp) -> Result<Option<Claim>> {
        self.query_opt(&format!("{SELECT} WHERE c.id = $1"), &[&id])?
            .map(|r| from_row(&r, now, cutoff))
            .transpose()
    }

    fn insert_claim(&self, claim: &Claim) -> Result<()> {
        self.execute(
            "INSERT INTO claims (id, session_id, agent, pattern, mode, reason, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &claim.id,
                &claim.session,
                &claim.agent,
                &claim.pattern,
                &claim.mode.as_str(),
                &claim.reason,
                &claim.created_at.millis(),
                &claim.expires_at.millis(),
            ],
        )?;
        Ok(())
    }

    fn update_claim(
        &self,
        id: &str,
        mode: Mode,
        reason: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        self.execute(
            "UPDATE claims SET mode = $2, reason = $3, expires_at = $4 WHERE id = $1",
            &[&id, &mode.as_str(), &reason, &expires_at.millis()],
        )?;
        Ok(())
    }

    fn delete_claim(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM claims WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn delete_session_claims(&self, session: &str) -> Result<Vec<(String, String)>> {
        let rows = self.query(
            "SELECT id, pattern FROM claims WHERE session_id = $1 ORDER BY created_at, id",
            &[&session],
        )?;
        let deleted: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        if !deleted.is_empty() {
            self.execute("DELETE FROM claims WHERE session_id = $1", &[&session])?;
        }
        Ok(deleted)
    }
}
