//! A small MCP client for driving Switchboard servers as an agent would: over a child
//! process's stdio or any rmcp transport. Used by `switchboard demo` and the tests.

use std::path::Path;

use rmcp::model::{
    CallToolRequestParams, ClientConfig, ProtocolVersion, ResourceUpdatedNotificationParam, Tool,
};
use rmcp::service::NotificationContext;
use rmcp::service::RunningService;
use rmcp::transport::{IntoTransport, TokioChildProcess};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;

/// Errors of the client helper.
pub type ClientError = Box<dyn std::error::Error + Send + Sync>;

/// What one tool call returned.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The result was a tool error (`isError: true`), not a protocol error.
    pub is_error: bool,
    /// The text content, joined.
    pub text: String,
    /// The `structuredContent`, when the tool returned one.
    pub structured: Option<Value>,
}

/// One connected MCP client.
pub struct AgentClient {
    service: RunningService<RoleClient, ClientConfig>,
    /// Process id of the server, when it is a child process.
    pub server_pid: Option<u32>,
}

impl AgentClient {
    /// Starts `program args…` in `cwd` with extra `env` and connects over its stdio. The
    /// child does not inherit `SWITCHBOARD_DB`, `SWITCHBOARD_STORE`, `SWITCHBOARD_AGENT` or
    /// `SWITCHBOARD_SESSION` (pass them in `env` to set them). Its stderr goes to this process's stderr.
    pub async fn spawn(
        program: &Path,
        args: &[&str],
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self, ClientError> {
        Self::spawn_as("rmcp", program, args, cwd, env).await
    }

    /// Like [`AgentClient::spawn`], announcing itself as the MCP client `client`
    /// (`clientInfo.name`, e.g. `claude-code`).
    pub async fn spawn_as(
        client: &str,
        program: &Path,
        args: &[&str],
        cwd: &Path,
        env: &[(&str, &str)],
    ) -> Result<Self, ClientError> {
        let mut command = tokio::process::Command::new(program);
        command.args(args).current_dir(cwd).kill_on_drop(true);
        for inherited in [
            "SWITCHBOARD_DB",
            "SWITCHBOARD_STORE",
            "SWITCHBOARD_AGENT",
            "SWITCHBOARD_SESSION",
        ] {
            command.env_remove(inherited);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        let transport = TokioChildProcess::new(command)?;
        let server_pid = transport.id();
        let service = client_config(client).serve(transport).await?;
        Ok(AgentClient {
            service,
            server_pid,
        })
    }

    /// Connects over any transport (e.g. one end of `tokio::io::duplex`).
    pub async fn connect<T, E, A>(transport: T) -> Result<Self, ClientError>
    where
        T: IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let service = client_config("rmcp").serve(transport).await?;
        Ok(AgentClient {
            service,
            server_pid: None,
        })
    }

    /// Connects over streamable HTTP to `url` (e.g. `http://127.0.0.1:7411/mcp`) with a
    /// bearer `token`, in the protocol era `lifecycle` chooses.
    #[cfg(feature = "http-client")]
    pub async fn http(
        url: &str,
        token: &str,
        lifecycle: rmcp::service::ClientLifecycleMode,
    ) -> Result<Self, ClientError> {
        use rmcp::ClientServiceExt;
        let service = client_config("rmcp")
            .serve_with_lifecycle(http_transport(url, token), lifecycle)
            .await?;
        Ok(AgentClient {
            service,
            server_pid: None,
        })
    }

    /// The server's `instructions`.
    pub fn instructions(&self) -> Option<String> {
        self.service
            .peer_info()
            .and_then(|info| info.instructions.clone())
    }

    /// Every tool the server lists.
    pub async fn tools(&self) -> Result<Vec<Tool>, ClientError> {
        Ok(self.service.list_all_tools().await?)
    }

    /// Calls `tool` with `args` (a JSON object) and returns what came back, error or not.
    pub async fn call(&self, tool: &str, args: Value) -> Result<Outcome, ClientError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        let result = self.service.call_tool(params).await?;
        let text = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Outcome {
            is_error: result.is_error == Some(true),
            text,
            structured: result.structured_content,
        })
    }

    /// Calls `tool` and returns its structured content; an `isError` result is an error
    /// carrying the tool's message.
    pub async fn call_ok(&self, tool: &str, args: Value) -> Result<Value, ClientError> {
        let outcome = self.call(tool, args).await?;
        if outcome.is_error {
            return Err(format!("{tool} failed: {}", outcome.text).into());
        }
        outcome
            .structured
            .ok_or_else(|| format!("{tool} returned no structured content").into())
    }

    /// Closes the connection; a child-process server sees end of input and exits.
    pub async fn stop(self) -> Result<(), ClientError> {
        self.service.cancel().await?;
        Ok(())
    }
}

/// What a client announces at `initialize`: its name, nothing more.
fn client_config(name: &str) -> ClientConfig {
    ClientConfig::new(
        Default::default(),
        rmcp::model::Implementation::new(name, env!("CARGO_PKG_VERSION")),
    )
}

/// A streamable HTTP client transport to `url` sending `Authorization: Bearer <token>`.
#[cfg(feature = "http-client")]
pub fn http_transport(
    url: &str,
    token: &str,
) -> rmcp::transport::StreamableHttpClientTransport<reqwest::Client> {
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    rmcp::transport::StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(token),
    )
}

/// A client handler that speaks the 2025-11-25 protocol (legacy `resources/subscribe`)
/// and forwards every `notifications/resources/updated` URI to a channel.
#[derive(Clone)]
pub struct ResourceWatcher {
    updates: tokio::sync::mpsc::UnboundedSender<String>,
}

impl ResourceWatcher {
    /// A watcher and the receiving end of its updates.
    pub fn new() -> (
        ResourceWatcher,
        tokio::sync::mpsc::UnboundedReceiver<String>,
    ) {
        let (updates, rx) = tokio::sync::mpsc::unbounded_channel();
        (ResourceWatcher { updates }, rx)
    }
}

impl ClientHandler for ResourceWatcher {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default().with_protocol_version(ProtocolVersion::V_2025_11_25)
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        // The test or demo may have stopped listening; nothing to do then.
        let _ = self.updates.send(params.uri);
    }
}
