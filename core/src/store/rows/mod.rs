//! What a transaction can do, declared per aggregate: row operations (insert, update,
//! fetch by key) and the heavy reads a backend answers best itself (an inbox page, a
//! search, a genealogy). Domain modules call these on a [`super::Tx`]; a backend
//! implements every trait for its transaction type (the SQLite one in
//! [`super::sqlite`]).
//!
//! Contract for every method:
//! - it runs inside the caller's transaction and sees that transaction's writes;
//! - it checks nothing a domain rule decides (names, permissions, policy): those are
//!   checked above it, once for every backend;
//! - a missing row is `Ok(None)` (or an empty list), not an error, unless the method says
//!   otherwise; a failure of the backend is `Error::Store`.
//!
//! Method names carry their aggregate (`fetch_agent`, `insert_message`) so that they
//! stay unique across the traits.
mod agent;
mod archive;
mod claim;
mod event;
mod group;
pub(crate) mod id;
mod message;
mod session;
mod token;
mod worktree;

pub(crate) use agent::AgentRows;
pub(crate) use archive::{ArchiveRows, Record};
pub(crate) use claim::ClaimRows;
pub(crate) use event::EventRows;
pub(crate) use group::GroupRows;
pub(crate) use id::IdRows;
pub(crate) use message::MessageRows;
pub(crate) use session::SessionRows;
pub(crate) use token::TokenRows;
pub(crate) use worktree::WorktreeRows;

/// Every aggregate's rows: what domain code needs of a transaction.
pub(crate) trait Rows:
    AgentRows
    + ArchiveRows
    + ClaimRows
    + EventRows
    + GroupRows
    + IdRows
    + MessageRows
    + SessionRows
    + TokenRows
    + WorktreeRows
{
}

impl<
    T: AgentRows
        + ArchiveRows
        + ClaimRows
        + EventRows
        + GroupRows
        + IdRows
        + MessageRows
        + SessionRows
        + TokenRows
        + WorktreeRows,
> Rows for T
{
}
