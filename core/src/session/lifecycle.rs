//! A session's life: starting one (directly, as a spawned child or a fork, or by
//! `begin`, which every surface's `session_start` calls), claiming it for a serving
//! process, heartbeats, updates, ends, and the notices its parent's agent gets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::work::work_changed;
use super::{
    EndStatus, MAX_INTENT_LEN, MAX_REASON_LEN, Session, SessionDraft, Status, WorkContext, fetch,
    get, lookup,
};
use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::id::{IdKind, new_id};
use crate::message::{self, Priority, RefKind, Reference};
use crate::permission;
use crate::process::{self, ProcessInfo};
use crate::store::Tx;
use crate::{Error, Result, Store};

/// Refuses work on a session that has ended.
fn require_open(session: &Session, doing: &str) -> Result<()> {
    if matches!(session.status, Status::Active | Status::Stale) {
        return Ok(());
    }
    let when = session
        .ended_at
        .map(Timestamp::to_rfc3339)
        .unwrap_or_default();
    Err(Error::Conflict(format!(
        "cannot {doing} session {}: it already ended ({} at {when}); start a new session instead",
        session.id, session.status
    )))
}

fn check_text(what: &str, text: &str, max: usize) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Invalid(format!(
            "{what} is empty: say in a sentence what the session is for"
        )));
    }
    if text.chars().count() > max {
        return Err(Error::Invalid(format!(
            "{what} is longer than {max} characters; shorten it"
        )));
    }
    Ok(text.to_string())
}

/// The agent client behind a serving process on this host: its parent (the program that
/// started `switchboard mcp`, which also runs the client's hooks).
fn client_of(p: &ProcessInfo) -> Option<u32> {
    (p.host == process::this_host())
        .then(|| process::parent_of(p.pid))
        .flatten()
}

/// Refuses a person's name (`human:…`) where an agent is meant: sessions are worked by
/// agents; people act through the CLI and the editor.
fn require_agent(name: &str) -> Result<()> {
    if agent::validate_name(name)? == agent::AgentKind::Human {
        return Err(Error::Invalid(format!(
            "'{name}' names a person: sessions are worked by agents. Use an agent name (e.g. claude)."
        )));
    }
    Ok(())
}

/// The agent who works a subtask spawned or forked by `actor`: `agent` if given, else a
/// new instance named after the actor (e.g. `claude-m2p7`), since another process will
/// work it.
pub fn worker(actor: &str, agent: Option<String>) -> String {
    agent.unwrap_or_else(|| agent::instance_name(actor))
}

/// Who works a new session and on what.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// Agent to work the session, registered if new: an agent name, never a person's
    /// (`human:…`).
    pub agent: String,
    /// Role declared for the session (same characters as agent names); when given, the
    /// agent's registered role follows it.
    pub role: Option<String>,
    /// What the session is for, in a sentence (trimmed; must not be empty or over 4000
    /// characters).
    pub intent: String,
    /// The parent session (id or unique prefix); must be active.
    pub parent: Option<String>,
    /// The serving process, when the caller is the agent's own process.
    pub process: Option<ProcessInfo>,
    /// An open session this one replaces: it is ended `abandoned` in the same transaction.
    pub supersedes: Option<String>,
}

fn validate(new: &NewSession) -> Result<(String, Option<String>)> {
    require_agent(&new.agent)?;
    if let Some(role) = &new.role {
        agent::validate_role(role)?;
    }
    Ok((
        check_text("intent", &new.intent, MAX_INTENT_LEN)?,
        new.role.clone(),
    ))
}

/// Inserts a session (registering its agent if new) and writes `session.started`.
fn insert(
    tx: &Tx<'_>,
    draft: SessionDraft,
    actor: &str,
    now: Timestamp,
    cutoff: Timestamp,
) -> Result<Session> {
    // The agent's role follows the role it last declared for a session.
    agent::ensure(
        tx,
        &Registration {
            name: draft.agent.clone(),
            role: draft.role.clone(),
            description: None,
        },
        actor,
        now,
    )?;
    let id = new_id(IdKind::Session);
    let client = draft.process.as_ref().and_then(client_of);
    tx.insert_session(&id, &draft, client, now)?;
    let session = fetch(tx, &id, cutoff)?;
    event::append(tx, Kind::SessionStarted, Some(actor), &session, now)?;
    Ok(session)
}

/// Starts a session for `new.agent` (registering the agent if new). If `new.supersedes`
/// names an open session, that one is ended `abandoned` in the same transaction.
pub fn start(store: &mut Store, new: &NewSession) -> Result<Session> {
    let (intent, role) = validate(new)?;
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let now = Timestamp::now();
        let parent = match &new.parent {
            Some(p) => {
                let parent = lookup(tx, p, cutoff)?;
                require_open(&parent, "start a child of")?;
                Some(parent.id)
            }
            None => None,
        };
        let draft = SessionDraft {
            agent: new.agent.clone(),
            role,
            intent,
            parent,
            forked_from: None,
            process: new.process.clone(),
        };
        let session = insert(tx, draft, &new.agent, now, cutoff)?;
        if let Some(old) = &new.supersedes {
            let old = lookup(tx, old, cutoff)?;
            if matches!(old.status, Status::Active | Status::Stale) {
                let reason = format!("superseded by {}", session.id);
                close(
                    tx,
                    &old,
                    EndStatus::Abandoned,
                    Some(&reason),
                    &new.agent,
                    now,
                    cutoff,
                )?;
            }
        }
        Ok(session)
    })
}

/// What an agent's `session_start` asks for.
#[derive(Debug, Clone, Default)]
pub struct Begin {
    /// The agent beginning; `None` only with `join`, meaning "whoever the session is for".
    pub agent: Option<String>,
    /// The serving process.
    pub process: Option<ProcessInfo>,
    /// The session this agent's server already serves (bound at start-up or begun earlier).
    pub current: Option<String>,
    /// Join this existing session (e.g. one spawned for the agent) instead.
    pub join: Option<String>,
    /// Intent of a new session (required to start one), or a new intent for the session
    /// joined or kept.
    pub intent: Option<String>,
    /// Role of a new session, or a new role for the session joined or kept.
    pub role: Option<String>,
    /// Parent of a new session.
    pub parent: Option<String>,
    /// Start a new session even though `current` is open (ending it `abandoned`).
    pub replace: bool,
}

/// How [`begin`] went.
#[derive(Debug, Clone)]
pub struct Begun {
    /// The session the agent now works in: the one started, joined or kept.
    pub session: Session,
    /// What happened, in words for the agent: started, joined, or kept the current one.
    pub note: String,
}

/// What `session_start` does, for every surface:
/// - with `join`: claims that session for the agent's process;
/// - with an open `current` session and no `replace`: keeps working in it, updating its
///   intent and role when given (a server bound to a spawned session never loses it this way);
/// - otherwise: starts a new session (ending `current`, if still open, as superseded).
pub fn begin(store: &mut Store, b: &Begin) -> Result<Begun> {
    let process = b.process.clone().unwrap_or_else(ProcessInfo::current);
    let current = match &b.current {
        Some(id) => {
            Some(get(store, id)?).filter(|s| matches!(s.status, Status::Active | Status::Stale))
        }
        None => None,
    };
    if let Some(id) = &b.join {
        let target = get(store, id)?;
        check_owner(&target, b.agent.as_deref())?;
        let leaving = current.filter(|c| c.id != target.id);
        if let Some(c) = &leaving
            && !b.replace
        {
            return Err(Error::Conflict(format!(
                "you are in session {} (\"{}\"); to work {} instead, pass replace: true \
                 (your current session then ends as abandoned), or end it first with session_end",
                c.id, c.intent, target.id
            )));
        }
        let session = claim(
            store,
            id,
            &Claim {
                agent: b.agent.as_deref(),
                process: &process,
                intent: b.intent.as_deref(),
                role: b.role.as_deref(),
            },
        )?;
        if let Some(c) = leaving {
            let reason = format!("superseded by {}", session.id);
            let request = EndRequest {
                status: Some(EndStatus::Abandoned),
                reason: Some(reason),
            };
            end(store, &c.id, &request, &c.agent)?;
        }
        let note = format!("joined session {}", session.id);
        return Ok(Begun { session, note });
    }
    if let Some(current) = current.filter(|_| !b.replace) {
        if b.parent
            .as_ref()
            .is_some_and(|p| current.parent.as_deref() != Some(p.as_str()))
        {
            return Err(Error::Conflict(format!(
                "you are already in session {} (parent {}); a parent can only be given to a new \
                 session: pass replace: true to end this one and start another",
                current.id,
                current.parent.as_deref().unwrap_or("none")
            )));
        }
        let session = if b.intent.is_some() || b.role.is_some() {
            let change = SessionUpdate {
                intent: b.intent.clone(),
                role: b.role.clone(),
            };
            update(store, &current.id, &change, &current.agent)?
        } else {
            current
        };
        let note = format!(
            "continuing your session {} (not a new one; to start a separate session pass replace: true)",
            session.id
        );
        return Ok(Begun { session, note });
    }
    let Some(agent) = b.agent.clone() else {
        return Err(Error::NoIdentity(
            "give agent: your agent name (a-z, 0-9, '_' or '-'), e.g. \"claude\"".into(),
        ));
    };
    let Some(intent) = b.intent.clone() else {
        return Err(Error::Invalid(
            "give intent: one sentence on what you will do".into(),
        ));
    };
    let session = start(
        store,
        &NewSession {
            agent,
            role: b.role.clone(),
            intent,
            parent: b.parent.clone(),
            process: Some(process),
            supersedes: b.current.clone(),
        },
    )?;
    let note = match &b.current {
        Some(old) if b.replace => format!("started session {} (replacing {old})", session.id),
        _ => format!("started session {}", session.id),
    };
    Ok(Begun { session, note })
}

/// Spawns a subtask: a child session of `parent` (the caller's session), to be worked by
/// `child.agent`. The child is unclaimed until that agent's process claims it.
pub fn spawn(store: &mut Store, parent: &str, child: &NewSession, actor: &str) -> Result<Session> {
    let (intent, role) = validate(child)?;
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let parent = lookup(tx, parent, cutoff)?;
        require_open(&parent, "spawn from")?;
        let draft = SessionDraft {
            agent: child.agent.clone(),
            role,
            intent,
            parent: Some(parent.id),
            forked_from: None,
            process: child.process.clone(),
        };
        insert(tx, draft, actor, Timestamp::now(), cutoff)
    })
}

/// Forks `from` (any status): a sibling with the same parent that records `forked_from`,
/// to try an alternative approach.
pub fn fork(store: &mut Store, from: &str, alt: &NewSession, actor: &str) -> Result<Session> {
    let (intent, role) = validate(alt)?;
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let source = lookup(tx, from, cutoff)?;
        let draft = SessionDraft {
            agent: alt.agent.clone(),
            role: role.or(source.role),
            intent,
            parent: source.parent,
            forked_from: Some(source.id),
            process: alt.process.clone(),
        };
        insert(tx, draft, actor, Timestamp::now(), cutoff)
    })
}

/// Attaches the serving `process` to an existing open session (e.g. one spawned for its
/// agent), so its liveness follows that process. `agent`, when known, must own the
/// session; `None` means "whoever owns it". A session still served by another live
/// process is refused. `intent` and `role`, if given, replace the session's.
pub fn claim(store: &mut Store, id: &str, claim: &Claim<'_>) -> Result<Session> {
    let intent = claim
        .intent
        .map(|i| check_text("intent", i, MAX_INTENT_LEN))
        .transpose()?;
    if let Some(role) = claim.role {
        agent::validate_role(role)?;
    }
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let session = lookup(tx, id, cutoff)?;
        require_open(&session, "claim")?;
        check_owner(&session, claim.agent)?;
        if let Some(serving) = &session.process
            && serving != claim.process
            && session.status == Status::Active
        {
            return Err(Error::Conflict(format!(
                "session {} is already served by live process {} on {}; \
                 a session is worked by one process at a time",
                session.id, serving.pid, serving.host
            )));
        }
        let now = Timestamp::now();
        tx.claim_session(
            &session.id,
            claim.process,
            intent.as_deref(),
            claim.role,
            client_of(claim.process),
            now,
        )?;
        agent::touch(tx, &session.agent, now)?;
        let claimed = fetch(tx, &session.id, cutoff)?;
        event::append(
            tx,
            Kind::SessionClaimed,
            Some(&session.agent),
            &claimed,
            now,
        )?;
        Ok(claimed)
    })
}

/// What [`claim`] attaches.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The claiming agent, when known; must own the session.
    pub agent: Option<&'a str>,
    /// The serving process; the session's liveness follows it from now on.
    pub process: &'a ProcessInfo,
    /// Replaces the session's intent when given (trimmed; not empty, at most 4000
    /// characters).
    pub intent: Option<&'a str>,
    /// Replaces the session's role when given (same characters as agent names).
    pub role: Option<&'a str>,
}

/// Refuses `agent` acting on a session it does not own (`None`: no one in particular).
fn check_owner(session: &Session, agent: Option<&str>) -> Result<()> {
    match agent {
        Some(agent) if agent != session.agent => Err(Error::Conflict(format!(
            "session {} belongs to agent '{}', not '{agent}'; act only on your own sessions. \
             To work it as '{}', start a server for that agent: `switchboard mcp --session {}` \
             (without --agent), or `switchboard mcp` inside its worktree.",
            session.id, session.agent, session.agent, session.id
        ))),
        _ => Ok(()),
    }
}

/// Records a heartbeat by the session's own agent: the session (and its agent) was seen
/// now, and, when given, the work it is doing replaces what it reported before. When
/// `process` differs from the one recorded (the agent restarted), the session follows the
/// new process.
pub fn heartbeat(
    store: &mut Store,
    id: &str,
    agent: &str,
    process: Option<&ProcessInfo>,
    work: Option<&WorkContext>,
) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let session = lookup(tx, id, cutoff)?;
        require_open(&session, "heartbeat")?;
        check_owner(&session, Some(agent))?;
        let now = Timestamp::now();
        tx.heartbeat_session(&session.id, now, process)?;
        agent::touch(tx, &session.agent, now)?;
        let moved = process.is_some_and(|p| session.process.as_ref() != Some(p));
        let mut changed = moved;
        if let Some(work) = work {
            changed |= work_changed(tx, &session, work)?;
            tx.record_session_work(&session.id, work, now)?;
            let before = session.work.as_ref().map_or(0, |w| w.unmerged);
            // Told once, when the first commits are ready (not on every later commit).
            if before == 0 && work.unmerged > 0 && work.files.iter().all(|f| !f.uncommitted) {
                let body = format!(
                    "{}'s worktree {} (branch {}) has {} commit(s) not yet merged, nothing uncommitted. \
                     Review with worktree_diff {{name: \"{}\"}}, merge with worktree_merge.",
                    session.agent, work.worktree, work.branch, work.unmerged, work.worktree
                );
                let subject = format!("{} has commits ready to merge", work.worktree);
                tell_parent(tx, &session, agent, &subject, &body, Priority::Normal, now)?;
            }
        }
        // Only a change is news: an unchanged heartbeat wakes nobody.
        if changed {
            let payload = event::Heartbeat {
                session: session.id.clone(),
                files: work.map(|w| w.files.len()),
            };
            event::append(tx, Kind::SessionHeartbeat, Some(agent), &payload, now)?;
        }
        fetch(tx, &session.id, cutoff)
    })
}

/// Updates `last_seen_at` of an open session and its agent, without an event: this is
/// bookkeeping done on every tool call, not a change anyone needs to be told about.
pub fn touch(store: &mut Store, id: &str) -> Result<()> {
    store.write(|tx| tx.touch_session(id, Timestamp::now()))
}

/// Fields `update` may change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    /// New intent (trimmed; not empty, at most 4000 characters).
    pub intent: Option<String>,
    /// New role (same characters as agent names).
    pub role: Option<String>,
}

/// Changes an open session's intent and/or role.
pub fn update(store: &mut Store, id: &str, change: &SessionUpdate, actor: &str) -> Result<Session> {
    let intent = change
        .intent
        .as_deref()
        .map(|i| check_text("intent", i, MAX_INTENT_LEN))
        .transpose()?;
    if let Some(role) = &change.role {
        agent::validate_role(role)?;
    }
    if intent.is_none() && change.role.is_none() {
        return Err(Error::Invalid(
            "nothing to update: give intent and/or role".into(),
        ));
    }
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let session = lookup(tx, id, cutoff)?;
        require_open(&session, "update")?;
        permission::update_session(actor, &session.id, &session.agent)?;
        let now = Timestamp::now();
        tx.update_session(&session.id, intent.as_deref(), change.role.as_deref(), now)?;
        let updated = fetch(tx, &session.id, cutoff)?;
        event::append(tx, Kind::SessionUpdated, Some(actor), &updated, now)?;
        Ok(updated)
    })
}

/// How to end a session: the request every surface hands to [`end`] (MCP and LSP read it
/// as part of their arguments). Without a status, [`EndStatus::default_for`] decides.
/// Field docs are the descriptions agents see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EndRequest {
    /// Default: completed for your own session, abandoned for another's.
    #[serde(default)]
    pub status: Option<EndStatus>,
    /// Why, briefly.
    #[serde(default)]
    pub reason: Option<String>,
}

impl EndRequest {
    /// Ending with `status` and no reason.
    pub fn with(status: EndStatus) -> EndRequest {
        EndRequest {
            status: Some(status),
            reason: None,
        }
    }
}

/// Ends an open session as `request` says, by `actor`.
pub fn end(store: &mut Store, id: &str, request: &EndRequest, actor: &str) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    let (status, reason) = (request.status, request.reason.as_deref());
    store.write(|tx| {
        let session = lookup(tx, id, cutoff)?;
        let parent = permission::parent_agent(tx, &session.id)?;
        permission::end_session(actor, &session.id, &session.agent, parent.as_deref())?;
        let status = status.unwrap_or_else(|| EndStatus::default_for(&session.agent, actor));
        close(
            tx,
            &session,
            status,
            reason,
            actor,
            Timestamp::now(),
            cutoff,
        )
    })
}

/// Ends a session its creator just made as `abandoned` with `reason`, whoever owns it
/// (e.g. a spawned session whose worktree could not be created).
pub(crate) fn abandon(store: &mut Store, id: &str, reason: &str, actor: &str) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    store.write(|tx| {
        let session = lookup(tx, id, cutoff)?;
        close(
            tx,
            &session,
            EndStatus::Abandoned,
            Some(reason),
            actor,
            Timestamp::now(),
            cutoff,
        )
    })
}

/// Ends `session` inside a transaction and writes `session.ended`; its claims end with it.
fn close(
    tx: &Tx<'_>,
    session: &Session,
    status: EndStatus,
    reason: Option<&str>,
    actor: &str,
    now: Timestamp,
    cutoff: Timestamp,
) -> Result<Session> {
    require_open(session, "end")?;
    let reason_text = reason.map(str::trim).filter(|r| !r.is_empty());
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| check_text("reason", r, MAX_REASON_LEN))
        .transpose()?;
    tx.end_session(&session.id, status, reason.as_deref(), now)?;
    let ended = fetch(tx, &session.id, cutoff)?;
    event::append(tx, Kind::SessionEnded, Some(actor), &ended, now)?;
    release_claims(tx, &ended, actor, now)?;
    let mut body = format!(
        "{}'s session {} (\"{}\") ended {}",
        ended.agent, ended.id, ended.intent, ended.status
    );
    if let Some(reason) = reason_text {
        body.push_str(&format!(": {reason}"));
    }
    body.push('.');
    if let Some(w) = &ended.worktree {
        let unmerged = match &ended.work {
            Some(work) => format!(" had {} unmerged commit(s) when last seen;", work.unmerged),
            None => String::new(),
        };
        body.push_str(&format!(
            " Its worktree {} (branch {}){unmerged} worktree_diff to review, worktree_merge to \
             merge, worktree_remove when done.",
            w.name, w.branch
        ));
    }
    let subject = format!("{} ended {}", ended.agent, ended.status);
    tell_parent(tx, &ended, actor, &subject, &body, Priority::Normal, now)?;
    Ok(ended)
}

/// Releases every claim on paths `session` held (the claim module's rule: claims end with
/// their session, in the transaction that ends it), with a `claim.released` event when
/// there were any.
fn release_claims(tx: &Tx<'_>, session: &Session, actor: &str, now: Timestamp) -> Result<()> {
    let released = tx.delete_session_claims(&session.id)?;
    if released.is_empty() {
        return Ok(());
    }
    let (ids, patterns) = released.into_iter().unzip();
    let payload = event::ClaimsChanged {
        agent: session.agent.clone(),
        session: Some(session.id.clone()),
        ids,
        patterns,
        expires_at: None,
        taken_over: Vec::new(),
        why: Some("session ended".into()),
    };
    event::append(tx, Kind::ClaimReleased, Some(actor), &payload, now)?;
    Ok(())
}

/// Tells the agent of `session`'s parent session about it with a notice from Switchboard
/// (so a lead learns what its children do without polling), unless that agent is the
/// `actor` (it knows) or the session's own agent.
pub(crate) fn tell_parent(
    tx: &Tx<'_>,
    session: &Session,
    actor: &str,
    subject: &str,
    body: &str,
    priority: Priority,
    now: Timestamp,
) -> Result<()> {
    let Some(parent) = permission::parent_agent(tx, &session.id)? else {
        return Ok(());
    };
    if parent == actor || parent == session.agent {
        return Ok(());
    }
    let refs = vec![Reference {
        kind: RefKind::Session,
        target: session.id.clone(),
        lines: None,
    }];
    message::notice(tx, &parent, subject, body, priority, refs, now)?;
    Ok(())
}
