//! The MCP tools. Each parses its input, calls one core function, and shapes the result.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::agent::{self, Registration};
use switchboard_core::message;
use switchboard_core::session::{
    self, Claim, EndStatus, Filter, NewSession, SessionUpdate, Status,
};
use switchboard_core::worktree;

use crate::reply::{AgentList, Started, WhoAmI};
use crate::schema;
use crate::server::SwitchboardServer;
use switchboard_core::agent::Agent;
use switchboard_core::session::{Session, SessionPage, SessionTree};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RegisterArgs {
    /// Agent name (a-z 0-9 _ -, max 32) or human:<name>.
    pub name: String,
    pub role: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StartArgs {
    /// Your agent name, e.g. claude. Needed once unless the server was started with --agent.
    pub agent: Option<String>,
    /// What you will do, one sentence. Required unless resuming.
    pub intent: Option<String>,
    pub role: Option<String>,
    /// Parent session if this is a subtask.
    pub parent: Option<String>,
    /// Join this existing session (e.g. spawned for you) instead of starting one.
    pub session: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionArg {
    /// Session id or unique prefix. Default: yours.
    pub session: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateArgs {
    /// Default: yours.
    pub session: Option<String>,
    pub intent: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EndArgs {
    /// Default: yours.
    pub session: Option<String>,
    /// Default: completed.
    pub status: Option<EndStatus>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    pub agent: Option<String>,
    pub status: Option<Status>,
    /// Only active, non-stale sessions.
    pub live_only: Option<bool>,
    /// Children of this session.
    pub parent: Option<String>,
    /// Default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetArgs {
    /// Session id or unique prefix.
    pub session: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpawnArgs {
    /// The subtask, one sentence.
    pub intent: String,
    /// Who works it. Default: you.
    pub agent: Option<String>,
    pub role: Option<String>,
    /// Also create its own worktree (from your HEAD).
    pub worktree: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForkArgs {
    /// The alternative approach, one sentence.
    pub intent: String,
    /// Session to fork. Default: yours.
    pub from: Option<String>,
    /// Who works it. Default: you.
    pub agent: Option<String>,
    pub role: Option<String>,
    /// Also create its own worktree (from the source's HEAD).
    pub worktree: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TreeArgs {
    /// Default: yours.
    pub session: Option<String>,
    /// Levels up and down (default 32).
    pub max_depth: Option<u32>,
}

/// A session created by `actor` for `agent` (default: the actor itself) to work; its
/// process is unknown until that agent's server claims it.
fn handed_over(
    actor: &str,
    agent: Option<String>,
    role: Option<String>,
    intent: String,
) -> NewSession {
    NewSession {
        agent: agent.unwrap_or_else(|| actor.to_string()),
        role,
        intent,
        ..Default::default()
    }
}

/// Gives a just-created session its own worktree when asked. If the worktree cannot be
/// made, the session is ended `abandoned` with the reason, so nothing is left half-done.
fn with_worktree(
    st: &mut crate::server::State,
    actor: &str,
    created: session::Session,
    base: Option<&session::Session>,
    wanted: bool,
) -> Result<session::Session, switchboard_core::Error> {
    if !wanted {
        return Ok(created);
    }
    match worktree::create_for_session(&mut st.store, actor, &st.checkout, &created, base) {
        Ok(_) => session::get(&mut st.store, &created.id),
        Err(e) => {
            let reason = format!("its worktree could not be created: {e}");
            session::end(
                &mut st.store,
                &created.id,
                EndStatus::Abandoned,
                Some(&reason),
                actor,
            )?;
            Err(e)
        }
    }
}

#[tool_router(router = session_tools, vis = "pub(crate)")]
impl SwitchboardServer {
    /// Register or update an agent (idempotent). session_start registers you automatically.
    #[tool(
        input_schema = schema::input::<RegisterArgs>(),
        output_schema = schema::output::<Agent>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn agent_register(&self, Parameters(args): Parameters<RegisterArgs>) -> CallToolResult {
        let reg = Registration {
            name: args.name,
            role: args.role,
            description: args.description,
        };
        self.run(move |st| agent::register(&mut st.store, &reg))
            .await
    }

    /// List agents with role, last seen and live session count.
    #[tool(
        output_schema = schema::output::<AgentList>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn agent_list(&self) -> CallToolResult {
        self.run(|st| {
            Ok(AgentList {
                agents: agent::list(&mut st.store)?,
            })
        })
        .await
    }

    /// Call first. Starts your session (replacing your previous one) or joins one spawned for you (session), and sets who you are.
    #[tool(
        input_schema = schema::input::<StartArgs>(),
        output_schema = schema::output::<Started>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_start(&self, Parameters(args): Parameters<StartArgs>) -> CallToolResult {
        self.run(move |st| {
            let session = match &args.session {
                Some(id) => {
                    let agent = st.identity.known_agent(args.agent.as_deref())?;
                    let claim = Claim {
                        agent: agent.as_deref(),
                        process: &st.process,
                        intent: args.intent.as_deref(),
                        role: args.role.as_deref(),
                    };
                    session::claim(&mut st.store, id, &claim)?
                }
                None => {
                    let new = NewSession {
                        agent: st.identity.resolve_agent(args.agent.as_deref())?,
                        role: args.role,
                        intent: args.intent.unwrap_or_default(),
                        parent: args.parent,
                        process: Some(st.process.clone()),
                        supersedes: st.identity.session.clone(),
                    };
                    session::start(&mut st.store, &new)?
                }
            };
            st.identity.agent = Some(session.agent.clone());
            st.identity.session = Some(session.id.clone());
            Ok(Started {
                agent: agent::get(&mut st.store, &session.agent)?,
                unread: message::unread(&mut st.store, &session.agent)?,
                session,
            })
        })
        .await
    }

    /// Record that the session is alive and working.
    #[tool(
        input_schema = schema::input::<SessionArg>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn session_heartbeat(&self, Parameters(args): Parameters<SessionArg>) -> CallToolResult {
        self.run(move |st| {
            let actor = st.identity.agent()?.to_string();
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            worktree::heartbeat(&mut st.store, &id, &actor, Some(&st.process))
        })
        .await
    }

    /// Change a session's intent and/or role.
    #[tool(
        input_schema = schema::input::<UpdateArgs>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn session_update(&self, Parameters(args): Parameters<UpdateArgs>) -> CallToolResult {
        self.run(move |st| {
            let actor = st.identity.agent()?.to_string();
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            let change = SessionUpdate {
                intent: args.intent,
                role: args.role,
            };
            session::update(&mut st.store, &id, &change, &actor)
        })
        .await
    }

    /// End a session as completed, failed or abandoned, with a reason.
    #[tool(
        input_schema = schema::input::<EndArgs>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_end(&self, Parameters(args): Parameters<EndArgs>) -> CallToolResult {
        self.run(move |st| {
            let actor = st.identity.agent()?.to_string();
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            let status = args.status.unwrap_or(EndStatus::Completed);
            let ended = session::end(&mut st.store, &id, status, args.reason.as_deref(), &actor)?;
            if st.identity.session.as_deref() == Some(ended.id.as_str()) {
                st.identity.session = None;
            }
            Ok(ended)
        })
        .await
    }

    /// List sessions, newest first. Status stale = active but its process is gone or silent.
    #[tool(
        input_schema = schema::input::<ListArgs>(),
        output_schema = schema::output::<SessionPage>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_list(&self, Parameters(args): Parameters<ListArgs>) -> CallToolResult {
        self.run(move |st| {
            let filter = Filter {
                agent: args.agent,
                status: args.status,
                live_only: args.live_only.unwrap_or(false),
                parent: args.parent,
                limit: args.limit,
            };
            session::list(&mut st.store, &filter)
        })
        .await
    }

    /// Get one session.
    #[tool(
        input_schema = schema::input::<GetArgs>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_get(&self, Parameters(args): Parameters<GetArgs>) -> CallToolResult {
        self.run(move |st| session::get(&mut st.store, &args.session))
            .await
    }

    /// Create a subtask: a child of your session for another agent (or you). That agent joins with session_start {session}.
    #[tool(
        input_schema = schema::input::<SpawnArgs>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_spawn(&self, Parameters(args): Parameters<SpawnArgs>) -> CallToolResult {
        self.run(move |st| {
            let actor = st.identity.agent()?.to_string();
            let parent = st.identity.session()?.to_string();
            let child = handed_over(&actor, args.agent, args.role, args.intent);
            let child = session::spawn(&mut st.store, &parent, &child, &actor)?;
            with_worktree(st, &actor, child, None, args.worktree.unwrap_or(false))
        })
        .await
    }

    /// Fork a session: a sibling trying an alternative approach from the same point.
    #[tool(
        input_schema = schema::input::<ForkArgs>(),
        output_schema = schema::output::<Session>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_fork(&self, Parameters(args): Parameters<ForkArgs>) -> CallToolResult {
        self.run(move |st| {
            let actor = st.identity.agent()?.to_string();
            let from = st.identity.session_or(args.from.as_deref())?.to_string();
            let alt = handed_over(&actor, args.agent, args.role, args.intent);
            let alt = session::fork(&mut st.store, &from, &alt, &actor)?;
            let source = session::get(&mut st.store, &from)?;
            with_worktree(
                st,
                &actor,
                alt,
                Some(&source),
                args.worktree.unwrap_or(false),
            )
        })
        .await
    }

    /// The whole genealogy (parents, children, forks) of a session.
    #[tool(
        input_schema = schema::input::<TreeArgs>(),
        output_schema = schema::output::<SessionTree>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_tree(&self, Parameters(args): Parameters<TreeArgs>) -> CallToolResult {
        self.run(move |st| {
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            session::tree(&mut st.store, &id, args.max_depth)
        })
        .await
    }

    /// Who this server acts for: agent, session, state database.
    #[tool(
        output_schema = schema::output::<WhoAmI>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn whoami(&self) -> CallToolResult {
        self.run(|st| {
            let session = match st.identity.session.clone() {
                Some(id) => Some(session::get(&mut st.store, &id)?),
                None => None,
            };
            let hint = match (&st.identity.agent, &session) {
                (None, _) => {
                    Some("Call session_start with your agent name and intent.".to_string())
                }
                (Some(_), None) => Some("Call session_start with your intent.".to_string()),
                _ => None,
            };
            Ok(WhoAmI {
                agent: st.identity.agent.clone(),
                session,
                process: st.process.clone(),
                state_db: st.store.path().display().to_string(),
                hint,
            })
        })
        .await
    }
}
