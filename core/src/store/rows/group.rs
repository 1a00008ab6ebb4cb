//! Groups and their members.

use crate::Result;
use crate::clock::Timestamp;
use crate::group::{Group, Member};

/// Groups and their members.
pub(crate) trait GroupRows {
    /// Group `name` with its members (agents first, then roles, each by name), or `None`.
    fn fetch_group(&self, name: &str) -> Result<Option<Group>>;

    /// Every group's name, in name order.
    fn group_names(&self) -> Result<Vec<String>>;

    /// Inserts a group without members.
    fn insert_group(
        &self,
        name: &str,
        description: Option<&str>,
        created_by: &str,
        at: Timestamp,
    ) -> Result<()>;

    /// Adds `member` to group `group` (nothing if it is one already).
    fn insert_group_member(&self, group: &str, member: &Member) -> Result<()>;

    /// Removes `member` from group `group` (nothing if it is not one).
    fn delete_group_member(&self, group: &str, member: &Member) -> Result<()>;

    /// Deletes group `name` and its members (nothing if there is no such group).
    fn delete_group(&self, name: &str) -> Result<()>;
}
