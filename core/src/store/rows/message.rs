//! Messages, their recipients' states, versions, threads, inbox pages and search.

/// Messages, their recipients' states, versions, threads, inbox pages and search.
pub(crate) trait MessageRows {}
