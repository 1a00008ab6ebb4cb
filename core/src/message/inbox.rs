//! The recipient's side: inbox pages (unread first, by cursor), looks and waits that
//! record what a session was shown, news and stop holds a session has not heard of,
//! overdue mail for the humans, and marking messages read or acknowledged.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_PAGE, DeliveryState, MAX_PAGE, Message, Priority, fetch, lookup};
use crate::agent;
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::id::{self, IdKind};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// Which inbox messages to list: the request every surface hands to [`inbox`] and
/// [`look`] (MCP and LSP read it as their arguments; the fields it skips are for callers
/// inside the core). Unset filters match everything; the page size defaults to
/// [`super::DEFAULT_PAGE`]. Field docs are the descriptions agents see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboxFilter {
    /// Only unread.
    #[serde(
        default,
        alias = "unreadOnly",
        deserialize_with = "crate::input::or_default"
    )]
    #[schemars(with = "Option<bool>")]
    pub unread_only: bool,
    /// Only from this sender.
    #[serde(default)]
    pub from: Option<String>,
    /// Only this thread.
    #[serde(default)]
    pub thread: Option<String>,
    /// Only at least this urgent.
    #[serde(skip)]
    pub min_priority: Option<Priority>,
    /// next_cursor of the last page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Default 20.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only messages this session has not been shown yet (see [`arrivals`]).
    #[serde(skip)]
    pub unseen_by: Option<String>,
}

/// A page of the inbox: unread messages first, then read ones, each newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboxPage {
    /// The viewer's messages matching the filter: unread ones first, then read ones, each
    /// part newest first; at most the page size.
    pub messages: Vec<Message>,
    /// Unread, not deleted messages in the whole inbox (ignoring filters).
    pub unread: u64,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// Where a page starts: in the unread or the read part, below a message seq.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cursor {
    Unread(i64),
    Read(i64),
}

impl Cursor {
    pub(super) fn parse(text: &str) -> Result<Cursor> {
        let bad = || {
            Error::Invalid(format!(
                "'{}' is not a cursor from a previous inbox page",
                crate::input::shown(text)
            ))
        };
        let seq = |rest: &str| rest.parse::<i64>().map_err(|_| bad());
        if let Some(rest) = text.strip_prefix('u') {
            Ok(Cursor::Unread(seq(rest)?))
        } else if let Some(rest) = text.strip_prefix('r') {
            Ok(Cursor::Read(seq(rest)?))
        } else {
            Err(bad())
        }
    }

    fn render(self) -> String {
        match self {
            Cursor::Unread(seq) => format!("u{seq}"),
            Cursor::Read(seq) => format!("r{seq}"),
        }
    }
}

/// Lists `viewer`'s inbox without changing anything (a peek).
pub fn inbox(store: &mut Store, viewer: &str, filter: &InboxFilter) -> Result<InboxPage> {
    check_filter(filter)?;
    store.read(|tx| inbox_in(tx, viewer, filter))
}

/// Refuses a filter that cannot match: a bad page size, cursor or sender name.
pub(super) fn check_filter(filter: &InboxFilter) -> Result<()> {
    crate::page::size(filter.limit, DEFAULT_PAGE, MAX_PAGE, "limit")?;
    filter.cursor.as_deref().map(Cursor::parse).transpose()?;
    if let Some(from) = filter.from.as_deref().filter(|f| *f != agent::SYSTEM) {
        agent::validate_name(from)?;
    }
    Ok(())
}

/// [`inbox`] inside a transaction, for a filter [`check_filter`] accepted.
fn inbox_in(tx: &Tx<'_>, viewer: &str, filter: &InboxFilter) -> Result<InboxPage> {
    let limit = crate::page::size(filter.limit, DEFAULT_PAGE, MAX_PAGE, "limit")? as usize;
    let start = filter.cursor.as_deref().map(Cursor::parse).transpose()?;
    let thread = filter
        .thread
        .as_deref()
        .map(|t| id::resolve(tx, IdKind::Thread, t))
        .transpose()?;
    let mut messages = Vec::new();
    let mut next = None;
    let parts: &[bool] = if filter.unread_only {
        &[true]
    } else {
        &[true, false]
    };
    for &unread in parts {
        let below = match (start, unread) {
            (Some(Cursor::Read(_)), true) => continue,
            (Some(Cursor::Unread(seq)), true) | (Some(Cursor::Read(seq)), false) => seq,
            _ => i64::MAX,
        };
        let want = limit + 1 - messages.len();
        let page = tx.inbox_messages(viewer, filter, thread.as_deref(), unread, below, want)?;
        messages.extend(page);
        if messages.len() > limit {
            messages.truncate(limit);
            let last = messages[limit - 1].seq;
            next = Some(
                if messages[limit - 1]
                    .state
                    .is_some_and(DeliveryState::is_unread)
                {
                    Cursor::Unread(last)
                } else {
                    Cursor::Read(last)
                },
            );
            break;
        }
    }
    Ok(InboxPage {
        messages,
        unread: unread_count(tx, viewer)?,
        next_cursor: next.map(Cursor::render),
    })
}

fn unread_count(tx: &Tx<'_>, viewer: &str) -> Result<u64> {
    let count = tx.unread_message_count(viewer)?;
    Ok(count.unwrap_or(0).unsigned_abs())
}

/// How many unread, not deleted messages `viewer` has.
pub fn unread(store: &mut Store, viewer: &str) -> Result<u64> {
    store.read(|tx| unread_count(tx, viewer))
}

/// How long a wait for a message lasts when no timeout is given, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 60;
/// Longest wait for a message, in seconds; a longer one asked for is cut to this, with a
/// note.
pub const MAX_WAIT_SECS: u64 = 600;

/// How long a wait asked for `asked` seconds lasts, and a note for the caller when that
/// is less than it asked for.
pub fn wait_timeout(asked: Option<u64>) -> (std::time::Duration, Option<String>) {
    let asked = asked.unwrap_or(DEFAULT_WAIT_SECS);
    let note = (asked > MAX_WAIT_SECS)
        .then(|| format!("timeout_secs {asked} is over the longest wait: waited {MAX_WAIT_SECS}"));
    (
        std::time::Duration::from_secs(asked.min(MAX_WAIT_SECS)),
        note,
    )
}

/// What a wait found: messages new to the waiting session, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Arrivals {
    /// Unread, not deleted messages matching the filter that the waiting session had not
    /// been shown, oldest first; they now count as shown to it.
    pub messages: Vec<Message>,
    /// The viewer's other unread messages, not returned here: shown to this session
    /// before (by an earlier wait or inbox look), or not matching the filter.
    pub older_unread: u64,
}

/// The viewer's unread, not deleted messages matching `filter` (its `unread_only`,
/// `cursor` and `limit` are ignored), oldest first, that `session` has not been shown yet;
/// they are recorded as shown, so the next call does not return them again. Without a
/// session, every matching unread message is returned and nothing is recorded.
pub fn arrivals(
    store: &mut Store,
    viewer: &str,
    session: Option<&str>,
    filter: &InboxFilter,
) -> Result<Arrivals> {
    let filter = InboxFilter {
        unread_only: true,
        cursor: None,
        limit: Some(MAX_PAGE),
        unseen_by: session.map(str::to_string),
        ..filter.clone()
    };
    check_filter(&filter)?;
    let arrived = |tx: &Tx<'_>| -> Result<Arrivals> {
        let mut page = inbox_in(tx, viewer, &filter)?;
        page.messages.retain(|m| m.deleted_at.is_none());
        page.messages.reverse();
        let older_unread = page.unread.saturating_sub(page.messages.len() as u64);
        Ok(Arrivals {
            messages: page.messages,
            older_unread,
        })
    };
    // Looking takes no write lock: waiters look after every change anyone makes, and
    // mostly find nothing for them. Only what is found is recorded, after looking again
    // under the lock, so two calls of one session never both return a message.
    let found = store.read(|tx| arrived(tx))?;
    let Some(session) = session.filter(|_| !found.messages.is_empty()) else {
        return Ok(found);
    };
    store.write(|tx| {
        let found = arrived(tx)?;
        show(tx, viewer, session, &found.messages)?;
        Ok(found)
    })
}

/// An inbox page as [`inbox`] gives it, recording its messages as shown to `session`
/// (an agent's look at its inbox: a later wait does not return them again), in one
/// transaction.
pub fn look(
    store: &mut Store,
    viewer: &str,
    session: Option<&str>,
    filter: &InboxFilter,
) -> Result<InboxPage> {
    check_filter(filter)?;
    store.write(|tx| {
        let page = inbox_in(tx, viewer, filter)?;
        if let Some(session) = session {
            show(tx, viewer, session, &page.messages)?;
        }
        Ok(page)
    })
}

/// Records `messages` as shown to `session`, and as notified to `viewer` (the session's
/// agent) where they are still unread.
fn show(tx: &Tx<'_>, viewer: &str, session: &str, messages: &[Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let session = id::resolve(tx, IdKind::Session, session)?;
    let now = Timestamp::now();
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    tx.insert_messages_shown(&session, &seqs, now)?;
    notify(tx, viewer, &seqs, now)
}

/// Moves `viewer`'s deliveries of `seqs` that are neither read nor notified yet to
/// notified (they were put in front of the agent where it works), with their event.
fn notify(tx: &Tx<'_>, viewer: &str, seqs: &[i64], now: Timestamp) -> Result<()> {
    let changed = tx.mark_messages_notified(viewer, seqs, now)?;
    if changed.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(changed.len());
    let mut threads = Vec::new();
    for (id, thread) in changed {
        ids.push(id);
        if !threads.contains(&thread) {
            threads.push(thread);
        }
    }
    let payload = event::MessagesTouched {
        ids,
        threads,
        by: viewer.to_string(),
    };
    event::append(tx, Kind::MessageNotified, Some(viewer), &payload, now)?;
    Ok(())
}

/// New mail a session has not heard of: unread messages for its agent that the session
/// was neither shown (a wait, an inbox look) nor told of by an earlier notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct News {
    /// How many unread messages the session has not heard of, the newest included.
    pub count: u64,
    /// The newest of those messages.
    pub newest: Message,
}

/// What [`announce`] found: the newest unheard messages and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Unheard {
    /// Newest first, at most the limit asked for.
    pub messages: Vec<Message>,
    /// How many unheard messages there are in all, the returned ones included.
    pub total: u64,
}

/// Unread messages for `viewer` that `session` has not heard of (neither shown nor told
/// of before), newest first, at most `limit`, with their total; records that the session
/// has now been told of all of them (each message is announced once per session).
pub fn announce(store: &mut Store, viewer: &str, session: &str, limit: u32) -> Result<Unheard> {
    let (session, unheard) = store.read(|tx| {
        let session = id::resolve(tx, IdKind::Session, session)?;
        let total = tx.count_unheard_messages(viewer, &session)?;
        let messages = if total == 0 {
            Vec::new()
        } else {
            tx.unheard_messages(viewer, &session, limit)?
        };
        let total = total.unsigned_abs();
        Ok((session, Unheard { messages, total }))
    })?;
    if let Some(newest) = unheard.messages.first() {
        store.write(|tx| {
            tx.raise_announced_message_seq(&session, newest.seq)?;
            let told = tx.unnotified_message_seqs(viewer, newest.seq)?;
            notify(tx, viewer, &told, Timestamp::now())
        })?;
    }
    Ok(unheard)
}

/// The [`News`] for `viewer` in `session` since it was last told (see [`announce`]);
/// `None` when there is none.
pub fn news(store: &mut Store, viewer: &str, session: &str) -> Result<Option<News>> {
    let mut unheard = announce(store, viewer, session, 1)?;
    Ok(unheard.messages.pop().map(|newest| News {
        count: unheard.total,
        newest,
    }))
}

/// Unread messages that should keep `session`'s agent from stopping — urgent ones, ones
/// asking for an acknowledgement, and answers to messages it sent — that the session was
/// not held for before, oldest first; records the hold, so a stop is held once per message.
pub fn stop_holds(store: &mut Store, viewer: &str, session: &str) -> Result<Vec<Message>> {
    store.write(|tx| {
        let session = id::resolve(tx, IdKind::Session, session)?;
        let held = tx.stop_hold_messages(viewer, &session, MAX_PAGE)?;
        if let Some(last) = held.last() {
            tx.raise_stop_held_message_seq(&session, last.seq)?;
        }
        Ok(held)
    })
}

/// A message an agent has left unread too long: flagged to the humans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Overdue {
    /// Id of the unread message.
    pub id: String,
    /// Id of its thread.
    pub thread: String,
    /// Who wrote it: an agent, a person (`human:<name>`) or `switchboard`.
    pub sender: String,
    /// The agent that has not read it.
    pub recipient: String,
    /// Its subject, or the start of its body.
    pub about: String,
    /// How urgent its sender marked it.
    pub priority: Priority,
    /// When it was delivered to the recipient (RFC 3339 UTC).
    pub delivered_at: Timestamp,
}

/// Most overdue messages reported at once.
const MAX_OVERDUE: u32 = 50;

/// Messages delivered to agents (not people) more than `older_than` ago and still unread,
/// oldest first: what the humans should know is waiting. (People may look at everything,
/// so this covers every agent's mail, but says only who, what about and since when.)
pub fn overdue(store: &mut Store, older_than: std::time::Duration) -> Result<Vec<Overdue>> {
    let cutoff =
        Timestamp::now().millis() - i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
    store.read(|tx| {
        let mut rows = tx.overdue_messages(Timestamp(cutoff), MAX_OVERDUE)?;
        for o in &mut rows {
            o.about = o
                .about
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect();
        }
        Ok(rows)
    })
}

/// Marks messages read (`acked = false`) or acknowledged (which also reads them) for
/// `viewer`, who must be a recipient of each. Returns them as the viewer now sees them.
pub fn mark(store: &mut Store, viewer: &str, ids: &[String], acked: bool) -> Result<Vec<Message>> {
    if ids.is_empty() {
        return Err(Error::Invalid(
            "give the ids of the messages to mark".into(),
        ));
    }
    store.write(|tx| mark_in(tx, viewer, ids, acked, Timestamp::now()))
}

/// [`mark`] inside a transaction.
pub(super) fn mark_in(
    tx: &Tx<'_>,
    viewer: &str,
    ids: &[String],
    acked: bool,
    now: Timestamp,
) -> Result<Vec<Message>> {
    let mut changed = Vec::new();
    let mut threads = Vec::new();
    let mut out = Vec::new();
    for id in ids {
        let m = lookup(tx, viewer, id)?;
        if m.state.is_none() {
            return Err(Error::Conflict(format!(
                "you are not a recipient of {} (you wrote it); only recipients read or acknowledge",
                m.id
            )));
        }
        if tx.mark_message_delivery(viewer, m.seq, acked, now)? {
            changed.push(m.id.clone());
            threads.push(m.thread.clone());
        }
        out.push(fetch(tx, viewer, &m.id)?);
    }
    if !changed.is_empty() {
        let kind = if acked {
            Kind::MessageAcked
        } else {
            Kind::MessageRead
        };
        threads.dedup();
        let payload = event::MessagesTouched {
            ids: changed,
            threads,
            by: viewer.to_string(),
        };
        event::append(tx, kind, Some(viewer), &payload, now)?;
    }
    Ok(out)
}
