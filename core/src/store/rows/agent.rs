//! Agents and humans: registration, last seen, roles.

use crate::Result;
use crate::agent::{Agent, AgentKind, Registration};
use crate::clock::Timestamp;

/// Agents and humans: registration, last seen, roles.
pub(crate) trait AgentRows {
    /// The stored role and description of agent `name`, or `None` if it is not registered.
    fn fetch_agent_profile(&self, name: &str) -> Result<Option<(Option<String>, Option<String>)>>;

    /// Inserts the agent (of `kind`, registered and seen at `now`), or, if it exists, sets
    /// the role and description `reg` gives (`None` keeps the stored value) and its last
    /// seen time to `now`.
    fn upsert_agent(&self, reg: &Registration, kind: AgentKind, now: Timestamp) -> Result<()>;

    /// Sets agent `name`'s last seen time to `now` (nothing if it is not registered).
    fn touch_agent(&self, name: &str, now: Timestamp) -> Result<()>;

    /// Agent `name` with its count of sessions live at `cutoff`, or `None`.
    fn fetch_agent(&self, name: &str, cutoff: Timestamp) -> Result<Option<Agent>>;

    /// Whether agent `name` is registered.
    fn agent_exists(&self, name: &str) -> Result<bool>;

    /// The names of the agents holding `role`, in name order.
    fn agents_with_role(&self, role: &str) -> Result<Vec<String>>;

    /// Every agent's name but `except`'s, most recently seen first, then by name.
    fn agent_names(&self, except: &str) -> Result<Vec<String>>;

    /// Every agent but `except`, with its count of sessions live at `cutoff`, most recently
    /// seen first, then by name.
    fn list_agents(&self, except: &str, cutoff: Timestamp) -> Result<Vec<Agent>>;
}
