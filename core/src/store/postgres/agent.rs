//! Agents and humans: registration, last seen, roles, in SQL.

use tokio_postgres::Row;

use super::Tx;
use super::integer::narrow;
use super::session::{Live, condition};
use crate::Result;
use crate::agent::{Agent, AgentKind, Registration};
use crate::clock::Timestamp;
use crate::store::rows::AgentRows;

/// The agent columns (and the count of live sessions) of the agents `filter` picks:
/// `filter` has one parameter, `$1`; [`Live::params`] follow it.
fn select_sql(filter: &str) -> String {
    format!(
        "SELECT a.name, a.kind, a.role, a.description, a.registered_at, a.last_seen_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.agent = a.name AND {live})
         FROM agents a {filter}",
        live = condition("s.", 2)
    )
}

fn from_row(r: &Row) -> Result<Agent> {
    let kind: String = r.get(1);
    Ok(Agent {
        name: r.get(0),
        kind: if kind == "human" {
            AgentKind::Human
        } else {
            AgentKind::Agent
        },
        role: r.get(2),
        description: r.get(3),
        registered_at: Timestamp(r.get(4)),
        last_seen_at: Timestamp(r.get(5)),
        live_sessions: narrow(r, 6)?,
    })
}

impl AgentRows for Tx<'_> {
    fn fetch_agent_profile(&self, name: &str) -> Result<Option<(Option<String>, Option<String>)>> {
        Ok(self
            .query_opt(
                "SELECT role, description FROM agents WHERE name = $1",
                &[&name],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn upsert_agent(&self, reg: &Registration, kind: AgentKind, now: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO agents (name, kind, role, description, registered_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (name) DO UPDATE SET
                 role = COALESCE(excluded.role, agents.role),
                 description = COALESCE(excluded.description, agents.description),
                 last_seen_at = excluded.last_seen_at",
            &[
                &reg.name,
                &kind.as_str(),
                &reg.role,
                &reg.description,
                &now.millis(),
            ],
        )?;
        Ok(())
    }

    fn touch_agent(&self, name: &str, now: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE agents SET last_seen_at = $2 WHERE name = $1",
            &[&name, &now.millis()],
        )?;
        Ok(())
    }

    fn fetch_agent(&self, name: &str, cutoff: Timestamp) -> Result<Option<Agent>> {
        let live = Live::gather(self, cutoff)?;
        let [live_cutoff, live_host, live_pids] = live.params();
        self.query_opt(
            &select_sql("WHERE a.name = $1"),
            &[&name, live_cutoff, live_host, live_pids],
        )?
        .map(|r| from_row(&r))
        .transpose()
    }

    fn agent_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM agents WHERE name = $1)",
                &[&name],
            )?
            .get(0))
    }

    fn agents_with_role(&self, role: &str) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT name FROM agents WHERE role = $1 ORDER BY name",
                &[&role],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn agent_names(&self, except: &str) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT name FROM agents WHERE name <> $1 ORDER BY last_seen_at DESC, name",
                &[&except],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn list_agents(&self, except: &str, cutoff: Timestamp) -> Result<Vec<Agent>> {
        let live = Live::gather(self, cutoff)?;
        let [live_cutoff, live_host, live_pids] = live.params();
        self.query(
            &select_sql("WHERE a.name <> $1 ORDER BY a.last_seen_at DESC, a.name"),
            &[&except, live_cutoff, live_host, live_pids],
        )?
        .iter()
        .map(from_row)
        .collect()
    }
}
