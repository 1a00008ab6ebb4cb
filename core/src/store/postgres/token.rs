//! Access tokens (stored as hashes), in SQL.

use tokio_postgres::Row;

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::store::rows::TokenRows;
use crate::token::{Token, TokenState};

const SELECT: &str = "SELECT id, agent, label, created_by, created_at, expires_at, revoked_at, \
                      last_used_at FROM tokens";

/// A token from a row of [`SELECT`], in its state at `now`.
fn from_row(r: &Row, now: Timestamp) -> Token {
    let at = |i: usize| r.get::<_, Option<i64>>(i).map(Timestamp);
    let (expires_at, revoked_at) = (at(5), at(6));
    Token {
        id: r.get(0),
        agent: r.get(1),
        label: r.get(2),
        created_by: r.get(3),
        created_at: Timestamp(r.get(4)),
        expires_at,
        revoked_at,
        last_used_at: at(7),
        state: TokenState::at(expires_at, revoked_at, now),
    }
}

impl TokenRows for Tx<'_> {
    fn insert_token(&self, token: &Token, hash: &str) -> Result<()> {
        self.execute(
            "INSERT INTO tokens (id, agent, hash, label, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &token.id,
                &token.agent,
                &hash,
                &token.label,
                &token.created_by,
                &token.created_at.millis(),
                &token.expires_at.map(Timestamp::millis),
            ],
        )?;
        Ok(())
    }

    fn fetch_token(&self, id: &str, now: Timestamp) -> Result<Option<Token>> {
        let row = self.query_opt(&format!("{SELECT} WHERE id = $1"), &[&id])?;
        Ok(row.map(|r| from_row(&r, now)))
    }

    fn fetch_token_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<Token>> {
        let row = self.query_opt(&format!("{SELECT} WHERE hash = $1"), &[&hash])?;
        Ok(row.map(|r| from_row(&r, now)))
    }

    fn list_tokens(&self, now: Timestamp) -> Result<Vec<Token>> {
        let rows = self.query(&format!("{SELECT} ORDER BY created_at DESC, id DESC"), &[])?;
        Ok(rows.iter().map(|r| from_row(r, now)).collect())
    }

    fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool> {
        let changed = self.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id, &at.millis()],
        )?;
        Ok(changed > 0)
    }

    fn fetch_token_agent(&self, id: &str) -> Result<Option<String>> {
        let row = self.query_opt("SELECT agent FROM tokens WHERE id = $1", &[&id])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
            &[&id, &at.millis()],
        )?;
        Ok(())
    }
}
