//! Participant names, a leaf module: `[a-z0-9][a-z0-9_-]{0,31}`, not reserved; humans
//! are `human:<name>` with the same rule for `<name>`. The kind follows from the name.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Names no agent may take: they are addresses or words with a meaning of their own.
pub const RESERVED_NAMES: &[&str] = &["all", "everyone", "system", "switchboard", "human"];
/// What every human participant's name starts with.
pub(crate) const HUMAN_PREFIX: &str = "human:";
/// The longest name (or part after `human:`).
pub(crate) const MAX_NAME_LEN: usize = 32;

/// Whether a participant is a coding agent or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// A coding agent: the name is a bare slug such as `claude` or `codex-2`.
    Agent,
    /// A person: the name is `human:<name>`.
    Human,
}

impl AgentKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Agent => "agent",
            AgentKind::Human => "human",
        }
    }
}

/// Checks a bare name (agent name, role, or the part after `human:`).
pub(crate) fn check_slug(what: &str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && name.len() <= MAX_NAME_LEN {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "'{}' is not a valid {what}: use 1-{MAX_NAME_LEN} characters of a-z, 0-9, '_' and '-', \
         starting with a letter or digit (e.g. 'claude', 'codex-2')",
        crate::input::shown(name)
    )))
}

/// Validates a participant name and returns its kind.
pub fn validate_name(name: &str) -> Result<AgentKind> {
    if let Some(person) = name.strip_prefix(HUMAN_PREFIX) {
        check_slug("human name (after 'human:')", person)?;
        return Ok(AgentKind::Human);
    }
    check_slug("agent name", name)?;
    if RESERVED_NAMES.contains(&name) {
        return Err(Error::Invalid(format!(
            "'{name}' is reserved (reserved: {}); pick another agent name",
            RESERVED_NAMES.join(", ")
        )));
    }
    Ok(AgentKind::Agent)
}
