//! Worktree records, ports, merges and interrupted operations.

/// Worktree records, ports, merges and interrupted operations.
pub(crate) trait WorktreeRows {}
