//! End-to-end tests of the built `switchboard` binary: real processes over real stdio,
//! several processes on one state database, the CLI, the demo, and generated references.
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

mod adversarial;
mod claims;
mod common;
mod crash;
mod editor;
mod guard;
mod hooks;
mod hosts;
mod install;
mod messaging;
mod postgres;
mod process;
mod references;
mod scenarios;
mod serve;
mod worktrees;
