//! In-process MCP tests: a real rmcp client talks to the server over `tokio::io::duplex`.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

#[macro_use]
mod harness;
mod claims;
mod http;
mod messaging;
mod resources;
mod texts;
mod tools;
mod worktrees;
