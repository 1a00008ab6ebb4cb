//! Test fixtures shared by every Switchboard crate: scratch git repositories
//! ([`ScratchRepo`]), scratch state directories ([`ScratchStore`]) and the redactions
//! that keep snapshots stable from run to run ([`Redactions`]), [`str_at`] to read
//! tool results, and a setup command that waits at a [`Gate`].
//!
//! This crate depends on no Switchboard crate, so that `switchboard-core`'s own unit
//! tests can use it: a fixture that needs a `Store` opens one at [`ScratchStore::db`].
//! Every helper panics on failure, with the command and its error output: a fixture that
//! cannot be built is a broken test, not a result.

mod gate;
mod git;
mod json;
mod redact;
mod store;

pub use gate::Gate;
pub use git::{ScratchRepo, commit, git};
pub use json::str_at;
pub use redact::Redactions;
pub use store::{Backend, POSTGRES_ENV, ScratchPostgres, ScratchStore};
