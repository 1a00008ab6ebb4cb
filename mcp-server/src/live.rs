//! Live change delivery inside one process: a thread polls the shared store's change feed
//! and publishes what any process committed, to waiters (`message_wait`) and resource
//! subscriptions.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use switchboard_core::event::Event;
use switchboard_core::feed::ChangeFeed;
use switchboard_core::{Error, Settings};
use tokio::sync::{broadcast, watch};

/// How often the feed looks for commits by other connections. One cheap query each time.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Least time between two WAL checkpoints run by the feed thread after changes.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// Handle on the feed thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    latest: watch::Receiver<i64>,
    events: broadcast::Sender<Arc<Event>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Live {
    /// Opens a feed on the database at `path` and starts polling it.
    pub fn start(path: &Path, settings: Settings) -> Result<Live, Error> {
        let mut feed = ChangeFeed::open(path, settings)?;
        let (latest_tx, latest) = watch::channel(feed.last_seq());
        let (events, _) = broadcast::channel(4096);
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_events, thread_stop) = (events.clone(), stop.clone());
        std::thread::Builder::new()
            .name("switchboard-feed".into())
            .spawn(move || {
                let mut last_checkpoint = std::time::Instant::now();
                let mut dirty = false;
                while !thread_stop.load(Ordering::Relaxed) {
                    if dirty && last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL {
                        if let Err(e) = feed.checkpoint() {
                            tracing::debug!(error = %e, "passive checkpoint failed; will retry");
                        }
                        last_checkpoint = std::time::Instant::now();
                        dirty = false;
                    }
                    match feed.poll() {
                        Ok(batch) if !batch.is_empty() => {
                            dirty = true;
                            for event in batch {
                                // No receiver is fine: nobody subscribed yet.
                                let _ = thread_events.send(Arc::new(event));
                            }
                            latest_tx.send_replace(feed.last_seq());
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "change feed poll failed; retrying"),
                    }
                    std::thread::sleep(POLL_INTERVAL);
                }
            })
            .map_err(|e| Error::Conflict(format!("cannot start the change feed thread: {e}")))?;
        Ok(Live {
            inner: Arc::new(Inner {
                latest,
                events,
                stop,
            }),
        })
    }

    /// A receiver that changes whenever any process commits an event.
    pub fn changes(&self) -> watch::Receiver<i64> {
        let mut rx = self.inner.latest.clone();
        rx.mark_unchanged();
        rx
    }

    /// Every event, as it is seen.
    pub fn events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.events.subscribe()
    }
}
