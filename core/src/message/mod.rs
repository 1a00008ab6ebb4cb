//! Messages between participants: sending (to agents, `@group`, `@role`, `@everyone`,
//! `human:<name>`), threads, per-recipient delivery state, edits, soft deletes and
//! full-text search.
//!
//! Visibility: a participant sees the messages it wrote or received, nothing else.
//! Recipients are expanded to agents when a message is sent; later changes to groups or
//! roles do not change who received it.
//!
//! This module holds the types, the limits and the row helpers every part shares; the
//! parts are `send` (the author's side), `inbox` (the recipient's side), `thread`
//! (reading a message or a thread), `edit` (edits and deletes) and `search`.

mod edit;
mod inbox;
mod search;
mod send;
#[cfg(test)]
mod tests;
mod thread;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use edit::{Version, delete, edit, history};
pub use inbox::{
    Arrivals, DEFAULT_WAIT_SECS, InboxFilter, InboxPage, MAX_WAIT_SECS, News, Overdue, Unheard,
    announce, arrivals, inbox, look, mark, news, overdue, stop_holds, unread, wait_timeout,
};
pub(crate) use search::Term;
pub use search::{Hit, search};
pub(crate) use send::notice;
pub use send::{SentMessage, reply, send, sent};
pub use thread::{Thread, get, thread};

use crate::clock::Timestamp;
use crate::id::{self, IdKind};
use crate::store::Tx;
use crate::{Error, Result};

/// Largest message body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_RECIPIENTS: usize = 100;
const MAX_REFS: usize = 50;
/// Messages in one page of an inbox, sent list or search when no limit is given.
pub const DEFAULT_PAGE: u32 = 20;
/// Largest page limit accepted; a larger one is refused, not capped.
pub const MAX_PAGE: u32 = 200;

pub use crate::priority::Priority;

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    /// A file: `target` is a repository-relative path (no `..`), `lines` optionally a line
    /// or range in it.
    File,
    /// A commit: `target` is a hex sha (4-64 characters, so abbreviated ones are accepted).
    Commit,
    /// A session: `target` is its full id (a prefix given when sending is resolved).
    Session,
    /// A message: `target` is its full id (a prefix given when sending is resolved); the
    /// sender must be able to see it.
    Message,
}

/// A pointer from a message to a file (optionally lines), commit, session or message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reference {
    /// What `target` names.
    pub kind: RefKind,
    /// Repository-relative path, commit sha, or session/message id.
    pub target: String,
    /// Files only: `12` or `12-40`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<String>,
}

impl std::fmt::Display for Reference {
    /// The short form [`Reference::from_str`] reads: `file:src/lib.rs:12-40`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            RefKind::File => "file",
            RefKind::Commit => "commit",
            RefKind::Session => "session",
            RefKind::Message => "message",
        };
        write!(f, "{kind}:{}", self.target)?;
        if let Some(lines) = &self.lines {
            write!(f, ":{lines}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = Error;

    /// `file:PATH`, `file:PATH:12` or `file:PATH:12-40`, `commit:SHA`, `session:ID`,
    /// `message:ID` (checked further when the message is sent).
    fn from_str(text: &str) -> Result<Self> {
        let bad = || {
            Error::Invalid(format!(
                "reference '{}': write file:PATH[:12-40], commit:SHA, session:ID or message:ID",
                crate::input::shown(text)
            ))
        };
        let (kind, rest) = text.trim().split_once(':').ok_or_else(bad)?;
        let kind = match kind {
            "file" => RefKind::File,
            "commit" => RefKind::Commit,
            "session" => RefKind::Session,
            "message" => RefKind::Message,
            _ => return Err(bad()),
        };
        let (target, lines) = match rest.rsplit_once(':') {
            Some((path, lines))
                if kind == RefKind::File
                    && !lines.is_empty()
                    && lines.chars().all(|c| c.is_ascii_digit() || c == '-') =>
            {
                (path, Some(lines.to_string()))
            }
            _ => (rest, None),
        };
        if target.trim().is_empty() {
            return Err(bad());
        }
        Ok(Reference {
            kind,
            target: target.to_string(),
            lines,
        })
    }
}

/// A recipient's progress with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// In the recipient's inbox; not yet put in front of the recipient agent, nor read.
    Delivered,
    /// Put in front of the recipient agent where it works (a hook, a notice, a wait or an
    /// inbox look), not marked read yet.
    Notified,
    /// Marked read by the recipient (replying to it reads it too); not acknowledged.
    Read,
    /// Acknowledged by the recipient, which also reads it.
    Acked,
}

impl DeliveryState {
    /// Not read yet (delivered, or notified).
    pub fn is_unread(self) -> bool {
        matches!(self, DeliveryState::Delivered | DeliveryState::Notified)
    }

    /// The state of a delivery read, acknowledged and notified at these times (if ever).
    pub(crate) fn from_times(
        read_at: Option<Timestamp>,
        acked_at: Option<Timestamp>,
        notified_at: Option<Timestamp>,
    ) -> DeliveryState {
        match (read_at, acked_at, notified_at) {
            (_, Some(_), _) => DeliveryState::Acked,
            (Some(_), None, _) => DeliveryState::Read,
            (None, None, Some(_)) => DeliveryState::Notified,
            _ => DeliveryState::Delivered,
        }
    }
}

/// A message as one participant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// Message id: `msg_` and a ULID. Wherever a message id is taken, a unique prefix is
    /// accepted too.
    pub id: String,
    /// Position in the repository's message order; use as a `since` cursor.
    pub seq: i64,
    /// Id of its thread (`thr_` and a ULID): a new message starts one, a reply joins its
    /// original's.
    pub thread: String,
    /// Id of the message this one answers; null for a message that started its thread.
    pub reply_to: Option<String>,
    /// Who wrote it.
    pub sender: String,
    /// The session it was written in.
    pub sender_session: Option<String>,
    /// The recipients as addressed (names, `@group`, `@role`, `@everyone`).
    pub to: Vec<String>,
    /// One-line subject (trimmed, at most 200 characters); null when none was given.
    pub subject: Option<String>,
    /// Null once deleted (a tombstone).
    pub body: Option<String>,
    /// How urgent the sender marked it.
    pub priority: Priority,
    /// The sender asked the recipients to acknowledge it, not just read it.
    pub ack_required: bool,
    /// What it points at; session and message ids are stored as full ids.
    pub refs: Vec<Reference>,
    /// When it was sent (RFC 3339 UTC, millisecond precision).
    pub sent_at: Timestamp,
    /// When its author last edited it (RFC 3339 UTC); null if never edited.
    pub edited_at: Option<Timestamp>,
    /// When its author deleted it (RFC 3339 UTC); null unless deleted.
    pub deleted_at: Option<Timestamp>,
    /// The viewer's own state, when the viewer is a recipient.
    pub state: Option<DeliveryState>,
}

/// One recipient's state of a message (seen by its author).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    /// Name of the recipient: an agent, or a person as `human:<name>`.
    pub recipient: String,
    /// How far the recipient has got with it.
    pub state: DeliveryState,
    /// When the recipient agent was first told of it where it works.
    pub notified_at: Option<Timestamp>,
    /// When the recipient read it (acknowledging also reads); null while unread.
    pub read_at: Option<Timestamp>,
    /// When the recipient acknowledged it; null unless acknowledged.
    pub acked_at: Option<Timestamp>,
}

/// Who is writing: an agent and, if it has one, its session.
#[derive(Debug, Clone)]
pub struct Author {
    /// Name of the writing agent, or person as `human:<name>`; registered if new when it
    /// writes.
    pub agent: String,
    /// Its session (id or unique prefix), stored as the message's `sender_session`; `None`
    /// when it has none.
    pub session: Option<String>,
}

/// A message to send: the request every surface hands to [`send`] (MCP and LSP read it
/// as their arguments). What a sender leaves out takes its default here, the same for
/// every surface: no subject, priority normal, no acknowledgement asked, no references.
/// Field docs are the descriptions agents see in the tool's schema. The editor protocol's
/// earlier camelCase spelling (`ackRequired`) is still read; MCP refuses it (its tools
/// accept only the names their schemas show).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Draft {
    /// Agent names, human:<name>, @group, @role or @everyone.
    pub to: Vec<String>,
    /// Markdown, up to 64 KiB.
    pub body: String,
    /// One line.
    #[serde(default)]
    pub subject: Option<String>,
    /// Default normal.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<Priority>")]
    pub priority: Priority,
    /// Ask recipients to acknowledge.
    #[serde(
        default,
        alias = "ackRequired",
        deserialize_with = "crate::input::or_default"
    )]
    #[schemars(with = "Option<bool>")]
    pub ack_required: bool,
    /// Pointers: file:PATH[:12-40], commit:SHA, session:ID, message:ID.
    #[serde(default, with = "short_references")]
    #[schemars(with = "Option<Vec<String>>")]
    pub refs: Vec<Reference>,
}

/// A reply in a message's thread: the request every surface hands to [`reply`] (through
/// [`Reply::draft`]). Without recipients it goes to the thread's other participants;
/// the other defaults are [`Draft`]'s.
///
/// `priority`, `ack_required` and `refs` repeat [`Draft`]'s on purpose: gathered in a
/// `#[serde(flatten)]` struct, a bad value would lose its parameter's name in the error an
/// agent reads ("unknown variant `asap`" instead of naming `priority`), which
/// `a_bad_value_names_its_parameter_and_a_clamped_one_says_so` checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reply {
    /// Message id.
    pub message: String,
    /// Markdown.
    pub body: String,
    /// Default: the thread's other participants.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<Vec<String>>")]
    pub to: Vec<String>,
    /// Default normal.
    #[serde(default, deserialize_with = "crate::input::or_default")]
    #[schemars(with = "Option<Priority>")]
    pub priority: Priority,
    /// Ask recipients to acknowledge.
    #[serde(
        default,
        alias = "ackRequired",
        deserialize_with = "crate::input::or_default"
    )]
    #[schemars(with = "Option<bool>")]
    pub ack_required: bool,
    /// Pointers: file:PATH[:12-40], commit:SHA, session:ID, message:ID.
    #[serde(default, with = "short_references")]
    #[schemars(with = "Option<Vec<String>>")]
    pub refs: Vec<Reference>,
}

impl Reply {
    /// What to write in the thread (a reply has no subject of its own).
    pub fn draft(&self) -> Draft {
        Draft {
            to: self.to.clone(),
            body: self.body.clone(),
            subject: None,
            priority: self.priority,
            ack_required: self.ack_required,
            refs: self.refs.clone(),
        }
    }
}

/// References in requests: their short forms (`file:src/lib.rs:12-40`), read with
/// [`Reference::from_str`](std::str::FromStr); null or absent is none.
mod short_references {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Reference;

    pub(super) fn serialize<S: Serializer>(refs: &[Reference], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(refs.iter().map(ToString::to_string))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Reference>, D::Error> {
        Option::<Vec<String>>::deserialize(d)?
            .unwrap_or_default()
            .iter()
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A message to be written, its checks done (references resolved, subject trimmed).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewMessage<'a> {
    pub(crate) id: &'a str,
    pub(crate) thread: &'a str,
    pub(crate) reply_to: Option<&'a str>,
    pub(crate) author: &'a str,
    pub(crate) session: Option<&'a str>,
    /// The recipients as addressed.
    pub(crate) to: &'a [String],
    pub(crate) subject: Option<&'a str>,
    pub(crate) body: &'a str,
    pub(crate) priority: Priority,
    pub(crate) ack_required: bool,
    pub(crate) refs: &'a [Reference],
    pub(crate) now: Timestamp,
}

/// Loads one message as `viewer` sees it; not visible counts as not found.
fn fetch(tx: &Tx<'_>, viewer: &str, id: &str) -> Result<Message> {
    tx.fetch_message(viewer, id)?
        .ok_or_else(|| Error::NotFound {
            kind: crate::error::Record::Message,
            id: id.to_string(),
        })
}

fn lookup(tx: &Tx<'_>, viewer: &str, id_or_prefix: &str) -> Result<Message> {
    let id = id::resolve(tx, IdKind::Message, id_or_prefix)?;
    fetch(tx, viewer, &id)
}
