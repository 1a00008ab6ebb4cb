//! Switchboard's MCP server: a thin rmcp adapter over `switchboard-core`.
//!
//! Each tool parses its input, calls one core function, and shapes the result as
//! structured content (with an `outputSchema`) plus a short text rendering. User errors
//! come back as `isError` results whose text says what was wrong and what to do.
#![forbid(unsafe_code)]

mod args;
mod callers;
#[cfg(feature = "client")]
pub mod client;
mod conformance;
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
mod server;
mod tools;
mod views;
mod worktrees;

pub use callers::Caller;
pub use playbook::INSTRUCTIONS;
pub use server::{Identity, SwitchboardServer};

use rmcp::ServiceExt;

/// Serves MCP over this process's stdin/stdout until the client disconnects.
pub async fn serve_stdio(
    server: SwitchboardServer,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let running = server.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}
