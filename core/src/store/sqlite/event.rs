//! The event log, in SQL: `seq` is the row id, so it follows commit order (one writer at
//! a time).

use rusqlite::params;

use super::Tx;
use crate::Result;
use crate::clock::Timestamp;
use crate::event::{Change, Event};
use crate::store::rows::EventRows;

impl EventRows for Tx<'_> {
    fn append_event(
        &self,
        id: &str,
        kind: &str,
        actor: Option<&str>,
        payload: &str,
        at: Timestamp,
    ) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO events (id, type, actor, payload, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![id, kind, actor, payload, at.millis()])?;
        Ok(self.tx.last_insert_rowid())
    }

    fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT seq, id, type, actor, payload, at FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit], |r| {
            let kind: String = r.get(2)?;
            let payload: String = r.get(4)?;
            let payload = serde_json::from_str(&payload).unwrap_or_default();
            Ok(Event {
                seq: r.get(0)?,
                id: r.get(1)?,
                change: Change::read(&kind, payload),
                kind,
                actor: r.get(3)?,
                at: Timestamp(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn latest_event_seq(&self) -> Result<i64> {
        Ok(self
            .tx
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
    }
}
