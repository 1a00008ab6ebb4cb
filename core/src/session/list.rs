//! Reading sessions: one by id or prefix, a filtered page, and the live session of an
//! agent client's process.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Session, Status, attach, fetch, lookup};
use crate::agent;
use crate::id::{self, IdKind};
use crate::process;
use crate::{Result, Store};

/// One session by id or unique prefix.
pub fn get(store: &mut Store, id_or_prefix: &str) -> Result<Session> {
    let cutoff = store.stale_cutoff();
    store.read(|tx| lookup(tx, id_or_prefix, cutoff))
}

/// Which sessions `list` returns.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only sessions of this agent (an agent name).
    pub agent: Option<String>,
    /// Only sessions with this reported status (`active` and `stale` are judged now).
    pub status: Option<Status>,
    /// Only active, non-stale sessions.
    pub live_only: bool,
    /// Children of this session (id or unique prefix).
    pub parent: Option<String>,
    /// At most this many (default [`DEFAULT_LIST_LIMIT`]; 0 or more than [`MAX_LIST_LIMIT`]
    /// is refused).
    pub limit: Option<u32>,
}

/// A page of sessions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionPage {
    /// The matching sessions, newest first (by start), each with its worktree and work
    /// summary.
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
        let parent = match &filter.parent {
            Some(parent) => Some(id::resolve(tx, IdKind::Session, parent)?),
            None => None,
        };
        // One more than a page tells whether more matched.
        let mut sessions = tx.list_sessions(filter, parent.as_deref(), limit + 1, cutoff)?;
        let truncated = sessions.len() > limit as usize;
        sessions.truncate(limit as usize);
        for session in &mut sessions {
            attach(tx, session)?;
        }
        Ok(SessionPage {
            sessions,
            truncated,
        })
    })
}

/// The live session served for the agent client that is an ancestor of the local process
/// `pid` (nearest first): how a hook run by that client finds its agent's session.
pub fn of_client(store: &mut Store, pid: u32) -> Result<Option<Session>> {
    let cutoff = store.stale_cutoff();
    let host = process::this_host();
    let clients = process::ancestors(pid);
    store.read(|tx| match tx.session_of_client(&host, &clients, cutoff)? {
        Some(id) => fetch(tx, &id, cutoff).map(Some),
        None => Ok(None),
    })
}
