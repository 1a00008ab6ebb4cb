//! Wake-ups for the change feed without polling: every commit appends frames to the
//! database's write-ahead log, so a file-change notification (inotify) on the WAL says
//! that another process may have committed. The feed then confirms with
//! `PRAGMA data_version` and reads the log. The notification arrives as the frames are
//! written, a moment before the commit is visible, so a wake-up that finds nothing is
//! looked at again shortly ([`RECHECKS`]). A slow safety poll, chosen by the caller's
//! timeout, covers anything missed.
//!
//! The directory is watched rather than the file, so a WAL that is deleted (the last
//! connection closed) and created again keeps waking the feed. Where inotify is not
//! available (no instance left, another platform), waiting degrades to polling every
//! [`FALLBACK_POLL`], said once in the log.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use crate::store::changes::{ChangeSource, Interrupter, Woken};

/// Poll interval when no file-change notification is available.
pub(crate) const FALLBACK_POLL: Duration = Duration::from_millis(20);

/// After a notification that showed no new commit, how long to wait before each second
/// look (a committing writer publishes its commit just after writing its frames).
const RECHECKS: [Duration; 3] = [
    Duration::from_micros(500),
    Duration::from_millis(2),
    Duration::from_millis(10),
];

/// Waits for writes to one database's WAL.
pub(crate) struct WalSignal {
    /// The inotify instance watching the database's directory; `None` when unavailable.
    notify: Option<OwnedFd>,
    /// The WAL's file name, which notifications are filtered on.
    wal: OsString,
    interrupt: Interrupter,
}

impl WalSignal {
    /// A signal for the database at `db`. Never fails for lack of notifications (it
    /// falls back to polling); fails only when no interrupt descriptor can be made.
    pub(crate) fn new(db: &Path) -> std::io::Result<WalSignal> {
        let interrupt = Interrupter::new()?;
        let mut wal = db.file_name().unwrap_or_default().to_os_string();
        wal.push("-wal");
        let notify = match watch(db.parent().unwrap_or(Path::new("."))) {
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
        Ok(WalSignal {
            notify,
            wal,
            interrupt,
        })
    }

    /// Blocks until the WAL is written, an interrupt comes, or `timeout` passes.
    /// Notifications pending on entry count: none is lost between two waits.
    fn wait_for_wal(&self, timeout: Duration) -> Woken {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let Some(notify) = &self.notify else {
            return self.wait_polling(timeout);
        };
        let limit = Timespec::try_from(timeout).ok();
        let mut fds = [
            PollFd::new(self.interrupt.fd(), PollFlags::IN),
            PollFd::new(notify, PollFlags::IN),
        ];
        match poll(&mut fds, limit.as_ref()) {
            Ok(0) => Woken::TimedOut,
            Ok(_) if !fds[0].revents().is_empty() => {
                self.interrupt.drain();
                Woken::Interrupted
            }
            Ok(_) if self.wal_written(notify) => Woken::Changed,
            Ok(_) => Woken::TimedOut,
            // EINTR and the like: let the caller look, as a safety poll would.
            Err(_) => Woken::Changed,
        }
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

    /// Reads every pending notification; true if one is about the WAL (or the queue
    /// overflowed, which may have dropped one).
    fn wal_written(&self, notify: &OwnedFd) -> bool {
        use rustix::fs::inotify::{ReadFlags, Reader};
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = Reader::new(notify, &mut buf);
        let mut written = false;
        while let Ok(event) = reader.next() {
            let overflow = event.events().contains(ReadFlags::QUEUE_OVERFLOW);
            let about_wal = event
                .file_name()
                .is_some_and(|name| name.to_bytes() == self.wal.as_encoded_bytes());
            written |= overflow || about_wal;
        }
        written
    }
}

impl ChangeSource for WalSignal {
    fn wait(&self, timeout: Duration) -> Woken {
        self.wait_for_wal(timeout)
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupt.clone()
    }

    fn rechecks(&self) -> &'static [Duration] {
        &RECHECKS
    }
}

/// An inotify instance watching `dir` for files written, created or moved in.
fn watch(dir: &Path) -> std::io::Result<OwnedFd> {
    use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &fd,
        dir,
        WatchFlags::MODIFY | WatchFlags::CREATE | WatchFlags::MOVED_TO,
    )?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal_in(dir: &Path) -> WalSignal {
        WalSignal::new(&dir.join("state.db")).unwrap()
    }

    #[test]
    fn a_write_to_the_wal_wakes_and_other_files_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let signal = signal_in(dir.path());
        assert!(signal.notify.is_some(), "inotify is available here");
        std::fs::write(dir.path().join("state.db-shm"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        assert_eq!(
            signal.wait_for_wal(Duration::from_millis(50)),
            Woken::TimedOut
        );
        std::fs::write(dir.path().join("state.db-wal"), b"frames").unwrap();
        assert_eq!(signal.wait_for_wal(Duration::from_secs(30)), Woken::Changed);
        assert_eq!(
            signal.wait_for_wal(Duration::from_millis(50)),
            Woken::TimedOut,
            "notifications read once are not reported again"
        );
    }

    #[test]
    fn an_interrupt_ends_a_wait_from_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let signal = signal_in(dir.path());
        let interrupter = signal.interrupter();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            interrupter.interrupt();
        });
        assert_eq!(
            signal.wait_for_wal(Duration::from_secs(30)),
            Woken::Interrupted
        );
        waker.join().unwrap();
        assert_eq!(
            signal.wait_for_wal(Duration::from_millis(20)),
            Woken::TimedOut
        );
    }

    #[test]
    fn without_notifications_a_wait_polls() {
        let dir = tempfile::tempdir().unwrap();
        let signal = WalSignal {
            notify: None,
            ..signal_in(dir.path())
        };
        assert_eq!(signal.wait_for_wal(Duration::from_secs(30)), Woken::Changed);
        signal.interrupter().interrupt();
        assert_eq!(
            signal.wait_for_wal(Duration::from_secs(30)),
            Woken::Interrupted
        );
    }
}
