//! Whole database files: copying one online, checking one, restoring one into a live
//! database (what backups of the embedded store are made of).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::{Error, Result};

/// How much history the database file at `path` holds: its newest event's number (0 when
/// it cannot be read).
pub(crate) fn history(path: &Path) -> i64 {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|c| c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0)))
    .unwrap_or(0)
}

/// Copies the database at `db` into the (just created, empty) file `to` with SQLite's
/// online backup API, in one consistent read.
pub(crate) fn copy(db: &Path, to: &Path) -> Result<()> {
    let source = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(5))?;
    let mut target = Connection::open(to)?;
    {
        use rusqlite::backup::StepResult;
        let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
        // All pages in one step (one consistent read); a writer holding a lock is waited for.
        let mut waits = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More => {}
                _ if waits < 100 => {
                    waits += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(Error::Conflict(
                        "the state database stayed locked for 5 s; the backup was not taken".into(),
                    ));
                }
            }
        }
    }
    target.execute_batch("PRAGMA journal_mode = DELETE")?;
    Ok(())
}

/// Checks that the database file at `path` is sound and one this binary can use.
pub(crate) fn check(path: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(Error::from)
        .or_else(|e| {
            if e.is_corruption() {
                Ok(e.to_string())
            } else {
                Err(e)
            }
        })?;
    if verdict != "ok" {
        return Err(Error::Invalid(format!(
            "{} is damaged (SQLite's quick_check: {verdict})",
            path.display()
        )));
    }
    let version: i64 = conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|_| {
            Error::Invalid(format!(
                "{} is not a switchboard state database",
                path.display()
            ))
        })?;
    if version > crate::store::supported_schema_version() {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: crate::store::supported_schema_version(),
        });
    }
    Ok(())
}

/// Copies `from` into the live database at `db` with the backup API.
pub(crate) fn restore_into(db: &Path, from: &Path) -> Result<()> {
    let mut conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.restore(rusqlite::MAIN_DB, from, rusqlite::backup::NO_PROGRESS)?;
    Ok(())
}

/// Removes the database file at `path` and its side files (`-wal`, `-shm`, `-writers`),
/// ignoring any that are missing.
pub(crate) fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-writers"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}
