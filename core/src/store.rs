//! The shared per-repository SQLite store: opening, pragmas, migrations and transactions.
//!
//! Many processes open the same file. Writes are short `BEGIN IMMEDIATE` transactions (so
//! a writer takes the lock up front instead of failing to upgrade later); readers use WAL
//! snapshots. `busy_timeout` makes writers queue instead of failing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::clock::Timestamp;
use crate::{Error, Result};

/// Forward-only migrations; migration `n` (1-based) is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("store/001_foundation.sql"),
    include_str!("store/002_messaging.sql"),
    include_str!("store/003_worktrees.sql"),
    include_str!("store/004_tokens.sql"),
    include_str!("store/005_shown.sql"),
    include_str!("store/006_announced.sql"),
    include_str!("store/007_hooks.sql"),
    include_str!("store/008_notified.sql"),
    include_str!("store/009_operations.sql"),
];

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
    conn: Connection,
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
    MIGRATIONS.len() as i64
}

impl Store {
    /// Opens (creating if needed, directory `0700`, file `0600`) and migrates the database.
    pub fn open(path: &Path, settings: Settings) -> Result<Store> {
        prepare_location(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            Error::Location(format!(
                "cannot open the state database {}: {e}",
                path.display()
            ))
        })?;
        configure(&conn)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            settings,
        };
        store.migrate()?;
        Ok(store)
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

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        current_version(&self.conn)
    }

    /// SQLite's `quick_check` over the whole file: the problems it found (at most
    /// `limit`), empty when the store is sound. Reads every page; takes a moment on a
    /// large store.
    pub fn quick_check(&self, limit: u32) -> Result<Vec<String>> {
        let checked: rusqlite::Result<Vec<String>> = self
            .conn
            .prepare(&format!("PRAGMA quick_check({limit})"))
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect());
        match checked.map_err(Error::from) {
            Ok(found) => Ok(found.into_iter().filter(|line| line != "ok").collect()),
            // A page so damaged the check itself stops is a finding, not a failure.
            Err(e) if e.is_corruption() => Ok(vec![format!(
                "the check stopped: {}",
                e.to_string().trim_start_matches("database error: ")
            )]),
            Err(e) => Err(e),
        }
    }

    /// SQLite's `data_version`: changes whenever another connection commits. Cheap to poll.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    /// Copies committed WAL pages back into the database without waiting for readers or
    /// writers (`PRAGMA wal_checkpoint(PASSIVE)`), so commits rarely pay for a checkpoint.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction; commits if it succeeds, rolls back
    /// if it fails, so a refused request leaves nothing behind.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// Runs `f` against one consistent snapshot of the database (it may write nothing
    /// that must last: the transaction is committed only if `f` succeeds).
    pub(crate) fn read<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    fn transaction<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(behavior)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    fn migrate(&mut self) -> Result<()> {
        let supported = supported_schema_version();
        let found = current_version(&self.conn)?;
        if found > supported {
            return Err(self.too_new(found));
        }
        if found == supported {
            return Ok(());
        }
        let path = self.path.clone();
        self.write(|tx| {
            // Another process may have migrated while we waited for the write lock.
            let found = current_version(tx)?;
            if found > supported {
                return Err(too_new(&path, found));
            }
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.execute_batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                    (index as i64 + 1, Timestamp::now().millis()),
                )?;
            }
            Ok(())
        })
    }

    fn too_new(&self, found: i64) -> Error {
        too_new(&self.path, found)
    }
}

fn too_new(path: &Path, found: i64) -> Error {
    Error::SchemaTooNew {
        path: path.to_path_buf(),
        found,
        supported: supported_schema_version(),
    }
}

fn current_version(conn: &Connection) -> Result<i64> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         )",
    )?;
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Location(format!(
            "the state database could not switch to WAL mode (got '{mode}'); \
             it must be on a local filesystem"
        )));
    }
    // Checkpoints normally run off the write path (see `ChangeFeed::checkpoint`); this
    // larger automatic threshold only bounds the WAL when no feed is running.
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 4000;",
    )?;
    // Plans that do not depend on bound values: without this, SQLite compiles a cached
    // statement again whenever a value bound to it changes (with the partial index and
    // STAT4 build of ours, every lookup by id did), which was half the CPU of a send.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    crate::liveness::register(conn)?;
    Ok(())
}

/// Creates the parent directory (`0700`) and the file (`0600`) if missing, and refuses
/// network filesystems, where SQLite's locking is unreliable.
fn prepare_location(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    }
    refuse_network_filesystem(dir)?;
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn refuse_network_filesystem(dir: &Path) -> Result<()> {
    const NETWORK: &[(i64, &str)] = &[
        (0x6969, "NFS"),
        (0x517B, "SMB"),
        (0xFF53_4D42, "CIFS"),
        (0xFE53_4D42, "SMB2"),
        (0x0102_1994, "9P"),
    ];
    let Ok(stat) = rustix::fs::statfs(dir) else {
        return Ok(());
    };
    // `f_type`'s integer type differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let kind = stat.f_type as i64;
    match NETWORK.iter().find(|(magic, _)| *magic == kind) {
        Some((_, name)) => Err(Error::Location(format!(
            "{} is on a network filesystem ({name}); SQLite's locking is not reliable there. \
             Put the state on a local disk with --db PATH or SWITCHBOARD_DB.",
            dir.display()
        ))),
        None => Ok(()),
    }
}

#[cfg(not(target_os = "linux"))]
fn refuse_network_filesystem(_: &Path) -> Result<()> {
    Ok(())
}

pub(crate) mod sqlite;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
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
        let statement = store.conn.prepare_cached(sql).unwrap();
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
            .read(|tx| {
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
            .read(|tx| {
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
            .write(|tx| {
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
        let result: Result<()> = store.write(|tx| {
            tx.execute(
                "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('a', 'agent', 0, 0)",
                [],
            )?;
            Err(Error::Conflict("refused".into()))
        });
        assert!(result.is_err());
        let count: i64 = store
            .read(|tx| {
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
    fn data_version_moves_when_another_connection_commits() {
        let (dir, store) = temp_store();
        let before = store.data_version().unwrap();
        let mut other = Store::open(dir.db(), Settings::default()).unwrap();
        other
            .write(|tx| {
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
