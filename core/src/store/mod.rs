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
//! process, writes as short `BEGIN IMMEDIATE` transactions, readers on WAL snapshots. The
//! shared one is PostgreSQL ([`postgres`]): one schema per repository on a server every
//! host of a team reaches, writes serialized per repository by an advisory lock, wake-ups
//! by `LISTEN`/`NOTIFY`. [`Store`] holds one or the other (chosen by its
//! [`StoreAddress`]) and hands `read`, `write` and `change_source` to it.
//!
//! # Adding a backend
//!
//! A backend is a module beside [`sqlite`] with its own connection type, numbered
//! migrations (the same schema versions: an export names one), a transaction type
//! implementing every trait of [`rows`] (so it is a `&dyn Rows`, the [`Tx`] domain code
//! receives), a [`changes::ChangeSource`] and a variant of the store's backend enum.
//! Domain modules do not change; the event log's `seq` must stay a commit-order cursor
//! (what the feed reads after).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Result;
use crate::clock::Timestamp;

pub(crate) mod changes;
pub(crate) mod postgres;
pub(crate) mod rows;
pub(crate) mod sqlite;
#[cfg(test)]
pub(crate) mod story;

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

/// Where a repository's store is: an SQLite file (the embedded default), or the
/// repository's schema on a PostgreSQL server shared by a team.
#[derive(Clone)]
pub struct StoreAddress(Address);

#[derive(Clone)]
enum Address {
    File(PathBuf),
    Postgres(Box<postgres::Target>),
}

impl StoreAddress {
    /// The SQLite store in the file at `path`.
    pub fn file(path: impl Into<PathBuf>) -> StoreAddress {
        StoreAddress(Address::File(path.into()))
    }

    /// The store of repository `repository` (its identity, see
    /// [`crate::repository::identify`]) on the PostgreSQL server at `url`
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`). Nothing is connected yet; a
    /// malformed `url` is refused without repeating it (it may hold a password).
    pub fn postgres(url: &str, repository: &str) -> Result<StoreAddress> {
        let target = postgres::Target::new(url, repository)?;
        Ok(StoreAddress(Address::Postgres(Box::new(target))))
    }

    /// Whether `text` names a PostgreSQL server (`postgres://…` or `postgresql://…`)
    /// rather than a file.
    pub fn is_postgres_url(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// Whether a store is there already (the file, or the repository's schema).
    pub fn exists(&self) -> Result<bool> {
        match &self.0 {
            Address::File(path) => Ok(path.exists()),
            Address::Postgres(target) => postgres::exists(target),
        }
    }

    /// The earliest schema version a new store here can be made at: SQLite's first, or the
    /// PostgreSQL backend's first (which holds what SQLite's first eleven did).
    pub(crate) fn earliest_schema(&self) -> i64 {
        match &self.0 {
            Address::File(_) => 1,
            Address::Postgres(_) => postgres::BASELINE,
        }
    }

    /// The PostgreSQL server and schema, for a store that is there.
    #[cfg(test)]
    pub(crate) fn postgres_target(&self) -> Option<&postgres::Target> {
        match &self.0 {
            Address::File(_) => None,
            Address::Postgres(target) => Some(target),
        }
    }

    /// The SQLite file, for a store that is one.
    pub fn file_path(&self) -> Option<&Path> {
        match &self.0 {
            Address::File(path) => Some(path),
            Address::Postgres(_) => None,
        }
    }
}

/// Two addresses of one store: the same file, or the same schema on the same server.
impl PartialEq for StoreAddress {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Address::File(a), Address::File(b)) => a == b,
            (Address::Postgres(a), Address::Postgres(b)) => a.display() == b.display(),
            _ => false,
        }
    }
}

/// The file's path, or the server and schema without the password.
impl std::fmt::Display for StoreAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Address::File(path) => write!(f, "{}", path.display()),
            Address::Postgres(target) => f.write_str(&target.display()),
        }
    }
}

impl std::fmt::Debug for StoreAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreAddress({self})")
    }
}

/// One connection to a repository's store.
pub struct Store {
    backend: Backend,
    address: StoreAddress,
    settings: Settings,
}

/// The open connection, of one backend or the other.
enum Backend {
    Sqlite(sqlite::Db),
    Postgres(Box<postgres::Db>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("address", &self.address)
            .finish()
    }
}
/// Connections to one store for operations that may overlap: each operation takes a
/// connection of its own ([`Pool::take`]: an idle one, else a new one) and gives it back
/// when done ([`Pool::put`]), so a long operation never holds up another. At most
/// [`Pool::IDLE`] idle connections are kept.
#[derive(Debug)]
pub struct Pool {
    address: StoreAddress,
    settings: Settings,
    idle: std::sync::Mutex<Vec<Store>>,
}

impl Pool {
    /// Idle connections kept for the next operations.
    pub const IDLE: usize = 2;

    /// A pool over `first`'s store, with `first` as its first idle connection.
    pub fn new(first: Store) -> Pool {
        Pool {
            address: first.address.clone(),
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
            None => Store::open_at(&self.address, self.settings.clone()),
        }
    }

    /// Gives back a connection taken with [`Pool::take`] (closed if enough are idle).
    pub fn put(&self, store: Store) {
        let mut idle = self.idle();
        if idle.len() < Self::IDLE {
            idle.push(store);
        }
    }

    /// Where the store is.
    pub fn address(&self) -> &StoreAddress {
        &self.address
    }

    /// The settings the connections are opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// The highest schema version this binary knows (both backends share the numbering).
pub fn supported_schema_version() -> i64 {
    sqlite::supported_schema_version()
}

/// Runs `$body` with `$db` bound to the open connection, whichever backend it is.
macro_rules! on_backend {
    ($store:expr, $db:ident => $body:expr) => {
        match &mut $store.backend {
            Backend::Sqlite($db) => $body,
            Backend::Postgres($db) => $body,
        }
    };
}

impl Store {
    /// Opens (creating if needed, directory `0700`, file `0600`) and migrates the SQLite
    /// store at `path`.
    pub fn open(path: &Path, settings: Settings) -> Result<Store> {
        Self::open_at(&StoreAddress::file(path), settings)
    }

    /// Opens (creating if needed) and migrates the store at `address`.
    pub fn open_at(address: &StoreAddress, settings: Settings) -> Result<Store> {
        let backend = match &address.0 {
            Address::File(path) => Backend::Sqlite(sqlite::Db::open(path)?),
            Address::Postgres(target) => Backend::Postgres(Box::new(postgres::Db::open(target)?)),
        };
        Ok(Store {
            backend,
            address: address.clone(),
            settings,
        })
    }

    /// A new store at `address`, at schema version `schema` (not later), for loading what
    /// a store of that age held (an import of an export from an earlier version). It is
    /// made by this call: a store there already (even one another process made a moment
    /// ago) is a `Conflict`, and nothing of it is touched. A PostgreSQL store starts at
    /// schema [`postgres::BASELINE`]: an earlier `schema` is `Invalid` there.
    pub(crate) fn create_at_schema(
        address: &StoreAddress,
        settings: Settings,
        schema: i64,
    ) -> Result<Store> {
        let backend = match &address.0 {
            Address::File(path) => {
                if path.exists() {
                    return Err(crate::Error::Conflict(format!(
                        "a store exists already at {}",
                        path.display()
                    )));
                }
                Backend::Sqlite(sqlite::Db::open_upto(path, schema)?)
            }
            Address::Postgres(target) => {
                if schema < postgres::BASELINE {
                    return Err(crate::Error::Invalid(format!(
                        "a PostgreSQL store starts at schema version {}, and this export is \
                         at version {schema}",
                        postgres::BASELINE
                    )));
                }
                Backend::Postgres(Box::new(postgres::Db::create_upto(target, schema)?))
            }
        };
        Ok(Store {
            backend,
            address: address.clone(),
            settings,
        })
    }

    /// Removes the store at `address`, which this process just made and could not fill:
    /// nothing anyone wrote is in it.
    pub(crate) fn discard_new(address: &StoreAddress) {
        match &address.0 {
            Address::File(path) => sqlite::file::remove_database(path),
            Address::Postgres(target) => postgres::drop_schema(target),
        }
    }

    /// Where the store is.
    pub fn address(&self) -> &StoreAddress {
        &self.address
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
    pub fn backend(&mut self) -> Result<String> {
        match &mut self.backend {
            Backend::Sqlite(_) => Ok(sqlite::backend()),
            Backend::Postgres(db) => Ok(format!("PostgreSQL {}", db.server_version()?)),
        }
    }

    /// The schema version of the open store.
    pub fn schema_version(&mut self) -> Result<i64> {
        on_backend!(self, db => db.schema_version())
    }

    /// An integrity check over the whole store: the problems found (at most `limit`),
    /// empty when the store is sound. Reads every page; takes a moment on a large store.
    /// (PostgreSQL checks its pages itself: nothing to do there.)
    pub fn quick_check(&self, limit: u32) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Sqlite(db) => db.quick_check(limit),
            Backend::Postgres(_) => Ok(Vec::new()),
        }
    }

    /// A number that changes whenever another connection commits, cheap to poll; `None`
    /// where the backend has none (look at the log instead).
    pub fn data_version(&self) -> Result<Option<i64>> {
        match &self.backend {
            Backend::Sqlite(db) => db.data_version().map(Some),
            Backend::Postgres(_) => Ok(None),
        }
    }

    /// A source of notifications that another connection may have committed (see
    /// [`changes`]). Made before reading the log's end, it misses nothing committed after.
    pub(crate) fn change_source(&self) -> Result<Box<dyn changes::ChangeSource>> {
        match &self.address.0 {
            Address::File(path) => {
                let source = sqlite::writers::CommitSignal::new(path).map_err(|source| {
                    crate::Error::Io {
                        context: "cannot set up change notifications for the state database".into(),
                        source,
                    }
                })?;
                Ok(Box::new(source))
            }
            Address::Postgres(target) => {
                Ok(Box::new(postgres::listen::Notifications::new(target)?))
            }
        }
    }

    /// Moves committed changes into the main database file without waiting for readers
    /// or writers, so commits rarely pay for it (SQLite's WAL; nothing elsewhere).
    pub fn checkpoint(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(db) => db.checkpoint(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Runs `f` in one serialized write transaction; commits if it succeeds, rolls back
    /// if it fails, so a refused request leaves nothing behind.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        on_backend!(self, db => db.transaction(sqlite::Access::Write, |tx| f(tx)))
    }

    /// Runs `f` against one consistent snapshot of the store (it may write nothing
    /// that must last: the transaction is committed only if `f` succeeds).
    pub(crate) fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        on_backend!(self, db => db.transaction(sqlite::Access::Read, |tx| f(tx)))
    }

    /// Runs raw `sql` (parameters `$1`, `$2`… in order of first use, as JSON values) in
    /// one write transaction and returns its rows: for tests that set up or inspect states
    /// the domain never writes, the same on every backend.
    #[cfg(test)]
    pub(crate) fn sql_rows(
        &mut self,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        on_backend!(self, db => db.test_rows(sqlite::Access::Write, sql, params))
    }

    /// The first column of the first row [`Store::sql_rows`] returns (null without one).
    #[cfg(test)]
    pub(crate) fn sql_value(
        &mut self,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<serde_json::Value> {
        let rows = self.sql_rows(sql, params)?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or_default())
    }

    /// The SQLite connection, for tests that set up states the domain never writes.
    #[cfg(test)]
    fn sqlite(&mut self) -> &mut sqlite::Db {
        match &mut self.backend {
            Backend::Sqlite(db) => db,
            Backend::Postgres(_) => panic!("this test needs an SQLite store"),
        }
    }

    /// [`Store::write`] with SQLite's connection, for tests that set up states the
    /// domain never writes.
    #[cfg(test)]
    pub(crate) fn sql_write<T>(
        &mut self,
        f: impl FnOnce(&sqlite::Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.sqlite().transaction(sqlite::Access::Write, f)
    }

    /// [`Store::read`] with SQLite's connection, for tests that inspect rows.
    #[cfg(test)]
    pub(crate) fn sql_read<T>(
        &mut self,
        f: impl FnOnce(&sqlite::Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.sqlite().transaction(sqlite::Access::Read, f)
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
        let statement = store.sqlite().connection().prepare_cached(sql).unwrap();
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
        let mut store = Store::open(&path, Settings::default()).unwrap();
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

    crate::every_backend! {
        fn a_store_from_a_newer_binary_is_refused_clearly(backend) {
            let (scratch, mut store) = scratch_store(backend);
            store
                .sql_rows("INSERT INTO schema_version VALUES (999, 0)", &[])
                .unwrap();
            drop(store);
            let err = Store::open_at(&scratch.address(), Settings::default()).unwrap_err();
            assert!(
                matches!(err, Error::SchemaTooNew { found: 999, .. }),
                "{err:?}"
            );
            assert!(err.to_string().contains("Upgrade switchboard"), "{err}");
        }

        fn a_failed_write_rolls_back_everything(backend) {
            let (_scratch, mut store) = scratch_store(backend);
            let result: Result<()> = store.write(|tx| {
                tx.upsert_agent(
                    &crate::agent::Registration {
                        name: "a".into(),
                        ..Default::default()
                    },
                    crate::agent::AgentKind::Agent,
                    Timestamp(0),
                )?;
                Err(Error::Conflict("refused".into()))
            });
            assert!(result.is_err());
            let count = store.sql_value("SELECT COUNT(*) FROM agents WHERE name = 'a'", &[]);
            assert_eq!(count.unwrap(), 0);
        }

        fn a_panic_inside_an_operation_rolls_it_back_and_the_store_goes_on(backend) {
            let (_scratch, mut store) = scratch_store(backend);
            let insert = |name: &str| {
                format!(
                    "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('{name}', 'agent', 0, 0)"
                )
            };
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                store.write(|tx| -> Result<()> {
                    let p = crate::agent::Registration {
                        name: "p".into(),
                        ..Default::default()
                    };
                    tx.upsert_agent(&p, crate::agent::AgentKind::Agent, Timestamp(0))?;
                    panic!("the operation crashed");
                })
            }));
            assert!(panicked.is_err());
            store
                .sql_rows(&insert("q"), &[])
                .expect("the next write starts a transaction of its own");
            let names = store
                .sql_rows("SELECT name FROM agents ORDER BY name", &[])
                .unwrap();
            assert!(
                names.contains(&vec!["q".into()]) && !names.contains(&vec!["p".into()]),
                "the crashed write left nothing: {names:?}"
            );
        }
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
