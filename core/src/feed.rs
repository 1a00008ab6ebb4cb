//! The change feed: how a process learns of changes any process made to the store.
//!
//! SQLite's `data_version` changes whenever another connection commits, and costs one
//! cheap query to read; only when it moves are the new events read from the log.

use std::path::Path;

use crate::event::Event;
use crate::{Result, Settings, Store};

/// Largest batch of events read at once.
const BATCH: u32 = 1000;

/// A cursor over the event log on its own connection.
pub struct ChangeFeed {
    store: Store,
    last_seq: i64,
    last_version: Option<i64>,
}

impl ChangeFeed {
    /// A feed over the database at `path` that reports events after the current end of
    /// the log.
    pub fn open(path: &Path, settings: Settings) -> Result<ChangeFeed> {
        Self::open_after(path, settings, None)
    }

    /// A feed that reports events after `after` (the current end of the log when `None`),
    /// so a caller that noted the log's end earlier misses nothing committed since.
    pub fn open_after(path: &Path, settings: Settings, after: Option<i64>) -> Result<ChangeFeed> {
        let mut store = Store::open(path, settings)?;
        let last_seq = match after {
            Some(seq) => seq,
            None => store.latest_event_seq()?,
        };
        Ok(ChangeFeed {
            store,
            last_seq,
            last_version: None,
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
    /// query) when no connection has committed anything since.
    pub fn poll(&mut self) -> Result<Vec<Event>> {
        let version = self.store.data_version()?;
        if self.last_version == Some(version) {
            return Ok(Vec::new());
        }
        self.last_version = Some(version);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{self, NewSession};

    #[test]
    fn the_feed_reports_commits_of_other_connections_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let mut writer = Store::open(&path, Settings::default()).unwrap();
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
