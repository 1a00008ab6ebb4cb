//! The MCP tools. Each parses its input, calls one core function, and shapes the result.

use crate::args::Args;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use switchboard_core::agent::{self, Registration};
use switchboard_core::briefing::{self, Briefing};
use switchboard_core::session::{
    self, Begin, Begun, EndRequest, Filter, NewSession, SessionUpdate,
};
use switchboard_core::worktree;

use crate::reply::{AgentList, Started, WhoAmI};
use crate::schema;
use crate::server::SwitchboardServer;
use crate::views::{AgentView, SessionChange, SessionView, SessionsView, TreeView};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RegisterArgs {
    /// Default: you (only humans register others).
    pub name: Option<String>,
    /// e.g. reviewer: @reviewer reaches you.
    pub role: Option<String>,
    /// What you do.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StartArgs {
    /// What you will do, one sentence (updates a session you have).
    pub intent: Option<String>,
    /// Only to pick a name other than yours (whoami).
    pub agent: Option<String>,
    /// e.g. reviewer: @reviewer reaches you.
    pub role: Option<String>,
    /// Parent of a new session.
    pub parent: Option<String>,
    /// Join this session, e.g. one spawned for you.
    pub session: Option<String>,
    /// Start anew, abandoning the session you have.
    pub replace: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SessionArg {
    /// Default: yours.
    pub session: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateArgs {
    /// Default: yours.
    pub session: Option<String>,
    /// One sentence.
    pub intent: Option<String>,
    /// e.g. reviewer.
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EndArgs {
    /// Default: yours.
    pub session: Option<String>,
    #[serde(flatten)]
    pub end: EndRequest,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListArgs {
    /// Only this agent's.
    pub agent: Option<String>,
    /// Only live ones.
    pub live_only: Option<bool>,
    /// Only children of this session.
    pub parent: Option<String>,
    /// Default 50.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetArgs {
    /// Session id or prefix.
    pub session: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SpawnArgs {
    /// The subtask, one sentence.
    pub intent: String,
    /// Who works it. Default: a new agent named after you.
    pub agent: Option<String>,
    /// Give it a worktree (from your HEAD).
    pub worktree: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ForkArgs {
    /// The approach, one sentence.
    pub intent: String,
    /// Session to fork. Default: yours.
    pub from: Option<String>,
    /// Who works it. Default: a new agent named after you.
    pub agent: Option<String>,
    /// Give it a worktree (from the source's HEAD).
    pub worktree: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TreeArgs {
    /// Default: yours.
    pub session: Option<String>,
}

/// A session created by `actor` for [`session::worker`] to work; its process is unknown
/// until that agent's server claims it.
fn handed_over(actor: &str, agent: Option<String>, intent: String) -> NewSession {
    NewSession {
        agent: session::worker(actor, agent),
        intent,
        ..Default::default()
    }
}

/// Gives a just-created session its own worktree when asked (see
/// [`worktree::create_for_session`]: a failure ends the session).
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
    worktree::create_for_session(&mut st.store, actor, &st.checkout, &created, base)?;
    session::get(&mut st.store, &created.id)
}

#[tool_router(router = session_tools, vis = "pub(crate)")]
impl SwitchboardServer {
    /// Set your role and description (session_start registers you).
    #[tool(
        input_schema = schema::input::<RegisterArgs>(),
        output_schema = schema::output::<AgentView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn agent_register(&self, Args(args): Args<RegisterArgs>) -> CallToolResult {
        self.run_lean::<AgentView, _, _>(move |st| {
            let actor = st.identity.agent()?.to_string();
            let reg = Registration {
                name: args.name.unwrap_or_else(|| actor.clone()),
                role: args.role,
                description: args.description,
            };
            agent::register(&mut st.store, &actor, &reg)
        })
        .await
    }

    /// Agents with role, last seen and live sessions.
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

    /// Call first: starts your session, continues the one you have, or joins one (session).
    #[tool(
        input_schema = schema::input::<StartArgs>(),
        output_schema = schema::output::<Started>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_start(&self, Args(args): Args<StartArgs>) -> CallToolResult {
        self.run(move |st| {
            let agent = match &args.session {
                Some(_) => st.identity.joining_agent(args.agent.as_deref())?,
                None => Some(st.identity.resolve_agent(args.agent.as_deref())?),
            };
            let begin = Begin {
                agent,
                process: Some(st.process.clone()),
                current: st.identity.session.clone(),
                join: args.session,
                intent: args.intent,
                role: args.role,
                parent: args.parent,
                replace: args.replace.unwrap_or(false),
            };
            let Begun { session, note } = session::begin(&mut st.store, &begin)?;
            st.identity.agent = Some(session.agent.clone());
            st.identity.provisional = false;
            st.identity.session = Some(session.id.clone());
            Ok(Started {
                note,
                briefing: briefing::of(&mut st.store, &session.agent, Some(&session.id))?,
            })
        })
        .await
    }

    /// What now? Your task, unread mail, worktree state, subtasks and what needs you.
    #[tool(
        output_schema = schema::output::<Briefing>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn status(&self) -> CallToolResult {
        self.run(|st| {
            let me = st.identity.agent()?.to_string();
            briefing::of(&mut st.store, &me, st.identity.session.as_deref())
        })
        .await
    }

    /// Say you are alive during long work (tool calls also do).
    #[tool(
        input_schema = schema::input::<SessionArg>(),
        output_schema = schema::output::<SessionChange>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn session_heartbeat(&self, Args(args): Args<SessionArg>) -> CallToolResult {
        self.run_lean::<SessionChange, _, _>(move |st| {
            let actor = st.identity.agent()?.to_string();
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            worktree::heartbeat(&mut st.store, &id, &actor, Some(&st.process))
        })
        .await
    }

    /// Change a session's intent or role.
    #[tool(
        input_schema = schema::input::<UpdateArgs>(),
        output_schema = schema::output::<SessionChange>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn session_update(&self, Args(args): Args<UpdateArgs>) -> CallToolResult {
        self.run_lean::<SessionChange, _, _>(move |st| {
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

    /// End a session: completed, failed or abandoned.
    #[tool(
        input_schema = schema::input::<EndArgs>(),
        output_schema = schema::output::<SessionChange>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_end(&self, Args(args): Args<EndArgs>) -> CallToolResult {
        self.run_lean::<SessionChange, _, _>(move |st| {
            let actor = st.identity.agent()?.to_string();
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            let ended = session::end(&mut st.store, &id, &args.end, &actor)?;
            if st.identity.session.as_deref() == Some(ended.id.as_str()) {
                st.identity.session = None;
            }
            Ok(ended)
        })
        .await
    }

    /// Sessions, newest first. stale = its process is gone or silent.
    #[tool(
        input_schema = schema::input::<ListArgs>(),
        output_schema = schema::output::<SessionsView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_list(&self, Args(args): Args<ListArgs>) -> CallToolResult {
        self.run_lean::<SessionsView, _, _>(move |st| {
            let filter = Filter {
                agent: args.agent,
                live_only: args.live_only.unwrap_or(false),
                parent: args.parent,
                limit: args.limit,
                ..Default::default()
            };
            session::list(&mut st.store, &filter)
        })
        .await
    }

    /// One session.
    #[tool(
        input_schema = schema::input::<GetArgs>(),
        output_schema = schema::output::<SessionView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_get(&self, Args(args): Args<GetArgs>) -> CallToolResult {
        self.run_lean::<SessionView, _, _>(move |st| session::get(&mut st.store, &args.session))
            .await
    }

    /// Subtask for another agent (a child session). With worktree, an agent your human starts in that folder serves it; else it joins with session_start {session}.
    #[tool(
        input_schema = schema::input::<SpawnArgs>(),
        output_schema = schema::output::<SessionView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_spawn(&self, Args(args): Args<SpawnArgs>) -> CallToolResult {
        self.run_lean::<SessionView, _, _>(move |st| {
            let actor = st.identity.agent()?.to_string();
            let parent = st.identity.session()?.to_string();
            let child = handed_over(&actor, args.agent, args.intent);
            let child = session::spawn(&mut st.store, &parent, &child, &actor)?;
            with_worktree(st, &actor, child, None, args.worktree.unwrap_or(false))
        })
        .await
    }

    /// Fork a session: a sibling trying another approach.
    #[tool(
        input_schema = schema::input::<ForkArgs>(),
        output_schema = schema::output::<SessionView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn session_fork(&self, Args(args): Args<ForkArgs>) -> CallToolResult {
        self.run_lean::<SessionView, _, _>(move |st| {
            let actor = st.identity.agent()?.to_string();
            let from = st.identity.session_or(args.from.as_deref())?.to_string();
            let alt = handed_over(&actor, args.agent, args.intent);
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

    /// Genealogy (parents, children, forks) of a session.
    #[tool(
        input_schema = schema::input::<TreeArgs>(),
        output_schema = schema::output::<TreeView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn session_tree(&self, Args(args): Args<TreeArgs>) -> CallToolResult {
        self.run_lean::<TreeView, _, _>(move |st| {
            let id = st.identity.session_or(args.session.as_deref())?.to_string();
            session::tree(&mut st.store, &id, None)
        })
        .await
    }

    /// Who this server acts for: agent, session, process, state file.
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
                state_db: st.store.address().to_string(),
                hint,
            })
        })
        .await
    }
}
