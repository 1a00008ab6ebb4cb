//! Groups and their members, in SQL.

use super::Tx;
use crate::store::rows::GroupRows;

impl GroupRows for Tx<'_> {}
