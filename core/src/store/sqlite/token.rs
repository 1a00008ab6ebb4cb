//! Access tokens (stored as hashes), in SQL.

use rusqlite::{OptionalExtension, Row, named_params};

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::store::rows::TokenRows;
use crate::token::{Token, TokenState};

const SELECT: &str = "SELECT id, agent, label, created_by, created_at, expires_at, revoked_at, \
                      last_used_at FROM tokens";

fn from_row(r: &Row<'_>, now: Timestamp) -> rusqlite::Result<Token> {
    let at = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp))
    };
    let (expires_at, revoked_at) = (at(5)?, at(6)?);
    Ok(Token {
        id: r.get(0)?,
        agent: r.get(1)?,
        label: r.get(2)?,
        created_by: r.get(3)?,
        created_at: Timestamp(r.get(4)?),
        expires_at,
        revoked_at,
        last_used_at: at(7)?,
        state: TokenState::at(expires_at, revoked_at, now),
    })
}

impl TokenRows for Tx<'_> {
    fn insert_token(&self, token: &Token, hash: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO tokens (id, agent, hash, label, created_by, created_at, expires_at)
             VALUES (:id, :agent, :hash, :label, :created_by, :now, :expires_at)",
            )?
            .execute(named_params! {
                ":id": token.id, ":agent": token.agent, ":hash": hash, ":label": token.label,
                ":created_by": token.created_by, ":now": token.created_at.millis(),
                ":expires_at": token.expires_at.map(Timestamp::millis),
            })?;
        Ok(())
    }

    fn fetch_token(&self, id: &str, now: Timestamp) -> Result<Option<Token>> {
        Ok(self
            .tx
            .prepare_cached(&format!("{SELECT} WHERE id = ?1"))?
            .query_row([id], |r| from_row(r, now))
            .optional()?)
    }

    fn fetch_token_by_hash(&self, hash: &str, now: Timestamp) -> Result<Option<Token>> {
        Ok(self
            .tx
            .prepare_cached(&format!("{SELECT} WHERE hash = ?1"))?
            .query_row([hash], |r| from_row(r, now))
            .optional()?)
    }

    fn list_tokens(&self, now: Timestamp) -> Result<Vec<Token>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!("{SELECT} ORDER BY created_at DESC, id DESC"))?;
        let tokens = stmt
            .query_map([], |r| from_row(r, now))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(tokens)
    }

    fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
            )?
            .execute((id, at.millis()))?;
        Ok(changed > 0)
    }

    fn fetch_token_agent(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row("SELECT agent FROM tokens WHERE id = ?1", [id], |r| r.get(0))
            .optional()?)
    }

    fn touch_token(&self, id: &str, at: Timestamp) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
            .execute((id, at.millis()))?;
        Ok(())
    }
}
