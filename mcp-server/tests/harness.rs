//! In-process servers on a temporary database, and a real rmcp client for each.

use rmcp::ServiceExt;
use serde_json::{Value, json};
use switchboard_core::process::ProcessInfo;
use switchboard_core::{Settings, Store};
use switchboard_mcp::client::AgentClient;
use switchboard_mcp::{Identity, SwitchboardServer};
use switchboard_testutils::{Redactions, ScratchRepo, ScratchStore};

/// Servers on one scratch database, as the agent processes of one machine would share.
pub struct Harness {
    scratch: ScratchStore,
}

impl Harness {
    pub fn new() -> Self {
        Harness {
            scratch: ScratchStore::new(),
        }
    }

    /// A fresh server on this harness's database, as one agent process would have.
    pub fn server(&self, agent: Option<&str>) -> SwitchboardServer {
        let store = Store::open(self.scratch.db(), Settings::default()).unwrap();
        let identity = agent.map(Identity::named).unwrap_or_default();
        SwitchboardServer::new(store, identity, ProcessInfo::current())
    }

    /// A client connected to a fresh server.
    pub async fn client(&self, agent: Option<&str>) -> AgentClient {
        connect(self.server(agent)).await
    }

    /// What snapshots of this harness's results hide: the usual ids, times, ages and
    /// shas, its scratch directory, and this process (which serves every session here).
    pub fn redactions(&self) -> Redactions {
        let me = ProcessInfo::current();
        Redactions::new()
            .path(self.scratch.dir())
            .literal(format!("{} on {}", me.pid, me.host), "process")
    }
}

/// A harness whose servers run in a scratch repository whose first commit adds
/// `shared.txt`.
pub struct RepoHarness {
    pub harness: Harness,
    pub repo: ScratchRepo,
}

impl RepoHarness {
    pub fn new() -> RepoHarness {
        let repo = ScratchRepo::empty();
        repo.commit("shared.txt", "base\n", "first");
        RepoHarness {
            harness: Harness::new(),
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
