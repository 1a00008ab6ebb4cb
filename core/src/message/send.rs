//! The author's side: drafts checked (body, subject, references, limits), recipients
//! expanded to agents, messages and replies written with their deliveries, notices from
//! Switchboard itself, and the sent list with every recipient's state.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::inbox::mark_in;
use super::thread::participants;
use super::{
    Author, DEFAULT_PAGE, Delivery, DeliveryState, Draft, MAX_BODY_BYTES, MAX_PAGE, MAX_RECIPIENTS,
    MAX_REFS, MAX_SUBJECT_CHARS, Message, NewMessage, Priority, RefKind, Reference, fetch, lookup,
};
use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::group;
use crate::id::{self, IdKind, new_id};
use crate::store::Tx;
use crate::{Error, Result, Store};

pub(super) fn check_body(body: &str) -> Result<()> {
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

pub(super) fn check_subject(subject: Option<&str>) -> Result<Option<String>> {
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
fn check_refs(tx: &Tx<'_>, viewer: &str, refs: &[Reference]) -> Result<Vec<Reference>> {
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
                RefKind::Session => r.target = id::resolve(tx, IdKind::Session, &r.target)?,
                RefKind::Message => r.target = lookup(tx, viewer, &r.target)?.id,
            }
            Ok(r)
        })
        .collect()
}

/// Expands recipient expressions to registered participants (without the author, for
/// group, role and everyone addresses). Any unknown recipient fails the whole send.
fn expand_recipients(tx: &Tx<'_>, author: &str, to: &[String]) -> Result<Vec<String>> {
    if to.len() > MAX_RECIPIENTS {
        return Err(Error::Invalid(format!(
            "at most {MAX_RECIPIENTS} recipients per message"
        )));
    }
    let mut agents = Vec::new();
    for expr in to.iter().map(|t| t.trim()) {
        if let Some(name) = expr.strip_prefix('@') {
            let members = if name == "everyone" || name == "all" {
                agent::all_names(tx)?
            } else if let Some(g) = group::find(tx, name)? {
                group::expand(tx, &g)?
            } else {
                let holders = agent::with_role(tx, name)?;
                if holders.is_empty() {
                    return Err(Error::Invalid(format!(
                        "unknown recipient '{expr}': no group by that name and no agent has that role; nothing was sent. {}",
                        known_addresses(tx)?
                    )));
                }
                holders
            };
            agents.extend(members.into_iter().filter(|m| m != author));
        } else {
            agent::validate_name(expr).map_err(|e| {
                Error::Invalid(format!("recipient '{expr}': {e}; nothing was sent"))
            })?;
            if agent::require(tx, expr).is_err() {
                return Err(Error::Invalid(format!(
                    "unknown recipient '{expr}': no agent or human by that name has registered; nothing was sent. {}",
                    known_addresses(tx)?
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
fn known_addresses(tx: &Tx<'_>) -> Result<String> {
    let mut names = agent::all_names(tx)?;
    names.extend(group::names(tx)?.into_iter().map(|g| format!("@{g}")));
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

/// Writes a message, its deliveries and `message.sent` inside a transaction.
fn insert(
    tx: &Tx<'_>,
    author: &Author,
    draft: &Draft,
    thread: &str,
    reply_to: Option<&str>,
    recipients: &[String],
    now: Timestamp,
) -> Result<Message> {
    let refs = check_refs(tx, &author.agent, &draft.refs)?;
    let session = author
        .session
        .as_deref()
        .map(|s| id::resolve(tx, IdKind::Session, s))
        .transpose()?;
    let subject = check_subject(draft.subject.as_deref())?;
    let id = new_id(IdKind::Message);
    let seq = tx.insert_message(&NewMessage {
        id: &id,
        thread,
        reply_to,
        author: &author.agent,
        session: session.as_deref(),
        to: &draft.to,
        subject: subject.as_deref(),
        body: &draft.body,
        priority: draft.priority,
        ack_required: draft.ack_required,
        refs: &refs,
        now,
    })?;
    tx.insert_message_deliveries(seq, recipients, now)?;
    tx.update_thread_last_message(thread, now)?;
    let payload = event::MessageSent {
        id: id.clone(),
        seq,
        thread: thread.to_string(),
        from: author.agent.clone(),
        recipients: recipients.to_vec(),
        priority: draft.priority,
    };
    event::append(tx, Kind::MessageSent, Some(&author.agent), &payload, now)?;
    fetch(tx, &author.agent, &id)
}

/// A notice from Switchboard itself (sender [`agent::SYSTEM`]) to `recipient`, in a new
/// thread, inside the caller's transaction: e.g. a parent told that its child ended.
pub(crate) fn notice(
    tx: &Tx<'_>,
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
    tx.insert_thread(&thread, Some(subject), agent::SYSTEM, now)?;
    insert(
        tx,
        &author,
        &draft,
        &thread,
        None,
        &[recipient.to_string()],
        now,
    )
}

fn ensure_author(tx: &Tx<'_>, author: &Author, now: Timestamp) -> Result<()> {
    agent::ensure(
        tx,
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
        tx.insert_thread(&thread, subject.as_deref(), &author.agent, now)?;
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

/// A message its author sent, with every recipient's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SentMessage {
    /// The message, as its author sees it.
    pub message: Message,
    /// Each recipient's state of the message, by recipient name.
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
        let messages = tx.sent_messages(author, before.unwrap_or(i64::MAX), limit)?;
        messages
            .into_iter()
            .map(|message| {
                Ok(SentMessage {
                    deliveries: tx.message_deliveries(message.seq)?,
                    message,
                })
            })
            .collect()
    })
}
