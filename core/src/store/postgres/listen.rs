//! The PostgreSQL change source: `LISTEN` on the repository's channel, on a connection of
//! its own, in a task of the I/O thread (see [`super::io`]) that turns each notification
//! into a readable `eventfd` for [`ChangeSource::wait`].
//!
//! A lost connection is reconnected with back-off (0.1 s doubling to 5 s). Notifications
//! sent while it was down are gone, so the task reports a change when the connection is
//! lost and again once it listens anew: the feed then reads the log from its cursor and
//! misses nothing. The task ends when its source is dropped.

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio_postgres::AsyncMessage;

use super::Target;
use super::io::{Connection, open, open_here, runtime, wait};

use crate::store::changes::{ChangeSource, Interrupter, Woken, wait_on};
use crate::{Error, Result};

/// The longest pause between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Signs of commits: counted, and made readable on an `eventfd`.
#[derive(Clone)]
struct Signs {
    count: Arc<AtomicU64>,
    readable: Interrupter,
}

impl Signs {
    /// Counts a sign (first, so a reader woken by it sees the new count) and wakes the
    /// waiting reader.
    fn raise(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
        self.readable.interrupt();
    }
}

/// Notifications of commits to one repository's store.
pub(crate) struct Notifications {
    /// Raised when a commit was announced, the connection was lost, or it came back.
    changed: Signs,
    interrupt: Interrupter,
    /// Dropped with this source, which ends the listening task.
    _stop: oneshot::Sender<()>,
}

impl Notifications {
    /// Listens on `target`'s channel; returns once listening, so nothing committed after
    /// this returns is missed.
    pub(crate) fn new(target: &Target) -> Result<Notifications> {
        let eventfd = |e| Error::io("cannot create an eventfd", e);
        let changed = Signs {
            count: Arc::default(),
            readable: Interrupter::new().map_err(eventfd)?,
        };
        let interrupt = Interrupter::new().map_err(eventfd)?;
        let (stop, stopped) = oneshot::channel();
        let (listening, ready) = oneshot::channel();
        let task = Listener {
            target: target.clone(),
            changed: changed.clone(),
        };
        let (client, connection) = open(&target.listener_config())?;
        runtime()?.spawn(task.run(client, connection, listening, stopped));
        wait(ready).map_err(|_| Error::Internal("the PostgreSQL listener stopped".into()))??;
        Ok(Notifications {
            changed,
            interrupt,
            _stop: stop,
        })
    }
}

impl ChangeSource for Notifications {
    fn wait(&self, timeout: Duration) -> Woken {
        let readable = &self.changed.readable;
        wait_on(
            &self.interrupt,
            readable.fd().as_fd(),
            || readable.drain(),
            timeout,
        )
    }

    fn interrupter(&self) -> Interrupter {
        self.interrupt.clone()
    }

    fn version(&self) -> Option<u64> {
        Some(self.changed.count.load(Ordering::SeqCst))
    }
}

/// The listening task's state.
struct Listener {
    target: Target,
    changed: Signs,
}

impl Listener {
    /// Listens on `client`, driving `connection`; says on `listening` once the first
    /// `LISTEN` is in place (or why not), then forwards notifications until `stopped`.
    async fn run(
        self,
        client: tokio_postgres::Client,
        connection: Connection,
        listening: oneshot::Sender<Result<()>>,
        mut stopped: oneshot::Receiver<()>,
    ) {
        let mut current = Some((client, connection));
        let mut listening = Some(listening);
        let mut pause = Duration::from_millis(100);
        loop {
            if let Some((client, connection)) = current.take() {
                let drive = self.forward(connection);
                tokio::pin!(drive);
                let listened = tokio::select! {
                    listened = self.listen(&client) => listened,
                    () = &mut drive => Err(Error::Internal("the connection closed".into())),
                };
                let failed = listened.is_err();
                if let Some(tell) = listening.take() {
                    let _ = tell.send(listened);
                    if failed {
                        return;
                    }
                } else if !failed {
                    // Listening again: whatever was announced meanwhile is lost; look.
                    self.changed.raise();
                    pause = Duration::from_millis(100);
                }
                if failed {
                    // Connected but not listening: wait longer before the next try.
                    pause = (pause * 2).min(MAX_BACKOFF);
                } else {
                    tokio::select! {
                        _ = &mut stopped => return,
                        () = &mut drive => {}
                    }
                }
                // The connection is gone: the reader looks at the log now.
                self.changed.raise();
            }
            tokio::select! {
                _ = &mut stopped => return,
                () = tokio::time::sleep(pause) => {}
            }
            let config = self.target.listener_config();
            let opened = tokio::select! {
                _ = &mut stopped => return,
                opened = open_here(&config) => opened,
            };
            match opened {
                Ok(again) => current = Some(again),
                Err(e) => {
                    tracing::warn!(error = %e, "the PostgreSQL listener cannot reconnect yet");
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// `LISTEN` on the repository's channel.
    async fn listen(&self, client: &tokio_postgres::Client) -> Result<()> {
        let sql = format!("LISTEN {}", super::quoted(self.target.channel()));
        Ok(client.batch_execute(&sql).await?)
    }

    /// Drives `connection` until it ends, turning each notification into a wake-up.
    async fn forward(&self, mut connection: Connection) {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(_)) => self.changed.raise(),
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "the PostgreSQL listener's connection failed");
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::story::{Backend, Scratch};
    use crate::{Settings, Store};

    /// The server-side process ids of the listeners on `schema`'s channel.
    fn listeners(store: &mut Store, schema: &str) -> Vec<i64> {
        let rows = store
            .sql_rows(
                "SELECT pid::bigint FROM pg_stat_activity
                 WHERE application_name = $1 AND query LIKE '%' || $2 || '%'",
                &[super::super::target::LISTENER.into(), schema.into()],
            )
            .unwrap();
        rows.iter().filter_map(|r| r[0].as_i64()).collect()
    }

    /// A listener whose connection the server ends reconnects, says to look at the log
    /// (notifications meanwhile are lost), and wakes for the commits after.
    #[test]
    fn a_listener_whose_connection_is_cut_reconnects_and_misses_nothing() {
        if !Backend::Postgres.available() {
            return;
        }
        let scratch = Scratch::new(Backend::Postgres);
        let mut store = scratch.open();
        let target = scratch.address().postgres_target().unwrap().clone();
        let source = Notifications::new(&target).unwrap();
        let commit = |store: &mut Store| {
            let reg = crate::agent::Registration {
                name: "ann".into(),
                ..Default::default()
            };
            crate::agent::register(store, "ann", &reg).unwrap();
        };
        commit(&mut store);
        assert_eq!(source.wait(Duration::from_secs(30)), Woken::Changed);
        let before = listeners(&mut store, &target.schema);
        assert_eq!(before.len(), 1, "{before:?}");
        store
            .sql_rows("SELECT pg_terminate_backend($1::int)", &[before[0].into()])
            .unwrap();
        assert_eq!(
            source.wait(Duration::from_secs(30)),
            Woken::Changed,
            "the lost connection is reported"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while listeners(&mut store, &target.schema).is_empty() {
            assert!(std::time::Instant::now() < deadline, "it listens again");
            std::thread::sleep(Duration::from_millis(20));
        }
        while source.wait(Duration::from_millis(200)) == Woken::Changed {}
        commit(&mut Store::open_at(&scratch.address(), Settings::default()).unwrap());
        assert_eq!(
            source.wait(Duration::from_secs(30)),
            Woken::Changed,
            "a commit after the reconnection wakes it"
        );
    }
}
