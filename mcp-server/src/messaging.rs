//! The messaging tools: send, reply, read, wait, search, edit, delete and groups.

use crate::args::Args;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use switchboard_core::group::{self, Group};
use switchboard_core::message::{
    self, Author, Draft, Hit, InboxFilter, InboxPage, Message, Reply, SentMessage, Thread, Version,
};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::reply::{Render, failure, reply};
use crate::schema;
use crate::server::{Counted, Identity, SwitchboardServer};
use crate::views::{self, InboxView, SentView, ThreadView};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct IdsArgs {
    /// Message ids.
    pub ids: Vec<String>,
    /// Acknowledge too (when the sender asked, ack_required).
    pub ack: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessageArgs {
    /// Message id.
    pub message: String,
    /// Include earlier versions.
    pub history: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct EditArgs {
    /// Message id.
    pub message: String,
    /// New text.
    pub body: String,
    /// New subject.
    pub subject: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DeleteArgs {
    /// Message id.
    pub message: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ThreadArgs {
    /// Thread id.
    pub thread: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SentArgs {
    /// Only seq below this (paging).
    pub before: Option<i64>,
    /// Default 20.
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// Words (word* for prefixes).
    pub query: String,
    /// Only from this sender.
    pub from: Option<String>,
    /// Only this thread.
    pub thread: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WaitArgs {
    /// Only from this sender.
    pub from: Option<String>,
    /// Only this thread (an answer).
    pub thread: Option<String>,
    /// Default 60, max 600.
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GroupCreateArgs {
    /// Group name.
    pub name: String,
    /// Agent names or role:<role>.
    pub members: Option<Vec<String>>,
    /// What it is for.
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GroupUpdateArgs {
    /// Group name.
    pub name: String,
    /// Agent names or role:<role>.
    pub add: Option<Vec<String>>,
    /// Agent names or role:<role>.
    pub remove: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GroupArgs {
    /// Group name.
    pub name: String,
}

/// Messages just marked read or acknowledged.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Marked {
    /// The ids marked (in full).
    pub marked: Vec<String>,
    #[serde(skip)]
    pub messages: Vec<Message>,
    /// Unread messages left in your inbox.
    pub unread: u64,
}

/// One message and, on request, its earlier versions.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MessageDetail {
    #[serde(serialize_with = "views::message")]
    #[schemars(with = "views::MessageView")]
    pub message: Message,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Version>,
}

/// What the caller sent, with each recipient's state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SentList {
    #[serde(serialize_with = "views::sent")]
    #[schemars(with = "Vec<views::SentMessageView>")]
    pub sent: Vec<SentMessage>,
}

/// Search results.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Hits {
    #[serde(serialize_with = "views::hits")]
    #[schemars(with = "Vec<views::HitView>")]
    pub hits: Vec<Hit>,
}

/// What a wait returned: matching unread messages new to your session, or a timeout.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Waited {
    #[serde(serialize_with = "views::messages")]
    #[schemars(with = "Vec<views::MessageView>")]
    pub messages: Vec<Message>,
    /// Your other unread messages, not returned here (shown to you before, or not matching
    /// the filter): see inbox_read.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub older_unread: u64,
    pub timed_out: bool,
    /// The server is shutting down: reconnect (or restart it) and call message_wait again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shutdown: bool,
    /// A value of yours that was changed (e.g. a timeout over the limit).
    pub note: Option<String>,
}

/// Every group.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Groups {
    pub groups: Vec<Group>,
}

/// References in their short form (`file:src/lib.rs:12-40`).
fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn author(identity: &Identity) -> Result<Author, switchboard_core::Error> {
    Ok(Author {
        agent: identity.agent()?.to_string(),
        session: identity.session.clone(),
    })
}

fn viewer(identity: &Identity) -> Result<String, switchboard_core::Error> {
    Ok(identity.agent()?.to_string())
}

impl Render for Message {
    fn render(&self) -> String {
        switchboard_core::render::message(self)
    }
}

impl Render for Marked {
    fn render(&self) -> String {
        format!(
            "{}\n{} unread left",
            switchboard_core::render::messages(&self.messages),
            self.unread
        )
    }
}

impl Render for MessageDetail {
    fn render(&self) -> String {
        let mut text = self.message.render();
        for v in &self.history {
            text.push_str(&format!(
                "\n--- version {} ({})\n{}",
                v.version,
                v.written_at.to_rfc3339(),
                v.body
            ));
        }
        text
    }
}

impl Render for InboxPage {
    fn render(&self) -> String {
        switchboard_core::render::inbox(self)
    }
}

impl Render for Thread {
    fn render(&self) -> String {
        switchboard_core::render::thread(self)
    }
}

impl Render for SentList {
    fn render(&self) -> String {
        switchboard_core::render::sent(&self.sent)
    }
}

impl Render for Hits {
    fn render(&self) -> String {
        if self.hits.is_empty() {
            return "no messages match".into();
        }
        self.hits
            .iter()
            .map(|h| {
                format!(
                    "{} {} from {}: {}",
                    h.message.id, h.message.thread, h.message.sender, h.snippet
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Render for Waited {
    fn render(&self) -> String {
        let mut text = if self.timed_out {
            "timed out: no new matching message arrived".to_string()
        } else if self.shutdown {
            "the Switchboard server is shutting down: reconnect and call message_wait again".into()
        } else {
            switchboard_core::render::messages(&self.messages)
        };
        if let Some(note) = &self.note {
            text.push_str(&format!("\n{note}"));
        }
        if self.older_unread > 0 {
            text.push_str(&format!(
                "\n{} other unread message(s), shown before or not matching: inbox_read {{unread_only: true}}",
                self.older_unread
            ));
        }
        text
    }
}

impl Render for Group {
    fn render(&self) -> String {
        switchboard_core::render::groups(std::slice::from_ref(self))
    }
}

impl Render for Groups {
    fn render(&self) -> String {
        switchboard_core::render::groups(&self.groups)
    }
}

impl SwitchboardServer {
    /// Marks messages read, or acknowledged, for the caller.
    async fn mark(&self, ids: Vec<String>, acked: bool) -> CallToolResult {
        self.run(move |st| {
            let me = viewer(&st.identity)?;
            let messages = message::mark(&mut st.store, &me, &ids, acked)?;
            Ok(Marked {
                marked: messages.iter().map(|m| m.id.clone()).collect(),
                unread: message::unread(&mut st.store, &me)?,
                messages,
            })
        })
        .await
    }
}

#[tool_router(router = message_tools, vis = "pub(crate)")]
impl SwitchboardServer {
    /// Send a message (new thread); an unknown recipient fails it all.
    #[tool(
        input_schema = schema::input::<Draft>(),
        output_schema = schema::output::<SentView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn message_send(&self, Args(draft): Args<Draft>) -> CallToolResult {
        self.run_lean::<SentView, _, _>(move |st| {
            message::send(&mut st.store, &author(&st.identity)?, &draft)
        })
        .await
    }

    /// Reply in a message's thread (marks it read).
    #[tool(
        input_schema = schema::input::<Reply>(),
        output_schema = schema::output::<SentView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn message_reply(&self, Args(reply): Args<Reply>) -> CallToolResult {
        self.run_lean::<SentView, _, _>(move |st| {
            let author = author(&st.identity)?;
            message::reply(&mut st.store, &author, &reply.message, &reply.draft())
        })
        .await
    }

    /// Your inbox, unread first. Marks nothing read; message_wait will not return what it lists.
    #[tool(
        input_schema = schema::input::<InboxFilter>(),
        output_schema = schema::output::<InboxView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn inbox_read(&self, Args(filter): Args<InboxFilter>) -> CallToolResult {
        self.run_lean::<InboxView, _, _>(move |st| {
            let me = viewer(&st.identity)?;
            message::look(&mut st.store, &me, st.identity.session.as_deref(), &filter)
        })
        .await
    }

    /// Mark messages read (ack: true also acknowledges them).
    #[tool(
        input_schema = schema::input::<IdsArgs>(),
        output_schema = schema::output::<Marked>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn message_read(&self, Args(args): Args<IdsArgs>) -> CallToolResult {
        self.mark(args.ids, args.ack.unwrap_or(false)).await
    }

    /// One message you sent or received.
    #[tool(
        input_schema = schema::input::<MessageArgs>(),
        output_schema = schema::output::<MessageDetail>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn message_get(&self, Args(args): Args<MessageArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = viewer(&st.identity)?;
            let message = message::get(&mut st.store, &me, &args.message)?;
            let history = if args.history.unwrap_or(false) && message.deleted_at.is_none() {
                message::history(&mut st.store, &me, &message.id)?
            } else {
                Vec::new()
            };
            Ok(MessageDetail { message, history })
        })
        .await
    }

    /// Edit your message (earlier versions are kept).
    #[tool(
        input_schema = schema::input::<EditArgs>(),
        output_schema = schema::output::<SentView>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn message_edit(&self, Args(args): Args<EditArgs>) -> CallToolResult {
        self.run_lean::<SentView, _, _>(move |st| {
            message::edit(
                &mut st.store,
                &viewer(&st.identity)?,
                &args.message,
                &args.body,
                args.subject.as_deref(),
            )
        })
        .await
    }

    /// Delete your message; recipients see a tombstone.
    #[tool(
        input_schema = schema::input::<DeleteArgs>(),
        output_schema = schema::output::<SentView>(),
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn message_delete(&self, Args(args): Args<DeleteArgs>) -> CallToolResult {
        self.run_lean::<SentView, _, _>(move |st| {
            message::delete(&mut st.store, &viewer(&st.identity)?, &args.message)
        })
        .await
    }

    /// A thread's messages you can see, in order.
    #[tool(
        input_schema = schema::input::<ThreadArgs>(),
        output_schema = schema::output::<ThreadView>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn thread_get(&self, Args(args): Args<ThreadArgs>) -> CallToolResult {
        self.run_lean::<ThreadView, _, _>(move |st| {
            message::thread(&mut st.store, &viewer(&st.identity)?, &args.thread)
        })
        .await
    }

    /// What you sent, newest first, with each recipient's state.
    #[tool(
        input_schema = schema::input::<SentArgs>(),
        output_schema = schema::output::<SentList>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn message_sent(&self, Args(args): Args<SentArgs>) -> CallToolResult {
        self.run(move |st| {
            Ok(SentList {
                sent: message::sent(
                    &mut st.store,
                    &viewer(&st.identity)?,
                    args.before,
                    args.limit,
                )?,
            })
        })
        .await
    }

    /// Full-text search of messages you can see.
    #[tool(
        input_schema = schema::input::<SearchArgs>(),
        output_schema = schema::output::<Hits>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn message_search(&self, Args(args): Args<SearchArgs>) -> CallToolResult {
        self.run(move |st| {
            let filter = InboxFilter {
                from: args.from,
                thread: args.thread,
                ..Default::default()
            };
            Ok(Hits {
                hits: message::search(&mut st.store, &viewer(&st.identity)?, &args.query, &filter)?,
            })
        })
        .await
    }

    /// Block until a message for you arrives. Each comes once per session; older_unread counts unread ones shown before.
    #[tool(
        input_schema = schema::input::<WaitArgs>(),
        output_schema = schema::output::<Waited>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn message_wait(
        &self,
        Args(args): Args<WaitArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let (timeout, note) = message::wait_timeout(args.timeout_secs);
        let deadline = tokio::time::Instant::now() + timeout;
        let filter = InboxFilter {
            from: args.from,
            thread: args.thread,
            ..Default::default()
        };
        let _counted = Counted::enter(&self.hub.waits);
        // Subscribe before looking, so a message committed in between still wakes us.
        let mut events = match self.hub.live.events().await {
            Ok(events) => events,
            Err(e) => return reply::<Waited>(Err(e)),
        };
        loop {
            // Mail seen so far is what the look below finds.
            while let Ok(_) | Err(TryRecvError::Lagged(_)) = events.try_recv() {}
            let check = filter.clone();
            let found = self
                .blocking(move |st| {
                    let me = viewer(&st.identity)?;
                    message::arrivals(&mut st.store, &me, st.identity.session.as_deref(), &check)
                })
                .await;
            let older_unread = match found {
                Err(e) => return reply::<Waited>(Err(e)),
                Ok(arrived) if !arrived.messages.is_empty() => {
                    return reply(Ok(Waited {
                        messages: arrived.messages,
                        older_unread: arrived.older_unread,
                        timed_out: false,
                        shutdown: false,
                        note,
                    }));
                }
                Ok(arrived) => arrived.older_unread,
            };
            let waited = |timed_out, shutdown| Waited {
                messages: Vec::new(),
                older_unread,
                timed_out,
                shutdown,
                note: note.clone(),
            };
            // Looks again only when mail to this agent was committed (or some events were
            // missed), as the wake hook and `messages watch` do.
            loop {
                let received = tokio::select! {
                    () = context.ct.cancelled() => return failure("message_wait was cancelled".into()),
                    () = tokio::time::sleep_until(deadline) => return reply(Ok(waited(true, false))),
                    () = self.hub.stopping.cancelled() => return reply(Ok(waited(false, true))),
                    received = events.recv() => received,
                };
                match received {
                    Ok(event) if !self.mail_in(&event) => {}
                    Ok(_) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => {
                        return failure(
                            "switchboard stopped watching for changes; call message_wait again"
                                .into(),
                        );
                    }
                }
            }
        }
    }

    /// Create a group, addressed as @name.
    #[tool(
        input_schema = schema::input::<GroupCreateArgs>(),
        output_schema = schema::output::<Group>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn group_create(&self, Args(args): Args<GroupCreateArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = viewer(&st.identity)?;
            group::create(
                &mut st.store,
                &me,
                &args.name,
                args.description.as_deref(),
                &args.members.unwrap_or_default(),
            )
        })
        .await
    }

    /// Add or remove group members.
    #[tool(
        input_schema = schema::input::<GroupUpdateArgs>(),
        output_schema = schema::output::<Group>(),
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false)
    )]
    async fn group_update(&self, Args(args): Args<GroupUpdateArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = viewer(&st.identity)?;
            group::update(
                &mut st.store,
                &me,
                &args.name,
                &args.add.unwrap_or_default(),
                &args.remove.unwrap_or_default(),
            )
        })
        .await
    }

    /// Groups and their members.
    #[tool(
        output_schema = schema::output::<Groups>(),
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn group_list(&self) -> CallToolResult {
        self.run(|st| {
            Ok(Groups {
                groups: group::list(&mut st.store)?,
            })
        })
        .await
    }

    /// Delete a group (sent messages keep their recipients).
    #[tool(
        input_schema = schema::input::<GroupArgs>(),
        output_schema = schema::output::<Group>(),
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn group_delete(&self, Args(args): Args<GroupArgs>) -> CallToolResult {
        self.run(move |st| {
            let me = viewer(&st.identity)?;
            group::delete(&mut st.store, &me, &args.name)
        })
        .await
    }
}
