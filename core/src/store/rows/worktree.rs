//! Worktree records, ports, merges and interrupted operations.

use crate::Result;
use crate::clock::Timestamp;
use crate::worktree::{Operation, OperationOwner, Worktree};

/// Worktree records, ports, merges and interrupted operations.
pub(crate) trait WorktreeRows {
    /// The worktree named `name` (its `agent` is its session's), if recorded.
    fn fetch_worktree(&self, name: &str) -> Result<Option<Worktree>>;

    /// Every worktree record, by name.
    fn all_worktrees(&self) -> Result<Vec<Worktree>>;

    /// The worktree whose checkout is exactly at `path`, if recorded.
    fn worktree_at_path(&self, path: &str) -> Result<Option<Worktree>>;

    /// The name of `session`'s first worktree (by creation time), if it has one.
    fn worktree_of_session(&self, session: &str) -> Result<Option<String>>;

    /// The files the session bound to worktree `name` last reported changing in it (its
    /// work context, as written on the worktree's host), in path order; empty when it
    /// reported none.
    fn worktree_reported_files(&self, name: &str) -> Result<Vec<String>>;

    /// The first port of every recorded worktree.
    fn worktree_ports(&self) -> Result<Vec<u32>>;

    /// Records `worktree` (its `agent` is not stored: it is its session's).
    fn insert_worktree(&self, worktree: &Worktree) -> Result<()>;

    /// Deletes the record of the worktree named `name` (nothing when there is none).
    fn delete_worktree(&self, name: &str) -> Result<()>;

    /// Sets the commit the worktree named `name` starts from.
    fn update_worktree_base_commit(&self, name: &str, base_commit: &str) -> Result<()>;

    /// When the session `session` (a worktree's) ended: `None` when it has not ended or
    /// does not exist.
    fn worktree_session_ended_at(&self, session: &str) -> Result<Option<Timestamp>>;

    /// Whether session `session` is active, and whether a worktree is bound to it;
    /// `None` when there is no such session.
    fn worktree_session_state(&self, session: &str) -> Result<Option<(bool, bool)>>;

    /// Records the intent of a merge in `repo` (`plan` is its JSON), begun by `owner`.
    fn insert_merge_operation(
        &self,
        id: &str,
        repo: &str,
        plan: &str,
        owner: &OperationOwner,
        started_at: Timestamp,
    ) -> Result<()>;

    /// Moves the operation `id` from `from` to `to` if `from` still owns it (a
    /// compare-and-set): whether it did.
    fn claim_operation(&self, id: &str, from: &OperationOwner, to: &OperationOwner)
    -> Result<bool>;

    /// Deletes the record of the operation `id` (nothing when there is none).
    fn delete_operation(&self, id: &str) -> Result<()>;

    /// The recorded merge operations of `repo` (or of every repository), in id order.
    fn merge_operations(&self, repo: Option<&str>) -> Result<Vec<Operation>>;
}
