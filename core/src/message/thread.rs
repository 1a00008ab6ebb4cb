//! Reading: one message, or a whole thread, as a participant sees it, and who takes
//! part in a thread.

use rusqlite::named_params;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{COLUMNS, FROM_VISIBLE, Message, VISIBLE, from_row, lookup};
use crate::agent;
use crate::id::{self, IdKind};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// One message, as `viewer` sees it.
pub fn get(store: &mut Store, viewer: &str, id_or_prefix: &str) -> Result<Message> {
    store.read(|tx| lookup(tx, viewer, id_or_prefix))
}

/// A thread as one participant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Thread {
    pub id: String,
    pub subject: Option<String>,
    pub participants: Vec<String>,
    /// Oldest first.
    pub messages: Vec<Message>,
}

/// The messages of a thread that `viewer` can see, in order.
pub fn thread(store: &mut Store, viewer: &str, id_or_prefix: &str) -> Result<Thread> {
    store.read(|tx| {
        let id = id::resolve(tx, IdKind::Thread, id_or_prefix)?;
        let messages: Vec<Message> = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.thread_id = :thread AND {VISIBLE} ORDER BY m.seq"
            ))?
            .query_map(named_params! {":viewer": viewer, ":thread": id}, from_row)?
            .collect::<rusqlite::Result<_>>()?;
        if messages.is_empty() {
            return Err(Error::NotFound { kind: crate::error::Record::Thread, id: id_or_prefix.to_string() });
        }
        let subject: Option<String> = tx
            .prepare_cached("SELECT subject FROM threads WHERE id = ?1")?
            .query_row([&id], |r| r.get(0))?;
        Ok(Thread { participants: participants(tx, &id)?, id, subject, messages })
    })
}

/// Everyone who wrote or received a message of `thread`.
pub(super) fn participants(conn: &Tx<'_>, thread: &str) -> Result<Vec<String>> {
    let names = conn
        .prepare_cached(
            "SELECT author FROM messages WHERE thread_id = ?1 AND author <> ?2
             UNION SELECT d.recipient FROM deliveries d JOIN messages m ON m.seq = d.message_seq WHERE m.thread_id = ?1
             ORDER BY 1",
        )?
        .query_map([thread, agent::SYSTEM], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}
