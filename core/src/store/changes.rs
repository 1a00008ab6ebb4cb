//! A backend's change source: how a process sleeps until another one may have committed,
//! without polling. The change feed (the `feed` module) confirms each wake-up by reading the event
//! log, so a source may wake too often but must not miss a commit for longer than the
//! feed's safety poll.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

/// Why [`ChangeSource::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woken {
    /// Another connection may have committed (or, without notifications, the poll
    /// interval passed).
    Changed,
    /// [`Interrupter::interrupt`] was called.
    Interrupted,
    /// The timeout passed with no change.
    TimedOut,
}

/// Wakes a [`ChangeSource::wait`] from another thread.
#[derive(Clone)]
pub(crate) struct Interrupter(Arc<OwnedFd>);

impl Interrupter {
    /// A new interrupter (an `eventfd`).
    pub(crate) fn new() -> std::io::Result<Interrupter> {
        use rustix::event::{EventfdFlags, eventfd};
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(Interrupter(Arc::new(fd)))
    }

    /// Makes the current or next `wait` return [`Woken::Interrupted`].
    pub(crate) fn interrupt(&self) {
        // An eventfd counter write cannot block (NONBLOCK) and only fails when the
        // counter is saturated, which still leaves it readable: nothing to handle.
        let _ = rustix::io::write(&*self.0, &1u64.to_ne_bytes());
    }

    /// The descriptor a waiting source polls: readable once interrupted.
    pub(crate) fn fd(&self) -> &OwnedFd {
        &self.0
    }

    /// Takes back the interrupts delivered so far.
    pub(crate) fn drain(&self) {
        let mut count = [0u8; 8];
        let _ = rustix::io::read(&*self.0, &mut count);
    }
}

/// Blocks until `interrupt` is readable ([`Woken::Interrupted`], taken back), `signal` is
/// readable ([`Woken::Changed`], taken back by `drain`), or `timeout` passes: the wait of
/// every change source whose notifications arrive on a descriptor.
pub(crate) fn wait_on(
    interrupt: &Interrupter,
    signal: std::os::fd::BorrowedFd<'_>,
    drain: impl FnOnce(),
    timeout: Duration,
) -> Woken {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let limit = Timespec::try_from(timeout).ok();
    let mut fds = [
        PollFd::new(interrupt.fd(), PollFlags::IN),
        PollFd::new(&signal, PollFlags::IN),
    ];
    match poll(&mut fds, limit.as_ref()) {
        Ok(0) => Woken::TimedOut,
        Ok(_) if !fds[0].revents().is_empty() => {
            interrupt.drain();
            Woken::Interrupted
        }
        Ok(_) => {
            drain();
            Woken::Changed
        }
        // EINTR and the like: let the caller look, as a safety poll would.
        Err(_) => Woken::Changed,
    }
}

/// Notifications that another connection may have committed.
pub(crate) trait ChangeSource: Send {
    /// Blocks until another connection may have committed, an interrupt comes, or
    /// `timeout` passes. Notifications pending on entry count: none is lost between two
    /// waits.
    fn wait(&self, timeout: Duration) -> Woken;

    /// A handle that wakes this source's waits from anywhere.
    fn interrupter(&self) -> Interrupter;

    /// A number that changes whenever this source saw a sign of another connection's
    /// commit (a notification, a lost and regained connection), so a waiting reader that
    /// saw it unchanged since its last look need not look again for a while (signs come
    /// a moment after a commit: a reader asked for what is committed now still looks);
    /// `None` for a source whose signs are not counted.
    fn version(&self) -> Option<u64> {
        None
    }
}
