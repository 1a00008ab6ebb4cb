//! One test story, every backend: a test body written once runs on SQLite and on
//! PostgreSQL ([`store_story!`](crate::store_story)), each time on a store of its own.

pub(crate) use switchboard_testutils::Backend;
use switchboard_testutils::{ScratchPostgres, ScratchStore};

use super::{Settings, Store, StoreAddress};

/// Where a story's store is, kept alive (and removed on drop) for the story's length.
pub(crate) enum Scratch {
    File(ScratchStore),
    Postgres(ScratchPostgres),
}

impl Scratch {
    /// A new, empty place for a store on `backend`.
    pub(crate) fn new(backend: Backend) -> Scratch {
        match backend {
            Backend::Sqlite => Scratch::File(ScratchStore::new()),
            Backend::Postgres => {
                Scratch::Postgres(ScratchPostgres::new().expect("a PostgreSQL server"))
            }
        }
    }

    /// A new place for a store on `backend`, with its SQLite file (if it is one) at
    /// `file` instead of a directory of its own.
    pub(crate) fn at_file_or(
        backend: Backend,
        file: &std::path::Path,
    ) -> (Option<Scratch>, StoreAddress) {
        match backend {
            Backend::Sqlite => (None, StoreAddress::file(file)),
            Backend::Postgres => {
                let scratch = Scratch::new(backend);
                let address = scratch.address();
                (Some(scratch), address)
            }
        }
    }

    /// The store's address (open as many connections to it as a story needs).
    pub(crate) fn address(&self) -> StoreAddress {
        match self {
            Scratch::File(dir) => StoreAddress::file(dir.db()),
            Scratch::Postgres(server) => {
                StoreAddress::postgres(server.url(), server.repository()).expect("a valid URL")
            }
        }
    }

    /// Another connection to the store, with default settings.
    pub(crate) fn open(&self) -> Store {
        Store::open_at(&self.address(), Settings::default()).expect("open the scratch store")
    }
}

/// A new store on `backend`, and the place it is in (keep it for the story's length).
pub(crate) fn scratch_store(backend: Backend) -> (Scratch, Store) {
    let scratch = Scratch::new(backend);
    let store = scratch.open();
    (scratch, store)
}

/// Test bodies written once, run on every backend. Each `fn name(backend) { … }` becomes
/// a module `name` with two tests, `sqlite` and `postgres`, that run the body with
/// `backend` set to [`Backend::Sqlite`] and [`Backend::Postgres`] (the latter only where
/// a server is configured: see [`Backend::available`]). A body makes its store with
/// [`scratch_store`].
#[macro_export]
#[doc(hidden)]
macro_rules! every_backend {
    ($($(#[$attr:meta])* fn $name:ident($backend:ident) $body:block)*) => {$(
        $(#[$attr])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::store::story::{Backend, scratch_store};

            fn story($backend: $crate::store::story::Backend) $body

            #[test]
            fn sqlite() {
                story($crate::store::story::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if $crate::store::story::Backend::Postgres.available() {
                    story($crate::store::story::Backend::Postgres);
                }
            }
        }
    )*};
}
