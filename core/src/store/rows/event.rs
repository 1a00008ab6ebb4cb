//! The event log: appends in the writing transaction, reads by position.

/// The event log: appends in the writing transaction, reads by position.
pub(crate) trait EventRows {}
