//! Shaping tool results: structured content, a readable text rendering, and `isError`
//! results for everything the caller can fix.

use rmcp::model::{CallToolResult, ContentBlock};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::agent::Agent;
use switchboard_core::briefing::Briefing;
use switchboard_core::clock::Timestamp;
use switchboard_core::process::ProcessInfo;
use switchboard_core::session::{Session, SessionPage, SessionTree};
use switchboard_core::{Error, Record, render};

/// A tool result that can say itself in a few lines of text.
pub(crate) trait Render {
    fn render(&self) -> String;
}

/// Turns a core result into a tool result: structured content plus text on success,
/// an `isError` result with the core's actionable message on failure.
pub(crate) fn reply<T: Serialize + Render>(result: Result<T, Error>) -> CallToolResult {
    match result {
        Ok(value) => {
            let mut out = CallToolResult::success(vec![ContentBlock::text(value.render())]);
            match serde_json::to_value(&value) {
                Ok(mut json) => {
                    drop_nulls(&mut json);
                    out.structured_content = Some(json)
                }
                Err(e) => return failure(format!("internal error: cannot encode the result: {e}")),
            }
            out
        }
        Err(e @ Error::NotFound { kind, .. }) => failure(format!("{e}. {}", lookup_hint(kind))),
        Err(e) if e.is_user_error() => failure(e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "tool failed");
            failure(format!("switchboard failed: {e}"))
        }
    }
}

/// Removes every `null` member of every object in `value`: an absent field says the
/// same for fewer characters, and the output schemas (see `schema::output`) declare such
/// fields optional instead of nullable.
pub(crate) fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// Which tool lists the records of `kind`.
fn lookup_hint(kind: Record) -> &'static str {
    match kind {
        Record::Agent => "List agents with agent_list.",
        Record::Session => {
            "List sessions with session_list (ids are time-ordered: a unique prefix is usually 10+ characters)."
        }
        Record::Worktree => "List worktrees with worktree_list (names, not paths).",
        Record::Message => {
            "Find your messages with inbox_read, message_sent or message_search (a unique id prefix is usually 10+ characters)."
        }
        Record::Thread => "Thread ids are in your messages (inbox_read, message_sent).",
        Record::Group => "List groups with group_list.",
        Record::Token => "Tokens are managed by humans with `switchboard token list`.",
        Record::Event => "Check the id you gave.",
        Record::Claim => "Check the claim id you gave.",
    }
}

/// An `isError` result carrying `message`.
pub(crate) fn failure(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

impl Render for Session {
    fn render(&self) -> String {
        render::session_detail(self, Timestamp::now())
    }
}

impl Render for SessionPage {
    fn render(&self) -> String {
        render::sessions_table(self, Timestamp::now())
    }
}

impl Render for SessionTree {
    fn render(&self) -> String {
        render::tree(self)
    }
}

impl Render for Agent {
    fn render(&self) -> String {
        render::agents_table(std::slice::from_ref(self), Timestamp::now())
    }
}

/// Every registered participant.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AgentList {
    #[serde(serialize_with = "crate::views::agents")]
    #[schemars(with = "Vec<crate::views::AgentView>")]
    pub agents: Vec<Agent>,
}

impl Render for AgentList {
    fn render(&self) -> String {
        render::agents_table(&self.agents, Timestamp::now())
    }
}

/// What `session_start` gives an agent to begin with: what happened, then the same
/// briefing as `status`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Started {
    /// What happened: started, joined, or continuing your session.
    pub note: String,
    #[serde(flatten)]
    pub briefing: Briefing,
}

impl Render for Started {
    fn render(&self) -> String {
        format!("{}.\n{}", self.note, render::briefing(&self.briefing))
    }
}

impl Render for Briefing {
    fn render(&self) -> String {
        render::briefing(self)
    }
}

/// Who this server acts for.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct WhoAmI {
    pub agent: Option<String>,
    pub session: Option<Session>,
    pub process: ProcessInfo,
    pub state_db: String,
    /// What to do next, when something is missing.
    pub hint: Option<String>,
}

impl Render for WhoAmI {
    fn render(&self) -> String {
        let mut lines = vec![format!(
            "agent: {}",
            self.agent.as_deref().unwrap_or("(unknown)")
        )];
        match &self.session {
            Some(s) => lines.push(format!("session: {}", render::session_line(s))),
            None => lines.push("session: (none)".into()),
        }
        lines.push(format!("state: {}", self.state_db));
        if let Some(hint) = &self.hint {
            lines.push(hint.clone());
        }
        lines.join("\n")
    }
}
