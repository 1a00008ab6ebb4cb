//! Putting mail in front of an agent where it works: what the hooks of its client say when
//! a session starts, after a tool call or a prompt, and when the agent is about to stop.
//! Each message is announced once per session, and a stop is held once per message.

use crate::message::{self, Message, Priority};
use crate::{Result, Store, briefing, render};

/// Longest text a hook adds to an agent's context after a tool call or a prompt.
pub const MAX_CONTEXT_CHARS: usize = 2000;
/// Most message headers one announcement lists before "N more".
const MAX_HEADERS: u32 = 50;

/// Whose mail: an agent in one of its sessions.
#[derive(Debug, Clone)]
pub struct Recipient {
    /// The agent's participant name.
    pub agent: String,
    /// Full id (`ses_…`) of the agent's session the hook runs in; what was announced and
    /// which stops were held is tracked per session.
    pub session: String,
}

/// The briefing for the start of `r`'s session (who it is, its task, unread mail, its
/// worktree, its subtasks). The mail it lists counts as announced.
pub fn opening(store: &mut Store, r: &Recipient) -> Result<String> {
    let text = render::briefing(&briefing::of(store, &r.agent, Some(&r.session))?);
    message::announce(store, &r.agent, &r.session, MAX_HEADERS)?;
    Ok(text)
}

/// The headers of messages `r` was not yet told of, at most [`MAX_CONTEXT_CHARS`]
/// (the rest counted, with where to read them); `None` when there is nothing new.
pub fn arrivals(store: &mut Store, r: &Recipient) -> Result<Option<String>> {
    let unheard = message::announce(store, &r.agent, &r.session, MAX_HEADERS)?;
    if unheard.total == 0 {
        return Ok(None);
    }
    let mut text = format!(
        "Switchboard: {} new message(s) for you (read them with message_wait or inbox_read, answer with message_reply):",
        unheard.total
    );
    let mut listed = 0;
    // Oldest first reads naturally; the newest are the ones kept when space runs out.
    let lines: Vec<String> = unheard.messages.iter().map(header).collect();
    let mut kept = Vec::new();
    let mut room = MAX_CONTEXT_CHARS.saturating_sub(text.len() + 40);
    for line in &lines {
        if line.len() + 1 > room {
            break;
        }
        room -= line.len() + 1;
        kept.push(line.as_str());
        listed += 1;
    }
    for line in kept.iter().rev() {
        text.push('\n');
        text.push_str(line);
    }
    let more = unheard.total - listed;
    if more > 0 {
        text.push_str(&format!("\n{more} more — call inbox_read"));
    }
    Ok(Some(text))
}

/// Why `r`'s agent should not stop yet: unread messages that are urgent, ask for an
/// acknowledgement or answer a message it sent, listed once (a stop is held once per
/// message); `None` when nothing holds it. Holding tells the agent of all its new mail:
/// later hooks do not announce it again.
pub fn hold(store: &mut Store, r: &Recipient) -> Result<Option<String>> {
    let held = message::stop_holds(store, &r.agent, &r.session)?;
    if held.is_empty() {
        return Ok(None);
    }
    let unheard = message::announce(store, &r.agent, &r.session, MAX_HEADERS)?;
    let others = unheard
        .messages
        .iter()
        .filter(|m| !held.iter().any(|h| h.id == m.id))
        .count() as u64
        + unheard.total.saturating_sub(unheard.messages.len() as u64);
    let mut text = format!(
        "Before you stop: {} message(s) for you need an answer. Read them (message_wait or inbox_read), then answer (message_reply) or acknowledge (message_read with ack: true):",
        held.len()
    );
    for m in held.iter().take(20) {
        text.push('\n');
        text.push_str(&header(m));
    }
    if held.len() > 20 {
        text.push_str(&format!("\n{} more — call inbox_read", held.len() - 20));
    }
    if others > 0 {
        text.push_str(&format!(
            "\nAlso {others} other new message(s): inbox_read."
        ));
    }
    Ok(Some(text))
}

/// How often a waiting [`wake`] checks that the agent is still idle (a file the
/// client's other hooks touch); mail wakes it at once.
const WAKE_IDLE_CHECK: std::time::Duration = std::time::Duration::from_millis(200);

/// How a [`wake`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// New mail arrived: its headers, to put in front of the idle agent.
    Mail(String),
    /// The session ended: nobody to wake.
    Ended,
    /// Nothing arrived before the deadline.
    TimedOut,
    /// The agent is at work again (another hook of its session ran): no need to wake it.
    Busy,
}

/// How often a waiting [`wake`] checks that the agent's session is still live (its
/// client may have exited without ending it).
const WAKE_LIVENESS: std::time::Duration = std::time::Duration::from_millis(400);

/// How long a [`wake`] lets the stop hook that runs beside it go first (it tells the agent
/// of the mail it holds the stop for) before waking for mail already waiting.
const WAKE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits, for at most `limit`, until `r` has mail it was not told of — mail that came in
/// during its last turn after its last hook, or that arrives while it is idle — or its
/// session ends or its process goes, or `idle` says the agent is at work again: how an
/// idle agent is woken. Waits on the change feed of `store`'s database, which wakes it as
/// soon as another process commits; looks at `idle` every [`WAKE_IDLE_CHECK`].
pub fn wake(
    store: &mut Store,
    r: &Recipient,
    limit: std::time::Duration,
    idle: &dyn Fn() -> bool,
) -> Result<Wake> {
    let deadline = std::time::Instant::now() + limit;
    let mut feed = crate::feed::ChangeFeed::open(store.address(), store.settings().clone())?;
    let grace_ends = std::time::Instant::now() + WAKE_GRACE;
    while std::time::Instant::now() < grace_ends {
        std::thread::sleep(WAKE_IDLE_CHECK);
        if !idle() {
            return Ok(Wake::Busy);
        }
    }
    if let Some(text) = arrivals(store, r)? {
        return Ok(Wake::Mail(text));
    }
    let mut checked = std::time::Instant::now();
    loop {
        if std::time::Instant::now() >= deadline {
            return Ok(Wake::TimedOut);
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let events = feed.wait(left.min(WAKE_IDLE_CHECK))?;
        if !idle() {
            return Ok(Wake::Busy);
        }
        let mail = events.iter().any(|e| e.change.mail_for(&r.agent).is_some());
        if mail && let Some(text) = arrivals(store, r)? {
            return Ok(Wake::Mail(text));
        }
        let session_news = events
            .iter()
            .any(|e| e.change.session() == Some(r.session.as_str()));
        if session_news || checked.elapsed() >= WAKE_LIVENESS {
            checked = std::time::Instant::now();
            if !crate::session::get(store, &r.session)?.is_live() {
                return Ok(Wake::Ended);
            }
        }
    }
}

/// One message in a line: id, sender, priority, ack, subject or first line.
fn header(m: &Message) -> String {
    let about = m
        .subject
        .as_deref()
        .or_else(|| m.body.as_deref().and_then(|b| b.lines().next()))
        .unwrap_or("(deleted)");
    let about: String = about.chars().take(120).collect();
    let priority = match m.priority {
        Priority::Normal => String::new(),
        p => format!(" [{}]", p.as_str()),
    };
    let ack = if m.ack_required { " (ack asked)" } else { "" };
    format!("- {} from {}{priority}{ack}: {about}", m.id, m.sender)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Author, Draft};
    use crate::session::{self, NewSession};

    fn author(agent: &str) -> Author {
        Author {
            agent: agent.into(),
            session: None,
        }
    }

    crate::every_backend! {
        fn an_answer_to_your_own_question_holds_a_stop_once_and_plain_mail_does_not(backend) {
            let (_dir, mut store) = scratch_store(backend);
            let alice = session::start(
                &mut store,
                &NewSession {
                    agent: "alice".into(),
                    intent: "ask".into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let r = Recipient {
                agent: "alice".into(),
                session: alice.id.clone(),
            };
            let draft = |to: &str, body: &str| Draft {
                to: vec![to.into()],
                body: body.into(),
                ..Default::default()
            };
            message::send(&mut store, &author("bob"), &draft("alice", "hello")).unwrap();
            assert_eq!(
                hold(&mut store, &r).unwrap(),
                None,
                "plain mail lets a stop through"
            );
            let question = message::send(&mut store, &author("alice"), &draft("bob", "tabs?")).unwrap();
            message::reply(
                &mut store,
                &author("bob"),
                &question.id,
                &draft("alice", "spaces"),
            )
            .unwrap();
            let held = hold(&mut store, &r)
                .unwrap()
                .expect("the answer holds the stop");
            assert!(
                held.contains("from bob") && held.contains("Also 1 other new message(s)"),
                "{held}"
            );
            assert_eq!(hold(&mut store, &r).unwrap(), None, "held once");
            assert_eq!(
                arrivals(&mut store, &r).unwrap(),
                None,
                "a hold told the agent of all its new mail"
            );
            message::send(&mut store, &author("bob"), &draft("alice", "later")).unwrap();
            let told = arrivals(&mut store, &r).unwrap().expect("one new message");
            assert!(told.contains("1 new message(s)"), "{told}");
            assert_eq!(arrivals(&mut store, &r).unwrap(), None, "announced once");
        }
    }
}
