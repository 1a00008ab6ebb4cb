//! Groups and their members.

/// Groups and their members.
pub(crate) trait GroupRows {}
