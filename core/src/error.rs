//! The one error type of the core. Every variant's message says what was wrong and
//! what to do, because adapters show it to agents and humans verbatim.

use std::path::PathBuf;

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kinds of record a caller names by id or name: what a lookup did not find. Each
/// surface matches on it exhaustively to say where such records are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A participant (agent or `human:<name>`), named by its name.
    Agent,
    /// An agent's session, named by its `ses_…` id or a unique prefix.
    Session,
    /// A worktree record, named by its name.
    Worktree,
    /// A message, named by its `msg_…` id or a unique prefix.
    Message,
    /// A message thread, named by its `thr_…` id or a unique prefix.
    Thread,
    /// A group of participants, named by its name.
    Group,
    /// An access token, named by its `tok_…` id or a unique prefix.
    Token,
    /// An entry of the event log, named by its `evt_…` id or a unique prefix.
    Event,
    /// A claim on paths, named by its `clm_…` id or a unique prefix.
    Claim,
}

impl Record {
    /// The noun used in messages, e.g. `session`.
    pub fn noun(self) -> &'static str {
        match self {
            Record::Agent => "agent",
            Record::Session => "session",
            Record::Worktree => "worktree",
            Record::Message => "message",
            Record::Thread => "thread",
            Record::Group => "group",
            Record::Token => "token",
            Record::Event => "event",
            Record::Claim => "claim",
        }
    }
}

impl std::fmt::Display for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.noun())
    }
}

/// Everything the core can refuse or fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A name, id, or value the caller gave does not follow the rules.
    #[error("{0}")]
    Invalid(String),
    /// An id, prefix or name matched nothing.
    #[error("no {kind} matches '{id}'")]
    NotFound {
        /// What kind of record was looked up.
        kind: Record,
        /// The id, prefix or name as the caller gave it (trimmed).
        id: String,
    },
    /// A short prefix matched more than one record.
    #[error("'{prefix}' matches more than one {kind}: {}. Give more characters.", candidates.join(", "))]
    Ambiguous {
        /// What kind of record was looked up.
        kind: Record,
        /// The prefix as the caller gave it (trimmed).
        prefix: String,
        /// Full ids it matches, at most five, then `…` when there are more.
        candidates: Vec<String>,
    },
    /// The request is valid but the current state does not allow it.
    #[error("{0}")]
    Conflict(String),
    /// The caller has no identity yet (adapters decide what to tell it to call).
    #[error("{0}")]
    NoIdentity(String),
    /// The caller may not change this: it belongs to someone else (the message says who may).
    #[error("{0}")]
    Forbidden(String),
    /// A credential was missing, unknown, revoked or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// The database was written by a newer Switchboard.
    #[error(
        "the state database {path} has schema version {found}, but this switchboard binary only knows up to {supported}. \
         Upgrade switchboard (every process on this repository must run the same or a newer version)."
    )]
    SchemaTooNew {
        /// The state database file.
        path: PathBuf,
        /// The schema version recorded in the database.
        found: i64,
        /// The newest schema version this binary knows.
        supported: i64,
    },
    /// The state could not be placed or opened where it was asked to be.
    #[error("{0}")]
    Location(String),
    /// The store failed (translated once from the backend's own error: see [`StoreError`]).
    #[error("database error: {0}")]
    Store(#[from] StoreError),
    /// Switchboard itself failed (a crashed worker, say): not the caller's doing.
    #[error("{0}")]
    Internal(String),
    /// A file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `cannot read <path>`; shown before the cause.
        context: String,
        /// The underlying failure.
        #[source]
        source: std::io::Error,
    },
    /// A git command failed; the message carries git's own words.
    #[error("{0}")]
    Git(String),
    /// JSON encoding of an event payload failed.
    #[error("could not encode JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// What kind of store failure happened, as far as callers act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFailure {
    /// The database is damaged, or not a database at all.
    Corrupt,
    /// Another writer held the database for longer than the busy timeout.
    Busy,
    /// A row broke a constraint of the schema.
    Constraint,
    /// Anything else.
    Other,
}

/// A failure of the storage backend, in the core's own terms: no backend's error type is
/// part of the core's API, and a second backend translates its errors the same way.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    /// The kind of failure, for callers that react to it (a corrupt database is reported
    /// with how to recover).
    pub failure: StoreFailure,
    /// The backend's own words.
    pub message: String,
}

impl Error {
    /// True when the store found the state database damaged (or not a database at all).
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Store(e) if e.failure == StoreFailure::Corrupt)
    }

    /// True when the caller can fix the problem by changing its request
    /// (as opposed to an internal or environmental failure).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Invalid(_)
                | Error::NotFound { .. }
                | Error::Ambiguous { .. }
                | Error::Conflict(_)
                | Error::NoIdentity(_)
                | Error::Forbidden(_)
                | Error::Unauthorized(_)
                | Error::Git(_)
        )
    }

    /// An [`Error::Io`] with `context` saying what was being done (`cannot read <path>`).
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashed_operation_is_never_the_callers_doing() {
        let crashed = Error::Internal("the operation crashed".into());
        assert!(!crashed.is_user_error() && !crashed.is_corruption());
    }
}
