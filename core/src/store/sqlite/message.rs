//! Messages, their recipients' states, versions, threads, inbox pages and search, in SQL.

use super::Tx;
use crate::store::rows::MessageRows;

impl MessageRows for Tx<'_> {}
