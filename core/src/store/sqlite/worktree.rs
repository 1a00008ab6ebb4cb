//! Worktree records, ports, merges and interrupted operations, in SQL.

use super::Tx;
use crate::store::rows::WorktreeRows;

impl WorktreeRows for Tx<'_> {}
