//! Messages between participants: sending (to agents, `@group`, `@role`, `@everyone`,
//! `human:<name>`), threads, per-recipient delivery state, edits, soft deletes and
//! full-text search.
//!
//! Visibility: a participant sees the messages it wrote or received, nothing else.
//! Recipients are expanded to agents when a message is sent; later changes to groups or
//! roles do not change who received it.

use rusqlite::{Connection, OptionalExtension, Row, ToSql, named_params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::group;
use crate::id::{self, IdKind, new_id};
use crate::{Error, Result, Store};

/// Largest message body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_SUBJECT_CHARS: usize = 200;
const MAX_RECIPIENTS: usize = 100;
const MAX_REFS: usize = 50;
/// Default and largest page of an inbox, sent list or search.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 200;

pub use crate::priority::Priority;

/// What a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    File,
    Commit,
    Session,
    Message,
}

/// A pointer from a message to a file (optionally lines), commit, session or message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Reference {
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
    Delivered,
    /// Put in front of the recipient agent where it works (a hook, a notice, a wait or an
    /// inbox look), not marked read yet.
    Notified,
    Read,
    Acked,
}

impl DeliveryState {
    /// Not read yet (delivered, or notified).
    pub fn is_unread(self) -> bool {
        matches!(self, DeliveryState::Delivered | DeliveryState::Notified)
    }
}

/// A message as one participant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    pub id: String,
    /// Position in the repository's message order; use as a `since` cursor.
    pub seq: i64,
    pub thread: String,
    pub reply_to: Option<String>,
    /// Who wrote it.
    pub sender: String,
    /// The session it was written in.
    pub sender_session: Option<String>,
    /// The recipients as addressed (names, `@group`, `@role`, `@everyone`).
    pub to: Vec<String>,
    pub subject: Option<String>,
    /// Null once deleted (a tombstone).
    pub body: Option<String>,
    pub priority: Priority,
    pub ack_required: bool,
    pub refs: Vec<Reference>,
    pub sent_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    /// The viewer's own state, when the viewer is a recipient.
    pub state: Option<DeliveryState>,
}

/// One recipient's state of a message (seen by its author).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    pub recipient: String,
    pub state: DeliveryState,
    /// When the recipient agent was first told of it where it works.
    pub notified_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub acked_at: Option<Timestamp>,
}

/// Who is writing: an agent and, if it has one, its session.
#[derive(Debug, Clone)]
pub struct Author {
    pub agent: String,
    pub session: Option<String>,
}

/// A message to be sent.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Names, `human:<name>`, `@group`, `@role` or `@everyone`. For a reply, empty means
    /// the thread's participants.
    pub to: Vec<String>,
    pub subject: Option<String>,
    pub body: String,
    pub priority: Priority,
    pub ack_required: bool,
    pub refs: Vec<Reference>,
}

const COLUMNS: &str = "m.seq, m.id, m.thread_id, m.reply_to, m.author, m.author_session, m.addressed_to, \
     m.subject, m.body, m.priority, m.ack_required, m.refs, m.created_at, m.edited_at, m.deleted_at, \
     d.recipient IS NOT NULL, d.read_at, d.acked_at, d.notified_at";

/// `FROM` clause joining the viewer's delivery (`:viewer`) to each message.
const FROM_VISIBLE: &str =
    "FROM messages m LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = :viewer";
/// The viewer wrote or received it.
const VISIBLE: &str = "(m.author = :viewer OR d.recipient IS NOT NULL)";

fn state_of(
    read_at: Option<i64>,
    acked_at: Option<i64>,
    notified_at: Option<i64>,
) -> DeliveryState {
    match (read_at, acked_at, notified_at) {
        (_, Some(_), _) => DeliveryState::Acked,
        (Some(_), None, _) => DeliveryState::Read,
        (None, None, Some(_)) => DeliveryState::Notified,
        _ => DeliveryState::Delivered,
    }
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let deleted_at: Option<i64> = r.get(14)?;
    let to: String = r.get(6)?;
    let refs: String = r.get(11)?;
    let is_recipient: bool = r.get(15)?;
    Ok(Message {
        seq: r.get(0)?,
        id: r.get(1)?,
        thread: r.get(2)?,
        reply_to: r.get(3)?,
        sender: r.get(4)?,
        sender_session: r.get(5)?,
        to: serde_json::from_str(&to).unwrap_or_default(),
        subject: r.get(7)?,
        body: if deleted_at.is_some() {
            None
        } else {
            Some(r.get(8)?)
        },
        priority: Priority::from_rank(r.get(9)?),
        ack_required: r.get(10)?,
        refs: serde_json::from_str(&refs).unwrap_or_default(),
        sent_at: Timestamp(r.get(12)?),
        edited_at: r.get::<_, Option<i64>>(13)?.map(Timestamp),
        deleted_at: deleted_at.map(Timestamp),
        state: is_recipient.then(|| {
            state_of(
                r.get(16).ok().flatten(),
                r.get(17).ok().flatten(),
                r.get(18).ok().flatten(),
            )
        }),
    })
}

/// Loads one message as `viewer` sees it; not visible counts as not found.
fn fetch(conn: &Connection, viewer: &str, id: &str) -> Result<Message> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.id = :id AND {VISIBLE}"
    ))?
    .query_row(named_params! {":viewer": viewer, ":id": id}, from_row)
    .optional()?
    .ok_or_else(|| Error::NotFound {
        kind: crate::error::Record::Message,
        id: id.to_string(),
    })
}

fn lookup(conn: &Connection, viewer: &str, id_or_prefix: &str) -> Result<Message> {
    let id = id::resolve(conn, IdKind::Message, id_or_prefix)?;
    fetch(conn, viewer, &id)
}

fn check_body(body: &str) -> Result<()> {
    crate::input::refuse_nul("message body", body)?;
    if body.trim().is_empty() {
        return Err(Error::Invalid(
            "the message body is empty: write what you want to say".into(),
        ));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::Invalid(format!(
            "the message body is {} bytes; the limit is {MAX_BODY_BYTES} (64 KiB). Shorten it, \
             or put the details in a file and reference it",
            body.len()
        )));
    }
    Ok(())
}

fn check_subject(subject: Option<&str>) -> Result<Option<String>> {
    let Some(subject) = subject.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if subject.chars().count() > MAX_SUBJECT_CHARS || subject.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "the subject must be one line of at most {MAX_SUBJECT_CHARS} characters, without \
             control characters (line breaks, tabs, NUL)"
        )));
    }
    Ok(Some(subject.to_string()))
}

fn check_lines(lines: &str) -> Result<()> {
    let bad = || {
        Error::Invalid(format!(
            "lines '{}' must be a line number or a range like 12-40",
            crate::input::shown(lines)
        ))
    };
    let (start, end) = lines.split_once('-').unwrap_or((lines, lines));
    let start: u32 = start.trim().parse().map_err(|_| bad())?;
    let end: u32 = end.trim().parse().map_err(|_| bad())?;
    if start == 0 || end < start {
        return Err(bad());
    }
    Ok(())
}

/// Validates references; session and message ids are resolved to full ids.
fn check_refs(conn: &Connection, viewer: &str, refs: &[Reference]) -> Result<Vec<Reference>> {
    if refs.len() > MAX_REFS {
        return Err(Error::Invalid(format!(
            "at most {MAX_REFS} references per message"
        )));
    }
    refs.iter()
        .map(|r| {
            let mut r = r.clone();
            r.target = r.target.trim().to_string();
            if r.lines.is_some() && r.kind != RefKind::File {
                return Err(Error::Invalid("lines apply only to file references".into()));
            }
            match r.kind {
                RefKind::File => {
                    crate::input::refuse_nul("file reference", &r.target)?;
                    let path = std::path::Path::new(&r.target);
                    let escapes = path.is_absolute()
                        || path.components().any(|c| matches!(c, std::path::Component::ParentDir));
                    if r.target.is_empty() || escapes {
                        return Err(Error::Invalid(format!(
                            "file reference '{}' must be a path relative to the repository root, without '..'",
                            crate::input::shown(&r.target)
                        )));
                    }
                    if let Some(lines) = &r.lines {
                        check_lines(lines)?;
                    }
                }
                RefKind::Commit => {
                    let ok = (4..=64).contains(&r.target.len()) && r.target.chars().all(|c| c.is_ascii_hexdigit());
                    if !ok {
                        return Err(Error::Invalid(format!("commit reference '{}' must be a hex sha (4-64 characters)", crate::input::shown(&r.target))));
                    }
                }
                RefKind::Session => r.target = id::resolve(conn, IdKind::Session, &r.target)?,
                RefKind::Message => r.target = lookup(conn, viewer, &r.target)?.id,
            }
            Ok(r)
        })
        .collect()
}

/// Expands recipient expressions to registered participants (without the author, for
/// group, role and everyone addresses). Any unknown recipient fails the whole send.
fn expand_recipients(conn: &Connection, author: &str, to: &[String]) -> Result<Vec<String>> {
    if to.len() > MAX_RECIPIENTS {
        return Err(Error::Invalid(format!(
            "at most {MAX_RECIPIENTS} recipients per message"
        )));
    }
    let mut agents = Vec::new();
    for expr in to.iter().map(|t| t.trim()) {
        if let Some(name) = expr.strip_prefix('@') {
            let members = if name == "everyone" || name == "all" {
                agent::all_names(conn)?
            } else if let Some(g) = group::find(conn, name)? {
                group::expand(conn, &g)?
            } else {
                let holders = agent::with_role(conn, name)?;
                if holders.is_empty() {
                    return Err(Error::Invalid(format!(
                        "unknown recipient '{expr}': no group by that name and no agent has that role; nothing was sent. {}",
                        known_addresses(conn)?
                    )));
                }
                holders
            };
            agents.extend(members.into_iter().filter(|m| m != author));
        } else {
            agent::validate_name(expr).map_err(|e| {
                Error::Invalid(format!("recipient '{expr}': {e}; nothing was sent"))
            })?;
            if agent::require(conn, expr).is_err() {
                return Err(Error::Invalid(format!(
                    "unknown recipient '{expr}': no agent or human by that name has registered; nothing was sent. {}",
                    known_addresses(conn)?
                )));
            }
            agents.push(expr.to_string());
        }
    }
    agents.sort();
    agents.dedup();
    if agents.is_empty() {
        return Err(Error::Invalid(
            "no recipients: address agents by name, human:<name>, @group, @role or @everyone"
                .into(),
        ));
    }
    Ok(agents)
}

/// Most names an unknown-recipient error lists.
const MAX_LISTED_NAMES: usize = 40;

/// "Known: alpha, human:ada, @reviewers, …": who can be addressed, for an error.
fn known_addresses(conn: &Connection) -> Result<String> {
    let mut names = agent::all_names(conn)?;
    names.extend(group::names(conn)?.into_iter().map(|g| format!("@{g}")));
    names.push("@everyone".into());
    let more = names.len().saturating_sub(MAX_LISTED_NAMES);
    names.truncate(MAX_LISTED_NAMES);
    let mut text = format!("Known: {}", names.join(", "));
    if more > 0 {
        text.push_str(&format!(" and {more} more (agent_list, group_list)"));
    }
    text.push('.');
    Ok(text)
}

/// Everyone who wrote or received a message of `thread`.
fn participants(conn: &Connection, thread: &str) -> Result<Vec<String>> {
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

/// Writes a message, its deliveries and `message.sent` inside a transaction.
fn insert(
    conn: &Connection,
    author: &Author,
    draft: &Draft,
    thread: &str,
    reply_to: Option<&str>,
    recipients: &[String],
    now: Timestamp,
) -> Result<Message> {
    let refs = check_refs(conn, &author.agent, &draft.refs)?;
    let session = author
        .session
        .as_deref()
        .map(|s| id::resolve(conn, IdKind::Session, s))
        .transpose()?;
    let id = new_id(IdKind::Message);
    conn.prepare_cached(
        "INSERT INTO messages (id, thread_id, reply_to, author, author_session, addressed_to, subject, body, priority, ack_required, refs, created_at)
         VALUES (:id, :thread, :reply_to, :author, :session, :to, :subject, :body, :priority, :ack, :refs, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":thread": thread, ":reply_to": reply_to, ":author": author.agent, ":session": session,
        ":to": serde_json::to_string(&draft.to)?, ":subject": check_subject(draft.subject.as_deref())?,
        ":body": draft.body, ":priority": draft.priority.rank(), ":ack": draft.ack_required,
        ":refs": serde_json::to_string(&refs)?, ":now": now.millis(),
    })?;
    let seq = conn.last_insert_rowid();
    let mut deliver = conn.prepare_cached(
        "INSERT INTO deliveries (recipient, message_seq, delivered_at) VALUES (?1, ?2, ?3)",
    )?;
    for recipient in recipients {
        deliver.execute((recipient, seq, now.millis()))?;
    }
    conn.prepare_cached("UPDATE threads SET last_message_at = ?2 WHERE id = ?1")?
        .execute((thread, now.millis()))?;
    let payload = event::MessageSent {
        id: id.clone(),
        seq,
        thread: thread.to_string(),
        from: author.agent.clone(),
        recipients: recipients.to_vec(),
        priority: draft.priority,
    };
    event::append(conn, Kind::MessageSent, Some(&author.agent), &payload, now)?;
    fetch(conn, &author.agent, &id)
}

/// A notice from Switchboard itself (sender [`agent::SYSTEM`]) to `recipient`, in a new
/// thread, inside the caller's transaction: e.g. a parent told that its child ended.
pub(crate) fn notice(
    conn: &Connection,
    recipient: &str,
    subject: &str,
    body: &str,
    priority: Priority,
    refs: Vec<Reference>,
    now: Timestamp,
) -> Result<Message> {
    let author = Author {
        agent: agent::SYSTEM.to_string(),
        session: None,
    };
    let draft = Draft {
        to: vec![recipient.to_string()],
        subject: Some(subject.to_string()),
        body: body.to_string(),
        priority,
        ack_required: false,
        refs,
    };
    let thread = new_id(IdKind::Thread);
    conn.prepare_cached(
        "INSERT INTO threads (id, subject, created_by, created_at, last_message_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute((&thread, subject, agent::SYSTEM, now.millis()))?;
    insert(
        conn,
        &author,
        &draft,
        &thread,
        None,
        &[recipient.to_string()],
        now,
    )
}

fn ensure_author(conn: &Connection, author: &Author, now: Timestamp) -> Result<()> {
    agent::ensure(
        conn,
        &Registration {
            name: author.agent.clone(),
            ..Default::default()
        },
        &author.agent,
        now,
    )
}

/// Sends a new message, starting a thread. Nothing is written unless every recipient,
/// reference and limit checks out.
pub fn send(store: &mut Store, author: &Author, draft: &Draft) -> Result<Message> {
    check_body(&draft.body)?;
    let subject = check_subject(draft.subject.as_deref())?;
    store.write(|tx| {
        let now = Timestamp::now();
        ensure_author(tx, author, now)?;
        let recipients = expand_recipients(tx, &author.agent, &draft.to)?;
        let thread = new_id(IdKind::Thread);
        tx.prepare_cached(
            "INSERT INTO threads (id, subject, created_by, created_at, last_message_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        )?
        .execute((&thread, &subject, &author.agent, now.millis()))?;
        insert(tx, author, draft, &thread, None, &recipients, now)
    })
}

/// Replies to a message the author can see, in its thread. With no `draft.to`, the reply
/// goes to the thread's participants (except the author).
pub fn reply(
    store: &mut Store,
    author: &Author,
    to_message: &str,
    draft: &Draft,
) -> Result<Message> {
    check_body(&draft.body)?;
    store.write(|tx| {
        let now = Timestamp::now();
        ensure_author(tx, author, now)?;
        let original = lookup(tx, &author.agent, to_message)?;
        let recipients = if draft.to.is_empty() {
            let everyone: Vec<String> = participants(tx, &original.thread)?
                .into_iter()
                .filter(|p| *p != author.agent)
                .collect();
            if everyone.is_empty() && original.sender == agent::SYSTEM {
                return Err(Error::Invalid(format!(
                    "{} is a notice from switchboard, which reads no replies: message the agent it \
                     is about (see its refs) with message_send",
                    original.id
                )));
            }
            if everyone.is_empty() {
                return Err(Error::Invalid(
                    "this thread has no other participants: give recipients".into(),
                ));
            }
            everyone
        } else {
            expand_recipients(tx, &author.agent, &draft.to)?
        };
        let mut draft = draft.clone();
        if draft.to.is_empty() {
            draft.to = recipients.clone();
        }
        let sent = insert(
            tx,
            author,
            &draft,
            &original.thread,
            Some(&original.id),
            &recipients,
            now,
        )?;
        // Answering a message is reading it.
        if original.state.is_some_and(DeliveryState::is_unread) {
            mark_in(
                tx,
                &author.agent,
                std::slice::from_ref(&original.id),
                false,
                now,
            )?;
        }
        Ok(sent)
    })
}

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

/// Which inbox messages to list.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub unread_only: bool,
    pub from: Option<String>,
    /// A thread id or prefix.
    pub thread: Option<String>,
    pub min_priority: Option<Priority>,
    /// Continue after a previous page (its `next_cursor`).
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// Only messages this session has not been shown yet (see [`arrivals`]).
    pub unseen_by: Option<String>,
}

/// A page of the inbox: unread messages first, then read ones, each newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboxPage {
    pub messages: Vec<Message>,
    /// Unread, not deleted messages in the whole inbox (ignoring filters).
    pub unread: u64,
    /// Pass as `cursor` for the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// Where a page starts: in the unread or the read part, below a message seq.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cursor {
    Unread(i64),
    Read(i64),
}

impl Cursor {
    fn parse(text: &str) -> Result<Cursor> {
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
fn check_filter(filter: &InboxFilter) -> Result<()> {
    crate::page::size(filter.limit, DEFAULT_PAGE, MAX_PAGE, "limit")?;
    filter.cursor.as_deref().map(Cursor::parse).transpose()?;
    if let Some(from) = filter.from.as_deref().filter(|f| *f != agent::SYSTEM) {
        agent::validate_name(from)?;
    }
    Ok(())
}

/// [`inbox`] inside a transaction, for a filter [`check_filter`] accepted.
fn inbox_in(tx: &Connection, viewer: &str, filter: &InboxFilter) -> Result<InboxPage> {
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
        let page = inbox_part(tx, viewer, filter, thread.as_deref(), unread, below, want)?;
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

/// One part (unread or read) of an inbox, newest first, below `below`.
#[allow(clippy::too_many_arguments)]
fn inbox_part(
    conn: &Connection,
    viewer: &str,
    filter: &InboxFilter,
    thread: Option<&str>,
    unread: bool,
    below: i64,
    limit: usize,
) -> Result<Vec<Message>> {
    let mut sql = format!(
        "SELECT {COLUMNS} FROM deliveries d JOIN messages m ON m.seq = d.message_seq
         WHERE d.recipient = :viewer AND d.message_seq < :below AND d.read_at IS {} NULL",
        if unread { "" } else { "NOT" }
    );
    let mut values: Vec<(&str, Box<dyn ToSql>)> = vec![
        (":viewer", Box::new(viewer.to_string())),
        (":below", Box::new(below)),
        (":limit", Box::new(limit as i64)),
    ];
    if let Some(from) = &filter.from {
        sql.push_str(" AND m.author = :from");
        values.push((":from", Box::new(from.clone())));
    }
    if let Some(thread) = thread {
        sql.push_str(" AND m.thread_id = :thread");
        values.push((":thread", Box::new(thread.to_string())));
    }
    if let Some(p) = filter.min_priority {
        sql.push_str(" AND m.priority >= :priority");
        values.push((":priority", Box::new(p.rank())));
    }
    if let Some(session) = &filter.unseen_by {
        sql.push_str(
            " AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = :session AND s.message_seq = d.message_seq)",
        );
        values.push((":session", Box::new(session.clone())));
    }
    sql.push_str(" ORDER BY d.message_seq DESC LIMIT :limit");
    let params: Vec<(&str, &dyn ToSql)> = values.iter().map(|(n, v)| (*n, v.as_ref())).collect();
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params.as_slice(), from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn unread_count(conn: &Connection, viewer: &str) -> Result<u64> {
    let count: Option<i64> = conn
        .prepare_cached("SELECT unread FROM agents WHERE name = ?1")?
        .query_row([viewer], |r| r.get(0))
        .optional()?;
    Ok(count.unwrap_or(0).unsigned_abs())
}

/// How many unread, not deleted messages `viewer` has.
pub fn unread(store: &mut Store, viewer: &str) -> Result<u64> {
    store.read(|tx| unread_count(tx, viewer))
}

/// Default and longest wait for a message, in seconds.
pub const DEFAULT_WAIT_SECS: u64 = 60;
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
    store.write(|tx| {
        let mut page = inbox_in(tx, viewer, &filter)?;
        page.messages.retain(|m| m.deleted_at.is_none());
        page.messages.reverse();
        if let Some(session) = session {
            show(tx, viewer, session, &page.messages)?;
        }
        let older_unread = page.unread.saturating_sub(page.messages.len() as u64);
        Ok(Arrivals {
            messages: page.messages,
            older_unread,
        })
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
fn show(tx: &Connection, viewer: &str, session: &str, messages: &[Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let session = id::resolve(tx, IdKind::Session, session)?;
    let now = Timestamp::now();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO shown (session_id, message_seq, shown_at) VALUES (?1, ?2, ?3)",
    )?;
    for m in messages {
        insert.execute((&session, m.seq, now.millis()))?;
    }
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    notify(tx, viewer, &seqs, now)
}

/// Moves `viewer`'s deliveries of `seqs` that are neither read nor notified yet to
/// notified (they were put in front of the agent where it works), with their event.
fn notify(tx: &Connection, viewer: &str, seqs: &[i64], now: Timestamp) -> Result<()> {
    let mut update = tx.prepare_cached(
        "UPDATE deliveries SET notified_at = ?3
         WHERE recipient = ?1 AND message_seq = ?2 AND notified_at IS NULL AND read_at IS NULL",
    )?;
    let mut changed = Vec::new();
    for seq in seqs {
        if update.execute((viewer, seq, now.millis()))? > 0 {
            changed.push(*seq);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::new();
    let mut threads = Vec::new();
    let mut find = tx.prepare_cached("SELECT id, thread_id FROM messages WHERE seq = ?1")?;
    for seq in &changed {
        let (id, thread): (String, String) =
            find.query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))?;
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
    pub count: u64,
    pub newest: Message,
}

/// What [`announce`] found: the newest unheard messages and how many there are in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Unheard {
    /// Newest first, at most the limit asked for.
    pub messages: Vec<Message>,
    pub total: u64,
}

/// Unread messages for `viewer` that `session` has not heard of (neither shown nor told
/// of before), newest first, at most `limit`, with their total; records that the session
/// has now been told of all of them (each message is announced once per session).
pub fn announce(store: &mut Store, viewer: &str, session: &str, limit: u32) -> Result<Unheard> {
    const UNHEARD: &str = "FROM deliveries d JOIN messages m ON m.seq = d.message_seq
         WHERE d.recipient = :viewer AND d.read_at IS NULL AND m.deleted_at IS NULL
           AND d.message_seq > (SELECT announced_seq FROM sessions WHERE id = :session)
           AND NOT EXISTS (SELECT 1 FROM shown s WHERE s.session_id = :session AND s.message_seq = d.message_seq)";
    let (session, unheard) = store.read(|tx| {
        let session = id::resolve(tx, IdKind::Session, session)?;
        let whose = named_params! {":viewer": viewer, ":session": session};
        let total: i64 = tx
            .prepare_cached(&format!("SELECT COUNT(*) {UNHEARD}"))?
            .query_row(whose, |r| r.get(0))?;
        let messages = if total == 0 {
            Vec::new()
        } else {
            tx.prepare_cached(&format!(
                "SELECT {COLUMNS} {UNHEARD} ORDER BY d.message_seq DESC LIMIT :limit"
            ))?
            .query_map(
                named_params! {":viewer": viewer, ":session": session, ":limit": limit},
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?
        };
        let total = total.unsigned_abs();
        Ok((session, Unheard { messages, total }))
    })?;
    if let Some(newest) = unheard.messages.first() {
        store.write(|tx| {
            tx.prepare_cached(
                "UPDATE sessions SET announced_seq = MAX(announced_seq, ?2) WHERE id = ?1",
            )?
            .execute((&session, newest.seq))?;
            let told: Vec<i64> = tx
                .prepare_cached(
                    "SELECT message_seq FROM deliveries
                     WHERE recipient = ?1 AND read_at IS NULL AND notified_at IS NULL AND message_seq <= ?2",
                )?
                .query_map((viewer, newest.seq), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
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
        let held: Vec<Message> = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                 WHERE d.recipient = :viewer AND d.read_at IS NULL AND m.deleted_at IS NULL
                   AND d.message_seq > (SELECT stop_held_seq FROM sessions WHERE id = :session)
                   AND (m.priority = :urgent OR m.ack_required
                        OR m.reply_to IN (SELECT id FROM messages WHERE author = :viewer))
                 ORDER BY d.message_seq LIMIT :limit"
            ))?
            .query_map(
                named_params! {
                    ":viewer": viewer, ":session": session,
                    ":urgent": Priority::Urgent.rank(), ":limit": MAX_PAGE,
                },
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        if let Some(last) = held.last() {
            tx.prepare_cached(
                "UPDATE sessions SET stop_held_seq = MAX(stop_held_seq, ?2) WHERE id = ?1",
            )?
            .execute((&session, last.seq))?;
        }
        Ok(held)
    })
}

/// A message an agent has left unread too long: flagged to the humans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Overdue {
    pub id: String,
    pub thread: String,
    pub sender: String,
    /// The agent that has not read it.
    pub recipient: String,
    /// Its subject, or the start of its body.
    pub about: String,
    pub priority: Priority,
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
        let rows = tx
            .prepare_cached(
                "SELECT m.id, m.thread_id, m.author, d.recipient, COALESCE(m.subject, m.body), m.priority, d.delivered_at
                 FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                      JOIN agents a ON a.name = d.recipient AND a.kind = 'agent'
                 WHERE d.read_at IS NULL AND m.deleted_at IS NULL AND d.delivered_at < ?1
                 ORDER BY d.delivered_at LIMIT ?2",
            )?
            .query_map((cutoff, MAX_OVERDUE), |r| {
                let about: String = r.get(4)?;
                Ok(Overdue {
                    id: r.get(0)?,
                    thread: r.get(1)?,
                    sender: r.get(2)?,
                    recipient: r.get(3)?,
                    about: about.lines().next().unwrap_or_default().chars().take(120).collect(),
                    priority: Priority::from_rank(r.get(5)?),
                    delivered_at: Timestamp(r.get(6)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
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
fn mark_in(
    tx: &Connection,
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
        let sql = if acked {
            "UPDATE deliveries SET read_at = COALESCE(read_at, ?3), acked_at = ?3
                 WHERE recipient = ?1 AND message_seq = ?2 AND acked_at IS NULL"
        } else {
            "UPDATE deliveries SET read_at = ?3 WHERE recipient = ?1 AND message_seq = ?2 AND read_at IS NULL"
        };
        if tx
            .prepare_cached(sql)?
            .execute((viewer, m.seq, now.millis()))?
            > 0
        {
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

/// A message its author sent, with every recipient's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SentMessage {
    pub message: Message,
    pub deliveries: Vec<Delivery>,
}

/// What `author` sent, newest first, with per-recipient state.
pub fn sent(
    store: &mut Store,
    author: &str,
    before: Option<i64>,
    limit: Option<u32>,
) -> Result<Vec<SentMessage>> {
    let limit = crate::page::size(limit, DEFAULT_PAGE, MAX_PAGE, "limit")?;
    store.read(|tx| {
        let messages: Vec<Message> = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} {FROM_VISIBLE} WHERE m.author = :viewer AND m.seq < :before ORDER BY m.seq DESC LIMIT :limit"
            ))?
            .query_map(
                named_params! {":viewer": author, ":before": before.unwrap_or(i64::MAX), ":limit": limit},
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        messages
            .into_iter()
            .map(|message| Ok(SentMessage { deliveries: deliveries(tx, message.seq)?, message }))
            .collect()
    })
}

fn deliveries(conn: &Connection, seq: i64) -> Result<Vec<Delivery>> {
    let rows = conn
        .prepare_cached("SELECT recipient, read_at, acked_at, notified_at FROM deliveries WHERE message_seq = ?1 ORDER BY recipient")?
        .query_map([seq], |r| {
            let read_at: Option<i64> = r.get(1)?;
            let acked_at: Option<i64> = r.get(2)?;
            let notified_at: Option<i64> = r.get(3)?;
            Ok(Delivery {
                recipient: r.get(0)?,
                state: state_of(read_at, acked_at, notified_at),
                notified_at: notified_at.map(Timestamp),
                read_at: read_at.map(Timestamp),
                acked_at: acked_at.map(Timestamp),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Loads a message for a change by its author; refuses anyone else and tombstones.
fn own_live(conn: &Connection, viewer: &str, id: &str, doing: &str) -> Result<Message> {
    let m = lookup(conn, viewer, id)?;
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
        let (old_subject, old_body, written): (Option<String>, String, i64) = tx
            .prepare_cached("SELECT subject, body, COALESCE(edited_at, created_at) FROM messages WHERE seq = ?1")?
            .query_row([m.seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        tx.prepare_cached(
            "INSERT INTO message_versions (message_seq, version, subject, body, written_at)
             VALUES (?1, (SELECT COUNT(*) + 1 FROM message_versions WHERE message_seq = ?1), ?2, ?3, ?4)",
        )?
        .execute((m.seq, &old_subject, &old_body, written))?;
        tx.prepare_cached("UPDATE messages SET body = ?2, subject = COALESCE(?3, subject), edited_at = ?4 WHERE seq = ?1")?
            .execute((m.seq, body, &subject, now.millis()))?;
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
    pub version: u32,
    pub subject: Option<String>,
    pub body: String,
    pub written_at: Timestamp,
}

/// Every version of a message the viewer can see, oldest first; the last is current.
/// A deleted message has no viewable history.
pub fn history(store: &mut Store, viewer: &str, id: &str) -> Result<Vec<Version>> {
    store.read(|tx| {
        let m = lookup(tx, viewer, id)?;
        if m.deleted_at.is_some() {
            return Err(Error::Conflict(format!("{} was deleted; its text is no longer shown", m.id)));
        }
        let mut versions: Vec<Version> = tx
            .prepare_cached("SELECT version, subject, body, written_at FROM message_versions WHERE message_seq = ?1 ORDER BY version")?
            .query_map([m.seq], |r| {
                Ok(Version { version: r.get(0)?, subject: r.get(1)?, body: r.get(2)?, written_at: Timestamp(r.get(3)?) })
            })?
            .collect::<rusqlite::Result<_>>()?;
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
        tx.prepare_cached("UPDATE messages SET deleted_at = ?2 WHERE seq = ?1")?
            .execute((m.seq, now.millis()))?;
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

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hit {
    pub message: Message,
    /// The matching text with matches in [brackets].
    pub snippet: String,
}

/// Turns free text into an FTS5 query of quoted terms (all must match), so punctuation
/// in the input cannot be a syntax error. A trailing `*` on a word keeps prefix search.
fn fts_query(text: &str) -> Result<String> {
    crate::input::refuse_nul("search", text)?;
    let terms: Vec<String> = text
        .split_whitespace()
        .filter_map(|w| {
            let (word, star) = w.strip_suffix('*').map_or((w, ""), |s| (s, "*"));
            (!word.is_empty()).then(|| format!("\"{}\"{star}", word.replace('"', "\"\"")))
        })
        .collect();
    if terms.is_empty() {
        return Err(Error::Invalid(
            "the search is empty: give words to look for".into(),
        ));
    }
    Ok(terms.join(" "))
}

/// Full-text search over subjects and bodies of the messages `viewer` can see (deleted
/// ones excluded), best match first.
pub fn search(
    store: &mut Store,
    viewer: &str,
    text: &str,
    filter: &InboxFilter,
) -> Result<Vec<Hit>> {
    let query = fts_query(text)?;
    check_filter(filter)?;
    let limit = crate::page::size(filter.limit, DEFAULT_PAGE, MAX_PAGE, "limit")?;
    store.read(|tx| {
        let thread = filter
            .thread
            .as_deref()
            .map(|t| id::resolve(tx, IdKind::Thread, t))
            .transpose()?;
        let sql = format!(
            "SELECT {COLUMNS}, snippet(messages_fts, -1, '[', ']', '…', 16)
             FROM messages_fts f JOIN messages m ON m.seq = f.rowid
             LEFT JOIN deliveries d ON d.message_seq = m.seq AND d.recipient = :viewer
             WHERE messages_fts MATCH :query AND {VISIBLE} AND m.deleted_at IS NULL
               AND (:from IS NULL OR m.author = :from)
               AND (:thread IS NULL OR m.thread_id = :thread)
               AND m.priority >= :priority
               AND (:unread = 0 OR (d.recipient IS NOT NULL AND d.read_at IS NULL))
             ORDER BY rank LIMIT :limit"
        );
        let hits = tx
            .prepare_cached(&sql)?
            .query_map(
                named_params! {
                    ":viewer": viewer, ":query": query, ":from": filter.from, ":thread": thread,
                    ":priority": filter.min_priority.unwrap_or(Priority::Low).rank(),
                    ":unread": filter.unread_only, ":limit": limit,
                },
                |r| {
                    Ok(Hit {
                        message: from_row(r)?,
                        snippet: r.get(19)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(hits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::temp_store;

    fn setup() -> (switchboard_testutils::ScratchStore, Store) {
        let (dir, mut store) = temp_store();
        for (name, role) in [
            ("lead", None),
            ("ann", Some("reviewer")),
            ("bob", Some("reviewer")),
            ("cat", None),
            ("human:ada", None),
        ] {
            agent::register(
                &mut store,
                name,
                &Registration {
                    name: name.into(),
                    role: role.map(Into::into),
                    description: None,
                },
            )
            .unwrap();
        }
        (dir, store)
    }

    fn by(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            session: None,
        }
    }

    fn draft(to: &[&str], body: &str) -> Draft {
        Draft {
            to: to.iter().map(|t| t.to_string()).collect(),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn mail_an_agent_leaves_unread_too_long_is_overdue_until_read() {
        let (_dir, mut store) = setup();
        let to_agent = send(
            &mut store,
            &by("lead"),
            &draft(&["ann"], "Review PR 12\nsoon"),
        )
        .unwrap();
        send(
            &mut store,
            &by("lead"),
            &draft(&["human:ada"], "people are not chased"),
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(
            overdue(&mut store, std::time::Duration::from_secs(3600))
                .unwrap()
                .is_empty(),
            "not overdue yet"
        );
        let late = overdue(&mut store, std::time::Duration::ZERO).unwrap();
        assert_eq!(late.len(), 1, "{late:?}");
        assert_eq!(
            (late[0].recipient.as_str(), late[0].about.as_str()),
            ("ann", "Review PR 12")
        );
        mark(&mut store, "ann", std::slice::from_ref(&to_agent.id), false).unwrap();
        assert!(
            overdue(&mut store, std::time::Duration::ZERO)
                .unwrap()
                .is_empty()
        );
    }

    fn recipients(store: &mut Store, id: &str) -> Vec<String> {
        let mut sent = sent(store, "lead", None, Some(200)).unwrap();
        sent.retain(|s| s.message.id == id);
        sent[0]
            .deliveries
            .iter()
            .map(|d| d.recipient.clone())
            .collect()
    }

    #[test]
    fn references_parse_from_their_short_form() {
        type Parsed<'a> = Option<(RefKind, &'a str, Option<&'a str>)>;
        let cases: &[(&str, Parsed<'_>)] = &[
            ("file:src/lib.rs", Some((RefKind::File, "src/lib.rs", None))),
            (
                "file:src/lib.rs:12-40",
                Some((RefKind::File, "src/lib.rs", Some("12-40"))),
            ),
            (
                "file:src/lib.rs:7",
                Some((RefKind::File, "src/lib.rs", Some("7"))),
            ),
            ("commit:abc123", Some((RefKind::Commit, "abc123", None))),
            (
                "session:ses_01abc",
                Some((RefKind::Session, "ses_01abc", None)),
            ),
            (
                "message:msg_01abc",
                Some((RefKind::Message, "msg_01abc", None)),
            ),
            ("src/lib.rs", None),
            ("url:http://x", None),
            ("file:", None),
        ];
        for (text, want) in cases {
            if let Ok(parsed) = text.parse::<Reference>() {
                assert_eq!(parsed.to_string(), *text, "round trip");
            }
            let got = text.parse::<Reference>().ok();
            let got = got
                .as_ref()
                .map(|r| (r.kind, r.target.as_str(), r.lines.as_deref()));
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn every_send_form_reaches_the_right_agents() {
        let (_dir, mut store) = setup();
        let direct = send(&mut store, &by("lead"), &draft(&["ann"], "direct")).unwrap();
        assert_eq!(recipients(&mut store, &direct.id), ["ann"]);
        let human = send(
            &mut store,
            &by("lead"),
            &draft(&["human:ada"], "to a human"),
        )
        .unwrap();
        assert_eq!(recipients(&mut store, &human.id), ["human:ada"]);
        let role = send(&mut store, &by("lead"), &draft(&["@reviewer"], "reviewers")).unwrap();
        assert_eq!(recipients(&mut store, &role.id), ["ann", "bob"]);
        group::create(
            &mut store,
            "lead",
            "core",
            None,
            &["cat".into(), "role:reviewer".into(), "lead".into()],
        )
        .unwrap();
        let grouped = send(&mut store, &by("lead"), &draft(&["@core"], "the group")).unwrap();
        assert_eq!(
            recipients(&mut store, &grouped.id),
            ["ann", "bob", "cat"],
            "the author is not sent its own group message"
        );
        let all = send(&mut store, &by("lead"), &draft(&["@everyone"], "all hands")).unwrap();
        assert_eq!(
            recipients(&mut store, &all.id),
            ["ann", "bob", "cat", "human:ada"]
        );
        let mixed = send(
            &mut store,
            &by("lead"),
            &draft(&["ann", "@reviewer", "cat"], "dedup"),
        )
        .unwrap();
        assert_eq!(recipients(&mut store, &mixed.id), ["ann", "bob", "cat"]);
        assert_eq!(
            mixed.to,
            ["ann", "@reviewer", "cat"],
            "the message keeps the addresses as written"
        );
    }

    #[test]
    fn an_unknown_recipient_fails_the_whole_send_and_leaves_no_trace() {
        let (_dir, mut store) = setup();
        let before = store.latest_event_seq().unwrap();
        for bad in [
            &["ann", "ghost"][..],
            &["@nobody"],
            &["human:zed"],
            &["Not Valid"],
        ] {
            let err = send(&mut store, &by("lead"), &draft(bad, "hello")).unwrap_err();
            assert!(
                err.to_string().contains("nothing was sent"),
                "{bad:?}: {err}"
            );
        }
        let err = send(&mut store, &by("lead"), &draft(&["ann"], "x")).map(|_| ());
        assert!(err.is_ok());
        let counts: (i64, i64, i64) = store
            .read(|tx| Ok(tx.query_row(
                "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM threads), (SELECT COUNT(*) FROM deliveries)",
                [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?))
            .unwrap();
        assert_eq!(counts, (1, 1, 1), "only the valid send wrote anything");
        assert_eq!(store.latest_event_seq().unwrap(), before + 1);
    }

    #[test]
    fn limits_are_enforced_with_clear_errors() {
        let (_dir, mut store) = setup();
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        let err = send(&mut store, &by("lead"), &draft(&["ann"], &big)).unwrap_err();
        assert!(err.to_string().contains("limit is 65536 (64 KiB)"), "{err}");
        assert!(
            send(
                &mut store,
                &by("lead"),
                &draft(&["ann"], &"x".repeat(MAX_BODY_BYTES))
            )
            .is_ok()
        );
        assert!(
            send(&mut store, &by("lead"), &draft(&["ann"], "  "))
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let mut d = draft(&["ann"], "refs");
        d.refs = vec![Reference {
            kind: RefKind::File,
            target: "../etc/passwd".into(),
            lines: None,
        }];
        assert!(
            send(&mut store, &by("lead"), &d)
                .unwrap_err()
                .to_string()
                .contains("without '..'")
        );
        d.refs = vec![Reference {
            kind: RefKind::File,
            target: "src/main.rs".into(),
            lines: Some("40-12".into()),
        }];
        assert!(
            send(&mut store, &by("lead"), &d)
                .unwrap_err()
                .to_string()
                .contains("range")
        );
        d.refs = vec![
            Reference {
                kind: RefKind::File,
                target: "src/main.rs".into(),
                lines: Some("12-40".into()),
            },
            Reference {
                kind: RefKind::Commit,
                target: "deadbeef".into(),
                lines: None,
            },
        ];
        let ok = send(&mut store, &by("lead"), &d).unwrap();
        assert_eq!(ok.refs.len(), 2);
    }

    #[test]
    fn threads_keep_order_and_replies_default_to_participants() {
        let (_dir, mut store) = setup();
        let first = send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("plan".into()),
                ..draft(&["ann", "bob"], "one")
            },
        )
        .unwrap();
        let second = reply(&mut store, &by("ann"), &first.id, &draft(&[], "two")).unwrap();
        assert_eq!(second.thread, first.thread);
        assert_eq!(second.reply_to.as_deref(), Some(first.id.as_str()));
        let mut to = second.to.clone();
        to.sort();
        assert_eq!(to, ["bob", "lead"]);
        let third = reply(
            &mut store,
            &by("bob"),
            &second.id,
            &draft(&["lead"], "three, privately"),
        )
        .unwrap();
        let t = thread(&mut store, "lead", &first.thread).unwrap();
        let bodies: Vec<&str> = t
            .messages
            .iter()
            .map(|m| m.body.as_deref().unwrap())
            .collect();
        assert_eq!(bodies, ["one", "two", "three, privately"]);
        assert_eq!(t.subject.as_deref(), Some("plan"));
        let seen_by_ann = thread(&mut store, "ann", &first.thread).unwrap();
        assert_eq!(
            seen_by_ann.messages.len(),
            2,
            "ann did not receive the private reply"
        );
        assert!(matches!(
            thread(&mut store, "cat", &first.thread),
            Err(Error::NotFound { .. })
        ));
        assert!(
            matches!(
                get(&mut store, "cat", &third.id),
                Err(Error::NotFound { .. })
            ),
            "no peeking"
        );
        assert!(matches!(
            reply(&mut store, &by("cat"), &first.id, &draft(&[], "x")),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn inbox_is_unread_first_pages_by_cursor_and_does_not_mark_read() {
        let (_dir, mut store) = setup();
        let ids: Vec<String> = (0..5)
            .map(|i| {
                send(&mut store, &by("lead"), &draft(&["ann"], &format!("m{i}")))
                    .unwrap()
                    .id
            })
            .collect();
        mark(&mut store, "ann", std::slice::from_ref(&ids[3]), false).unwrap();
        let body = |m: &Message| m.body.clone().unwrap();
        let page = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(page.unread, 4);
        assert_eq!(
            page.messages.iter().map(body).collect::<Vec<_>>(),
            ["m4", "m2"]
        );
        let next = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                cursor: page.next_cursor.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            next.messages.iter().map(body).collect::<Vec<_>>(),
            ["m1", "m0"]
        );
        let last = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                limit: Some(2),
                cursor: next.next_cursor.clone(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            last.messages.iter().map(body).collect::<Vec<_>>(),
            ["m3"],
            "read messages come after unread ones"
        );
        assert_eq!(last.next_cursor, None);
        let again = inbox(&mut store, "ann", &InboxFilter::default()).unwrap();
        assert_eq!(again.unread, 4, "listing is a peek");
        let unread = inbox(
            &mut store,
            "ann",
            &InboxFilter {
                unread_only: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            unread.messages.iter().map(body).collect::<Vec<_>>(),
            ["m4", "m2", "m1", "m0"]
        );
        assert!(
            inbox(
                &mut store,
                "ann",
                &InboxFilter {
                    cursor: Some("zz".into()),
                    ..Default::default()
                }
            )
            .is_err()
        );
        for foreign in ["é1", "u", "r-", "ü7"] {
            assert!(Cursor::parse(foreign).is_err(), "{foreign}");
        }
    }

    #[test]
    fn search_words_keep_their_quotes_and_only_empty_words_are_dropped() {
        assert_eq!(fts_query("\"unbalanced").unwrap(), "\"\"\"unbalanced\"");
        assert_eq!(fts_query("plan* *").unwrap(), "\"plan\"*");
        assert!(fts_query(" * ").is_err());
    }

    #[test]
    fn inbox_filters_by_sender_thread_and_priority() {
        let (_dir, mut store) = setup();
        let a = send(
            &mut store,
            &by("lead"),
            &Draft {
                priority: Priority::Urgent,
                ..draft(&["ann"], "urgent one")
            },
        )
        .unwrap();
        send(&mut store, &by("bob"), &draft(&["ann"], "from bob")).unwrap();
        reply(
            &mut store,
            &by("lead"),
            &a.id,
            &Draft {
                priority: Priority::Low,
                ..draft(&["ann"], "low follow-up")
            },
        )
        .unwrap();
        let count =
            |f: InboxFilter, store: &mut Store| inbox(store, "ann", &f).unwrap().messages.len();
        assert_eq!(
            count(
                InboxFilter {
                    from: Some("bob".into()),
                    ..Default::default()
                },
                &mut store
            ),
            1
        );
        assert_eq!(
            count(
                InboxFilter {
                    thread: Some(a.thread.clone()),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
        assert_eq!(
            count(
                InboxFilter {
                    min_priority: Some(Priority::High),
                    ..Default::default()
                },
                &mut store
            ),
            1
        );
        assert_eq!(
            count(
                InboxFilter {
                    min_priority: Some(Priority::Normal),
                    ..Default::default()
                },
                &mut store
            ),
            2
        );
    }

    #[test]
    fn read_and_ack_are_per_recipient_and_the_sender_sees_them() {
        let (_dir, mut store) = setup();
        let m = send(
            &mut store,
            &by("lead"),
            &Draft {
                ack_required: true,
                ..draft(&["ann", "bob", "cat"], "please confirm")
            },
        )
        .unwrap();
        assert_eq!(
            get(&mut store, "ann", &m.id).unwrap().state,
            Some(DeliveryState::Delivered)
        );
        mark(&mut store, "ann", std::slice::from_ref(&m.id), false).unwrap();
        let acked = mark(&mut store, "bob", std::slice::from_ref(&m.id), true).unwrap();
        assert_eq!(acked[0].state, Some(DeliveryState::Acked));
        let states: Vec<(String, DeliveryState)> = sent(&mut store, "lead", None, None).unwrap()[0]
            .deliveries
            .iter()
            .map(|d| (d.recipient.clone(), d.state))
            .collect();
        assert_eq!(
            states,
            [
                ("ann".into(), DeliveryState::Read),
                ("bob".into(), DeliveryState::Acked),
                ("cat".into(), DeliveryState::Delivered)
            ]
        );
        assert!(
            sent(&mut store, "lead", None, None).unwrap()[0].deliveries[1]
                .read_at
                .is_some(),
            "ack implies read"
        );
        let before = store.latest_event_seq().unwrap();
        mark(&mut store, "ann", std::slice::from_ref(&m.id), false).unwrap();
        assert_eq!(
            store.latest_event_seq().unwrap(),
            before,
            "reading again changes nothing"
        );
        let err = mark(&mut store, "lead", std::slice::from_ref(&m.id), true).unwrap_err();
        assert!(err.to_string().contains("not a recipient"), "{err}");
        assert!(matches!(
            mark(&mut store, "human:ada", std::slice::from_ref(&m.id), false),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn only_the_author_edits_with_history_or_deletes_to_a_tombstone() {
        let (_dir, mut store) = setup();
        let m = send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("v1 subject".into()),
                ..draft(&["ann"], "version one")
            },
        )
        .unwrap();
        let err = edit(&mut store, "ann", &m.id, "hijack", None).unwrap_err();
        assert!(err.to_string().contains("only its author (lead)"), "{err}");
        edit(&mut store, "lead", &m.id, "version two", None).unwrap();
        let edited = edit(
            &mut store,
            "lead",
            &m.id,
            "version three",
            Some("v3 subject"),
        )
        .unwrap();
        assert!(edited.edited_at.is_some());
        let versions = history(&mut store, "ann", &m.id).unwrap();
        let texts: Vec<(u32, &str)> = versions
            .iter()
            .map(|v| (v.version, v.body.as_str()))
            .collect();
        assert_eq!(
            texts,
            [(1, "version one"), (2, "version two"), (3, "version three")]
        );
        assert_eq!(versions[0].subject.as_deref(), Some("v1 subject"));
        assert!(
            delete(&mut store, "ann", &m.id)
                .unwrap_err()
                .to_string()
                .contains("only its author")
        );
        let gone = delete(&mut store, "lead", &m.id).unwrap();
        assert!(gone.body.is_none() && gone.deleted_at.is_some());
        let seen = get(&mut store, "ann", &m.id).unwrap();
        assert!(
            seen.body.is_none() && seen.deleted_at.is_some(),
            "recipients see a tombstone"
        );
        assert!(
            edit(&mut store, "lead", &m.id, "undead", None)
                .unwrap_err()
                .to_string()
                .contains("was deleted")
        );
        assert_eq!(
            inbox(&mut store, "ann", &InboxFilter::default())
                .unwrap()
                .unread,
            0,
            "tombstones are not unread"
        );
    }

    #[test]
    fn search_finds_visible_messages_with_snippets_and_filters() {
        let (_dir, mut store) = setup();
        send(
            &mut store,
            &by("lead"),
            &Draft {
                subject: Some("Parser bug".into()),
                ..draft(&["ann"], "the tokenizer drops unicode escapes")
            },
        )
        .unwrap();
        send(
            &mut store,
            &by("bob"),
            &draft(&["ann"], "unicode in the renderer too"),
        )
        .unwrap();
        send(
            &mut store,
            &by("lead"),
            &draft(&["cat"], "secret unicode plan"),
        )
        .unwrap();
        let hits = search(&mut store, "ann", "unicode", &InboxFilter::default()).unwrap();
        assert_eq!(hits.len(), 2, "cat's message is not visible to ann");
        assert!(
            hits.iter().all(|h| h.snippet.contains("[unicode]")),
            "{hits:?}"
        );
        let from_bob = search(
            &mut store,
            "ann",
            "unicode",
            &InboxFilter {
                from: Some("bob".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(from_bob.len(), 1);
        assert_eq!(
            search(&mut store, "ann", "parser", &InboxFilter::default())
                .unwrap()
                .len(),
            1,
            "subjects are searched"
        );
        assert_eq!(
            search(&mut store, "ann", "token*", &InboxFilter::default())
                .unwrap()
                .len(),
            1,
            "prefix search"
        );
        assert_eq!(
            search(
                &mut store,
                "ann",
                "\"unbalanced (quote AND",
                &InboxFilter::default()
            )
            .unwrap()
            .len(),
            0
        );
        assert!(search(&mut store, "ann", "   ", &InboxFilter::default()).is_err());
        let lead_sees = search(&mut store, "lead", "unicode", &InboxFilter::default()).unwrap();
        assert_eq!(lead_sees.len(), 2, "authors find what they sent");
        let first = &lead_sees
            .iter()
            .find(|h| h.message.subject.is_some())
            .unwrap()
            .message;
        delete(&mut store, "lead", &first.id).unwrap();
        assert_eq!(
            search(&mut store, "ann", "tokenizer", &InboxFilter::default())
                .unwrap()
                .len(),
            0,
            "deleted text is not found"
        );
    }

    #[test]
    fn the_unread_counter_matches_a_full_count_through_sends_reads_acks_and_deletes() {
        let (_dir, mut store) = setup();
        let mut ids = Vec::new();
        for i in 0..12 {
            let to = if i % 3 == 0 {
                vec!["@reviewer"]
            } else {
                vec!["ann"]
            };
            ids.push(
                send(&mut store, &by("lead"), &draft(&to, &format!("m{i}")))
                    .unwrap()
                    .id,
            );
        }
        mark(&mut store, "ann", &ids[0..3], false).unwrap();
        mark(&mut store, "ann", &ids[3..4], true).unwrap();
        delete(&mut store, "lead", &ids[5]).unwrap();
        delete(&mut store, "lead", &ids[1]).unwrap();
        mark(&mut store, "ann", &ids[5..6], false).unwrap();
        for who in ["ann", "bob", "lead"] {
            let full: i64 = store
                .read(|tx| {
                    Ok(tx.query_row(
                        "SELECT COUNT(*) FROM deliveries d JOIN messages m ON m.seq = d.message_seq
                         WHERE d.recipient = ?1 AND d.read_at IS NULL AND m.deleted_at IS NULL",
                        [who],
                        |r| r.get(0),
                    )?)
                })
                .unwrap();
            assert_eq!(unread(&mut store, who).unwrap(), full as u64, "{who}");
        }
        assert_eq!(unread(&mut store, "ann").unwrap(), 7);
    }
}
