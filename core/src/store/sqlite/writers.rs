//! How the processes that share one database take turns writing and tell each other that
//! they committed, through one small side file next to the database,
//! `<database>-writers` ([`Writers`]):
//!
//! - **Taking turns.** A writer holds an exclusive `flock` on the file for the length of
//!   its write transaction ([`Writers::in_line`]). Waiting writers sleep in the kernel and
//!   the next one runs as soon as the lock is released, instead of polling SQLite's lock
//!   in sleeps that grow to 100 ms (`busy_timeout`); with sixteen agents sending, the
//!   slowest sends went from 0.6–1.4 s to about 50 ms. SQLite's own locking still decides
//!   who writes; the queue only spares the retries. Like cargo's package-cache lock, the
//!   wait has no time limit: the lock is held for one short transaction and the kernel
//!   releases it when its holder exits or crashes, but a holder that is stopped
//!   (`SIGSTOP`, a debugger) keeps the others waiting until it continues or exits.
//! - **Waking watchers.** After the transaction commits, the writer writes one byte in
//!   place ([`Writers::committed`]), and a waiting process watches that one file with
//!   inotify ([`CommitSignal`]). So a notification always follows a visible commit, and a
//!   commit costs one small write whoever watches. (The WAL itself was watched before: a
//!   commit appends many frames, each one a notification to every watching process, sent
//!   before the commit was visible; with sixteen agents sending, that was a fifth of the
//!   machine's CPU.)
//!
//! A writer that does not use the file (an older Switchboard, the `sqlite3` shell) still
//! queues through SQLite's lock, and is seen by watchers at the feed's slow safety poll.
//! Where inotify is not available (no instance left, another platform), waiting degrades
//! to polling every [`FALLBACK_POLL`], said once in the log.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::changes::{ChangeSource, Interrupter, Woken, wait_on};

/// Poll interval when no file-change notification is available.
pub(crate) const FALLBACK_POLL: Duration = Duration::from_millis(20);

/// The side file of the database at `db`: beside the file itself, as SQLite puts its
/// `-wal`, so processes that reach the database through a symbolic link share it too.
fn side_path(db: &Path) -> PathBuf {
    let db = db.canonicalize().unwrap_or_else(|_| db.to_path_buf());
    let mut path = db.into_os_string();
    path.push("-writers");
    PathBuf::from(path)
}

/// The writer's side: the side file, open.
pub(crate) struct Writers(File);

/// A writer's turn: the queue's lock, released when dropped.
pub(crate) struct Turn<'a>(&'a File);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        // Closing the file would release it too; unlocking cannot fail on a held lock.
        let _ = rustix::fs::flock(self.0, rustix::fs::FlockOperation::Unlock);
    }
}

impl Writers {
    /// Opens (creating, owner-only, never through a symbolic link) the side file of the
    /// database at `db`. Run as root, it gives a file it creates to the database's owner,
    /// as SQLite does its `-wal`, so that `sudo switchboard …` does not lock the owner out.
    pub(crate) fn open(db: &Path) -> std::io::Result<Writers> {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            side_path(db),
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )?;
        if rustix::process::geteuid().is_root()
            && let Ok(owner) = std::fs::metadata(db)
        {
            use std::os::unix::fs::MetadataExt;
            rustix::fs::fchown(
                &fd,
                Some(rustix::fs::Uid::from_raw(owner.uid())),
                Some(rustix::fs::Gid::from_raw(owner.gid())),
            )?;
        }
        Ok(Writers(File::from(fd)))
    }

    /// Waits for this connection's turn to write (see the module's notes). Where the
    /// lock cannot be taken at all (no lock support), SQLite's lock alone orders writers.
    pub(crate) fn in_line(&self) -> Option<Turn<'_>> {
        rustix::fs::flock(&self.0, rustix::fs::FlockOperation::LockExclusive)
            .ok()
            .map(|()| Turn(&self.0))
    }

    /// Says that a transaction committed: one byte written in place, which notifies every
    /// watcher. A failure only delays watchers until their safety poll, so it is not
    /// reported.
    pub(crate) fn committed(&self) {
        use std::os::unix::fs::FileExt;
        let _ = self.0.write_at(&[1], 0);
    }
}

/// The watcher's side: waits for commits to one database.
pub(crate) struct CommitSignal {
    /// The inotify instance watching the side file; `None` when unavailable.
    notify: Option<OwnedFd>,
    interrupt: Interrupter,
}

impl CommitSignal {
    /// A signal for the database at `db`, whose side file exists (the store made it when
    /// it opened). Never fails for lack of notifications (it falls back to polling); fails
    /// only when no interrupt descriptor can be made.
    pub(crate) fn new(db: &Path) -> std::io::Result<CommitSignal> {
        let interrupt = Interrupter::new()?;
        let notify = match watch(&side_path(db)) {
            Ok(fd) => Some(fd),
            Err(e) => {
                tracing::info!(
                    error = %e,
                    "no file-change notifications for the state database; polling every {} ms",
                    FALLBACK_POLL.as_millis()
                );
                None
            }
        };
        Ok(CommitSignal { notify, interrupt })
    }

    /// Blocks until a commit is marked, an interrupt comes, or `timeout` passes.
    /// Notifications pending on entry count: none is lost between two waits.
    fn wait_for_commit(&self, timeout: Duration) -> Woken {
        let Some(notify) = &self.notify else {
            return self.wait_polling(timeout);
        };
        wait_on(&self.interrupt, notify.as_fd(), || drain(notify), timeout)
    }

    /// Without notifications: sleeps one poll interval (or `timeout`, if shorter), then
    /// reports a change for the caller to confirm.
    fn wait_polling(&self, timeout: Duration) -> Woken {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let limit = Timespec::try_from(timeout.min(FALLBACK_POLL)).ok();
        let mut fds = [PollFd::new(self.interrupt.fd(), PollFlags::IN)];
        match poll(&mut fds, limit.as_ref()) {
            Ok(n) if n > 0 => {
                self.interrupt.drain();
                Woken::Interrupted
            }
            _ => Woken::Changed,
        }
    }
}

impl ChangeSource for CommitSignal {
    fn wait(&self, timeout: Duration) -> Woken {
        self.wait_for_commit(timeout)
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupt.clone()
    }
}

/// An inotify instance watching the file at `path` for writes.
fn watch(path: &Path) -> std::io::Result<OwnedFd> {
    use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(&fd, path, WatchFlags::MODIFY)?;
    Ok(fd)
}

/// Reads every pending notification (each one says the same: a commit was marked).
fn drain(notify: &OwnedFd) {
    use rustix::fs::inotify::Reader;
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    let mut reader = Reader::new(notify, &mut buf);
    while reader.next().is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writers' file and a signal for a database in `dir` (the file first, as a store
    /// opens it before anyone watches).
    fn pair_in(dir: &Path) -> (Writers, CommitSignal) {
        let db = dir.join("state.db");
        let mark = Writers::open(&db).unwrap();
        (mark, CommitSignal::new(&db).unwrap())
    }

    #[test]
    fn a_marked_commit_wakes_and_other_writes_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let (mark, signal) = pair_in(dir.path());
        assert!(signal.notify.is_some(), "inotify is available here");
        for other in ["state.db", "state.db-wal", "state.db-shm", "notes.txt"] {
            std::fs::write(dir.path().join(other), b"frames").unwrap();
        }
        assert_eq!(
            signal.wait_for_commit(Duration::from_millis(50)),
            Woken::TimedOut
        );
        mark.committed();
        mark.committed();
        assert_eq!(
            signal.wait_for_commit(Duration::from_secs(30)),
            Woken::Changed
        );
        assert_eq!(
            signal.wait_for_commit(Duration::from_millis(50)),
            Woken::TimedOut,
            "notifications read once are not reported again"
        );
    }

    #[test]
    fn the_side_file_is_owner_only_and_never_followed_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        Writers::open(&db).unwrap();
        let mode = std::fs::metadata(side_path(&db))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);

        let linked = dir.path().join("linked.db");
        let target = dir.path().join("elsewhere");
        std::os::unix::fs::symlink(&target, side_path(&linked)).unwrap();
        assert!(Writers::open(&linked).is_err());
        assert!(!target.exists(), "nothing was created through the link");
    }

    #[test]
    fn run_as_root_the_side_file_goes_to_the_databases_owner() {
        use std::os::unix::fs::MetadataExt;
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root to give files away");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(&db, b"").unwrap();
        let nobody = (
            rustix::fs::Uid::from_raw(65534),
            rustix::fs::Gid::from_raw(65534),
        );
        rustix::fs::chown(&db, Some(nobody.0), Some(nobody.1)).unwrap();
        Writers::open(&db).unwrap();
        let side = std::fs::metadata(side_path(&db)).unwrap();
        assert_eq!((side.uid(), side.gid()), (65534, 65534));
    }

    #[test]
    fn the_side_file_is_found_through_a_link_to_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        std::fs::write(&db, b"").unwrap();
        let link = dir.path().join("linked.db");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        assert_eq!(side_path(&link), side_path(&db));
        let (mark, signal) = (
            Writers::open(&link).unwrap(),
            CommitSignal::new(&db).unwrap(),
        );
        mark.committed();
        assert_eq!(
            signal.wait_for_commit(Duration::from_secs(30)),
            Woken::Changed
        );
    }

    #[test]
    fn a_writer_waits_for_the_turn_of_another_connection_to_end() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        let (first, second) = (Writers::open(&db).unwrap(), Writers::open(&db).unwrap());
        let turn = first.in_line().expect("flock works here");
        let ended = Arc::new(AtomicBool::new(false));
        let waiter = {
            let ended = ended.clone();
            std::thread::spawn(move || {
                let _turn = second.in_line();
                ended.load(Ordering::SeqCst)
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        ended.store(true, Ordering::SeqCst);
        drop(turn);
        assert!(
            waiter.join().unwrap(),
            "the second writer got its turn only after the first one's ended"
        );
        assert!(first.in_line().is_some(), "the turn was given back");
    }

    #[test]
    fn an_interrupt_ends_a_wait_from_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (_mark, signal) = pair_in(dir.path());
        let interrupter = signal.interrupter();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            interrupter.interrupt();
        });
        assert_eq!(
            signal.wait_for_commit(Duration::from_secs(30)),
            Woken::Interrupted
        );
        waker.join().unwrap();
        assert_eq!(
            signal.wait_for_commit(Duration::from_millis(20)),
            Woken::TimedOut
        );
    }

    #[test]
    fn without_notifications_a_wait_polls() {
        let dir = tempfile::tempdir().unwrap();
        let (_mark, signal) = pair_in(dir.path());
        let signal = CommitSignal {
            notify: None,
            ..signal
        };
        assert_eq!(
            signal.wait_for_commit(Duration::from_secs(30)),
            Woken::Changed
        );
        signal.interrupter().interrupt();
        assert_eq!(
            signal.wait_for_commit(Duration::from_secs(30)),
            Woken::Interrupted
        );
    }
}
