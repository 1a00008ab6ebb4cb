//! Resolving ids and unique id prefixes of every kind.

use crate::Result;
use crate::id::IdKind;

/// Resolving ids and unique id prefixes of every kind.
pub(crate) trait IdRows {
    /// Up to `limit` ids of `kind` that start with `prefix`, in id order.
    fn ids_from(&self, kind: IdKind, prefix: &str, limit: usize) -> Result<Vec<String>>;
}

/// The table holding the records `kind` names: the same in every backend's schema.
pub(crate) fn table(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Session => "sessions",
        IdKind::Event => "events",
        IdKind::Message => "messages",
        IdKind::Thread => "threads",
        IdKind::Token => "tokens",
        IdKind::Claim => "claims",
    }
}
