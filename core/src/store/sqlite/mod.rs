//! What only the SQLite store knows. Everything specific to SQLite moves here, behind
//! the store's traits, so that a second backend implements the same seam (issue 14 §3);
//! so far: the change source that wakes the feed when another process commits.

pub(crate) mod wake;
