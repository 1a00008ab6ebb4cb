//! Sessions, their genealogy, heartbeats and work context, in SQL.

use super::Tx;
use crate::store::rows::SessionRows;

impl SessionRows for Tx<'_> {}
