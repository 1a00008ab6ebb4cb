//! Reading sessions: one by id or prefix, a filtered page, and the live session of an
//! agent client's process.

use rusqlite::{OptionalExtension, ToSql, named_params};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    COLUMNS, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, Session, Status, attach, fetch, from_row, lookup,
};
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
