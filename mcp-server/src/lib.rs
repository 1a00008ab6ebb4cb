//! Switchboard's MCP server: a thin rmcp adapter over `switchboard-core`.
//!
//! Each tool parses its input, calls one core function, and shapes the result as
//! structured content (with an `outputSchema`) plus a short text rendering. User errors
//! come back as `isError` results whose text says what was wrong and what to do.

mod args;
mod callers;
mod claims;
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "conformance-fixtures")]
pub mod conformance;
pub mod framing;
mod handler;
pub mod http;
mod identity;
mod live;
mod messaging;
mod playbook;
pub mod reference;
mod reply;
mod resources;
mod schema;
mod seat;
mod server;
mod tools;
mod views;
mod worktrees;

pub use args::decode_arguments;
pub use callers::Caller;
pub use playbook::INSTRUCTIONS;
pub use resources::affected_resources;
pub use server::{Identity, SwitchboardServer};

use rmcp::ServiceExt;

/// Serves MCP over this process's stdin/stdout until the client disconnects. Lines
/// the protocol cannot take are answered by [`framing`]; a client that leaves before
/// `initialize` ends the server quietly.
pub async fn serve_stdio(
    server: SwitchboardServer,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (transport, written) = framing::guard(tokio::io::stdin(), tokio::io::stdout());
    match server.serve(transport).await {
        Ok(running) => {
            running.waiting().await?;
        }
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {}
        Err(e) => return Err(e.into()),
    }
    written.await?;
    Ok(())
}
