//! MCP resources (`switchboard://inbox`, `switchboard://sessions`,
//! `switchboard://threads/{id}`) and their update notifications, in both subscription
//! styles: legacy `resources/subscribe` and 2026-07-28 `subscriptions/listen`.
//! Every fact pushed here is also reachable by a tool; agents need not subscribe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ReadResourceResult, Resource, ResourceContents, ResourceTemplate,
    ResourceUpdatedNotificationParam,
};
use rmcp::service::{SubscriptionContext, SubscriptionSendError, SubscriptionSink};
use rmcp::{ErrorData, Peer, RoleServer};
use switchboard_core::event::Event;
use switchboard_core::message::{self, InboxFilter};
use switchboard_core::session::{self, Filter};

use crate::server::SwitchboardServer;

pub(crate) const INBOX: &str = "switchboard://inbox";
pub(crate) const SESSIONS: &str = "switchboard://sessions";
const THREADS: &str = "switchboard://threads/";

/// Who is subscribed to what on this connection.
#[derive(Default)]
pub struct Subscriptions {
    state: Mutex<Listeners>,
    notifier_started: AtomicBool,
}

#[derive(Default)]
struct Listeners {
    /// Legacy subscriptions: URI → the peer to notify.
    legacy: HashMap<String, Peer<RoleServer>>,
    /// 2026-07-28 listen streams (each filters the URIs it accepted).
    sinks: Vec<SubscriptionSink>,
}

impl Subscriptions {
    fn listeners(&self) -> std::sync::MutexGuard<'_, Listeners> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The URIs of the resources (`switchboard://…`) that `event` changes for a connection
/// acting as `agent` (`None`: nobody yet): their subscribers are notified. An event this
/// version cannot read changes none.
pub fn affected_resources(event: &Event, agent: Option<&str>) -> Vec<String> {
    let change = &event.change;
    let mut uris: Vec<String> = change
        .threads()
        .into_iter()
        .map(|t| format!("{THREADS}{t}"))
        .collect();
    if agent.is_some_and(|a| change.concerns(a)) {
        uris.push(INBOX.into());
    }
    if change.session().is_some() {
        uris.push(SESSIONS.into());
    }
    uris
}

impl SwitchboardServer {
    /// Adds a legacy subscriber or a listen stream and makes sure this connection's
    /// notifier runs. Fails only when the store's changes cannot be watched.
    async fn add_listener(
        &self,
        add: impl FnOnce(&mut Listeners),
    ) -> Result<(), switchboard_core::Error> {
        // Watching before the listener is added, so no change after this call is missed.
        let events = self.hub.live.events().await?;
        let mut listeners = self.subscriptions.listeners();
        add(&mut listeners);
        if !self
            .subscriptions
            .notifier_started
            .swap(true, Ordering::SeqCst)
        {
            self.start_notifier(events);
        }
        Ok(())
    }

    /// The task that turns store changes (`events`) into resource update notifications
    /// for this connection. It ends when the connection has no listener left (decided
    /// under the listeners' lock, so a listener added meanwhile starts a new one).
    fn start_notifier(&self, mut events: tokio::sync::broadcast::Receiver<Arc<Event>>) {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let event = match events.recv().await {
                    Ok(event) => event,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        // What the missed events changed is unknown: every resource may have.
                        tracing::warn!(
                            missed,
                            "resource notifier fell behind; telling every subscriber to read again"
                        );
                        for uri in this.subscribed_uris() {
                            this.notify(&uri).await;
                        }
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                let agent = this.identity().agent;
                for uri in affected_resources(&event, agent.as_deref()) {
                    this.notify(&uri).await;
                }
                let listeners = this.subscriptions.listeners();
                if listeners.legacy.is_empty() && listeners.sinks.is_empty() {
                    this.subscriptions
                        .notifier_started
                        .store(false, Ordering::SeqCst);
                    return;
                }
            }
        });
    }

    /// Every resource someone on this connection may be listening to: the legacy
    /// subscriptions' URIs, and the listed resources (listen streams filter for themselves).
    fn subscribed_uris(&self) -> Vec<String> {
        let listeners = self.subscriptions.listeners();
        let mut uris: Vec<String> = listeners.legacy.keys().cloned().collect();
        if !listeners.sinks.is_empty() {
            uris.extend([INBOX.to_string(), SESSIONS.to_string()]);
        }
        uris.sort();
        uris.dedup();
        uris
    }

    async fn notify(&self, uri: &str) {
        let (peer, sinks) = {
            let listeners = self.subscriptions.listeners();
            (listeners.legacy.get(uri).cloned(), listeners.sinks.clone())
        };
        if let Some(peer) = peer
            && let Err(e) = peer
                .notify_resource_updated(ResourceUpdatedNotificationParam::new(uri))
                .await
        {
            tracing::debug!(error = %e, uri, "legacy subscriber gone");
            self.subscriptions.listeners().legacy.remove(uri);
        }
        for sink in sinks {
            match sink.notify_resource_updated(uri.to_string()).await {
                Ok(()) | Err(SubscriptionSendError::NotificationNotAccepted(_)) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "listen stream closed");
                    self.subscriptions
                        .listeners()
                        .sinks
                        .retain(|s| s.id() != sink.id());
                }
            }
        }
    }

    /// Every resource this server lists.
    pub(crate) fn resource_list(&self) -> Vec<Resource> {
        vec![
            Resource::new(INBOX, "inbox")
                .with_description("Your inbox: unread messages first (JSON).")
                .with_mime_type("application/json"),
            Resource::new(SESSIONS, "sessions")
                .with_description("Recent sessions of every agent (JSON).")
                .with_mime_type("application/json"),
        ]
    }

    pub(crate) fn resource_templates(&self) -> Vec<ResourceTemplate> {
        vec![
            ResourceTemplate::new(format!("{THREADS}{{id}}"), "thread")
                .with_description("One thread's messages that you can see, in order (JSON).")
                .with_mime_type("application/json"),
        ]
    }

    /// Reads a resource for the caller bound to this server.
    pub(crate) async fn read(&self, uri: String) -> Result<ReadResourceResult, ErrorData> {
        let text = self.resource_text(uri.clone()).await?;
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, uri).with_mime_type("application/json"),
        ]))
    }

    /// Adds a legacy (2025-11-25) subscription to `uri` for `peer`.
    pub(crate) async fn subscribe_legacy(
        &self,
        uri: String,
        peer: Peer<RoleServer>,
    ) -> Result<(), switchboard_core::Error> {
        self.add_listener(|l| {
            l.legacy.insert(uri, peer);
        })
        .await
    }

    pub(crate) fn unsubscribe_legacy(&self, uri: &str) {
        self.subscriptions.listeners().legacy.remove(uri);
    }

    /// Streams updates on a 2026-07-28 listen stream until the client cancels or the
    /// server stops (then the stream ends with its final result, so the client knows to
    /// listen again elsewhere).
    pub(crate) async fn listen_on(
        &self,
        context: SubscriptionContext,
    ) -> Result<(), switchboard_core::Error> {
        let sink = context.sink().clone();
        self.add_listener(|l| l.sinks.push(sink.clone())).await?;
        tokio::select! {
            () = context.cancelled() => {}
            () = self.hub.stopping.cancelled() => {}
        }
        self.subscriptions
            .listeners()
            .sinks
            .retain(|s| s.id() != sink.id());
        Ok(())
    }

    /// The JSON text of a resource, as the calling agent sees it.
    async fn resource_text(&self, uri: String) -> Result<String, ErrorData> {
        let requested = serde_json::json!({ "uri": uri });
        let thread = uri.strip_prefix(THREADS).map(str::to_string);
        if uri != SESSIONS && uri != INBOX && thread.is_none() {
            let text = format!("no resource matches '{uri}'");
            return Err(ErrorData::resource_not_found(text, Some(requested)));
        }
        let result = self
            .blocking(move |st| {
                let value = if uri == SESSIONS {
                    serde_json::to_value(session::list(&mut st.store, &Filter::default())?)
                } else if let Some(id) = thread {
                    let agent = st.identity.agent()?.to_string();
                    serde_json::to_value(message::thread(&mut st.store, &agent, &id)?)
                } else {
                    let agent = st.identity.agent()?.to_string();
                    let filter = InboxFilter::default();
                    serde_json::to_value(message::inbox(&mut st.store, &agent, &filter)?)
                };
                Ok(serde_json::to_string_pretty(&value?)?)
            })
            .await;
        result.map_err(|e| match e {
            switchboard_core::Error::NotFound { .. } => {
                ErrorData::resource_not_found(e.to_string(), Some(requested))
            }
            other => ErrorData::invalid_request(other.to_string(), None),
        })
    }
}
