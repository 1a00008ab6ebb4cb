//! The event log, in SQL: `seq` comes from a sequence, handed out under the repository's
//! writer lock (see [`super::Db::transaction`]), so it follows commit order.

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
        let row = self.query_one(
            "INSERT INTO events (id, type, actor, payload, at) VALUES ($1, $2, $3, $4, $5)
             RETURNING seq",
            &[&id, &kind, &actor, &payload, &at.millis()],
        )?;
        Ok(row.get(0))
    }

    fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>> {
        let rows = self.query(
            "SELECT seq, id, type, actor, payload, at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&after, &i64::from(limit)],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind: String = r.get(2);
                let payload: String = r.get(4);
                let payload = serde_json::from_str(&payload).unwrap_or_default();
                Event {
                    seq: r.get(0),
                    id: r.get(1),
                    change: Change::read(&kind, payload),
                    kind,
                    actor: r.get(3),
                    at: Timestamp(r.get(5)),
                }
            })
            .collect())
    }

    fn latest_event_seq(&self) -> Result<i64> {
        Ok(self
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM events", &[])?
            .get(0))
    }
}
