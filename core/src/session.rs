//! Sessions: periods of work by one agent, with their genealogy.
//!
//! `spawn` makes a child (a subtask, `parent` = the spawning session); `fork` makes a
//! sibling that records `forked_from` (an alternative approach from the same point).
//! An active session is reported `stale` when its serving process is gone or its last
//! heartbeat is older than [`crate::Settings::stale_after`]; that is computed on read,
//! never written.

use std::fmt;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, named_params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::agent::{self, Registration};
use crate::clock::Timestamp;
use crate::event::{self, Kind};
use crate::id::{self, IdKind, new_id};
use crate::message::{self, Priority, RefKind, Reference};
use crate::permission;
use crate::process::{self, ProcessInfo};
use crate::{Error, Result, Store};

const MAX_INTENT_LEN: usize = 4000;
const MAX_REASON_LEN: usize = 4000;
/// Default and maximum number of sessions one list returns.
pub const DEFAULT_LIST_LIMIT: u32 = 50;
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Default and maximum depth of a genealogy walk, up and down.
pub const DEFAULT_TREE_DEPTH: u32 = 32;
pub const MAX_TREE_DEPTH: u32 = 256;
const MAX_TREE_NODES: u32 = 1000;

/// A session's reported status. `stale` is computed: an active session whose process is
/// gone or whose heartbeat is too old.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Stale,
    Completed,
    Failed,
    Abandoned,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    Completed,
    Failed,
    Abandoned,
}

impl EndStatus {
    /// How a session ends when the caller does not say: `completed` when its own agent
    /// ends it (its work is done), `abandoned` when someone else does (a human, its
    /// parent's agent: the work was stopped, not finished). Every surface uses this.
    pub fn default_for(session_agent: &str, actor: &str) -> EndStatus {
        if session_agent == actor {
            EndStatus::Completed
        } else {
            EndStatus::Abandoned
        }
    }
}

impl Status {
    /// The lowercase name used in the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Stale => "stale",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            Status::Active,
            Status::Stale,
            Status::Completed,
            Status::Failed,
            Status::Abandoned,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "unknown status '{s}': use active, stale, completed, failed or abandoned"
            ))
        })
    }
}

impl From<EndStatus> for Status {
    fn from(e: EndStatus) -> Self {
        match e {
            EndStatus::Completed => Status::Completed,
            EndStatus::Failed => Status::Failed,
            EndStatus::Abandoned => Status::Abandoned,
        }
    }
}

impl FromStr for EndStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "completed" => Ok(EndStatus::Completed),
            "failed" => Ok(EndStatus::Failed),
            "abandoned" => Ok(EndStatus::Abandoned),
            _ => Err(Error::Invalid(format!(
                "unknown end status '{s}': use completed, failed or abandoned"
            ))),
        }
    }
}

/// A session as reported to callers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Session {
    pub id: String,
    pub agent: String,
    pub role: Option<String>,
    pub intent: String,
    pub status: Status,
    /// Why an active session is reported stale.
    pub stale_reason: Option<String>,
    pub parent: Option<String>,
    pub forked_from: Option<String>,
    pub end_reason: Option<String>,
    /// The process serving the session; null until an agent process claims it.
    pub process: Option<ProcessInfo>,
    pub started_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    /// The session's worktree, when it has one.
    pub worktree: Option<WorktreeRef>,
    /// What it is changing, as of its last heartbeat in a worktree.
    pub work: Option<WorkSummary>,
}

/// Where a session works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorktreeRef {
    pub name: String,
    pub path: String,
    pub branch: String,
    pub port: u16,
}

/// The work a session reported on its last heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkSummary {
    pub branch: Option<String>,
    pub head: Option<String>,
    /// Commits not yet on the base.
    pub unmerged: u32,
    pub changed_files: u32,
    pub uncommitted_files: u32,
    pub updated_at: Timestamp,
}

/// Fills in the worktree and work summary of a loaded session.
fn attach(conn: &Connection, session: &mut Session) -> Result<()> {
    session.worktree = conn
        .prepare_cached("SELECT name, path, branch, port FROM worktrees WHERE session_id = ?1 ORDER BY created_at LIMIT 1")?
        .query_row([&session.id], |r| Ok(WorktreeRef { name: r.get(0)?, path: r.get(1)?, branch: r.get(2)?, port: r.get(3)? }))
        .optional()?;
    session.work = conn
        .prepare_cached(
            "SELECT branch, head, unmerged, updated_at,
                    (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id),
                    (SELECT COUNT(*) FROM work_files f WHERE f.session_id = c.session_id AND f.uncommitted)
             FROM work_context c WHERE session_id = ?1",
        )?
        .query_row([&session.id], |r| {
            Ok(WorkSummary {
                branch: r.get(0)?,
                head: r.get(1)?,
                unmerged: r.get(2)?,
                updated_at: Timestamp(r.get(3)?),
                changed_files: r.get(4)?,
                uncommitted_files: r.get(5)?,
            })
        })
        .optional()?;
    Ok(())
}

impl Session {
    /// Active and not stale.
    pub fn is_live(&self) -> bool {
        self.status == Status::Active
    }
}

/// Computes the reported status and stale reason from stored values.
fn judge(
    stored: &str,
    process: Option<&ProcessInfo>,
    last_seen: Timestamp,
    cutoff: Timestamp,
) -> (Status, Option<String>) {
    let status = match stored {
        "completed" => Status::Completed,
        "failed" => Status::Failed,
        "abandoned" => Status::Abandoned,
        _ => Status::Active,
    };
    if status != Status::Active {
        return (status, None);
    }
    let process = process.map(|p| (p.host.as_str(), p.pid));
    match crate::liveness::stale_reason(process, last_seen, cutoff) {
        Some(reason) => (Status::Stale, Some(reason)),
        None => (Status::Active, None),
    }
}

const COLUMNS: &str = "id, agent, role, intent, status, parent_id, forked_from, end_reason, pid, host, started_at, last_seen_at, ended_at";

/// Reads a session from a row whose [`COLUMNS`] start at index `at`.
fn from_row(r: &Row<'_>, at: usize, cutoff: Timestamp) -> rusqlite::Result<Session> {
    let stored: String = r.get(at + 4)?;
    let pid: Option<u32> = r.get(at + 8)?;
    let host: Option<String> = r.get(at + 9)?;
    let process = pid.zip(host).map(|(pid, host)| ProcessInfo { pid, host });
    let last_seen_at = Timestamp(r.get(at + 11)?);
    let (status, stale_reason) = judge(&stored, process.as_ref(), last_seen_at, cutoff);
    Ok(Session {
        id: r.get(at)?,
        agent: r.get(at + 1)?,
        role: r.get(at + 2)?,
        intent: r.get(at + 3)?,
        status,
        stale_reason,
        parent: r.get(at + 5)?,
        forked_from: r.get(at + 6)?,
        end_reason: r.get(at + 7)?,
        process,
        started_at: Timestamp(r.get(at + 10)?),
        last_seen_at,
        ended_at: r.get::<_, Option<i64>>(at + 12)?.map(Timestamp),
        worktree: None,
        work: None,
    })
}

fn fetch(conn: &Connection, id: &str, cutoff: Timestamp) -> Result<Session> {
    let mut session = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"))?
        .query_row([id], |r| from_row(r, 0, cutoff))
        .optional()?
        .ok_or_else(|| Error::NotFound {
            kind: crate::error::Record::Session,
            id: id.to_string(),
        })?;
    attach(conn, &mut session)?;
    Ok(session)
}

/// Resolves an id or unique prefix and loads the session.
fn lookup(conn: &Connection, id_or_prefix: &str, cutoff: Timestamp) -> Result<Session> {
    let id = id::resolve(conn, IdKind::Session, id_or_prefix)?;
    fetch(conn, &id, cutoff)
}

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

/// The live session served for the agent client that is an ancestor of the local process
/// `pid` (nearest first): how a hook run by that client finds its agent's session.
pub fn of_client(store: &mut Store, pid: u32) -> Result<Option<Session>> {
    let cutoff = store.stale_cutoff();
    let host = process::this_host();
    store.read(|tx| {
        let mut find = tx.prepare_cached(&format!(
            "SELECT id FROM sessions s WHERE s.host = :host AND s.client_pid = :client AND {}
             ORDER BY s.last_seen_at DESC LIMIT 1",
            crate::liveness::condition("s.")
        ))?;
        for ancestor in process::ancestors(pid) {
            let found: Option<String> = find
                .query_row(
                    named_params! {":host": host, ":client": ancestor, ":cutoff": cutoff.millis()},
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = found {
                return fetch(tx, &id, cutoff).map(Some);
            }
        }
        Ok(None)
    })
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
    pub agent: String,
    pub role: Option<String>,
    pub intent: String,
    /// The parent session (id or unique prefix); must be active.
    pub parent: Option<String>,
    /// The serving process, when the caller is the agent's own process.
    pub process: Option<ProcessInfo>,
    /// An open session this one replaces: it is ended `abandoned` in the same transaction.
    pub supersedes: Option<String>,
}

/// The validated row of a session about to be created.
struct Draft {
    agent: String,
    role: Option<String>,
    intent: String,
    parent: Option<String>,
    forked_from: Option<String>,
    process: Option<ProcessInfo>,
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
    conn: &Connection,
    draft: Draft,
    actor: &str,
    now: Timestamp,
    cutoff: Timestamp,
) -> Result<Session> {
    // The agent's role follows the role it last declared for a session.
    agent::ensure(
        conn,
        &Registration {
            name: draft.agent.clone(),
            role: draft.role.clone(),
            description: None,
        },
        actor,
        now,
    )?;
    let id = new_id(IdKind::Session);
    conn.prepare_cached(
        "INSERT INTO sessions (id, agent, role, intent, parent_id, forked_from, status, pid, host, client_pid, started_at, last_seen_at)
         VALUES (:id, :agent, :role, :intent, :parent, :forked_from, 'active', :pid, :host, :client, :now, :now)",
    )?
    .execute(named_params! {
        ":id": id, ":agent": draft.agent, ":role": draft.role, ":intent": draft.intent,
        ":parent": draft.parent, ":forked_from": draft.forked_from,
        ":pid": draft.process.as_ref().map(|p| p.pid), ":host": draft.process.as_ref().map(|p| &p.host),
        ":client": draft.process.as_ref().and_then(client_of),
        ":now": now.millis(),
    })?;
    let session = fetch(conn, &id, cutoff)?;
    event::append(conn, Kind::SessionStarted, Some(actor), &session, now)?;
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
        let draft = Draft {
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
    pub intent: Option<String>,
    pub role: Option<String>,
    /// Parent of a new session.
    pub parent: Option<String>,
    /// Start a new session even though `current` is open (ending it `abandoned`).
    pub replace: bool,
}

/// How [`begin`] went.
#[derive(Debug, Clone)]
pub struct Begun {
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
            end(store, &c.id, EndStatus::Abandoned, Some(&reason), &c.agent)?;
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
        let draft = Draft {
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
        let draft = Draft {
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
        tx.prepare_cached(
            "UPDATE sessions SET pid = ?2, host = ?3, last_seen_at = ?4,
                 intent = COALESCE(?5, intent), role = COALESCE(?6, role), client_pid = ?7 WHERE id = ?1",
        )?
        .execute((
            &session.id,
            claim.process.pid,
            &claim.process.host,
            now.millis(),
            &intent,
            claim.role,
            client_of(claim.process),
        ))?;
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
    pub process: &'a ProcessInfo,
    pub intent: Option<&'a str>,
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

/// The work a session's worktree holds, recorded on heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkContext {
    pub worktree: String,
    pub branch: String,
    pub head: String,
    pub unmerged: u32,
    pub files: Vec<crate::worktree::ChangedFile>,
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
        tx.prepare_cached(
            "UPDATE sessions SET last_seen_at = ?2, pid = COALESCE(?3, pid), host = COALESCE(?4, host) WHERE id = ?1",
        )?
        .execute((&session.id, now.millis(), process.map(|p| p.pid), process.map(|p| &p.host)))?;
        agent::touch(tx, &session.agent, now)?;
        let moved = process.is_some_and(|p| session.process.as_ref() != Some(p));
        let mut changed = moved;
        if let Some(work) = work {
            changed |= work_changed(tx, &session, work)?;
            record_work(tx, &session.id, work, now)?;
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

/// Whether `work` differs from what `session` last recorded (head, unmerged count, or any
/// file's change).
fn work_changed(conn: &Connection, session: &Session, work: &WorkContext) -> Result<bool> {
    let Some(before) = &session.work else {
        return Ok(true);
    };
    if before.head.as_deref() != Some(work.head.as_str()) || before.unmerged != work.unmerged {
        return Ok(true);
    }
    let recorded: Vec<(String, u32, u32, bool)> = conn
        .prepare_cached(
            "SELECT path, added, removed, uncommitted FROM work_files WHERE session_id = ?1 ORDER BY path",
        )?
        .query_map([&session.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut now: Vec<(String, u32, u32, bool)> = work
        .files
        .iter()
        .map(|f| (f.path.clone(), f.added, f.removed, f.uncommitted))
        .collect();
    now.sort();
    Ok(recorded != now)
}

fn record_work(conn: &Connection, session: &str, work: &WorkContext, now: Timestamp) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO work_context (session_id, worktree, branch, head, unmerged, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (session_id) DO UPDATE SET worktree = excluded.worktree, branch = excluded.branch,
             head = excluded.head, unmerged = excluded.unmerged, updated_at = excluded.updated_at",
    )?
    .execute((session, &work.worktree, &work.branch, &work.head, work.unmerged, now.millis()))?;
    conn.prepare_cached("DELETE FROM work_files WHERE session_id = ?1")?
        .execute([session])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO work_files (session_id, path, added, removed, uncommitted) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for f in &work.files {
        insert.execute((session, &f.path, f.added, f.removed, f.uncommitted))?;
    }
    Ok(())
}

/// A session changing a file right now (as of its last heartbeat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holder {
    pub session: String,
    pub agent: String,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    pub added: Option<u32>,
    pub removed: Option<u32>,
    pub uncommitted: bool,
    pub live: bool,
    pub reported_at: Timestamp,
}

/// Which open sessions are changing `path` (repository-relative), per their latest heartbeat.
pub fn who_has(store: &mut Store, path: &str) -> Result<Vec<Holder>> {
    let path = crate::input::repo_path(path)?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let sql = format!(
            "SELECT s.id, s.agent, c.worktree, c.branch, f.added, f.removed, f.uncommitted, {live}, c.updated_at
             FROM work_files f JOIN sessions s ON s.id = f.session_id JOIN work_context c ON c.session_id = f.session_id
             WHERE f.path = :path AND s.status = 'active' ORDER BY c.updated_at DESC",
            live = crate::liveness::condition("s.")
        );
        let holders = tx
            .prepare_cached(&sql)?
            .query_map(named_params! {":path": path, ":cutoff": cutoff.millis()}, |r| {
                Ok(Holder {
                    session: r.get(0)?,
                    agent: r.get(1)?,
                    worktree: r.get(2)?,
                    branch: r.get(3)?,
                    added: r.get(4)?,
                    removed: r.get(5)?,
                    uncommitted: r.get(6)?,
                    live: r.get(7)?,
                    reported_at: Timestamp(r.get(8)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(holders)
    })
}

/// The files `session` has changed (as of its last activity) that other live sessions
/// are changing too, each with those sessions' agents; in path order.
pub fn shared_files(store: &mut Store, session: &str) -> Result<Vec<(String, Vec<String>)>> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let sql = format!(
            "SELECT mine.path, s.agent FROM work_files mine
             JOIN work_files theirs ON theirs.path = mine.path AND theirs.session_id <> mine.session_id
             JOIN sessions s ON s.id = theirs.session_id
             WHERE mine.session_id = :session AND {live}
             ORDER BY mine.path, s.agent",
            live = crate::liveness::condition("s.")
        );
        let mut shared: Vec<(String, Vec<String>)> = Vec::new();
        let rows = tx
            .prepare_cached(&sql)?
            .query_map(named_params! {":session": session, ":cutoff": cutoff.millis()}, |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (path, agent) in rows {
            match shared.last_mut() {
                Some((last, agents)) if *last == path => {
                    if !agents.contains(&agent) {
                        agents.push(agent);
                    }
                }
                _ => shared.push((path, vec![agent])),
            }
        }
        Ok(shared)
    })
}

/// Updates `last_seen_at` of an open session and its agent, without an event: this is
/// bookkeeping done on every tool call, not a change anyone needs to be told about.
pub fn touch(store: &mut Store, id: &str) -> Result<()> {
    store.write(|tx| {
        let now = Timestamp::now();
        let changed = tx
            .prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1 AND status = 'active'")?
            .execute((id, now.millis()))?;
        if changed > 0 {
            tx.prepare_cached("UPDATE agents SET last_seen_at = ?2 WHERE name = (SELECT agent FROM sessions WHERE id = ?1)")?
                .execute((id, now.millis()))?;
        }
        Ok(())
    })
}

/// Fields `update` may change; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    pub intent: Option<String>,
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
        tx.prepare_cached(
            "UPDATE sessions SET intent = COALESCE(?2, intent), role = COALESCE(?3, role), last_seen_at = ?4 WHERE id = ?1",
        )?
        .execute((&session.id, &intent, &change.role, now.millis()))?;
        let updated = fetch(tx, &session.id, cutoff)?;
        event::append(tx, Kind::SessionUpdated, Some(actor), &updated, now)?;
        Ok(updated)
    })
}

/// Ends an open session with `status` and an optional reason.
pub fn end(
    store: &mut Store,
    id: &str,
    status: impl Into<Option<EndStatus>>,
    reason: Option<&str>,
    actor: &str,
) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    let status = status.into();
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

/// Ends `session` inside a transaction and writes `session.ended`.
fn close(
    conn: &Connection,
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
    conn.prepare_cached(
        "UPDATE sessions SET status = ?2, end_reason = ?3, ended_at = ?4 WHERE id = ?1",
    )?
    .execute((
        &session.id,
        Status::from(status).as_str(),
        &reason,
        now.millis(),
    ))?;
    let ended = fetch(conn, &session.id, cutoff)?;
    event::append(conn, Kind::SessionEnded, Some(actor), &ended, now)?;
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
    tell_parent(conn, &ended, actor, &subject, &body, Priority::Normal, now)?;
    Ok(ended)
}

/// Tells the agent of `session`'s parent session about it with a notice from Switchboard
/// (so a lead learns what its children do without polling), unless that agent is the
/// `actor` (it knows) or the session's own agent.
pub(crate) fn tell_parent(
    conn: &Connection,
    session: &Session,
    actor: &str,
    subject: &str,
    body: &str,
    priority: Priority,
    now: Timestamp,
) -> Result<()> {
    let Some(parent) = permission::parent_agent(conn, &session.id)? else {
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
    message::notice(conn, &parent, subject, body, priority, refs, now)?;
    Ok(())
}

/// One session by id or unique prefix.
pub fn get(store: &mut Store, id_or_prefix: &str) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| lookup(tx, id_or_prefix, cutoff))
}

/// Which sessions `list` returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub agent: Option<String>,
    pub status: Option<Status>,
    /// Only active, non-stale sessions.
    pub live_only: bool,
    /// Children of this session (id or unique prefix).
    pub parent: Option<String>,
    /// At most this many (default [`DEFAULT_LIST_LIMIT`], capped at [`MAX_LIST_LIMIT`]).
    pub limit: Option<u32>,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    /// More sessions matched than were returned.
    pub truncated: bool,
}

/// Sessions matching `filter`, newest first.
pub fn list(store: &mut Store, filter: &Filter) -> Result<SessionPage> {
    if let Some(agent) = &filter.agent {
        agent::validate_name(agent)?;
    }
    let limit = crate::page::size(filter.limit, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, "limit")?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let mut conditions = Vec::new();
        let mut values: Vec<(&str, Box<dyn ToSql>)> = vec![
            (":cutoff", Box::new(cutoff.millis())),
            (":limit", Box::new(i64::from(limit) + 1)),
        ];
        if let Some(agent) = &filter.agent {
            conditions.push("agent = :agent".to_string());
            values.push((":agent", Box::new(agent.clone())));
        }
        if let Some(parent) = &filter.parent {
            let parent = id::resolve(tx, IdKind::Session, parent)?;
            conditions.push("parent_id = :parent".to_string());
            values.push((":parent", Box::new(parent)));
        }
        match filter.status {
            Some(Status::Active) => conditions.push(crate::liveness::condition("")),
            Some(Status::Stale) => conditions.push(format!("status = 'active' AND NOT {}", crate::liveness::condition(""))),
            Some(ended) => {
                conditions.push("status = :status".to_string());
                values.push((":status", Box::new(ended.as_str())));
            }
            None => {}
        }
        if filter.live_only {
            conditions.push(crate::liveness::condition(""));
        }
        let filter_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions {filter_sql} ORDER BY started_at DESC, rowid DESC LIMIT :limit"
        );
        let mut stmt = tx.prepare_cached(&sql)?;
        // Bind only the parameters the statement uses (":cutoff" may be absent).
        let params: Vec<(&str, &dyn ToSql)> = values
            .iter()
            .filter(|(name, _)| sql.contains(name))
            .map(|(name, value)| (*name, value.as_ref()))
            .collect();
        let mut sessions: Vec<Session> = stmt
            .query_map(params.as_slice(), |r| from_row(r, 0, cutoff))?
            .collect::<rusqlite::Result<_>>()?;
        let truncated = sessions.len() > limit as usize;
        sessions.truncate(limit as usize);
        for session in &mut sessions {
            attach(tx, session)?;
        }
        Ok(SessionPage { sessions, truncated })
    })
}

/// One node of a genealogy, in pre-order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TreeNode {
    /// 0 for the root.
    pub depth: u32,
    pub session: Session,
}

/// The whole genealogy a session belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionTree {
    pub root: String,
    /// The session asked about.
    pub focus: String,
    /// Pre-order: every node is followed by its descendants; siblings oldest first.
    pub nodes: Vec<TreeNode>,
    /// The depth or size limit cut the genealogy short.
    pub truncated: bool,
}

/// A session and the sessions spawned or forked from it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SessionNode {
    pub session: Session,
    pub children: Vec<SessionNode>,
}

impl Session {
    /// The session this one came from: its parent, else the one it was forked from.
    pub fn origin(&self) -> Option<&str> {
        self.parent.as_deref().or(self.forked_from.as_deref())
    }
}

/// Arranges `sessions` (any set, say a page of the newest) as trees: each under the
/// session it came from ([`Session::origin`]) when that one is in the set; the others
/// are roots. Oldest first at every level. [`tree`] walks one whole genealogy in the
/// store by the same rule.
pub fn forest(mut sessions: Vec<Session>) -> Vec<SessionNode> {
    sessions.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    let present: std::collections::HashSet<String> =
        sessions.iter().map(|s| s.id.clone()).collect();
    let mut children: std::collections::HashMap<String, Vec<Session>> = Default::default();
    let mut roots = Vec::new();
    for s in sessions {
        match s
            .origin()
            .filter(|o| present.contains(*o))
            .map(str::to_string)
        {
            Some(origin) => children.entry(origin).or_default().push(s),
            None => roots.push(s),
        }
    }
    fn grow(
        s: Session,
        children: &mut std::collections::HashMap<String, Vec<Session>>,
    ) -> SessionNode {
        let kids = children.remove(&s.id).unwrap_or_default();
        SessionNode {
            children: kids.into_iter().map(|k| grow(k, children)).collect(),
            session: s,
        }
    }
    roots.into_iter().map(|r| grow(r, &mut children)).collect()
}

/// The genealogy of a session: walks up to its root (through parents, or `forked_from`
/// for a fork without parent), then down through children and forks, at most
/// `max_depth` levels each way.
pub fn tree(store: &mut Store, id_or_prefix: &str, max_depth: Option<u32>) -> Result<SessionTree> {
    let depth = crate::page::size(max_depth, DEFAULT_TREE_DEPTH, MAX_TREE_DEPTH, "max_depth")?;
    let cutoff = store.stale_cutoff();
    store.read(|tx| {
        let focus = id::resolve(tx, IdKind::Session, id_or_prefix)?;
        let (root, up_levels): (String, u32) = tx
            .prepare_cached(
                "WITH RECURSIVE up (id, next, level) AS (
                     SELECT id, COALESCE(parent_id, forked_from), 0 FROM sessions WHERE id = :focus
                     UNION ALL
                     SELECT s.id, COALESCE(s.parent_id, s.forked_from), up.level + 1
                     FROM up CROSS JOIN sessions s ON s.id = up.next WHERE up.level < :depth
                 )
                 SELECT id, level FROM up ORDER BY level DESC LIMIT 1",
            )?
            .query_row(named_params! {":focus": focus, ":depth": depth}, |r| Ok((r.get(0)?, r.get(1)?)))?;
        let root_has_more: bool = up_levels == depth
            && tx
                .prepare_cached("SELECT COALESCE(parent_id, forked_from) IS NOT NULL FROM sessions WHERE id = ?1")?
                .query_row([&root], |r| r.get(0))?;
        let mut stmt = tx.prepare_cached(&format!(
            "WITH RECURSIVE down (id, level, path) AS (
                 SELECT id, 0, printf('%016d', rowid) FROM sessions WHERE id = :root
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.parent_id = down.id WHERE down.level < :depth
                 UNION ALL
                 SELECT s.id, down.level + 1, down.path || '/' || printf('%016d', s.rowid)
                 FROM down CROSS JOIN sessions s ON s.forked_from = down.id
                 WHERE s.parent_id IS NULL AND down.level < :depth
             )
             SELECT down.level, {cols},
                 EXISTS (SELECT 1 FROM sessions c WHERE c.parent_id = down.id)
                 OR EXISTS (SELECT 1 FROM sessions c WHERE c.forked_from = down.id AND c.parent_id IS NULL)
             FROM down CROSS JOIN sessions USING (id)
             ORDER BY down.path LIMIT :limit",
            cols = COLUMNS.split(", ").map(|c| format!("sessions.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let mut truncated = root_has_more;
        let mut nodes = Vec::new();
        let rows = stmt.query_map(
            named_params! {":root": root, ":depth": depth, ":limit": MAX_TREE_NODES + 1},
            |r| {
                let level: u32 = r.get(0)?;
                let session = from_row(r, 1, cutoff)?;
                let has_children: bool = r.get(14)?;
                Ok((level, session, has_children))
            },
        )?;
        for row in rows {
            let (level, session, has_children) = row?;
            if level == depth && has_children {
                truncated = true;
            }
            let mut session = session;
            attach(tx, &mut session)?;
            nodes.push(TreeNode { depth: level, session });
        }
        if nodes.len() > MAX_TREE_NODES as usize {
            nodes.truncate(MAX_TREE_NODES as usize);
            truncated = true;
        }
        Ok(SessionTree { root, focus, nodes, truncated })
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Settings;
    use crate::store::tests::temp_store;

    fn new(agent: &str, intent: &str) -> NewSession {
        NewSession {
            agent: agent.into(),
            intent: intent.into(),
            ..Default::default()
        }
    }

    fn me() -> Option<ProcessInfo> {
        Some(ProcessInfo::current())
    }

    #[test]
    fn start_registers_the_agent_and_records_process_and_event() {
        let (_dir, mut store) = temp_store();
        let s = start(
            &mut store,
            &NewSession {
                role: Some("lead".into()),
                process: me(),
                ..new("claude", "build the thing")
            },
        )
        .unwrap();
        assert!(s.id.starts_with("ses_"));
        assert_eq!(
            (s.status, s.role.as_deref()),
            (Status::Active, Some("lead"))
        );
        assert_eq!(s.process, me());
        let agent = agent::get(&mut store, "claude").unwrap();
        assert_eq!(agent.live_sessions, 1);
        let events = store.events_after(0, 10).unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                Kind::AgentRegistered.as_str(),
                Kind::SessionStarted.as_str()
            ]
        );
        assert_eq!(events[1].change.session(), Some(s.id.as_str()));
    }

    #[test]
    fn refused_starts_leave_nothing_behind() {
        let (_dir, mut store) = temp_store();
        assert!(matches!(
            start(&mut store, &new("Bad Name", "x")),
            Err(Error::Invalid(_))
        ));
        assert!(
            start(&mut store, &new("ok", "   "))
                .unwrap_err()
                .to_string()
                .contains("intent is empty")
        );
        let orphan = NewSession {
            parent: Some("ses_0000".into()),
            ..new("ok", "child")
        };
        assert!(matches!(
            start(&mut store, &orphan),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(store.latest_event_seq().unwrap(), 0);
        assert!(
            agent::list(&mut store).unwrap().is_empty(),
            "the agent of a refused start is not registered"
        );
    }

    #[test]
    fn lifecycle_heartbeat_update_end() {
        let (_dir, mut store) = temp_store();
        let s = start(
            &mut store,
            &NewSession {
                process: me(),
                ..new("codex", "first idea")
            },
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let beat = heartbeat(&mut store, &s.id, "codex", None, None).unwrap();
        assert!(beat.last_seen_at > s.last_seen_at);
        let changed = update(
            &mut store,
            &s.id[..10],
            &SessionUpdate {
                intent: Some("better idea".into()),
                role: None,
            },
            "codex",
        )
        .unwrap();
        assert_eq!(changed.intent, "better idea");
        assert!(update(&mut store, &s.id, &SessionUpdate::default(), "codex").is_err());
        let ended = end(
            &mut store,
            &s.id,
            EndStatus::Failed,
            Some("tests never passed"),
            "codex",
        )
        .unwrap();
        assert_eq!(
            (ended.status, ended.end_reason.as_deref()),
            (Status::Failed, Some("tests never passed"))
        );
        assert!(ended.ended_at.is_some());
        let again = end(&mut store, &s.id, EndStatus::Completed, None, "codex").unwrap_err();
        assert!(
            again.to_string().contains("already ended (failed"),
            "{again}"
        );
        assert!(heartbeat(&mut store, &s.id, "codex", None, None).is_err());
        assert_eq!(agent::get(&mut store, "codex").unwrap().live_sessions, 0);
    }

    /// Every surface leaves the status to the core when the caller gives none.
    #[test]
    fn an_end_without_a_status_is_completed_by_its_agent_and_abandoned_by_others() {
        let (_dir, mut store) = temp_store();
        let own = start(&mut store, &new("codex", "mine")).unwrap();
        let ended = end(&mut store, &own.id, None, None, "codex").unwrap();
        assert_eq!(ended.status, Status::Completed);
        let parent = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(
            &mut store,
            &parent.id,
            &NewSession {
                parent: Some(parent.id.clone()),
                ..new("worker", "part")
            },
            "lead",
        );
        let child = child.unwrap();
        let stopped = end(&mut store, &child.id, None, None, "lead").unwrap();
        assert_eq!(stopped.status, Status::Abandoned);
        let other = start(&mut store, &new("codex", "another")).unwrap();
        let by_human = end(&mut store, &other.id, None, None, "human:ada").unwrap();
        assert_eq!(by_human.status, Status::Abandoned);
    }

    #[test]
    fn list_filters_by_agent_status_liveness_and_parent() {
        let (_dir, mut store) = temp_store();
        let root = start(
            &mut store,
            &NewSession {
                process: me(),
                ..new("lead", "plan")
            },
        )
        .unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "part one"), "lead").unwrap();
        let done = start(&mut store, &new("worker", "old job")).unwrap();
        end(&mut store, &done.id, EndStatus::Completed, None, "worker").unwrap();
        let ids = |f: Filter, store: &mut Store| -> Vec<String> {
            list(store, &f)
                .unwrap()
                .sessions
                .into_iter()
                .map(|s| s.id)
                .collect()
        };
        assert_eq!(
            ids(Filter::default(), &mut store),
            [done.id.clone(), child.id.clone(), root.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    agent: Some("worker".into()),
                    ..Default::default()
                },
                &mut store
            ),
            [done.id.clone(), child.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    status: Some(Status::Completed),
                    ..Default::default()
                },
                &mut store
            ),
            vec![done.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    live_only: true,
                    ..Default::default()
                },
                &mut store
            ),
            [child.id.clone(), root.id.clone()]
        );
        assert_eq!(
            ids(
                Filter {
                    parent: Some(root.id.clone()),
                    ..Default::default()
                },
                &mut store
            ),
            vec![child.id.clone()]
        );
        let page = list(
            &mut store,
            &Filter {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((page.sessions.len(), page.truncated), (2, true));
    }

    #[test]
    fn a_session_whose_process_is_gone_is_reported_stale_without_rewriting_it() {
        let (_dir, mut store) = temp_store();
        let gone = process::gone();
        let s = start(
            &mut store,
            &NewSession {
                process: Some(gone),
                ..new("ghost", "vanished")
            },
        )
        .unwrap();
        assert_eq!(s.status, Status::Stale);
        assert!(s.stale_reason.as_deref().unwrap().contains("is gone"));
        let stale = list(
            &mut store,
            &Filter {
                status: Some(Status::Stale),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(stale.sessions.len(), 1);
        assert!(
            list(
                &mut store,
                &Filter {
                    live_only: true,
                    ..Default::default()
                }
            )
            .unwrap()
            .sessions
            .is_empty()
        );
        let stored: String = store
            .read(|tx| {
                Ok(
                    tx.query_row("SELECT status FROM sessions WHERE id = ?1", [&s.id], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(stored, "active", "staleness is computed, never written");
        // A stale session can still be ended explicitly.
        assert_eq!(
            end(&mut store, &s.id, EndStatus::Abandoned, None, "human:ada")
                .unwrap()
                .status,
            Status::Abandoned
        );
    }

    #[test]
    fn a_session_without_a_recent_heartbeat_is_stale_until_it_beats_again() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            stale_after: Duration::from_millis(40),
        };
        let mut store = Store::open(&dir.path().join("s.db"), settings).unwrap();
        let s = start(
            &mut store,
            &NewSession {
                process: me(),
                ..new("sleepy", "nap")
            },
        )
        .unwrap();
        assert_eq!(s.status, Status::Active);
        std::thread::sleep(Duration::from_millis(60));
        let later = get(&mut store, &s.id).unwrap();
        assert_eq!(later.status, Status::Stale);
        assert!(later.stale_reason.unwrap().contains("no heartbeat since"));
        assert_eq!(
            heartbeat(&mut store, &s.id, "sleepy", None, None)
                .unwrap()
                .status,
            Status::Active
        );
    }

    #[test]
    fn spawn_needs_an_open_parent_and_fork_keeps_the_parent() {
        let (_dir, mut store) = temp_store();
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "try A"), "lead").unwrap();
        assert_eq!(child.parent.as_deref(), Some(root.id.as_str()));
        assert!(
            child.process.is_none(),
            "a spawned session waits to be claimed"
        );
        let alt = fork(&mut store, &child.id, &new("worker-2", "try B"), "lead").unwrap();
        assert_eq!(
            (alt.parent.as_deref(), alt.forked_from.as_deref()),
            (Some(root.id.as_str()), Some(child.id.as_str()))
        );
        end(
            &mut store,
            &child.id,
            EndStatus::Failed,
            Some("A is a dead end"),
            "worker",
        )
        .unwrap();
        let alt2 = fork(&mut store, &child.id, &new("worker-3", "try C"), "lead").unwrap();
        assert_eq!(
            alt2.forked_from.as_deref(),
            Some(child.id.as_str()),
            "forking an ended session is allowed"
        );
        let err = spawn(&mut store, &child.id, &new("x", "y"), "worker").unwrap_err();
        assert!(err.to_string().contains("already ended"), "{err}");
    }

    #[test]
    fn claim_attaches_a_process_to_its_own_agents_open_session_only() {
        let (_dir, mut store) = temp_store();
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let child = spawn(&mut store, &root.id, &new("worker", "part"), "lead").unwrap();
        let me = ProcessInfo::current();
        let by = |agent| Claim {
            agent,
            process: &me,
            intent: None,
            role: None,
        };
        let stolen = claim(&mut store, &child.id, &by(Some("intruder"))).unwrap_err();
        assert!(
            stolen.to_string().contains("belongs to agent 'worker'"),
            "{stolen}"
        );
        let refined = Claim {
            intent: Some("part, refined"),
            role: Some("dev"),
            ..by(None)
        };
        let claimed = claim(&mut store, &child.id, &refined).unwrap();
        assert_eq!(claimed.process.as_ref(), Some(&me));
        assert_eq!(
            (claimed.intent.as_str(), claimed.role.as_deref()),
            ("part, refined", Some("dev"))
        );
        // Another process may not take over a session this live process serves…
        let other = ProcessInfo {
            pid: me.pid + 1,
            host: me.host.clone(),
        };
        let taken = claim(
            &mut store,
            &child.id,
            &Claim {
                process: &other,
                ..by(Some("worker"))
            },
        )
        .unwrap_err();
        assert!(
            taken.to_string().contains("already served by live process"),
            "{taken}"
        );
        // …but may take over one whose process is gone.
        let dead = process::gone();
        let orphan = start(
            &mut store,
            &NewSession {
                process: Some(dead),
                ..new("worker", "orphaned")
            },
        )
        .unwrap();
        assert_eq!(orphan.status, Status::Stale);
        let adopted = claim(&mut store, &orphan.id, &by(Some("worker"))).unwrap();
        assert_eq!(adopted.status, Status::Active);
    }

    #[test]
    fn heartbeats_come_from_the_owner_and_follow_a_restarted_process() {
        let (_dir, mut store) = temp_store();
        let me = ProcessInfo::current();
        let dead = process::gone();
        let s = start(
            &mut store,
            &NewSession {
                process: Some(dead),
                ..new("codex", "work")
            },
        )
        .unwrap();
        assert_eq!(s.status, Status::Stale);
        let err = heartbeat(&mut store, &s.id, "claude", Some(&me), None).unwrap_err();
        assert!(
            err.to_string().contains("belongs to agent 'codex'"),
            "{err}"
        );
        let beat = heartbeat(&mut store, &s.id, "codex", Some(&me), None).unwrap();
        assert_eq!(
            (beat.status, beat.process.as_ref()),
            (Status::Active, Some(&me))
        );
    }

    #[test]
    fn a_superseded_session_is_abandoned_in_the_same_transaction() {
        let (_dir, mut store) = temp_store();
        let first = start(&mut store, &new("claude", "first task")).unwrap();
        let second = start(
            &mut store,
            &NewSession {
                supersedes: Some(first.id.clone()),
                ..new("claude", "second task")
            },
        )
        .unwrap();
        let old = get(&mut store, &first.id).unwrap();
        assert_eq!(old.status, Status::Abandoned);
        assert_eq!(old.end_reason, Some(format!("superseded by {}", second.id)));
        let refused = start(
            &mut store,
            &NewSession {
                supersedes: Some("ses_0000000000".into()),
                ..new("claude", "third")
            },
        );
        assert!(refused.is_err());
        assert_eq!(
            list(&mut store, &Filter::default()).unwrap().sessions.len(),
            2,
            "the refused start left nothing"
        );
    }

    #[test]
    fn genealogy_of_twelve_levels_with_forks_in_preorder() {
        let (_dir, mut store) = temp_store();
        let root = start(&mut store, &new("a0", "level 0")).unwrap();
        let mut chain = vec![root.clone()];
        for level in 1..12 {
            let parent = chain.last().unwrap().id.clone();
            chain.push(
                spawn(
                    &mut store,
                    &parent,
                    &new(&format!("a{level}"), &format!("level {level}")),
                    "a0",
                )
                .unwrap(),
            );
        }
        let fork_of_root = fork(&mut store, &root.id, &new("alt", "other plan"), "a0").unwrap();
        let fork_mid = fork(&mut store, &chain[5].id, &new("alt", "other level 5"), "a0").unwrap();
        let deepest = chain.last().unwrap();

        let t = tree(&mut store, &deepest.id, None).unwrap();
        assert_eq!(
            (t.root.as_str(), t.focus.as_str(), t.truncated),
            (root.id.as_str(), deepest.id.as_str(), false)
        );
        assert_eq!(t.nodes.len(), 14);
        let order: Vec<(&str, u32)> = t
            .nodes
            .iter()
            .map(|n| (n.session.id.as_str(), n.depth))
            .collect();
        // Pre-order: a fork of level 5 is a child of level 4, after level 5's whole subtree.
        assert_eq!(order[0], (root.id.as_str(), 0));
        let pos = |id: &str| order.iter().position(|(i, _)| *i == id).unwrap();
        assert_eq!(
            order[pos(&fork_mid.id)].1,
            5,
            "a fork is a sibling of its source"
        );
        assert!(
            pos(&fork_mid.id) > pos(&deepest.id),
            "younger siblings come after older subtrees"
        );
        assert_eq!(
            order[pos(&fork_of_root.id)].1,
            1,
            "a parentless fork hangs under its source"
        );
        assert_eq!(order[pos(&deepest.id)].1, 11);

        let shallow = tree(&mut store, &root.id, Some(3)).unwrap();
        assert!(shallow.truncated);
        assert!(shallow.nodes.iter().all(|n| n.depth <= 3));
        let from_below = tree(&mut store, &deepest.id, Some(4)).unwrap();
        assert!(from_below.truncated, "the walk up stopped before the root");
        assert_eq!(from_below.root, chain[7].id);
    }

    #[test]
    fn tree_text_draws_guides_forks_and_focus() {
        let (_dir, mut store) = temp_store();
        let root = start(&mut store, &new("lead", "plan")).unwrap();
        let a = spawn(&mut store, &root.id, &new("w1", "part A"), "lead").unwrap();
        spawn(&mut store, &a.id, &new("w1", "part A.1"), "w1").unwrap();
        fork(&mut store, &a.id, &new("w2", "part A, other way"), "lead").unwrap();
        let t = tree(&mut store, &a.id, None).unwrap();
        let text = crate::render::tree(&t);
        let shape: Vec<String> = text
            .lines()
            .map(|l| l.split("ses_").next().unwrap().to_string())
            .collect();
        assert_eq!(shape, ["● ", "├─ ● ", "│  └─ ● ", "└─ ⑂ ● "], "{text}");
        assert!(text.lines().nth(1).unwrap().ends_with("◀"));
    }
}
