//! In-process servers on a temporary database, and a real rmcp client for each.

use rmcp::ServiceExt;
use serde_json::{Value, json};
use switchboard_core::process::ProcessInfo;
use switchboard_core::{Settings, Store, StoreAddress};
use switchboard_mcp::client::AgentClient;
use switchboard_mcp::{Identity, SwitchboardServer};
pub use switchboard_testutils::Backend;
use switchboard_testutils::{Redactions, ScratchPostgres, ScratchRepo, ScratchStore};

/// Async test bodies written once, run on every backend: each
/// `async fn name(backend) { … }` becomes a module `name` with the tests `sqlite` and
/// `postgres` (the latter where a server is configured: see [`Backend::available`]).
#[macro_export]
macro_rules! every_backend {
    ($($(#[$attr:meta])* async fn $name:ident($backend:ident) $body:block)*) => {$(
        $(#[$attr])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn story($backend: $crate::harness::Backend) $body

            #[tokio::test]
            async fn sqlite() {
                story($crate::harness::Backend::Sqlite).await;
            }

            #[tokio::test]
            async fn postgres() {
                if $crate::harness::Backend::Postgres.available() {
                    story($crate::harness::Backend::Postgres).await;
                }
            }
        }
    )*};
}

/// Where a harness's store is, removed on drop.
enum Place {
    File(ScratchStore),
    Postgres(ScratchPostgres),
}

/// Servers on one scratch store, as the agent processes of one machine (or of a team, on
/// PostgreSQL) would share.
pub struct Harness {
    place: Place,
    store: StoreAddress,
}

impl Harness {
    /// A harness with its store on `backend`.
    pub fn on(backend: Backend) -> Self {
        let place = match backend {
            Backend::Sqlite => Place::File(ScratchStore::new()),
            Backend::Postgres => Place::Postgres(ScratchPostgres::new().expect("a server")),
        };
        let store = match &place {
            Place::File(dir) => StoreAddress::file(dir.db()),
            Place::Postgres(server) => {
                StoreAddress::postgres(server.url(), server.repository()).unwrap()
            }
        };
        Harness { place, store }
    }

    /// A fresh server on this harness's store, as one agent process would have.
    pub fn server(&self, agent: Option<&str>) -> SwitchboardServer {
        let store = Store::open_at(&self.store, Settings::default()).unwrap();
        let identity = agent.map(Identity::named).unwrap_or_default();
        SwitchboardServer::new(store, identity, ProcessInfo::current())
    }

    /// A client connected to a fresh server.
    pub async fn client(&self, agent: Option<&str>) -> AgentClient {
        connect(self.server(agent)).await
    }

    /// What snapshots of this harness's results hide: the usual ids, times, ages and
    /// shas, where its store is (the same on every backend), and this process (which
    /// serves every session here).
    pub fn redactions(&self) -> Redactions {
        let me = ProcessInfo::current();
        let redactions = Redactions::new()
            .literal(self.store.to_string(), "store")
            .literal(format!("{} on {}", me.pid, me.host), "process");
        match &self.place {
            Place::File(dir) => redactions.path(dir.dir()),
            Place::Postgres(_) => redactions,
        }
    }
}

/// A harness whose servers run in a scratch repository whose first commit adds
/// `shared.txt`.
pub struct RepoHarness {
    pub harness: Harness,
    pub repo: ScratchRepo,
}

impl RepoHarness {
    /// A repository harness with its store on `backend`.
    pub fn on(backend: Backend) -> RepoHarness {
        let repo = ScratchRepo::empty();
        repo.commit("shared.txt", "base\n", "first");
        RepoHarness {
            harness: Harness::on(backend),
            repo,
        }
    }

    /// The harness's redactions, and the repository's scratch directory as `[tmp]`.
    pub fn redactions(&self) -> Redactions {
        self.harness.redactions().path(self.repo.dir())
    }

    /// A client of a server for agent `name` in the main checkout, with a session.
    pub async fn agent(&self, name: &str) -> AgentClient {
        let server = self.harness.server(Some(name));
        let client = connect(server.with_checkout(self.repo.path())).await;
        ok(
            &client,
            "session_start",
            json!({"intent": format!("{name} works")}),
        )
        .await;
        client
    }
}

/// Serves `server` over an in-memory duplex and connects a client to it.
pub async fn connect(server: SwitchboardServer) -> AgentClient {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    AgentClient::connect(client_io).await.unwrap()
}

pub async fn ok(client: &AgentClient, tool: &str, args: Value) -> Value {
    client
        .call_ok(tool, args)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Calls a tool that must fail with `isError` and returns its message.
pub async fn refused(client: &AgentClient, tool: &str, args: Value) -> String {
    let out = client.call(tool, args).await.unwrap();
    assert!(
        out.is_error,
        "{tool} should have been refused, got {:?}",
        out.structured
    );
    assert!(out.structured.is_none());
    out.text
}
