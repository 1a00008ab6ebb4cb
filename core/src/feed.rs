//! The change feed: how a process learns of changes any process made to the store, in
//! commit order, without polling while nothing happens.
//!
//! A [`ChangeFeed`] is a cursor over the event log on its own connection. It sleeps until
//! the store's change source says another connection may have committed (on SQLite, a
//! file-change notification on a side file every writer touches after it commits), confirms with one cheap query
//! ([`Store::data_version`]), and only then reads the new events. A slow safety poll
//! ([`SAFETY_POLL`]) covers a notification that never came.
//!
//! Blocking loops (the wake hook, `messages watch`) call [`ChangeFeed::wait`] between
//! their own checks; servers run a [`Watch`]: the same feed on its own thread, handing
//! batches to a sink that may block (back-pressure) and stopping when dropped.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::store::changes::{ChangeSource, Interrupter, Woken};
use crate::{Error, Result, Settings, Store, StoreAddress};

/// Largest batch of events read at once.
const BATCH: u32 = 1000;

/// Longest a feed sleeps without looking at the store, notification or not.
pub const SAFETY_POLL: Duration = Duration::from_secs(1);

/// Longest a feed whose change source counts signs of commits goes without looking at the
/// store when no sign came (see `ChangeFeed::quiet`).
const QUIET_POLL: Duration = Duration::from_secs(30);

/// Least time between two looks at the store prompted by notifications. The first commit
/// after a quiet spell is seen at once; under a stream of commits by many processes, each
/// feed reads them in batches instead of waking for every one.
const COALESCE: Duration = Duration::from_millis(2);

/// Least time between two WAL checkpoints run by a [`Watch`] after changes.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// First and longest pause of a [`Watch`] after the store could not be read.
const RETRY_FIRST: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// A cursor over the event log on its own connection.
pub struct ChangeFeed {
    store: Store,
    last_seq: i64,
    last_version: Option<i64>,
    /// When the store was last looked at.
    last_look: Instant,
    /// The change source's count of signs of commits when the store was last looked at
    /// (see [`ChangeSource::version`]).
    signs_seen: Option<u64>,
    signal: Box<dyn ChangeSource>,
}

impl ChangeFeed {
    /// A feed over the store at `address` that reports events after the current end of
    /// the log.
    pub fn open(address: &StoreAddress, settings: Settings) -> Result<ChangeFeed> {
        Self::open_after(address, settings, None)
    }

    /// A feed that reports events after `after` (the current end of the log when `None`),
    /// so a caller that noted the log's end earlier misses nothing committed since.
    pub fn open_after(
        address: &StoreAddress,
        settings: Settings,
        after: Option<i64>,
    ) -> Result<ChangeFeed> {
        let mut store = Store::open_at(address, settings)?;
        // The change source before the log's end: a commit between reading the end and
        // starting to watch would otherwise go unnoticed until the safety poll.
        let signal = store.change_source()?;
        let last_seq = match after {
            Some(seq) => seq,
            None => store.latest_event_seq()?,
        };
        Ok(ChangeFeed {
            store,
            last_seq,
            last_version: None,
            last_look: Instant::now(),
            signs_seen: None,
            signal,
        })
    }

    /// The sequence number of the last event reported.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Checkpoints the WAL (passively), off every writer's commit path.
    pub fn checkpoint(&self) -> Result<()> {
        self.store.checkpoint()
    }

    /// Events committed since the previous call, oldest first; empty (after one cheap
    /// query) when no connection has committed anything since. Never blocks.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        self.last_look = Instant::now();
        self.signs_seen = self.signal.version();
        let version = self.store.data_version()?;
        if version.is_some() && self.last_version == version {
            return Ok(Vec::new());
        }
        self.last_version = version;
        let mut events = Vec::new();
        loop {
            let batch = self.store.events_after(self.last_seq, BATCH)?;
            let full = batch.len() == BATCH as usize;
            if let Some(last) = batch.last() {
                self.last_seq = last.seq;
            }
            events.extend(batch);
            if !full {
                return Ok(events);
            }
        }
    }

    /// Waits until events are committed after the last one reported and returns them,
    /// oldest first; empty when `timeout` passed first or the wait was interrupted (a
    /// [`Watch`] being stopped).
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<Event>> {
        let deadline = Instant::now() + timeout;
        let mut look = true;
        loop {
            if look {
                let events = self.poll()?;
                if !events.is_empty() {
                    return Ok(events);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            look = match self.signal.wait(left.min(SAFETY_POLL)) {
                Woken::Interrupted => return Ok(Vec::new()),
                Woken::TimedOut => !self.quiet(),
                // Looks now, or COALESCE after the last look (within the deadline).
                Woken::Changed => {
                    std::thread::sleep(
                        COALESCE
                            .saturating_sub(self.last_look.elapsed())
                            .min(deadline.saturating_duration_since(Instant::now())),
                    );
                    true
                }
            };
        }
    }

    /// Whether a safety look can be skipped: the change source counts signs of commits
    /// (a server's notifications, which it does not lose while connected, and its
    /// reconnections), none came since the last look, and that look is recent. An idle
    /// feed on PostgreSQL then queries the server every [`QUIET_POLL`], not every second.
    fn quiet(&self) -> bool {
        let signs = self.signal.version();
        signs.is_some() && signs == self.signs_seen && self.last_look.elapsed() < QUIET_POLL
    }
}

/// A [`ChangeFeed`] on its own thread; the thread stops when this is dropped.
pub struct Watch {
    stop: Arc<AtomicBool>,
    interrupter: Interrupter,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.interrupter.interrupt();
    }
}

impl Watch {
    /// Runs `feed` on a thread named `name`, handing `sink` every batch of new events in
    /// order. The sink may block: the feed reads nothing more until it returns, and the
    /// events wait in the log meanwhile (none is lost or dropped). The thread stops when
    /// the sink returns `Break` or this handle is dropped. A failure to read the store is
    /// logged and retried with back-off (the events stay in the log for the retry); it
    /// never ends the watch. Also checkpoints the WAL passively after changes, so that
    /// writers rarely pay for a checkpoint.
    pub fn start(
        mut feed: ChangeFeed,
        name: &str,
        mut sink: impl FnMut(Vec<Event>) -> ControlFlow<()> + Send + 'static,
    ) -> Result<Watch> {
        let stop = Arc::new(AtomicBool::new(false));
        let interrupter = feed.signal.interrupter();
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut retry = RETRY_FIRST;
                let mut checkpoint_due: Option<Instant> = None;
                while !stopped.load(Ordering::SeqCst) {
                    let timeout = checkpoint_due
                        .map(|due| due.saturating_duration_since(Instant::now()))
                        .unwrap_or(SAFETY_POLL);
                    match feed.wait(timeout) {
                        Ok(batch) if batch.is_empty() => {}
                        Ok(batch) => {
                            retry = RETRY_FIRST;
                            checkpoint_due.get_or_insert(Instant::now() + CHECKPOINT_INTERVAL);
                            if sink(batch).is_break() {
                                return;
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the change feed cannot read the store; retrying in {} ms", retry.as_millis());
                            std::thread::sleep(retry);
                            retry = (retry * 2).min(RETRY_MAX);
                        }
                    }
                    if checkpoint_due.is_some_and(|due| Instant::now() >= due) {
                        checkpoint_due = None;
                        if let Err(e) = feed.checkpoint() {
                            tracing::debug!(error = %e, "passive checkpoint failed; will retry");
                        }
                    }
                }
            })
            .map_err(|source| Error::Io {
                context: "cannot start the change feed thread".into(),
                source,
            })?;
        Ok(Watch { stop, interrupter })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{self, NewSession};

    crate::every_backend! {
        fn the_feed_reports_commits_of_other_connections_once(backend) {
            let (scratch, mut writer) = scratch_store(backend);
            let path = scratch.address();
            session::start(
                &mut writer,
                &NewSession {
                    agent: "early".into(),
                    intent: "before the feed".into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let mut feed = ChangeFeed::open(&path, Settings::default()).unwrap();
            assert!(
                feed.poll().unwrap().is_empty(),
                "history before the feed opened is not replayed"
            );
            session::start(
                &mut writer,
                &NewSession {
                    agent: "a".into(),
                    intent: "x".into(),
                    ..Default::default()
                },
            )
            .unwrap();
            let events = feed.poll().unwrap();
            let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
            assert_eq!(kinds, ["agent.registered", "session.started"]);
            assert!(
                feed.poll().unwrap().is_empty(),
                "each event is reported once"
            );
            assert_eq!(feed.last_seq(), events[1].seq);
        }
    }

    fn start_session(store: &mut Store, agent: &str) {
        session::start(
            store,
            &NewSession {
                agent: agent.into(),
                intent: "x".into(),
                ..Default::default()
            },
        )
        .unwrap();
    }

    crate::every_backend! {
        fn a_wait_returns_when_another_process_commits(backend) {
            let (scratch, mut writer) = scratch_store(backend);
            let path = scratch.address();
            let mut feed = ChangeFeed::open(&path, Settings::default()).unwrap();
            assert!(feed.wait(Duration::from_millis(30)).unwrap().is_empty());
            let committer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                start_session(&mut writer, "late");
            });
            let mut kinds = Vec::new();
            while kinds.len() < 2 {
                let events = feed.wait(Duration::from_secs(30)).unwrap();
                assert!(!events.is_empty(), "the commit woke the wait");
                kinds.extend(events.into_iter().map(|e| e.kind));
            }
            assert_eq!(kinds, ["agent.registered", "session.started"]);
            committer.join().unwrap();
        }
    }

    crate::every_backend! {
        fn a_watch_delivers_every_batch_in_order_to_a_slow_sink_and_stops_when_dropped(backend) {
            let (scratch, mut writer) = scratch_store(backend);
            let path = scratch.address();
            let feed = ChangeFeed::open(&path, Settings::default()).unwrap();
            // A channel of one batch: the watch must wait for the reader, not drop.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(1);
            let watch = Watch::start(feed, "test-feed", move |batch| match tx.send(batch) {
                Ok(()) => ControlFlow::Continue(()),
                Err(_) => ControlFlow::Break(()),
            })
            .unwrap();
            for i in 0..5 {
                start_session(&mut writer, &format!("agent-{i}"));
            }
            let mut seqs = Vec::new();
            while seqs.len() < 10 {
                std::thread::sleep(Duration::from_millis(5));
                let batch = rx.recv_timeout(Duration::from_secs(30)).expect("a batch");
                seqs.extend(batch.iter().map(|e| e.seq));
            }
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
            drop(watch);
            assert_eq!(
                rx.recv_timeout(Duration::from_secs(30)),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected),
                "the thread ended and dropped its sink"
            );
        }
    }

    crate::every_backend! {
        /// Writers racing on one store commit their events in `seq` order, so a feed
        /// reading after its cursor while they write sees every event exactly once (on
        /// PostgreSQL, sequence values taken by concurrent transactions would commit out
        /// of order, and a reader would step over one committed late, without the
        /// writers' lock).
        fn racing_writers_never_make_the_feed_skip_an_event(backend) {
            let (scratch, mut store) = scratch_store(backend);
            let address = scratch.address();
            let mut feed = ChangeFeed::open(&address, Settings::default()).unwrap();
            let writers: Vec<_> = (0..4)
                .map(|w| {
                    let address = address.clone();
                    std::thread::spawn(move || {
                        let mut store = Store::open_at(&address, Settings::default()).unwrap();
                        for i in 0..40 {
                            start_session(&mut store, &format!("w{w}-{i}"));
                        }
                    })
                })
                .collect();
            let mut seen = Vec::new();
            while writers.iter().any(|w| !w.is_finished()) {
                seen.extend(feed.poll().unwrap().into_iter().map(|e| e.seq));
            }
            for writer in writers {
                writer.join().unwrap();
            }
            seen.extend(feed.poll().unwrap().into_iter().map(|e| e.seq));
            let all: Vec<i64> = store
                .events_after(0, 10_000)
                .unwrap()
                .into_iter()
                .map(|e| e.seq)
                .collect();
            assert_eq!(all.len(), 4 * 40 * 2, "two events per session started");
            assert_eq!(seen, all, "the feed saw every event once, in order");
        }
    }
}
