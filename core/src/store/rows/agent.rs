//! Agents and humans: registration, last seen, roles.

/// Agents and humans: registration, last seen, roles.
pub(crate) trait AgentRows {}
