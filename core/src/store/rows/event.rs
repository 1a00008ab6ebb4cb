//! The event log: appends in the writing transaction, reads by position.

use crate::Result;
use crate::clock::Timestamp;
use crate::event::Event;

/// The event log: appends in the writing transaction, reads by position.
pub(crate) trait EventRows {
    /// Appends an event (`payload` is its JSON) and returns its sequence number, which is
    /// greater than every committed event's: readers that saw `seq` have seen every
    /// event before it.
    fn append_event(
        &self,
        id: &str,
        kind: &str,
        actor: Option<&str>,
        payload: &str,
        at: Timestamp,
    ) -> Result<i64>;

    /// Events with `seq > after`, oldest first, at most `limit`.
    fn events_after(&self, after: i64, limit: u32) -> Result<Vec<Event>>;

    /// The sequence number of the newest event (0 when the log is empty).
    fn latest_event_seq(&self) -> Result<i64>;
}
