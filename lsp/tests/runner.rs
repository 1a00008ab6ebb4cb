//! The companion in-process: a real LSP client over `tokio::io::duplex`, another store
//! connection playing the other processes.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

mod service;
