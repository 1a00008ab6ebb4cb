//! How the synchronous core talks to PostgreSQL's asynchronous client: every connection's
//! socket is driven by one private runtime thread (`sb-pg-io`), and a caller blocks on its
//! own request with [`wait`], which needs no runtime of its own. So a store works the same
//! from a plain thread, a blocking task or, for a moment, an async one (no runtime is
//! started or dropped inside another, which the `postgres` crate's blocking client does).

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake};

use tokio_postgres::{Client, NoTls};

use crate::{Error, Result};

/// The runtime driving every PostgreSQL connection of this process.
pub(super) fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("sb-pg-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Internal(format!("cannot start PostgreSQL's I/O thread: {e}")))
}

/// Runs `future` to completion on this thread, parking it between wake-ups.
pub(super) fn wait<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut context) {
            return value;
        }
        std::thread::park();
    }
}

/// A new connection: opened on the I/O thread, which then drives it until the client is
/// dropped or the server goes away.
pub(super) fn connect(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, connection) = open(config)?;
    runtime()?.spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "a PostgreSQL connection ended");
        }
    });
    Ok(client)
}

/// A connection whose socket the caller drives (to read notifications).
pub(super) type Connection =
    tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>;

/// A connection not yet driven, opened on the I/O thread: its caller drives it.
pub(super) fn open(config: &tokio_postgres::Config) -> Result<(Client, Connection)> {
    let config = config.clone();
    wait(runtime()?.spawn(async move { open_here(&config).await }))
        .map_err(|e| Error::Internal(format!("connecting to PostgreSQL crashed ({e})")))?
}

/// [`open`], from a task of the I/O thread.
pub(super) async fn open_here(config: &tokio_postgres::Config) -> Result<(Client, Connection)> {
    config.connect(NoTls).await.map_err(|e| {
        Error::Location(format!(
            "cannot connect to the PostgreSQL store: {}",
            super::error::describe(&e)
        ))
    })
}
