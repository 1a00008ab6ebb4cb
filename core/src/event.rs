//! The append-only event log: one row per mutation, written in the mutation's transaction.
//! It is the change feed for everything live (waits, resource updates, editor pushes).
//! Readers ignore event types they do not know.

use rusqlite::{Connection, params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::id::{IdKind, new_id};
use crate::{Result, Store};

/// Event type names. Stable: readers in other processes and versions match on them.
pub mod kind {
    pub const AGENT_REGISTERED: &str = "agent.registered";
    pub const SESSION_STARTED: &str = "session.started";
    pub const SESSION_CLAIMED: &str = "session.claimed";
    pub const SESSION_HEARTBEAT: &str = "session.heartbeat";
    pub const SESSION_UPDATED: &str = "session.updated";
    pub const SESSION_ENDED: &str = "session.ended";
    pub const MESSAGE_SENT: &str = "message.sent";
    pub const MESSAGE_READ: &str = "message.read";
    pub const MESSAGE_ACKED: &str = "message.acked";
    pub const MESSAGE_NOTIFIED: &str = "message.notified";
    pub const MESSAGE_EDITED: &str = "message.edited";
    pub const MESSAGE_DELETED: &str = "message.deleted";
    pub const GROUP_CHANGED: &str = "group.changed";
    pub const GROUP_DELETED: &str = "group.deleted";
    pub const WORKTREE_CREATED: &str = "worktree.created";
    pub const WORKTREE_REMOVED: &str = "worktree.removed";
    pub const WORKTREE_PRUNED: &str = "worktree.pruned";
    pub const WORKTREE_MERGED: &str = "worktree.merged";
    pub const WORKTREE_SYNCED: &str = "worktree.synced";
    pub const WORKTREE_RECOVERED: &str = "worktree.recovered";
    pub const TOKEN_CREATED: &str = "token.created";
    pub const TOKEN_REVOKED: &str = "token.revoked";
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Position in the log; strictly increasing.
    pub seq: i64,
    pub id: String,
    /// e.g. `session.started`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The agent (or `human:…`) that caused it, when known.
    pub actor: Option<String>,
    pub payload: serde_json::Value,
    pub at: Timestamp,
}

impl Event {
    /// The id of the message this event announces, if it is a `message.sent` event whose
    /// `recipients` include `agent`; `None` for every other event. The payload is read
    /// leniently, as written by any version: a missing or ill-typed field gives `None`,
    /// whatever the JSON.
    pub fn mail_for(&self, agent: &str) -> Option<&str> {
        if self.kind != kind::MESSAGE_SENT {
            return None;
        }
        let to_agent = self.payload["recipients"]
            .as_array()
            .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(agent)));
        self.payload["id"].as_str().filter(|_| to_agent)
    }
}

/// Appends an event inside the caller's transaction and returns its sequence number.
pub(crate) fn append(
    conn: &Connection,
    kind: &str,
    actor: Option<&str>,
    payload: &impl Serialize,
    at: Timestamp,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO events (id, type, actor, payload, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        new_id(IdKind::Event),
        kind,
        actor,
        serde_json::to_string(payload)?,
        at.millis()
    ])?;
    Ok(conn.last_insert_rowid())
}

impl Store {
    /// Events with `seq > after`, oldest first, at most `limit`.
    pub fn events_after(&mut self, after: i64, limit: u32) -> Result<Vec<Event>> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT seq, id, type, actor, payload, at FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, limit], |r| {
                let payload: String = r.get(4)?;
                Ok(Event {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    kind: r.get(2)?,
                    actor: r.get(3)?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                    at: Timestamp(r.get(5)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The sequence number of the newest event (0 when the log is empty).
    pub fn latest_event_seq(&mut self) -> Result<i64> {
        self.read(|tx| {
            Ok(tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::tests::temp_store;

    #[test]
    fn mail_is_read_from_any_payload_without_fault() {
        let event = |kind: &str, payload: serde_json::Value| super::Event {
            seq: 1,
            id: "evt_1".into(),
            kind: kind.into(),
            actor: None,
            payload,
            at: crate::clock::Timestamp(0),
        };
        let sent = serde_json::json!({"id": "msg_1", "recipients": ["ann", "human:ada"]});
        assert_eq!(
            event(super::kind::MESSAGE_SENT, sent.clone()).mail_for("ann"),
            Some("msg_1")
        );
        assert_eq!(
            event(super::kind::MESSAGE_SENT, sent.clone()).mail_for("bob"),
            None
        );
        assert_eq!(event(super::kind::MESSAGE_READ, sent).mail_for("ann"), None);
        for odd in [
            serde_json::json!(null),
            serde_json::json!([1, 2]),
            serde_json::json!({"id": 7, "recipients": ["ann"]}),
            serde_json::json!({"id": "msg_1", "recipients": "ann"}),
        ] {
            assert_eq!(event(super::kind::MESSAGE_SENT, odd).mail_for("ann"), None);
        }
    }

    #[test]
    fn the_log_refuses_updates_and_deletes() {
        let (_dir, mut store) = temp_store();
        store
            .write(|tx| {
                super::append(
                    tx,
                    "test.thing",
                    Some("a"),
                    &serde_json::json!({"n": 1}),
                    crate::clock::Timestamp(5),
                )
                .map(|_| ())
            })
            .unwrap();
        let update = store.write(|tx| Ok(tx.execute("UPDATE events SET type = 'x'", [])?));
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = store.write(|tx| Ok(tx.execute("DELETE FROM events", [])?));
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        let events = store.events_after(0, 10).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "test.thing");
        assert_eq!(events[0].payload["n"], 1);
        assert_eq!(store.latest_event_seq().unwrap(), events[0].seq);
    }
}
