//! The event log: appends in the writing transaction, reads by position, in SQL.

use super::Tx;
use crate::store::rows::EventRows;

impl EventRows for Tx<'_> {}
