//! Agents and humans: registration, last seen, roles, in SQL.

use rusqlite::{OptionalExtension, Row, named_params};

use super::Tx;
use crate::Result;
use crate::agent::{Agent, AgentKind, Registration};
use crate::clock::Timestamp;
use crate::store::rows::AgentRows;

/// The agent columns (and the count of live sessions, with `:cutoff` bound) of the agents
/// `filter` picks.
fn select_sql(filter: &str) -> String {
    format!(
        "SELECT a.name, a.kind, a.role, a.description, a.registered_at, a.last_seen_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.agent = a.name AND {live})
         FROM agents a {filter}",
        live = super::session::condition("s.")
    )
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Agent> {
    let kind: String = r.get(1)?;
    Ok(Agent {
        name: r.get(0)?,
        kind: if kind == "human" {
            AgentKind::Human
        } else {
            AgentKind::Agent
        },
        role: r.get(2)?,
        description: r.get(3)?,
        registered_at: Timestamp(r.get(4)?),
        last_seen_at: Timestamp(r.get(5)?),
        live_sessions: r.get(6)?,
    })
}

impl AgentRows for Tx<'_> {
    fn fetch_agent_profile(&self, name: &str) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(self
            .tx
            .prepare_cached("SELECT role, description FROM agents WHERE name = ?1")?
            .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn upsert_agent(&self, reg: &Registration, kind: AgentKind, now: Timestamp) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO agents (name, kind, role, description, registered_at, last_seen_at)
         VALUES (:name, :kind, :role, :description, :now, :now)
         ON CONFLICT (name) DO UPDATE SET
             role = COALESCE(excluded.role, role),
             description = COALESCE(excluded.description, description),
             last_seen_at = excluded.last_seen_at",
            )?
            .execute(named_params! {
                ":name": reg.name, ":kind": kind.as_str(), ":role": reg.role,
                ":description": reg.description, ":now": now.millis(),
            })?;
        Ok(())
    }

    fn touch_agent(&self, name: &str, now: Timestamp) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE agents SET last_seen_at = ?2 WHERE name = ?1")?
            .execute((name, now.millis()))?;
        Ok(())
    }

    fn fetch_agent(&self, name: &str, cutoff: Timestamp) -> Result<Option<Agent>> {
        Ok(self
            .tx
            .prepare_cached(&select_sql("WHERE a.name = :name"))?
            .query_row(
                named_params! {":name": name, ":cutoff": cutoff.millis()},
                from_row,
            )
            .optional()?)
    }

    fn agent_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM agents WHERE name = ?1)")?
            .query_row([name], |r| r.get(0))?)
    }

    fn agents_with_role(&self, role: &str) -> Result<Vec<String>> {
        let names = self
            .tx
            .prepare_cached("SELECT name FROM agents WHERE role = ?1 ORDER BY name")?
            .query_map([role], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn agent_names(&self, except: &str) -> Result<Vec<String>> {
        let names = self
            .tx
            .prepare_cached(
                "SELECT name FROM agents WHERE name <> ?1 ORDER BY last_seen_at DESC, name",
            )?
            .query_map([except], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(names)
    }

    fn list_agents(&self, except: &str, cutoff: Timestamp) -> Result<Vec<Agent>> {
        let mut stmt = self.tx.prepare_cached(&select_sql(
            "WHERE a.name <> :system ORDER BY a.last_seen_at DESC, a.name",
        ))?;
        let agents = stmt
            .query_map(
                named_params! {":cutoff": cutoff.millis(), ":system": except},
                from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(agents)
    }
}
