//! Switchboard's core: the shared per-repository store and the domain model (agents,
//! sessions, messages, worktrees, events). Synchronous; no knowledge of MCP or LSP.
//!
//! Every mutation is one short write transaction that writes its domain rows and an
//! [`event::Event`] together, so the event log is a complete change feed. Domain modules
//! reach rows only through the store's seam ([`store`]); the SQLite backend is the only
//! code that knows SQL.

pub mod agent;
pub mod archive;
pub mod backup;
pub mod briefing;
pub mod claim;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod event;
pub mod feed;
pub mod git;
pub mod group;
pub mod id;
pub mod input;
#[cfg(test)]
mod layering;
pub mod liveness;
pub mod location;
pub mod message;
pub mod name;
mod page;
pub mod permission;
pub mod priority;
pub mod process;
pub mod render;
pub mod repository;
mod scratch;
pub mod session;
pub mod store;
pub mod text;
pub mod token;
pub mod worktree;

pub use error::{Error, Record, Result, StoreError, StoreFailure};
pub use store::{Pool, Settings, Store, StoreAddress};
