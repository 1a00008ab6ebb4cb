//! Automatic online backups of the state database, and restoring one.
//!
//! A backup is a complete SQLite database taken with SQLite's online backup API while
//! every process keeps working, kept in `backups/` beside the database as
//! `state-<UTC time>.db` (owner-only), the newest `keep` kept. One long-running process at
//! a time takes them ([`Schedule`]); a backup that fails SQLite's `quick_check` is thrown
//! away instead of pushing a sound one out of the rotation.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::store::sqlite::file;
use crate::{Error, Result};

pub use crate::config::{BackupPolicy as Policy, MIN_BACKUP_EVERY as MIN_EVERY};

/// One backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Backup {
    /// The backup file: `backups/<database file stem>-<UTC time>.db` beside the database,
    /// e.g. `backups/state-20261130T101500-123Z.db`.
    pub path: PathBuf,
    /// When it was taken (RFC 3339 UTC); for a listed backup, its file's modification time.
    pub taken_at: Timestamp,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// The directory holding the backups of the database at `db`.
pub fn dir(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join("backups")
}

const SUFFIX: &str = ".db";

/// The name of a backup of `db` taken at `at`: the database's file stem, then the UTC time
/// at fixed width (`state-20261130T101500-123Z.db`), so names sort by time and two
/// databases in one directory never share backups.
fn backup_name(db: &Path, at: Timestamp) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.millis()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}-{:04}{:02}{:02}T{:02}{:02}{:02}-{:03}Z{SUFFIX}",
        stem(db),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn stem(db: &Path) -> String {
    db.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into())
}

/// Whether `name` is a backup of `db` as [`backup_name`] writes them.
fn is_backup_of(db: &Path, name: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(&format!("{}-", stem(db)))
        .and_then(|rest| rest.strip_suffix(SUFFIX))
    else {
        return false;
    };
    let shape = "ddddddddTdddddd-dddZ";
    stamp.len() == shape.len()
        && stamp
            .chars()
            .zip(shape.chars())
            .all(|(c, want)| match want {
                'd' => c.is_ascii_digit(),
                other => c == other,
            })
}

/// The backups of the database at `db`, newest first.
pub fn list(db: &Path) -> Result<Vec<Backup>> {
    let dir = dir(db);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("cannot read {}", dir.display()), e)),
    };
    let mut found: Vec<Backup> = entries
        .flatten()
        .filter(|e| is_backup_of(db, &e.file_name().to_string_lossy()))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            let taken = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            Some(Backup {
                path: e.path(),
                taken_at: Timestamp(i64::try_from(taken.as_millis()).ok()?),
                bytes: meta.len(),
            })
        })
        .collect();
    found.sort_by(|a, b| b.path.cmp(&a.path));
    Ok(found)
}

/// The newest backup of the database at `db`.
pub fn latest(db: &Path) -> Result<Option<Backup>> {
    Ok(list(db)?.into_iter().next())
}

/// Takes a backup of the database at `db` now (other processes keep reading and writing),
/// checks it, and deletes the oldest beyond `keep` (when `keep` > 0) — unless the database
/// has less history than the newest backup before it (it was reset or replaced), when
/// nothing is deleted. A backup that fails its check is deleted and reported as an error:
/// the database itself is likely damaged.
pub fn take(db: &Path, keep: usize) -> Result<Backup> {
    let dir = dir(db);
    create_private_dir(&dir)?;
    let stamp = Timestamp::now();
    let name = backup_name(db, stamp);
    let target = dir.join(&name);
    let partial = dir.join(format!(".{name}.{}.partial", ulid::Ulid::generate()));
    let copied = copy_online(db, &partial).and_then(|()| file::check(&partial));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target)
        .map_err(|e| Error::io(format!("cannot move the backup to {}", target.display()), e))?;
    sync_dir(&dir);
    let older: Vec<Backup> = list(db)?.into_iter().filter(|b| b.path != target).collect();
    let went_back = older
        .first()
        .is_some_and(|newest| file::history(&target) < file::history(&newest.path));
    if went_back {
        // A store reset or replaced by hand: rotating would push every backup of the old
        // history out within `keep` rounds.
        tracing::warn!(
            backup = %target.display(),
            "the state database has less history than its newest backup; no backup is deleted"
        );
    } else if keep > 0 {
        for old in older.into_iter().skip(keep - 1) {
            if let Err(e) = std::fs::remove_file(&old.path) {
                tracing::warn!(error = %e, backup = %old.path.display(), "cannot delete an old backup");
            }
        }
    }
    let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    Ok(Backup {
        path: target,
        taken_at: stamp,
        bytes,
    })
}

/// Copies the database at `db` into the new owner-only file `to`.
fn copy_online(db: &Path, to: &Path) -> Result<()> {
    private_file(to)?;
    file::copy(db, to)
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Restored {
    /// The state database that now holds the restored contents.
    pub db: PathBuf,
    /// The backup (or other sound state database) the contents were taken from.
    pub from: PathBuf,
    /// Where the database that was replaced now is (restore it the same way to undo);
    /// none when there was no database.
    pub replaced: Option<PathBuf>,
}

/// Replaces the contents of the database at `db` with the backup (or any sound state
/// database) at `from`, through SQLite's backup API into the database itself, so every
/// connection sees the restored state and no file is swapped under one. What it replaces
/// is first copied (with its WAL) to `<db>.replaced-<millis>`, never lost. A database too
/// damaged to write into is moved aside whole instead, and a copy of `from` put in its
/// place. Live sessions are refused unless `force`: their agents would go on from a state
/// that is no longer there.
pub fn restore(db: &Path, from: &Path, force: bool) -> Result<Restored> {
    let users = if force { Vec::new() } else { live_sessions(db) };
    if !users.is_empty() {
        return Err(Error::Conflict(format!(
            "{} is in use by live sessions: {}. Stop their processes (the agents' MCP servers, \
             switchboard serve and lsp) first, or restore with force.",
            db.display(),
            users.join(", ")
        )));
    }
    file::check(from).map_err(|e| match e {
        Error::Invalid(m) => Error::Invalid(format!("cannot restore from it: {m}")),
        other => other,
    })?;
    let restored = |replaced| Restored {
        db: db.to_path_buf(),
        from: from.to_path_buf(),
        replaced,
    };
    if !db.exists() {
        put_in_place(db, from)?;
        return Ok(restored(None));
    }
    let aside = PathBuf::from(format!(
        "{}.replaced-{}",
        db.display(),
        Timestamp::now().millis()
    ));
    let in_place = copy_online(db, &aside).and_then(|()| file::restore_into(db, from));
    match in_place {
        Ok(()) => Ok(restored(Some(aside))),
        Err(e) if e.is_corruption() => {
            let _ = std::fs::remove_file(&aside);
            move_database(db, &aside)?;
            put_in_place(db, from)?;
            Ok(restored(Some(aside)))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&aside);
            Err(e)
        }
    }
}

/// Writes a consistent copy of `from` to the (absent) path `db`.
fn put_in_place(db: &Path, from: &Path) -> Result<()> {
    let dir = db.parent().unwrap_or(Path::new("."));
    let incoming = dir.join(format!(".restore-{}.db", ulid::Ulid::generate()));
    if let Err(e) = copy_online(from, &incoming) {
        let _ = std::fs::remove_file(&incoming);
        return Err(e);
    }
    std::fs::rename(&incoming, db).map_err(|e| {
        Error::io(
            format!("cannot put the backup in place at {}", db.display()),
            e,
        )
    })?;
    sync_dir(dir);
    Ok(())
}

/// The live sessions using the database at `db` (`agent (pid N)`); none when it cannot be
/// read (a damaged store has no one to wait for).
fn live_sessions(db: &Path) -> Vec<String> {
    if !db.exists() {
        return Vec::new();
    }
    let Ok(mut store) = crate::Store::open(db, crate::Settings::default()) else {
        return Vec::new();
    };
    let filter = crate::session::Filter {
        live_only: true,
        limit: Some(crate::session::MAX_LIST_LIMIT),
        ..Default::default()
    };
    crate::session::list(&mut store, &filter)
        .map(|list| {
            list.sessions
                .into_iter()
                .map(|s| match s.process {
                    Some(p) => format!("{} (pid {})", s.agent, p.pid),
                    None => s.agent,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Moves a database file and its WAL to `to` (the shared-memory index is rebuilt by
/// SQLite, so it is dropped).
fn move_database(db: &Path, to: &Path) -> Result<()> {
    let side = |path: &Path, suffix: &str| PathBuf::from(format!("{}{suffix}", path.display()));
    let wal = side(db, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, side(to, "-wal"))
            .map_err(|e| Error::io(format!("cannot move {} aside", wal.display()), e))?;
    }
    let _ = std::fs::remove_file(side(db, "-shm"));
    std::fs::rename(db, to).map_err(|e| Error::io(format!("cannot move {} aside", db.display()), e))
}

/// Creates a new owner-only file at `path` (an existing file or link is an error).
fn private_file(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}

/// Makes a rename in `dir` durable (best effort).
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// Takes a backup when the newest is older than `policy.every`, unless another process is
/// taking one (a lock file in the backups directory decides). Returns the backup taken.
pub fn take_if_due(db: &Path, policy: Policy) -> Result<Option<Backup>> {
    let due = |db: &Path| -> Result<bool> {
        Ok(latest(db)?.is_none_or(|b| {
            Timestamp::now().millis() - b.taken_at.millis()
                >= i64::try_from(policy.every.as_millis()).unwrap_or(i64::MAX)
        }))
    };
    if policy.keep == 0 || !db.exists() || !due(db)? {
        return Ok(None);
    }
    let dir = dir(db);
    create_private_dir(&dir)?;
    let lock_path = dir.join(".lock");
    let lock = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&lock_path)
    }
    .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
    if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
        return Ok(None);
    }
    // Another process may have taken one while we waited for the lock.
    if !due(db)? {
        return Ok(None);
    }
    take(db, policy.keep).map(Some)
}

/// Automatic backups for as long as it lives: a thread that checks every
/// `min(policy.every, 1 min)` whether one is due. Dropping it stops the thread.
#[derive(Debug)]
pub struct Schedule {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Schedule {
    /// Starts automatic backups of the database at `db`; `None` when `policy.keep` is 0.
    pub fn start(db: PathBuf, policy: Policy) -> Option<Schedule> {
        if policy.keep == 0 {
            return None;
        }
        let (stop, stopped) = mpsc::channel::<()>();
        let interval = policy.every.clamp(MIN_EVERY, Duration::from_secs(60));
        let thread = std::thread::Builder::new()
            .name("switchboard-backup".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    match take_if_due(&db, policy) {
                        Ok(Some(b)) => tracing::debug!(backup = %b.path.display(), bytes = b.bytes, "backup taken"),
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "automatic backup of the state database failed"),
                    }
                }
            })
            .ok()?;
        Some(Schedule {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Settings, Store};

    fn store_with_agent(dir: &Path, name: &str) -> PathBuf {
        let db = dir.join("state.db");
        let mut store = Store::open(&db, Settings::default()).unwrap();
        crate::agent::register(&mut store, name, &registration(name)).unwrap();
        db
    }

    fn registration(name: &str) -> crate::agent::Registration {
        crate::agent::Registration {
            name: name.into(),
            ..Default::default()
        }
    }

    fn agents(db: &Path) -> Vec<String> {
        let mut store = Store::open(db, Settings::default()).unwrap();
        let mut names: Vec<String> = crate::agent::list(&mut store)
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_backup_is_a_private_sound_copy_taken_while_the_store_is_open() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        let _writer = Store::open(&db, Settings::default()).unwrap();
        let backup = take(&db, 3).unwrap();
        assert_eq!(backup.path.parent().unwrap(), dir.path().join("backups"));
        let mode = std::fs::metadata(&backup.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        file::check(&backup.path).unwrap();
        assert_eq!(agents(&backup.path), ["alice"]);
        assert_eq!(latest(&db).unwrap().unwrap().path, backup.path);
    }

    #[test]
    fn backups_rotate_keeping_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        let mut taken = Vec::new();
        for _ in 0..4 {
            taken.push(take(&db, 2).unwrap().path);
            std::thread::sleep(Duration::from_millis(2));
        }
        let kept: Vec<PathBuf> = list(&db).unwrap().into_iter().map(|b| b.path).collect();
        assert_eq!(kept, [taken[3].clone(), taken[2].clone()]);
    }

    #[test]
    fn backups_of_an_older_history_are_kept_when_the_store_is_reset() {
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        for name in ["bob", "carol"] {
            let mut store = Store::open(&db, Settings::default()).unwrap();
            crate::agent::register(&mut store, name, &registration(name)).unwrap();
            drop(store);
            take(&db, 2).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
        std::fs::remove_file(&db).unwrap();
        let _ = std::fs::remove_file(dir.path().join("state.db-wal"));
        let fresh = store_with_agent(dir.path(), "dave");
        take(&fresh, 2).unwrap();
        assert_eq!(
            list(&db).unwrap().len(),
            3,
            "nothing of the old history is rotated out"
        );
    }

    #[test]
    fn only_a_due_backup_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        let hourly = Policy::default();
        assert!(take_if_due(&db, hourly).unwrap().is_some(), "none yet: due");
        assert!(
            take_if_due(&db, hourly).unwrap().is_none(),
            "fresh: not due"
        );
        let off = Policy { keep: 0, ..hourly };
        let always = Policy {
            every: Duration::ZERO,
            ..hourly
        };
        assert!(take_if_due(&db, off).unwrap().is_none());
        assert!(take_if_due(&db, always).unwrap().is_some());
    }

    #[test]
    fn restoring_writes_into_the_live_database_and_keeps_what_it_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        let backup = take(&db, 3).unwrap();
        let mut open = Store::open(&db, Settings::default()).unwrap();
        crate::agent::register(&mut open, "bob", &registration("bob")).unwrap();
        let restored = restore(&db, &backup.path, false).unwrap();
        let names = |store: &mut Store| -> Vec<String> {
            let mut n: Vec<String> = crate::agent::list(store)
                .unwrap()
                .into_iter()
                .map(|a| a.name)
                .collect();
            n.sort();
            n
        };
        assert_eq!(names(&mut open), ["alice"], "an open connection sees it");
        let replaced = restored.replaced.unwrap();
        assert_eq!(
            agents(&replaced),
            ["alice", "bob"],
            "what it replaced is kept, WAL included"
        );
        restore(&db, &replaced, false).unwrap();
        assert_eq!(names(&mut open), ["alice", "bob"], "and can be put back");
        assert!(backup.path.exists(), "the backup stays");
    }

    #[test]
    fn names_sort_by_time_and_belong_to_one_database() {
        let at = |ms| backup_name(Path::new("/x/state.db"), Timestamp(ms));
        assert_eq!(at(1_796_035_199_000), "state-20261130T103959-000Z.db");
        assert!(at(1_796_035_199_500) < at(1_796_035_199_550));
        assert!(at(1_796_035_199_950) < at(1_796_035_200_000));
        assert!(is_backup_of(Path::new("/x/state.db"), &at(5)));
        let other = backup_name(Path::new("/x/state-b.db"), Timestamp(5));
        assert!(!is_backup_of(Path::new("/x/state.db"), &other));
    }

    #[test]
    fn a_damaged_or_foreign_file_is_not_restored() {
        let dir = tempfile::tempdir().unwrap();
        let db = store_with_agent(dir.path(), "alice");
        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, "not a database").unwrap();
        let err = restore(&db, &junk, false).unwrap_err().to_string();
        assert!(err.contains("junk.db"), "{err}");
        let foreign = dir.path().join("foreign.db");
        rusqlite::Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = restore(&db, &foreign, false).unwrap_err().to_string();
        assert!(
            err.contains("cannot restore from it")
                && err.contains("is not a switchboard state database"),
            "{err}"
        );
        assert_eq!(agents(&db), ["alice"], "the store is untouched");
    }
}
