//! Crash trials at scale: the test suite's crash families (`tests/crash.rs`, whose harness
//! this includes), `message_send` and `worktree_merge`, over 100 seeds each, each a real
//! `switchboard mcp` process killed with SIGKILL at a random moment, then checked from
//! fresh processes: every acknowledged send stored exactly once; every merge completed or
//! undone by the next call, merged exactly once, `git fsck` clean; and SQLite's full
//! `PRAGMA integrity_check` (besides `doctor`'s `quick_check`) finding the database sound.
//! Prints every trial and writes `benches/crash.json`.
//!
//! `cargo build --release && cargo bench -p switchboard-benches --bench crash` (or set
//! SWITCHBOARD_BIN; SWITCHBOARD_CRASH_TRIALS changes the count, SWITCHBOARD_CRASH_SEED=S
//! reruns one trial).
#![allow(clippy::unwrap_used)] // a test or benchmark that cannot go on should stop loudly

#[path = "../tests/crash/harness.rs"]
mod harness;
#[path = "../tests/crash/merges.rs"]
mod merges;

use std::path::Path;

use switchboard_benches::{binary, build_of};
use switchboard_testutils::ScratchRepo;

/// SQLite's full `PRAGMA integrity_check`, read-only.
fn integrity_check(db: &Path) -> Result<(), String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| format!("open {}: {e}", db.display()))?;
    let mut stmt = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| e.to_string())?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    if rows == ["ok"] {
        Ok(())
    } else {
        Err(format!("integrity_check: {}", rows.join("; ")))
    }
}

fn main() {
    let bin = binary();
    let full_check = |mut trial: harness::Trial| {
        if let (Ok(()), Some(db)) = (&trial.integrity, &trial.state_db) {
            trial.integrity = integrity_check(db);
        }
        trial
    };
    let sends = harness::run("message_send", 100, |seed| {
        let repo = ScratchRepo::new();
        full_check(harness::sends(&bin, repo.path(), seed))
    });
    let merges = harness::run("worktree_merge", 100, |seed| {
        let repo = ScratchRepo::new();
        full_check(merges::merges(&bin, repo.path(), seed))
    });
    let default_run = ["SWITCHBOARD_CRASH_SEED", "SWITCHBOARD_CRASH_TRIALS"]
        .iter()
        .all(|v| std::env::var_os(v).is_none());
    if default_run {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("crash.json");
        let results = serde_json::json!({
            "build": build_of(&bin),
            "families": [sends.to_json(), merges.to_json()],
        });
        std::fs::write(&out, serde_json::to_string_pretty(&results).unwrap() + "\n").unwrap();
        println!("wrote {}", out.display());
    }
    sends.assert_sound();
    merges.assert_sound();
}
