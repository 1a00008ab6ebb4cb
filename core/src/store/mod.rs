//! The shared per-repository store: the handle every operation takes ([`Store`]), the
//! pool of them for servers ([`Pool`]), and the seam between domain logic and a backend.
//!
//! # The seam
//!
//! Domain modules (agents, sessions, messages, worktrees…) hold the logic written once:
//! validation, recipient expansion, permissions, policy. They reach stored rows only
//! through a transaction, [`Tx`], handed to them by [`Store::read`] (one consistent
//! snapshot) or [`Store::write`] (one serialized write: all or nothing). What a
//! transaction can do is declared per aggregate in [`rows`]: row operations (insert,
//! update, fetch by key) and the heavy reads a backend answers best itself (an inbox
//! page, a search, a genealogy). A backend implements those traits for its transaction
//! type and provides a change source for the feed ([`changes`]); nothing above this
//! module names a backend's types, SQL or functions (but the `backup` module, which copies
//! the embedded store's file). A test (`layering`) keeps SQLite's library out of every
//! other module.
//!
//! The embedded backend is SQLite ([`sqlite`]): one file per repository shared by every
//! process, writes as short `BEGIN IMMEDIATE` transactions, readers on WAL snapshots.
//!
//! # Adding a backend
//!
//! A second backend is a module beside [`sqlite`] with its own connection type, numbered
//! migrations, a transaction type implementing every trait of [`rows`] (so it is a
//! `&dyn Rows`, the [`Tx`] domain code receives), and a [`changes::ChangeSource`]. [`Store`]
//! then holds one of the backends (an enum over them, chosen when the store is opened) and
//! hands `read`, `write` and `change_source` to it. Domain modules do not change; the
//! event log's `seq` must stay a commit-order cursor (what the feed reads after).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Result;
use crate::clock::Timestamp;

pub(crate) mod changes;
pub(crate) mod rows;
pub(crate) mod sqlite;

/// A transaction on the store: what domain code reads and writes through, whatever the
/// backend. Its operations are the traits of [`rows`].
pub(crate) type Tx<'a> = dyn rows::Rows + 'a;

/// Store-wide settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// An active session whose last heartbeat is older than this is reported `stale`.
    pub stale_after: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            stale_after: Duration::from_secs(30 * 60),
        }
    }
}

/// One connection to a repository's state database.
pub struct Store {
    db: sqlite::Db,
    path: PathBuf,
    settings: Settings,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}
/// Connections to one database for operations that may overlap: each operation takes a
/// connection of its own ([`Pool::take`]: an idle one, else a new one) and gives it back
/// when done ([`Pool::put`]), so a long operation never holds up another. At most
/// [`Pool::IDLE`] idle connections are kept.
#[derive(Debug)]
pub struct Pool {
    path: PathBuf,
    settings: Settings,
    idle: std::sync::Mutex<Vec<Store>>,
}

impl Pool {
    /// Idle connections kept for the next operations.
    pub const IDLE: usize = 2;

    /// A pool over `first`'s database, with `first` as its first idle connection.
    pub fn new(first: Store) -> Pool {
        Pool {
            path: first.path.clone(),
            settings: first.settings.clone(),
            idle: std::sync::Mutex::new(vec![first]),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Store>> {
        // The list of idle connections stays valid whatever panicked while it was held.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection for one operation: an idle one, else a new one.
    pub fn take(&self) -> Result<Store> {
        let idle = self.idle().pop();
        match idle {
            Some(store) => Ok(store),
            None => Store::open(&self.path, self.settings.clone()),
        }
    }

    /// Gives back a connection taken with [`Pool::take`] (closed if enough are idle).
    pub fn put(&self, store: Store) {
        let mut idle = self.idle();
        if idle.len() < Self::IDLE {
            idle.push(store);
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings the connections are opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// The highest schema version this binary knows.
pub fn supported_schema_version() -> i64 {
    sqlite::supported_schema_version()
}

impl Store {
    /// Opens (creating if needed, directory `0700`, file `0600`) and migrates the database.
    pub fn open(path: &Path, settings: Settings) -> Result<Store> {
        Ok(Store {
            db: sqlite::Db::open(path)?,
            path: path.to_path_buf(),
            settings,
        })
    }

    /// A store at `path` at schema version `schema` (not later), for loading what a store
    /// of that age held (an import of an export from an earlier version).
    pub(crate) fn open_at_schema(path: &Path, settings: Settings, schema: i64) -> Result<Store> {
        Ok(Store {
            db: sqlite::Db::open_upto(path, schema)?,
            path: path.to_path_buf(),
            settings,
        })
    }

    /// Removes the files of the store at `path`, which this process just made and could
    /// not fill: nothing anyone wrote is in them.
    pub(crate) fn discard_new(path: &Path) {
        sqlite::file::remove_database(path);
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings this store was opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sessions whose last heartbeat is before this time are stale.
    pub(crate) fn stale_cutoff(&self) -> Timestamp {
        Timestamp::now().minus(self.settings.stale_after)
    }

    /// Which backend holds this store, with its version, for people reading `doctor`.
    pub fn backend(&self) -> String {
        sqlite::backend()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        self.db.schema_version()
    }

    /// An integrity check over the whole store: the problems found (at most `limit`),
    /// empty when the store is sound. Reads every page; takes a moment on a large store.
    pub fn quick_check(&self, limit: u32) -> Result<Vec<String>> {
        self.db.quick_check(limit)
    }

    /// A number that changes whenever another connection commits. Cheap to poll.
    pub fn data_version(&self) -> Result<i64> {
        self.db.data_version()
    }

    /// A source of notifications that another connection may have committed (see
    /// [`changes`]). Made before reading the log's end, it misses nothing committed after.
    pub(crate) fn change_source(&self) -> Result<Box<dyn changes::ChangeSource>> {
        let source =
            sqlite::writers::CommitSignal::new(&self.path).map_err(|source| crate::Error::Io {
                context: "cannot set up change notifications for the state database".into(),
                source,
            })?;
        Ok(Box::new(source))
    }

    /// Moves committed changes into the main database file without waiting for readers
    /// or writers, so commits rarely pay for it.
    pub fn checkpoint(&self) -> Result<()> {
        self.db.checkpoint()
    }

    /// Runs `f` in one serialized write transaction; commits if it succeeds, rolls back
    /// if it fails, so a refused request leaves nothing behind.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.db.transaction(sqlite::Access::Write, |tx| f(tx))
    }

    /// Runs `f` against one consistent snapshot of the store (it may write nothing
    /// that must last: the transaction is committed only if `f` succeeds).
    pub(crate) fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.db.transaction(sqlite::Access::Read, |tx| f(tx))
    }

    /// [`Store::write`] with SQLite's connection, for tests that set up states the
    /// domain never writes.
    #[cfg(test)]
    pub(crate) fn sql_write<T>(
        &mut self,
        f: impl FnOnce(&sqlite::Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.db.transaction(sqlite::Access::Write, f)
    }

    /// [`Store::read`] with SQLite's connection, for tests that inspect rows.
    #[cfg(test)]
    pub(crate) fn sql_read<T>(
        &mut self,
        f: impl FnOnce(&sqlite::Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.db.transaction(sqlite::Access::Read, f)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Error;
    use std::os::unix::fs::PermissionsExt;
    use switchboard_testutils::ScratchStore;

    /// A store at [`ScratchStore::db`] (kept alive by the returned guard).
    pub(crate) fn temp_store() -> (ScratchStore, Store) {
        let dir = ScratchStore::new();
        let store = Store::open(dir.db(), Settings::default()).unwrap();
        (dir, store)
    }

    /// A cached statement is compiled once, whatever values are bound to it later (the
    /// query planner stability guarantee): recompiling was half the CPU of a send.
    #[test]
    fn cached_statements_are_not_compiled_again_for_new_values() {
        let (_dir, mut store) = temp_store();
        let mut ids = Vec::new();
        for agent in ["ann", "bob", "cy"] {
            let new = crate::session::NewSession {
                agent: agent.into(),
                intent: "x".into(),
                ..Default::default()
            };
            ids.push(crate::session::start(&mut store, &new).unwrap().id);
        }
        for id in ids.iter().chain(&ids) {
            let found = store.read(|tx| crate::id::resolve(tx, crate::id::IdKind::Session, id));
            assert_eq!(&found.unwrap(), id);
        }
        let sql = "SELECT id FROM sessions WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3";
        let statement = store.db.connection().prepare_cached(sql).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    }

    #[test]
    fn a_pool_gives_overlapping_operations_connections_of_their_own() {
        let (_dir, store) = temp_store();
        let pool = Pool::new(store);
        let mut long = pool.take().unwrap();
        let mut other = pool.take().unwrap();
        // One operation inside a write transaction does not stop another from reading.
        let inside = long.write(|_| {
            let seq = other.latest_event_seq()?;
            Ok(seq)
        });
        assert_eq!(inside.unwrap(), 0);
        let third = pool.take().unwrap();
        for store in [long, other, third] {
            pool.put(store);
        }
        assert_eq!(
            pool.idle().len(),
            Pool::IDLE,
            "extra connections are closed"
        );
    }

    #[test]
    fn migrates_from_empty_to_the_latest_version_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/switchboard/state.db");
        let mut store = Store::open(&path, Settings::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), supported_schema_version());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
        let tables: Vec<String> = store
            .sql_read(|tx| {
                let mut stmt = tx
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
                let names = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(names)
            })
            .unwrap();
        for table in ["agents", "events", "schema_version", "sessions"] {
            assert!(
                tables.iter().any(|t| t == table),
                "missing {table} in {tables:?}"
            );
        }
        drop(store);
        // Reopening is a no-op migration.
        let store = Store::open(&path, Settings::default()).unwrap();
        assert_eq!(store.schema_version().unwrap(), supported_schema_version());
    }

    #[test]
    fn wal_and_foreign_keys_are_on() {
        let (_dir, mut store) = temp_store();
        let (mode, fk): (String, i64) = store
            .sql_read(|tx| {
                Ok((
                    tx.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    tx.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!((mode.as_str(), fk), ("wal", 1));
    }

    #[test]
    fn a_database_from_a_newer_binary_is_refused_clearly() {
        let (dir, mut store) = temp_store();
        store
            .sql_write(|tx| {
                tx.execute("INSERT INTO schema_version VALUES (999, 0)", [])?;
                Ok(())
            })
            .unwrap();
        drop(store);
        let err = Store::open(dir.db(), Settings::default()).unwrap_err();
        assert!(
            matches!(err, Error::SchemaTooNew { found: 999, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("Upgrade switchboard"), "{err}");
    }

    #[test]
    fn a_failed_write_rolls_back_everything() {
        let (_dir, mut store) = temp_store();
        let result: Result<()> = store.sql_write(|tx| {
            tx.execute(
                "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('a', 'agent', 0, 0)",
                [],
            )?;
            Err(Error::Conflict("refused".into()))
        });
        assert!(result.is_err());
        let count: i64 = store
            .sql_read(|tx| {
                Ok(
                    tx.query_row("SELECT COUNT(*) FROM agents WHERE name = 'a'", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert_eq!(count, 0);
    }

    #[test]
    fn a_panic_inside_an_operation_rolls_it_back_and_the_store_goes_on() {
        let (_dir, mut store) = temp_store();
        let insert = |name: &str| {
            format!(
                "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('{name}', 'agent', 0, 0)"
            )
        };
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.sql_write(|tx| -> Result<()> {
                tx.execute(&insert("p"), [])?;
                panic!("the operation crashed");
            })
        }));
        assert!(panicked.is_err());
        store
            .sql_write(|tx| Ok(tx.execute(&insert("q"), [])?))
            .expect("the next write starts a transaction of its own");
        let names: Vec<String> = store
            .sql_read(|tx| {
                let mut stmt = tx.prepare("SELECT name FROM agents ORDER BY name")?;
                let names = stmt
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(names)
            })
            .unwrap();
        assert!(
            names.contains(&"q".to_string()) && !names.contains(&"p".to_string()),
            "the crashed write left nothing: {names:?}"
        );
    }

    #[test]
    fn data_version_moves_when_another_connection_commits() {
        let (dir, store) = temp_store();
        let before = store.data_version().unwrap();
        let mut other = Store::open(dir.db(), Settings::default()).unwrap();
        other
            .sql_write(|tx| {
                tx.execute(
                    "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('b', 'agent', 0, 0)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        assert_ne!(store.data_version().unwrap(), before);
    }
}
