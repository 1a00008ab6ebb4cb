//! Resolving ids and unique id prefixes of every kind.

use crate::Result;
use crate::id::IdKind;

/// Resolving ids and unique id prefixes of every kind.
pub(crate) trait IdRows {
    /// Up to `limit` ids of `kind` that start with `prefix`, in id order.
    fn ids_from(&self, kind: IdKind, prefix: &str, limit: usize) -> Result<Vec<String>>;
}
