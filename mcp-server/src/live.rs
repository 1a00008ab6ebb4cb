//! Live change delivery inside one process: the core's change feed, on its own thread,
//! publishes what any process committed to waiters (`message_wait`) and resource
//! subscriptions.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use switchboard_core::event::Event;
use switchboard_core::feed::{ChangeFeed, Watch};
use switchboard_core::{Error, Settings};
use tokio::sync::{broadcast, watch};

/// Events kept for subscribers that fall behind; a slower one is told it lagged.
const BACKLOG: usize = 4096;

/// Handle on the feed thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    latest: watch::Receiver<i64>,
    events: broadcast::Sender<Arc<Event>>,
    /// Stops the feed thread when the last handle goes.
    _watch: Watch,
}

impl Live {
    /// Opens a feed on the database at `path` and starts watching it.
    pub fn start(path: &Path, settings: Settings) -> Result<Live, Error> {
        let feed = ChangeFeed::open(path, settings)?;
        let (latest_tx, latest) = watch::channel(feed.last_seq());
        let (events, _) = broadcast::channel(BACKLOG);
        let published = events.clone();
        let watch = Watch::start(feed, "switchboard-feed", move |batch| {
            let last = batch.last().map(|e| e.seq);
            for event in batch {
                // No receiver is fine: nobody subscribed yet.
                let _ = published.send(Arc::new(event));
            }
            if let Some(seq) = last {
                latest_tx.send_replace(seq);
            }
            ControlFlow::Continue(())
        })?;
        Ok(Live {
            inner: Arc::new(Inner {
                latest,
                events,
                _watch: watch,
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
