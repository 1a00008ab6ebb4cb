//! Agents and humans: registration, last seen, roles, in SQL.

use super::Tx;
use crate::store::rows::AgentRows;

impl AgentRows for Tx<'_> {}
