//! Live change delivery inside one process: the core's change feed, on its own thread,
//! publishes what any process committed to waiters (`message_wait`), resource
//! subscriptions and channel pushes.
//!
//! The feed starts with the first of them, not with the process: a server nobody waits
//! on or listens to reads no other process's commits (with sixteen agents sending, every
//! feed woke for every commit of every agent, a quarter of the machine's CPU).

use std::ops::ControlFlow;

use std::sync::{Arc, Mutex};

use switchboard_core::event::Event;
use switchboard_core::feed::{ChangeFeed, Watch};
use switchboard_core::{Error, Settings, StoreAddress};
use tokio::sync::broadcast;

/// Events kept for subscribers that fall behind; a slower one is told it lagged.
const BACKLOG: usize = 4096;

/// Handle on the feed thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    address: StoreAddress,
    settings: Settings,
    running: Mutex<Option<Arc<Running>>>,
}

/// The started feed.
struct Running {
    events: broadcast::Sender<Arc<Event>>,
    /// Stops the feed thread when the last handle goes.
    _watch: Watch,
}

impl Live {
    /// Live delivery for the store at `address`; the feed starts when first needed.
    pub fn new(address: &StoreAddress, settings: Settings) -> Live {
        Live {
            inner: Arc::new(Inner {
                address: address.clone(),
                settings,
                running: Mutex::new(None),
            }),
        }
    }

    /// Every event committed after this call, as it is seen.
    pub async fn events(&self) -> Result<broadcast::Receiver<Arc<Event>>, Error> {
        Ok(self.running().await?.events.subscribe())
    }

    /// Starts the feed now, on this thread, unless it runs: for a caller that must not
    /// go on before every later commit is seen and cannot wait for a blocking thread (a
    /// listen stream is acknowledged before its handler runs). Opening the feed's
    /// connection takes about a millisecond, once per process.
    pub fn start_now(&self) -> Result<(), Error> {
        if self.slot().is_some() {
            return Ok(());
        }
        let started = Running::start(&self.inner.address, self.inner.settings.clone())?;
        self.slot().get_or_insert(Arc::new(started));
        Ok(())
    }

    /// The feed, started (on a blocking thread: it opens the store) unless it runs.
    async fn running(&self) -> Result<Arc<Running>, Error> {
        if let Some(running) = self.slot().clone() {
            return Ok(running);
        }
        let (address, settings) = (self.inner.address.clone(), self.inner.settings.clone());
        let started = tokio::task::spawn_blocking(move || Running::start(&address, settings))
            .await
            .map_err(|e| Error::Internal(format!("starting the change feed crashed ({e})")))??;
        // Two callers may have started one at once: the first to get here wins and the
        // other's feed stops as it is dropped.
        Ok(self.slot().get_or_insert(Arc::new(started)).clone())
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<Running>>> {
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Running {
    /// Opens a feed at the current end of the log and starts watching it.
    fn start(address: &StoreAddress, settings: Settings) -> Result<Running, Error> {
        let feed = ChangeFeed::open(address, settings)?;
        let (events, _) = broadcast::channel(BACKLOG);
        let published = events.clone();
        let watch = Watch::start(feed, "sb-mcp-feed", move |batch| {
            for event in batch {
                // No receiver is fine: every subscriber has gone.
                let _ = published.send(Arc::new(event));
            }
            ControlFlow::Continue(())
        })?;
        Ok(Running {
            events,
            _watch: watch,
        })
    }
}
