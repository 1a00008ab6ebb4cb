//! Access tokens (stored as hashes).

/// Access tokens (stored as hashes).
pub(crate) trait TokenRows {}
