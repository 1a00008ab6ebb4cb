//! The rmcp server: shared state, the blocking bridge to the core, and protocol plumbing.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rmcp::ErrorData;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResponse, CallToolResult, Extensions, Implementation, ServerCapabilities, ServerConfig,
};
use serde::Serialize;
use switchboard_core::message::News;
use switchboard_core::process::ProcessInfo;
use switchboard_core::{Error, Settings, Store, StoreAddress, agent, session};
use tokio_util::sync::CancellationToken;

use crate::callers::{Caller, Callers};
pub use crate::identity::Identity;
use crate::live::Live;
use crate::reply::{Render, reply};
use crate::resources::Subscriptions;
use crate::seat::Seat;
pub(crate) use crate::seat::State;
use crate::views::Lean;
use tokio::sync::broadcast::error::RecvError;

/// The experimental capability and notification of Claude Code's channels.
const CHANNEL_CAPABILITY: &str = "claude/channel";
const CHANNEL_NOTIFICATION: &str = "notifications/claude/channel";

tokio::task_local! {
    /// The new-mail notice of the tool call in progress (see [`SwitchboardServer::with_news`]).
    static NOTICE: RefCell<Notice>;
}

/// Where a tool call stands with its new-mail notice.
enum Notice {
    /// Not looked for yet.
    Wanted,
    /// Looked for by the call's first successful store operation.
    Found(Option<Box<News>>),
    /// Taken by the call.
    Told,
}

/// The caller's mail it was not told of yet (marking it told), if it has a session.
fn news_of(st: &mut State) -> Result<Option<News>, Error> {
    let (Some(agent), Some(session)) = (&st.identity.agent, &st.identity.session) else {
        return Ok(None);
    };
    switchboard_core::message::news(&mut st.store, agent, session)
}

/// Tools whose results show the caller's mail themselves: no notice is added to them.
const SHOWS_MAIL: &[&str] = &["message_wait", "inbox_read", "status", "session_start"];

/// What every connection served by one process shares: the change feed, the counts of
/// calls and waits in progress, and the signal that the process is stopping.
#[derive(Clone)]
pub(crate) struct Hub {
    pub live: Live,
    /// `message_wait` calls in progress.
    pub waits: Arc<AtomicUsize>,
    /// Tool calls in progress (a stopping server lets them finish).
    pub calls: Arc<AtomicUsize>,
    /// Cancelled when the process begins to stop: waits and listen streams end with a
    /// result saying so, instead of being cut off.
    pub stopping: CancellationToken,
}

impl Hub {
    /// Shared state for servers of the store at `address` (its change feed starts when
    /// first needed).
    pub fn new(address: &StoreAddress, settings: Settings) -> Hub {
        Hub {
            live: Live::new(address, settings),
            waits: Arc::default(),
            calls: Arc::default(),
            stopping: CancellationToken::new(),
        }
    }
}

/// Counts something in progress for as long as it lives.
pub(crate) struct Counted(Arc<AtomicUsize>);

impl Counted {
    pub fn enter(counter: &Arc<AtomicUsize>) -> Counted {
        counter.fetch_add(1, Ordering::SeqCst);
        Counted(counter.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Switchboard's MCP server for one agent (stdio) or one connection of a shared server.
#[derive(Clone)]
pub struct SwitchboardServer {
    seat: Arc<Seat>,
    /// Set behind `switchboard serve`: each request acts for the agent of its token, with
    /// that token's state (see [`SwitchboardServer::for_request`]).
    callers: Option<Arc<Callers>>,
    pub(crate) hub: Hub,
    pub(crate) subscriptions: Arc<Subscriptions>,
    /// Every tool (shared by all instances: see [`SwitchboardServer::shared_tool_router`]).
    pub(crate) tool_router: Arc<ToolRouter<Self>>,
    /// Set once this instance has a name (so later requests need not lock the state).
    named: Arc<AtomicBool>,
    /// Push new mail to the client as Claude Code channel notifications (`--channel`).
    channel: bool,
}

impl SwitchboardServer {
    /// A server over `store`, acting for `identity`, served by `process`.
    pub fn new(store: Store, identity: Identity, process: ProcessInfo) -> Self {
        let hub = Hub::new(store.address(), store.settings().clone());
        let checkout = std::env::current_dir().unwrap_or_default();
        let seat = Seat::new(store, identity, process, checkout);
        Self::with_seat(Arc::new(seat), None, hub)
    }

    /// A connection of a shared server: it acts for nobody until a request binds it to
    /// its caller.
    pub(crate) fn for_callers(callers: Arc<Callers>) -> Self {
        Self::with_seat(
            callers.anonymous.clone(),
            Some(callers.clone()),
            callers.hub.clone(),
        )
    }

    fn with_seat(seat: Arc<Seat>, callers: Option<Arc<Callers>>, hub: Hub) -> Self {
        SwitchboardServer {
            seat,
            callers,
            hub,
            subscriptions: Arc::new(Subscriptions::default()),
            tool_router: Self::shared_tool_router(),
            named: Arc::default(),
            channel: false,
        }
    }

    /// Also pushes new mail to the client as `notifications/claude/channel` (Claude Code's
    /// experimental channel, which reaches an idle session), offering the
    /// `claude/channel` capability.
    pub fn with_channel(mut self) -> Self {
        self.channel = true;
        self
    }

    /// This server as it must serve one request: itself over stdio; behind `switchboard
    /// serve`, bound to the state of the token that authenticated the request. Every
    /// handler that reads or writes the store goes through here first.
    pub(crate) fn for_request(&self, extensions: &Extensions) -> Result<Self, ErrorData> {
        let Some(callers) = &self.callers else {
            return Ok(self.clone());
        };
        let caller = extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .ok_or_else(|| {
                ErrorData::invalid_request(
                    "this request carries no authenticated caller: send Authorization: Bearer <token>",
                    None,
                )
            })?;
        let seat = callers
            .seat_for(caller)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        Ok(SwitchboardServer {
            seat,
            ..self.clone()
        })
    }

    fn tool_router() -> ToolRouter<Self> {
        Self::session_tools() + Self::message_tools() + Self::worktree_tools() + Self::claim_tools()
    }

    /// The tool router, built once per process: building it computes every tool's
    /// schemas, which `switchboard serve` did for every HTTP request (most of a request's
    /// CPU).
    fn shared_tool_router() -> Arc<ToolRouter<Self>> {
        static ROUTER: OnceLock<Arc<ToolRouter<SwitchboardServer>>> = OnceLock::new();
        ROUTER.get_or_init(|| Arc::new(Self::tool_router())).clone()
    }

    /// Uses `dir` (a checkout of the repository) as this server's own checkout: new
    /// worktrees start from its HEAD.
    pub fn with_checkout(self, dir: &std::path::Path) -> Self {
        self.seat.set_checkout(dir.to_path_buf());
        self
    }

    /// Claims an existing session for this server's process (e.g. one spawned for this
    /// agent, passed as `--session`). The agent defaults to the session's own agent.
    pub fn claim_session(&self, id: &str) -> Result<session::Session, Error> {
        self.seat.claim(id)
    }

    /// Serves the session bound to the worktree this server's checkout is in, if it
    /// belongs to this server's agent (see [`switchboard_core::worktree::bound_session`]).
    pub fn claim_bound(&self) {
        self.seat.claim_bound();
    }

    /// Who this server acts for now.
    pub(crate) fn identity(&self) -> Identity {
        self.seat.identity()
    }

    /// Runs one tool call (`call`) and tells the caller of new mail at the end of its
    /// result (one line, in the structured content as `mail` and in the text), once per
    /// message and session, so an agent on a client without hooks learns of it on its next
    /// call. The tools that show mail themselves (waits, the inbox, the briefings) only
    /// count as being told. The mail is looked for by the call's first store operation
    /// that succeeds, on the same connection and thread (see [`Self::blocking`]); a call
    /// that fails is told nothing, so nothing is marked as told that was not shown.
    pub(crate) async fn with_news<F>(
        &self,
        tool: &str,
        call: F,
    ) -> Result<CallToolResponse, ErrorData>
    where
        F: std::future::Future<Output = Result<CallToolResponse, ErrorData>>,
    {
        let (mut response, notice) = NOTICE
            .scope(RefCell::new(Notice::Wanted), async {
                let response = call.await;
                (response, NOTICE.with(|n| n.replace(Notice::Told)))
            })
            .await;
        let Ok(CallToolResponse::Complete(result)) = &mut response else {
            return response;
        };
        if result.is_error == Some(true) {
            return response;
        }
        let news = match notice {
            Notice::Found(news) => news.map(|n| *n),
            // The tool did not touch the store: look now.
            Notice::Wanted | Notice::Told => match self.blocking(news_of).await {
                Ok(news) => news,
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for new mail");
                    None
                }
            },
        };
        if let Some(news) = news.filter(|_| !SHOWS_MAIL.contains(&tool)) {
            let line = switchboard_core::render::news(&news);
            if let Some(serde_json::Value::Object(map)) = &mut result.structured_content {
                map.insert("mail".into(), serde_json::Value::String(line.clone()));
            }
            result.content.push(rmcp::model::ContentBlock::text(line));
        }
        response
    }

    /// With `--channel`, starts pushing new mail to `peer` as channel notifications: when
    /// any process delivers mail to this agent, the headers of messages its session was not
    /// yet told of (each message once, shared with hooks and tool-result notices). Returns
    /// once following commits, so mail committed after it returns is pushed (a feed still
    /// opening when the client's first calls ran missed them; slower on PostgreSQL).
    pub(crate) async fn start_channel(&self, peer: rmcp::Peer<rmcp::RoleServer>) {
        if !self.channel || self.callers.is_some() {
            return;
        }
        let mut events = match self.hub.live.events().await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for mail to push; channel notifications are off");
                return;
            }
        };
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    () = this.hub.stopping.cancelled() => return,
                    received = events.recv() => received,
                };
                let mail = match received {
                    Ok(event) => this.mail_in(&event),
                    // Some events were missed: look, in case one was mail.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                };
                if !mail {
                    continue;
                }
                let found = this
                    .blocking(|st| {
                        let (Some(agent), Some(session)) =
                            (st.identity.agent.clone(), st.identity.session.clone())
                        else {
                            return Ok(None);
                        };
                        let r = switchboard_core::delivery::Recipient { agent, session };
                        switchboard_core::delivery::arrivals(&mut st.store, &r)
                    })
                    .await;
                let text = match found {
                    Ok(Some(text)) => text,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not look for mail to push");
                        continue;
                    }
                };
                let note = rmcp::model::CustomNotification::new(
                    CHANNEL_NOTIFICATION,
                    Some(serde_json::json!({"content": text, "meta": {"source": "switchboard"}})),
                );
                let sent = peer
                    .send_notification(rmcp::model::ServerNotification::CustomNotification(note))
                    .await;
                if sent.is_err() {
                    return;
                }
            }
        });
    }

    /// Whether `event` delivers mail to the agent this server acts for.
    pub(crate) fn mail_in(&self, event: &switchboard_core::event::Event) -> bool {
        self.identity()
            .agent
            .is_some_and(|agent| event.change.mail_for(&agent).is_some())
    }

    /// How many `message_wait` calls are waiting right now.
    pub fn active_waits(&self) -> usize {
        self.hub.waits.load(Ordering::SeqCst)
    }

    /// The tools every server offers, as listed to clients (for schema export and size
    /// accounting; needs no store).
    pub fn tool_definitions() -> Vec<rmcp::model::Tool> {
        Self::shared_tool_router().list_all()
    }

    /// Runs `op` on a blocking thread with a state of its own (see [`crate::seat`]): no
    /// lock is held while it runs. Inside a tool call ([`Self::with_news`]) the first
    /// operation that succeeds also looks for the caller's new mail.
    pub(crate) async fn blocking<T, F>(&self, op: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut State) -> Result<T, Error> + Send + 'static,
    {
        let wanted = NOTICE
            .try_with(|n| matches!(*n.borrow(), Notice::Wanted))
            .unwrap_or(false);
        let seat = self.seat.clone();
        let (result, news) = tokio::task::spawn_blocking(move || {
            let mut state = seat.begin()?;
            let before = state.identity.clone();
            let result = op(&mut state);
            let news = (wanted && result.is_ok()).then(|| news_of(&mut state));
            seat.finish(state, &before);
            Ok((result, news))
        })
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("the operation crashed ({e})"))))?;
        match news {
            Some(Ok(news)) => NOTICE.with(|n| n.replace(Notice::Found(news.map(Box::new)))),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "could not look for new mail");
                NOTICE.with(|n| n.replace(Notice::Found(None)))
            }
            None => return result,
        };
        result
    }

    /// Runs `op` like [`Self::blocking`] and shapes its result as a tool result.
    pub(crate) async fn run<T, F>(&self, op: F) -> CallToolResult
    where
        T: Serialize + Render + Send + 'static,
        F: FnOnce(&mut State) -> Result<T, Error> + Send + 'static,
    {
        reply(self.blocking(op).await)
    }

    /// Runs `op` like [`Self::run`], answering with the lean view `V` of its result (see
    /// [`crate::views`]).
    pub(crate) async fn run_lean<V, T, F>(&self, op: F) -> CallToolResult
    where
        T: Render + Send + 'static,
        V: Serialize + for<'a> From<&'a T> + Send + 'static,
        F: FnOnce(&mut State) -> Result<T, Error> + Send + 'static,
    {
        reply(self.blocking(op).await.map(Lean::<T, V>::of))
    }
}

impl SwitchboardServer {
    /// The capabilities and identity this server announces.
    pub(crate) fn config(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_resources_subscribe()
            .build();
        if self.channel {
            capabilities.experimental = Some(
                [(CHANNEL_CAPABILITY.to_string(), Default::default())]
                    .into_iter()
                    .collect(),
            );
        }
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("switchboard", env!("CARGO_PKG_VERSION"))
                    .with_title("Switchboard"),
            )
            .with_instructions(self.instructions())
    }

    /// The playbook, opened by who this server acts for (a shared server acts for a
    /// different agent per request, so it gives only the playbook).
    fn instructions(&self) -> String {
        if self.callers.is_some() {
            return crate::playbook::INSTRUCTIONS.to_string();
        }
        let opening = self.seat.begin().map(|mut state| {
            let human = agent::local_human(&state.checkout).ok();
            let text =
                crate::playbook::instructions(&mut state.store, &state.identity, human.as_deref());
            let unchanged = state.identity.clone();
            self.seat.finish(state, &unchanged);
            text
        });
        opening.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot open the store for the instructions");
            crate::playbook::INSTRUCTIONS.to_string()
        })
    }

    /// Gives a stdio server that acts for nobody yet a name of this agent instance's own,
    /// made from its client's name (`clientInfo.name`), so that instances started from one
    /// committed configuration never share a name. A shared server's identity comes from
    /// each request's token instead.
    pub(crate) fn name_instance(&self, client: &str) {
        if self.callers.is_some() || self.named.swap(true, Ordering::SeqCst) {
            return;
        }
        if self.seat.identity().agent.is_some() {
            return;
        }
        let Ok(mut state) = self.seat.begin() else {
            return;
        };
        let name = agent::free_instance_name(&mut state.store, client);
        let before = state.identity.clone();
        state.identity.name_instance(name);
        self.seat.finish(state, &before);
    }
}
