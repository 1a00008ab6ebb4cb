//! Access tokens (stored as hashes), in SQL.

use super::Tx;
use crate::store::rows::TokenRows;

impl TokenRows for Tx<'_> {}
