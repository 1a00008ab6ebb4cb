//! Who this server acts for: an agent name and its current session.

use switchboard_core::Error;

/// The identity of the agent a server serves. The agent comes from `--agent` /
/// `SWITCHBOARD_AGENT`, the session claimed at start-up (`--session`, or the one bound to
/// the worktree the server started in), a token (over HTTP), else a name of this
/// instance's own given when the client connects ([`Identity::name_instance`]), which the
/// agent may still change in its first `session_start`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The agent name this server acts as; `None` until one is known.
    pub agent: Option<String>,
    /// The session this server serves (`ses_…`): claimed at start-up or set by
    /// `session_start`, cleared when that session ends; `None` meanwhile.
    pub session: Option<String>,
    /// The agent name was made up for this instance, not chosen: the agent may replace it
    /// with a name of its own until it has a session.
    pub provisional: bool,
}

impl Identity {
    /// An identity fixed by the user (`--agent`) or a token.
    pub fn named(agent: impl Into<String>) -> Identity {
        Identity {
            agent: Some(agent.into()),
            ..Identity::default()
        }
    }

    /// Gives an instance with no name yet `name`, one of its own (see
    /// [`switchboard_core::agent::free_instance_name`]), which the agent may still replace.
    pub fn name_instance(&mut self, name: String) {
        if self.agent.is_none() {
            self.agent = Some(name);
            self.provisional = true;
        }
    }

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

    /// The agent joining a session: `requested` or the known one, or `None` ("whoever the
    /// session is for") while the known one is provisional.
    pub fn joining_agent(&self, requested: Option<&str>) -> Result<Option<String>, Error> {
        if requested.is_none() && self.provisional && self.session.is_none() {
            return Ok(None);
        }
        self.resolve_agent(requested).map(Some)
    }

    /// The agent to act as: the known one, or `requested` when none is known or the known
    /// one is provisional and no session was started under it yet. Refuses a `requested`
    /// name that is not a valid one, or that contradicts a fixed one, saying how to serve
    /// another agent.
    pub fn resolve_agent(&self, requested: Option<&str>) -> Result<String, Error> {
        if let Some(asked) = requested {
            switchboard_core::agent::validate_name(asked)?;
        }
        let replaceable = self.provisional && self.session.is_none();
        match (self.agent.as_deref(), requested) {
            (Some(known), Some(asked)) if known != asked && !replaceable => {
                Err(Error::Conflict(format!(
                    "this server acts for agent '{known}' (from --agent, SWITCHBOARD_AGENT, its \
                     token or its session); omit agent. To act as '{asked}', connect as it: \
                     `switchboard mcp --agent {asked}` over stdio, or {asked}'s own token over HTTP \
                     (each agent instance has its own server connection)."
                )))
            }
            (_, Some(asked)) => Ok(asked.to_string()),
            (Some(known), None) => Ok(known.to_string()),
            (None, None) => Err(Error::NoIdentity(
                "give agent: your agent name (a-z, 0-9, '_' or '-'), e.g. \"claude\"".into(),
            )),
        }
    }
}
