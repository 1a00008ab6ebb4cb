//! Changing a message after it was sent, by its author only: edits that keep the previous
//! text as history, and soft deletes that leave recipients a tombstone.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::send::{check_body, check_subject};
use super::{Message, fetch, lookup};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// Loads a message for a change by its author; refuses anyone else and tombstones.
fn own_live(tx: &Tx<'_>, viewer: &str, id: &str, doing: &str) -> Result<Message> {
    let m = lookup(tx, viewer, id)?;
    if m.sender != viewer {
        return Err(Error::Conflict(format!(
            "only its author ({}) may {doing} {}",
            m.sender, m.id
        )));
    }
    if m.deleted_at.is_some() {
        return Err(Error::Conflict(format!(
            "{} was deleted; it cannot be changed",
            m.id
        )));
    }
    Ok(m)
}

/// Replaces the body (and subject, if given) of the author's own message, keeping the
/// previous text in its history.
pub fn edit(
    store: &mut Store,
    author: &str,
    id: &str,
    body: &str,
    subject: Option<&str>,
) -> Result<Message> {
    check_body(body)?;
    let subject = check_subject(subject)?;
    store.write(|tx| {
        let m = own_live(tx, author, id, "edit")?;
        let now = Timestamp::now();
        let (old_subject, old_body, written) =
            tx.fetch_message_text(m.seq)?
                .ok_or_else(|| Error::NotFound {
                    kind: crate::error::Record::Message,
                    id: m.id.clone(),
                })?;
        tx.insert_message_version(m.seq, old_subject.as_deref(), &old_body, written)?;
        tx.update_message_text(m.seq, body, subject.as_deref(), now)?;
        let payload = event::MessageChanged {
            id: m.id.clone(),
            thread: m.thread.clone(),
        };
        event::append(tx, Kind::MessageEdited, Some(author), &payload, now)?;
        fetch(tx, author, &m.id)
    })
}

/// One version of a message's text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Version {
    /// Version number: 1 for the text as first sent, one more for each edit.
    pub version: u32,
    /// Subject of this version; null when it had none.
    pub subject: Option<String>,
    /// Body of this version (Markdown).
    pub body: String,
    /// When this version was written: sent or edited (RFC 3339 UTC).
    pub written_at: Timestamp,
}

/// Every version of a message the viewer can see, oldest first; the last is current.
/// A deleted message has no viewable history.
pub fn history(store: &mut Store, viewer: &str, id: &str) -> Result<Vec<Version>> {
    store.read(|tx| {
        let m = lookup(tx, viewer, id)?;
        if m.deleted_at.is_some() {
            return Err(Error::Conflict(format!(
                "{} was deleted; its text is no longer shown",
                m.id
            )));
        }
        let mut versions = tx.message_versions(m.seq)?;
        versions.push(Version {
            version: versions.len() as u32 + 1,
            subject: m.subject,
            body: m.body.unwrap_or_default(),
            written_at: m.edited_at.unwrap_or(m.sent_at),
        });
        Ok(versions)
    })
}

/// Soft-deletes the author's own message: recipients then see a tombstone.
pub fn delete(store: &mut Store, author: &str, id: &str) -> Result<Message> {
    store.write(|tx| {
        let m = own_live(tx, author, id, "delete")?;
        let now = Timestamp::now();
        tx.update_message_deleted(m.seq, now)?;
        event::append(
            tx,
            Kind::MessageDeleted,
            Some(author),
            &event::MessageChanged {
                id: m.id.clone(),
                thread: m.thread.clone(),
            },
            now,
        )?;
        fetch(tx, author, &m.id)
    })
}
