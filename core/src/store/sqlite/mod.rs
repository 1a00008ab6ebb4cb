//! The SQLite backend: one file per repository shared by every process. Writes are short
//! `BEGIN IMMEDIATE` transactions (a writer takes the lock up front instead of failing to
//! upgrade later); readers use WAL snapshots. Writers wait their turn on a side file
//! ([`writers`]), which they also mark when they commit, to wake other processes' feeds;
//! `busy_timeout` still orders writers that do not use it. Everything specific to SQLite
//! lives under this module: opening, PRAGMAs, migrations, SQL, FTS5, the registered
//! `sb_live` function and the change source.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::clock::Timestamp;
use crate::{Error, Result};

mod agent;
pub(crate) mod archive;
mod claim;
mod error;
mod event;
pub(crate) mod file;
mod group;
mod id;
mod message;
mod session;
mod token;
mod worktree;
pub(crate) mod writers;

/// Forward-only migrations; migration `n` (1-based) is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_foundation.sql"),
    include_str!("migrations/002_messaging.sql"),
    include_str!("migrations/003_worktrees.sql"),
    include_str!("migrations/004_tokens.sql"),
    include_str!("migrations/005_shown.sql"),
    include_str!("migrations/006_announced.sql"),
    include_str!("migrations/007_hooks.sql"),
    include_str!("migrations/008_notified.sql"),
    include_str!("migrations/009_operations.sql"),
    include_str!("migrations/010_lighter_writes.sql"),
    include_str!("migrations/011_threads_by_key.sql"),
    include_str!("migrations/012_hosts.sql"),
    include_str!("migrations/013_claims.sql"),
];

/// How long a writer waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// "SQLite 3.x.y (embedded)": the backend and the version of the library built in.
pub(crate) fn backend() -> String {
    format!("SQLite {} (embedded)", rusqlite::version())
}

/// The highest schema version this binary knows.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// What a transaction may do.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    /// A consistent snapshot (a deferred transaction).
    Read,
    /// The write lock, taken up front.
    Write,
}

/// One open, configured and migrated connection.
pub(crate) struct Db {
    conn: Connection,
    /// The writers' queue, marked after each committed write to wake other processes'
    /// feeds; `None` when its file cannot be opened (writes then queue on SQLite's lock
    /// alone, and other processes see them at their safety poll).
    writers: Option<writers::Writers>,
}

/// One transaction: the rows of [`crate::store::rows`] over SQL.
pub(crate) struct Tx<'a> {
    tx: rusqlite::Transaction<'a>,
}

/// Tests reach the connection directly to set up states the domain never writes
/// (backdated heartbeats, damaged rows); product code goes through the row traits.
#[cfg(test)]
impl std::ops::Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl Db {
    /// Opens (creating if needed, directory `0700`, file `0600`), configures and migrates
    /// the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<Db> {
        Self::open_upto(path, supported_schema_version())
    }

    /// [`Db::open`], migrating no further than schema version `upto` (a database already
    /// past it is left as it is).
    pub(crate) fn open_upto(path: &Path, upto: i64) -> Result<Db> {
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
        let writers = writers::Writers::open(path)
            .inspect_err(|e| {
                tracing::warn!(
                    error = %e,
                    "cannot open the writers' file beside the state database; \
                     other processes will see this one's changes only at their safety poll"
                );
            })
            .ok();
        let mut db = Db { conn, writers };
        db.migrate(path, upto)?;
        Ok(db)
    }

    /// The schema version of the open database.
    pub(crate) fn schema_version(&self) -> Result<i64> {
        current_version(&self.conn)
    }

    /// SQLite's `quick_check` over the whole file: the problems it found (at most
    /// `limit`), empty when the store is sound.
    pub(crate) fn quick_check(&self, limit: u32) -> Result<Vec<String>> {
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

    /// The connection itself, for tests that inspect SQLite.
    #[cfg(test)]
    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// SQLite's `data_version`: changes whenever another connection commits.
    pub(crate) fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    /// `PRAGMA wal_checkpoint(PASSIVE)`: copies committed WAL pages back into the
    /// database without waiting for readers or writers.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs `f` in one transaction; commits if it succeeds, rolls back if it fails. A
    /// write first waits its turn in the writers' queue and marks its commit for watchers
    /// ([`writers`]).
    pub(crate) fn transaction<T>(
        &mut self,
        access: Access,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let behavior = match access {
            Access::Read => TransactionBehavior::Deferred,
            Access::Write => TransactionBehavior::Immediate,
        };
        let _turn = match (access, &self.writers) {
            (Access::Write, Some(writers)) => writers.in_line(),
            _ => None,
        };
        let tx = Tx {
            tx: self.conn.transaction_with_behavior(behavior)?,
        };
        let value = f(&tx)?;
        tx.tx.commit()?;
        if let (Access::Write, Some(writers)) = (access, &self.writers) {
            writers.committed();
        }
        Ok(value)
    }

    fn migrate(&mut self, path: &Path, upto: i64) -> Result<()> {
        let supported = supported_schema_version();
        let found = current_version(&self.conn)?;
        if found > supported {
            return Err(too_new(path, found));
        }
        if found >= upto {
            return Ok(());
        }
        // Foreign keys are off while migrations run, so that a migration may rebuild a
        // table other tables refer to (SQLite's documented way to change a table); the
        // references are checked before the migration commits.
        self.conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        let migrated = self.transaction(Access::Write, |tx| {
            // Another process may have migrated while we waited for the write lock.
            let found = current_version(&tx.tx)?;
            if found > supported {
                return Err(too_new(path, found));
            }
            let (from, to) = (found as usize, upto.min(supported) as usize);
            for (index, sql) in MIGRATIONS.iter().enumerate().take(to).skip(from) {
                tx.tx.execute_batch(sql)?;
                tx.tx.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
                    (index as i64 + 1, Timestamp::now().millis()),
                )?;
            }
            let broken: i64 =
                tx.tx
                    .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                        r.get(0)
                    })?;
            if broken > 0 {
                return Err(Error::Internal(format!(
                    "migrating the state database would leave {broken} broken references; \
                     nothing was changed"
                )));
            }
            Ok(())
        });
        self.conn.execute_batch("PRAGMA foreign_keys = ON")?;
        migrated
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
    register_live(conn)?;
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

/// `sb_live(host, pid, last_seen_at, cutoff)` for SQL: 1 when
/// [`crate::liveness::stale_reason`] finds nothing, so a list filtered in SQL and a
/// session judged in Rust never disagree. A pid that is not a process id reads as no
/// process.
pub(crate) fn register_live(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("sb_live", 4, FunctionFlags::SQLITE_UTF8, |ctx| {
        let host: Option<String> = ctx.get(0)?;
        let pid: Option<i64> = ctx.get(1)?;
        let last_seen = Timestamp(ctx.get(2)?);
        let cutoff = Timestamp(ctx.get(3)?);
        let pid = pid.and_then(|p| u32::try_from(p).ok());
        let process = host.as_deref().zip(pid);
        Ok(crate::liveness::stale_reason(process, last_seen, cutoff).is_none())
    })
}

/// Raw SQL for tests, the same on every backend (see `Store::sql_rows`).
#[cfg(test)]
impl Db {
    /// Runs `sql` (parameters `$1`, `$2`… in order of first use) in a transaction
    /// of `access`; returns its rows as JSON values (integers, reals, text, null).
    pub(crate) fn test_rows(
        &mut self,
        access: Access,
        sql: &str,
        params: &[serde_json::Value],
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        use rusqlite::types::{Value, ValueRef};
        let params: Vec<Value> = params
            .iter()
            .map(|p| match p {
                serde_json::Value::Number(n) => n
                    .as_i64()
                    .map_or_else(|| Value::Real(n.as_f64().unwrap_or(0.0)), Value::Integer),
                serde_json::Value::String(s) => Value::Text(s.clone()),
                serde_json::Value::Null => Value::Null,
                other => Value::Text(other.to_string()),
            })
            .collect();
        self.transaction(access, |tx| {
            let mut statement = tx.tx.prepare(sql)?;
            let width = statement.column_count();
            let mut rows = statement.query(rusqlite::params_from_iter(params))?;
            let mut found = Vec::new();
            while let Some(row) = rows.next()? {
                let values = (0..width)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            ValueRef::Null => serde_json::Value::Null,
                            ValueRef::Integer(n) => n.into(),
                            ValueRef::Real(x) => x.into(),
                            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                            ValueRef::Blob(_) => serde_json::Value::Null,
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                found.push(values);
            }
            Ok(found)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store written by the previous version (schema 9) keeps its events and its
    /// search index when it moves to batched indexing without event-id uniqueness.
    #[test]
    fn a_store_at_schema_9_migrates_keeping_events_threads_and_search() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        {
            let conn = Connection::open(&path).unwrap();
            configure(&conn).unwrap();
            current_version(&conn).unwrap();
            for (index, sql) in MIGRATIONS.iter().enumerate().take(9) {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?1, 0)",
                    [index as i64 + 1],
                )
                .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO agents (name, kind, registered_at, last_seen_at) VALUES ('a', 'agent', 0, 0);
                 INSERT INTO threads (id, created_by, created_at, last_message_at) VALUES ('thr_1', 'a', 0, 0);
                 INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at)
                     VALUES ('msg_1', 'thr_1', 'a', '[]', 'hello there', 1, 0);
                 INSERT INTO events (id, type, payload, at) VALUES ('evt_1', 'x', '{}', 0);",
            )
            .unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), supported_schema_version());
        let conn = db.connection();
        let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(one("SELECT COUNT(*) FROM events WHERE id = 'evt_1'"), 1);
        assert_eq!(one("SELECT COUNT(*) FROM pragma_index_list('events')"), 0);
        assert_eq!(one("SELECT indexed_upto FROM search_index"), 1);
        assert_eq!(
            one("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'hello'"),
            1,
            "what was indexed before stays indexed"
        );
        let update = conn.execute("UPDATE events SET type = 'y'", []);
        assert!(update.is_err(), "events stay append-only");
        assert_eq!(
            one("SELECT COUNT(*) FROM messages m JOIN threads t ON t.id = m.thread_id"),
            1,
            "threads rebuilt by key keep their messages"
        );
        assert_eq!(one("PRAGMA foreign_keys"), 1, "foreign keys are on again");
        let orphan = conn.execute(
            "INSERT INTO messages (id, thread_id, author, addressed_to, body, priority, created_at) \
             VALUES ('msg_2', 'thr_none', 'a', '[]', 'b', 1, 0)",
            [],
        );
        assert!(orphan.is_err(), "messages still need their thread");
    }
}
