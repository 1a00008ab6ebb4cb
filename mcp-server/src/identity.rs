//! Who this server acts for: an agent name and its current session.

use switchboard_core::Error;

/// The identity of the agent a server serves. The agent comes from `--agent` /
/// `SWITCHBOARD_AGENT`, the session claimed at start-up, or the first `session_start`.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub agent: Option<String>,
    pub session: Option<String>,
}

impl Identity {
    /// The agent, or an error telling the caller how to get one.
    pub fn agent(&self) -> Result<&str, Error> {
        self.agent.as_deref().ok_or_else(|| {
            Error::NoIdentity(
                "this server does not know which agent you are yet: call session_start with \
                 {\"agent\": \"<your name, e.g. claude>\", \"intent\": \"<what you will do>\"} first"
                    .into(),
            )
        })
    }

    /// The current session, or an error telling the caller how to get one.
    pub fn session(&self) -> Result<&str, Error> {
        self.session.as_deref().ok_or_else(|| {
            Error::NoIdentity(
                "you have no session yet: call session_start with your intent first".into(),
            )
        })
    }

    /// `explicit` if given, else the current session.
    pub fn session_or<'a>(&'a self, explicit: Option<&'a str>) -> Result<&'a str, Error> {
        explicit.map_or_else(|| self.session(), Ok)
    }

    /// The agent to act as, if any is known or `requested`. Refuses a `requested` name
    /// that contradicts the known one.
    pub fn known_agent(&self, requested: Option<&str>) -> Result<Option<String>, Error> {
        match (self.agent.as_deref(), requested) {
            (Some(known), Some(asked)) if known != asked => Err(Error::Conflict(format!(
                "this server already acts for agent '{known}' (from --agent, SWITCHBOARD_AGENT or an \
                 earlier session_start); omit agent or pass '{known}'. Each agent runs its own server."
            ))),
            (known, asked) => Ok(known.or(asked).map(str::to_string)),
        }
    }

    /// Like [`Identity::known_agent`], but an agent is required.
    pub fn resolve_agent(&self, requested: Option<&str>) -> Result<String, Error> {
        self.known_agent(requested)?.ok_or_else(|| {
            Error::NoIdentity(
                "give agent: your agent name (a-z, 0-9, '_' or '-'), e.g. \"claude\"".into(),
            )
        })
    }
}
