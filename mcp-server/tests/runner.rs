//! In-process MCP tests: a real rmcp client talks to the server over `tokio::io::duplex`.

mod harness;
mod http;
mod messaging;
mod resources;
mod texts;
mod tools;
mod worktrees;
