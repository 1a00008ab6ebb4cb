//! Sessions, their genealogy, heartbeats and work context.

/// Sessions, their genealogy, heartbeats and work context.
pub(crate) trait SessionRows {}
