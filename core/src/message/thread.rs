//! Reading: one message, or a whole thread, as a participant sees it, and who takes
//! part in a thread.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Message, lookup};
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
    /// Thread id: `thr_` and a ULID.
    pub id: String,
    /// Subject given when the thread was started (its first message's); null when none was.
    pub subject: Option<String>,
    /// Everyone who wrote or received a message in the thread, by name, sorted; Switchboard
    /// itself is never one.
    pub participants: Vec<String>,
    /// Oldest first.
    pub messages: Vec<Message>,
}

/// The messages of a thread that `viewer` can see, in order.
pub fn thread(store: &mut Store, viewer: &str, id_or_prefix: &str) -> Result<Thread> {
    store.read(|tx| {
        let id = id::resolve(tx, IdKind::Thread, id_or_prefix)?;
        let messages = tx.thread_messages(viewer, &id)?;
        if messages.is_empty() {
            return Err(Error::NotFound {
                kind: crate::error::Record::Thread,
                id: id_or_prefix.to_string(),
            });
        }
        let subject = tx.fetch_thread_subject(&id)?;
        Ok(Thread {
            participants: participants(tx, &id)?,
            id,
            subject,
            messages,
        })
    })
}

/// Everyone who wrote or received a message of `thread`.
pub(super) fn participants(tx: &Tx<'_>, thread: &str) -> Result<Vec<String>> {
    tx.thread_participants(thread, agent::SYSTEM)
}
