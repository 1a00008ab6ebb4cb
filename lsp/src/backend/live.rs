//! Live updates: per repository, the change feed turned into debounced
//! `switchboard/stateChanged` pushes (with refreshed diagnostics and code lenses), the
//! periodic look for overdue mail, and popups for urgent messages to the human.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use switchboard_core::claim::{self, Claim, ClaimState};
use switchboard_core::clock::Timestamp;
use switchboard_core::event::{Change, Event};
use switchboard_core::feed::{ChangeFeed, Watch};
use switchboard_core::message::{self, Priority};
use tower_lsp_server::ls_types::MessageType;
use tower_lsp_server::ls_types::notification::Notification;

use super::Backend;
use crate::protocol::{self, StateChanged, Topic};
use crate::repo::Repo;

/// Batches of changes a repository's feed may hold for the push loop before it waits
/// (back-pressure: the events stay in the log meanwhile).
const FEED_BATCHES: usize = 64;
/// After a push, further changes within this window are merged into one push.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// How often the companion looks for mail agents have left unread too long, and for
/// claims that expired or whose holder went stale.
const CLOCK_INTERVAL: Duration = Duration::from_secs(30);

/// `switchboard/stateChanged`.
pub enum StateChangedNotification {}

impl Notification for StateChangedNotification {
    type Params = StateChanged;
    const METHOD: &'static str = protocol::STATE_CHANGED;
}

impl Backend {
    /// Starts, per repository, the change feed and a task that turns its events into
    /// debounced pushes, refreshed diagnostics and urgent-message popups. A feed that
    /// cannot start is reported to the user (live updates are then off for that folder).
    pub(super) async fn start_live(self: &Arc<Self>) {
        for repo in self.repos() {
            let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Event>>(FEED_BATCHES);
            let (store, settings, after) =
                (repo.store.clone(), repo.settings.clone(), repo.opened_at);
            let started = tokio::task::spawn_blocking(move || {
                let feed = ChangeFeed::open_after(&store, settings, Some(after))?;
                Watch::start(feed, "sb-lsp-feed", move |batch| {
                    match tx.blocking_send(batch) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    }
                })
            })
            .await;
            let watch = match started {
                Ok(Ok(watch)) => watch,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "cannot watch the state database");
                    let text = format!(
                        "Switchboard cannot watch {}: {e}. The views will not update by themselves; reload the window to try again.",
                        repo.store
                    );
                    self.client.show_message(MessageType::ERROR, text).await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(error = %e, "starting the change feed crashed");
                    continue;
                }
            };
            let this = self.clone();
            let watched = repo.clone();
            tokio::spawn(async move { this.push_loop(repo, rx, watch).await });
            let this = self.clone();
            tokio::spawn(async move { this.clock_loop(watched).await });
        }
    }

    /// Every [`CLOCK_INTERVAL`] (and when the first claim in force expires, or claims
    /// change), looks at what changes with time alone, which no event announces: mail
    /// agents have left unread too long (when that list changes the sidebar is told,
    /// `stateChanged` messages, and newly overdue urgent messages pop up), and claims that
    /// expired or whose holder went stale (the views and diagnostics are refreshed,
    /// `stateChanged` sessions).
    async fn clock_loop(self: Arc<Self>, repo: Repo) {
        let mut known: BTreeSet<String> = BTreeSet::new();
        let mut claims: Option<Vec<(String, ClaimState)>> = None;
        let mut told = false;
        loop {
            let after = repo.escalate_after;
            let found = repo
                .with_store(move |store, _| message::overdue(store, after))
                .await;
            match found {
                Ok(late) => {
                    let ids: BTreeSet<String> = late.iter().map(|o| o.id.clone()).collect();
                    if ids != known {
                        self.tell_changed(&repo, Topic::Messages).await;
                        for o in late
                            .iter()
                            .filter(|o| o.priority == Priority::Urgent && !known.contains(&o.id))
                        {
                            self.client
                                .show_message(
                                    MessageType::WARNING,
                                    switchboard_core::render::overdue(o, after),
                                )
                                .await;
                        }
                        known = ids;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for overdue mail"),
            }
            let mut next = CLOCK_INTERVAL;
            match repo.with_store(|store, _| claim::list(store, false)).await {
                Ok(list) => {
                    next = next.min(until_first_expiry(&list));
                    let now: Vec<(String, ClaimState)> =
                        list.into_iter().map(|c| (c.id, c.state)).collect();
                    // After a claim event the push has told the editor already.
                    if !told && claims.as_ref().is_some_and(|before| *before != now) {
                        self.tell_changed(&repo, Topic::Sessions).await;
                        self.refresh_diagnostics().await;
                    }
                    claims = Some(now);
                }
                Err(e) => tracing::warn!(error = %e, "cannot look at the claims in force"),
            }
            told = tokio::select! {
                () = tokio::time::sleep(next) => false,
                () = repo.claims_changed.notified() => true,
            };
        }
    }

    /// Tells the editor that `topic` of `repo` changed (`switchboard/stateChanged`).
    async fn tell_changed(&self, repo: &Repo, topic: Topic) {
        let note = StateChanged {
            version: self.version.load(Ordering::SeqCst),
            repo: repo.root.display().to_string(),
            changed: vec![topic],
        };
        self.client
            .send_notification::<StateChangedNotification>(note)
            .await;
    }

    /// Pushes each batch of changes at once, then merges whatever arrives within
    /// [`DEBOUNCE`] into one trailing push. Ends (stopping the feed, `_watch`) when the
    /// feed's channel closes.
    async fn push_loop(
        self: Arc<Self>,
        repo: Repo,
        mut rx: tokio::sync::mpsc::Receiver<Vec<Event>>,
        _watch: Watch,
    ) {
        while let Some(mut batch) = rx.recv().await {
            while let Ok(more) = rx.try_recv() {
                batch.extend(more);
            }
            self.push(&repo, &batch).await;
            tokio::time::sleep(DEBOUNCE).await;
            let mut trailing = Vec::new();
            while let Ok(more) = rx.try_recv() {
                trailing.extend(more);
            }
            if !trailing.is_empty() {
                self.push(&repo, &trailing).await;
            }
        }
    }

    async fn push(&self, repo: &Repo, events: &[Event]) {
        let changed: BTreeSet<Topic> = events
            .iter()
            .flat_map(|e| e.change.topics())
            .copied()
            .collect();
        let Some(last) = events.last() else { return };
        self.version.fetch_max(last.seq, Ordering::SeqCst);
        if events.iter().any(|e| {
            matches!(
                e.change,
                Change::ClaimMade(_) | Change::ClaimRenewed(_) | Change::ClaimReleased(_)
            )
        }) {
            repo.claims_changed.notify_one();
        }
        if changed.is_empty() {
            return;
        }
        let note = StateChanged {
            version: last.seq,
            repo: repo.root.display().to_string(),
            changed: changed.iter().copied().collect(),
        };
        self.client
            .send_notification::<StateChangedNotification>(note)
            .await;
        for event in events {
            self.alert_if_urgent(repo, event).await;
        }
        if changed.contains(&Topic::Sessions) || changed.contains(&Topic::Worktrees) {
            self.refresh_diagnostics().await;
            if self.code_lens_refresh.load(Ordering::Relaxed) {
                let _ = self.client.code_lens_refresh().await;
            }
        }
    }

    /// Pops up urgent messages addressed to the human.
    async fn alert_if_urgent(&self, repo: &Repo, event: &Event) {
        let Change::MessageSent(sent) = &event.change else {
            return;
        };
        if sent.priority != Priority::Urgent || !event.change.concerns(&repo.human) {
            return;
        }
        let id = sent.id.clone();
        let got = repo
            .with_store(move |store, repo| message::get(store, &repo.human, &id))
            .await;
        if let Ok(m) = got {
            let text = m
                .subject
                .clone()
                .or_else(|| m.body.clone())
                .unwrap_or_default();
            self.client
                .show_message(
                    MessageType::WARNING,
                    format!(
                        "Urgent message from {}: {}",
                        m.sender,
                        text.lines().next().unwrap_or("")
                    ),
                )
                .await;
        }
    }
}

/// How long until the first of `claims` expires (a moment after, so that it has), or
/// [`CLOCK_INTERVAL`] when none will sooner.
fn until_first_expiry(claims: &[Claim]) -> Duration {
    let now = Timestamp::now().millis();
    claims
        .iter()
        .map(|c| c.expires_at.millis().saturating_sub(now))
        .min()
        .map_or(CLOCK_INTERVAL, |ms| {
            Duration::from_millis(u64::try_from(ms).unwrap_or(0) + 50).min(CLOCK_INTERVAL)
        })
}
