//! The companion in-process: a real LSP client over `tokio::io::duplex`, another store
//! connection playing the other processes.

mod service;
