//! Crash trials: a real `switchboard mcp` process is killed with SIGKILL at a random moment
//! while it works; afterwards everything its client saw succeed must be stored exactly once
//! and SQLite must find the database sound. A few trials per family here
//! (`SWITCHBOARD_CRASH_TRIALS`, default 5; `SWITCHBOARD_CRASH_SEED=S` reruns one trial);
//! `benches/crash.rs` runs 100 of the same trials.

mod harness;
mod merges;

use crate::common::{Repo, bin};

/// Trials per family when `SWITCHBOARD_CRASH_TRIALS` is not set.
const TRIALS: u64 = 5;

#[test]
fn every_acknowledged_send_survives_a_sigkill_exactly_once() {
    let summary = harness::run("message_send", TRIALS, |seed| {
        let repo = Repo::new();
        harness::sends(&bin(), &repo.path, seed)
    });
    assert!(
        summary.acknowledged > 0,
        "no send was acknowledged: {summary}"
    );
    summary.assert_sound();
}

#[test]
fn a_merge_killed_at_any_moment_is_completed_or_undone_by_the_next_call() {
    let summary = harness::run("worktree_merge", TRIALS, |seed| {
        let repo = Repo::new();
        merges::merges(&bin(), &repo.path, seed)
    });
    summary.assert_sound();
}
