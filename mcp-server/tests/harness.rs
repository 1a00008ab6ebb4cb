//! In-process servers on a temporary database, and a real rmcp client for each.

use rmcp::ServiceExt;
use serde_json::Value;
use switchboard_core::process::ProcessInfo;
use switchboard_core::{Settings, Store};
use switchboard_mcp::client::AgentClient;
use switchboard_mcp::{Identity, SwitchboardServer};

pub struct Harness {
    _dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("state.db");
        Harness { _dir: dir, db }
    }

    /// A fresh server on this harness's database, as one agent process would have.
    pub fn server(&self, agent: Option<&str>) -> SwitchboardServer {
        let store = Store::open(&self.db, Settings::default()).unwrap();
        let identity = agent.map(Identity::named).unwrap_or_default();
        SwitchboardServer::new(store, identity, ProcessInfo::current()).unwrap()
    }

    /// A client connected to a fresh server.
    pub async fn client(&self, agent: Option<&str>) -> AgentClient {
        connect(self.server(agent)).await
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
